//! JSON lines: one JSON object per line, read through the encoding layer ([`super::text`]).
//!
//! Nested objects are flattened: a leaf is a column named by its path joined with `.`
//! (`opens.unique_opens`, `recipients.list_name`), so the API records loaders dump read like a
//! flat export. The header is every path seen anywhere in the file, in the order first seen (a
//! first pass reads them; an object's keys come sorted, as serde_json keeps them; columns are
//! matched by name, so their order does not matter). Strings are taken trimmed,
//! numbers and booleans as their JSON text (`4100`, `99.99999999999996`), arrays as their JSON
//! text in one column; `null`, empty strings, empty arrays and empty objects are no value.
//!
//! With [`ReadOptions::stream`] the lines are a loader's envelope
//! (`{"stream": …, "data": {…}, "emitted_at": …}`, as Airbyte writes them): the rows are the
//! `data` objects of that stream's records, and the header comes from those alone; records of
//! other streams are dropped (counted in [`RawBatch::dropped`]).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use arrow::array::StringBuilder;
use serde_json::{Map, Value};

use super::text::TextReader;
use super::{BATCH_ROWS, ImportFormat, RawBatch, RawReader, ReadOptions, UnreadableRow};
use crate::error::ImportError;

#[derive(Debug)]
pub struct JsonLines;

impl ImportFormat for JsonLines {
    fn name(&self) -> &'static str {
        "jsonl"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["jsonl", "ndjson", "json"]
    }

    fn open(&self, path: &Path, options: &ReadOptions) -> Result<Box<dyn RawReader>, ImportError> {
        let io = |source| ImportError::ReadFile { path: path.to_path_buf(), source };
        let stream = options.stream.as_deref();
        // First pass: every leaf path of every row, and the streams seen (for the message when
        // the one asked for is not there).
        let mut header: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        let mut streams: Vec<(String, usize)> = Vec::new();
        let mut rows = 0usize;
        let mut input = BufReader::with_capacity(1 << 20, TextReader::open(path, options)?);
        let mut buf = Vec::new();
        let mut key = String::new();
        loop {
            buf.clear();
            if input.read_until(b'\n', &mut buf).map_err(io)? == 0 {
                break;
            }
            let Some(Value::Object(obj)) = parse(&buf) else { continue };
            if let Some(wanted) = stream {
                let name = stream_name(&obj);
                match streams.iter_mut().find(|(s, _)| s == name) {
                    Some((_, n)) => *n += 1,
                    None => streams.push((name.to_owned(), 1)),
                }
                if name != wanted {
                    continue;
                }
            }
            let Some(data) = select(&obj, stream) else { continue };
            rows += 1;
            leaves(data, &mut key, &mut |path, _| {
                if !seen.contains(path) {
                    seen.insert(path.to_owned());
                    header.push(path.to_owned());
                }
            });
        }
        let file = path.display().to_string();
        if let Some(wanted) = stream
            && rows == 0
        {
            let found: Vec<String> =
                streams.iter().map(|(s, n)| format!("`{s}` ({n} record(s))")).collect();
            let suggestion = kpiflow_model::suggest::did_you_mean(
                wanted,
                streams.iter().map(|(s, _)| s.as_str()),
            )
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
            return Err(ImportError::File {
                file,
                message: if found.is_empty() {
                    format!(
                        "no record of stream `{wanted}`: no line is a JSON object with a \
                         `stream` and a `data` object"
                    )
                } else {
                    format!(
                        "no record of stream `{wanted}`{suggestion}; the file holds: {}",
                        found.join(", ")
                    )
                },
            });
        }
        if header.is_empty() {
            return Err(ImportError::File {
                file,
                message: match stream {
                    Some(s) => format!("the records of stream `{s}` have no fields"),
                    None => "no JSON object found (expected one object per line)".into(),
                },
            });
        }
        let index = header.iter().enumerate().map(|(i, h)| (h.clone(), i)).collect();
        Ok(Box::new(JsonReader {
            path: path.to_path_buf(),
            lines: BufReader::with_capacity(1 << 20, TextReader::open(path, options)?),
            header,
            index,
            stream: options.stream.clone(),
            line_no: 0,
            bytes: 0,
            buf: Vec::new(),
            key: String::new(),
        }))
    }
}

/// A line as JSON (BOM and surrounding whitespace ignored); `None` when it is not.
fn parse(line: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(line).ok()?;
    serde_json::from_str(text.trim().trim_start_matches('\u{feff}')).ok()
}

/// The `stream` of an envelope record (empty when there is none).
fn stream_name(obj: &Map<String, Value>) -> &str {
    obj.get("stream").and_then(Value::as_str).unwrap_or("")
}

/// The object a record's row is: the record itself, or with a stream its `data` object when
/// it is of that stream and `data` is an object.
fn select<'v>(obj: &'v Map<String, Value>, stream: Option<&str>) -> Option<&'v Map<String, Value>> {
    match stream {
        None => Some(obj),
        Some(s) if stream_name(obj) == s => obj.get("data").and_then(Value::as_object),
        Some(_) => None,
    }
}

/// Calls `leaf` with the path and value of every leaf of `obj`: values that are not objects
/// (arrays are leaves), nested objects walked into. Nesting depth is bounded by serde_json's
/// recursion limit (128).
fn leaves<'v>(
    obj: &'v Map<String, Value>,
    path: &mut String,
    leaf: &mut impl FnMut(&str, &'v Value),
) {
    for (k, v) in obj {
        let len = path.len();
        if len > 0 {
            path.push('.');
        }
        path.push_str(k);
        match v {
            Value::Object(inner) => leaves(inner, path, leaf),
            _ => leaf(path, v),
        }
        path.truncate(len);
    }
}

/// A leaf's text: `None` for no value (`null`, an empty or blank string, an empty array).
fn text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(Cow::Borrowed),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Array(a) if a.is_empty() => None,
        Value::Object(o) if o.is_empty() => None,
        other => Some(Cow::Owned(other.to_string())),
    }
}

struct JsonReader {
    path: PathBuf,
    lines: BufReader<TextReader>,
    header: Vec<String>,
    index: HashMap<String, usize>,
    stream: Option<String>,
    line_no: u64,
    bytes: u64,
    buf: Vec<u8>,
    key: String,
}

impl RawReader for JsonReader {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn bytes_read(&self) -> u64 {
        self.bytes
    }

    fn next_batch(&mut self) -> Result<Option<RawBatch>, ImportError> {
        let width = self.header.len();
        let mut builders: Vec<StringBuilder> = (0..width).map(|_| StringBuilder::new()).collect();
        let mut lines = Vec::new();
        let mut unreadable = Vec::new();
        let mut dropped = 0;
        let mut at_end = false;
        while lines.len() < BATCH_ROWS {
            self.buf.clear();
            let n = self
                .lines
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| ImportError::ReadFile { path: self.path.clone(), source })?;
            if n == 0 {
                at_end = true;
                break;
            }
            self.line_no += 1;
            let Ok(text_line) = std::str::from_utf8(&self.buf) else {
                unreadable.push(UnreadableRow {
                    line: self.line_no,
                    raw: vec![String::from_utf8_lossy(&self.buf).trim().to_owned()],
                    reason: "is not valid UTF-8".into(),
                });
                continue;
            };
            let text_line = text_line.trim().trim_start_matches('\u{feff}');
            if text_line.is_empty() {
                continue;
            }
            let obj = match serde_json::from_str::<Value>(text_line) {
                Ok(Value::Object(obj)) => obj,
                Ok(_) => {
                    unreadable.push(UnreadableRow {
                        line: self.line_no,
                        raw: vec![text_line.to_owned()],
                        reason: "is not a JSON object".into(),
                    });
                    continue;
                }
                Err(e) => {
                    unreadable.push(UnreadableRow {
                        line: self.line_no,
                        raw: vec![text_line.to_owned()],
                        reason: format!("is not valid JSON: {e}"),
                    });
                    continue;
                }
            };
            let data = match self.stream.as_deref() {
                Some(s) if stream_name(&obj) != s => {
                    dropped += 1;
                    continue;
                }
                stream => match select(&obj, stream) {
                    Some(data) => data,
                    None => {
                        unreadable.push(UnreadableRow {
                            line: self.line_no,
                            raw: vec![text_line.to_owned()],
                            reason: "its `data` is not a JSON object".into(),
                        });
                        continue;
                    }
                },
            };
            let mut values: Vec<Option<Cow<'_, str>>> = vec![None; width];
            let index = &self.index;
            leaves(data, &mut self.key, &mut |path, v| {
                if let Some(&i) = index.get(path) {
                    values[i] = text(v);
                }
            });
            for (b, v) in builders.iter_mut().zip(values) {
                match v {
                    Some(s) => b.append_value(s),
                    None => b.append_null(),
                }
            }
            lines.push(self.line_no);
        }
        let source = self.lines.get_ref();
        self.bytes = if at_end { source.file_len() } else { source.source_bytes() };
        if lines.is_empty() && unreadable.is_empty() && dropped == 0 {
            return Ok(None);
        }
        Ok(Some(RawBatch {
            columns: builders.iter_mut().map(StringBuilder::finish).collect(),
            lines,
            unreadable,
            dropped,
        }))
    }
}

/// What the start of a JSON-lines file holds, for telling which export it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonProbe {
    /// Lines that are JSON objects.
    pub records: usize,
    /// Every one of them is a loader's envelope: a string `stream` and an object `data`.
    pub envelope: bool,
    /// The envelope's streams, in the order first seen, with their records' `data` paths.
    pub streams: Vec<JsonStream>,
    /// The flattened paths of the objects that are not in the envelope, in the order first seen.
    pub keys: Vec<String>,
}

/// One stream of envelope records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonStream {
    pub name: String,
    pub records: usize,
    /// The flattened paths of its `data` objects, in the order first seen.
    pub keys: Vec<String>,
}

/// Probes `text`, the start of a JSON-lines file (for instance from
/// [`super::text::head_text`]). Only whole lines count: a last line without its `\n` is used
/// when it is a whole JSON value, ignored when it is cut.
pub fn probe(text: &str) -> JsonProbe {
    let mut probe = JsonProbe::default();
    let mut plain_seen = HashSet::new();
    let mut stream_seen: Vec<HashSet<String>> = Vec::new();
    let mut key = String::new();
    let mut envelope = true;
    for line in text.lines() {
        let Ok(Value::Object(obj)) =
            serde_json::from_str::<Value>(line.trim().trim_start_matches('\u{feff}'))
        else {
            continue;
        };
        probe.records += 1;
        match (
            obj.get("stream").and_then(Value::as_str),
            obj.get("data").and_then(Value::as_object),
        ) {
            (Some(name), Some(data)) => {
                let i = match probe.streams.iter().position(|s| s.name == name) {
                    Some(i) => i,
                    None => {
                        probe
                            .streams
                            .push(JsonStream { name: name.to_owned(), ..Default::default() });
                        stream_seen.push(HashSet::new());
                        probe.streams.len() - 1
                    }
                };
                let (stream, seen) = (&mut probe.streams[i], &mut stream_seen[i]);
                stream.records += 1;
                leaves(data, &mut key, &mut |path, _| {
                    if seen.insert(path.to_owned()) {
                        stream.keys.push(path.to_owned());
                    }
                });
            }
            _ => {
                envelope = false;
                let keys = &mut probe.keys;
                leaves(&obj, &mut key, &mut |path, _| {
                    if plain_seen.insert(path.to_owned()) {
                        keys.push(path.to_owned());
                    }
                });
            }
        }
    }
    probe.envelope = envelope && probe.records > 0;
    probe
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use arrow::array::Array;
    use std::io::Write;

    fn vendor(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/datasets/vendor-exports")
            .join(path)
    }

    /// Header, rows (column name → text) and dropped count of a whole file.
    fn read(
        path: &Path,
        options: &ReadOptions,
    ) -> (Vec<String>, Vec<HashMap<String, String>>, u64) {
        let mut r = JsonLines.open(path, options).unwrap();
        let header = r.header().to_vec();
        let mut rows = Vec::new();
        let mut dropped = 0;
        while let Some(b) = r.next_batch().unwrap() {
            dropped += b.dropped;
            for row in 0..b.lines.len() {
                let mut m = HashMap::new();
                for (name, c) in header.iter().zip(&b.columns) {
                    if !c.is_null(row) {
                        m.insert(name.clone(), c.value(row).to_owned());
                    }
                }
                rows.push(m);
            }
        }
        assert_eq!(r.bytes_read(), std::fs::metadata(path).unwrap().len());
        (header, rows, dropped)
    }

    fn stream(s: &str) -> ReadOptions {
        ReadOptions { stream: Some(s.into()), ..Default::default() }
    }

    #[test]
    fn keys_values_and_bad_lines() {
        let mut f = tempfile::Builder::new().suffix(".jsonl").tempfile().unwrap();
        f.write_all(b"{\"a\": 1, \"b\": \"x\"}\n\n[1]\n{\"c\": true, \"a\": null}\nnot json\n")
            .unwrap();
        let mut r = JsonLines.open(f.path(), &ReadOptions::default()).unwrap();
        assert_eq!(r.header(), ["a", "b", "c"]);
        let b = r.next_batch().unwrap().unwrap();
        assert_eq!(b.lines, [1, 4]);
        assert_eq!(b.columns[0].value(0), "1");
        assert!(b.columns[0].is_null(1));
        assert_eq!(b.columns[2].value(1), "true");
        assert_eq!(b.unreadable.iter().map(|u| u.line).collect::<Vec<_>>(), [3, 5]);
        assert!(r.next_batch().unwrap().is_none());
    }

    #[test]
    fn invalid_utf8_is_an_unreadable_row() {
        let mut f = tempfile::Builder::new().suffix(".jsonl").tempfile().unwrap();
        f.write_all(b"{\"a\": 1}\n{\"a\": \"\xff\"}\n{\"a\": 3}\n").unwrap();
        let mut r = JsonLines.open(f.path(), &ReadOptions::default()).unwrap();
        let b = r.next_batch().unwrap().unwrap();
        assert_eq!(b.lines, [1, 3]);
        assert_eq!(b.unreadable[0].line, 2);
        assert!(b.unreadable[0].reason.contains("UTF-8"));
    }

    #[test]
    fn nested_objects_are_flattened_arrays_kept_as_json_empties_are_no_value() {
        let mut f = tempfile::Builder::new().suffix(".jsonl").tempfile().unwrap();
        f.write_all(
            "{\"id\": 1, \"opens\": {\"unique_opens\": 4100, \"rate\": 0.5}, \"tags\": [\"a\", 2], \
             \"empty\": {}, \"none\": [], \"n\": null, \"s\": \"  \"}\n\
             {\"id\": 2, \"opens\": {\"unique_opens\": 1, \"deep\": {\"x\": \"y\"}}, \"tags\": []}\n"
                .as_bytes(),
        )
        .unwrap();
        let (header, rows, _) = read(f.path(), &ReadOptions::default());
        assert_eq!(
            header,
            // serde_json's objects keep their keys sorted; later records add to the end.
            ["id", "n", "none", "opens.rate", "opens.unique_opens", "s", "tags", "opens.deep.x"]
        );
        assert_eq!(rows[0]["opens.unique_opens"], "4100");
        assert_eq!(rows[0]["opens.rate"], "0.5");
        assert_eq!(rows[0]["tags"], r#"["a",2]"#);
        assert_eq!(rows[0].len(), 4, "{:?}", rows[0]);
        assert_eq!(rows[1]["opens.deep.x"], "y");
        assert!(!rows[1].contains_key("tags"));
    }

    #[test]
    fn linkedin_ads_stream_of_the_envelope() {
        let path = vendor("linkedin-ads/airbyte_expected_records_excerpt.jsonl");
        let (header, rows, dropped) = read(&path, &stream("ad_campaign_analytics"));
        assert_eq!((rows.len(), dropped), (2, 1));
        assert!(
            header.contains(&"pivotValue".to_owned()) && !header.contains(&"currency".to_owned())
        );
        assert!(rows.iter().all(|r| r["pivotValue"].starts_with("urn:li:sponsoredCampaign:")));
        assert!(rows.iter().any(|r| r.values().any(|v| v == "99.99999999999996")), "{rows:?}");
        let (header, rows, dropped) = read(&path, &stream("accounts"));
        assert_eq!((rows.len(), dropped), (1, 2));
        assert_eq!(rows[0]["currency"], "USD");
        assert_eq!(rows[0]["version.versionTag"], "6");
        assert_eq!(rows[0]["servingStatuses"], r#"["RUNNABLE"]"#);
        assert!(header.contains(&"version.versionTag".to_owned()));
    }

    #[test]
    fn mailchimp_campaigns_and_reports() {
        let path = vendor("mailchimp/airbyte_expected_records_excerpt.jsonl");
        let (header, rows, _) = read(&path, &stream("campaigns"));
        assert!(header.contains(&"recipients.list_name".to_owned()), "{header:?}");
        assert_eq!(rows[0]["recipients.list_name"], "Airbyte");
        assert!(!rows[0].contains_key("send_time"));
        let (header, rows, _) = read(&path, &stream("reports"));
        assert!(!rows.is_empty());
        assert!(header.contains(&"opens.unique_opens".to_owned()), "{header:?}");
        assert!(header.contains(&"list_stats.open_rate".to_owned()), "{header:?}");
    }

    #[test]
    fn pipedrive_deals_and_chartmogul_streams() {
        let path = vendor("pipedrive/airbyte_expected_records_deals_excerpt.jsonl");
        let (header, rows, dropped) = read(&path, &stream("deals"));
        assert_eq!(dropped, 0);
        assert!(!rows.is_empty());
        assert!(
            ["id", "title", "value", "currency", "stage_id", "add_time"]
                .iter()
                .all(|k| header.contains(&(*k).to_owned()))
        );
        assert_eq!(rows[0]["value"], "1500");
        let path = vendor("chartmogul/airbyte_expected_records.jsonl");
        let p = probe(&std::fs::read_to_string(&path).unwrap());
        assert!(p.envelope);
        let names: Vec<&str> = p.streams.iter().map(|s| s.name.as_str()).collect();
        assert!(names.contains(&"customers"), "{names:?}");
        for s in &p.streams {
            let (header, rows, _) = read(&path, &stream(&s.name));
            assert_eq!(rows.len(), s.records);
            assert_eq!(header, s.keys);
        }
    }

    #[test]
    fn an_unknown_stream_lists_the_streams_found() {
        let path = vendor("linkedin-ads/airbyte_expected_records_excerpt.jsonl");
        let e = JsonLines.open(&path, &stream("ad_campaign_analytic")).err().unwrap().to_string();
        assert!(e.contains("no record of stream `ad_campaign_analytic`"), "{e}");
        assert!(e.contains("did you mean `ad_campaign_analytics`?"), "{e}");
        assert!(
            e.contains("`accounts` (1 record(s)), `ad_campaign_analytics` (2 record(s))"),
            "{e}"
        );
    }

    #[test]
    fn probe_reads_whole_lines_and_tells_envelopes_from_plain_objects() {
        let text =
            std::fs::read_to_string(vendor("mailchimp/airbyte_expected_records_excerpt.jsonl"))
                .unwrap();
        let p = probe(&text);
        assert!(p.envelope);
        assert!(p.keys.is_empty());
        let campaigns = p.streams.iter().find(|s| s.name == "campaigns").unwrap();
        assert!(campaigns.keys.contains(&"recipients.list_name".to_owned()));
        // A head cut inside the last line: that line is left out.
        let cut = &text[..text.len() - 40];
        let q = probe(cut);
        assert_eq!(q.records, p.records - 1);
        let p = probe("{\"a\": {\"b\": 1}, \"c\": 2}\n{\"d\": [1]}\n{\"e\": 1");
        assert_eq!(
            p,
            JsonProbe {
                records: 2,
                envelope: false,
                streams: Vec::new(),
                keys: vec!["a.b".into(), "c".into(), "d".into()],
            }
        );
        assert_eq!(probe("{\"x\": 1}").records, 1);
        assert!(!probe("").envelope);
    }

    #[test]
    fn utf16_json_lines_are_decoded() {
        let mut f = tempfile::Builder::new().suffix(".jsonl").tempfile().unwrap();
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("{\"name\": \"Köln\"}\n".encode_utf16().flat_map(u16::to_le_bytes));
        f.write_all(&bytes).unwrap();
        let (header, rows, _) = read(f.path(), &ReadOptions::default());
        assert_eq!((header, rows[0]["name"].as_str()), (vec!["name".to_owned()], "Köln"));
    }
}
