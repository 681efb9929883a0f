//! `kpiflow import`: files → mapping or preset → typed, validated rows → one upsert per table.
//!
//! The contract (DESIGN §11): bad input gets an error naming file, line, column, value and what
//! was expected; errors are collected (up to `import.max_errors`), not stopped at the first. With
//! [`OnError::Fail`] nothing is written when any row is bad; with [`OnError::Skip`] the good rows
//! commit and every bad row goes to the rejects file with its reason. Each table is written in one
//! Delta transaction; an import that writes several tables (a preset's, a wide export's
//! `stage_changes`) writes them one after another (re-running the import completes an
//! interrupted one).
//!
//! Each file is read either into one table (its canonical names or a mapping) or through a
//! preset ([`crate::presets`]): a mapping into its table, or a transform into several. Every
//! table the import writes has a sink: the keys seen (a key may appear once per import), and
//! the rows. A table's first import streams: each batch is encoded to Parquet (on a task beside
//! the parsing) as soon as it is typed and its keys checked, and the commit that creates the
//! table names the files ([`Store::first_write`]). Later imports collect the rows for the
//! upsert, which compares them with the table.

pub mod convert;
pub mod format;
pub mod fx;
pub mod inputs;
mod keys;
pub mod report;
pub mod resolve;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use chrono::Utc;
use kpiflow_model::schema::STAGE_CHANGES;
use kpiflow_model::{Mapping, ProjectConfig, Table};
use serde::Serialize;
use sha2::{Digest, Sha256};

use self::convert::{ConvertSettings, Converted, FileFacts, FilePlan};
use self::format::{ImportFormat, RawBatch, RawReader, ReadOptions, format_for};
use self::fx::FxRates;
use self::keys::KeyIndex;
pub use self::keys::MAX_FILES;
use self::report::{RejectsWriter, RowError};
use crate::error::{ImportError, StoreError};
use crate::import_log::{ImportLog, ImportLogEntry};
use crate::presets::{FileContext, Preset, PresetPlan, Shared, Transform};
use crate::store::{FirstWrite, Store, UpsertCounts};

/// What to do with bad rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Write nothing when any row is bad.
    Fail,
    /// Write the good rows; send the bad ones to the rejects file.
    Skip,
}

impl OnError {
    pub fn name(self) -> &'static str {
        match self {
            OnError::Fail => "fail",
            OnError::Skip => "skip",
        }
    }
}

/// How one file is read.
// One value per file: the mapping's size next to a reference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Reading {
    /// Into one table, by the canonical column names or a mapping.
    Table { table: &'static Table, mapping: Option<Mapping> },
    /// Through a preset (detected, or named with `--preset`).
    Preset(&'static dyn Preset),
}

/// One file of an import.
#[derive(Debug, Clone)]
pub struct ImportFile {
    /// Where it is on disk (a zip's members are extracted first).
    pub path: PathBuf,
    /// Its name in messages and the import log (`export.zip/Chart.csv`).
    pub name: String,
    pub reading: Reading,
    /// A format name (`csv`, `jsonl`, `parquet`, `xlsx`) overriding detection by ending.
    pub format: Option<String>,
    /// The other files of the same zip or folder: (name, path).
    pub siblings: Vec<(String, PathBuf)>,
}

/// One import, resolved and validated by the caller.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub files: Vec<ImportFile>,
    pub on_error: OnError,
    /// Where rejected rows go with [`OnError::Skip`].
    pub rejects: PathBuf,
}

impl ImportRequest {
    /// Every file into `table`, read with `mapping` (or the canonical names).
    pub fn into_table(
        table: &'static Table,
        files: Vec<PathBuf>,
        mapping: Option<Mapping>,
        format: Option<String>,
        on_error: OnError,
        rejects: PathBuf,
    ) -> ImportRequest {
        let files = files
            .into_iter()
            .map(|path| ImportFile {
                name: path.display().to_string(),
                path,
                reading: Reading::Table { table, mapping: mapping.clone() },
                format: format.clone(),
                siblings: Vec::new(),
            })
            .collect();
        ImportRequest { files, on_error, rejects }
    }
}

/// The reader settings a mapping (or none) asks for.
pub fn read_options(mapping: Option<&Mapping>) -> Result<ReadOptions, ImportError> {
    let Some(m) = mapping else { return Ok(ReadOptions::default()) };
    // The patterns were checked when the mapping was parsed.
    let compile = |p: &str| {
        regex::Regex::new(p).map_err(|e| ImportError::File {
            file: m.file.clone(),
            message: format!("the pattern `{p}` does not compile: {e}"),
        })
    };
    Ok(ReadOptions {
        delimiter: m.delimiter,
        encoding: m.encoding,
        skip_lines: m.preamble.skip_lines,
        header_match: m.preamble.header_match.clone(),
        comment: m.preamble.comment.clone(),
        captures: m
            .preamble
            .captures
            .iter()
            .map(|(c, p)| Ok((c.clone(), compile(p)?)))
            .collect::<Result<_, ImportError>>()?,
        drop_rows: m.rows.drop.iter().map(|p| compile(p)).collect::<Result<_, _>>()?,
        end_at_blank_line: m.rows.end_at_blank_line,
        sheet: m.sheet.clone(),
        stream: m.stream.clone(),
    })
}

/// Progress of the reading phase, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct ImportProgress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub rows: u64,
}

/// One input file's part in an import.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub path: PathBuf,
    /// The file's name as given (`export.zip/Chart.csv` for a zip's member).
    pub name: String,
    /// The preset that read it, if any.
    pub preset: Option<String>,
    /// The tables its rows went to.
    pub tables: Vec<&'static str>,
    pub sha256: String,
    pub rows_read: u64,
    pub rejected: u64,
    /// Rows that are not data (totals, footers, other streams), dropped by the reading rules.
    pub dropped: u64,
}

/// One table an import wrote to.
#[derive(Debug, Clone, Serialize)]
pub struct TableSummary {
    pub table: &'static str,
    pub rows: u64,
    #[serde(flatten)]
    pub counts: UpsertCounts,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    pub import_number: u64,
    pub files: Vec<FileSummary>,
    pub tables: Vec<TableSummary>,
    pub rows_read: u64,
    pub rejected: u64,
    pub dropped: u64,
    /// The rejects file, when rows were rejected.
    pub rejects_file: Option<PathBuf>,
    /// The first rejected rows' errors (up to `import.max_errors`), for display.
    pub errors: Vec<RowError>,
    pub duration_ms: u64,
}

/// How one file is read, resolved before any row: its reader, and where its rows go.
struct FileWork {
    name: String,
    format: &'static dyn ImportFormat,
    options: ReadOptions,
    /// The file's header as read (the rejects file's columns).
    header: Vec<String>,
    preset: Option<String>,
    mapping_file: Option<String>,
    /// (sink, plan) per output; a file without a transform has exactly one.
    outputs: Vec<(usize, FilePlan)>,
    transform: Option<Box<dyn Transform>>,
}

/// Everything written to one table by one import.
struct Sink {
    table: &'static Table,
    keys: KeyIndex,
    /// Streaming the first write of a table that has no commit yet.
    first_write: Option<FirstWrite>,
    /// Rows for the upsert of a table that has one.
    good: Vec<RecordBatch>,
    rows: u64,
}

/// Files an import opens: every file's plan is resolved before any row is read. Returns the
/// files' work and the tables they write (the outputs' sink indices point into it).
fn plan_files(
    request: &ImportRequest,
    settings: &ConvertSettings,
) -> Result<(Vec<FileWork>, Vec<&'static Table>), ImportError> {
    let mut tables: Vec<&'static Table> = Vec::new();
    let mut sink_of = |table: &'static Table| -> usize {
        match tables.iter().position(|t| t.name == table.name) {
            Some(i) => i,
            None => {
                tables.push(table);
                tables.len() - 1
            }
        }
    };
    let mut work = Vec::with_capacity(request.files.len());
    let mut shared: std::collections::HashMap<String, Shared> = std::collections::HashMap::new();
    for file in &request.files {
        let format = format_for(&file.path, file.format.as_deref())?;
        let (options, preset) = match &file.reading {
            Reading::Table { mapping, .. } => (read_options(mapping.as_ref())?, None),
            Reading::Preset(p) => (p.read_options().clone(), Some(*p)),
        };
        let reader = format.open(&file.path, &options)?;
        let header = reader.header().to_vec();
        let facts = FileFacts {
            preamble: reader.preamble_values().to_vec(),
            file_name: file
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        // Closed again: files are opened one at a time while reading (an import may name
        // hundreds of daily exports).
        drop(reader);
        let (plans, transform, mapping_file) = match (&file.reading, preset) {
            (Reading::Table { table, mapping }, _) => {
                let plan = FilePlan::resolve(
                    table,
                    &file.name,
                    &header,
                    &facts,
                    mapping.as_ref(),
                    settings,
                )?;
                (vec![(*table, plan)], None, mapping.as_ref().map(|m| m.file.clone()))
            }
            (Reading::Preset(_), Some(p)) => {
                let context = FileContext {
                    name: &file.name,
                    path: &file.path,
                    header: &header,
                    facts: &facts,
                    siblings: file
                        .siblings
                        .iter()
                        .map(|(n, p)| (n.as_str(), p.as_path()))
                        .collect(),
                    settings,
                };
                let state = shared.entry(p.info().name.clone()).or_default();
                match p.plan(&context, state)? {
                    PresetPlan::Mapping(m) => {
                        let table = kpiflow_model::table(
                            p.info().tables.first().copied().unwrap_or_default(),
                        )?;
                        let plan = FilePlan::resolve(
                            table,
                            &file.name,
                            &header,
                            &facts,
                            Some(&m),
                            settings,
                        )?;
                        (vec![(table, plan)], None, None)
                    }
                    PresetPlan::Transform { outputs, transform } => {
                        let mut plans = Vec::new();
                        for o in outputs {
                            let plan = FilePlan::resolve(
                                o.table,
                                &file.name,
                                &o.header,
                                &FileFacts::default(),
                                o.mapping.as_ref(),
                                settings,
                            )?;
                            plans.push((o.table, plan));
                        }
                        (plans, Some(transform), None)
                    }
                }
            }
            (Reading::Preset(_), None) => unreachable!("a preset reading has its preset"),
        };
        let mut outputs = Vec::with_capacity(plans.len());
        for (table, plan) in plans {
            let sink = sink_of(table);
            if plan.has_stages() {
                sink_of(&STAGE_CHANGES);
            }
            outputs.push((sink, plan));
        }
        work.push(FileWork {
            name: file.name.clone(),
            format,
            options,
            header,
            preset: preset.map(|p| p.info().name.clone()),
            mapping_file,
            outputs,
            transform,
        });
    }
    Ok((work, tables))
}

/// The counts and errors of an import under way.
struct Run {
    on_error: OnError,
    max_errors: usize,
    names: Vec<String>,
    errors: Vec<RowError>,
    error_count: u64,
    row_error_count: usize,
    rejects: Option<Rejects>,
    file_rows: Vec<u64>,
    file_rejected: Vec<u64>,
    file_dropped: Vec<u64>,
    file_tables: Vec<Vec<&'static str>>,
    rows_read: u64,
}

/// The rejects file, created when the first row is rejected.
struct Rejects {
    path: PathBuf,
    columns: Vec<String>,
    writer: Option<RejectsWriter>,
}

/// Where a rejected row's raw values are: a row of the batch, or an unreadable row.
#[derive(Debug, Clone, Copy)]
enum RowRef {
    Batch(usize),
    Unreadable(usize),
}

impl Run {
    fn failing(&self) -> bool {
        self.on_error == OnError::Fail && self.error_count > 0
    }

    /// Counts and writes rejected rows (`header` and `raw` hold their values).
    fn reject(
        &mut self,
        file_idx: usize,
        header: &[String],
        raw: &RawBatch,
        mut rejected: Vec<(RowRef, u64, Vec<RowError>)>,
    ) -> Result<(), ImportError> {
        self.file_rejected[file_idx] += rejected.len() as u64;
        rejected.sort_by_key(|(_, line, _)| *line);
        let name = &self.names[file_idx];
        for (row_ref, line, row_errors) in rejected {
            self.error_count += 1;
            self.row_error_count += row_errors.len();
            if self.errors.len() < self.max_errors {
                let room = self.max_errors - self.errors.len();
                self.errors.extend(row_errors.iter().take(room).cloned());
            }
            let Some(rejects) = self.rejects.as_mut() else { continue };
            let w = match &mut rejects.writer {
                Some(w) => w,
                None => rejects
                    .writer
                    .insert(RejectsWriter::create(&rejects.path, rejects.columns.clone())?),
            };
            let values: Vec<(&str, Option<&str>)> = match row_ref {
                RowRef::Batch(r) => header
                    .iter()
                    .zip(&raw.columns)
                    .map(|(h, c)| {
                        (h.as_str(), (!arrow::array::Array::is_null(c, r)).then(|| c.value(r)))
                    })
                    .collect(),
                RowRef::Unreadable(u) => header
                    .iter()
                    .zip(&raw.unreadable[u].raw)
                    .map(|(h, v)| (h.as_str(), Some(v.as_str())))
                    .collect(),
            };
            let reasons: Vec<&RowError> = row_errors.iter().collect();
            w.write(name, line, &reasons, &values)?;
        }
        Ok(())
    }

    /// Takes one converted batch into its sink: keys checked (a duplicate is rejected), rows
    /// written or kept, stage entries into the `stage_changes` sink.
    #[allow(clippy::too_many_arguments)]
    async fn absorb(
        &mut self,
        sinks: &mut [Sink],
        sink_idx: usize,
        file_idx: usize,
        header: &[String],
        raw: &RawBatch,
        converted: Converted,
        estimate: Option<u64>,
    ) -> Result<(), ImportError> {
        let name = self.names[file_idx].clone();
        let mut rows = converted.rows;
        let mut lines = converted.lines;
        let kept_rows = converted.kept_rows;
        let mut rejected: Vec<(RowRef, u64, Vec<RowError>)> = converted
            .rejected
            .into_iter()
            .map(|(i, e)| (RowRef::Batch(i), raw.lines[i], e))
            .collect();
        let sink = &mut sinks[sink_idx];
        if let Some(n) = estimate {
            sink.keys.expect(n);
        }
        let duplicates = sink.keys.check(&rows, &lines, file_idx, &self.names)?;
        let mut duplicate_lines = std::collections::HashSet::new();
        if !duplicates.is_empty() {
            let mut keep = vec![true; rows.num_rows()];
            for (row, error) in duplicates {
                keep[row] = false;
                let line = lines[row];
                duplicate_lines.insert(line);
                rejected.push((
                    RowRef::Batch(kept_rows[row]),
                    line,
                    vec![RowError { file: name.clone(), ..error }],
                ));
            }
            let mask = BooleanArray::from(keep.clone());
            rows = filter_record_batch(&rows, &mask)
                .map_err(|e| StoreError::Internal(format!("dedupe: {e}")))?;
            lines = lines.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(l, _)| l).collect();
        }
        debug_assert_eq!(rows.num_rows(), lines.len());
        self.reject(file_idx, header, raw, rejected)?;
        let table_name = sink.table.name;
        if !self.file_tables[file_idx].contains(&table_name) {
            self.file_tables[file_idx].push(table_name);
        }
        if rows.num_rows() > 0 {
            sink.rows += rows.num_rows() as u64;
            let failing = self.failing();
            match sink.first_write.as_mut() {
                // With `--on-error fail` nothing is written once a row is bad: no more
                // encoding.
                Some(_) if failing => {}
                Some(writer) => writer.write(rows).await?,
                None => sink.good.push(rows),
            }
        }
        if let Some(s) = converted.stage_rows.filter(|s| s.num_rows() > 0) {
            // Rows rejected as duplicates take their stage entries with them; the same entry
            // derived twice is the same fact, kept once.
            let dedupe =
                |e: arrow::error::ArrowError| StoreError::Internal(format!("stage dedupe: {e}"));
            let (s, stage_lines) = if duplicate_lines.is_empty() {
                (s, converted.stage_lines)
            } else {
                let keep: Vec<bool> =
                    converted.stage_lines.iter().map(|l| !duplicate_lines.contains(l)).collect();
                let lines = converted
                    .stage_lines
                    .iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(l, _)| *l)
                    .collect::<Vec<_>>();
                (filter_record_batch(&s, &BooleanArray::from(keep)).map_err(dedupe)?, lines)
            };
            let Some(stage) = sinks.iter_mut().find(|k| k.table.name == STAGE_CHANGES.name) else {
                return Err(StoreError::Internal("no stage_changes sink".into()).into());
            };
            let repeated = stage.keys.check(&s, &stage_lines, file_idx, &self.names)?;
            let s = if repeated.is_empty() {
                s
            } else {
                let mut keep = vec![true; s.num_rows()];
                for (row, _) in repeated {
                    keep[row] = false;
                }
                filter_record_batch(&s, &BooleanArray::from(keep)).map_err(dedupe)?
            };
            if !self.file_tables[file_idx].contains(&STAGE_CHANGES.name) {
                self.file_tables[file_idx].push(STAGE_CHANGES.name);
            }
            stage.rows += s.num_rows() as u64;
            let failing = self.failing();
            match stage.first_write.as_mut() {
                Some(_) if failing => {}
                Some(writer) => writer.write(s).await?,
                None => stage.good.push(s),
            }
        }
        Ok(())
    }
}

/// Runs an import into `store`.
pub async fn import(
    store: &Store,
    config: &ProjectConfig,
    request: &ImportRequest,
    progress: &mut (dyn FnMut(ImportProgress) + Send),
) -> Result<ImportOutcome, ImportError> {
    let started = Instant::now();
    if request.files.len() > MAX_FILES {
        return Err(ImportError::File {
            file: format!("{} files", request.files.len()),
            message: format!("one import takes at most {MAX_FILES} files; import them in parts"),
        });
    }
    if request.files.is_empty() {
        return Err(ImportError::File {
            file: "the import".into(),
            message: "names no file: nothing to import".into(),
        });
    }
    let settings =
        ConvertSettings { timezone: config.timezone, reporting_currency: config.currency.clone() };
    let mut bytes_total = 0;
    for file in &request.files {
        let meta = std::fs::metadata(&file.path)
            .map_err(|source| ImportError::ReadFile { path: file.path.clone(), source })?;
        bytes_total += meta.len();
    }

    // Open every file and resolve its plan against its header before reading any row.
    let (mut work, tables) = plan_files(request, &settings)?;
    let mut sinks: Vec<Sink> = Vec::with_capacity(tables.len());
    for table in tables {
        let keys = KeyIndex::new(table)?;
        let first_write = match store.first_write(table).await {
            Ok(w) => w,
            Err(e) => {
                for s in sinks {
                    if let Some(w) = s.first_write {
                        w.abort().await;
                    }
                }
                return Err(e.into());
            }
        };
        sinks.push(Sink { table, keys, first_write, good: Vec::new(), rows: 0 });
    }
    // Hash the files on another thread while this one parses.
    let to_hash: Vec<PathBuf> = request.files.iter().map(|f| f.path.clone()).collect();
    let hasher = std::thread::spawn(move || {
        to_hash.iter().map(|p| sha256_file(p)).collect::<Vec<std::io::Result<String>>>()
    });

    let fx = if sinks.iter().any(|s| s.table.currency_column().is_some()) {
        FxRates::load(store, &config.currency, config.import.fx_max_age_days).await?
    } else {
        FxRates::new(&config.currency, config.import.fx_max_age_days)
    };

    let n = request.files.len();
    let mut run = Run {
        on_error: request.on_error,
        max_errors: config.import.max_errors,
        names: request.files.iter().map(|f| f.name.clone()).collect(),
        errors: Vec::new(),
        error_count: 0,
        row_error_count: 0,
        rejects: match request.on_error {
            OnError::Fail => None,
            OnError::Skip => {
                let mut columns: Vec<String> = Vec::new();
                for w in &work {
                    let derived = w.outputs.iter().filter(|_| w.transform.is_some());
                    for h in w.header.iter().chain(derived.flat_map(|(_, p)| p.header())) {
                        if !columns.contains(h) {
                            columns.push(h.clone());
                        }
                    }
                }
                Some(Rejects { path: request.rejects.clone(), columns, writer: None })
            }
        },
        file_rows: vec![0; n],
        file_rejected: vec![0; n],
        file_dropped: vec![0; n],
        file_tables: vec![Vec::new(); n],
        rows_read: 0,
    };
    let mut stopped_early = false;

    // Files are parsed on their own thread, a few batches ahead of the typing and validation
    // done here: the two halves take about the same time.
    let readers: Vec<(PathBuf, &'static dyn ImportFormat, ReadOptions)> = request
        .files
        .iter()
        .zip(&work)
        .map(|(f, w)| (f.path.clone(), w.format, w.options.clone()))
        .collect();
    'read: for message in read_ahead(readers) {
        let (file_idx, raw, bytes_done) = message?;
        let read = (raw.lines.len() + raw.unreadable.len()) as u64;
        run.file_rows[file_idx] += read;
        run.rows_read += read;
        run.file_dropped[file_idx] += raw.dropped;
        let unreadable: Vec<(RowRef, u64, Vec<RowError>)> = raw
            .unreadable
            .iter()
            .enumerate()
            .map(|(i, u)| {
                (
                    RowRef::Unreadable(i),
                    u.line,
                    vec![RowError {
                        file: run.names[file_idx].clone(),
                        line: u.line,
                        column: None,
                        source_column: None,
                        value: None,
                        message: format!("the row {}", u.reason),
                    }],
                )
            })
            .collect();
        let header = work[file_idx].header.clone();
        run.reject(file_idx, &header, &raw, unreadable)?;
        // Keys are unique across the whole import; the key index is sized by the first
        // batch's share of the bytes.
        let estimate = (bytes_done > 0)
            .then(|| (read as u128 * u128::from(bytes_total) / u128::from(bytes_done)) as u64);
        let w = &mut work[file_idx];
        match w.transform.as_mut() {
            None => {
                let (sink, plan) = &w.outputs[0];
                let converted = plan.convert(&raw, &fx)?;
                run.absorb(&mut sinks, *sink, file_idx, &header, &raw, converted, estimate).await?;
            }
            Some(t) => {
                if t.keeps_no_rows() {
                    run.file_dropped[file_idx] += raw.lines.len() as u64;
                }
                for (output, derived) in t.push(&raw)? {
                    let (sink, plan) = &w.outputs[output];
                    let converted = plan.convert(&derived, &fx)?;
                    let h = plan.header().to_vec();
                    run.absorb(&mut sinks, *sink, file_idx, &h, &derived, converted, None).await?;
                }
            }
        }
        progress(ImportProgress { bytes_done, bytes_total, rows: run.rows_read });
        if run.on_error == OnError::Fail && run.errors.len() >= run.max_errors {
            stopped_early = true;
            break 'read;
        }
    }
    // Transforms hand on what they held back once every file has been read (a preset's
    // state spans its files: a session crosses the midnight between two daily exports).
    if !stopped_early {
        for (i, w) in work.iter_mut().enumerate() {
            finish_transform(&mut run, &mut sinks, w, i, &fx).await?;
        }
    }

    tracing::info!(
        rows = run.rows_read,
        ms = started.elapsed().as_millis() as u64,
        "read and converted"
    );
    if run.failing() {
        for s in sinks {
            if let Some(w) = s.first_write {
                w.abort().await;
            }
        }
        let more = stopped_early || run.row_error_count > run.errors.len();
        return Err(ImportError::Rows { errors: run.errors, more });
    }

    let mut file_summaries = Vec::new();
    let hashes =
        hasher.join().map_err(|_| StoreError::Internal("hashing thread panicked".into()))?;
    for (i, (file, hash)) in request.files.iter().zip(hashes).enumerate() {
        let sha256 =
            hash.map_err(|source| ImportError::ReadFile { path: file.path.clone(), source })?;
        let mut tables = run.file_tables[i].clone();
        if tables.is_empty() {
            tables = work[i].outputs.iter().map(|(s, _)| sinks[*s].table.name).collect();
        }
        file_summaries.push(FileSummary {
            path: file.path.clone(),
            name: file.name.clone(),
            preset: work[i].preset.clone(),
            tables,
            sha256,
            rows_read: run.file_rows[i],
            rejected: run.file_rejected[i],
            dropped: run.file_dropped[i],
        });
    }
    let rejected_total: u64 = file_summaries.iter().map(|f| f.rejected).sum();
    let dropped_total: u64 = file_summaries.iter().map(|f| f.dropped).sum();
    let rejects_file = match run.rejects {
        Some(Rejects { writer: Some(w), .. }) => Some(w.finish()?),
        _ => None,
    };

    let import_id = format!("{}-{}", Utc::now().format("%Y%m%dT%H%M%S%.6fZ"), std::process::id());
    let mappings: Vec<String> = {
        let mut m: Vec<String> = work.iter().filter_map(|w| w.mapping_file.clone()).collect();
        m.dedup();
        m
    };
    let presets: Vec<String> = work.iter().map(|w| w.preset.clone().unwrap_or_default()).collect();
    let metadata = serde_json::json!({
        "import_id": import_id,
        "files": file_summaries.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
        "sha256": file_summaries.iter().map(|f| f.sha256.clone()).collect::<Vec<_>>(),
        "mapping": mappings.first(),
        "presets": presets,
        "on_error": request.on_error.name(),
        "rows_read": run.rows_read,
        "rejected": rejected_total,
    });

    // The tables the files name first, in the order they were met; `stage_changes` derived
    // from a wide export after the table it came with.
    let mut tables = Vec::new();
    let mut order: Vec<usize> = (0..sinks.len()).collect();
    order.sort_by_key(|i| sinks[*i].table.name == STAGE_CHANGES.name);
    let mut sinks: Vec<Option<Sink>> = sinks.into_iter().map(Some).collect();
    for i in order {
        let Some(sink) = sinks[i].take() else { continue };
        let (rows, counts) = match sink.first_write {
            Some(writer) => (writer.rows(), writer.commit(metadata.clone()).await?),
            None => (sink.rows, store.upsert(sink.table, sink.good, metadata.clone()).await?),
        };
        tracing::info!(
            table = sink.table.name,
            ms = started.elapsed().as_millis() as u64,
            "committed"
        );
        tables.push(TableSummary { table: sink.table.name, rows, counts });
    }

    let duration_ms = started.elapsed().as_millis() as u64;
    let imported_at = Utc::now();
    let entries: Vec<ImportLogEntry> = tables
        .iter()
        .map(|t| ImportLogEntry {
            number: 0,
            import_id: import_id.clone(),
            imported_at,
            table: t.table.to_owned(),
            files: file_summaries.iter().map(|f| f.name.clone()).collect(),
            sha256: file_summaries.iter().map(|f| f.sha256.clone()).collect(),
            mapping: mappings.first().cloned(),
            presets: presets.clone(),
            on_error: request.on_error.name().to_owned(),
            rows_read: run.rows_read,
            inserted: t.counts.inserted,
            updated: t.counts.updated,
            unchanged: t.counts.unchanged,
            rejected: rejected_total,
            table_version: t.counts.version,
            duration_ms,
        })
        .collect();
    ImportLog::append(store, &entries).await?;
    let import_number = store.import_log().await?.imports();

    Ok(ImportOutcome {
        import_number,
        files: file_summaries,
        tables,
        rows_read: run.rows_read,
        rejected: rejected_total,
        dropped: dropped_total,
        rejects_file,
        errors: run.errors,
        duration_ms,
    })
}

/// Hands on the rows a file's transform held back (sessions cut from all the events).
async fn finish_transform(
    run: &mut Run,
    sinks: &mut [Sink],
    w: &mut FileWork,
    file_idx: usize,
    fx: &FxRates,
) -> Result<(), ImportError> {
    let Some(t) = w.transform.as_mut() else { return Ok(()) };
    for (output, derived) in t.finish()? {
        let (sink, plan) = &w.outputs[output];
        let converted = plan.convert(&derived, fx)?;
        let h = plan.header().to_vec();
        run.absorb(sinks, *sink, file_idx, &h, &derived, converted, None).await?;
    }
    // Finished once.
    w.transform = None;
    Ok(())
}

/// What an import would store, without storing it: each file's reading and the first rows of
/// each table as they would be stored (values as text), with the errors found in them.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub files: Vec<FilePreview>,
    pub tables: Vec<TablePreview>,
    /// Problems with the rows previewed (the import would reject these rows).
    pub errors: Vec<RowError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FilePreview {
    pub name: String,
    pub preset: Option<String>,
    pub tables: Vec<&'static str>,
    /// The file's columns as read (after its preamble).
    pub header: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TablePreview {
    pub table: &'static str,
    /// The stored columns (money's reporting-currency columns included).
    pub columns: Vec<String>,
    /// Up to the rows asked for, each value as stored, `None` for no value.
    pub rows: Vec<Vec<Option<String>>>,
}

/// Reads the start of each file of `request` as the import would, and converts up to `rows`
/// rows per table, writing nothing. File-level problems (a missing column, an unreadable
/// header) are errors as they would be for the import.
pub async fn preview(
    store: &Store,
    config: &ProjectConfig,
    request: &ImportRequest,
    rows: usize,
) -> Result<Preview, ImportError> {
    let settings =
        ConvertSettings { timezone: config.timezone, reporting_currency: config.currency.clone() };
    let (mut work, tables) = plan_files(request, &settings)?;
    let fx = if tables.iter().any(|t| t.currency_column().is_some()) {
        FxRates::load(store, &config.currency, config.import.fx_max_age_days).await?
    } else {
        FxRates::new(&config.currency, config.import.fx_max_age_days)
    };
    let mut previews: Vec<TablePreview> = tables
        .iter()
        .map(|t| TablePreview {
            table: t.name,
            columns: crate::store::store_schema(t)
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
            rows: Vec::new(),
        })
        .collect();
    let mut errors = Vec::new();
    let stage_sink = tables.iter().position(|t| t.name == STAGE_CHANGES.name);
    let mut take = |sink: usize, converted: Converted, errors: &mut Vec<RowError>| {
        push_preview_rows(&mut previews[sink], &converted.rows, rows);
        if let (Some(s), Some(stage)) = (stage_sink, converted.stage_rows.as_ref()) {
            push_preview_rows(&mut previews[s], stage, rows);
        }
        for (_, e) in converted.rejected {
            if errors.len() < rows.max(10) {
                errors.extend(e);
            }
        }
    };
    let mut files = Vec::new();
    for (file, w) in request.files.iter().zip(work.iter_mut()) {
        let mut reader = w.format.open(&file.path, &w.options)?;
        let mut read = 0;
        while read < rows.max(1) {
            let Some(raw) = reader.next_batch()? else { break };
            read += raw.lines.len();
            for u in &raw.unreadable {
                errors.push(RowError {
                    file: w.name.clone(),
                    line: u.line,
                    column: None,
                    source_column: None,
                    value: None,
                    message: format!("the row {}", u.reason),
                });
            }
            match w.transform.as_mut() {
                None => {
                    let (sink, plan) = &w.outputs[0];
                    take(*sink, plan.convert(&raw, &fx)?, &mut errors);
                }
                Some(t) => {
                    for (o, derived) in t.push(&raw)? {
                        let (sink, plan) = &w.outputs[o];
                        take(*sink, plan.convert(&derived, &fx)?, &mut errors);
                    }
                }
            }
        }
        if let Some(t) = w.transform.as_mut() {
            for (o, derived) in t.finish()? {
                let (sink, plan) = &w.outputs[o];
                take(*sink, plan.convert(&derived, &fx)?, &mut errors);
            }
        }
        let mut file_tables: Vec<&'static str> = Vec::new();
        for (sink, plan) in &w.outputs {
            file_tables.push(tables[*sink].name);
            if plan.has_stages() && !file_tables.contains(&STAGE_CHANGES.name) {
                file_tables.push(STAGE_CHANGES.name);
            }
        }
        files.push(FilePreview {
            name: w.name.clone(),
            preset: w.preset.clone(),
            tables: file_tables,
            header: w.header.clone(),
        });
    }
    Ok(Preview { files, tables: previews, errors })
}

/// Appends `batch`'s rows as text to a preview, up to `max` rows.
fn push_preview_rows(p: &mut TablePreview, batch: &RecordBatch, max: usize) {
    for r in 0..batch.num_rows() {
        if p.rows.len() >= max {
            break;
        }
        p.rows.push(
            batch
                .columns()
                .iter()
                .map(|c| {
                    (!arrow::array::Array::is_null(c, r)).then(|| {
                        arrow::util::display::array_value_to_string(c, r).unwrap_or_default()
                    })
                })
                .collect(),
        );
    }
}

/// One parsed batch: the file it came from, its rows, and the bytes read so far in all files.
type ReadBatch = (usize, RawBatch, u64);

/// Reads every file in order on a separate thread, a few batches ahead of the consumer. The
/// thread stops at the first error (handed on) or when the consumer drops the iterator.
fn read_ahead(
    files: Vec<(PathBuf, &'static dyn ImportFormat, ReadOptions)>,
) -> impl Iterator<Item = Result<ReadBatch, ImportError>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(3);
    std::thread::spawn(move || {
        let mut before = 0;
        for (file_idx, (path, format, options)) in files.iter().enumerate() {
            let mut reader: Box<dyn RawReader> = match format.open(path, options) {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            loop {
                match reader.next_batch() {
                    Ok(Some(raw)) => {
                        let done = before + reader.bytes_read();
                        if tx.send(Ok((file_idx, raw, done))).is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
            before += reader.bytes_read();
        }
    });
    rx.into_iter()
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}
