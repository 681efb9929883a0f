//! Mapping files: how an export's columns become a canonical table's columns.
//!
//! A mapping is TOML, kept next to the exports it describes:
//!
//! ```toml
//! table = "deals"              # optional; checked against `kpiflow import TABLE`
//! currency = "EUR"             # currency of money columns when the file has no currency column
//! timezone = "America/New_York" # for timestamps without an offset (default: the project's)
//! date_format = "%m/%d/%Y"     # default chrono format of date columns (default: ISO 8601)
//! timestamp_format = "%m/%d/%Y %H:%M"
//! delimiter = ";"              # CSV delimiter (default: detected)
//! ignore = ["Notes"]           # source columns to drop
//! ignore_unknown = false       # true: drop every column that is neither mapped nor canonical
//!
//! [columns]                    # canonical column = "source column"
//! deal_id = "Record ID"
//! created_at = "Create Date"
//!
//! [constants]                  # canonical column = value for every row
//! pipeline = "sales"
//!
//! [formats]                    # per-column parse format
//! closed_at = "%d.%m.%Y"
//!
//! [values.status]              # value maps: source value = canonical value
//! "Closed Won" = "won"
//! "Closed Lost" = "lost"
//!
//! [stages]                     # wide export: one date column per stage → stage_changes
//! entity_type = "contact"      # contact, account or deal
//! lead = "Became a Lead Date"
//! mql = "Became a Marketing Qualified Lead Date"
//! ```
//!
//! Parsed, then resolved against the target table before any row is read: unknown canonical names
//! get a "did you mean", bad formats and currencies are refused with the line they are on.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use crate::schema::{ENTITY_TYPES, Table, UnknownName};
use crate::toml_span::TomlError;

/// A validated mapping for one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    /// Where the mapping came from, for messages.
    pub file: String,
    pub currency: Option<String>,
    pub timezone: Option<Tz>,
    pub date_format: Option<String>,
    pub timestamp_format: Option<String>,
    pub delimiter: Option<u8>,
    /// Canonical column → source column.
    pub columns: BTreeMap<String, String>,
    /// Canonical column → raw value used on every row.
    pub constants: BTreeMap<String, String>,
    /// Canonical column → chrono format for that column.
    pub formats: BTreeMap<String, String>,
    /// Canonical column → (source value → canonical value). Values not listed pass unchanged.
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Source columns dropped on purpose.
    pub ignore: Vec<String>,
    pub ignore_unknown: bool,
    pub stages: Option<StageMapping>,
}

/// A wide export's stage-date columns, turned into `stage_changes` rows.
#[derive(Debug, Clone, PartialEq)]
pub struct StageMapping {
    /// contact, account or deal.
    pub entity_type: String,
    /// The canonical column (after mapping) whose value is the entity id; default: the table's
    /// key when it is a single column.
    pub id_column: String,
    /// Stage name → source column holding the date the stage was entered, in file order of keys.
    pub columns: BTreeMap<String, String>,
    /// Parse format of the stage dates (default: the mapping's `timestamp_format`, else ISO).
    pub format: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    table: Option<Spanned<String>>,
    currency: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    date_format: Option<Spanned<String>>,
    timestamp_format: Option<Spanned<String>>,
    delimiter: Option<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    ignore_unknown: bool,
    #[serde(default)]
    columns: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    constants: BTreeMap<Spanned<String>, toml::Value>,
    #[serde(default)]
    formats: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    values: BTreeMap<Spanned<String>, BTreeMap<String, String>>,
    stages: Option<Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
}

impl Mapping {
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
        let check_format = |f: Option<Spanned<String>>, key: &str| -> Result<_, TomlError> {
            match f {
                None => Ok(None),
                Some(f) if crate::parse::is_valid_format(f.get_ref()) => Ok(Some(f.into_inner())),
                Some(f) => Err(at(
                    f.span(),
                    key.into(),
                    format!("`{}` is not a valid chrono format such as %Y-%m-%d", f.get_ref()),
                )),
            }
        };
        let date_format = check_format(raw.date_format, "date_format")?;
        let timestamp_format = check_format(raw.timestamp_format, "timestamp_format")?;
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

        let mut columns = BTreeMap::new();
        for (name, source) in raw.columns {
            column(&name, "columns")?;
            columns.insert(name.into_inner(), source);
        }
        let mut constants = BTreeMap::new();
        for (name, value) in raw.constants {
            column(&name, "constants")?;
            if columns.contains_key(name.get_ref()) {
                return Err(at(
                    name.span(),
                    format!("constants.{}", name.get_ref()),
                    "is also mapped from a source column in [columns]; keep one".into(),
                ));
            }
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
            let f = check_format(Some(format), &key)?.unwrap_or_default();
            formats.insert(name.into_inner(), f);
        }
        let mut values = BTreeMap::new();
        for (name, map) in raw.values {
            column(&name, "values")?;
            values.insert(name.into_inner(), map);
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
                let entity_type = take("entity_type").ok_or_else(|| {
                    at(
                        span.clone(),
                        "stages.entity_type".into(),
                        format!("missing; expected one of {}", ENTITY_TYPES.join(", ")),
                    )
                })?;
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
                    Some(c) => column(&c, "stages.id_column")?.name.to_owned(),
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
                let format = check_format(take("format"), "stages.format")?;
                let columns: BTreeMap<String, String> = entries
                    .into_iter()
                    .map(|(k, v)| (k.into_inner().to_lowercase(), v.into_inner()))
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
                    format,
                })
            }
        };

        Ok(Mapping {
            file: file.to_owned(),
            currency,
            timezone,
            date_format,
            timestamp_format,
            delimiter,
            columns,
            constants,
            formats,
            values,
            ignore: raw.ignore,
            ignore_unknown: raw.ignore_unknown,
            stages,
        })
    }

    /// The parse format for a canonical column: its own, else the mapping's default for its type.
    pub fn format_for(&self, column: &crate::schema::Column) -> Option<&str> {
        use crate::schema::ColumnType::{Date, Month, Timestamp};
        self.formats.get(column.name).map(String::as_str).or(match column.ty {
            Date | Month => self.date_format.as_deref(),
            Timestamp => self.timestamp_format.as_deref(),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CONTACTS, DEALS};

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
        assert_eq!(m.columns["status"], "deal_stage");
        assert_eq!(m.values["status"]["Won"], "won");
        assert_eq!(m.constants["pipeline"], "sales");
    }

    #[test]
    fn wide_stage_columns() {
        let text = r#"
[columns]
contact_id = "Record ID"
created_at = "Create Date"
[stages]
entity_type = "contact"
mql = "Became a Marketing Qualified Lead Date"
SQL = "Became a Sales Qualified Lead Date"
"#;
        let m = Mapping::parse(text, "m.toml", &CONTACTS).unwrap();
        let stages = m.stages.unwrap();
        assert_eq!(stages.id_column, "contact_id");
        assert_eq!(stages.columns.keys().collect::<Vec<_>>(), ["mql", "sql"]);
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
        ];
        let messages: Vec<String> = cases
            .iter()
            .map(|c| Mapping::parse(c, "m.toml", &DEALS).unwrap_err().to_string())
            .collect();
        insta::assert_snapshot!(messages.join("\n"));
    }
}
