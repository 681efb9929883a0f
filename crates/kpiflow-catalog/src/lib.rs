//! The KPI catalog: every KPI defined once, as a declarative entry (DESIGN §4).
//!
//! The built-in catalog (`catalog.toml`, embedded in the binary) holds measures (aggregations
//! over one source, with an optional filter) and KPIs (formulas over measures, other KPIs and
//! parameters). Users add their own in the same form. Every name is resolved and every formula
//! checked when the catalog loads, so a report never starts on a broken definition. This crate
//! is light on purpose: it parses with DataFusion's SQL parser but does not depend on the engine.

pub mod channels;
pub mod formula;
pub mod sources;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

pub use formula::{Formula, FormulaError, Kind};
pub use sources::{Source, SourceColumn, sources};

use kpiflow_model::UnknownName;

/// The built-in catalog's text.
pub const BUILTIN: &str = include_str!("../catalog.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Median,
    P75,
    P90,
    Min,
    Max,
}

/// For stocks (MRR, accounts, rankings): the value at the first or last time bucket of the
/// period instead of the sum over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Snapshot {
    First,
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    Currency,
    Percent,
    Ratio,
    Days,
    Minutes,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Currency => "currency",
            Unit::Percent => "percent",
            Unit::Ratio => "ratio",
            Unit::Days => "days",
            Unit::Minutes => "minutes",
        }
    }
}

/// Which way is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Higher,
    Lower,
}

/// An aggregation over one source.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub id: String,
    pub source: &'static str,
    pub agg: Agg,
    /// What is aggregated (absent for `count`).
    pub value: Option<Formula>,
    pub filter: Option<Formula>,
    /// The column that places a row in a period.
    pub time: String,
    pub snapshot: Option<Snapshot>,
    pub doc: String,
}

/// A KPI, resolved: its formula checked, its measures, sources and dimensions known.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpi {
    pub id: String,
    pub name: String,
    pub group: String,
    pub description: String,
    pub question: String,
    pub formula: Formula,
    pub unit: Unit,
    pub direction: Direction,
    pub vanity: bool,
    /// For stage rates: the stages a cohort conversion follows (from, to).
    pub cohort: Option<(String, String)>,
    /// A split the KPI is always shown with.
    pub by: Vec<String>,
    /// Every measure the KPI needs, through other KPIs too.
    pub measures: Vec<String>,
    /// The sources of those measures.
    pub sources: Vec<&'static str>,
    /// The dimensions every one of those sources has (plus time).
    pub dimensions: Vec<&'static str>,
    /// Parameters used.
    pub params: Vec<String>,
    /// Whether it comes from the user's configuration.
    pub user: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub id: String,
    pub value: f64,
    pub doc: String,
}

/// The whole catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub measures: Vec<Measure>,
    pub kpis: Vec<Kpi>,
    pub params: Vec<Param>,
    sources: Vec<Source>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    params: BTreeMap<String, RawParam>,
    #[serde(default)]
    measures: Vec<RawMeasure>,
    #[serde(default)]
    kpis: Vec<RawKpi>,
}

/// `name = 0.7`, or `name = { value = 0.7, doc = "..." }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawParam {
    Value(f64),
    Documented {
        value: f64,
        #[serde(default)]
        doc: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasure {
    id: String,
    source: String,
    agg: Agg,
    value: Option<String>,
    filter: Option<String>,
    time: Option<String>,
    snapshot: Option<Snapshot>,
    #[serde(default)]
    doc: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKpi {
    id: String,
    name: String,
    group: String,
    description: String,
    question: String,
    formula: String,
    unit: Unit,
    direction: Direction,
    #[serde(default)]
    vanity: bool,
    cohort: Option<[String; 2]>,
    #[serde(default)]
    by: Vec<String>,
    dimensions: Option<Vec<String>>,
}

/// A catalog entry that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: {entry}: {message}")]
    Entry { file: String, entry: String, message: String },
}

impl Catalog {
    /// The built-in catalog.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        let mut c = Catalog {
            measures: Vec::new(),
            kpis: Vec::new(),
            params: Vec::new(),
            sources: sources(),
        };
        c.add(BUILTIN, "built-in catalog", false)?;
        Ok(c)
    }

    /// Adds entries (a user's, from `kpiflow.toml`'s `[[measures]]`, `[[kpis]]` and `[params]`,
    /// in the built-in form). Ids must be new, except a parameter, whose value is overridden.
    pub fn add(&mut self, text: &str, file: &str, user: bool) -> Result<(), CatalogError> {
        let raw: RawCatalog = toml::from_str(text).map_err(|e| CatalogError::Syntax {
            file: file.to_owned(),
            message: e.to_string().trim().to_owned(),
        })?;
        let entry = |entry: String, message: String| CatalogError::Entry {
            file: file.to_owned(),
            entry,
            message,
        };

        for (id, p) in raw.params {
            let (value, doc) = match p {
                RawParam::Value(v) => (v, String::new()),
                RawParam::Documented { value, doc } => (value, doc),
            };
            match self.params.iter_mut().find(|x| x.id == id) {
                Some(existing) => existing.value = value,
                None => self.params.push(Param { id, value, doc }),
            }
        }

        for m in raw.measures {
            let label = format!("measure `{}`", m.id);
            if !valid_id(&m.id) {
                return Err(entry(label, "ids are lower-case letters, digits and _".into()));
            }
            if self.measures.iter().any(|x| x.id == m.id) {
                return Err(entry(label, "is defined twice".into()));
            }
            let source = self.sources.iter().find(|s| s.name == m.source).ok_or_else(|| {
                entry(
                    label.clone(),
                    UnknownName::new("source", &m.source, self.sources.iter().map(|s| s.name))
                        .to_string(),
                )
            })?;
            let columns = Columns(source);
            let parse =
                |text: &Option<String>, what: &str| -> Result<Option<Formula>, CatalogError> {
                    text.as_deref()
                        .map(|t| formula::parse(t, Kind::Measure, &columns))
                        .transpose()
                        .map_err(|e| entry(label.clone(), format!("{what} {e}")))
                };
            let value = parse(&m.value, "value")?;
            let filter = parse(&m.filter, "filter")?;
            if (m.agg == Agg::Count) != value.is_none() {
                return Err(entry(
                    label,
                    "`count` takes no value; every other aggregation needs one".into(),
                ));
            }
            let time = m.time.unwrap_or_else(|| source.time_column.to_owned());
            match source.column(&time) {
                Some(c) if c.ty.is_temporal() => {}
                _ => {
                    return Err(entry(
                        label,
                        format!("time `{time}` is not a date or time column of `{}`", source.name),
                    ));
                }
            }
            self.measures.push(Measure {
                id: m.id,
                source: source.name,
                agg: m.agg,
                value,
                filter,
                time,
                snapshot: m.snapshot,
                doc: m.doc,
            });
        }

        for k in raw.kpis {
            let label = format!("KPI `{}`", k.id);
            if !valid_id(&k.id) {
                return Err(entry(label, "ids are lower-case letters, digits and _".into()));
            }
            if self.kpis.iter().any(|x| x.id == k.id) {
                return Err(entry(label, "is defined twice".into()));
            }
            let names = Scope { catalog: self, own: &k.id };
            let f = formula::parse(&k.formula, Kind::Formula, &names)
                .map_err(|e| entry(label.clone(), format!("formula {e}")))?;
            self.kpis.push(Kpi {
                id: k.id.clone(),
                name: k.name,
                group: k.group,
                description: k.description,
                question: k.question,
                formula: f,
                unit: k.unit,
                direction: k.direction,
                vanity: k.vanity,
                cohort: k.cohort.map(|[a, b]| (a, b)),
                by: k.by,
                measures: Vec::new(),
                sources: Vec::new(),
                dimensions: Vec::new(),
                params: Vec::new(),
                user,
            });
            let resolved = self.resolve(&k.id).map_err(|m| entry(label.clone(), m))?;
            let kpi = self.kpis.last_mut().ok_or_else(|| entry(label.clone(), "lost".into()))?;
            kpi.measures = resolved.measures;
            kpi.sources = resolved.sources;
            kpi.params = resolved.params;
            kpi.dimensions = match k.dimensions {
                None => resolved.dimensions,
                Some(d) => {
                    for name in &d {
                        if !resolved.dimensions.contains(&name.as_str()) {
                            return Err(entry(
                                label,
                                format!(
                                    "dimension `{name}` is not in every source; they share: {}",
                                    resolved.dimensions.join(", ")
                                ),
                            ));
                        }
                    }
                    resolved.dimensions.into_iter().filter(|x| d.iter().any(|n| n == x)).collect()
                }
            };
            for b in &kpi.by {
                if !kpi.dimensions.contains(&b.as_str()) {
                    return Err(entry(
                        label,
                        format!(
                            "`by` names `{b}`, which is not one of its dimensions ({})",
                            kpi.dimensions.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The measures, sources, dimensions and parameters a KPI needs (following KPI references;
    /// a cycle is an error).
    fn resolve(&self, id: &str) -> Result<Needs, String> {
        let mut measures = BTreeSet::new();
        let mut params = BTreeSet::new();
        let mut path: Vec<String> = Vec::new();
        self.walk(id, &mut measures, &mut params, &mut path)?;
        let mut sources: Vec<&'static str> = Vec::new();
        for m in &measures {
            if let Some(measure) = self.measure(m)
                && !sources.contains(&measure.source)
            {
                sources.push(measure.source);
            }
        }
        let mut dims: Option<Vec<&'static str>> = None;
        for s in &sources {
            let Some(source) = self.sources.iter().find(|x| x.name == *s) else { continue };
            dims = Some(match dims {
                None => source.dimensions.to_vec(),
                Some(d) => d.into_iter().filter(|x| source.dimensions.contains(x)).collect(),
            });
        }
        Ok(Needs {
            measures: measures.into_iter().collect(),
            sources,
            dimensions: dims.unwrap_or_default(),
            params: params.into_iter().collect(),
        })
    }

    fn walk(
        &self,
        id: &str,
        measures: &mut BTreeSet<String>,
        params: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Result<(), String> {
        let Some(kpi) = self.kpi(id) else { return Ok(()) };
        path.push(id.to_owned());
        for name in &kpi.formula.names {
            if self.measure(name).is_some() {
                measures.insert(name.clone());
            } else if self.kpi(name).is_some() {
                if path.iter().any(|p| p == name) {
                    path.push(name.clone());
                    return Err(format!("refers to itself: {}", path.join(" → ")));
                }
                self.walk(name, measures, params, path)?;
            } else {
                params.insert(name.clone());
            }
        }
        path.pop();
        Ok(())
    }

    pub fn measure(&self, id: &str) -> Option<&Measure> {
        self.measures.iter().find(|m| m.id == id)
    }

    pub fn kpi(&self, id: &str) -> Option<&Kpi> {
        self.kpis.iter().find(|k| k.id == id)
    }

    /// The KPI named `id`, or an error with a "did you mean".
    pub fn resolve_kpi(&self, id: &str) -> Result<&Kpi, UnknownName> {
        self.kpi(id)
            .ok_or_else(|| UnknownName::new("KPI", id, self.kpis.iter().map(|k| k.id.as_str())))
    }

    /// Whether the KPI's value over a period is the sum of its values over the period's days
    /// (leads, won revenue, ad cost), so a goal on it is a total that accrues; otherwise it is a
    /// level (a rate, a cost per lead, MRR, distinct visitors) whose value to date is the figure.
    ///
    /// A formula adds up when it only adds, subtracts, negates or scales (by a number or a
    /// parameter) measures and KPIs that add up; a measure adds up when it counts or sums rows
    /// without a snapshot rule, or counts distinct entities of a source holding one row per
    /// entity and entry (`stage_entries`, `mrr_movements`), which no entity repeats over time.
    pub fn adds_up(&self, kpi: &Kpi) -> bool {
        self.expr_adds_up(&kpi.formula.expr, 0)
    }

    fn expr_adds_up(&self, expr: &sqlparser::ast::Expr, depth: usize) -> bool {
        use sqlparser::ast::{BinaryOperator, Expr, UnaryOperator};
        if depth > 32 {
            return false;
        }
        let constant = |e: &Expr| match e {
            Expr::Value(_) => true,
            Expr::Identifier(i) => self.param(&i.value).is_some(),
            _ => false,
        };
        match expr {
            Expr::Identifier(ident) => {
                let name = ident.value.as_str();
                if let Some(m) = self.measure(name) {
                    let entries = matches!(m.source, "stage_entries" | "mrr_movements");
                    m.snapshot.is_none()
                        && match m.agg {
                            Agg::Count | Agg::Sum => true,
                            Agg::CountDistinct => entries,
                            _ => false,
                        }
                } else if let Some(k) = self.kpi(name) {
                    self.expr_adds_up(&k.formula.expr, depth + 1)
                } else {
                    false
                }
            }
            Expr::Nested(inner) => self.expr_adds_up(inner, depth + 1),
            Expr::UnaryOp { op: UnaryOperator::Minus | UnaryOperator::Plus, expr } => {
                self.expr_adds_up(expr, depth + 1)
            }
            Expr::BinaryOp { left, op: BinaryOperator::Plus | BinaryOperator::Minus, right } => {
                self.expr_adds_up(left, depth + 1) && self.expr_adds_up(right, depth + 1)
            }
            Expr::BinaryOp { left, op: BinaryOperator::Multiply, right } => {
                (constant(left) && self.expr_adds_up(right, depth + 1))
                    || (constant(right) && self.expr_adds_up(left, depth + 1))
            }
            Expr::BinaryOp { left, op: BinaryOperator::Divide, right } => {
                constant(right) && self.expr_adds_up(left, depth + 1)
            }
            _ => false,
        }
    }

    pub fn param(&self, id: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.id == id)
    }

    pub fn source(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// The catalog reference (`docs/kpis.md`), generated from the entries.
    pub fn reference_markdown(&self) -> String {
        let mut out = String::from(
            "# KPI catalog\n\nGenerated from the built-in catalog (`crates/kpiflow-catalog/catalog.toml`) by \
             `kpiflow kpis --all --format markdown`. Rates are fractions in CSV and JSON; a division \
             by zero gives no value. Vanity KPIs are hidden from the overview unless asked for.\n",
        );
        let mut groups: Vec<&str> = Vec::new();
        for k in &self.kpis {
            if !groups.contains(&k.group.as_str()) {
                groups.push(&k.group);
            }
        }
        for g in groups {
            out.push_str(&format!("\n## {g}\n\n| KPI | formula | unit | better | sources | question |\n|---|---|---|---|---|---|\n"));
            for k in self.kpis.iter().filter(|k| k.group == g) {
                out.push_str(&format!(
                    "| **{}** `{}`{} | `{}` | {} | {} | {} | {} |\n",
                    k.name,
                    k.id,
                    if k.vanity { " (vanity)" } else { "" },
                    k.formula.text.replace('|', "\\|"),
                    k.unit.name(),
                    match k.direction {
                        Direction::Higher => "higher",
                        Direction::Lower => "lower",
                    },
                    k.sources.join(", "),
                    k.question
                ));
            }
        }
        out.push_str("\n## Measures\n\n| measure | aggregation | source | filter | time | meaning |\n|---|---|---|---|---|---|\n");
        for m in &self.measures {
            let agg = match &m.value {
                None => "count".to_owned(),
                Some(v) => format!("{:?}({})", m.agg, v.text)
                    .to_lowercase()
                    .replace("countdistinct", "count_distinct"),
            };
            let snapshot = match m.snapshot {
                None => String::new(),
                Some(Snapshot::First) => ", first month".into(),
                Some(Snapshot::Last) => ", last month".into(),
            };
            out.push_str(&format!(
                "| `{}` | `{}` | {} | {} | `{}`{} | {} |\n",
                m.id,
                agg.replace('|', "\\|"),
                m.source,
                m.filter
                    .as_ref()
                    .map(|f| format!("`{}`", f.text.replace('|', "\\|")))
                    .unwrap_or_default(),
                m.time,
                snapshot,
                m.doc
            ));
        }
        out.push_str("\n## Parameters\n\n| parameter | default | meaning |\n|---|---|---|\n");
        for p in &self.params {
            out.push_str(&format!("| `{}` | {} | {} |\n", p.id, p.value, p.doc));
        }
        out
    }
}

/// What a KPI needs, found by following its formula.
struct Needs {
    measures: Vec<String>,
    sources: Vec<&'static str>,
    dimensions: Vec<&'static str>,
    params: Vec<String>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
}

/// The columns of one source, for a measure's value and filter.
struct Columns<'a>(&'a Source);

impl formula::Names for Columns<'_> {
    fn check(&self, name: &str) -> Result<(), Vec<String>> {
        if self.0.column(name).is_some() {
            Ok(())
        } else {
            Err(self.0.columns.iter().map(|c| c.name.to_owned()).collect())
        }
    }
    fn kind(&self) -> &'static str {
        "column"
    }
}

/// Measures, KPIs defined so far and parameters, for a KPI formula.
struct Scope<'a> {
    catalog: &'a Catalog,
    own: &'a str,
}

impl formula::Names for Scope<'_> {
    fn check(&self, name: &str) -> Result<(), Vec<String>> {
        let c = self.catalog;
        if name == self.own && c.measure(name).is_none() {
            return Err(Vec::new());
        }
        if c.measure(name).is_some() || c.param(name).is_some() || c.kpi(name).is_some() {
            return Ok(());
        }
        Err(c
            .measures
            .iter()
            .map(|m| m.id.clone())
            .chain(c.kpis.iter().map(|k| k.id.clone()))
            .chain(c.params.iter().map(|p| p.id.clone()))
            .collect())
    }
    fn kind(&self) -> &'static str {
        "measure, KPI or parameter"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up_and_levels_do_not() {
        let c = Catalog::builtin().unwrap();
        let adds_up = |id: &str| c.adds_up(c.kpi(id).unwrap());
        for id in
            ["leads", "mqls", "customers", "won_revenue", "ad_cost", "sessions", "net_new_mrr"]
        {
            assert!(adds_up(id), "{id} adds up");
        }
        for id in ["visitors", "cpl", "mql_to_sql_rate", "mrr", "avg_deal_size", "speed_to_lead"] {
            assert!(!adds_up(id), "{id} is a level");
        }
    }

    #[test]
    fn the_builtin_catalog_loads_and_covers_design_section_4() {
        let c = Catalog::builtin().unwrap();
        let ids: Vec<&str> = c.kpis.iter().map(|k| k.id.as_str()).collect();
        for id in [
            "sessions",
            "visitors",
            "bounce_rate",
            "ctr",
            "cpc",
            "cpm",
            "cpl",
            "cost_per_mql",
            "mql_to_sql_rate",
            "win_rate",
            "stage_velocity",
            "speed_to_lead",
            "pipeline_created",
            "avg_deal_size",
            "sales_cycle_days",
            "sales_cycle_days_median",
            "mrr",
            "arr",
            "net_new_mrr",
            "logo_churn_rate",
            "net_revenue_retention",
            "cac",
            "cac_fully_loaded",
            "clv",
            "clv_to_cac",
            "cac_payback_months",
            "marketing_roi",
            "open_rate",
            "email_mql_rate",
            "engagement_rate",
            "organic_traffic_value",
            "keywords_top5",
            "dark_social_gap",
        ] {
            assert!(ids.contains(&id), "missing KPI {id}");
        }
        let mut seen = BTreeSet::new();
        for k in &c.kpis {
            assert!(seen.insert(&k.id), "duplicate KPI {}", k.id);
            assert!(!k.measures.is_empty(), "{} uses no measure", k.id);
        }
        // CLV needs MRR movements through arpa and logo_churn_rate, and the margin parameter.
        let clv = c.kpi("clv").unwrap();
        assert_eq!(clv.params, ["gross_margin"]);
        assert!(clv.measures.contains(&"churned_accounts".to_owned()));
        // CPL mixes ad spend and contacts: it splits by what both have.
        let cpl = c.kpi("cpl").unwrap();
        assert_eq!(cpl.sources, ["ad_spend", "contacts"]);
        assert_eq!(cpl.dimensions, ["channel", "region", "business_unit"]);
        let vanity: Vec<&str> = c.kpis.iter().filter(|k| k.vanity).map(|k| k.id.as_str()).collect();
        assert_eq!(
            vanity,
            [
                "sessions_by_referrer",
                "impressions",
                "likes",
                "reach",
                "followers_gained",
                "organic_search_impressions",
                "inbound_links_growth"
            ]
        );
    }

    #[test]
    fn user_entries_are_checked_like_builtin_ones() {
        let mut c = Catalog::builtin().unwrap();
        c.add(
            "[params]\ngross_margin = 0.7\n[[kpis]]\nid = \"demo_cpl\"\nname = \"x\"\ngroup = \"leads\"\n\
             description = \"x\"\nquestion = \"x\"\nformula = \"cpl * 2\"\nunit = \"currency\"\ndirection = \"lower\"\n",
            "kpiflow.toml",
            true,
        )
        .unwrap();
        assert_eq!(c.param("gross_margin").unwrap().value, 0.7);
        assert_eq!(c.kpi("demo_cpl").unwrap().measures, ["ad_cost", "leads"]);

        let kpi = |formula: &str| {
            format!(
                "[[kpis]]\nid = \"k\"\nname = \"x\"\ngroup = \"g\"\ndescription = \"x\"\nquestion = \"x\"\n\
                 formula = \"{formula}\"\nunit = \"count\"\ndirection = \"higher\"\n"
            )
        };
        let cases = [
            kpi("leeds / 2"),
            kpi("sum(leads)"),
            kpi("k + 1"),
            "[[measures]]\nid = \"m\"\nsource = \"sesions\"\nagg = \"count\"\n".to_owned(),
            "[[measures]]\nid = \"m\"\nsource = \"sessions\"\nagg = \"count\"\nfilter = \"chanel = 'Email'\"\n".to_owned(),
            "[[measures]]\nid = \"m\"\nsource = \"sessions\"\nagg = \"sum\"\n".to_owned(),
            "[[measures]]\nid = \"leads\"\nsource = \"contacts\"\nagg = \"count\"\n".to_owned(),
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|t| {
                Catalog::builtin().unwrap().add(t, "kpiflow.toml", true).unwrap_err().to_string()
            })
            .collect();
        insta::assert_snapshot!(out.join("\n"));
    }
}
