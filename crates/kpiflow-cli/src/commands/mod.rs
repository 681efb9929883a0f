//! One module per command.

pub mod alerts;
pub mod attribution;
pub mod cluster;
pub mod demo;
pub mod diagnose;
pub mod export;
pub mod funnel;
pub mod generate;
pub mod goals;
pub mod import;
pub mod init;
pub mod kpis;
pub mod links;
pub mod plan;
pub mod presets;
pub mod report;
pub mod serve;
pub mod sql;
pub mod tables;

use std::path::Path;

use kpiflow_model::ProjectConfig;
use kpiflow_store::Store;

/// The project's configuration and its store, resolved before a command does any work.
pub struct Project {
    pub config: ProjectConfig,
    pub store: Store,
}

impl Project {
    pub fn open(dir: &Path) -> anyhow::Result<Project> {
        let config = ProjectConfig::load(dir)?;
        let store = Store::open(&config.data_dir)?;
        Ok(Project { config, store })
    }
}

/// `--as-of N|TIME`, checked.
pub fn parse_as_of(raw: Option<&str>) -> anyhow::Result<Option<kpiflow_store::AsOf>> {
    let Some(raw) = raw else { return Ok(None) };
    let as_of = kpiflow_store::AsOf::parse(raw).ok_or_else(|| {
        crate::UserError(format!(
            "--as-of `{raw}`: expected an import number (1, 2, ...; see `kpiflow tables \
             --log`) or a time such as 2025-03-01 or 2025-03-01T12:00:00Z"
        ))
    })?;
    Ok(Some(as_of))
}
