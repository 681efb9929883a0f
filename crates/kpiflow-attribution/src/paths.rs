//! Aggregated paths as input: the ChannelAttribution format.
//!
//! One row per path: the channels joined by `>` (`eta > iota > alpha`), the conversions at its
//! end, optionally their value and the number of journeys along it that did not convert:
//!
//! ```text
//! path;total_conversions;total_conversion_value;total_null
//! eta > iota > alpha > eta;1;0.244;3
//! ```
//!
//! The delimiter (`;`, `,`, tab or `|`) is detected from the header; column names are matched
//! case-insensitively with a few aliases (`conversions`, `value`, `null`...); other columns are
//! ignored. The same path on several rows is summed (ChannelAttribution's own example file has
//! 10,000 rows but 5,408 distinct paths).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::{AttributionError, Journeys};

/// Accepted names of each column, the first being ChannelAttribution's.
const PATH: &[&str] = &["path", "paths", "channel_path"];
const CONVERSIONS: &[&str] = &["total_conversions", "conversions", "total_conversion", "conv"];
const VALUE: &[&str] =
    &["total_conversion_value", "conversion_value", "value", "total_value", "revenue"];
const NULLS: &[&str] = &["total_null", "total_nulls", "null", "nulls", "non_conversions"];

/// Paths read from a file, summed by path.
#[derive(Debug)]
pub struct PathsFile {
    pub journeys: Journeys,
    /// Data rows read.
    pub rows: u64,
    /// Whether the file had a value column / a non-conversion column.
    pub has_value: bool,
    pub has_nulls: bool,
}

/// Reads the paths file at `path`.
pub fn read_paths(path: &Path) -> Result<PathsFile, AttributionError> {
    let file = std::fs::File::open(path).map_err(|e| AttributionError::Paths {
        file: path.display().to_string(),
        message: format!("cannot open it: {e}"),
    })?;
    read_paths_from(file, &path.display().to_string())
}

/// Reads paths from `reader`; `name` is used in errors.
pub fn read_paths_from(mut reader: impl Read, name: &str) -> Result<PathsFile, AttributionError> {
    let fail = |message: String| AttributionError::Paths { file: name.to_owned(), message };
    let mut text = Vec::new();
    reader.read_to_end(&mut text).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let header_end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    let delimiter = detect_delimiter(&text[..header_end]);
    let mut csv =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(false).from_reader(text.as_slice());
    let headers = csv.headers().map_err(|e| fail(format!("cannot read the header: {e}")))?.clone();
    let names: Vec<String> = headers
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let find = |aliases: &[&str]| names.iter().position(|h| aliases.contains(&h.as_str()));
    let required = |aliases: &[&str]| {
        find(aliases).ok_or_else(|| {
            let hint = aliases
                .iter()
                .find_map(|a| {
                    kpiflow_model::suggest::did_you_mean(a, names.iter().map(String::as_str))
                })
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            fail(format!(
                "no `{}` column{hint}; the header is `{}` (delimiter `{}`)",
                aliases[0],
                names.join(&char::from(delimiter).to_string()),
                char::from(delimiter).escape_default()
            ))
        })
    };
    let path_col = required(PATH)?;
    let conv_col = required(CONVERSIONS)?;
    let value_col = find(VALUE);
    let null_col = find(NULLS);

    // Summed by path, in first-seen order so the output order is stable.
    let mut order: Vec<(Vec<String>, [f64; 3])> = Vec::new();
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    let mut rows = 0;
    for record in csv.records() {
        let record = record.map_err(|e| fail(format!("{e}")))?;
        rows += 1;
        let line = record.position().map_or(rows + 1, |p| p.line());
        let cell_error = |column: usize, message: String| AttributionError::PathsCell {
            file: name.to_owned(),
            line,
            column: headers.get(column).unwrap_or_default().to_owned(),
            message,
        };
        let raw_path = record.get(path_col).unwrap_or_default();
        let steps: Vec<String> = raw_path.split('>').map(|s| s.trim().to_owned()).collect();
        if steps.iter().any(String::is_empty) {
            return Err(cell_error(
                path_col,
                format!(
                    "`{raw_path}` has an empty step; expected channels joined by `>`, like `a > b > c`"
                ),
            ));
        }
        let number = |column: Option<usize>, nonnegative: bool| -> Result<f64, AttributionError> {
            let Some(column) = column else { return Ok(0.0) };
            let cell = record.get(column).unwrap_or_default().trim();
            if cell.is_empty() {
                return Ok(0.0);
            }
            match cell.parse::<f64>() {
                Ok(x) if x.is_finite() && (!nonnegative || x >= 0.0) => Ok(x),
                _ => Err(cell_error(
                    column,
                    format!(
                        "`{cell}` is not {}",
                        if nonnegative { "a number ≥ 0" } else { "a number" }
                    ),
                )),
            }
        };
        let figures =
            [number(Some(conv_col), true)?, number(value_col, true)?, number(null_col, true)?];
        if figures[1] > 0.0 && figures[0] == 0.0 {
            return Err(cell_error(
                value_col.unwrap_or(conv_col),
                format!(
                    "a value of {} with no conversions; value belongs to converting journeys",
                    figures[1]
                ),
            ));
        }
        match index.get(&steps) {
            Some(&i) => {
                for (sum, x) in order[i].1.iter_mut().zip(figures) {
                    *sum += x;
                }
            }
            None => {
                index.insert(steps.clone(), order.len());
                order.push((steps, figures));
            }
        }
    }
    let mut journeys = Journeys::new(false);
    for (steps, [conversions, value, nulls]) in &order {
        journeys.push_named(steps.iter().map(String::as_str), *conversions, *value, *nulls)?;
    }
    Ok(PathsFile { journeys, rows, has_value: value_col.is_some(), has_nulls: null_col.is_some() })
}

/// The delimiter that splits the header into the most fields (`;` wins ties, as in ChannelAttribution's files).
fn detect_delimiter(header: &[u8]) -> u8 {
    [b';', b',', b'\t', b'|']
        .into_iter()
        .max_by_key(|&d| (header.iter().filter(|&&b| b == d).count(), d == b';'))
        .unwrap_or(b';')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<PathsFile, AttributionError> {
        read_paths_from(text.as_bytes(), "paths.csv")
    }

    #[test]
    fn detects_the_delimiter_and_sums_repeated_paths() {
        let p = read("path;total_conversions;total_conversion_value;total_null\na > b;1;2.5;3\nc;0;0;1\na>b;2;1;0\n").unwrap();
        assert_eq!(p.rows, 3);
        assert_eq!(p.journeys.len(), 2);
        let first = p.journeys.get(0);
        assert_eq!((first.conversions, first.value, first.nulls), (3.0, 3.5, 3.0));
        assert_eq!(p.journeys.channels(), ["a", "b", "c"]);
        let p = read("Path,Conversions\n\"x > y\",4\n").unwrap();
        assert_eq!((p.has_value, p.has_nulls), (false, false));
        assert_eq!(p.journeys.get(0).channels, [0, 1]);
        let p = read("path\tconversions\tnull\nx\t1\t\n").unwrap();
        assert_eq!(p.journeys.get(0).nulls, 0.0);
    }

    #[test]
    fn errors_name_the_line_column_and_value() {
        let err = |t: &str| read(t).unwrap_err().to_string();
        assert_eq!(
            err("path;total_conversions\na > > b;1\n"),
            "paths.csv, line 2, column `total_conversions`: `a > > b` has an empty step; expected channels joined by `>`, like `a > b > c`"
                .replace("total_conversions`: `a", "path`: `a")
        );
        assert_eq!(
            err("path;total_conversions\na;-1\n"),
            "paths.csv, line 2, column `total_conversions`: `-1` is not a number ≥ 0"
        );
        assert!(
            err("path;conversionz\na;1\n")
                .contains("no `total_conversions` column (did you mean `conversionz`?)")
        );
        assert!(err("route;total_conversions\na;1\n").contains("no `path` column"));
    }
}
