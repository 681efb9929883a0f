//! Which preset reads a file: each preset reads the file's head as it would read the file (its
//! encoding, preamble and stream) and claims it when the header it finds holds every column
//! that identifies its export.
//!
//! The rule, stated once (and in `docs/presets.md`): a claim's strength is the number of
//! identifying columns, plus one when the file's name matches the vendor's pattern; the strongest
//! claim wins; equal strengths are ambiguous. In a JSON-lines file of a loader's envelope, each
//! stream is decided apart, and every stream's winner reads the file.

use std::cell::OnceCell;
use std::path::Path;

use super::{Preset, presets};
use crate::error::ImportError;
use crate::import::format::jsonl::JsonProbe;
use crate::import::format::{ImportFormat, ReadOptions, format_for};

/// How much of a JSON-lines file is read to learn its keys and streams.
const JSON_HEAD_BYTES: usize = 4 << 20;

/// A file as detection sees it.
#[derive(Debug)]
pub struct Probe<'a> {
    pub path: &'a Path,
    /// For messages (`export.zip/Chart.csv`).
    pub name: &'a str,
    /// The file's own name, lower-cased, for the vendors' name patterns.
    pub file_name: String,
    pub format: &'static dyn ImportFormat,
    json: OnceCell<Option<JsonProbe>>,
}

/// A preset's claim on a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub score: usize,
    /// The stream it reads, for JSON lines in a loader's envelope.
    pub stream: Option<String>,
}

/// The presets that read one file, with the strength of their claims.
#[derive(Debug, Clone)]
pub struct Detection {
    pub presets: Vec<(&'static dyn Preset, Claim)>,
}

impl<'a> Probe<'a> {
    /// A probe of `path`, whose format is told by its ending (or `format`).
    pub fn new(
        path: &'a Path,
        name: &'a str,
        format: Option<&str>,
    ) -> Result<Probe<'a>, ImportError> {
        let format = format_for(path, format)?;
        let file_name =
            path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        Ok(Probe { path, name, file_name, format, json: OnceCell::new() })
    }

    /// The header a reader with `options` finds, or `None` when it cannot read the file so
    /// (no line matches its header rule, no record of its stream, ...).
    pub fn header(&self, options: &ReadOptions) -> Option<Vec<String>> {
        if self.format.name() == "jsonl" {
            let json = self.json()?;
            return match &options.stream {
                Some(stream) => {
                    json.streams.iter().find(|s| &s.name == stream).map(|s| s.keys.clone())
                }
                None if json.envelope => None,
                None => Some(json.keys.clone()),
            };
        }
        let reader = self.format.open(self.path, options).ok()?;
        Some(reader.header().to_vec())
    }

    fn json(&self) -> Option<&JsonProbe> {
        self.json
            .get_or_init(|| {
                let (text, _) = crate::import::format::text::head_text(
                    self.path,
                    &ReadOptions::default(),
                    JSON_HEAD_BYTES,
                )
                .ok()?;
                Some(crate::import::format::jsonl::probe(&text))
            })
            .as_ref()
    }

    /// Whether the file's name matches one of `patterns` (globs with `*` and `?`, compared
    /// case-insensitively).
    pub fn name_matches(&self, patterns: &[String]) -> bool {
        patterns.iter().any(|p| glob_match(&p.to_lowercase(), &self.file_name))
    }
}

/// A glob with `*` (any run) and `?` (one character).
fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matching with backtracking on the last star.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// Whether `header` has a column named `name`: as it is, or with `{currency}` standing for a
/// three-letter code (`Amount spent ({currency})` has `Amount spent (EUR)`).
pub fn header_has(header: &[String], name: &str) -> bool {
    match name.split_once("{currency}") {
        None => header.iter().any(|h| h == name),
        Some((before, after)) => header.iter().any(|h| {
            h.len() == before.len() + 3 + after.len()
                && h.starts_with(before)
                && h.ends_with(after)
                && h.is_char_boundary(before.len())
                && h.is_char_boundary(before.len() + 3)
                && h[before.len()..before.len() + 3].bytes().all(|b| b.is_ascii_alphabetic())
        }),
    }
}

/// The default claim: every identifying column (any of its alternatives) is in the header the
/// preset's read options find.
pub fn claim_by_columns<P: Preset + ?Sized>(preset: &P, probe: &Probe) -> Option<Claim> {
    if !preset.formats().contains(&probe.format.name()) {
        return None;
    }
    let info = preset.info();
    let header = probe.header(preset.read_options())?;
    let all = info.detect.iter().all(|alts| alts.iter().any(|a| header_has(&header, a)));
    if !all || info.detect.is_empty() {
        return None;
    }
    Some(Claim {
        score: info.detect.len() + usize::from(probe.name_matches(&info.files)),
        stream: preset.read_options().stream.clone(),
    })
}

/// The presets that read `probe`'s file, or an error: no preset recognises it (showing the
/// header read and the nearest presets), or two claim it equally.
pub fn detect(probe: &Probe) -> Result<Detection, ImportError> {
    let claims: Vec<(&'static dyn Preset, Claim)> =
        presets().iter().filter_map(|p| p.claim(probe).map(|c| (*p, c))).collect();
    if claims.is_empty() {
        return Err(unrecognised(probe));
    }
    let mut streams: Vec<Option<String>> = Vec::new();
    for (_, c) in &claims {
        if !streams.contains(&c.stream) {
            streams.push(c.stream.clone());
        }
    }
    // A claim of the whole file (no stream) and stream claims cannot both hold: the file is
    // in an envelope or not. Stream claims are decided per stream.
    let enveloped = streams.iter().all(Option::is_some);
    let groups: Vec<Option<String>> = if enveloped { streams } else { vec![None] };
    let mut chosen = Vec::new();
    for stream in groups {
        let mut group: Vec<&(&'static dyn Preset, Claim)> =
            claims.iter().filter(|(_, c)| !enveloped || c.stream == stream).collect();
        group.sort_by_key(|c| std::cmp::Reverse(c.1.score));
        let best = group[0].1.score;
        let tied: Vec<&&(&'static dyn Preset, Claim)> =
            group.iter().filter(|(_, c)| c.score == best).collect();
        if tied.len() > 1 {
            let names: Vec<String> =
                tied.iter().map(|(p, _)| format!("`{}`", p.info().name)).collect();
            let flags: Vec<String> =
                tied.iter().map(|(p, _)| format!("--preset {}", p.info().name)).collect();
            return Err(ImportError::File {
                file: probe.name.to_owned(),
                message: format!(
                    "ambiguous: the presets {} {} recognise this file, each by {best} \
                     identifying column(s); choose one with {}",
                    names.join(" and "),
                    if names.len() == 2 { "both" } else { "all" },
                    flags.join(" or ")
                ),
            });
        }
        chosen.push((group[0].0, group[0].1.clone()));
    }
    Ok(Detection { presets: chosen })
}

/// The error for a file no preset claims: the header as read plainly, and the presets that
/// come nearest (most identifying columns found), with what they miss.
fn unrecognised(probe: &Probe) -> ImportError {
    const SHOWN_COLUMNS: usize = 30;
    let plain = probe.header(&ReadOptions::default());
    let header_text = match &plain {
        Some(h) if !h.is_empty() => {
            let mut cols: Vec<String> =
                h.iter().take(SHOWN_COLUMNS).map(|c| format!("`{}`", cut(c, 60))).collect();
            if h.len() > SHOWN_COLUMNS {
                cols.push(format!("… ({} more)", h.len() - SHOWN_COLUMNS));
            }
            format!("its header reads {}", cols.join(", "))
        }
        _ => "no header could be read from it".to_owned(),
    };
    let mut near: Vec<(usize, usize, &'static dyn Preset, Vec<String>)> = Vec::new();
    for p in presets() {
        if !p.formats().contains(&probe.format.name()) {
            continue;
        }
        let info = p.info();
        let header = probe.header(p.read_options()).or_else(|| plain.clone()).unwrap_or_default();
        let missing: Vec<String> = info
            .detect
            .iter()
            .filter(|alts| !alts.iter().any(|a| header_has(&header, a)))
            .map(|alts| alts.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" or "))
            .collect();
        let found = info.detect.len() - missing.len();
        // Near: at least two of its columns, or half of them.
        if found >= 2 || (found > 0 && 2 * found >= info.detect.len()) {
            near.push((found, info.detect.len(), *p, missing));
        }
    }
    near.sort_by(|a, b| (b.0 * a.1).cmp(&(a.0 * b.1)).then(b.0.cmp(&a.0)));
    let mut message = format!("no preset recognises this file: {header_text}.");
    if near.is_empty() {
        message.push_str(" No preset comes near it.");
    } else {
        message.push_str(" The nearest presets:");
        for (found, of, p, missing) in near.iter().take(3) {
            message.push_str(&format!(
                "\n  {} ({}: {}) has {found} of its {of} columns; the file lacks {}",
                p.info().name,
                p.info().vendor,
                p.info().title,
                missing.join(", ")
            ));
        }
    }
    message.push_str(
        "\nName a preset with --preset (`kpiflow presets` lists them), or import the file into \
         a table: `kpiflow import TABLE FILE --mapping MAPPING.toml`",
    );
    ImportError::File { file: probe.name.to_owned(), message }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            "hubspot-crm-exports-*.csv",
            "hubspot-crm-exports-all-contacts-2025-01-02.csv"
        ));
        assert!(glob_match("*.csv", "a.csv"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("*.csv", "a.tsv"));
        assert!(!glob_match("hubspot-*", "salesforce.csv"));
    }

    #[test]
    fn currency_in_a_header() {
        let h = vec!["Campaign name".to_owned(), "Amount spent (EUR)".to_owned()];
        assert!(header_has(&h, "Amount spent ({currency})"));
        assert!(header_has(&h, "Campaign name"));
        assert!(!header_has(&h, "CPC ({currency})"));
    }
}
