//! The KPI engine: catalog entries compiled to DataFusion logical plans over the store.
//!
//! An [`Engine`] holds one session over one snapshot of the store (latest, or as of an import or
//! a time): the canonical tables as Delta scans, the channel functions bound to the project's
//! rules, and the derived sources of the catalog (`stage_entries`, `won_deal_cycles`, ...) built
//! from them. A [`report::ReportRequest`] (KPIs × dimensions × grain × period × filters ×
//! comparison) becomes one aggregate plan per source, time column and split — measures that share
//! them are computed in one scan — and KPI formulas are then evaluated over those measures.

pub mod attribution;
pub mod eval;
pub mod frames;
pub mod funnel;
pub mod json;
pub mod portable;
pub mod report;
pub mod sql;
pub mod tracking;
pub mod udf;

/// Grains, periods and comparisons live in the light model crate (goals in `kpiflow.toml` name
/// periods); the engine re-exports them under their old path.
pub use kpiflow_model::time;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::error::DataFusionError;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use kpiflow_catalog::Catalog;
use kpiflow_catalog::channels::ChannelRules;
use kpiflow_model::{ProjectConfig, UnknownName};
use kpiflow_store::{AsOf, Scan, Store, StoreError};
use tokio::sync::Mutex;

pub use report::{RateKind, Report, ReportRequest, ReportRow};
pub use time::{Calendar, Compare, Grain, Period};

/// Why a request cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A name the catalog does not know (KPI, dimension), with a "did you mean".
    #[error(transparent)]
    Unknown(#[from] UnknownName),
    /// A request that does not hold together (split by a dimension a KPI lacks, a bad period).
    #[error("{0}")]
    Request(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The cluster asked for cannot be used or failed a query (its scheduler or an executor
    /// lost, an executor that cannot read the data directory): the user's to fix, so exit 1,
    /// and HTTP 503 (the service behind the server is unavailable), not a bug.
    #[error("{0}")]
    Cluster(String),
    /// A query failed: a bug, or a store that cannot be read.
    #[error("query failed: {0}")]
    Query(#[from] DataFusionError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<arrow::error::ArrowError> for EngineError {
    fn from(e: arrow::error::ArrowError) -> Self {
        EngineError::Query(e.into())
    }
}

impl EngineError {
    /// Whether the user can fix it (exit 1, HTTP 4xx) rather than a bug (exit 2, HTTP 5xx).
    pub fn is_user_error(&self) -> bool {
        match self {
            EngineError::Unknown(_) | EngineError::Request(_) | EngineError::Cluster(_) => true,
            EngineError::Store(e) => e.is_user_error(),
            EngineError::Query(_) | EngineError::Internal(_) => false,
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// The DataFusion settings of every engine session, embedded or on a cluster (where they
/// travel with each job to the scheduler and the executors).
pub fn session_config(base: SessionConfig) -> SessionConfig {
    base.with_information_schema(false)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
}

/// Where an engine's plans run.
#[derive(Debug, Clone, Default)]
pub enum Runtime {
    /// In this process, over the store's Delta tables (the default).
    #[default]
    Embedded,
    /// On a cluster, through the client sessions `Cluster` opens.
    Cluster(Arc<dyn ClusterSessions>),
}

/// Opens client sessions on a cluster (kpiflow-cluster implements it for Ballista; the engine
/// does not depend on Ballista).
pub trait ClusterSessions: std::fmt::Debug + Send + Sync {
    /// A new session whose queries run on the cluster, with `config`'s settings.
    fn session(&self, config: SessionConfig) -> Result<SessionContext>;
    /// The cluster's address, for messages (`df://host:port`).
    fn address(&self) -> String;
}

/// One session over one snapshot of a project's store.
pub struct Engine {
    pub(crate) ctx: SessionContext,
    pub(crate) config: ProjectConfig,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) calendar: Calendar,
    /// The canonical tables that exist in this snapshot, and the link tables (`_links`,
    /// `_link_clicks`) when there are links.
    pub(crate) tables: BTreeSet<&'static str>,
    /// Derived sources built once and kept in memory (contacts with their first touch, stage
    /// entries), so one report does not rebuild them for every measure group.
    pub(crate) cache: Mutex<HashMap<&'static str, Arc<tokio::sync::OnceCell<DataFrame>>>>,
    /// Results of measure groups already computed on this snapshot (see `report::cached_group`).
    pub(crate) results: Mutex<HashMap<String, Arc<report::GroupResult>>>,
    /// Funnels already computed on this snapshot, by request.
    pub(crate) funnels: Mutex<HashMap<String, funnel::Funnel>>,
    /// Attributions already computed on this snapshot, by request.
    pub(crate) attributions: Mutex<HashMap<String, attribution::AttributionReport>>,
    pub(crate) result_cache: std::sync::atomic::AtomicBool,
    /// The last local date with data in any table.
    pub(crate) data_end: Mutex<Option<Option<NaiveDate>>>,
    /// The first local date with data in any table.
    pub(crate) data_start: Mutex<Option<Option<NaiveDate>>>,
    /// The project's channel rules (the functions registered in `ctx` are bound to them).
    pub(crate) rules: Arc<ChannelRules>,
    /// Plans for outside the process (`kpiflow sql`): channel functions as plain SQL
    /// expressions and derived sources as subqueries rather than cached in memory.
    pub(crate) portable: std::sync::atomic::AtomicBool,
    /// On a cluster: its address and the data directory its executors read, for errors.
    pub(crate) cluster: Option<(String, std::path::PathBuf)>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("tables", &self.tables).finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the store as of `as_of` (latest when `None`), in this process.
    pub async fn open(
        store: &Store,
        config: &ProjectConfig,
        catalog: Catalog,
        rules: ChannelRules,
        as_of: Option<AsOf>,
    ) -> Result<Engine> {
        Self::open_on(&Runtime::Embedded, store, config, catalog, rules, as_of).await
    }

    /// Opens the store as of `as_of` (latest when `None`) with its plans run by `runtime`.
    ///
    /// On a cluster the tables are registered as the Parquet files of the snapshot's Delta
    /// versions ([`Scan::Files`]) and the engine builds portable plans (see
    /// [`Engine::set_portable`]): nothing in them needs this process, so the scheduler and the
    /// executors need neither a Delta codec nor kpiflow's functions, and the project's channel
    /// rules travel inside the plan.
    pub async fn open_on(
        runtime: &Runtime,
        store: &Store,
        config: &ProjectConfig,
        catalog: Catalog,
        rules: ChannelRules,
        as_of: Option<AsOf>,
    ) -> Result<Engine> {
        let (ctx, scan) = match runtime {
            Runtime::Embedded => {
                (SessionContext::new_with_config(session_config(SessionConfig::new())), Scan::Delta)
            }
            Runtime::Cluster(cluster) => {
                (cluster.session(session_config(SessionConfig::new()))?, Scan::Files)
            }
        };
        let mut tables: BTreeSet<&'static str> =
            store.register_all_with(&ctx, as_of, scan).await?.into_iter().collect();
        // Short-link clicks are touchpoints of attribution journeys (not versioned with imports:
        // the latest clicks are read whatever `as_of` says).
        tables.extend(store.register_links(&ctx, scan).await?);
        let mut engine = Self::with_context(ctx, tables, config, catalog, rules);
        if let Runtime::Cluster(cluster) = runtime {
            engine.set_portable(true);
            engine.cluster = Some((cluster.address(), config.data_dir.clone()));
        }
        Ok(engine)
    }

    /// An engine over tables already registered in `ctx` under their canonical names (tests,
    /// other stores).
    pub fn with_context(
        ctx: SessionContext,
        tables: BTreeSet<&'static str>,
        config: &ProjectConfig,
        catalog: Catalog,
        rules: ChannelRules,
    ) -> Engine {
        let rules = Arc::new(rules);
        for f in udf::channel_udfs(&rules) {
            ctx.register_udf(f);
        }
        Engine {
            ctx,
            config: config.clone(),
            catalog: Arc::new(catalog),
            calendar: Calendar { fiscal_start_month: config.fiscal_year_start_month },
            tables,
            cache: Mutex::new(HashMap::new()),
            results: Mutex::new(HashMap::new()),
            funnels: Mutex::new(HashMap::new()),
            attributions: Mutex::new(HashMap::new()),
            result_cache: std::sync::atomic::AtomicBool::new(true),
            data_end: Mutex::new(None),
            data_start: Mutex::new(None),
            rules,
            portable: std::sync::atomic::AtomicBool::new(false),
            cluster: None,
        }
    }

    /// A query's failure on a cluster as the cluster's: where it ran and what the executors
    /// need. (Everything the engine sends is a plan DataFusion itself runs in this process, so
    /// a failure there is most likely the cluster's: a lost executor, files it cannot read.)
    pub(crate) fn on_cluster<T>(&self, result: Result<T>) -> Result<T> {
        match (&self.cluster, result) {
            (Some((address, data_dir)), Err(EngineError::Query(e))) => {
                Err(EngineError::Cluster(format!(
                    "the query failed on the cluster {address}: {e} (its executors must reach \
                     each other and read the data directory {} at that same path)",
                    data_dir.display()
                )))
            }
            (_, result) => result,
        }
    }

    /// Builds plans for outside the process from now on (see [`Engine::sql`]): no scalar
    /// function of kpiflow's and no in-memory table appears in them.
    pub fn set_portable(&self, on: bool) {
        self.portable.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn is_portable(&self) -> bool {
        self.portable.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Turns the result cache off (benchmarks of recomputation) or on (the default).
    pub fn set_result_cache(&self, on: bool) {
        self.result_cache.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn result_cache_enabled(&self) -> bool {
        self.result_cache.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The project configuration this engine was opened with.
    pub fn config(&self) -> &ProjectConfig {
        &self.config
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn calendar(&self) -> Calendar {
        self.calendar
    }

    /// Whether a canonical table exists in this snapshot.
    pub fn has_table(&self, name: &str) -> bool {
        self.tables.contains(name)
    }

    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }
}
