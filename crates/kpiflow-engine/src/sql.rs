//! `kpiflow sql`: one KPI's query as SQL for a warehouse, from the plan the engine runs.
//!
//! The plan is the report's: the same derived sources (contacts' first-touch channel, stage
//! entries, ...), one aggregate per source and time column over the period, split by the
//! dimensions, bucketed by the grain, with the same filters. Two things change so that the plan
//! can leave the process ([`Engine::set_portable`]): kpiflow's channel functions become plain
//! `CASE`/`LIKE` expressions ([`crate::portable`]) and derived sources stay subqueries. Then:
//!
//! - each measure is an aggregate over `CASE WHEN filter THEN value END` (no `FILTER` clause,
//!   which MySQL and BigQuery lack); a sum over no rows is 0, over only missing values NULL;
//! - the aggregates of several sources are joined on bucket and dimensions (FULL JOIN), a
//!   measure missing from a bucket counting as 0 unless it is a median or percentile;
//! - the KPI formula is evaluated in SQL over DOUBLE values, every division guarded with
//!   `NULLIF(divisor, 0)`: a division by zero is NULL, never an error or infinity (DESIGN §4);
//! - DataFusion's unparser prints the plan in the dialect asked for.
//!
//! Not exported (an error says so): KPIs over period-end snapshots (MRR, referring domains,
//! ...), retention (GRR, NRR), `previous()` (sales growth) and cohort rates — their plans are
//! finished in Rust by the report. Buckets in which no source has a row have no row in the SQL's
//! answer (the report shows them as 0 or no value).

use std::collections::BTreeMap;

use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::{abs, coalesce, greatest, least, nullif, round};
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{JoinType, LogicalPlan, when};
use datafusion::prelude::*;
use datafusion::sql::unparser::Unparser;
use datafusion::sql::unparser::dialect::{
    BigQueryDialect, CharacterLengthStyle, CustomDialectBuilder, DateFieldExtractStyle, Dialect,
    DistinctFromStyle, IntervalStyle, MySqlDialect, PostgreSqlDialect, SqliteDialect,
};
use kpiflow_catalog::{Agg, Kpi, Measure};
use sqlparser::ast::{
    BinaryOperator, Expr as Ast, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, UnaryOperator, Value, WindowFrameBound,
};

use crate::report::{cannot_split, date32, measure_aggregate, split_dims};
use crate::time::{Grain, Period};
use crate::{Engine, EngineError, Result};

/// The SQL dialects `kpiflow sql` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlDialect {
    Postgres,
    Mysql,
    Sqlite,
    Duckdb,
    Bigquery,
}

/// Gives every derived table of `plan` a name (`__q1`, `__q2`, ...) and makes each column refer
/// to the table it comes from.
///
/// DataFusion's unparser prints a projection over a projection as a derived table without a
/// name, while the outer query keeps naming columns by their base table (`"sessions"."x"`),
/// which no warehouse accepts. Here every input that is not a base table becomes
/// `(...) AS "__qN"`, and the columns of its parent are resolved again: by the input they came
/// from, else by their name when one input has it.
fn name_derived_tables(plan: LogicalPlan) -> Result<LogicalPlan> {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    use datafusion::common::{Column, TableReference};
    use datafusion::logical_expr::SubqueryAlias;

    let mut next = 0usize;
    // A window's columns are named after its expressions, qualifiers included: the new names of
    // the columns its parent reads.
    let mut renames: std::collections::HashMap<String, String> = Default::default();
    // Every naming so far: (qualifiers of the input before, its name).
    let mut all_renamed: Vec<(
        Vec<datafusion::common::TableReference>,
        datafusion::common::TableReference,
    )> = Vec::new();
    let rewritten = plan.transform_up(|node| {
        if matches!(
            node,
            LogicalPlan::TableScan(_)
                | LogicalPlan::SubqueryAlias(_)
                | LogicalPlan::EmptyRelation(_)
                | LogicalPlan::Union(_)
                | LogicalPlan::Sort(_)
                | LogicalPlan::Limit(_)
        ) {
            return Ok(Transformed::no(node));
        }
        let is_base = |p: &LogicalPlan| match p {
            LogicalPlan::TableScan(_) | LogicalPlan::SubqueryAlias(_) => true,
            // The unparser gives a name over a join to the join's first table: a join stays
            // in its parent's FROM, its tables' names in scope.
            LogicalPlan::EmptyRelation(_) | LogicalPlan::Join(_) => true,
            // A filter is its parent's WHERE; its own input is named when it needs to be.
            LogicalPlan::Filter(_) => true,
            _ => false,
        };
        let mut inputs = Vec::new();
        // (qualifiers of the input before, its name now)
        let mut renamed: Vec<(Vec<TableReference>, TableReference)> = Vec::new();
        for input in node.inputs().into_iter().cloned() {
            if is_base(&input) {
                inputs.push(input);
                continue;
            }
            next += 1;
            let alias = format!("__q{next}");
            let before: Vec<TableReference> =
                input.schema().iter().filter_map(|(q, _)| q.cloned()).collect();
            match SubqueryAlias::try_new(std::sync::Arc::new(input.clone()), alias.as_str()) {
                Ok(a) => {
                    renamed.push((before, TableReference::bare(alias)));
                    inputs.push(LogicalPlan::SubqueryAlias(a));
                }
                // Duplicate names (a join's two `id`s): left as it is.
                Err(_) => inputs.push(input),
            }
        }
        let schemas: Vec<_> = inputs.iter().map(|i| i.schema().clone()).collect();
        let resolve = |c: Column| -> Column {
            let c = match renames.get(&c.name) {
                Some(name) => Column::new(c.relation.clone(), name.clone()),
                None => c,
            };
            if schemas.iter().any(|s| s.has_column(&c)) {
                return c;
            }
            // Renamed below (a join's inputs were named when the join was visited).
            if let Some(q) = &c.relation {
                for (before, now) in renamed.iter().chain(&all_renamed) {
                    let here = Column::new(Some(now.clone()), c.name.clone());
                    if before.contains(q) && schemas.iter().any(|s| s.has_column(&here)) {
                        return here;
                    }
                }
            }
            let found: Vec<Column> = schemas
                .iter()
                .flat_map(|s| s.iter())
                .filter(|(_, f)| f.name() == &c.name)
                .map(|(q, f)| Column::new(q.cloned(), f.name().clone()))
                .collect();
            if found.len() == 1 { found.into_iter().next().unwrap_or(c) } else { c }
        };
        let exprs = node
            .expressions()
            .into_iter()
            .map(|e| {
                e.transform(|e| match e {
                    Expr::Column(c) => Ok(Transformed::yes(Expr::Column(resolve(c)))),
                    other => Ok(Transformed::no(other)),
                })
                .map(|t| t.data)
            })
            .collect::<datafusion::common::Result<Vec<_>>>()?;
        all_renamed.extend(renamed);
        let old_names: Vec<String> =
            node.schema().fields().iter().map(|f| f.name().clone()).collect();
        let new = node.with_new_exprs(exprs, inputs)?;
        if matches!(new, LogicalPlan::Window(_)) {
            for (old, now) in old_names.into_iter().zip(new.schema().fields().iter()) {
                if &old != now.name() {
                    renames.insert(old, now.name().clone());
                }
            }
        }
        Ok(Transformed::yes(new))
    })?;
    Ok(rewritten.data)
}

/// A dialect of DataFusion's unparser with kpiflow's corrections: functions DataFusion names
/// its own way printed as the warehouses spell them (`btrim(x)` → `trim(x)`).
struct Warehouse {
    inner: Box<dyn Dialect>,
}

/// `name(args)` as a plain function call.
fn call(unparser: &Unparser, name: &str, args: &[Expr]) -> datafusion::common::Result<Ast> {
    let args = args
        .iter()
        .map(|a| Ok(FunctionArg::Unnamed(FunctionArgExpr::Expr(unparser.expr_to_sql(a)?))))
        .collect::<datafusion::common::Result<Vec<_>>>()?;
    Ok(Ast::Function(sqlparser::ast::Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args,
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    }))
}

impl Dialect for Warehouse {
    fn scalar_function_to_sql_overrides(
        &self,
        unparser: &Unparser,
        func_name: &str,
        args: &[Expr],
    ) -> datafusion::common::Result<Option<Ast>> {
        match func_name {
            // One argument: spaces trimmed both sides, which every warehouse calls trim.
            "btrim" if args.len() == 1 => Ok(Some(call(unparser, "trim", args)?)),
            _ => self.inner.scalar_function_to_sql_overrides(unparser, func_name, args),
        }
    }

    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.inner.identifier_quote_style(identifier)
    }
    fn use_array_keyword_for_array_literals(&self) -> bool {
        self.inner.use_array_keyword_for_array_literals()
    }
    fn supports_nulls_first_in_sort(&self) -> bool {
        self.inner.supports_nulls_first_in_sort()
    }
    fn use_timestamp_for_date64(&self) -> bool {
        self.inner.use_timestamp_for_date64()
    }
    fn interval_style(&self) -> IntervalStyle {
        self.inner.interval_style()
    }
    fn float64_ast_dtype(&self) -> sqlparser::ast::DataType {
        self.inner.float64_ast_dtype()
    }
    fn utf8_cast_dtype(&self) -> sqlparser::ast::DataType {
        self.inner.utf8_cast_dtype()
    }
    fn large_utf8_cast_dtype(&self) -> sqlparser::ast::DataType {
        self.inner.large_utf8_cast_dtype()
    }
    fn date_field_extract_style(&self) -> DateFieldExtractStyle {
        self.inner.date_field_extract_style()
    }
    fn distinct_from_style(&self) -> DistinctFromStyle {
        self.inner.distinct_from_style()
    }
    fn character_length_style(&self) -> CharacterLengthStyle {
        self.inner.character_length_style()
    }
    fn int64_cast_dtype(&self) -> sqlparser::ast::DataType {
        self.inner.int64_cast_dtype()
    }
    fn int8_cast_dtype(&self) -> sqlparser::ast::DataType {
        self.inner.int8_cast_dtype()
    }
    fn int32_cast_dtype(&self) -> sqlparser::ast::DataType {
        self.inner.int32_cast_dtype()
    }
    fn timestamp_cast_dtype(
        &self,
        time_unit: &arrow::datatypes::TimeUnit,
        tz: &Option<std::sync::Arc<str>>,
    ) -> sqlparser::ast::DataType {
        self.inner.timestamp_cast_dtype(time_unit, tz)
    }
    fn date32_cast_dtype(&self) -> sqlparser::ast::DataType {
        self.inner.date32_cast_dtype()
    }
    fn supports_column_alias_in_table_alias(&self) -> bool {
        self.inner.supports_column_alias_in_table_alias()
    }
    fn requires_derived_table_alias(&self) -> bool {
        self.inner.requires_derived_table_alias()
    }
    fn division_operator(&self) -> BinaryOperator {
        self.inner.division_operator()
    }
    fn higher_order_function_to_sql_overrides(
        &self,
        unparser: &Unparser,
        func_name: &str,
        args: &[Expr],
    ) -> datafusion::common::Result<Option<Ast>> {
        self.inner.higher_order_function_to_sql_overrides(unparser, func_name, args)
    }
    fn window_func_support_window_frame(
        &self,
        func_name: &str,
        start_bound: &WindowFrameBound,
        end_bound: &WindowFrameBound,
    ) -> bool {
        self.inner.window_func_support_window_frame(func_name, start_bound, end_bound)
    }
    fn full_qualified_col(&self) -> bool {
        self.inner.full_qualified_col()
    }
    fn unnest_as_table_factor(&self) -> bool {
        self.inner.unnest_as_table_factor()
    }
    fn unnest_as_lateral_flatten(&self) -> bool {
        self.inner.unnest_as_lateral_flatten()
    }
    fn col_alias_overrides(&self, alias: &str) -> datafusion::common::Result<Option<String>> {
        self.inner.col_alias_overrides(alias)
    }
    fn supports_qualify(&self) -> bool {
        self.inner.supports_qualify()
    }
    fn timestamp_with_tz_to_string(
        &self,
        dt: chrono::DateTime<arrow::array::timezone::Tz>,
        unit: arrow::datatypes::TimeUnit,
    ) -> String {
        self.inner.timestamp_with_tz_to_string(dt, unit)
    }
    fn supports_empty_select_list(&self) -> bool {
        self.inner.supports_empty_select_list()
    }
    fn string_literal_to_sql(&self, s: &str) -> Option<Ast> {
        self.inner.string_literal_to_sql(s)
    }
}

impl SqlDialect {
    pub const ALL: &'static [SqlDialect] = &[
        SqlDialect::Postgres,
        SqlDialect::Mysql,
        SqlDialect::Sqlite,
        SqlDialect::Duckdb,
        SqlDialect::Bigquery,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SqlDialect::Postgres => "postgres",
            SqlDialect::Mysql => "mysql",
            SqlDialect::Sqlite => "sqlite",
            SqlDialect::Duckdb => "duckdb",
            SqlDialect::Bigquery => "bigquery",
        }
    }

    fn unparser_dialect(self) -> Warehouse {
        let inner: Box<dyn Dialect> = match self {
            SqlDialect::Postgres => Box::new(PostgreSqlDialect {}),
            SqlDialect::Mysql => Box::new(MySqlDialect {}),
            SqlDialect::Sqlite => Box::new(SqliteDialect {}),
            SqlDialect::Bigquery => Box::new(BigQueryDialect::new()),
            // DataFusion's DuckDB dialect prints every division as `//` (DuckDB's integer
            // division, floor on doubles); every division here is over DOUBLE, so `/` it is.
            SqlDialect::Duckdb => Box::new(
                CustomDialectBuilder::new()
                    .with_identifier_quote_style('"')
                    .with_character_length_style(CharacterLengthStyle::Length)
                    .build(),
            ),
        };
        Warehouse { inner }
    }
}

/// What to print: one KPI, split and bucketed, over a period.
#[derive(Debug, Clone)]
pub struct SqlRequest {
    pub kpi: String,
    pub by: Vec<String>,
    /// Default: month without a period, total with one (as the report).
    pub grain: Option<Grain>,
    /// Default: the report's, the 12 months up to the last month with data.
    pub period: Option<Period>,
    pub filters: Vec<(String, String)>,
}

/// A request with its period and grain settled.
struct Resolved<'a> {
    request: &'a SqlRequest,
    period: Period,
    grain: Grain,
}

impl Engine {
    /// The KPI's query in `dialect`. The engine is switched to portable plans for good: use a
    /// fresh engine for it.
    pub async fn sql(&self, request: &SqlRequest, dialect: SqlDialect) -> Result<String> {
        if self.config.timezone != chrono_tz::UTC {
            // Local time needs a time-zone conversion, which each warehouse spells its own way
            // and SQLite lacks: not exported yet.
            return Err(EngineError::Request(format!(
                "`kpiflow sql` exports projects whose timezone is UTC; this one's is {} \
                 (kpiflow.toml `timezone`)",
                self.config.timezone.name()
            )));
        }
        self.set_portable(true);
        if !self.cache.lock().await.is_empty() {
            return Err(EngineError::Internal(
                "sql needs an engine that has not computed anything yet".into(),
            ));
        }
        let (period, grain) = match &request.period {
            Some(p) => (p.clone(), request.grain.unwrap_or(Grain::Total)),
            None => (self.default_period().await?, request.grain.unwrap_or(Grain::Month)),
        };
        let resolved = Resolved { request, period, grain };
        let plan = self.kpi_frame(&resolved).await?.into_unoptimized_plan();
        // DataFusion's optimizer without two rules whose plans the unparser prints wrong:
        // common-subexpression elimination (projections naming tables the unparser's subqueries
        // no longer carry) and filter pushdown (a scan's filter under the preserved side of a
        // LEFT JOIN printed into its ON clause, where it filters nothing). The warehouse
        // pushes filters down itself.
        let rules: Vec<_> = datafusion::optimizer::Optimizer::new()
            .rules
            .into_iter()
            .filter(|r| !matches!(r.name(), "common_sub_expression_eliminate" | "push_down_filter"))
            .collect();
        let state = datafusion::execution::SessionStateBuilder::new_from_existing(self.ctx.state())
            .with_optimizer_rules(rules)
            .build();
        let plan = name_derived_tables(state.optimize(&plan)?)?;
        tracing::debug!(plan = %plan.display_indent(), "sql export plan");
        let unparser_dialect = dialect.unparser_dialect();
        let statement = Unparser::new(&unparser_dialect).with_pretty(true).plan_to_sql(&plan)?;
        let by = if request.by.is_empty() {
            String::new()
        } else {
            format!(" by {}", request.by.join(", "))
        };
        let filters: String =
            request.filters.iter().map(|(d, v)| format!(", where {d} = {v}")).collect();
        Ok(format!(
            "-- kpiflow: {}{by}, per {}, {} to {} (end excluded){filters}; {} dialect\n\
             {statement:#};\n",
            request.kpi,
            resolved.grain.name(),
            resolved.period.from,
            resolved.period.to,
            dialect.name(),
        ))
    }

    /// The KPI's frame: period_start, the dimensions, the value.
    async fn kpi_frame(&self, resolved: &Resolved<'_>) -> Result<DataFrame> {
        let request = resolved.request;
        let catalog = self.catalog.clone();
        let kpi = catalog.resolve_kpi(&request.kpi)?;
        let unsupported = |why: &str| {
            EngineError::Request(format!(
                "`kpiflow sql` cannot export `{}`: {why}; `kpiflow report` computes it",
                kpi.id
            ))
        };
        if self.uses_previous(kpi) {
            return Err(unsupported("it compares with the previous period (previous())"));
        }
        for d in request.by.iter().chain(request.filters.iter().map(|(d, _)| d)) {
            if !kpi.dimensions.contains(&d.as_str()) {
                return Err(cannot_split(kpi, d));
            }
        }
        let dims = split_dims(&request.by, kpi);

        // One aggregate per source and time column.
        let mut groups: BTreeMap<(&str, &str), Vec<&Measure>> = BTreeMap::new();
        for id in &kpi.measures {
            let m = catalog
                .measure(id)
                .ok_or_else(|| EngineError::Internal(format!("measure {id} vanished")))?;
            if m.snapshot.is_some() {
                return Err(unsupported(&format!(
                    "`{id}` is a stock at the period's first or last date"
                )));
            }
            if m.source == "mrr_retention" {
                return Err(unsupported("retention follows accounts across the period"));
            }
            groups.entry((m.source, m.time.as_str())).or_default().push(m);
        }
        let mut frames = Vec::new();
        for ((source, time), measures) in &groups {
            frames.push(self.group_frame(source, time, measures, &dims, resolved).await?);
        }

        // Joined on bucket and dimensions.
        let keys: Vec<String> = std::iter::once("__bucket".to_owned())
            .chain((0..dims.len()).map(|i| format!("__d{i}")))
            .collect();
        let mut frames = frames.into_iter();
        let mut joined = frames
            .next()
            .ok_or_else(|| EngineError::Internal(format!("{} has no measures", kpi.id)))?;
        for right in frames {
            let measures: Vec<String> = right
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .filter(|n| !keys.contains(n))
                .collect();
            let renamed: Vec<Expr> = keys
                .iter()
                .map(|k| col(k.as_str()).alias(format!("__r{k}")))
                .chain(measures.iter().map(|m| col(m.as_str())))
                .collect();
            let right_keys: Vec<String> = keys.iter().map(|k| format!("__r{k}")).collect();
            let left_measures: Vec<String> = joined
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .filter(|n| !keys.contains(n))
                .collect();
            let l: Vec<&str> = keys.iter().map(String::as_str).collect();
            let r: Vec<&str> = right_keys.iter().map(String::as_str).collect();
            joined = joined.join(right.select(renamed)?, JoinType::Full, &l, &r, None)?.select(
                keys.iter()
                    .zip(&right_keys)
                    .map(|(k, rk)| coalesce(vec![col(k.as_str()), col(rk.as_str())]).alias(k))
                    .chain(left_measures.iter().chain(&measures).map(|m| col(m.as_str())))
                    .collect::<Vec<_>>(),
            )?;
        }

        let value = self.formula_expr(kpi, &resolved.period, resolved.grain)?;
        let mut columns = vec![col("__bucket").alias("period_start")];
        columns.extend(dims.iter().enumerate().map(|(i, d)| col(format!("__d{i}")).alias(d)));
        columns.push(value.alias(kpi.id.as_str()));
        let mut order = vec![col("period_start").sort(true, false)];
        order.extend(dims.iter().map(|d| col(d.as_str()).sort(true, false)));
        Ok(joined.select(columns)?.sort(order)?)
    }

    /// One source's measures per bucket and dimensions: columns `__bucket`, `__d0..`, and one
    /// per measure named by its id.
    async fn group_frame(
        &self,
        source: &str,
        time: &str,
        measures: &[&Measure],
        dims: &[String],
        resolved: &Resolved<'_>,
    ) -> Result<DataFrame> {
        let request = resolved.request;
        let catalog = &self.catalog;
        let src = catalog
            .source(source)
            .ok_or_else(|| EngineError::Internal(format!("unknown source {source}")))?;
        let Some(frame) = self.source_frame(source).await? else {
            return Err(EngineError::Request(format!(
                "`{}` needs the {source} data, which this store does not have: import it first",
                request.kpi
            )));
        };
        let is_ts = src.column(time).is_some_and(|c| c.ty == kpiflow_model::ColumnType::Timestamp);
        let period = &resolved.period;
        let mut f = frame.filter(self.in_ranges(time, is_ts, &[(period.from, period.to)]))?;
        if let Some(x) = Self::filter_expr(&request.filters, src) {
            f = f.filter(x)?;
        }
        let bucket = match resolved.grain {
            Grain::Total => lit(ScalarValue::Date32(Some(date32(period.from)))),
            grain => self.bucket(self.local_time_of(time, is_ts)?, grain),
        };
        let mut f = f.with_column("__bucket", bucket)?;
        let mut group = vec![col("__bucket")];
        for (i, d) in dims.iter().enumerate() {
            let name = format!("__d{i}");
            f = f.with_column(&name, Self::dim_expr(source, d))?;
            group.push(col(name));
        }
        let schema = f.schema().clone();
        let mut aggs = Vec::new();
        let mut finals: Vec<Expr> = group.clone();
        for m in measures {
            let cond = m.filter.as_ref().map(|x| self.to_df_expr(x, &schema)).transpose()?;
            let value = m.value.as_ref().map(|x| self.to_df_expr(x, &schema)).transpose()?;
            // `CASE WHEN filter THEN v END`: rows outside the filter count as missing.
            let only = |v: Expr| -> Result<Expr> {
                match &cond {
                    Some(c) => Ok(when(c.clone(), v).end()?),
                    None => Ok(v),
                }
            };
            let number = |e: Expr| cast(e, DataType::Float64);
            let id = m.id.as_str();
            let counted = only(lit(1i64))?;
            if m.agg == Agg::Sum {
                aggs.push(count(counted.clone()).alias(format!("__n_{id}")));
            }
            let agg = measure_aggregate(m, value.map(only).transpose()?, counted)?;
            aggs.push(agg.alias(format!("__a_{id}")));
            let out = match m.agg {
                // A sum over no rows is 0; over rows whose values are all missing, no value.
                Agg::Sum => when(col(format!("__n_{id}")).eq(lit(0i64)), lit(0.0))
                    .otherwise(col(format!("__a_{id}")))?,
                _ => number(col(format!("__a_{id}"))),
            };
            finals.push(out.alias(id));
        }
        Ok(f.aggregate(group, aggs)?.select(finals)?)
    }

    /// The KPI's formula over the joined measures, in SQL terms.
    fn formula_expr(&self, kpi: &Kpi, period: &Period, grain: Grain) -> Result<Expr> {
        self.ast_expr(&kpi.formula.expr, period, grain, &mut vec![kpi.id.clone()])
    }

    fn ast_expr(
        &self,
        e: &Ast,
        period: &Period,
        grain: Grain,
        seen: &mut Vec<String>,
    ) -> Result<Expr> {
        let unsupported = |what: String| {
            EngineError::Internal(format!("formula element not exported to SQL: {what}"))
        };
        Ok(match e {
            Ast::Identifier(ident) => {
                let name = ident.value.as_str();
                if let Some(m) = self.catalog.measure(name) {
                    let v = col(name);
                    if matches!(m.agg, Agg::Count | Agg::CountDistinct | Agg::Sum) {
                        // A bucket in which this measure's source has no row: nothing happened.
                        coalesce(vec![v, lit(0.0)])
                    } else {
                        v
                    }
                } else if let Some(k) = self.catalog.kpi(name) {
                    if seen.iter().any(|s| s == name) {
                        return Err(unsupported(format!("cycle through {name}")));
                    }
                    seen.push(name.to_owned());
                    let inner = self.ast_expr(&k.formula.expr, period, grain, seen)?;
                    seen.pop();
                    inner
                } else if let Some(p) = self.catalog.param(name) {
                    lit(p.value)
                } else {
                    return Err(unsupported(format!("name {name}")));
                }
            }
            Ast::Value(v) => match &v.value {
                Value::Number(n, _) => lit(n.parse::<f64>().map_err(|_| unsupported(n.clone()))?),
                other => return Err(unsupported(other.to_string())),
            },
            Ast::Nested(inner) => self.ast_expr(inner, period, grain, seen)?,
            Ast::UnaryOp { op: UnaryOperator::Minus, expr } => {
                lit(0.0) - self.ast_expr(expr, period, grain, seen)?
            }
            Ast::UnaryOp { op: UnaryOperator::Plus, expr } => {
                self.ast_expr(expr, period, grain, seen)?
            }
            Ast::BinaryOp { left, op, right } => {
                let l = self.ast_expr(left, period, grain, seen)?;
                let r = self.ast_expr(right, period, grain, seen)?;
                match op {
                    BinaryOperator::Plus => l + r,
                    BinaryOperator::Minus => l - r,
                    BinaryOperator::Multiply => l * r,
                    BinaryOperator::Divide => l / nullif(r, lit(0.0)),
                    other => return Err(unsupported(other.to_string())),
                }
            }
            Ast::Function(f) => {
                let name = f.name.to_string().to_lowercase();
                let mut args = Vec::new();
                if let FunctionArguments::List(list) = &f.args {
                    for a in &list.args {
                        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) = a {
                            args.push(self.ast_expr(x, period, grain, seen)?);
                        }
                    }
                }
                match name.as_str() {
                    "period_months" => lit(match grain {
                        Grain::Total => period.months(),
                        Grain::Day => 1.0 / 30.4375,
                        Grain::Week => 7.0 / 30.4375,
                        Grain::Month => 1.0,
                        Grain::Quarter | Grain::FiscalQuarter => 3.0,
                        Grain::Year | Grain::FiscalYear => 12.0,
                    }),
                    "coalesce" => coalesce(args),
                    "abs" => {
                        abs(args.into_iter().next().ok_or_else(|| unsupported(name.clone()))?)
                    }
                    "least" => least(args),
                    "greatest" => greatest(args),
                    "round" => round(args),
                    "nullif" if args.len() == 2 => {
                        let mut it = args.into_iter();
                        let (a, b) = (it.next(), it.next());
                        match (a, b) {
                            (Some(a), Some(b)) => nullif(a, b),
                            _ => return Err(unsupported(name)),
                        }
                    }
                    _ => return Err(unsupported(format!("{name}()"))),
                }
            }
            other => return Err(unsupported(other.to_string())),
        })
    }
}
