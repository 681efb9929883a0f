//! Rendering of tabular results as a terminal table, CSV, JSON or Markdown.
//!
//! In CSV and JSON, numbers are plain numbers and a missing value is empty (CSV) or null (JSON);
//! decoration belongs to the table and Markdown formats only (DESIGN §8).

use std::io::Write;

use comfy_table::{Cell, CellAlignment, ContentArrangement, presets};
use serde_json::Value;

use crate::cli::OutputFormat;

/// Rows of named columns.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    pub fn new(columns: &[&str]) -> Rows {
        Rows { columns: columns.iter().map(|c| (*c).to_owned()).collect(), rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    pub fn render(&self, format: OutputFormat, out: &mut dyn Write) -> anyhow::Result<()> {
        match format {
            OutputFormat::Table => {
                let mut t = comfy_table::Table::new();
                t.load_style(presets::UTF8_FULL_CONDENSED)
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    .set_header(self.columns.iter());
                for row in &self.rows {
                    t.add_row(row.iter().map(|v| {
                        let cell = Cell::new(display(v));
                        if v.is_number() { cell.set_alignment(CellAlignment::Right) } else { cell }
                    }));
                }
                writeln!(out, "{t}")?;
            }
            OutputFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&self.columns)?;
                for row in &self.rows {
                    w.write_record(row.iter().map(plain))?;
                }
                w.flush()?;
            }
            OutputFormat::Json => {
                let objects: Vec<Value> = self
                    .rows
                    .iter()
                    .map(|row| {
                        Value::Object(
                            self.columns
                                .iter()
                                .zip(row)
                                .map(|(c, v)| (c.clone(), v.clone()))
                                .collect(),
                        )
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut *out, &objects)?;
                writeln!(out)?;
            }
            OutputFormat::Markdown => {
                writeln!(out, "| {} |", self.columns.join(" | "))?;
                writeln!(out, "|{}", "---|".repeat(self.columns.len()))?;
                for row in &self.rows {
                    let cells: Vec<String> =
                        row.iter().map(|v| display(v).replace('|', "\\|")).collect();
                    writeln!(out, "| {} |", cells.join(" | "))?;
                }
            }
        }
        Ok(())
    }
}

/// A value for people: missing is "—".
fn display(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value for machines: missing is empty.
fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Rows {
        let mut r = Rows::new(&["table", "rows", "from"]);
        r.push(vec![json!("deals"), json!(3), Value::Null]);
        r.push(vec![json!("a|b"), json!(0.5), json!("2024-01-01")]);
        r
    }

    fn render(format: OutputFormat) -> String {
        let mut out = Vec::new();
        sample().render(format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn machine_formats_keep_missing_values_empty() {
        assert_eq!(render(OutputFormat::Csv), "table,rows,from\ndeals,3,\na|b,0.5,2024-01-01\n");
        assert!(render(OutputFormat::Json).contains("\"from\": null"));
        assert!(render(OutputFormat::Markdown).contains("| a\\|b | 0.5 | 2024-01-01 |"));
        assert!(render(OutputFormat::Table).contains("—"));
    }
}
