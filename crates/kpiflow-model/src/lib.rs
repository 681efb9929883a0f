//! kpiflow's data model: the canonical tables, value parsing, the project configuration and
//! mapping files. This crate is light on purpose (no engine dependency), so that tools which only
//! need to know the model — the generator, the catalog, documentation — build fast.

pub mod config;
pub mod mapping;
pub mod parse;
pub mod schema;
pub mod suggest;
pub mod time;
pub mod toml_span;
pub mod tracking;

pub use config::{AttributionConfig, ConfigError, FunnelConfig, ImportConfig, ProjectConfig};
pub use mapping::{Mapping, StageMapping};
pub use schema::{Column, ColumnType, Rule, TABLES, Table, UnknownName, table};
pub use toml_span::{Position, TomlError};
pub use tracking::{
    AlertConfig, AlertRule, AlertingConfig, AnomalyDirection, GoalConfig, GoalTest, SplitRule,
    StatusThresholds,
};
