//! Presets: a vendor's export read into canonical tables with no mapping to write.
//!
//! One preset per export. Most are declarative: a mapping file (the language of
//! [`kpiflow_model::Mapping`]) with a `[preset]` section naming the vendor, how to get the file
//! and the header columns that identify it, one TOML file each under
//! `crates/kpiflow-store/presets/`, embedded in the binary ([`builtin`]). An export a mapping
//! cannot say (GA4's BigQuery events, which must be cut into sessions; Stripe subscriptions,
//! which become months of revenue) is one Rust file implementing [`Preset`] with a
//! [`Transform`]. Every preset, of either kind, is listed once in [`presets`].
//!
//! Detection ([`detect`]) reads each file as every preset would (its encoding, preamble and
//! stream) and keeps the presets whose identifying columns are all in the header found.

mod builtin;
mod chartmogul;
mod declarative;
pub mod detect;
mod ga4_bigquery;
mod rows;
mod search_console;
mod stripe_subscriptions;

use std::path::Path;
use std::sync::LazyLock;

use kpiflow_model::{Mapping, Table};

use crate::error::ImportError;
use crate::import::convert::{ConvertSettings, FileFacts};
use crate::import::format::{RawBatch, ReadOptions};

pub use self::declarative::Declarative;
pub use self::detect::{Claim, Detection, Probe, detect};

/// What `kpiflow presets` says of a preset.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PresetInfo {
    /// Unique, kebab-case: `google-ads-campaigns`.
    pub name: String,
    pub vendor: String,
    /// What export it reads, e.g. "Campaign performance by day (UI download)".
    pub title: String,
    /// How to get the file from the tool.
    pub export: String,
    /// The canonical tables it writes.
    pub tables: Vec<&'static str>,
    /// Glob patterns of the names the vendor gives its files (a match strengthens a claim).
    pub files: Vec<String>,
    /// The header columns that identify the export (each entry: alternatives).
    pub detect: Vec<Vec<String>>,
    /// `declarative` (a mapping) or `code` (a transform in Rust).
    pub kind: &'static str,
}

/// One file of an import, as a preset sees it when planning how to read it.
#[derive(Debug)]
pub struct FileContext<'a> {
    /// The file's name for messages (`export.zip/Chart.csv`).
    pub name: &'a str,
    pub path: &'a Path,
    pub header: &'a [String],
    pub facts: &'a FileFacts,
    /// The other files of the same zip or folder (Search Console's period is in `Chart.csv`).
    pub siblings: Vec<(&'a str, &'a Path)>,
    pub settings: &'a ConvertSettings,
}

/// State one preset keeps across the files it reads in one import.
#[derive(Debug, Default)]
pub struct Shared(Option<Box<dyn std::any::Any + Send>>);

impl Shared {
    /// The state, made by `init` the first time.
    pub fn get_or_insert_with<T: std::any::Any + Send>(
        &mut self,
        init: impl FnOnce() -> T,
    ) -> &mut T {
        if !self.0.as_ref().is_some_and(|b| b.is::<T>()) {
            self.0 = Some(Box::new(init()));
        }
        match self.0.as_mut().and_then(|b| b.downcast_mut::<T>()) {
            Some(t) => t,
            None => unreachable!("set just above"),
        }
    }
}

/// How a preset reads one file.
// One value per file: the mapping's size next to a box does not matter.
#[allow(clippy::large_enum_variant)]
pub enum PresetPlan {
    /// Through a mapping, into one table (and `stage_changes` for a wide export).
    Mapping(Mapping),
    /// Through a transform, into the tables of `outputs`.
    Transform { outputs: Vec<Output>, transform: Box<dyn Transform> },
}

impl std::fmt::Debug for PresetPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PresetPlan::Mapping(m) => f.debug_tuple("Mapping").field(&m.file).finish(),
            PresetPlan::Transform { outputs, .. } => {
                f.debug_struct("Transform").field("outputs", outputs).finish_non_exhaustive()
            }
        }
    }
}

/// One table a transform writes: the canonical columns of the rows it hands on (its header),
/// and the mapping those rows are read with (timezone, formats), if any.
#[derive(Debug)]
pub struct Output {
    pub table: &'static Table,
    pub header: Vec<String>,
    pub mapping: Option<Mapping>,
}

/// A preset's code: turns the file's raw rows into rows of its outputs (text in canonical
/// columns, typed and validated afterwards like any file, so errors name the source line).
pub trait Transform: Send {
    /// Rows derived from one batch of the file: (output index, rows with `lines` set to the
    /// source lines they came from). A transform that needs the whole file (sessions cut from
    /// events) may keep state and hand its rows on in [`Transform::finish`].
    fn push(&mut self, raw: &RawBatch) -> Result<Vec<(usize, RawBatch)>, ImportError>;
    /// The rows held back until every file has been read (called once per file, in file
    /// order, after the last file).
    fn finish(&mut self) -> Result<Vec<(usize, RawBatch)>, ImportError>;
    /// Whether the file's rows are read for what they say of other files only (Search
    /// Console's `Filters.csv`): they are then counted as dropped, not lost.
    fn keeps_no_rows(&self) -> bool {
        false
    }
}

/// The part of a preset that is data: what it is, and how its files are read.
#[derive(Debug)]
pub struct Spec {
    pub info: PresetInfo,
    /// How to read its files (encoding, preamble, rows that are not data, stream).
    pub read: ReadOptions,
    /// The import formats (by name) its files come in.
    pub formats: Vec<&'static str>,
}

/// An export kpiflow reads without a mapping.
pub trait Preset: Sync + Send + std::fmt::Debug {
    fn spec(&self) -> &Spec;
    fn info(&self) -> &PresetInfo {
        &self.spec().info
    }
    /// How to read its files (encoding, preamble, rows that are not data, stream).
    fn read_options(&self) -> &ReadOptions {
        &self.spec().read
    }
    /// The import formats (by name) its files come in.
    fn formats(&self) -> &[&'static str] {
        &self.spec().formats
    }
    /// How strongly it claims a file (`None`: not its file). The default: every identifying
    /// column is in the header the preset's read options find.
    fn claim(&self, probe: &Probe) -> Option<Claim> {
        detect::claim_by_columns(self, probe)
    }
    /// How it reads one file it claimed (or was told to read with `--preset`). `shared` is
    /// the import's state for this preset, the same for every file it reads in one import
    /// (GA4's sessions cross the midnight between two daily files).
    fn plan(&self, file: &FileContext, shared: &mut Shared) -> Result<PresetPlan, ImportError>;
    /// The preset as a mapping to copy and adapt (`kpiflow presets show NAME`).
    fn show(&self) -> String;
}

/// The code presets, one file each.
static CODE: &[&dyn Preset] = &[
    &ga4_bigquery::Ga4BigQuery,
    &search_console::SearchConsole,
    &stripe_subscriptions::StripeSubscriptions,
    &chartmogul::ChartMogul,
];

static REGISTRY: LazyLock<Vec<&'static dyn Preset>> = LazyLock::new(|| {
    let mut all: Vec<&'static dyn Preset> = Vec::new();
    for (file, text) in builtin::DECLARATIVE {
        match Declarative::parse(file, text) {
            Ok(p) => all.push(Box::leak(Box::new(p))),
            // A broken built-in preset is a bug the registry test catches; at run time it is
            // left out rather than failing every import.
            Err(e) => tracing::error!(file, error = %e, "built-in preset does not parse"),
        }
    }
    all.extend(CODE.iter().copied());
    all
});

/// Every preset, declarative ones first (in [`builtin`] order), then the code presets.
pub fn presets() -> &'static [&'static dyn Preset] {
    &REGISTRY
}

/// The preset named `name`, or an error with a "did you mean".
pub fn preset(name: &str) -> Result<&'static dyn Preset, kpiflow_model::UnknownName> {
    presets().iter().copied().find(|p| p.info().name == name).ok_or_else(|| {
        kpiflow_model::UnknownName::new(
            "preset",
            name,
            presets().iter().map(|p| p.info().name.as_str()),
        )
    })
}

/// The preset reference (`docs/presets.md`), generated from the registry.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# kpiflow presets\n\n\
         Generated from the registry (`crates/kpiflow-store/src/presets/`); \
         `KPIFLOW_BLESS=1 cargo test --release -p kpiflow reference_docs` rewrites it.\n\n\
         A preset reads one vendor's export into canonical tables with no mapping to write. \
         `kpiflow import FILE...` detects each file's preset from its header (after the \
         preset's own preamble, encoding and stream rules) and the vendor's file-name pattern; \
         `--preset NAME` forces one. `kpiflow presets show NAME` prints a preset as a mapping \
         to copy and adapt (`kpiflow import TABLE FILE --mapping it.toml`).\n\n\
         **Detection rule.** A preset claims a file when every one of its identifying columns \
         is in the header it finds; its strength is the number of those columns, plus one when \
         the file's name matches the vendor's pattern. The strongest claim wins. Two claims of \
         equal strength are ambiguous (the error names both; pass `--preset`), except that \
         presets reading different streams of one JSON-lines file all read it.\n\n",
    );
    out.push_str("| preset | vendor | export | tables | kind |\n|---|---|---|---|---|\n");
    for p in presets() {
        let i = p.info();
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} | {} | {} |\n",
            i.name,
            i.name,
            i.vendor,
            i.title.replace('|', "\\|"),
            i.tables.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "),
            i.kind
        ));
    }
    for p in presets() {
        let i = p.info();
        out.push_str(&format!("\n## {}\n\n{}: {}.\n\n", i.name, i.vendor, i.title));
        out.push_str(&format!("**How to export.** {}\n\n", i.export));
        out.push_str(&format!(
            "**Writes** {}. **Reads** {}.",
            i.tables.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "),
            p.formats().join(", ")
        ));
        if !i.detect.is_empty() {
            let cols: Vec<String> = i
                .detect
                .iter()
                .map(|alts| alts.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" or "))
                .collect();
            out.push_str(&format!(" **Detected by** the columns {}", cols.join(", ")));
            if !i.files.is_empty() {
                out.push_str(&format!(
                    " (and file names like {})",
                    i.files.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
                ));
            }
            out.push('.');
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_builtin_preset_parses_and_names_are_unique() {
        let mut errors = Vec::new();
        for (file, text) in builtin::DECLARATIVE {
            if let Err(e) = Declarative::parse(file, text) {
                errors.push(format!("{file}: {e}"));
            }
        }
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        let mut names = HashSet::new();
        for p in presets() {
            let i = p.info();
            assert!(names.insert(i.name.clone()), "preset `{}` is listed twice", i.name);
            assert!(
                !i.vendor.is_empty() && !i.title.is_empty() && !i.export.is_empty(),
                "{}",
                i.name
            );
            assert!(!i.tables.is_empty(), "{} writes no table", i.name);
            assert!(
                i.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                i.name
            );
        }
        assert_eq!(presets().len(), builtin::DECLARATIVE.len() + CODE.len());
    }

    /// An Excel workbook is read like a CSV file: a Salesforce report saved as `.xlsx` (a
    /// sheet named by its report, dates as Excel dates, the footer rows under the data) is
    /// detected as its preset and imported.
    #[tokio::test]
    async fn an_excel_report_is_detected_and_imported() {
        use crate::import::format::testing::{Cell, write_test_xlsx};
        use crate::import::{OnError, import};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report1718.xlsx");
        let header = [
            "Opportunity ID",
            "Opportunity Name",
            "Stage",
            "Close Date",
            "Created Date",
            "Amount",
            "Opportunity Currency",
        ]
        .map(Cell::Str);
        // 2025-03-31 is Excel serial 45747; 2025-01-15 is 45672; 2025-02-01 is 45689.
        let won = [
            Cell::Str("006A"),
            Cell::Str("Acme, Inc. – Platform"),
            Cell::Str("Closed Won"),
            Cell::Date(45747.0),
            Cell::Date(45672.0),
            Cell::Num(12500.0),
            Cell::Str("USD"),
        ];
        let open = [
            Cell::Str("006B"),
            Cell::Str("Müller GmbH"),
            Cell::Str("Negotiation"),
            Cell::Date(45747.0),
            Cell::Date(45689.0),
            Cell::Num(4800.5),
            Cell::Str("USD"),
        ];
        let blank = [Cell::Empty];
        let totals = [Cell::Str("Grand Totals (2 records)")];
        let notice = [Cell::Str("Confidential Information - Do Not Distribute")];
        let rows: [&[Cell]; 6] = [&header, &won, &open, &blank, &totals, &notice];
        write_test_xlsx(&path, &[("Opportunities", &rows)]).unwrap();

        let name = path.display().to_string();
        let probe = Probe::new(&path, &name, None).unwrap();
        let found = detect(&probe).unwrap();
        assert_eq!(found.presets.len(), 1);
        assert_eq!(found.presets[0].0.info().name, "salesforce-opportunities");

        let text = kpiflow_model::config::config_template("t", "USD", "UTC");
        let config =
            kpiflow_model::ProjectConfig::parse(&text, "kpiflow.toml", dir.path()).unwrap();
        let store = crate::Store::open(&config.data_dir).unwrap();
        let resolved = crate::resolve(
            std::slice::from_ref(&path),
            &crate::Target::Detect,
            None,
            OnError::Fail,
            dir.path().join("rejects.csv"),
        )
        .unwrap();
        let outcome = import(&store, &config, &resolved.request, &mut |_| {}).await.unwrap();
        assert_eq!(outcome.files[0].preset.as_deref(), Some("salesforce-opportunities"));
        assert_eq!(outcome.rows_read, 2);
        assert_eq!(outcome.dropped, 2, "the two footer rows");
        assert_eq!(outcome.tables[0].counts.inserted, 2);
    }

    #[test]
    fn unknown_presets_get_a_suggestion() {
        let e = preset("google-search-consol").unwrap_err();
        assert_eq!(e.suggestion.as_deref(), Some("google-search-console"));
    }
}
