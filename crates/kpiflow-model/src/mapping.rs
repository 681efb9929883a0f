//! Mapping files: how an export's columns become a canonical table's columns.
//!
//! A mapping is TOML, kept next to the exports it describes. Every key is optional; a file whose
//! columns already have the canonical names needs no mapping at all. The built-in presets
//! (`kpiflow presets`) are mappings in this same language, so `kpiflow presets show NAME` prints
//! one to copy and adapt.
//!
//! ```toml
//! table = "deals"              # checked against `kpiflow import TABLE`; names the table otherwise
//! currency = "EUR"             # currency of money columns when the file has no currency column
//! timezone = "America/New_York" # for timestamps without an offset (default: the project's)
//! date_format = "%m/%d/%Y"     # chrono format of date columns, or a list tried in order
//! timestamp_format = ["%m/%d/%Y %H:%M", "%m/%d/%Y"]
//! delimiter = ";"              # CSV delimiter (default: detected from the header line)
//! encoding = "windows-1252"    # for files without a byte-order mark (default UTF-8; a BOM of
//!                              # UTF-8 or UTF-16 is always honoured)
//! sheet = "Deals"              # workbooks (.xlsx): the sheet to read (default: the first)
//! stream = "deals"             # JSON lines in a loader's envelope ({"stream", "data", ...},
//!                              # as Airbyte writes them): read this stream's `data` objects
//! ignore = ["Notes"]           # source columns to drop
//! ignore_unknown = false       # true: drop every column that is neither mapped nor canonical
//! allow_missing = false        # true: a mapped source column the file lacks leaves its
//!                              # canonical column empty (exports whose columns are optional)
//!
//! [preamble]                   # lines before the header
//! skip_lines = 2               # a count ...
//! header_match = ["Campaign", "Cost"] # ... or: the first line holding all these columns
//! comment = "#"                # lines starting with this are skipped anywhere
//! [preamble.capture]           # canonical column = regex over the preamble lines: the first
//! date = '^# Start date: (\d{8})$' # group of the last line matching is the value of every row
//!
//! [file_name.capture]         # canonical column = regex over the file's name (the same rule)
//! date = '(\d{4}-\d{2}-\d{2})'
//!
//! [rows]
//! drop = ['^Total', '^Grand Totals', '^©'] # a row with a field matching one of these is not
//!                              # data (totals, footers): dropped and counted
//! end_at_blank_line = false    # true: the table ends at its first blank line
//!
//! [numbers]
//! decimal = ","                # decimal separator, "." (default) or ","; the other one, spaces
//!                              # and apostrophes are thousands separators
//! null = ["--", "n/a"]         # values that mean "no value" (an empty field always does)
//!
//! [units]                      # canonical column = unit of the source values
//! amount = "cents"             # cents (÷ 100), micros (÷ 1,000,000), percent (÷ 100)
//!
//! [columns]                    # canonical column = "source column", or alternatives in order
//! deal_id = "Record ID"
//! created_at = ["Create Date", "Created Date"]
//! amount = "Amount ({currency})" # {currency}: the header names the file's currency
//!
//! [sums]                       # canonical column = the sum of several source columns
//! bounced = ["Hard bounces", "Soft bounces"]
//!
//! [split."Source / Medium"]    # one source column into several canonical columns
//! separator = " / "
//! columns = ["utm_source", "utm_medium"]
//!
//! [constants]                  # canonical column = value for every row
//! pipeline = "sales"
//!
//! [defaults]                   # canonical column = value where the file's field is empty
//! clicks = "0"                 # (only where the vendor writes nothing for zero)
//!
//! [formats]                    # per-column parse format (or list)
//! closed_at = "%d.%m.%Y"
//!
//! [values.status]              # value maps: source value = canonical value
//! "Closed Won" = "won"
//! "Closed Lost" = "lost"
//! "*" = "open"                 # every value not listed (default: it passes unchanged)
//!
//! [hints]                      # canonical column = advice shown when the file lacks it
//! created_at = "add the Create Date column to the view before exporting"
//!
//! [stages]                     # wide export: one date column per stage → stage_changes
//! entity_type = "contact"      # contact, account or deal
//! lead = "Became a Lead Date"
//! mql = ["Became a Marketing Qualified Lead Date", 'Date entered "MQL (Lifecycle Stage Pipeline)"']
//! ```
//!
//! Parsed, then resolved against the target table before any row is read: unknown canonical names
//! get a "did you mean", bad formats, currencies, encodings and patterns are refused with the line
//! they are on. A `[preset]` section (the metadata of a built-in preset) is allowed and ignored
//! here, so a preset printed by `kpiflow presets show` is a mapping as it stands.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use crate::schema::{ColumnType, ENTITY_TYPES, Table, UnknownName};
use crate::toml_span::TomlError;

/// A validated mapping for one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    /// Where the mapping came from, for messages.
    pub file: String,
    pub currency: Option<String>,
    pub timezone: Option<Tz>,
    /// Formats of date and month columns, tried in order (empty: ISO 8601).
    pub date_formats: Vec<String>,
    /// Formats of timestamp columns, tried in order (empty: ISO 8601 / RFC 3339).
    pub timestamp_formats: Vec<String>,
    pub delimiter: Option<u8>,
    /// The encoding of files without a byte-order mark; `None`: UTF-8.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub sheet: Option<String>,
    pub stream: Option<String>,
    pub preamble: Preamble,
    /// Canonical column → regular expression over the file's name, one capture group: the
    /// value of every row (dates in exports named `…-2026-03-03.csv`).
    pub file_name_captures: BTreeMap<String, String>,
    pub rows: RowRules,
    pub numbers: NumberStyle,
    /// Canonical column → unit of its source values.
    pub units: BTreeMap<String, Unit>,
    /// Canonical column → source column names, the first one the file has wins. A name may
    /// hold `{currency}`, which matches an ISO 4217 code and makes it the file's currency.
    pub columns: BTreeMap<String, Vec<String>>,
    /// Canonical column → source columns summed.
    pub sums: BTreeMap<String, Vec<String>>,
    /// Source columns split into several canonical columns.
    pub splits: Vec<Split>,
    /// Canonical column → raw value used on every row.
    pub constants: BTreeMap<String, String>,
    /// Canonical column → raw value used where the file's field is empty (a vendor that writes
    /// nothing for zero).
    pub defaults: BTreeMap<String, String>,
    /// Canonical column → chrono formats for that column, tried in order.
    pub formats: BTreeMap<String, Vec<String>>,
    /// Canonical column → (source value → canonical value). Values not listed pass unchanged.
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Canonical column → advice added to the error when the file lacks that column.
    pub hints: BTreeMap<String, String>,
    /// Source columns dropped on purpose.
    pub ignore: Vec<String>,
    pub ignore_unknown: bool,
    pub allow_missing: bool,
    pub stages: Option<StageMapping>,
}

/// The lines before a file's header (see the module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Preamble {
    pub skip_lines: usize,
    pub header_match: Vec<String>,
    pub comment: Option<String>,
    /// Canonical column → regular expression with one capture group (checked when parsed).
    pub captures: BTreeMap<String, String>,
}

/// Rows that are not data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowRules {
    /// Regular expressions (checked when parsed); a row with a field matching one is dropped.
    pub drop: Vec<String>,
    pub end_at_blank_line: bool,
}

/// How numbers are written in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberStyle {
    /// `b'.'` or `b','`.
    pub decimal: u8,
    /// Values that mean "no value", lower-cased and trimmed.
    pub null: Vec<String>,
}

impl Default for NumberStyle {
    fn default() -> NumberStyle {
        NumberStyle { decimal: b'.', null: Vec::new() }
    }
}

impl NumberStyle {
    /// Whether `value` (trimmed) is one of the file's "no value" markers.
    pub fn is_null(&self, value: &str) -> bool {
        !self.null.is_empty() && self.null.iter().any(|n| value.trim().eq_ignore_ascii_case(n))
    }
}

/// The unit source values of a numeric column are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Hundredths (Stripe, ChartMogul amounts).
    Cents,
    /// Millionths (Google Ads API `cost_micros`).
    Micros,
    /// Percentages: `12.5` is 0.125.
    Percent,
}

impl Unit {
    pub const NAMES: [&'static str; 3] = ["cents", "micros", "percent"];

    pub fn parse(name: &str) -> Option<Unit> {
        match name {
            "cents" => Some(Unit::Cents),
            "micros" => Some(Unit::Micros),
            "percent" => Some(Unit::Percent),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Unit::Cents => "cents",
            Unit::Micros => "micros",
            Unit::Percent => "percent",
        }
    }

    /// The source value in the canonical unit.
    pub fn apply(self, v: f64) -> f64 {
        match self {
            Unit::Cents | Unit::Percent => v / 100.0,
            Unit::Micros => v / 1_000_000.0,
        }
    }
}

/// One source column split into several canonical columns at a separator.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub source: String,
    pub separator: String,
    /// Canonical columns, in the order of the parts; the last takes the rest of the value.
    pub columns: Vec<String>,
}

/// A wide export's stage-date columns, turned into `stage_changes` rows.
#[derive(Debug, Clone, PartialEq)]
pub struct StageMapping {
    /// contact, account or deal.
    pub entity_type: String,
    /// The canonical column (after mapping) whose value is the entity id; default: the table's
    /// key when it is a single column.
    pub id_column: String,
    /// Stage name → source columns holding the date the stage was entered (the first the file
    /// has wins).
    pub columns: BTreeMap<String, Vec<String>>,
    /// Parse formats of the stage dates (default: the mapping's timestamp formats, else ISO).
    pub formats: Vec<String>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    /// A built-in preset's metadata; read by the preset registry, ignored here.
    #[serde(default, rename = "preset")]
    _preset: Option<toml::Value>,
    table: Option<Spanned<String>>,
    currency: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    date_format: Option<Spanned<OneOrMany>>,
    timestamp_format: Option<Spanned<OneOrMany>>,
    delimiter: Option<Spanned<String>>,
    encoding: Option<Spanned<String>>,
    sheet: Option<String>,
    stream: Option<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    ignore_unknown: bool,
    #[serde(default)]
    allow_missing: bool,
    preamble: Option<RawPreamble>,
    file_name: Option<RawFileName>,
    rows: Option<RawRows>,
    numbers: Option<RawNumbers>,
    #[serde(default)]
    units: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    columns: BTreeMap<Spanned<String>, OneOrMany>,
    #[serde(default)]
    sums: BTreeMap<Spanned<String>, Vec<String>>,
    #[serde(default)]
    split: BTreeMap<Spanned<String>, RawSplit>,
    #[serde(default)]
    constants: BTreeMap<Spanned<String>, toml::Value>,
    #[serde(default)]
    defaults: BTreeMap<Spanned<String>, toml::Value>,
    #[serde(default)]
    formats: BTreeMap<Spanned<String>, Spanned<OneOrMany>>,
    #[serde(default)]
    values: BTreeMap<Spanned<String>, BTreeMap<String, String>>,
    #[serde(default)]
    hints: BTreeMap<Spanned<String>, String>,
    stages: Option<Spanned<BTreeMap<Spanned<String>, Spanned<OneOrMany>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPreamble {
    #[serde(default)]
    skip_lines: usize,
    #[serde(default)]
    header_match: Vec<String>,
    comment: Option<String>,
    #[serde(default)]
    capture: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFileName {
    #[serde(default)]
    capture: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRows {
    #[serde(default)]
    drop: Vec<Spanned<String>>,
    #[serde(default)]
    end_at_blank_line: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNumbers {
    decimal: Option<Spanned<String>>,
    #[serde(default)]
    null: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSplit {
    separator: String,
    columns: Vec<Spanned<String>>,
}

/// Records that a canonical column gets its values from a section (one section per column).
type Take<'a> = dyn FnMut(&Spanned<String>, &'static str) -> Result<(), TomlError> + 'a;

/// Only the `table` key, to learn which table a mapping is for before parsing it whole.
#[derive(Debug, Deserialize)]
struct TableOnly {
    table: Option<String>,
}

impl Mapping {
    /// The table a mapping text names in its `table` key, if any (a syntax error is reported
    /// here too, with its line).
    pub fn declared_table(text: &str, file: &str) -> Result<Option<String>, TomlError> {
        let t: TableOnly = toml::from_str(text).map_err(|e| TomlError::from_de(file, text, &e))?;
        Ok(t.table)
    }

    /// Parses mapping text and resolves it against `table`.
    pub fn parse(text: &str, file: &str, table: &Table) -> Result<Mapping, TomlError> {
        let raw: RawMapping =
            toml::from_str(text).map_err(|e| TomlError::from_de(file, text, &e))?;
        let at = |span: std::ops::Range<usize>, key: String, msg: String| {
            TomlError::at(file, text, span, key, msg)
        };
        let column = |name: &Spanned<String>, section: &str| {
            table.resolve_column(name.get_ref()).map_err(|e: UnknownName| {
                at(
                    name.span(),
                    format!("{section}.{}", name.get_ref()),
                    format!("not a column of `{}`: {e}", table.name),
                )
            })
        };
        let regex = |pattern: &Spanned<String>, key: String| {
            regex_syntax::Parser::new().parse(pattern.get_ref()).map(|_| ()).map_err(|e| {
                // The parser's message spans lines (pattern, caret, error): keep the error.
                let text = e.to_string();
                let why = text.lines().last().unwrap_or_default().trim_start_matches("error: ");
                at(pattern.span(), key, format!("not a valid regular expression ({why})"))
            })
        };

        if let Some(t) = &raw.table
            && t.get_ref() != table.name
        {
            return Err(at(
                t.span(),
                "table".into(),
                format!("this mapping is for `{}`, not `{}`", t.get_ref(), table.name),
            ));
        }
        let currency = match raw.currency {
            None => None,
            Some(c) => Some(crate::parse::parse_currency(c.get_ref()).ok_or_else(|| {
                at(
                    c.span(),
                    "currency".into(),
                    format!("`{}` is not an ISO 4217 currency code", c.get_ref()),
                )
            })?),
        };
        let timezone = match raw.timezone {
            None => None,
            Some(z) => Some(z.get_ref().parse::<Tz>().map_err(|_| {
                at(
                    z.span(),
                    "timezone".into(),
                    format!("`{}` is not an IANA timezone such as Europe/Berlin", z.get_ref()),
                )
            })?),
        };
        let check_formats = |f: Option<Spanned<OneOrMany>>, key: &str| -> Result<_, TomlError> {
            let Some(f) = f else { return Ok(Vec::new()) };
            let span = f.span();
            let formats = f.into_inner().into_vec();
            if formats.is_empty() {
                return Err(at(span, key.into(), "name at least one format".into()));
            }
            for one in &formats {
                if !crate::parse::is_valid_format(one) {
                    return Err(at(
                        span,
                        key.into(),
                        format!("`{one}` is not a valid chrono format such as %Y-%m-%d"),
                    ));
                }
            }
            Ok(formats)
        };
        let date_formats = check_formats(raw.date_format, "date_format")?;
        let timestamp_formats = check_formats(raw.timestamp_format, "timestamp_format")?;
        let delimiter = match raw.delimiter {
            None => None,
            Some(d) => {
                let v = if d.get_ref() == "\\t" { "\t" } else { d.get_ref().as_str() };
                match v.as_bytes() {
                    [b] if v.is_ascii() => Some(*b),
                    _ => {
                        return Err(at(
                            d.span(),
                            "delimiter".into(),
                            "expected one ASCII character such as \",\", \";\" or \"\\t\"".into(),
                        ));
                    }
                }
            }
        };
        let encoding = match raw.encoding {
            None => None,
            Some(e) => {
                Some(encoding_rs::Encoding::for_label(e.get_ref().as_bytes()).ok_or_else(|| {
                    at(
                        e.span(),
                        "encoding".into(),
                        format!(
                            "`{}` is not an encoding; expected utf-8, utf-16le, utf-16be, \
                             windows-1252 or another WHATWG label",
                            e.get_ref()
                        ),
                    )
                })?)
            }
        };

        let mut columns = BTreeMap::new();
        for (name, source) in raw.columns {
            column(&name, "columns")?;
            let sources = source.into_vec();
            if sources.is_empty() {
                return Err(at(
                    name.span(),
                    format!("columns.{}", name.get_ref()),
                    "name at least one source column".into(),
                ));
            }
            for s in &sources {
                if s.matches("{currency}").count() > 1 {
                    return Err(at(
                        name.span(),
                        format!("columns.{}", name.get_ref()),
                        format!("`{s}` holds {{currency}} more than once"),
                    ));
                }
            }
            columns.insert(name.into_inner(), sources);
        }
        // A canonical column gets its values from one place only.
        let mut taken: BTreeMap<String, &'static str> =
            columns.keys().map(|k| (k.clone(), "[columns]")).collect();
        let mut take = |name: &Spanned<String>, section: &'static str| match taken
            .insert(name.get_ref().clone(), section)
        {
            Some(other) => Err(at(
                name.span(),
                format!("{}.{}", section.trim_matches(['[', ']']), name.get_ref()),
                format!("is also given in {other}; keep one"),
            )),
            None => Ok(()),
        };

        let mut constants = BTreeMap::new();
        for (name, value) in raw.constants {
            column(&name, "constants")?;
            take(&name, "[constants]")?;
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Datetime(d) => d.to_string(),
                other => {
                    return Err(at(
                        name.span(),
                        format!("constants.{}", name.get_ref()),
                        format!(
                            "expected a string, number, boolean or date, found {}",
                            other.type_str()
                        ),
                    ));
                }
            };
            constants.insert(name.into_inner(), value);
        }
        let mut defaults = BTreeMap::new();
        for (name, value) in raw.defaults {
            column(&name, "defaults")?;
            if constants.contains_key(name.get_ref()) {
                return Err(at(
                    name.span(),
                    format!("defaults.{}", name.get_ref()),
                    "is also in [constants], which gives every row its value; keep one".into(),
                ));
            }
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(at(
                        name.span(),
                        format!("defaults.{}", name.get_ref()),
                        format!("expected a string, number or boolean, found {}", other.type_str()),
                    ));
                }
            };
            defaults.insert(name.into_inner(), value);
        }
        let mut sums = BTreeMap::new();
        for (name, parts) in raw.sums {
            let col = column(&name, "sums")?;
            take(&name, "[sums]")?;
            if !col.ty.is_numeric() {
                return Err(at(
                    name.span(),
                    format!("sums.{}", name.get_ref()),
                    format!("`{}` is {}; sums apply to numbers", col.name, col.ty),
                ));
            }
            if parts.len() < 2 {
                return Err(at(
                    name.span(),
                    format!("sums.{}", name.get_ref()),
                    "name two or more source columns to add up".into(),
                ));
            }
            sums.insert(name.into_inner(), parts);
        }
        let mut splits = Vec::new();
        for (source, split) in raw.split {
            if split.separator.is_empty() {
                return Err(at(
                    source.span(),
                    format!("split.{}", source.get_ref()),
                    "the separator is empty".into(),
                ));
            }
            if split.columns.len() < 2 {
                return Err(at(
                    source.span(),
                    format!("split.{}", source.get_ref()),
                    "name two or more canonical columns for the parts".into(),
                ));
            }
            for c in &split.columns {
                column(c, "split.columns")?;
                take(c, "[split]")?;
            }
            splits.push(Split {
                source: source.into_inner(),
                separator: split.separator,
                columns: split.columns.into_iter().map(Spanned::into_inner).collect(),
            });
        }
        // A pattern whose one capture group is a canonical column's value.
        let capture = |name: &Spanned<String>,
                       pattern: &Spanned<String>,
                       key: String,
                       section: &'static str,
                       take: &mut Take<'_>|
         -> Result<(), TomlError> {
            column(name, section.trim_matches(['[', ']']))?;
            take(name, section)?;
            regex(pattern, key.clone())?;
            let groups = regex_syntax::Parser::new()
                .parse(pattern.get_ref())
                .map(|h| h.properties().explicit_captures_len())
                .unwrap_or_default();
            if groups != 1 {
                return Err(at(
                    pattern.span(),
                    key,
                    format!(
                        "needs exactly one capture group ( … ) around the value; it has {groups}"
                    ),
                ));
            }
            Ok(())
        };
        let mut preamble = Preamble::default();
        if let Some(p) = raw.preamble {
            preamble.skip_lines = p.skip_lines;
            preamble.header_match = p.header_match;
            preamble.comment = p.comment.filter(|c| !c.is_empty());
            for (name, pattern) in p.capture {
                let key = format!("preamble.capture.{}", name.get_ref());
                capture(&name, &pattern, key, "[preamble.capture]", &mut take)?;
                preamble.captures.insert(name.into_inner(), pattern.into_inner());
            }
        }
        let mut file_name_captures = BTreeMap::new();
        if let Some(f) = raw.file_name {
            for (name, pattern) in f.capture {
                let key = format!("file_name.capture.{}", name.get_ref());
                capture(&name, &pattern, key, "[file_name.capture]", &mut take)?;
                file_name_captures.insert(name.into_inner(), pattern.into_inner());
            }
        }
        let mut rows = RowRules::default();
        if let Some(r) = raw.rows {
            for (i, pattern) in r.drop.iter().enumerate() {
                regex(pattern, format!("rows.drop[{i}]"))?;
            }
            rows.drop = r.drop.into_iter().map(Spanned::into_inner).collect();
            rows.end_at_blank_line = r.end_at_blank_line;
        }
        let mut numbers = NumberStyle::default();
        if let Some(n) = raw.numbers {
            if let Some(d) = n.decimal {
                numbers.decimal = match d.get_ref().as_str() {
                    "." => b'.',
                    "," => b',',
                    _ => {
                        return Err(at(
                            d.span(),
                            "numbers.decimal".into(),
                            "expected \".\" or \",\"".into(),
                        ));
                    }
                };
            }
            numbers.null = n
                .null
                .into_iter()
                .map(|v| v.trim().to_lowercase())
                .filter(|v| !v.is_empty())
                .collect();
        }
        let mut units = BTreeMap::new();
        for (name, unit) in raw.units {
            let col = column(&name, "units")?;
            if !col.ty.is_numeric() {
                return Err(at(
                    name.span(),
                    format!("units.{}", name.get_ref()),
                    format!("`{}` is {}; units apply to numbers", col.name, col.ty),
                ));
            }
            let parsed = Unit::parse(unit.get_ref()).ok_or_else(|| {
                at(
                    unit.span(),
                    format!("units.{}", name.get_ref()),
                    format!(
                        "`{}` is not a unit; expected one of {}",
                        unit.get_ref(),
                        Unit::NAMES.join(", ")
                    ),
                )
            })?;
            // A count divided by a unit is no longer whole.
            if col.ty == ColumnType::Integer {
                return Err(at(
                    unit.span(),
                    format!("units.{}", name.get_ref()),
                    format!("`{}` holds whole numbers; units apply to amounts", col.name),
                ));
            }
            units.insert(name.into_inner(), parsed);
        }
        let mut formats = BTreeMap::new();
        for (name, format) in raw.formats {
            let col = column(&name, "formats")?;
            if !col.ty.is_temporal() {
                return Err(at(
                    name.span(),
                    format!("formats.{}", name.get_ref()),
                    format!("`{}` is {}, formats apply to dates and timestamps", col.name, col.ty),
                ));
            }
            let key = format!("formats.{}", name.get_ref());
            let f = check_formats(Some(format), &key)?;
            formats.insert(name.into_inner(), f);
        }
        let mut values = BTreeMap::new();
        for (name, map) in raw.values {
            column(&name, "values")?;
            values.insert(name.into_inner(), map);
        }
        let mut hints = BTreeMap::new();
        for (name, hint) in raw.hints {
            column(&name, "hints")?;
            hints.insert(name.into_inner(), hint);
        }

        let stages = match raw.stages {
            None => None,
            Some(section) => {
                let span = section.span();
                let mut entries = section.into_inner();
                let mut take = |key: &str| {
                    let k = entries.keys().find(|k| k.get_ref() == key).cloned();
                    k.and_then(|k| entries.remove(&k))
                };
                let single = |v: Spanned<OneOrMany>, key: &str| -> Result<Spanned<String>, _> {
                    let span = v.span();
                    match v.into_inner() {
                        OneOrMany::One(s) => Ok(Spanned::new(span, s)),
                        OneOrMany::Many(_) => {
                            Err(at(span, format!("stages.{key}"), "expected one name".into()))
                        }
                    }
                };
                let entity_type = take("entity_type").ok_or_else(|| {
                    at(
                        span.clone(),
                        "stages.entity_type".into(),
                        format!("missing; expected one of {}", ENTITY_TYPES.join(", ")),
                    )
                })?;
                let entity_type = single(entity_type, "entity_type")?;
                if !ENTITY_TYPES.contains(&entity_type.get_ref().as_str()) {
                    return Err(at(
                        entity_type.span(),
                        "stages.entity_type".into(),
                        format!(
                            "`{}` is not an entity type; expected one of {}",
                            entity_type.get_ref(),
                            ENTITY_TYPES.join(", ")
                        ),
                    ));
                }
                let id_column = match take("id_column") {
                    Some(c) => {
                        let c = single(c, "id_column")?;
                        column(&c, "stages.id_column")?.name.to_owned()
                    }
                    None => match table.key {
                        [single] => (*single).to_owned(),
                        _ => {
                            return Err(at(
                                span,
                                "stages.id_column".into(),
                                format!("`{}` has a composite key; name the id column", table.name),
                            ));
                        }
                    },
                };
                let formats = check_formats(take("format"), "stages.format")?;
                let columns: BTreeMap<String, Vec<String>> = entries
                    .into_iter()
                    .map(|(k, v)| (k.into_inner().to_lowercase(), v.into_inner().into_vec()))
                    .collect();
                if columns.is_empty() {
                    return Err(at(
                        span,
                        "stages".into(),
                        "name at least one stage: stage = \"source date column\"".into(),
                    ));
                }
                Some(StageMapping {
                    entity_type: entity_type.into_inner(),
                    id_column,
                    columns,
                    formats,
                })
            }
        };

        Ok(Mapping {
            file: file.to_owned(),
            currency,
            timezone,
            date_formats,
            timestamp_formats,
            delimiter,
            encoding,
            sheet: raw.sheet,
            stream: raw.stream,
            preamble,
            file_name_captures,
            rows,
            numbers,
            units,
            columns,
            sums,
            splits,
            constants,
            defaults,
            formats,
            values,
            hints,
            ignore: raw.ignore,
            ignore_unknown: raw.ignore_unknown,
            allow_missing: raw.allow_missing,
            stages,
        })
    }

    /// The parse formats for a canonical column: its own, else the mapping's defaults for its
    /// type (empty: ISO 8601).
    pub fn formats_for(&self, column: &crate::schema::Column) -> &[String] {
        use crate::schema::ColumnType::{Date, Month, Timestamp};
        match self.formats.get(column.name) {
            Some(f) => f,
            None => match column.ty {
                Date | Month => &self.date_formats,
                Timestamp => &self.timestamp_formats,
                _ => &[],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{AD_SPEND, CONTACTS, DEALS};

    const DEALS_MAPPING: &str = r#"
table = "deals"
currency = "usd"
[columns]
deal_id = "opportunity_id"
created_at = "engage_date"
status = "deal_stage"
stage = "deal_stage"
[constants]
pipeline = "sales"
[values.status]
Won = "won"
Lost = "lost"
Engaging = "open"
"#;

    #[test]
    fn a_mapping_resolves_against_its_table() {
        let m = Mapping::parse(DEALS_MAPPING, "m.toml", &DEALS).unwrap();
        assert_eq!(m.currency.as_deref(), Some("USD"));
        assert_eq!(m.columns["status"], ["deal_stage"]);
        assert_eq!(m.values["status"]["Won"], "won");
        assert_eq!(m.constants["pipeline"], "sales");
        assert_eq!(
            Mapping::declared_table(DEALS_MAPPING, "m.toml").unwrap().as_deref(),
            Some("deals")
        );
    }

    #[test]
    fn wide_stage_columns() {
        let text = r#"
[columns]
contact_id = "Record ID"
created_at = "Create Date"
[stages]
entity_type = "contact"
mql = ["Became a Marketing Qualified Lead Date", 'Date entered "MQL (Lifecycle Stage Pipeline)"']
SQL = "Became a Sales Qualified Lead Date"
"#;
        let m = Mapping::parse(text, "m.toml", &CONTACTS).unwrap();
        let stages = m.stages.unwrap();
        assert_eq!(stages.id_column, "contact_id");
        assert_eq!(stages.columns.keys().collect::<Vec<_>>(), ["mql", "sql"]);
        assert_eq!(stages.columns["mql"].len(), 2);
    }

    #[test]
    fn the_language_of_real_exports() {
        let text = r##"
encoding = "UTF-16LE"
date_format = ["%b %d, %Y", "%Y-%m-%d"]
allow_missing = true
ignore_unknown = true
[preset]
name = "anything: read by the registry, not here"
[preamble]
skip_lines = 1
header_match = ["Campaign", "Day"]
comment = "#"
[preamble.capture]
region = '^Region: (.+)$'
[file_name.capture]
business_unit = '^(\w+)-'
[rows]
drop = ['^Total:', '^©']
end_at_blank_line = true
[numbers]
decimal = ","
null = [" -- ", "N/A"]
[units]
cost = "micros"
[columns]
date = "Day"
campaign = ["Campaign", "Campaign name"]
cost = "Cost ({currency})"
[sums]
conversions = ["Leads", "Signups"]
[split."Ad group / Keyword"]
separator = " / "
columns = ["ad_group", "keyword"]
[hints]
date = "add the Day segment"
"##;
        let m = Mapping::parse(text, "m.toml", &AD_SPEND).unwrap();
        assert_eq!(m.encoding, Some(encoding_rs::UTF_16LE));
        assert_eq!(m.date_formats, ["%b %d, %Y", "%Y-%m-%d"]);
        assert_eq!(m.preamble.header_match, ["Campaign", "Day"]);
        assert_eq!(m.preamble.captures["region"], "^Region: (.+)$");
        assert_eq!(m.file_name_captures["business_unit"], "^(\\w+)-");
        assert_eq!(m.rows.drop.len(), 2);
        assert!(m.rows.end_at_blank_line);
        assert_eq!(m.numbers.decimal, b',');
        assert!(m.numbers.is_null("n/a") && m.numbers.is_null(" --") && !m.numbers.is_null("0"));
        assert_eq!(m.units["cost"], Unit::Micros);
        assert_eq!(m.columns["campaign"], ["Campaign", "Campaign name"]);
        assert_eq!(m.sums["conversions"], ["Leads", "Signups"]);
        assert_eq!(m.splits[0].columns, ["ad_group", "keyword"]);
        assert_eq!(m.hints["date"], "add the Day segment");
        assert!(m.allow_missing);
    }

    #[test]
    fn errors_point_at_the_line() {
        let cases = [
            DEALS_MAPPING.replace("created_at =", "creatd_at ="),
            DEALS_MAPPING.replace("table = \"deals\"", "table = \"contacts\""),
            DEALS_MAPPING.replace("currency = \"usd\"", "currency = \"dollars\""),
            DEALS_MAPPING.replace("[constants]", "[constants]\ndeal_id = \"x\""),
            DEALS_MAPPING.replace("[columns]", "colums = 1\n[columns]"),
            format!("{DEALS_MAPPING}\n[formats]\namount = \"%Y\""),
            format!("{DEALS_MAPPING}\n[stages]\nentity_type = \"person\""),
            DEALS_MAPPING.replace("currency = \"usd\"", "encoding = \"klingon\""),
            format!("{DEALS_MAPPING}\n[rows]\ndrop = ['^Total(']"),
            format!("{DEALS_MAPPING}\n[preamble.capture]\nclosed_at = '^Closed: .*$'"),
            format!("{DEALS_MAPPING}\n[units]\namount = \"pennies\""),
            format!("{DEALS_MAPPING}\n[numbers]\ndecimal = \";\""),
            format!("{DEALS_MAPPING}\n[sums]\nowner = [\"a\", \"b\"]"),
            format!(
                "{DEALS_MAPPING}\n[split.\"A / B\"]\nseparator = \" / \"\ncolumns = [\"region\", \"stage\"]"
            ),
        ];
        let messages: Vec<String> = cases
            .iter()
            .map(|c| Mapping::parse(c, "m.toml", &DEALS).unwrap_err().to_string())
            .collect();
        insta::assert_snapshot!(messages.join("\n"));
    }
}
