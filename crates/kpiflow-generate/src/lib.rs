//! A deterministic, streaming generator of a believable B2B SaaS company's tool exports.
//!
//! [`generate`] writes one file per table of the design's thirteen (`kpiflow_model::TABLES`) into a
//! directory, in canonical column names, so `kpiflow import` reads them with no mapping. It backs
//! `kpiflow generate` and `kpiflow demo`.
//!
//! # Contract
//!
//! - **Coverage**: the 24 calendar months ending with [`GenerateOptions::end_month`], days in
//!   UTC. Every time column lies inside them, except `fx_rates`, which also has the 7 days
//!   before the start (so a conversion never lacks a rate).
//! - **Volumes**: at scale 1 about 100 k sessions, 10 k contacts and 1 k deals; traffic, people,
//!   deals and revenue grow linearly with the scale; ad_spend rows, SEO keywords, social posts,
//!   email campaigns, backlinks and costs grow more slowly (a bigger company, not more of it).
//! - **Deterministic**: the same options (seed included) give byte-identical files on the same
//!   platform; another seed gives other data.
//! - **Streaming**: the simulation runs day by day and writes rows as they happen; it keeps only
//!   the state of open entities (visitors with future visits, deals in flight, paying accounts),
//!   never a list of all sessions or contacts. Scale 100 (≈ 10 M sessions, 23 M rows, 2.1 GB of
//!   CSV) takes about 15 s and 20 MB of memory on one core; Parquet adds the writers' row-group
//!   buffers (≈ 150 MB).
//! - **Platform**: floating-point functions (`ln`, `exp`, `cos`) come from the platform's math
//!   library, so byte-identical output is promised on one platform, not across operating
//!   systems.
//! - **Valid**: every row obeys the schema's rules (required values, non-negative numbers, deal
//!   statuses, unique keys), stages come in funnel order after the contact's creation, deals
//!   belong to existing contacts and close after them, clicks ≤ impressions, sent ≥ delivered ≥
//!   opened ≥ clicked.
//!
//! # The story the data tells
//!
//! Visitors arrive through ten channels (organic and paid search, LinkedIn and Meta ads, email,
//! referral, direct, organic social, events, partners), each with its traffic share, bounce rate,
//! conversion rate, offers and sales cycle. A visitor comes back over days or weeks through other
//! channels; the session where they fill in a form creates the contact, and later sessions carry
//! the contact id too (multi-touch journeys for attribution). Trade shows, partner referrals and
//! outbound prospecting add contacts with no session. Contacts move through
//! lead → MQL → SQL → opportunity → customer at channel- and segment-specific rates and delays
//! (sometimes skipping a stage); opportunities become deals that are won, lost or still open; won
//! deals start subscriptions that expand, contract and churn month by month. Ad spend follows the
//! paid sessions of each day; email, social, SEO, backlinks, costs and exchange rates fill the
//! other tables. Traffic dips in summer and December, spikes around a yearly trade show, is
//! quieter at weekends and grows mildly over the two years.

mod calendar;
mod marketing;
mod rng;
mod sim;
mod world;
mod writer;

use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};

pub use calendar::MONTHS;

/// The largest accepted scale (≈ 1 billion sessions, hundreds of GB of CSV).
pub const MAX_SCALE: f64 = 10_000.0;
pub use writer::OutputFormat;

/// What to generate and where.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Directory the files are written to (created if missing; existing files of the same
    /// names are overwritten).
    pub out_dir: PathBuf,
    /// Size of the company, > 0: 1.0 ≈ 100 k sessions, 10 k contacts, 1 k deals.
    pub scale: f64,
    /// Seed of every random draw.
    pub seed: u64,
    pub format: OutputFormat,
    /// First day of the last month covered; the data covers the 24 months ending with it. Any
    /// day of that month is accepted and means the month.
    pub end_month: NaiveDate,
    /// Reporting currency (ISO 4217 code): the currency of deals, revenue, costs and most ad
    /// spend. Meta ads are billed in a second currency (EUR, or GBP when this is EUR) converted
    /// by `fx_rates`.
    pub currency: String,
}

impl GenerateOptions {
    /// Options with the reporting currency USD.
    pub fn new(
        out_dir: impl Into<PathBuf>,
        scale: f64,
        seed: u64,
        format: OutputFormat,
        end_month: NaiveDate,
    ) -> Self {
        GenerateOptions {
            out_dir: out_dir.into(),
            scale,
            seed,
            format,
            end_month,
            currency: "USD".to_owned(),
        }
    }

    /// The same options with another reporting currency.
    pub fn with_currency(mut self, currency: impl Into<String>) -> Self {
        self.currency = currency.into();
        self
    }
}

/// Progress of a run, reported once per simulated day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Days simulated so far (1..=days).
    pub day: u32,
    /// Days in total.
    pub days: u32,
    /// Rows written so far, all tables together.
    pub rows: u64,
}

/// What a run wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateSummary {
    /// Per table, in `kpiflow_model::TABLES` order: table name, file path, rows written.
    pub files: Vec<(String, PathBuf, u64)>,
    pub sessions: u64,
    pub contacts: u64,
    pub deals: u64,
    /// First and last day covered.
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The reporting currency and the second currency (Meta ad spend, `fx_rates`).
    pub currency: String,
    pub second_currency: String,
}

impl GenerateSummary {
    /// Rows written for `table`, if it was written.
    pub fn rows(&self, table: &str) -> Option<u64> {
        self.files.iter().find(|(t, ..)| t == table).map(|(.., n)| *n)
    }

    /// Rows written, all tables together.
    pub fn total_rows(&self) -> u64 {
        self.files.iter().map(|(.., n)| n).sum()
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// An option is out of range (scale ≤ 0, an unknown currency, an end month out of range).
    #[error("invalid option {option}: {message}")]
    InvalidOption { option: &'static str, message: String },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("cannot build a record batch for {}: {source}", path.display())]
    Arrow {
        path: PathBuf,
        #[source]
        source: arrow::error::ArrowError,
    },
    /// A row the generator built breaks the schema: a bug in the generator.
    #[error("internal error (a bug in the generator): {0}")]
    Internal(String),
}

/// Checked options.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub currency: String,
    pub second_currency: &'static str,
}

fn check(opts: &GenerateOptions) -> Result<Checked, GenerateError> {
    if !(opts.scale.is_finite() && opts.scale > 0.0) {
        return Err(GenerateError::InvalidOption {
            option: "scale",
            message: format!("{} is not a number greater than 0", opts.scale),
        });
    }
    if opts.scale > MAX_SCALE {
        return Err(GenerateError::InvalidOption {
            option: "scale",
            message: format!("{} is too large (at most {MAX_SCALE})", opts.scale),
        });
    }
    let currency = kpiflow_model::parse::parse_currency(&opts.currency).ok_or_else(|| {
        GenerateError::InvalidOption {
            option: "currency",
            message: format!(
                "`{}` is not an ISO 4217 currency code; expected one such as USD, EUR, GBP",
                opts.currency
            ),
        }
    })?;
    let year = opts.end_month.year();
    if !(1992..=2100).contains(&year) {
        return Err(GenerateError::InvalidOption {
            option: "end_month",
            message: format!("{} is out of range (years 1992 to 2100)", opts.end_month),
        });
    }
    let second_currency = if currency == "EUR" { "GBP" } else { "EUR" };
    Ok(Checked { currency, second_currency })
}

/// Writes the demo dataset described by `opts`, calling `progress` once per simulated day.
///
/// Creates `out_dir` if needed and writes `<out_dir>/<table>.csv` (or `.parquet`) for each of
/// the 13 canonical tables. On error, files already written may be incomplete.
pub fn generate(
    opts: &GenerateOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<GenerateSummary, GenerateError> {
    let checked = check(opts)?;
    std::fs::create_dir_all(&opts.out_dir)
        .map_err(|source| GenerateError::Io { path: opts.out_dir.clone(), source })?;
    sim::run(opts, &checked, progress)
}
