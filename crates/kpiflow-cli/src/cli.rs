//! Command-line types, parsed by clap and nothing else: settings are resolved and validated in
//! the commands before any work starts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// kpiflow: B2B marketing KPIs from your tools' exports.
///
/// Load what your ad platforms, web analytics, CRM, billing, email, social and SEO tools export
/// into a local Delta Lake store, then get every KPI defined once and computed correctly.
/// Exit codes: 0 success, 1 user error (bad input, unknown name), 2 internal error.
#[derive(Debug, Parser)]
#[command(name = "kpiflow", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// The project directory (holding kpiflow.toml).
    #[arg(long, global = true, env = "KPIFLOW_PROJECT", default_value = ".", value_name = "DIR")]
    pub project: PathBuf,

    /// Print only errors and the final result.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a project: a commented kpiflow.toml and the data directory.
    Init(InitArgs),
    /// Import exports (CSV, JSON lines, Parquet) into a table, upserting by the table's key.
    Import(ImportArgs),
    /// Show the tables (rows, dates, versions), the import log, quality warnings or the schema.
    Tables(TablesArgs),
    /// Show the KPI catalog: every KPI with its formula, unit, direction and sources.
    Kpis(KpisArgs),
    /// Generate a believable B2B SaaS company's exports, one file per table.
    Generate(GenerateArgs),
    /// Generate the demo company into a fresh project and import it.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the project in (default: --project, else the current directory).
    pub dir: Option<PathBuf>,
    /// Reporting currency (ISO 4217).
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// Reporting timezone (IANA name).
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// Project name shown on the dashboard.
    #[arg(long)]
    pub name: Option<String>,
    /// Overwrite an existing kpiflow.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnErrorArg {
    /// Write nothing when any row is bad (default).
    Fail,
    /// Import the good rows; write the bad ones with their reasons to the rejects file.
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Csv,
    Jsonl,
    Parquet,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The canonical table to import into (see `kpiflow tables --schema`).
    pub table: String,
    /// Files to import; all go in one transaction.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Mapping file (TOML): column renames, constants, formats, value maps, wide stage columns.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// What to do with bad rows.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_error: OnErrorArg,
    /// Where rejected rows go with --on-error skip (default: rejects/<table>-<time>.csv in the
    /// project).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Input format (default: from each file's ending).
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormat>,
    /// Output of the summary.
    #[arg(long, value_enum, default_value = "text")]
    pub format: SummaryFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct TablesArgs {
    /// Print the canonical schema (every table's columns, types, keys and rules) instead.
    #[arg(long, conflicts_with_all = ["check", "log"])]
    pub schema: bool,
    /// Run the data-quality checks and print their warnings.
    #[arg(long)]
    pub check: bool,
    /// With --check: exit 1 when any warning is printed.
    #[arg(long, requires = "check")]
    pub strict: bool,
    /// Print the import log instead.
    #[arg(long)]
    pub log: bool,
    /// Read the store as of an import number (see --log) or a time (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "IMPORT|TIMESTAMP")]
    pub as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct KpisArgs {
    /// Only the KPIs of this group (traffic, ads, leads, funnel, deals, revenue, ...).
    #[arg(long)]
    pub group: Option<String>,
    /// Output format; markdown prints the full reference (KPIs, measures, parameters).
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    Csv,
    Parquet,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write the files into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Size: 1 is about 100 k sessions, 10 k contacts and 1 k deals over 24 months.
    #[arg(long, default_value = "1")]
    pub scale: f64,
    /// Random seed; the same seed gives the same files.
    #[arg(long, default_value = "42")]
    pub seed: u64,
    /// File format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: FileFormat,
    /// Last month covered, YYYY-MM (default: last month).
    #[arg(long, value_name = "YYYY-MM")]
    pub end_month: Option<String>,
    /// Reporting currency of the generated company.
    #[arg(long, default_value = "USD")]
    pub currency: String,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory of the demo project (replaced if it holds an earlier demo).
    #[arg(long, default_value = "kpiflow-demo", value_name = "DIR")]
    pub dir: PathBuf,
    /// Size of the demo company (1 ≈ 100 k sessions).
    #[arg(long, default_value = "1")]
    pub scale: f64,
    /// Random seed.
    #[arg(long, default_value = "42")]
    pub seed: u64,
}
