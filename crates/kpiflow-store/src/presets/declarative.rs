//! A preset that is a mapping: one TOML file under `crates/kpiflow-store/presets/`, the
//! mapping language plus a `[preset]` section.

use kpiflow_model::schema::STAGE_CHANGES;
use kpiflow_model::{Mapping, Table};
use serde::Deserialize;

use super::{FileContext, Preset, PresetInfo, PresetPlan, Shared, Spec};
use crate::error::ImportError;

/// A declarative preset, parsed from its embedded file.
#[derive(Debug)]
pub struct Declarative {
    spec: Spec,
    mapping: Mapping,
    text: &'static str,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    name: String,
    vendor: String,
    title: String,
    export: String,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    detect: Vec<OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The preset's head: its metadata and table (the rest is the mapping, parsed by `Mapping`).
#[derive(Debug, Deserialize)]
struct Head {
    preset: Meta,
    table: String,
}

impl Declarative {
    /// Parses a preset file; an error names the file and what is wrong.
    pub fn parse(file: &str, text: &'static str) -> Result<Declarative, ImportError> {
        let fail = |message: String| ImportError::File { file: file.to_owned(), message };
        let head: Head = toml::from_str(text)
            .map_err(|e| fail(format!("not a preset ([preset] and `table` needed): {e}")))?;
        let meta = head.preset;
        if format!("{}.toml", meta.name) != file {
            return Err(fail(format!("the preset is named `{}`: name its file so", meta.name)));
        }
        let table: &'static Table = kpiflow_model::table(&head.table)?;
        let mapping = Mapping::parse(text, &format!("preset {}", meta.name), table)?;
        let read = crate::import::read_options(Some(&mapping))?;
        let detect: Vec<Vec<String>> = meta
            .detect
            .into_iter()
            .map(|d| match d {
                OneOrMany::One(s) => vec![s],
                OneOrMany::Many(v) => v,
            })
            .collect();
        if detect.is_empty() || detect.iter().any(Vec::is_empty) {
            return Err(fail("`detect` must name the columns that identify the export".into()));
        }
        let mut tables = vec![table.name];
        if mapping.stages.is_some() {
            tables.push(STAGE_CHANGES.name);
        }
        // An export in a loader's envelope is JSON lines; any other is read by its header,
        // whatever the file's format.
        let formats = if mapping.stream.is_some() {
            vec!["jsonl"]
        } else {
            vec!["csv", "xlsx", "jsonl", "parquet"]
        };
        Ok(Declarative {
            spec: Spec {
                info: PresetInfo {
                    name: meta.name,
                    vendor: meta.vendor,
                    title: meta.title,
                    export: meta.export,
                    tables,
                    files: meta.files,
                    detect,
                    kind: "declarative",
                },
                read,
                formats,
            },
            mapping,
            text,
        })
    }

    /// The stream this preset reads, for JSON lines in a loader's envelope.
    pub fn stream(&self) -> Option<&str> {
        self.mapping.stream.as_deref()
    }
}

impl Preset for Declarative {
    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn plan(&self, _file: &FileContext, _shared: &mut Shared) -> Result<PresetPlan, ImportError> {
        Ok(PresetPlan::Mapping(self.mapping.clone()))
    }

    fn show(&self) -> String {
        self.text.to_owned()
    }
}
