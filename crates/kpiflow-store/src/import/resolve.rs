//! From what a user names (files, zips, folders; a table and mapping, a preset, or neither) to
//! an [`ImportRequest`]: zips and folders opened, each file's reading decided (detected when
//! neither a table nor a preset is given), before any row is read. Shared by the CLI and the
//! HTTP API, so both detect alike.

use std::path::PathBuf;

use kpiflow_model::{Mapping, Table};

use super::inputs::{self, Inputs};
use super::{ImportFile, ImportRequest, OnError, Reading};
use crate::error::ImportError;
use crate::presets::{self, Preset, Probe};

/// How the files are to be read.
// One value per import: the mapping's size next to a reference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Target {
    /// Each file through the preset detected from it.
    Detect,
    /// Every file through this preset.
    Preset(&'static dyn Preset),
    /// Every file into this table, by its canonical names or a mapping.
    Table { table: &'static Table, mapping: Option<Mapping> },
}

/// An import ready to run, with the temporary files it reads (a zip's members), which live as
/// long as this value.
#[derive(Debug)]
pub struct Resolved {
    pub request: ImportRequest,
    /// Keeps extracted zip members on disk until the import is done.
    pub inputs: Inputs,
}

/// Opens zips and folders and decides how each file is read.
pub fn resolve(
    paths: &[PathBuf],
    target: &Target,
    format: Option<&str>,
    on_error: OnError,
    rejects: PathBuf,
) -> Result<Resolved, ImportError> {
    let named: Vec<(PathBuf, String)> =
        paths.iter().map(|p| (p.clone(), p.display().to_string())).collect();
    resolve_named(&named, target, format, on_error, rejects)
}

/// [`resolve`], each path with the name it goes by in messages, summaries and the log (the
/// server names uploads by their own file names, not where it keeps them).
pub fn resolve_named(
    paths: &[(PathBuf, String)],
    target: &Target,
    format: Option<&str>,
    on_error: OnError,
    rejects: PathBuf,
) -> Result<Resolved, ImportError> {
    let inputs = inputs::expand_named(paths)?;
    let mut files = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let siblings: Vec<(String, PathBuf)> =
            inputs.siblings(i).map(|s| (s.name.clone(), s.path.clone())).collect();
        let file = |reading: Reading| ImportFile {
            path: input.path.clone(),
            name: input.name.clone(),
            reading,
            format: format.map(str::to_owned),
            siblings: siblings.clone(),
        };
        match target {
            Target::Table { table, mapping } => {
                files.push(file(Reading::Table { table, mapping: mapping.clone() }));
            }
            Target::Preset(p) => files.push(file(Reading::Preset(*p))),
            Target::Detect => {
                let probe = Probe::new(&input.path, &input.name, format)?;
                for (p, _) in presets::detect(&probe)?.presets {
                    files.push(file(Reading::Preset(p)));
                }
            }
        }
    }
    Ok(Resolved { request: ImportRequest { files, on_error, rejects }, inputs })
}
