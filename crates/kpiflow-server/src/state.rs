//! What every request shares: the project, and one engine per snapshot of the store.
//!
//! An [`Engine`] caches derived sources and computed measure groups, so the server keeps one
//! and answers every request from it — until the store changes. Each request compares a cheap
//! stamp of the store (the newest commit file of every table's Delta log, a directory listing
//! per table) with the engine's, so an import through the API or the CLI is seen by the next
//! request; the engine over the new snapshot is opened once, by one request, while others wait.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kpiflow_catalog::Catalog;
use kpiflow_catalog::channels::ChannelRules;
use kpiflow_engine::{Engine, Runtime};
use kpiflow_model::{ProjectConfig, TABLES};
use kpiflow_store::Store;
use tokio::sync::{Mutex, RwLock};

use crate::error::{ApiError, ApiResult};

/// Everything the server needs, resolved and validated before it binds.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub project_dir: PathBuf,
    pub config: ProjectConfig,
    pub catalog: Catalog,
    pub rules: ChannelRules,
    /// Bearer token for writes; `None` turns write endpoints off.
    pub token: Option<String>,
    /// Where the engine's queries run (this process, or a cluster).
    pub runtime: Runtime,
}

/// Shared state, cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    options: ServerOptions,
    store: Store,
    engine: RwLock<Option<(Stamp, Arc<Engine>)>>,
    /// Held while an engine is being opened, so concurrent requests open it once.
    opening: Mutex<()>,
    /// Held during an import: the store takes one writer at a time.
    pub(crate) importing: Mutex<()>,
    query_timeout: Duration,
}

/// The newest Delta commit of each table: changes whenever any table does.
type Stamp = Vec<Option<String>>;

impl AppState {
    pub fn new(options: ServerOptions) -> Result<AppState, kpiflow_store::StoreError> {
        let store = Store::open(&options.config.data_dir)?;
        let query_timeout = Duration::from_secs(options.config.server.query_timeout_secs);
        Ok(AppState(Arc::new(Inner {
            options,
            store,
            engine: RwLock::new(None),
            opening: Mutex::new(()),
            importing: Mutex::new(()),
            query_timeout,
        })))
    }

    pub fn options(&self) -> &ServerOptions {
        &self.0.options
    }

    pub fn config(&self) -> &ProjectConfig {
        &self.0.options.config
    }

    pub fn catalog(&self) -> &Catalog {
        &self.0.options.catalog
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn project_dir(&self) -> &Path {
        &self.0.options.project_dir
    }

    pub(crate) fn import_lock(&self) -> &Mutex<()> {
        &self.0.importing
    }

    /// The engine over the store as it is now.
    pub async fn engine(&self) -> ApiResult<Arc<Engine>> {
        let stamp = self.stamp();
        if let Some((s, engine)) = &*self.0.engine.read().await
            && *s == stamp
        {
            return Ok(engine.clone());
        }
        let _opening = self.0.opening.lock().await;
        // Another request may have opened it while this one waited.
        let stamp = self.stamp();
        if let Some((s, engine)) = &*self.0.engine.read().await
            && *s == stamp
        {
            return Ok(engine.clone());
        }
        let o = &self.0.options;
        let engine = Engine::open_on(
            &o.runtime,
            &self.0.store,
            &o.config,
            o.catalog.clone(),
            o.rules.clone(),
            None,
        )
        .await
        .map_err(ApiError::from)?;
        let engine = Arc::new(engine);
        *self.0.engine.write().await = Some((stamp, engine.clone()));
        Ok(engine)
    }

    /// Runs a query with the configured time bound: past it, the query is dropped (DataFusion
    /// stops its tasks) and the request answers 503. On a cluster (`serve --engine df://...`)
    /// only the client's side stops: Ballista 55's client does not cancel a job it drops, so
    /// the job runs to its end on the executors.
    pub async fn bounded<T>(&self, work: impl Future<Output = ApiResult<T>>) -> ApiResult<T> {
        match tokio::time::timeout(self.0.query_timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!(
                    "the query ran longer than {} s and was stopped",
                    self.0.query_timeout.as_secs()
                ),
            )
            .hint("ask for fewer KPIs, a shorter period or a coarser grain, or raise [server] query_timeout_secs")),
        }
    }

    fn stamp(&self) -> Stamp {
        TABLES
            .iter()
            .map(|t| t.name)
            .chain([kpiflow_store::import_log::IMPORT_LOG_TABLE])
            .map(|name| {
                let log = self.0.store.table_dir(name).join("_delta_log");
                let entries = std::fs::read_dir(log).ok()?;
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| n.ends_with(".json"))
                    .max()
            })
            .collect()
    }
}
