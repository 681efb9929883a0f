//! `kpiflow import`: files → mapping → typed, validated rows → one upsert per table.
//!
//! The contract (DESIGN §11): bad input gets an error naming file, line, column, value and what
//! was expected; errors are collected (up to `import.max_errors`), not stopped at the first. With
//! [`OnError::Fail`] nothing is written when any row is bad; with [`OnError::Skip`] the good rows
//! commit and every bad row goes to the rejects file with its reason. Each table is written in one
//! Delta transaction; a wide export that also yields `stage_changes` writes that table in a second
//! transaction, after the first (re-running the import completes an interrupted one).
//!
//! A table's first import streams: each batch is encoded to Parquet (on a task beside the
//! parsing) as soon as it is typed and its keys checked, and the commit that creates the table
//! names the files ([`Store::first_write`]). Later imports collect the rows for the upsert, which
//! compares them with the table.

pub mod convert;
pub mod format;
pub mod fx;
pub mod report;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::row::{RowConverter, SortField};
use chrono::Utc;
use kpiflow_model::schema::STAGE_CHANGES;
use kpiflow_model::{Mapping, ProjectConfig, Table};
use serde::Serialize;
use sha2::{Digest, Sha256};

use self::convert::{ConvertSettings, FilePlan};
use self::format::{RawReader, ReadOptions, format_for};
use self::fx::FxRates;
use self::report::{RejectsWriter, RowError};
use crate::error::{ImportError, StoreError};
use crate::import_log::{ImportLog, ImportLogEntry};
use crate::store::{Store, UpsertCounts};

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

/// One import, resolved and validated by the caller.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub table: &'static Table,
    pub files: Vec<PathBuf>,
    pub mapping: Option<Mapping>,
    /// A format name (`csv`, `jsonl`, `parquet`) overriding detection by file ending.
    pub format: Option<String>,
    pub on_error: OnError,
    /// Where rejected rows go with [`OnError::Skip`].
    pub rejects: PathBuf,
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
    pub sha256: String,
    pub rows_read: u64,
    pub rejected: u64,
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
    /// The rejects file, when rows were rejected.
    pub rejects_file: Option<PathBuf>,
    /// The first rejected rows' errors (up to `import.max_errors`), for display.
    pub errors: Vec<RowError>,
    pub duration_ms: u64,
}

/// Runs an import into `store`.
pub async fn import(
    store: &Store,
    config: &ProjectConfig,
    request: &ImportRequest,
    progress: &mut (dyn FnMut(ImportProgress) + Send),
) -> Result<ImportOutcome, ImportError> {
    let started = Instant::now();
    let table = request.table;
    if request.files.len() > MAX_FILES {
        return Err(ImportError::File {
            file: format!("{} files", request.files.len()),
            message: format!("one import takes at most {MAX_FILES} files; import them in parts"),
        });
    }
    let settings =
        ConvertSettings { timezone: config.timezone, reporting_currency: config.currency.clone() };
    let max_errors = config.import.max_errors;

    // Open every file and resolve the mapping against each header before reading any row.
    let options = ReadOptions { delimiter: request.mapping.as_ref().and_then(|m| m.delimiter) };
    let mut formats: Vec<&'static dyn format::ImportFormat> = Vec::new();
    let mut plans: Vec<(String, FilePlan)> = Vec::new();
    let mut bytes_total = 0;
    for path in &request.files {
        let meta = std::fs::metadata(path)
            .map_err(|source| ImportError::ReadFile { path: path.clone(), source })?;
        bytes_total += meta.len();
        let format = format_for(path, request.format.as_deref())?;
        let reader = format.open(path, &options)?;
        let name = path.display().to_string();
        let plan =
            FilePlan::resolve(table, &name, reader.header(), request.mapping.as_ref(), &settings)?;
        // Closed again: files are opened one at a time while reading (an import may name
        // hundreds of daily exports).
        drop(reader);
        formats.push(format);
        plans.push((name, plan));
    }
    // Hash the files on another thread while this one parses.
    let to_hash = request.files.clone();
    let hasher = std::thread::spawn(move || {
        to_hash.iter().map(|p| sha256_file(p)).collect::<Vec<std::io::Result<String>>>()
    });

    let fx = if table.currency_column().is_some() {
        FxRates::load(store, &config.currency, config.import.fx_max_age_days).await?
    } else {
        FxRates::new(&config.currency, config.import.fx_max_age_days)
    };

    let mut rejects = match request.on_error {
        OnError::Fail => None,
        OnError::Skip => {
            let mut columns: Vec<String> = Vec::new();
            for (_, plan) in &plans {
                for h in plan.header() {
                    if !columns.contains(h) {
                        columns.push(h.clone());
                    }
                }
            }
            Some((request.rejects.clone(), columns, None::<RejectsWriter>))
        }
    };

    // A table's first import streams its rows into Parquet as they are read; later imports
    // collect them for the upsert, which compares them with the table.
    let mut first_write = store.first_write(table).await?;
    let mut keys = KeyIndex::new(table)?;
    // Stage entries derived from a wide export: the same entry twice is the same fact, dropped.
    let mut stage_keys = KeyIndex::new(&STAGE_CHANGES)?;
    let mut good: Vec<RecordBatch> = Vec::new();
    let mut stage_batches: Vec<RecordBatch> = Vec::new();
    let mut errors: Vec<RowError> = Vec::new();
    let mut error_count = 0u64;
    let mut row_error_count = 0usize;
    let mut stopped_early = false;
    let mut rows_read = 0u64;
    let mut file_rows = vec![0u64; plans.len()];
    let mut file_rejected = vec![0u64; plans.len()];
    // Files are parsed on their own thread, a few batches ahead of the typing and validation
    // done here: the two halves take about the same time.
    let batches = read_ahead(request.files.clone(), formats, options.clone());
    for message in batches {
        let (file_idx, raw, bytes_done) = match message {
            Ok(batch) => batch,
            Err(e) => return Err(e),
        };
        let (name, plan) = &plans[file_idx];
        {
            let converted = plan.convert(&raw, &fx)?;
            let mut rows = converted.rows;
            let mut lines = converted.lines;
            let kept_rows = converted.kept_rows;
            let mut rejected: Vec<(RowRef, u64, Vec<RowError>)> = converted
                .rejected
                .into_iter()
                .map(|(i, e)| (RowRef::Batch(i), raw.lines[i], e))
                .collect();
            for (i, u) in raw.unreadable.iter().enumerate() {
                rejected.push((
                    RowRef::Unreadable(i),
                    u.line,
                    vec![RowError {
                        file: name.clone(),
                        line: u.line,
                        column: None,
                        source_column: None,
                        value: None,
                        message: format!("the row {}", u.reason),
                    }],
                ));
            }
            // Keys must be unique across the whole import. The index is sized by the first
            // batch's share of the bytes.
            if bytes_done > 0 {
                let so_far = (raw.lines.len() + raw.unreadable.len()) as u128;
                keys.expect((so_far * u128::from(bytes_total) / u128::from(bytes_done)) as u64);
            }
            let duplicates = keys.check(&rows, &lines, file_idx, &request.files)?;
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
            let read = (raw.lines.len() + raw.unreadable.len()) as u64;
            file_rows[file_idx] += read;
            rows_read += read;
            file_rejected[file_idx] += rejected.len() as u64;
            rejected.sort_by_key(|(_, line, _)| *line);
            for (row_ref, line, row_errors) in rejected {
                error_count += 1;
                row_error_count += row_errors.len();
                if errors.len() < max_errors {
                    errors.extend(row_errors.iter().take(max_errors - errors.len()).cloned());
                }
                if let Some((path, columns, writer)) = rejects.as_mut() {
                    let w = match writer {
                        Some(w) => w,
                        None => writer.insert(RejectsWriter::create(path, columns.clone())?),
                    };
                    let values: Vec<(&str, Option<&str>)> = match row_ref {
                        RowRef::Batch(r) => plan
                            .header()
                            .iter()
                            .zip(&raw.columns)
                            .map(|(h, c)| {
                                (
                                    h.as_str(),
                                    (!arrow::array::Array::is_null(c, r)).then(|| c.value(r)),
                                )
                            })
                            .collect(),
                        RowRef::Unreadable(u) => plan
                            .header()
                            .iter()
                            .zip(&raw.unreadable[u].raw)
                            .map(|(h, v)| (h.as_str(), Some(v.as_str())))
                            .collect(),
                    };
                    let reasons: Vec<&RowError> = row_errors.iter().collect();
                    w.write(name, line, &reasons, &values)?;
                }
            }
            if rows.num_rows() > 0 {
                match first_write.as_mut() {
                    // With `--on-error fail` nothing is written once a row is bad: no more
                    // encoding.
                    Some(_) if request.on_error == OnError::Fail && error_count > 0 => {}
                    Some(writer) => writer.write(rows).await?,
                    None => good.push(rows),
                }
            }
            if let Some(s) = converted.stage_rows.filter(|s| s.num_rows() > 0) {
                // Rows rejected as duplicates take their stage entries with them; the same entry
                // derived twice is the same fact, kept once.
                let dedupe = |e: arrow::error::ArrowError| {
                    StoreError::Internal(format!("stage dedupe: {e}"))
                };
                let (s, stage_lines) = if duplicate_lines.is_empty() {
                    (s, converted.stage_lines)
                } else {
                    let keep: Vec<bool> = converted
                        .stage_lines
                        .iter()
                        .map(|l| !duplicate_lines.contains(l))
                        .collect();
                    let lines = converted
                        .stage_lines
                        .iter()
                        .zip(&keep)
                        .filter(|(_, k)| **k)
                        .map(|(l, _)| *l)
                        .collect::<Vec<_>>();
                    (filter_record_batch(&s, &BooleanArray::from(keep)).map_err(dedupe)?, lines)
                };
                let repeated = stage_keys.check(&s, &stage_lines, file_idx, &request.files)?;
                let s = if repeated.is_empty() {
                    s
                } else {
                    let mut keep = vec![true; s.num_rows()];
                    for (row, _) in repeated {
                        keep[row] = false;
                    }
                    filter_record_batch(&s, &BooleanArray::from(keep)).map_err(dedupe)?
                };
                stage_batches.push(s);
            }
            progress(ImportProgress { bytes_done, bytes_total, rows: rows_read });
            if request.on_error == OnError::Fail && errors.len() >= max_errors {
                stopped_early = true;
                break;
            }
        }
    }

    tracing::info!(
        rows = rows_read,
        ms = started.elapsed().as_millis() as u64,
        "read and converted"
    );
    if request.on_error == OnError::Fail && error_count > 0 {
        if let Some(writer) = first_write {
            writer.abort().await;
        }
        let more = stopped_early || row_error_count > errors.len();
        return Err(ImportError::Rows { errors, more });
    }

    let mut file_summaries = Vec::new();
    let hashes =
        hasher.join().map_err(|_| StoreError::Internal("hashing thread panicked".into()))?;
    for (((path, hash), rows), rejected) in
        request.files.iter().zip(hashes).zip(file_rows).zip(file_rejected)
    {
        let sha256 = hash.map_err(|source| ImportError::ReadFile { path: path.clone(), source })?;
        file_summaries.push(FileSummary { path: path.clone(), sha256, rows_read: rows, rejected });
    }
    let rejected_total: u64 = file_summaries.iter().map(|f| f.rejected).sum();
    let rejects_file = match rejects {
        Some((_, _, Some(w))) => Some(w.finish()?),
        _ => None,
    };

    let import_id = format!("{}-{}", Utc::now().format("%Y%m%dT%H%M%S%.6fZ"), std::process::id());
    let metadata = serde_json::json!({
        "import_id": import_id,
        "files": file_summaries.iter().map(|f| f.path.display().to_string()).collect::<Vec<_>>(),
        "sha256": file_summaries.iter().map(|f| f.sha256.clone()).collect::<Vec<_>>(),
        "mapping": request.mapping.as_ref().map(|m| m.file.clone()),
        "on_error": request.on_error.name(),
        "rows_read": rows_read,
        "rejected": rejected_total,
    });

    let mut tables = Vec::new();
    let (rows, counts) = match first_write {
        Some(writer) => (writer.rows(), writer.commit(metadata.clone()).await?),
        None => {
            let rows = good.iter().map(|b| b.num_rows() as u64).sum();
            (rows, store.upsert(table, good, metadata.clone()).await?)
        }
    };
    tracing::info!(table = table.name, ms = started.elapsed().as_millis() as u64, "committed");
    tables.push(TableSummary { table: table.name, rows, counts });
    if request.mapping.as_ref().is_some_and(|m| m.stages.is_some()) {
        let rows: u64 = stage_batches.iter().map(|b| b.num_rows() as u64).sum();
        let counts = store.upsert(&STAGE_CHANGES, stage_batches, metadata).await?;
        tables.push(TableSummary { table: STAGE_CHANGES.name, rows, counts });
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
            files: file_summaries.iter().map(|f| f.path.display().to_string()).collect(),
            sha256: file_summaries.iter().map(|f| f.sha256.clone()).collect(),
            mapping: request.mapping.as_ref().map(|m| m.file.clone()),
            on_error: request.on_error.name().to_owned(),
            rows_read,
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
        rows_read,
        rejected: rejected_total,
        rejects_file,
        errors,
        duration_ms,
    })
}

/// Where a rejected row's raw values are: a row of the batch, or an unreadable row.
#[derive(Debug, Clone, Copy)]
enum RowRef {
    Batch(usize),
    Unreadable(usize),
}

/// One parsed batch: the file it came from, its rows, and the bytes read so far in all files.
type ReadBatch = (usize, format::RawBatch, u64);

/// Reads every file in order on a separate thread, a few batches ahead of the consumer. The
/// thread stops at the first error (handed on) or when the consumer drops the iterator.
fn read_ahead(
    files: Vec<PathBuf>,
    formats: Vec<&'static dyn format::ImportFormat>,
    options: ReadOptions,
) -> impl Iterator<Item = Result<ReadBatch, ImportError>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(3);
    std::thread::spawn(move || {
        let mut before = 0;
        for (file_idx, (path, format)) in files.iter().zip(formats).enumerate() {
            let mut reader: Box<dyn RawReader> = match format.open(path, &options) {
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

/// The keys seen so far in an import, to refuse a key given twice.
///
/// Keys are remembered by a 128-bit hash of their encoded values (two SipHash passes) and where
/// they were first seen, packed in 64 bits ([`KeyIndex::place`]): 24 bytes an entry, about
/// 30 bytes a row with the map's slack; a false duplicate needs a 128-bit collision. The map is
/// sized once from the first batch's bytes per row ([`KeyIndex::expect`]), so a large import
/// does not hold the old and the new table while the map doubles.
struct KeyIndex {
    columns: Vec<usize>,
    names: Vec<&'static str>,
    converter: RowConverter,
    /// Key fingerprint → where it was first seen ([`KeyIndex::place`]).
    seen: HashMap<KeyPrint, u64, BuildHasherDefault<Fingerprint>>,
}

/// A key's 128-bit fingerprint as two 64-bit halves (8-byte aligned, where a `u128` pads the
/// map's entry to 32 bytes). Hashed as its first half, which is a hash already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KeyPrint([u64; 2]);

impl Hash for KeyPrint {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0[0]);
    }
}

/// The most files one import takes: the key index packs a file's index in 20 bits.
pub const MAX_FILES: usize = 1 << KeyIndex::FILE_BITS;

/// The map's hasher over 128-bit key fingerprints, which are hashes already: their first half
/// as it is. (Hashing them again with SipHash was a tenth of the import's time in a profile
/// of 1 M sessions.)
#[derive(Default)]
struct Fingerprint(u64);

impl Hasher for Fingerprint {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl KeyIndex {
    fn new(table: &Table) -> Result<KeyIndex, StoreError> {
        let schema = crate::store::store_schema(table);
        let columns: Vec<usize> = table
            .key
            .iter()
            .map(|k| schema.index_of(k).map_err(|e| StoreError::Internal(e.to_string())))
            .collect::<Result<_, _>>()?;
        let fields =
            columns.iter().map(|i| SortField::new(schema.field(*i).data_type().clone())).collect();
        let converter =
            RowConverter::new(fields).map_err(|e| StoreError::Internal(e.to_string()))?;
        Ok(KeyIndex { columns, names: table.key.to_vec(), converter, seen: HashMap::default() })
    }

    const FILE_BITS: u32 = 20;
    const LINE_BITS: u32 = 64 - Self::FILE_BITS;

    /// A file's index and a line in 64 bits: 20 bits of file (at most [`MAX_FILES`] files, checked
    /// before reading) and 44 of line (16 trillion lines; a larger line number is kept as the
    /// largest, which only its error message would show).
    fn place(file_idx: usize, line: u64) -> u64 {
        ((file_idx as u64) << Self::LINE_BITS) | line.min((1 << Self::LINE_BITS) - 1)
    }

    fn unplace(place: u64) -> (usize, u64) {
        ((place >> Self::LINE_BITS) as usize, place & ((1 << Self::LINE_BITS) - 1))
    }

    /// Sizes the map for `rows` keys in all, once (a later call does nothing): an estimate from
    /// the first batch, so that the map does not double its way up (each doubling holds the old
    /// table and the new one at once). Capped, so a poor estimate cannot reserve gigabytes.
    fn expect(&mut self, rows: u64) {
        const CAP: u64 = 200_000_000;
        if self.seen.capacity() == 0 {
            self.seen.reserve(rows.min(CAP) as usize);
        }
    }

    /// Remembers the keys of `batch` and returns the rows whose key was seen before, each with
    /// an error naming the key and where it was first seen.
    fn check(
        &mut self,
        batch: &RecordBatch,
        lines: &[u64],
        file_idx: usize,
        files: &[PathBuf],
    ) -> Result<Vec<(usize, RowError)>, StoreError> {
        let arrays: Vec<_> = self.columns.iter().map(|i| batch.column(*i).clone()).collect();
        let rows = self
            .converter
            .convert_columns(&arrays)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        // Fingerprints first, then the lookups in a loop of their own: each lookup is a cache
        // miss in a map of millions of keys, and with nothing else in the loop the processor
        // has several of them in flight at once.
        let prints: Vec<KeyPrint> = (0..batch.num_rows())
            .map(|i| {
                let bytes = rows.row(i);
                let mut a = DefaultHasher::new();
                bytes.as_ref().hash(&mut a);
                let mut b = DefaultHasher::new();
                0x9e37_79b9_u32.hash(&mut b);
                bytes.as_ref().hash(&mut b);
                KeyPrint([a.finish(), b.finish()])
            })
            .collect();
        let mut duplicates = Vec::new();
        for (i, (&line, h)) in lines.iter().zip(prints).enumerate() {
            match self.seen.entry(h) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(Self::place(file_idx, line));
                }
                std::collections::hash_map::Entry::Occupied(o) => {
                    let (first_file, first_line) = Self::unplace(*o.get());
                    let key = self
                        .names
                        .iter()
                        .zip(&arrays)
                        .map(|(n, a)| {
                            let v = arrow::util::display::array_value_to_string(a, i)
                                .unwrap_or_default();
                            format!("{n}=`{v}`")
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let first = if first_file == file_idx {
                        format!("line {first_line}")
                    } else {
                        format!("{}:{first_line}", files[first_file].display())
                    };
                    duplicates.push((
                        i,
                        RowError {
                            file: String::new(),
                            line,
                            column: None,
                            source_column: None,
                            value: None,
                            message: format!(
                                "duplicate key ({key}): the same key is already on {first}; a \
                                 key may appear once per import"
                            ),
                        },
                    ));
                }
            }
        }
        Ok(duplicates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_keeps_file_and_line() {
        for (file, line) in [(0, 1), (3, 2_000_000_000), (MAX_FILES - 1, (1 << 44) - 1)] {
            assert_eq!(KeyIndex::unplace(KeyIndex::place(file, line)), (file, line));
        }
        // A line beyond 44 bits is kept as the largest, in its own file.
        assert_eq!(KeyIndex::unplace(KeyIndex::place(2, u64::MAX)), (2, (1 << 44) - 1));
    }

    #[test]
    fn duplicates_name_the_first_place_across_batches_and_files() {
        use arrow::array::StringArray;
        let schema = crate::store::store_schema(&kpiflow_model::schema::SESSIONS);
        let batch = |ids: &[&str]| {
            let columns = schema
                .fields()
                .iter()
                .map(|f| {
                    if f.name() == "session_id" {
                        std::sync::Arc::new(StringArray::from(ids.to_vec()))
                            as arrow::array::ArrayRef
                    } else {
                        arrow::array::new_null_array(f.data_type(), ids.len())
                    }
                })
                .collect();
            RecordBatch::try_new(
                std::sync::Arc::new(arrow::datatypes::Schema::new(
                    schema
                        .fields()
                        .iter()
                        .map(|f| f.as_ref().clone().with_nullable(true))
                        .collect::<Vec<_>>(),
                )),
                columns,
            )
            .unwrap()
        };
        let files = vec![PathBuf::from("a.csv"), PathBuf::from("b.csv")];
        let mut keys = KeyIndex::new(&kpiflow_model::schema::SESSIONS).unwrap();
        keys.expect(10);
        let first = keys.check(&batch(&["s1", "s2"]), &[2, 3], 0, &files).unwrap();
        assert!(first.is_empty());
        let second = keys.check(&batch(&["s3", "s2", "s3"]), &[2, 3, 4], 1, &files).unwrap();
        let found: Vec<(usize, String)> =
            second.into_iter().map(|(row, e)| (row, e.message)).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, 1);
        assert!(found[0].1.contains("session_id=`s2`") && found[0].1.contains("a.csv:3"));
        assert_eq!(found[1].0, 2);
        assert!(found[1].1.contains("session_id=`s3`") && found[1].1.contains("on line 2"));
    }
}
