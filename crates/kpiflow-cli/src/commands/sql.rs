//! `kpiflow sql KPI [--by ...] [--grain ...] [--period ...] [--where ...] --dialect D`.

use std::path::Path;

use kpiflow_engine::sql::{SqlDialect, SqlRequest};

use super::Project;
use super::report::{grain, open_engine, parse_filters, resolve_period};
use crate::cli::{SqlArgs, SqlDialectArg};

pub async fn run(project_dir: &Path, args: SqlArgs) -> anyhow::Result<()> {
    let project = Project::open(project_dir)?;
    // A fresh engine: SQL export switches it to plans that can leave the process.
    let engine = open_engine(&project, None).await?;
    let request = SqlRequest {
        kpi: args.kpi.trim().to_owned(),
        by: args.by.iter().map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()).collect(),
        grain: args.grain.map(grain),
        period: resolve_period(&args.period, &engine)?,
        filters: parse_filters(&args.filters)?,
    };
    let dialect = match args.dialect {
        SqlDialectArg::Postgres => SqlDialect::Postgres,
        SqlDialectArg::Mysql => SqlDialect::Mysql,
        SqlDialectArg::Sqlite => SqlDialect::Sqlite,
        SqlDialectArg::Duckdb => SqlDialect::Duckdb,
        SqlDialectArg::Bigquery => SqlDialect::Bigquery,
    };
    print!("{}", engine.sql(&request, dialect).await?);
    let unchecked = match dialect {
        SqlDialect::Duckdb => None,
        SqlDialect::Postgres => Some("median() (use percentile_cont(0.5) WITHIN GROUP)"),
        SqlDialect::Mysql | SqlDialect::Sqlite | SqlDialect::Bigquery => {
            Some("date_trunc, split_part, date_part('epoch'), median and percentile_cont")
        }
    };
    if let Some(functions) = unchecked {
        eprintln!(
            "note: only the duckdb dialect is checked against its engine; {} may need {functions} \
             translated by hand",
            dialect.name()
        );
    }
    Ok(())
}
