//! From a file's text columns to a canonical table's typed rows: the mapping is resolved against
//! the file's header once (file-level problems stop the import before any row is read), then every
//! batch is typed and validated column by column, and money converted to the reporting currency.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanBuilder, Date32Builder, Float64Array, Float64Builder, Int64Builder,
    RecordBatch, StringArray, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::compute::filter_record_batch;
use chrono::NaiveDate;
use chrono_tz::Tz;
use kpiflow_model::mapping::{NumberStyle, Unit};
use kpiflow_model::parse::{self, days_since_epoch};
use kpiflow_model::schema::STAGE_CHANGES;
use kpiflow_model::suggest::did_you_mean;
use kpiflow_model::{Column, ColumnType, Mapping, Rule, Table};

use super::format::RawBatch;
use super::fx::FxRates;
use super::report::RowError;
use crate::error::ImportError;
use crate::store::store_schema;

/// Where a canonical column's values come from in one file.
#[derive(Debug, Clone)]
enum Source {
    /// The file's column at this index, with its name.
    Field(usize, String),
    /// The sum of several of the file's columns.
    Sum(Vec<(usize, String)>),
    /// One part of a file's column cut at a separator (the last part takes the rest).
    Part { index: usize, name: String, separator: String, part: usize, parts: usize },
    /// The mapping's constant, or a value read from the preamble or the file's name.
    Constant(String),
    /// Nowhere: the column stays empty.
    Absent,
}

#[derive(Debug)]
struct ColumnPlan {
    column: &'static Column,
    source: Source,
    values: Option<HashMap<String, String>>,
    /// The value map's `"*"`: what every value it does not list becomes.
    other_values: Option<String>,
    formats: Vec<String>,
    unit: Option<Unit>,
    /// Used when the value is empty (the currency column's default).
    default: Option<String>,
    is_key: bool,
}

#[derive(Debug)]
struct StagePlan {
    entity_type: String,
    /// Position of the id column in `FilePlan::columns`.
    id_column: usize,
    /// (stage, file column index, file column name)
    stages: Vec<(String, usize, String)>,
    formats: Vec<String>,
}

/// Settings every file of an import shares.
#[derive(Debug, Clone)]
pub struct ConvertSettings {
    pub timezone: Tz,
    pub reporting_currency: String,
}

/// What a reader learnt of one file besides its header: values from its preamble, and its name.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    /// Values captured from the preamble, by capture name (the canonical column).
    pub preamble: Vec<(String, String)>,
    /// The file's own name (no directory), for `[file_name.capture]`.
    pub file_name: String,
}

/// The resolved plan for one file: how each canonical column is filled.
#[derive(Debug)]
pub struct FilePlan {
    table: &'static Table,
    file: String,
    header: Vec<String>,
    columns: Vec<ColumnPlan>,
    stages: Option<StagePlan>,
    numbers: NumberStyle,
    timezone: Tz,
    /// The project's timezone: the calendar day of a timestamp, for its fx rate, is taken in it
    /// whatever the mapping's timezone.
    reporting_timezone: Tz,
    /// Position in `columns` of the table's currency column, when the table has money and
    /// the file gives the currency itself (a column or a constant), not by default.
    explicit_currency: Option<usize>,
}

/// The outcome of converting one batch.
#[derive(Debug)]
pub struct Converted {
    /// Good rows, in [`store_schema`] form.
    pub rows: RecordBatch,
    /// The source line of each good row.
    pub lines: Vec<u64>,
    /// The index in the raw batch of each good row.
    pub kept_rows: Vec<usize>,
    /// Stage entries from a wide export (in `stage_changes` store form), if the mapping has any.
    pub stage_rows: Option<RecordBatch>,
    /// The source line of each stage row (the row it was derived from).
    pub stage_lines: Vec<u64>,
    /// Bad rows: index in the batch and every problem found with it.
    pub rejected: Vec<(usize, Vec<RowError>)>,
}

/// A header name with `{currency}` as a pattern: the text around it literally, a three-letter
/// code in its place.
fn currency_pattern(name: &str) -> Option<regex::Regex> {
    let (before, after) = name.split_once("{currency}")?;
    regex::Regex::new(&format!(
        "^{}([A-Za-z]{{3}}){}$",
        regex::escape(before.trim_start()),
        regex::escape(after.trim_end())
    ))
    .ok()
}

/// The first of `sources` the header has: a name as it is, or one with `{currency}` whose code
/// then is the file's currency (`found`; two different codes in one file are an error).
fn find_source(
    sources: &[String],
    header: &[String],
    index: &HashMap<&str, usize>,
    found: &mut Option<(String, String)>,
) -> Result<Option<(usize, String)>, String> {
    for source in sources {
        if let Some(&i) = index.get(source.as_str()) {
            return Ok(Some((i, source.clone())));
        }
        let Some(pattern) = currency_pattern(source) else { continue };
        for (i, h) in header.iter().enumerate() {
            let Some(code) = pattern.captures(h).and_then(|c| c.get(1)) else { continue };
            let Some(code) = parse::parse_currency(code.as_str()) else { continue };
            match found {
                Some((other, column)) if *other != code => {
                    return Err(format!(
                        "column `{h}` names the currency {code}, column `{column}` names \
                         {other}: one file holds one currency"
                    ));
                }
                _ => *found = Some((code, h.clone())),
            }
            return Ok(Some((i, h.clone())));
        }
    }
    Ok(None)
}

impl FilePlan {
    /// Resolves `mapping` (or the canonical names) against a file's header.
    pub fn resolve(
        table: &'static Table,
        file: &str,
        header: &[String],
        facts: &FileFacts,
        mapping: Option<&Mapping>,
        settings: &ConvertSettings,
    ) -> Result<FilePlan, ImportError> {
        let fail = |message: String| ImportError::File { file: file.to_owned(), message };
        let index: HashMap<&str, usize> =
            header.iter().enumerate().map(|(i, h)| (h.as_str(), i)).collect();
        if let Some(dup) = header.iter().enumerate().find(|(i, h)| index[h.as_str()] != *i) {
            return Err(fail(format!("column `{}` appears twice in the header", dup.1)));
        }
        let empty = Mapping::default();
        let m = mapping.unwrap_or(&empty);
        let header_list = || header.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ");
        let mapping_name = || {
            if m.file.is_empty() {
                "the mapping".to_owned()
            } else {
                format!("the mapping {}", m.file)
            }
        };

        // The file's currency, when a header names it (`Amount spent (EUR)`).
        let mut header_currency: Option<(String, String)> = None;
        let find = |sources: &[String], found: &mut Option<(String, String)>| {
            find_source(sources, header, &index, found).map_err(fail)
        };
        let missing_source = |canonical: &str, sources: &[String]| {
            let shown = sources.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" or ");
            let hint = sources
                .iter()
                .find_map(|s| did_you_mean(s, header.iter().map(String::as_str)))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            fail(format!(
                "{} takes `{canonical}` from column {shown}, which the file does not have{hint}; \
                 the file's columns are: {}",
                mapping_name(),
                header_list()
            ))
        };

        // Values the reader found outside the rows: the preamble and the file's name.
        let mut captured: HashMap<&str, String> = HashMap::new();
        let mut uncaptured: HashMap<&str, String> = HashMap::new();
        for (column, pattern) in &m.preamble.captures {
            match facts.preamble.iter().find(|(c, _)| c == column) {
                Some((_, v)) => {
                    captured.insert(column.as_str(), v.clone());
                }
                None => {
                    uncaptured.insert(
                        column.as_str(),
                        format!("no line before the header matches `{pattern}`"),
                    );
                }
            }
        }
        for (column, pattern) in &m.file_name_captures {
            let value = regex::Regex::new(pattern)
                .ok()
                .and_then(|r| r.captures(&facts.file_name).and_then(|c| c.get(1)))
                .map(|g| g.as_str().to_owned());
            match value {
                Some(v) => {
                    captured.insert(column.as_str(), v);
                }
                None => {
                    uncaptured.insert(
                        column.as_str(),
                        format!("the file name `{}` does not match `{pattern}`", facts.file_name),
                    );
                }
            }
        }
        let mut parts: HashMap<&str, Source> = HashMap::new();
        for split in &m.splits {
            let Some(&i) = index.get(split.source.as_str()) else {
                if m.allow_missing {
                    continue;
                }
                return Err(missing_source(
                    &split.columns.join(", "),
                    std::slice::from_ref(&split.source),
                ));
            };
            for (part, c) in split.columns.iter().enumerate() {
                parts.insert(
                    c.as_str(),
                    Source::Part {
                        index: i,
                        name: split.source.clone(),
                        separator: split.separator.clone(),
                        part,
                        parts: split.columns.len(),
                    },
                );
            }
        }

        let mut used: HashSet<usize> = HashSet::new();
        let mut columns = Vec::with_capacity(table.columns.len());
        let mut missing_required = Vec::new();
        for column in table.columns {
            let source = if let Some(sources) = m.columns.get(column.name) {
                match find(sources, &mut header_currency)? {
                    Some((i, name)) => Source::Field(i, name),
                    None if m.allow_missing => Source::Absent,
                    None => return Err(missing_source(column.name, sources)),
                }
            } else if let Some(sources) = m.sums.get(column.name) {
                let mut found = Vec::new();
                for s in sources {
                    match index.get(s.as_str()) {
                        Some(&i) => found.push((i, s.clone())),
                        None if m.allow_missing => {}
                        None => return Err(missing_source(column.name, std::slice::from_ref(s))),
                    }
                }
                if found.is_empty() { Source::Absent } else { Source::Sum(found) }
            } else if let Some(part) = parts.get(column.name) {
                part.clone()
            } else if let Some(c) = m.constants.get(column.name) {
                Source::Constant(c.clone())
            } else if let Some(v) = captured.get(column.name) {
                Source::Constant(v.clone())
            } else if let Some(&i) = index.get(column.name)
                && !m.ignore.iter().any(|x| x == column.name)
            {
                Source::Field(i, column.name.to_owned())
            } else {
                Source::Absent
            };
            match &source {
                Source::Field(i, _) | Source::Part { index: i, .. } => {
                    used.insert(*i);
                }
                Source::Sum(fields) => used.extend(fields.iter().map(|(i, _)| *i)),
                _ => {}
            }
            if column.required && matches!(source, Source::Absent) {
                missing_required.push(column.name);
            }
            let currency = header_currency
                .as_ref()
                .map(|(c, _)| c.clone())
                .or_else(|| m.currency.clone())
                .unwrap_or_else(|| settings.reporting_currency.clone());
            let default = m.defaults.get(column.name).cloned().or_else(|| {
                (column.ty == ColumnType::Currency && table.currency_column().is_some())
                    .then_some(currency)
            });
            let (values, other_values) = match m.values.get(column.name) {
                None => (None, None),
                Some(map) => {
                    let other = map.get("*").cloned();
                    let listed =
                        map.iter().filter(|(k, _)| *k != "*").map(|(k, v)| (k.clone(), v.clone()));
                    (Some(listed.collect()), other)
                }
            };
            columns.push(ColumnPlan {
                column,
                source,
                values,
                other_values,
                formats: m.formats_for(column).to_vec(),
                unit: m.units.get(column.name).copied(),
                default,
                is_key: table.is_key(column.name),
            });
        }
        // The header currency is found while resolving columns; a currency column resolved
        // before the money column took the mapping's default: give it the header's.
        if let Some((code, _)) = &header_currency {
            for plan in &mut columns {
                if plan.column.ty == ColumnType::Currency && plan.default.is_some() {
                    plan.default = Some(code.clone());
                }
            }
        }
        if !missing_required.is_empty() {
            let unused: Vec<&str> = header
                .iter()
                .enumerate()
                .filter(|(i, _)| !used.contains(i))
                .map(|(_, h)| h.as_str())
                .collect();
            let details: Vec<String> = missing_required
                .iter()
                .map(|c| {
                    let mut d = match did_you_mean(c, unused.iter().copied()) {
                        Some(s) => format!("`{c}` (did you mean `{s}`?)"),
                        None => format!("`{c}`"),
                    };
                    if let Some(why) = uncaptured.get(c) {
                        d.push_str(&format!(" ({why})"));
                    }
                    if let Some(hint) = m.hints.get(*c) {
                        d.push_str(&format!(": {hint}"));
                    }
                    d
                })
                .collect();
            let how = if mapping.is_some() && !m.columns.is_empty() {
                ""
            } else {
                ". Rename them in the file or map them in a mapping file's [columns] (or \
                 [constants])"
            };
            return Err(fail(format!(
                "missing required column(s) {} of `{}`; the file's columns are: {}{how}",
                details.join(", "),
                table.name,
                header_list()
            )));
        }

        let stages = match &m.stages {
            None => None,
            Some(s) => {
                let id_column =
                    columns.iter().position(|p| p.column.name == s.id_column).ok_or_else(|| {
                        fail(format!("stage id column `{}` is not a column", s.id_column))
                    })?;
                let mut stages = Vec::new();
                for (stage, sources) in &s.columns {
                    let found =
                        sources.iter().find_map(|src| index.get(src.as_str()).map(|i| (*i, src)));
                    match found {
                        Some((i, src)) => {
                            used.insert(i);
                            stages.push((stage.clone(), i, src.clone()));
                        }
                        None if m.allow_missing => {}
                        None => {
                            let shown =
                                sources.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>();
                            return Err(fail(format!(
                                "{} takes stage `{stage}` from column {}, which the file does \
                                 not have; the file's columns are: {}",
                                mapping_name(),
                                shown.join(" or "),
                                header_list()
                            )));
                        }
                    }
                }
                Some(StagePlan {
                    entity_type: s.entity_type.clone(),
                    id_column,
                    stages,
                    formats: if s.formats.is_empty() {
                        m.timestamp_formats.clone()
                    } else {
                        s.formats.clone()
                    },
                })
            }
        };

        if !m.ignore_unknown {
            let ignored: HashSet<&str> = m.ignore.iter().map(String::as_str).collect();
            let unknown: Vec<String> = header
                .iter()
                .enumerate()
                .filter(|(i, h)| !used.contains(i) && !ignored.contains(h.as_str()))
                .map(|(i, h)| {
                    let hint = did_you_mean(h, table.column_names())
                        .map(|s| format!(", did you mean `{s}`?"))
                        .unwrap_or_default();
                    format!("`{h}` (column {}{hint})", i + 1)
                })
                .collect();
            if !unknown.is_empty() {
                return Err(fail(format!(
                    "unknown column(s) {}: not columns of `{}` (expected: {}). Map them in a \
                     mapping file's [columns], list them in `ignore`, or set `ignore_unknown = true`",
                    unknown.join(", "),
                    table.name,
                    table.column_names().collect::<Vec<_>>().join(", ")
                )));
            }
        }

        // Constants (and captured values) are checked once, before any row.
        let timezone = m.timezone.unwrap_or(settings.timezone);
        for plan in &columns {
            if let Source::Constant(c) = &plan.source {
                let mut probe = Typed::new(plan.column.ty, 1);
                if let Err(msg) = probe.push(plan, Some(c.as_str()), timezone, &m.numbers) {
                    let origin = if captured.contains_key(plan.column.name) {
                        "the value read from the file's preamble or name".to_owned()
                    } else {
                        format!("{}'s constant", mapping_name())
                    };
                    return Err(fail(format!("{origin} for `{}`: `{c}`: {msg}", plan.column.name)));
                }
            }
        }

        let explicit_currency = table.currency_column().and_then(|c| {
            columns
                .iter()
                .position(|p| p.column.name == c.name && !matches!(p.source, Source::Absent))
        });
        Ok(FilePlan {
            table,
            file: file.to_owned(),
            header: header.to_vec(),
            columns,
            stages,
            numbers: m.numbers.clone(),
            timezone,
            reporting_timezone: settings.timezone,
            explicit_currency,
        })
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Whether the file's rows also give `stage_changes` rows (a wide export).
    pub fn has_stages(&self) -> bool {
        self.stages.is_some()
    }

    /// Types and validates one batch; money is converted with `fx`.
    pub fn convert(&self, raw: &RawBatch, fx: &FxRates) -> Result<Converted, ImportError> {
        let n = raw.lines.len();
        let mut errors: Vec<Vec<RowError>> = vec![Vec::new(); n];
        let mut typed: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        // Per row, the currency written beside an amount (`USD 12,500.00`), if any.
        let mut amount_currencies: Vec<Option<String>> = Vec::new();
        for plan in &self.columns {
            let constant;
            let (values, source_name): (Option<&StringArray>, Option<&str>) = match &plan.source {
                Source::Field(i, name) => (Some(&raw.columns[*i]), Some(name.as_str())),
                Source::Part { index, name, .. } => {
                    (Some(&raw.columns[*index]), Some(name.as_str()))
                }
                Source::Constant(c) => {
                    constant = StringArray::from(vec![c.as_str(); n]);
                    (Some(&constant), None)
                }
                Source::Sum(_) | Source::Absent => (None, None),
            };
            // Plain text needs no typing: the file's array is stored as it is.
            if let Some(v) = values
                && matches!(plan.source, Source::Field(..) | Source::Constant(_))
                && plan.column.ty == ColumnType::Text
                && plan.values.is_none()
                && plan.other_values.is_none()
                && plan.column.rule.is_none()
                && (v.null_count() == 0 || !(plan.column.required || plan.is_key))
                && (self.numbers.null.is_empty()
                    || !v.iter().any(|x| x.is_some_and(|s| self.numbers.is_null(s))))
            {
                typed.push(Arc::new(v.clone()));
                continue;
            }
            let mut out = Typed::new(plan.column.ty, n);
            let is_money = plan.column.ty == ColumnType::Money;
            for (row, row_errors) in errors.iter_mut().enumerate() {
                let text = values.and_then(|v| (!v.is_null(row)).then(|| v.value(row)));
                let sum;
                let (value, source_name) = match &plan.source {
                    Source::Part { separator, part, parts, .. } => {
                        (text.and_then(|t| nth_part(t, separator, *part, *parts)), source_name)
                    }
                    Source::Sum(fields) => match self.sum(fields, raw, row) {
                        Ok(v) => {
                            sum = v;
                            (sum.as_deref(), None)
                        }
                        Err((name, value)) => {
                            out.append_null(plan);
                            row_errors.push(RowError {
                                file: self.file.clone(),
                                line: raw.lines[row],
                                column: Some(plan.column.name.to_owned()),
                                source_column: Some(name),
                                value: Some(value),
                                message: format!("expected {}", plan.column.ty.expected()),
                            });
                            continue;
                        }
                    },
                    _ => (text, source_name),
                };
                match out.push(plan, value, self.timezone, &self.numbers) {
                    Ok(currency) => {
                        if is_money && currency.is_some() {
                            amount_currencies.resize(n, None);
                            amount_currencies[row] = currency;
                        }
                    }
                    Err(message) => row_errors.push(RowError {
                        file: self.file.clone(),
                        line: raw.lines[row],
                        column: Some(plan.column.name.to_owned()),
                        source_column: source_name.map(str::to_owned),
                        value: value.map(str::to_owned),
                        message: self.explain(plan, value, message),
                    }),
                }
            }
            typed.push(out.finish());
        }
        if !amount_currencies.is_empty() {
            self.currencies_from_amounts(&mut typed, &amount_currencies, raw, &mut errors);
        }

        // Money in the reporting currency, by the row's date.
        let mut all: Vec<ArrayRef> = Vec::with_capacity(typed.len() + 2);
        for (plan, array) in self.columns.iter().zip(&typed) {
            all.push(array.clone());
            if plan.column.ty == ColumnType::Money {
                let reporting = self.to_reporting(plan.column, &typed, raw, fx, &mut errors);
                all.push(Arc::new(reporting));
            }
        }

        let stage_rows = self.stages.as_ref().map(|s| self.stage_rows(s, &typed, raw, &mut errors));

        let keep: Vec<bool> = errors.iter().map(Vec::is_empty).collect();
        let mask = arrow::array::BooleanArray::from(keep.clone());
        // Bad rows hold nulls in required columns: filter under a nullable schema, then declare
        // the stored one (which the filtered rows satisfy).
        let schema = store_schema(self.table);
        let loose = Arc::new(arrow::datatypes::Schema::new(
            schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(loose, all).map_err(internal)?;
        let filtered = filter_record_batch(&batch, &mask).map_err(internal)?;
        let rows = RecordBatch::try_new(schema, filtered.columns().to_vec()).map_err(internal)?;
        let (stage_rows, stage_lines) = match stage_rows {
            None => (None, Vec::new()),
            Some((batch, owner)) => {
                let mask: arrow::array::BooleanArray =
                    owner.iter().map(|r| Some(keep[*r])).collect();
                let lines = owner.iter().filter(|r| keep[**r]).map(|r| raw.lines[*r]).collect();
                (Some(filter_record_batch(&batch, &mask).map_err(internal)?), lines)
            }
        };
        let lines = raw.lines.iter().zip(&keep).filter(|(_, k)| **k).map(|(l, _)| *l).collect();
        let kept_rows = keep.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i).collect();
        let rejected = errors.into_iter().enumerate().filter(|(_, e)| !e.is_empty()).collect();
        Ok(Converted { rows, lines, kept_rows, stage_rows, stage_lines, rejected })
    }

    /// The sum of several source columns on one row: no value when none has one; an empty part
    /// counts as zero when another part has a value. `Err((column, value))` for a part that is
    /// no number.
    fn sum(
        &self,
        fields: &[(usize, String)],
        raw: &RawBatch,
        row: usize,
    ) -> Result<Option<String>, (String, String)> {
        let mut total = 0.0;
        let mut any = false;
        for (i, name) in fields {
            let column = &raw.columns[*i];
            if column.is_null(row) {
                continue;
            }
            let text = column.value(row);
            if self.numbers.is_null(text) {
                continue;
            }
            match parse::parse_number(text, self.numbers.decimal) {
                Some(n) if !n.percent => {
                    total += n.value;
                    any = true;
                }
                _ => return Err((name.clone(), text.to_owned())),
            }
        }
        Ok(any.then(|| total.to_string()))
    }

    /// A value's error message, with advice where the file's number style is the likely cause.
    fn explain(&self, plan: &ColumnPlan, value: Option<&str>, message: String) -> String {
        let Some(v) = value else { return message };
        if !plan.column.ty.is_numeric() || !message.starts_with("expected") {
            return message;
        }
        let trimmed = v.trim();
        if self.numbers.decimal == b'.' && trimmed.contains(',') {
            return format!(
                "{message}; if the file writes a decimal comma, set [numbers] decimal = \",\" \
                 in the mapping"
            );
        }
        if !trimmed.chars().any(|c| c.is_ascii_digit()) {
            return format!(
                "{message}; if `{trimmed}` means no value, list it in the mapping's [numbers] \
                 null"
            );
        }
        message
    }

    /// Sets each row's currency from the code written beside its amount, where the file gives
    /// no currency itself; a code that disagrees with the row's currency column is an error.
    fn currencies_from_amounts(
        &self,
        typed: &mut [ArrayRef],
        found: &[Option<String>],
        raw: &RawBatch,
        errors: &mut [Vec<RowError>],
    ) {
        let Some(currency) = self.table.currency_column() else { return };
        let Some(at) = self.columns.iter().position(|p| p.column.name == currency.name) else {
            return;
        };
        let Some(current) = typed[at].as_any().downcast_ref::<StringArray>().cloned() else {
            return;
        };
        let explicit = self.explicit_currency == Some(at);
        let mut out = StringBuilder::with_capacity(current.len(), current.len() * 3);
        for (row, row_errors) in errors.iter_mut().enumerate().take(current.len()) {
            let now = (!current.is_null(row)).then(|| current.value(row));
            match (found.get(row).and_then(Option::as_deref), now) {
                (Some(code), Some(given)) if explicit && given != code => {
                    row_errors.push(RowError {
                        file: self.file.clone(),
                        line: raw.lines[row],
                        column: Some(currency.name.to_owned()),
                        source_column: None,
                        value: Some(given.to_owned()),
                        message: format!(
                            "the amount is written in {code} but the row's currency is {given}"
                        ),
                    });
                    out.append_value(given);
                }
                (Some(code), _) if !explicit || now.is_none() => out.append_value(code),
                (_, Some(given)) => out.append_value(given),
                (_, None) => out.append_null(),
            }
        }
        typed[at] = Arc::new(out.finish());
    }

    fn to_reporting(
        &self,
        money: &Column,
        typed: &[ArrayRef],
        raw: &RawBatch,
        fx: &FxRates,
        errors: &mut [Vec<RowError>],
    ) -> Float64Array {
        let position = |name: &str| self.columns.iter().position(|p| p.column.name == name);
        let amounts = typed[position(money.name).unwrap_or_default()]
            .as_any()
            .downcast_ref::<Float64Array>()
            .cloned();
        let currencies = self
            .table
            .currency_column()
            .and_then(|c| position(c.name))
            .and_then(|i| typed[i].as_any().downcast_ref::<StringArray>().cloned());
        let dates = position(self.table.money_date_column()).map(|i| typed[i].clone());
        let (Some(amounts), Some(currencies), Some(dates)) = (amounts, currencies, dates) else {
            return Float64Array::new_null(raw.lines.len());
        };
        let mut out = Float64Builder::with_capacity(amounts.len());
        for (row, row_errors) in errors.iter_mut().enumerate().take(amounts.len()) {
            if amounts.is_null(row) || !row_errors.is_empty() {
                out.append_null();
                continue;
            }
            let Some(day) = day_of(&dates, row, self.reporting_timezone) else {
                out.append_null();
                continue;
            };
            let currency =
                if currencies.is_null(row) { fx.reporting() } else { currencies.value(row) };
            match fx.rate(currency, day) {
                Ok(rate) => out.append_value(amounts.value(row) * rate),
                Err(message) => {
                    row_errors.push(RowError {
                        file: self.file.clone(),
                        line: raw.lines[row],
                        column: Some(money.name.to_owned()),
                        source_column: None,
                        value: Some(amounts.value(row).to_string()),
                        message,
                    });
                    out.append_null();
                }
            }
        }
        out.finish()
    }

    /// Stage entries of a wide export, with the batch row each came from.
    fn stage_rows(
        &self,
        plan: &StagePlan,
        typed: &[ArrayRef],
        raw: &RawBatch,
        errors: &mut [Vec<RowError>],
    ) -> (RecordBatch, Vec<usize>) {
        let ids = typed[plan.id_column].as_any().downcast_ref::<StringArray>().cloned();
        let mut entity_type = StringBuilder::new();
        let mut entity_id = StringBuilder::new();
        let mut stage = StringBuilder::new();
        let mut entered = TimestampMicrosecondBuilder::new().with_timezone("UTC");
        let mut exited = TimestampMicrosecondBuilder::new().with_timezone("UTC");
        let mut owner = Vec::new();
        for (row, row_errors) in errors.iter_mut().enumerate().take(raw.lines.len()) {
            let Some(id) = ids.as_ref().filter(|a| !a.is_null(row)).map(|a| a.value(row)) else {
                continue;
            };
            for (name, i, source) in &plan.stages {
                let column = &raw.columns[*i];
                if column.is_null(row) {
                    continue;
                }
                let value = column.value(row);
                match parse::parse_timestamp_in(value, &plan.formats, self.timezone) {
                    Some(at) => {
                        entity_type.append_value(&plan.entity_type);
                        entity_id.append_value(id);
                        stage.append_value(name);
                        entered.append_value(at);
                        exited.append_null();
                        owner.push(row);
                    }
                    None => row_errors.push(RowError {
                        file: self.file.clone(),
                        line: raw.lines[row],
                        column: Some(format!("stage {name}")),
                        source_column: Some(source.clone()),
                        value: Some(value.to_owned()),
                        message: format!("expected {}", ColumnType::Timestamp.expected()),
                    }),
                }
            }
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(entity_type.finish()),
            Arc::new(entity_id.finish()),
            Arc::new(stage.finish()),
            Arc::new(entered.finish()),
            Arc::new(exited.finish()),
        ];
        let batch = RecordBatch::try_new(store_schema(&STAGE_CHANGES), columns)
            .unwrap_or_else(|_| RecordBatch::new_empty(store_schema(&STAGE_CHANGES)));
        (batch, owner)
    }
}

/// Part `part` of `parts` of `text` cut at `separator` (the last part takes the rest); `None`
/// when the value has fewer parts or the part is empty.
fn nth_part<'a>(text: &'a str, separator: &str, part: usize, parts: usize) -> Option<&'a str> {
    text.splitn(parts, separator).nth(part).map(str::trim).filter(|p| !p.is_empty())
}

fn internal(e: arrow::error::ArrowError) -> ImportError {
    ImportError::Store(crate::StoreError::Internal(format!("converted batch: {e}")))
}

/// The calendar day of a date, month or timestamp value (timestamps in `tz`).
fn day_of(array: &ArrayRef, row: usize, tz: Tz) -> Option<i32> {
    use arrow::array::{Date32Array, TimestampMicrosecondArray};
    if array.is_null(row) {
        return None;
    }
    if let Some(d) = array.as_any().downcast_ref::<Date32Array>() {
        return Some(d.value(row));
    }
    let t = array.as_any().downcast_ref::<TimestampMicrosecondArray>()?;
    let utc = chrono::DateTime::from_timestamp_micros(t.value(row))?;
    Some(days_since_epoch(utc.with_timezone(&tz).date_naive()))
}

/// Numbers this close to zero are zero: APIs' float arithmetic leaves `-2e-18` where nothing
/// was spent, and a rule such as "not negative" must not reject it.
const FLOAT_NOISE: f64 = 1e-9;

/// A builder for one column type, applying the column's value map, rule and defaults.
enum Typed {
    /// Text, with the last currency code read (raw value, code) for currency columns.
    Text(StringBuilder, Option<(String, String)>),
    Integer(Int64Builder),
    Decimal(Float64Builder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Boolean(BooleanBuilder),
}

impl Typed {
    fn new(ty: ColumnType, n: usize) -> Typed {
        match ty {
            ColumnType::Text | ColumnType::Currency => {
                Typed::Text(StringBuilder::with_capacity(n, n * 8), None)
            }
            ColumnType::Integer => Typed::Integer(Int64Builder::with_capacity(n)),
            ColumnType::Decimal | ColumnType::Money => {
                Typed::Decimal(Float64Builder::with_capacity(n))
            }
            ColumnType::Date | ColumnType::Month => Typed::Date(Date32Builder::with_capacity(n)),
            ColumnType::Timestamp => {
                Typed::Timestamp(TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC"))
            }
            ColumnType::Boolean => Typed::Boolean(BooleanBuilder::with_capacity(n)),
        }
    }

    /// Appends one value (a null on error) and says what was wrong with it. `Ok(Some(code))`
    /// for an amount written with its currency (`USD 12,500.00`).
    fn push(
        &mut self,
        plan: &ColumnPlan,
        raw: Option<&str>,
        tz: Tz,
        numbers: &NumberStyle,
    ) -> Result<Option<String>, String> {
        let column = plan.column;
        let raw = raw.filter(|v| !numbers.is_null(v));
        let mapped = match (raw, &plan.values) {
            (Some(v), Some(map)) => match map.get(v) {
                Some(m) if m.trim().is_empty() => None,
                Some(m) => Some(m.as_str()),
                None => match &plan.other_values {
                    Some(m) if m.trim().is_empty() => None,
                    Some(m) => Some(m.as_str()),
                    None => Some(v),
                },
            },
            (Some(v), None) => match &plan.other_values {
                Some(m) if m.trim().is_empty() => None,
                Some(m) => Some(m.as_str()),
                None => Some(v),
            },
            (None, _) => None,
        };
        let value = mapped.or(plan.default.as_deref());
        let Some(value) = value else {
            self.append_null(plan);
            return if column.required {
                Err("no value; the column is required".into())
            } else {
                Ok(None)
            };
        };
        let bad = |this: &mut Typed| {
            this.append_null(plan);
            Err(format!("expected {}", column.ty.expected()))
        };
        let check = |v: f64| match column.rule {
            Some(Rule::NonNegative) if v < -FLOAT_NOISE => {
                Err("is negative; expected >= 0".to_owned())
            }
            Some(Rule::Positive) if v <= 0.0 => Err("expected a number > 0".to_owned()),
            _ => Ok(()),
        };
        match self {
            Typed::Text(b, last) => {
                let stored = match column.ty {
                    // A file holds a few currencies, each on many rows: the last one read is
                    // kept, so most rows need no lookup.
                    ColumnType::Currency => match last {
                        Some((raw, code)) if raw == value => code.clone(),
                        _ => match parse::parse_currency(value) {
                            Some(c) => {
                                *last = Some((value.to_owned(), c.clone()));
                                c
                            }
                            None => return bad(self),
                        },
                    },
                    _ => value.to_owned(),
                };
                if let Some(Rule::OneOf(allowed)) = column.rule {
                    match allowed.iter().find(|a| a.eq_ignore_ascii_case(&stored)) {
                        Some(a) => b.append_value(a),
                        None => {
                            b.append_null();
                            let hint = did_you_mean(&stored, allowed.iter().copied())
                                .map(|s| format!(" (did you mean `{s}`?)"))
                                .unwrap_or_default();
                            return Err(format!(
                                "expected one of {}{hint}; map other values in the mapping's \
                                 [values.{}]",
                                allowed.join(", "),
                                column.name
                            ));
                        }
                    }
                } else {
                    b.append_value(stored);
                }
                Ok(None)
            }
            Typed::Integer(b) => {
                let parsed = parse::parse_integer(value).or_else(|| {
                    let n = parse::parse_number(value, numbers.decimal)?;
                    (!n.percent && n.value.fract() == 0.0 && n.value.abs() < 9.0e15)
                        .then_some(n.value as i64)
                });
                match parsed {
                    Some(v) => {
                        check(v as f64).inspect_err(|_| b.append_null())?;
                        b.append_value(v);
                        Ok(None)
                    }
                    None => bad(self),
                }
            }
            Typed::Decimal(b) => {
                let (mut v, percent, currency) = match parse::parse_decimal(value) {
                    Some(v) if numbers.decimal == b'.' || !value.contains('.') => (v, false, None),
                    _ => match parse::parse_number(value, numbers.decimal) {
                        Some(n) => (n.value, n.percent, n.currency),
                        None => return bad(self),
                    },
                };
                if percent && column.ty == ColumnType::Money {
                    b.append_null();
                    return Err("is a percentage; expected an amount".into());
                }
                v = match (plan.unit, percent) {
                    // `12.5%` is 0.125 whether or not the column's unit says percent.
                    (Some(Unit::Percent) | None, true) => v / 100.0,
                    (Some(unit), _) => unit.apply(v),
                    (None, false) => v,
                };
                check(v).inspect_err(|_| b.append_null())?;
                // An API's float noise around zero (`-2e-18` for no cost) is zero.
                if v.abs() < FLOAT_NOISE {
                    v = 0.0;
                }
                b.append_value(v);
                Ok(currency.filter(|_| column.ty == ColumnType::Money))
            }
            Typed::Date(b) => {
                let parsed: Option<NaiveDate> = if column.ty == ColumnType::Month {
                    parse::parse_month_in(value, &plan.formats)
                } else {
                    parse::parse_date_in(value, &plan.formats)
                };
                match parsed {
                    Some(d) => {
                        b.append_value(days_since_epoch(d));
                        Ok(None)
                    }
                    None => bad(self),
                }
            }
            Typed::Timestamp(b) => match parse::parse_timestamp_in(value, &plan.formats, tz) {
                Some(v) => {
                    b.append_value(v);
                    Ok(None)
                }
                // Valid as a wall-clock time, but skipped by a daylight-saving change.
                None if parse::parse_timestamp_in(value, &plan.formats, Tz::UTC).is_some() => {
                    b.append_null();
                    Err(format!(
                        "this local time does not exist in {tz} (clocks moved forward); give \
                         an offset such as +01:00, or the time after the change"
                    ))
                }
                None => bad(self),
            },
            Typed::Boolean(b) => match parse::parse_bool(value) {
                Some(v) => {
                    b.append_value(v);
                    Ok(None)
                }
                None => bad(self),
            },
        }
    }

    /// No value: null, or the empty string for an optional key column (keys are never null).
    fn append_null(&mut self, plan: &ColumnPlan) {
        match self {
            Typed::Text(b, _) if plan.is_key => b.append_value(""),
            Typed::Text(b, _) => b.append_null(),
            Typed::Integer(b) => b.append_null(),
            Typed::Decimal(b) => b.append_null(),
            Typed::Date(b) => b.append_null(),
            Typed::Timestamp(b) => b.append_null(),
            Typed::Boolean(b) => b.append_null(),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Typed::Text(mut b, _) => Arc::new(b.finish()),
            Typed::Integer(mut b) => Arc::new(b.finish()),
            Typed::Decimal(mut b) => Arc::new(b.finish()),
            Typed::Date(mut b) => Arc::new(b.finish()),
            Typed::Timestamp(mut b) => Arc::new(b.finish()),
            Typed::Boolean(mut b) => Arc::new(b.finish()),
        }
    }
}
