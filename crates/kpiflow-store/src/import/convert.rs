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
    /// The mapping's constant.
    Constant(String),
    /// Nowhere: the column stays empty.
    Absent,
}

#[derive(Debug)]
struct ColumnPlan {
    column: &'static Column,
    source: Source,
    values: Option<HashMap<String, String>>,
    format: Option<String>,
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
    format: Option<String>,
}

/// Settings every file of an import shares.
#[derive(Debug, Clone)]
pub struct ConvertSettings {
    pub timezone: Tz,
    pub reporting_currency: String,
}

/// The resolved plan for one file: how each canonical column is filled.
#[derive(Debug)]
pub struct FilePlan {
    table: &'static Table,
    file: String,
    header: Vec<String>,
    columns: Vec<ColumnPlan>,
    stages: Option<StagePlan>,
    timezone: Tz,
    /// The project's timezone: the calendar day of a timestamp, for its fx rate, is taken in it
    /// whatever the mapping's timezone.
    reporting_timezone: Tz,
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

impl FilePlan {
    /// Resolves `mapping` (or the canonical names) against a file's header.
    pub fn resolve(
        table: &'static Table,
        file: &str,
        header: &[String],
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

        let mut used: HashSet<usize> = HashSet::new();
        let mut columns = Vec::with_capacity(table.columns.len());
        let mut missing_required = Vec::new();
        for column in table.columns {
            let source = if let Some(src) = m.columns.get(column.name) {
                match index.get(src.as_str()) {
                    Some(&i) => Source::Field(i, src.clone()),
                    None => {
                        let hint = did_you_mean(src, header.iter().map(String::as_str))
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                        return Err(fail(format!(
                            "the mapping {} takes `{}` from column `{src}`, which the file does \
                             not have{hint}; the file's columns are: {}",
                            m.file,
                            column.name,
                            header_list()
                        )));
                    }
                }
            } else if let Some(c) = m.constants.get(column.name) {
                Source::Constant(c.clone())
            } else if let Some(&i) = index.get(column.name) {
                Source::Field(i, column.name.to_owned())
            } else {
                Source::Absent
            };
            if let Source::Field(i, _) = &source {
                used.insert(*i);
            }
            if column.required && matches!(source, Source::Absent) {
                missing_required.push(column.name);
            }
            let default = (column.ty == ColumnType::Currency && table.currency_column().is_some())
                .then(|| m.currency.clone().unwrap_or_else(|| settings.reporting_currency.clone()));
            columns.push(ColumnPlan {
                column,
                source,
                values: m.values.get(column.name).map(|v| v.clone().into_iter().collect()),
                format: m.format_for(column).map(str::to_owned),
                default,
                is_key: table.is_key(column.name),
            });
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
                .map(|c| match did_you_mean(c, unused.iter().copied()) {
                    Some(s) => format!("`{c}` (did you mean `{s}`?)"),
                    None => format!("`{c}`"),
                })
                .collect();
            return Err(fail(format!(
                "missing required column(s) {} of `{}`; the file's columns are: {}. Rename them \
                 in the file or map them in a mapping file's [columns] (or [constants])",
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
                for (stage, src) in &s.columns {
                    let i = *index.get(src.as_str()).ok_or_else(|| {
                        fail(format!(
                            "the mapping {} takes stage `{stage}` from column `{src}`, which the \
                             file does not have; the file's columns are: {}",
                            m.file,
                            header_list()
                        ))
                    })?;
                    used.insert(i);
                    stages.push((stage.clone(), i, src.clone()));
                }
                Some(StagePlan {
                    entity_type: s.entity_type.clone(),
                    id_column,
                    stages,
                    format: s.format.clone().or_else(|| m.timestamp_format.clone()),
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

        // Constants are checked once, before any row.
        for plan in &columns {
            if let Source::Constant(c) = &plan.source {
                let mut probe = Typed::new(plan.column.ty, 1);
                if let Err(msg) =
                    probe.push(plan, Some(c.as_str()), m.timezone.unwrap_or(settings.timezone))
                {
                    return Err(fail(format!(
                        "the mapping {}'s constant for `{}`: `{c}`: {msg}",
                        m.file, plan.column.name
                    )));
                }
            }
        }

        Ok(FilePlan {
            table,
            file: file.to_owned(),
            header: header.to_vec(),
            columns,
            stages,
            timezone: m.timezone.unwrap_or(settings.timezone),
            reporting_timezone: settings.timezone,
        })
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Types and validates one batch; money is converted with `fx`.
    pub fn convert(&self, raw: &RawBatch, fx: &FxRates) -> Result<Converted, ImportError> {
        let n = raw.lines.len();
        let mut errors: Vec<Vec<RowError>> = vec![Vec::new(); n];
        let mut typed: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for plan in &self.columns {
            let constant;
            let (values, source_name): (Option<&StringArray>, Option<&str>) = match &plan.source {
                Source::Field(i, name) => (Some(&raw.columns[*i]), Some(name.as_str())),
                Source::Constant(c) => {
                    constant = StringArray::from(vec![c.as_str(); n]);
                    (Some(&constant), None)
                }
                Source::Absent => (None, None),
            };
            // Plain text needs no typing: the file's array is stored as it is.
            if let Some(v) = values
                && plan.column.ty == ColumnType::Text
                && plan.values.is_none()
                && plan.column.rule.is_none()
                && (v.null_count() == 0 || !(plan.column.required || plan.is_key))
            {
                typed.push(Arc::new(v.clone()));
                continue;
            }
            let mut out = Typed::new(plan.column.ty, n);
            for (row, row_errors) in errors.iter_mut().enumerate() {
                let value = values.and_then(|v| (!v.is_null(row)).then(|| v.value(row)));
                if let Err(message) = out.push(plan, value, self.timezone) {
                    row_errors.push(RowError {
                        file: self.file.clone(),
                        line: raw.lines[row],
                        column: Some(plan.column.name.to_owned()),
                        source_column: source_name.map(str::to_owned),
                        value: value.map(str::to_owned),
                        message,
                    });
                }
            }
            typed.push(out.finish());
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
                match parse::parse_timestamp(value, plan.format.as_deref(), self.timezone) {
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

/// A builder for one column type, applying the column's value map, rule and defaults.
enum Typed {
    Text(StringBuilder),
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
                Typed::Text(StringBuilder::with_capacity(n, n * 8))
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

    /// Appends one value (a null on error) and says what was wrong with it.
    fn push(&mut self, plan: &ColumnPlan, raw: Option<&str>, tz: Tz) -> Result<(), String> {
        let column = plan.column;
        let mapped = match (raw, &plan.values) {
            (Some(v), Some(map)) => match map.get(v) {
                Some(m) if m.trim().is_empty() => None,
                Some(m) => Some(m.as_str()),
                None => Some(v),
            },
            (v, _) => v,
        };
        let value = mapped.or(plan.default.as_deref());
        let Some(value) = value else {
            self.append_null(plan);
            return if column.required {
                Err("no value; the column is required".into())
            } else {
                Ok(())
            };
        };
        let bad = |this: &mut Typed| {
            this.append_null(plan);
            Err(format!("expected {}", column.ty.expected()))
        };
        let check = |v: f64| match column.rule {
            Some(Rule::NonNegative) if v < 0.0 => Err("is negative; expected >= 0".to_owned()),
            Some(Rule::Positive) if v <= 0.0 => Err("expected a number > 0".to_owned()),
            _ => Ok(()),
        };
        match self {
            Typed::Text(b) => {
                let stored = match column.ty {
                    ColumnType::Currency => match parse::parse_currency(value) {
                        Some(c) => c,
                        None => return bad(self),
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
                Ok(())
            }
            Typed::Integer(b) => match parse::parse_integer(value) {
                Some(v) => {
                    check(v as f64).inspect_err(|_| b.append_null())?;
                    b.append_value(v);
                    Ok(())
                }
                None => bad(self),
            },
            Typed::Decimal(b) => match parse::parse_decimal(value) {
                Some(v) => {
                    check(v).inspect_err(|_| b.append_null())?;
                    b.append_value(v);
                    Ok(())
                }
                None => bad(self),
            },
            Typed::Date(b) => {
                let parsed: Option<NaiveDate> = if column.ty == ColumnType::Month {
                    parse::parse_month(value, plan.format.as_deref())
                } else {
                    parse::parse_date(value, plan.format.as_deref())
                };
                match parsed {
                    Some(d) => {
                        b.append_value(days_since_epoch(d));
                        Ok(())
                    }
                    None => bad(self),
                }
            }
            Typed::Timestamp(b) => {
                match parse::parse_timestamp(value, plan.format.as_deref(), tz) {
                    Some(v) => {
                        b.append_value(v);
                        Ok(())
                    }
                    // Valid as a wall-clock time, but skipped by a daylight-saving change.
                    None if parse::parse_timestamp(value, plan.format.as_deref(), Tz::UTC)
                        .is_some() =>
                    {
                        b.append_null();
                        Err(format!(
                            "this local time does not exist in {tz} (clocks moved forward); \
                             give an offset such as +01:00, or the time after the change"
                        ))
                    }
                    None => bad(self),
                }
            }
            Typed::Boolean(b) => match parse::parse_bool(value) {
                Some(v) => {
                    b.append_value(v);
                    Ok(())
                }
                None => bad(self),
            },
        }
    }

    /// No value: null, or the empty string for an optional key column (keys are never null).
    fn append_null(&mut self, plan: &ColumnPlan) {
        match self {
            Typed::Text(b) if plan.is_key => b.append_value(""),
            Typed::Text(b) => b.append_null(),
            Typed::Integer(b) => b.append_null(),
            Typed::Decimal(b) => b.append_null(),
            Typed::Date(b) => b.append_null(),
            Typed::Timestamp(b) => b.append_null(),
            Typed::Boolean(b) => b.append_null(),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Typed::Text(mut b) => Arc::new(b.finish()),
            Typed::Integer(mut b) => Arc::new(b.finish()),
            Typed::Decimal(mut b) => Arc::new(b.finish()),
            Typed::Date(mut b) => Arc::new(b.finish()),
            Typed::Timestamp(mut b) => Arc::new(b.finish()),
            Typed::Boolean(mut b) => Arc::new(b.finish()),
        }
    }
}
