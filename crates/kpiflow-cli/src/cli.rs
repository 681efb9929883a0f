//! Command-line types, parsed by clap and nothing else: settings are resolved and validated in
//! the commands before any work starts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// kpiflow: B2B marketing KPIs from your tools' exports.
///
/// Load what your ad platforms, web analytics, CRM, billing, email, social and SEO tools export
/// into a local Delta Lake store, then get every KPI defined once and computed correctly.
/// Exit codes: 0 success, 1 user error (bad input, unknown name), 2 internal error, 3 alerts fired
/// (`kpiflow alerts`).
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
    /// Import exports (CSV, JSON lines, Parquet, Excel, zips) into the canonical tables, upserting
    /// by each table's key: through the preset detected from each file, a preset you name, or a
    /// table and mapping.
    Import(ImportArgs),
    /// The presets: vendors' exports kpiflow reads with no mapping to write (name, vendor,
    /// tables, how to export the file from the tool).
    Presets(PresetsArgs),
    /// Show the tables (rows, dates, versions), the import log, quality warnings or the schema.
    Tables(TablesArgs),
    /// Write the store's tables as Parquet or CSV files, one per table (for a warehouse, another
    /// tool, or a benchmark peer).
    Export(ExportArgs),
    /// Show the KPI catalog: every KPI with its formula, unit, direction and sources.
    Kpis(KpisArgs),
    /// Print one KPI's query as SQL for a warehouse (PostgreSQL, MySQL, SQLite, DuckDB,
    /// BigQuery), from the plan the report runs, over tables named and shaped as `export` writes
    /// them.
    Sql(SqlArgs),
    /// Compute KPIs: split by dimensions, per day, week, month, quarter, year or fiscal period,
    /// compared with the previous period or a year earlier.
    Report(ReportArgs),
    /// The lifecycle funnel: stage counts, conversions and the days between stages.
    Funnel(FunnelArgs),
    /// Multi-touch attribution: credit for conversions per channel under several models side by
    /// side (rule-based, Markov, Shapley), with spend, cost per conversion, ROAS and ROI.
    Attribution(AttributionArgs),
    /// UTM-tagged short links: `/l/CODE` on `kpiflow serve` records each click (a touchpoint of
    /// attribution journeys) and redirects to the tagged target.
    #[command(subcommand)]
    Links(LinksCommand),
    /// Goals of kpiflow.toml: actual, expected to date, projection, progress and status, with
    /// each goal's quarters and months.
    Goals(GoalsArgs),
    /// Reverse-funnel plan: from a revenue or customers target, the customers, opportunities,
    /// SQLs, MQLs, leads, sessions and media budget a period needs, per quarter.
    Plan(PlanArgs),
    /// Name the funnel's bottleneck in a period, against the trailing history or a plan, with the
    /// advice for it and the figures behind it.
    Diagnose(DiagnoseArgs),
    /// Check the alert rules of kpiflow.toml (thresholds and anomalies); exit 3 when any fires,
    /// and POST a Slack-compatible message to the webhook.
    Alerts(AlertsArgs),
    /// Generate a believable B2B SaaS company's exports, one file per table.
    Generate(GenerateArgs),
    /// Serve the dashboard and the JSON API (loopback unless told otherwise).
    Serve(ServeArgs),
    /// Generate the demo company into a fresh project, import it and serve the dashboard.
    Demo(DemoArgs),
    /// Run Ballista scheduler and executor processes, for `--engine df://HOST:PORT` on
    /// `report`, `funnel`, `attribution` and `serve`.
    #[command(subcommand)]
    Cluster(ClusterCommand),
}

/// `--engine`: where queries run.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Where queries run: `embedded` (in this process) or a cluster's scheduler,
    /// `df://HOST:PORT` (started by `kpiflow cluster scheduler`; its executors must read the
    /// project's data directory at the same path as this machine).
    #[arg(
        long,
        env = "KPIFLOW_ENGINE",
        default_value = "embedded",
        value_name = "embedded|df://HOST:PORT"
    )]
    pub engine: String,
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Start a scheduler: it plans the queries clients send into stages and hands their tasks
    /// to executors. Runs until Ctrl-C.
    Scheduler(SchedulerArgs),
    /// Start an executor that registers with a scheduler and runs its tasks, reading the
    /// tables' files itself. Runs until Ctrl-C.
    Executor(ExecutorArgs),
}

#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Address to listen on, IP:PORT: gRPC for clients and executors, the REST API under /api
    /// and readiness at /readyz. Use the machine's address (or 0.0.0.0) for executors on other
    /// machines.
    #[arg(long, default_value = "127.0.0.1:50050", value_name = "IP:PORT")]
    pub bind: String,
    /// The host name clients and executors reach this machine by (default: the --bind IP).
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler: df://HOST:PORT, HOST:PORT or HOST (port 50050).
    #[arg(long, value_name = "HOST:PORT")]
    pub scheduler: String,
    /// Address of the executor's Arrow Flight service, IP:PORT (results and shuffle data are
    /// read from it). Each executor on a machine needs its own ports.
    #[arg(long, default_value = "127.0.0.1:50051", value_name = "IP:PORT")]
    pub bind: String,
    /// Port of the executor's gRPC service (tasks from the scheduler), on the --bind IP.
    #[arg(long, default_value_t = 50052, value_name = "PORT")]
    pub grpc_port: u16,
    /// The host name the scheduler, clients and other executors reach this machine by
    /// (default: the address the scheduler sees).
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
    /// Tasks run at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub vcores: Option<usize>,
    /// Directory for shuffle files (default: a temporary directory, removed on exit).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, IP:PORT (default: [server] addr in kpiflow.toml, else
    /// 127.0.0.1:8080; port 0 picks a free port). Imports over HTTP need a token:
    /// [server] token or the KPIFLOW_TOKEN environment variable.
    #[arg(long, value_name = "IP:PORT")]
    pub addr: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
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

#[derive(Debug, Args)]
#[command(
    after_long_help = "Examples:\n  kpiflow import hubspot-crm-exports-all-contacts-2025-06-01.csv\n  \
kpiflow import Campaign_report.csv thetool.guru-Performance-on-Search-2026-03-03.zip\n  \
kpiflow import deals deals.csv --mapping hubspot-deals.toml\n  \
kpiflow import --preset meta-ads export.csv"
)]
pub struct ImportArgs {
    /// A canonical table (see `kpiflow tables --schema`) followed by the files to import into
    /// it; or only files, zips and folders, each read through the preset detected from it (see
    /// `kpiflow presets`). All go in one import.
    #[arg(required = true, value_name = "TABLE|FILE")]
    pub targets: Vec<PathBuf>,
    /// Read every file through this preset instead of detecting one.
    #[arg(long, value_name = "NAME", conflicts_with = "mapping")]
    pub preset: Option<String>,
    /// Mapping file (TOML): column renames, constants, formats, value maps, wide stage columns,
    /// preambles, footers, encodings, number formats. Names its table with `table = "…"` when
    /// no TABLE is given.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// What to do with bad rows.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_error: OnErrorArg,
    /// Where rejected rows go with --on-error skip (default: rejects/<table>-<time>.csv in the
    /// project).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Input format: csv, jsonl, parquet or xlsx (default: from each file's ending).
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<String>,
    /// Output of the summary.
    #[arg(long, value_enum, default_value = "text")]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct PresetsArgs {
    #[command(subcommand)]
    pub command: Option<PresetsCommand>,
    /// Output format of the list.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum PresetsCommand {
    /// Print a preset as a mapping file to copy and adapt (`kpiflow import TABLE FILE
    /// --mapping it.toml`).
    Show {
        /// The preset's name (see `kpiflow presets`).
        name: String,
    },
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
pub struct ExportArgs {
    /// The directory the files are written to (created when missing); each table becomes
    /// `TABLE.parquet` or `TABLE.csv`, replacing a file of that name.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only these tables (comma-separated or repeated); every table with data when left out.
    #[arg(long = "table", value_name = "TABLE", value_delimiter = ',')]
    pub tables: Vec<String>,
    /// File format: Parquet keeps the canonical types (UTC timestamps, dates, numbers).
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: ExportFormatArg,
    /// Export the store as of an import number (see `tables --log`) or a time.
    #[arg(long, value_name = "IMPORT|TIMESTAMP")]
    pub as_of: Option<String>,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The KPI's id (`kpiflow kpis` lists them).
    #[arg(value_name = "KPI")]
    pub kpi: String,
    /// Split by these dimensions, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "DIM,...")]
    pub by: Vec<String>,
    /// Time grain. Default: month without a period, total with one.
    #[arg(long, value_enum)]
    pub grain: Option<GrainArg>,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Keep rows where DIM equals VALUE; repeat it (several values of one dimension are
    /// alternatives).
    #[arg(long = "where", value_name = "DIM=VALUE")]
    pub filters: Vec<String>,
    /// The SQL dialect of the warehouse.
    #[arg(long, value_enum)]
    pub dialect: SqlDialectArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqlDialectArg {
    Postgres,
    Mysql,
    Sqlite,
    Duckdb,
    Bigquery,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormatArg {
    Parquet,
    Csv,
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
pub enum GrainArg {
    Day,
    /// ISO week (Monday to Sunday).
    Week,
    Month,
    Quarter,
    Year,
    /// Quarters of the fiscal year (project.fiscal_year_start_month).
    #[value(name = "fiscal_quarter", alias = "fiscal-quarter")]
    FiscalQuarter,
    #[value(name = "fiscal_year", alias = "fiscal-year")]
    FiscalYear,
    /// The whole period as one figure.
    Total,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareArg {
    /// The previous period of the same grain (for total: of the same length).
    Previous,
    /// The same period a year earlier.
    Yoy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RateArg {
    /// Later-stage entries in the period ÷ earlier-stage entries in the period.
    Period,
    /// Of those entering the earlier stage in the period, the share reaching the later one
    /// within --window days.
    Cohort,
}

#[derive(Debug, Args)]
pub struct PeriodArgs {
    /// The period: 2025, 2025-H1, 2025-Q1, 2025-03, 2025-W05, 2025-03-14, FY2026, FY2026-H1 or
    /// FY2026-Q1 (fiscal years are named by the year they end in). Default: the 12 months up to
    /// the last month with data.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub period: Option<String>,
    /// First day of a custom period (YYYY-MM-DD).
    #[arg(long, requires = "to", value_name = "DATE")]
    pub from: Option<String>,
    /// Last day of a custom period, included (YYYY-MM-DD).
    #[arg(long, requires = "from", value_name = "DATE")]
    pub to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FunnelModeArg {
    /// The cohort entering the first stage in the period, each stage reached in order within
    /// --window days.
    Ordered,
    /// Each stage's entries in the period, whatever came before.
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CountByArg {
    Contact,
    /// An account enters a stage when its first contact does.
    Account,
}

#[derive(Debug, Args)]
pub struct FunnelArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    #[arg(long, value_enum, default_value = "ordered")]
    pub mode: FunnelModeArg,
    /// Conversion window of the ordered funnel, in days from the first stage.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    pub window: u32,
    /// Break the funnel down by a contact dimension (channel, region, segment, original_source, ...).
    #[arg(long, value_name = "DIM")]
    pub by: Option<String>,
    /// Count contacts or accounts.
    #[arg(long = "count", value_enum, default_value = "contact")]
    pub count_by: CountByArg,
    /// Keep contacts where DIM equals VALUE; repeat it.
    #[arg(long = "where", value_name = "DIM=VALUE")]
    pub filters: Vec<String>,
    /// The store as it was right after import N, or at a time (RFC 3339).
    #[arg(long, value_name = "N|TIME")]
    pub as_of: Option<String>,
    /// Output format. CSV has one row per stage, then one per transition (column `section`).
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Subcommand)]
pub enum LinksCommand {
    /// Create a short link to URL with UTM tags.
    Add(LinksAddArgs),
    /// List the links with their clicks.
    List(LinksListArgs),
}

#[derive(Debug, Args)]
pub struct LinksAddArgs {
    /// The target page (absolute http or https URL).
    pub url: String,
    /// utm_source of the clicks (linkedin, newsletter, partner-x, ...).
    #[arg(long)]
    pub source: String,
    /// utm_medium (social, email, referral, ...): with the source, it decides the channel.
    #[arg(long)]
    pub medium: String,
    #[arg(long)]
    pub campaign: Option<String>,
    #[arg(long)]
    pub content: Option<String>,
    #[arg(long)]
    pub term: Option<String>,
    /// The code (letters, digits, `-`, `_`); generated when left out.
    #[arg(long)]
    pub code: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct LinksListArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct AttributionArgs {
    /// Models, comma-separated, or `all`: first, last, last_non_direct, linear, time_decay
    /// (time_decay:DAYS sets the half-life, default 7), u_shaped, w_shaped, full_path, j_shaped,
    /// inverse_j, markov (markov:ORDER, 1 to 4, default 1), shapley. docs/attribution.md says how
    /// each splits the credit.
    #[arg(long, default_value = "first,last,linear,markov", value_name = "MODEL,...")]
    pub model: String,
    /// Attribute aggregated paths from FILE instead of the project's journeys: the
    /// ChannelAttribution format (path of channels joined by `>`, total_conversions, optional
    /// total_conversion_value and total_null; delimiter detected; repeated paths summed).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["conversion", "lookback", "as_of"])]
    pub paths: Option<PathBuf>,
    /// What journeys end at: a funnel stage (lead, mql, sql, opportunity, customer) or revenue
    /// (won deals, credit weighted by amount). Default: lead.
    #[arg(long, value_name = "TARGET")]
    pub conversion: Option<String>,
    /// Conversions in this period (see `report --period`).
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Touches up to this many days before a conversion count (default: [attribution]
    /// lookback_days, 90).
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub lookback: Option<u32>,
    /// The store as it was right after import N, or at a time (RFC 3339).
    #[arg(long, value_name = "N|TIME")]
    pub as_of: Option<String>,
    /// Output format. CSV has one row per model and channel: model, channel, conversions, value,
    /// share, then spend, cost_per_conversion, roas and roi (empty when unknown).
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Print the time of each step (`timing <step> <ms>`) to stderr.
    #[arg(long)]
    pub timings: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// KPI ids, comma-separated (`kpiflow kpis` lists them). Without: the overview, every
    /// non-vanity KPI with data.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub kpi: Vec<String>,
    /// Split by these dimensions, comma-separated (channel, campaign, region, segment,
    /// original_source, owner, ...).
    #[arg(long, value_delimiter = ',', value_name = "DIM,...")]
    pub by: Vec<String>,
    /// Time grain. Default: month without a period, total with one.
    #[arg(long, value_enum)]
    pub grain: Option<GrainArg>,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Compare each figure with the previous period or the same period a year earlier.
    #[arg(long, value_enum)]
    pub compare: Option<CompareArg>,
    /// Keep rows where DIM equals VALUE; repeat it (several values of one dimension are
    /// alternatives).
    #[arg(long = "where", value_name = "DIM=VALUE")]
    pub filters: Vec<String>,
    /// How stage conversion rates are computed.
    #[arg(long, value_enum, default_value = "period")]
    pub rate: RateArg,
    /// Conversion window of cohort rates, in days.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    pub window: u32,
    /// Every KPI of the catalog, vanity ones and those without data included.
    #[arg(long, conflicts_with = "kpi")]
    pub all: bool,
    /// Benchmarks: compute the report this many times in one process (warm runs) and print
    /// each run's time on stderr.
    #[arg(long, hide = true, default_value_t = 1)]
    pub repeat: usize,
    /// Benchmarks: recompute every run instead of reusing the engine's results.
    #[arg(long, hide = true)]
    pub no_result_cache: bool,
    /// The store as it was right after import N, or at a time (RFC 3339).
    #[arg(long, value_name = "N|TIME")]
    pub as_of: Option<String>,
    /// Output format. CSV and JSON carry plain numbers: rates as fractions, money in the
    /// reporting currency, an empty cell (or null) for no value.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    #[command(flatten)]
    pub engine: EngineArgs,
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
    /// Address to serve the dashboard on, IP:PORT.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "IP:PORT")]
    pub addr: String,
    /// Generate and import only; do not serve.
    #[arg(long)]
    pub no_serve: bool,
}

#[derive(Debug, Args)]
pub struct GoalsArgs {
    /// Only these goals (ids, comma-separated), with their children.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub goal: Vec<String>,
    /// Count the days up to and including DATE (YYYY-MM-DD). Default: the last day with data.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// The store as it was right after import N, or at a time (RFC 3339).
    #[arg(long, value_name = "N|TIME")]
    pub as_of: Option<String>,
    /// Output format. CSV has one row per goal (section `goal`), then one per quarter and month
    /// (sections `quarter`, `month`); JSON also holds the daily pacing line.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// What to plan for: won_revenue=AMOUNT (reporting currency) or customers=COUNT.
    #[arg(long, value_name = "KPI=VALUE")]
    pub target: String,
    /// The plan's period (see `report --period`), such as FY2027 or 2027-H1.
    #[arg(long, value_name = "PERIOD")]
    pub period: String,
    /// Where the rates come from: `trailing` (the 12 months up to the last month with data) or a
    /// TOML file of `rate = value` lines (any rate left out stays trailing).
    #[arg(long, default_value = "trailing", value_name = "trailing|FILE")]
    pub rates: String,
    /// What-if: set one rate, such as mql_to_sql_rate=0.5, avg_deal_size=30000 or cpl=150;
    /// repeat it. `kpiflow plan` lists the rates with their sources.
    #[arg(long = "set", value_name = "RATE=VALUE")]
    pub set: Vec<String>,
    /// Append the plan to kpiflow.toml as goals: an objective with id PREFIX (default
    /// plan-<period>) and one child goal per row.
    #[arg(long, value_name = "PREFIX", num_args = 0..=1, default_missing_value = "")]
    pub save_goals: Option<String>,
    /// The store as it was right after import N, or at a time (RFC 3339).
    #[arg(long, value_name = "N|TIME")]
    pub as_of: Option<String>,
    /// Output format. CSV has one row per step (section `row`), then one per rate (section
    /// `rate`).
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// The period diagnosed. Default: the last complete fiscal quarter.
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Compare with the plan for this target (won_revenue=AMOUNT or customers=COUNT) instead
    /// of the 12 months before the period.
    #[arg(long, value_name = "KPI=VALUE", requires = "plan_period")]
    pub target: Option<String>,
    /// The plan's period (with --target); it must hold the diagnosed period.
    #[arg(long, value_name = "PERIOD", requires = "target")]
    pub plan_period: Option<String>,
    /// The plan's rates (with --target): `trailing` or a TOML file of `rate = value` lines.
    #[arg(long, default_value = "trailing", value_name = "trailing|FILE")]
    pub rates: String,
    /// The plan's what-ifs (with --target), such as mql_to_sql_rate=0.5; repeat it.
    #[arg(long = "set", value_name = "RATE=VALUE")]
    pub set: Vec<String>,
    /// The store as it was right after import N, or at a time (RFC 3339).
    #[arg(long, value_name = "N|TIME")]
    pub as_of: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Check every bucket from DATE (YYYY-MM-DD) on, not only the last complete one.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Count the days up to and including DATE. Default: the last day with data.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// POST fired alerts to this URL (Slack-compatible JSON); default: [alerting] webhook.
    #[arg(long, value_name = "URL", conflicts_with = "no_webhook")]
    pub webhook: Option<String>,
    /// Do not POST, even with [alerting] webhook set.
    #[arg(long)]
    pub no_webhook: bool,
    /// The store as it was right after import N, or at a time (RFC 3339).
    #[arg(long, value_name = "N|TIME")]
    pub as_of: Option<String>,
    /// Output format. CSV and JSON have one row per bucket checked.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}
