//! kpiflow's store: Delta Lake tables under the project's data directory, the import pipeline
//! that fills them, the import log, and the data-quality checks.

pub mod error;
pub mod export;
pub mod import;
pub mod import_log;
pub mod inspect;
pub mod links;
pub mod presets;
pub mod store;

pub use error::{ImportError, StoreError};
pub use import::resolve::{Resolved, Target, resolve, resolve_named};
pub use import::{
    ImportFile, ImportOutcome, ImportProgress, ImportRequest, OnError, Reading, import,
};
pub use import_log::{ImportLog, ImportLogEntry};
pub use links::{Click, Link, LinkError, NewLink};
pub use store::{AsOf, FirstWrite, Scan, Store, UpsertCounts, store_schema};
