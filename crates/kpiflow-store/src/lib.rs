//! kpiflow's store: Delta Lake tables under the project's data directory, the import pipeline
//! that fills them, the import log, and the data-quality checks.

pub mod error;
pub mod export;
pub mod import;
pub mod import_log;
pub mod inspect;
pub mod links;
pub mod store;

pub use error::{ImportError, StoreError};
pub use import::{ImportOutcome, ImportProgress, ImportRequest, OnError, import};
pub use import_log::{ImportLog, ImportLogEntry};
pub use links::{Click, Link, LinkError, NewLink};
pub use store::{AsOf, FirstWrite, Scan, Store, UpsertCounts, store_schema};
