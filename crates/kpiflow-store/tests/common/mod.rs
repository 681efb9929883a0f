//! A throwaway project and store for the store's integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use datafusion::prelude::SessionContext;
use kpiflow_model::{Mapping, ProjectConfig};
use kpiflow_store::import::{ImportRequest, OnError};
use kpiflow_store::{ImportOutcome, Store, import};

pub struct Env {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub config: ProjectConfig,
    pub store: Store,
}

/// A project with reporting currency USD in `timezone`.
pub fn env(timezone: &str) -> Env {
    env_in(timezone, "")
}

/// [`env`] in a directory whose name starts with `prefix` (paths with spaces and the like).
pub fn env_in(timezone: &str, prefix: &str) -> Env {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let text = kpiflow_model::config::config_template("t", "USD", timezone);
    let config = ProjectConfig::parse(&text, "kpiflow.toml", &root).unwrap();
    let store = Store::open(&config.data_dir).unwrap();
    Env { _dir: dir, root, config, store }
}

impl Env {
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.root.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    pub async fn import(
        &self,
        table: &str,
        files: Vec<PathBuf>,
        mapping: Option<&str>,
        on_error: OnError,
    ) -> Result<ImportOutcome, kpiflow_store::ImportError> {
        let table = kpiflow_model::table(table).unwrap();
        let request = ImportRequest::into_table(
            table,
            files,
            mapping.map(|m| Mapping::parse(m, "m.toml", table).unwrap()),
            None,
            on_error,
            self.root.join("rejects.csv"),
        );
        import(&self.store, &self.config, &request, &mut |_| {}).await
    }

    /// The result of `sql` over the store's tables, as a text table.
    pub async fn query(&self, sql: &str) -> String {
        let ctx = SessionContext::new();
        self.store.register_all(&ctx, None).await.unwrap();
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string()
    }
}
