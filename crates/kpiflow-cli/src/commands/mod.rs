//! One module per command.

pub mod demo;
pub mod generate;
pub mod import;
pub mod init;
pub mod kpis;
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
