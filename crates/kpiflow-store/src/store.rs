//! The store: one Delta Lake table per canonical table under the project's data directory, plus
//! the import log (`_import_log`, also a Delta table).
//!
//! Every write is one Delta transaction, so a crash or a kill at any moment leaves each table at
//! its previous version, and readers never see half a write. Upserts classify the incoming rows
//! against the current table first (new, changed, identical) and commit only new and changed rows,
//! so re-importing the same data makes no commit at all.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::{DateTime, Utc};
use datafusion::common::{Column as DfColumn, JoinType};
use datafusion::datasource::TableProvider;
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use kpiflow_model::{ColumnType, Table};
use url::Url;

use crate::error::StoreError;
use crate::import_log::ImportLog;

/// The Arrow schema of a canonical table as stored: its columns in schema order, each money
/// column followed by `<name>_reporting` (the amount in the reporting currency).
pub fn store_schema(table: &Table) -> SchemaRef {
    let canonical = table.arrow_schema();
    let mut fields: Vec<Field> = Vec::with_capacity(canonical.fields().len() + 2);
    for (column, field) in table.columns.iter().zip(canonical.fields()) {
        fields.push(field.as_ref().clone());
        if let Some(name) = column.reporting_name() {
            fields.push(Field::new(name, ColumnType::Money.arrow_type(), field.is_nullable()));
        }
    }
    Arc::new(Schema::new(fields))
}

/// Which version of the store a read sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// The store as it was right after import number N (numbers as in the import log, from 1):
    /// each table at the last version an import up to N committed.
    Import(u64),
    /// Each table at its last version committed at or before this instant.
    Time(DateTime<Utc>),
}

impl AsOf {
    /// Parses `--as-of`: an import number, an RFC 3339 instant, or a date (midnight UTC).
    pub fn parse(raw: &str) -> Option<AsOf> {
        let s = raw.trim();
        if let Ok(n) = s.parse::<u64>() {
            return (n >= 1).then_some(AsOf::Import(n));
        }
        let micros = kpiflow_model::parse::parse_timestamp(s, None, chrono_tz::Tz::UTC)?;
        DateTime::from_timestamp_micros(micros).map(AsOf::Time)
    }
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// The table's version after the upsert (the one it committed, or the current one when
    /// nothing changed); `None` when there is no table (nothing to write, no table yet).
    pub version: Option<u64>,
    /// Whether the upsert made a commit (nothing new or changed: no commit).
    pub committed: bool,
}

/// The data directory of a project, holding one Delta table per canonical table.
#[derive(Debug, Clone)]
pub struct Store {
    data_dir: PathBuf,
}

impl Store {
    /// Opens the store in `data_dir`, creating the directory when it does not exist.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| StoreError::Io { path: data_dir.to_path_buf(), source })?;
        let data_dir = data_dir
            .canonicalize()
            .map_err(|source| StoreError::Io { path: data_dir.to_path_buf(), source })?;
        Ok(Store { data_dir })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Directory of a table (canonical or `_import_log`).
    pub fn table_dir(&self, name: &str) -> PathBuf {
        self.data_dir.join(name)
    }

    fn table_url(&self, name: &str) -> Result<Url, StoreError> {
        let dir = self.table_dir(name);
        std::fs::create_dir_all(&dir)
            .map_err(|source| StoreError::Io { path: dir.clone(), source })?;
        Url::from_directory_path(&dir).map_err(|()| StoreError::BadPath { path: dir })
    }

    /// A handle on a table location that has no commit yet (its first write creates it).
    fn new_table(&self, name: &str) -> Result<DeltaTable, StoreError> {
        let url = self.table_url(name)?;
        deltalake::DeltaTableBuilder::from_url(url)
            .and_then(|b| b.build())
            .map_err(|e| StoreError::delta(name, e))
    }

    /// Whether the table has at least one commit. (A first import killed before its commit
    /// can leave data files and an empty `_delta_log`: that is still no table.)
    pub fn exists(&self, name: &str) -> bool {
        std::fs::read_dir(self.table_dir(name).join("_delta_log")).is_ok_and(|entries| {
            entries.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".json"))
        })
    }

    /// The table at its latest version, or `None` when it was never written.
    pub async fn latest(&self, name: &str) -> Result<Option<DeltaTable>, StoreError> {
        if !self.exists(name) {
            return Ok(None);
        }
        let url = self.table_url(name)?;
        let table = deltalake::open_table(url).await.map_err(|e| StoreError::delta(name, e))?;
        Ok(Some(table))
    }

    /// The table as of `as_of` (latest when `None`); `None` when it did not exist then.
    pub async fn load(
        &self,
        name: &str,
        as_of: Option<AsOf>,
    ) -> Result<Option<DeltaTable>, StoreError> {
        let Some(mut table) = self.latest(name).await? else {
            return Ok(None);
        };
        match as_of {
            None => {}
            Some(AsOf::Time(at)) => {
                let created = first_commit_time(&table).await?;
                if created.is_some_and(|c| c > at) {
                    return Ok(None);
                }
                table.load_with_datetime(at).await.map_err(|e| StoreError::delta(name, e))?;
            }
            Some(AsOf::Import(n)) => {
                let log = self.import_log().await?;
                if n > log.imports() {
                    return Err(StoreError::NoSuchImport { number: n, last: log.imports() });
                }
                match log.version_after_import(name, n) {
                    None => return Ok(None),
                    Some(v) => {
                        table.load_version(v).await.map_err(|e| StoreError::delta(name, e))?
                    }
                }
            }
        }
        Ok(Some(table))
    }

    /// Registers every existing canonical table (as of `as_of`) in `ctx` under its own name,
    /// as Delta scans. Returns the names registered.
    pub async fn register_all(
        &self,
        ctx: &SessionContext,
        as_of: Option<AsOf>,
    ) -> Result<Vec<&'static str>, StoreError> {
        self.register_all_with(ctx, as_of, Scan::Delta).await
    }

    /// [`Store::register_all`] with the scan asked for.
    pub async fn register_all_with(
        &self,
        ctx: &SessionContext,
        as_of: Option<AsOf>,
        scan: Scan,
    ) -> Result<Vec<&'static str>, StoreError> {
        let mut names = Vec::new();
        for t in kpiflow_model::TABLES {
            if let Some(table) = self.load(t.name, as_of).await? {
                let provider = scan.provider(ctx, t.name, &table).await?;
                ctx.register_table(t.name, provider).map_err(|e| StoreError::query(t.name, e))?;
                names.push(t.name);
            }
        }
        Ok(names)
    }

    /// Upserts `rows` (in [`store_schema`] form, keys unique) into `table` as one transaction.
    ///
    /// Rows whose key is new are inserted; rows whose key exists with any other value replace it;
    /// identical rows are left alone. When nothing is new or changed no commit is made.
    /// `commit_metadata` is stored in the Delta commit (the import's provenance).
    pub async fn upsert(
        &self,
        table: &Table,
        rows: Vec<RecordBatch>,
        commit_metadata: serde_json::Value,
    ) -> Result<UpsertCounts, StoreError> {
        let total: u64 = rows.iter().map(|b| b.num_rows() as u64).sum();
        if total == 0 {
            return Ok(UpsertCounts::default());
        }
        let name = table.name;

        let Some(current) = self.latest(name).await? else {
            // Nothing to compare with: the table's first write, as an import streams it.
            let mut first = FirstWrite::start(name, self.new_table(name)?, store_schema(table));
            for batch in rows {
                first.write(batch).await?;
            }
            return first.commit(commit_metadata).await;
        };
        let props = provenance(commit_metadata);

        let ctx = SessionContext::new();
        let (changes, inserted, updated) = classify(&ctx, table, &current, rows).await?;
        let unchanged = total - inserted - updated;
        if inserted + updated == 0 {
            return Ok(UpsertCounts {
                inserted,
                updated,
                unchanged,
                version: current.version(),
                committed: false,
            });
        }

        let schema = store_schema(table);
        let on = table
            .key
            .iter()
            .map(|k| qualified("target", k).eq(qualified("source", k)))
            .reduce(Expr::and)
            .ok_or_else(|| StoreError::Internal(format!("{name} has no key")))?;
        let source = ctx.read_batches(changes).map_err(|e| StoreError::query(name, e))?;
        let (merged, _metrics) = current
            .merge(source, on)
            .with_source_alias("source")
            .with_target_alias("target")
            .with_commit_properties(props)
            .when_matched_update(|mut update| {
                for field in schema.fields().iter().filter(|f| !table.is_key(f.name())) {
                    update =
                        update.update(field.name().as_str(), qualified("source", field.name()));
                }
                update
            })
            .and_then(|m| {
                m.when_not_matched_insert(|mut insert| {
                    for field in schema.fields() {
                        insert =
                            insert.set(field.name().as_str(), qualified("source", field.name()));
                    }
                    insert
                })
            })
            .map_err(|e| StoreError::delta(name, e))?
            .await
            .map_err(|e| StoreError::delta(name, e))?;
        Ok(UpsertCounts {
            inserted,
            updated,
            unchanged,
            version: merged.version(),
            committed: true,
        })
    }

    /// The import log, oldest first.
    pub async fn import_log(&self) -> Result<ImportLog, StoreError> {
        ImportLog::read(self).await
    }

    /// Appends internal rows (the import log, links, link clicks) to their Delta table in one
    /// commit; concurrent appends are retried by Delta's optimistic commit.
    pub(crate) async fn append_internal(
        &self,
        name: &str,
        batch: RecordBatch,
    ) -> Result<(), StoreError> {
        debug_assert!(name.starts_with('_'), "internal tables start with _: {name}");
        let table = match self.latest(name).await? {
            Some(table) => table,
            None => self.new_table(name)?,
        };
        // Merge: an internal table gains the columns later versions add (the import log's
        // `presets`), old rows reading as null.
        table
            .write([batch])
            .with_save_mode(SaveMode::Append)
            .with_schema_mode(deltalake::operations::write::SchemaMode::Merge)
            .with_table_name(name)
            .await
            .map_err(|e| StoreError::delta(name, e))?;
        Ok(())
    }

    /// Starts the first write of `table`, streamed, when the table has no commit yet; `None`
    /// when it has one (rows then go through [`Store::upsert`], which must see them all).
    ///
    /// A table's first write has nothing to compare with, so its rows can be encoded to Parquet
    /// while the import is still reading: the import's memory is then a few batches, not the
    /// whole table, and the encoding runs on another thread beside the parsing.
    pub async fn first_write(&self, table: &Table) -> Result<Option<FirstWrite>, StoreError> {
        if self.exists(table.name) {
            return Ok(None);
        }
        Ok(Some(FirstWrite::start(table.name, self.new_table(table.name)?, store_schema(table))))
    }
}

/// The first write of a table, streamed ([`Store::first_write`]): rows are encoded to Parquet
/// data files as they are given (on a task of the runtime), and [`FirstWrite::commit`] creates
/// the table with all of them in one commit, version 0. Until that commit no version names the
/// files, so readers see no table; [`FirstWrite::abort`] (or dropping the writer) stops the
/// encoding and leaves at most orphan data files, as a first import killed before its commit
/// does ([`Store::exists`]).
pub struct FirstWrite {
    name: &'static str,
    table: DeltaTable,
    schema: SchemaRef,
    rows: u64,
    batches: Option<tokio::sync::mpsc::Sender<RecordBatch>>,
    cancelled: Arc<std::sync::atomic::AtomicBool>,
    encoder: Option<tokio::task::JoinHandle<deltalake::DeltaResult<Vec<deltalake::kernel::Add>>>>,
}

impl FirstWrite {
    /// Batches queued for the encoder: enough to keep it busy, few enough to keep memory small.
    const QUEUE: usize = 4;

    fn start(name: &'static str, table: DeltaTable, schema: SchemaRef) -> FirstWrite {
        use deltalake::datafile::writer::{DeltaWriter, WriterConfig};
        use std::sync::atomic::Ordering;

        // What a Delta write of a new table uses: Snappy, files of the default target size,
        // statistics on the first 32 columns.
        let config = WriterConfig::new(
            schema.clone(),
            Vec::new(),
            None,
            Some(deltalake::table::config::DEFAULT_TARGET_FILE_SIZE),
            None,
            Default::default(),
            None,
        );
        let mut writer = DeltaWriter::new(table.object_store(), config);
        let (tx, mut rx) = tokio::sync::mpsc::channel::<RecordBatch>(Self::QUEUE);
        let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = cancelled.clone();
        let encoder = tokio::spawn(async move {
            while let Some(batch) = rx.recv().await {
                if let Err(e) = writer.write(&batch).await {
                    let _ = writer.abort().await;
                    return Err(e);
                }
            }
            if stop.load(Ordering::Acquire) {
                // Abandoned: the file being written is removed; finished ones stay orphans.
                let _ = writer.abort().await;
                return Ok(Vec::new());
            }
            writer.close().await
        });
        FirstWrite {
            name,
            table,
            schema,
            rows: 0,
            batches: Some(tx),
            cancelled,
            encoder: Some(encoder),
        }
    }

    /// Queues `batch` (in [`store_schema`] form) for encoding, waiting while the queue is full.
    pub async fn write(&mut self, batch: RecordBatch) -> Result<(), StoreError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let rows = batch.num_rows() as u64;
        let sent = match &self.batches {
            Some(tx) => tx.send(batch).await.is_ok(),
            None => false,
        };
        if !sent {
            // The encoder stopped: its error says why.
            self.batches = None;
            return Err(self.join().await.err().unwrap_or_else(|| {
                StoreError::Internal(format!("{}: the Parquet encoder stopped early", self.name))
            }));
        }
        self.rows += rows;
        Ok(())
    }

    /// Rows queued so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Finishes the data files and creates the table holding them, with `commit_metadata`
    /// stored in the commit as [`Store::upsert`] stores it. No rows: no table, no commit.
    pub async fn commit(
        mut self,
        commit_metadata: serde_json::Value,
    ) -> Result<UpsertCounts, StoreError> {
        use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
        use deltalake::kernel::{Action, StructType};
        use deltalake::operations::create::CreateBuilder;

        if self.rows == 0 {
            self.abort().await;
            return Ok(UpsertCounts::default());
        }
        self.batches = None;
        let adds = self.join().await?;
        let name = self.name;
        let normalized = deltalake::kernel::schema::cast::normalize_for_delta(&self.schema);
        let schema: StructType = normalized.as_ref().try_into_kernel().map_err(|e| {
            StoreError::Internal(format!("{name}: the schema has no Delta form: {e}"))
        })?;
        let props = provenance(commit_metadata);
        let created = CreateBuilder::new()
            .with_log_store(self.table.log_store())
            .with_table_name(name)
            .with_columns(schema.fields().cloned())
            .with_actions(adds.into_iter().map(Action::Add))
            .with_commit_properties(props)
            .with_save_mode(SaveMode::ErrorIfExists)
            .await
            .map_err(|e| StoreError::delta(name, e))?;
        Ok(UpsertCounts {
            inserted: self.rows,
            updated: 0,
            unchanged: 0,
            version: created.version(),
            committed: true,
        })
    }

    /// Stops the encoding and removes the file being written; nothing is committed.
    pub async fn abort(mut self) {
        self.cancelled.store(true, std::sync::atomic::Ordering::Release);
        self.batches = None;
        let _ = self.join().await;
    }

    /// Waits for the encoder to end (its queue closed) and takes its data files.
    async fn join(&mut self) -> Result<Vec<deltalake::kernel::Add>, StoreError> {
        let name = self.name;
        match self.encoder.take() {
            None => Err(StoreError::Internal(format!("{name}: the Parquet encoder is gone"))),
            Some(task) => match task.await {
                Ok(result) => result.map_err(|e| StoreError::delta(name, e)),
                Err(e) => Err(StoreError::Internal(format!("{name}: the Parquet encoder: {e}"))),
            },
        }
    }
}

impl Drop for FirstWrite {
    /// Dropped without a commit (an error on the way): the encoder is told to abandon its files
    /// once its queue closes.
    fn drop(&mut self) {
        self.cancelled.store(true, std::sync::atomic::Ordering::Release);
    }
}

impl std::fmt::Debug for FirstWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstWrite").field("table", &self.name).field("rows", &self.rows).finish()
    }
}

/// The import's provenance as a commit's metadata (`kpiflow.import`).
fn provenance(commit_metadata: serde_json::Value) -> CommitProperties {
    CommitProperties::default().with_metadata([("kpiflow.import".to_owned(), commit_metadata)])
}

/// How a registered table is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// Through delta-rs's table provider (in this process).
    Delta,
    /// As a plain Parquet listing of the data files of the loaded version: a plan that another
    /// process can run (a cluster's executors read the same files; DataFusion serialises a
    /// listing table by its file URLs and schema, where a Delta provider has no codec). The
    /// snapshot is fixed when the table is registered, as with [`Scan::Delta`]. The store writes
    /// neither partition columns nor deletion vectors, so the files are the table.
    Files,
}

impl Scan {
    pub(crate) async fn provider(
        self,
        ctx: &SessionContext,
        name: &str,
        table: &DeltaTable,
    ) -> Result<Arc<dyn TableProvider>, StoreError> {
        let delta = provider(ctx, name, table).await?;
        match self {
            Scan::Delta => Ok(delta),
            Scan::Files => files_provider(name, table, delta.schema()),
        }
    }
}

/// A Parquet listing table over the data files of `table`'s loaded version, with `schema` (the
/// Delta provider's, so plans see the same types either way).
fn files_provider(
    name: &str,
    table: &DeltaTable,
    schema: SchemaRef,
) -> Result<Arc<dyn TableProvider>, StoreError> {
    use datafusion::datasource::file_format::parquet::ParquetFormat;
    use datafusion::datasource::listing::{
        ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
    };
    let q = |e| StoreError::query(name, e);
    // Each file as a URL under the table's (the log's paths are relative and percent-encoded;
    // decoded here and encoded again by the URL, so spaces or `%` in the data directory's path
    // survive), taken as one file, never as a glob.
    let root = table.table_url().clone();
    let state = table.snapshot().map_err(|e| StoreError::delta(name, e))?;
    let mut paths = Vec::new();
    for file in state.log_data() {
        let url = root.join(&file.path()).map_err(|e| {
            StoreError::query(
                name,
                datafusion::error::DataFusionError::External(
                    format!("data file `{}` of the Delta log: {e}", file.path()).into(),
                ),
            )
        })?;
        paths.push(ListingTableUrl::try_new(url, None).map_err(q)?);
    }
    // A version without data files (everything deleted) lists the table's directory for a
    // suffix no file has: an empty table that still serialises as a listing.
    let mut extension = ".parquet";
    if paths.is_empty() {
        paths.push(ListingTableUrl::try_new(root, None).map_err(q)?);
        extension = ".kpiflow-no-data-files";
    }
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(extension);
    let config = ListingTableConfig::new_with_multi_paths(paths)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config).map_err(q)?))
}

/// A DataFusion provider for a loaded Delta table, with the table's object store registered.
pub async fn provider(
    ctx: &SessionContext,
    name: &str,
    table: &DeltaTable,
) -> Result<Arc<dyn TableProvider>, StoreError> {
    table.update_datafusion_session(&ctx.state()).map_err(|e| StoreError::delta(name, e))?;
    table.table_provider().await.map_err(|e| StoreError::query(name, e))
}

async fn first_commit_time(table: &DeltaTable) -> Result<Option<DateTime<Utc>>, StoreError> {
    use futures::TryStreamExt;
    let infos: Vec<_> =
        table.history(None).try_collect().await.map_err(|e| StoreError::delta("", e))?;
    Ok(infos.iter().filter_map(|i| i.timestamp).min().and_then(DateTime::from_timestamp_millis))
}

/// A text column as a `StringArray`, whatever string type the scan produced (DataFusion may
/// read text as `Utf8View`). `None` when the column is not text.
pub fn as_strings(array: &arrow::array::ArrayRef) -> Option<arrow::array::StringArray> {
    use arrow::datatypes::DataType;
    match array.data_type() {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => {
            arrow::compute::cast(array, &DataType::Utf8)
                .ok()
                .and_then(|a| a.as_any().downcast_ref::<arrow::array::StringArray>().cloned())
        }
        _ => None,
    }
}

fn qualified(relation: &str, name: &str) -> Expr {
    Expr::Column(DfColumn::new(Some(relation), name))
}

/// Splits `rows` into the rows to write (new or changed) and counts them.
///
/// Each row is reduced to its key and a 64-bit digest of its other columns, on both sides (the
/// target is streamed, a batch at a time); one left join of those small digests on the key says
/// which incoming rows are new (no match) or changed (other digest), and only those rows are
/// taken from the incoming batches. Memory is the keys and digests, not two copies of the data.
async fn classify(
    ctx: &SessionContext,
    table: &Table,
    current: &DeltaTable,
    rows: Vec<RecordBatch>,
) -> Result<(Vec<RecordBatch>, u64, u64), StoreError> {
    use arrow::array::{ArrayRef, UInt32Array, UInt64Array};
    use arrow::compute::{cast, take};
    use futures::StreamExt;

    let name = table.name;
    let q = |e| StoreError::query(name, e);
    let internal =
        |e: arrow::error::ArrowError| StoreError::Internal(format!("classify {name}: {e}"));
    let schema = store_schema(table);
    let key_idx: Vec<usize> =
        (0..schema.fields().len()).filter(|i| table.is_key(schema.field(*i).name())).collect();
    let value_idx: Vec<usize> =
        (0..schema.fields().len()).filter(|i| !table.is_key(schema.field(*i).name())).collect();
    let digests = Digests::new(&schema, &value_idx).map_err(internal)?;
    let key_fields: Vec<Field> = key_idx.iter().map(|i| schema.field(*i).clone()).collect();

    // Incoming: key, digest, and where the row is.
    let mut source_fields = key_fields.clone();
    source_fields.push(Field::new("__digest", DataType::UInt64, false));
    source_fields.push(Field::new("__batch", DataType::UInt32, false));
    source_fields.push(Field::new("__row", DataType::UInt32, false));
    let source_schema = Arc::new(Schema::new(source_fields));
    let mut source_digests = Vec::with_capacity(rows.len());
    for (b, batch) in rows.iter().enumerate() {
        let mut columns: Vec<ArrayRef> = key_idx.iter().map(|i| batch.column(*i).clone()).collect();
        columns.push(Arc::new(digests.of(batch.columns()).map_err(internal)?));
        columns.push(Arc::new(UInt32Array::from(vec![b as u32; batch.num_rows()])));
        columns.push(Arc::new(UInt32Array::from_iter_values(0..batch.num_rows() as u32)));
        source_digests
            .push(RecordBatch::try_new(source_schema.clone(), columns).map_err(internal)?);
    }

    // Current table: key and digest, streamed; columns cast to the stored types (a scan may
    // read text as Utf8View) so equal values give equal digests.
    let mut target_fields = key_fields;
    target_fields.push(Field::new("__digest", DataType::UInt64, false));
    let target_schema = Arc::new(Schema::new(target_fields));
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut stream = ctx
        .read_table(provider(ctx, name, current).await?)
        .map_err(q)?
        .select_columns(&names)
        .map_err(q)?
        .execute_stream()
        .await
        .map_err(q)?;
    let mut target_digests = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(q)?;
        let columns: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, c)| {
                if c.data_type() == f.data_type() { Ok(c.clone()) } else { cast(c, f.data_type()) }
            })
            .collect::<Result<_, _>>()
            .map_err(internal)?;
        let mut out: Vec<ArrayRef> = key_idx.iter().map(|i| columns[*i].clone()).collect();
        out.push(Arc::new(digests.of(&columns).map_err(internal)?));
        target_digests.push(RecordBatch::try_new(target_schema.clone(), out).map_err(internal)?);
    }

    let source = ctx.read_batches(source_digests).map_err(q)?.alias("s").map_err(q)?;
    let target = if target_digests.is_empty() {
        ctx.read_batch(RecordBatch::new_empty(target_schema)).map_err(q)?
    } else {
        ctx.read_batches(target_digests).map_err(q)?
    }
    .alias("t")
    .map_err(q)?;
    let on: Vec<Expr> = table.key.iter().map(|k| qualified("s", k).eq(qualified("t", k))).collect();
    let is_new = qualified("t", "__digest").is_null();
    let changed = qualified("s", "__digest").not_eq(qualified("t", "__digest"));
    let found = source
        .join_on(target, JoinType::Left, on)
        .map_err(q)?
        .filter(is_new.clone().or(changed))
        .map_err(q)?
        .select(vec![qualified("s", "__batch"), qualified("s", "__row"), is_new.alias("__is_new")])
        .map_err(q)?
        .collect()
        .await
        .map_err(q)?;

    // Gather the rows found, batch by batch, in their original order.
    let mut picked: Vec<Vec<(u32, bool)>> = vec![Vec::new(); rows.len()];
    for batch in &found {
        let (Some(b), Some(r), Some(n)) = (
            batch.column(0).as_any().downcast_ref::<UInt32Array>(),
            batch.column(1).as_any().downcast_ref::<UInt32Array>(),
            batch.column(2).as_any().downcast_ref::<BooleanArray>(),
        ) else {
            return Err(StoreError::Internal("classify: unexpected join output".into()));
        };
        for i in 0..batch.num_rows() {
            picked[b.value(i) as usize].push((r.value(i), n.value(i)));
        }
    }
    let mut inserted = 0u64;
    let mut updated = 0u64;
    let mut out = Vec::new();
    for (batch, mut rows_picked) in rows.iter().zip(picked) {
        if rows_picked.is_empty() {
            continue;
        }
        rows_picked.sort_unstable();
        let new = rows_picked.iter().filter(|(_, n)| *n).count() as u64;
        inserted += new;
        updated += rows_picked.len() as u64 - new;
        let indices = UInt64Array::from_iter_values(rows_picked.iter().map(|(r, _)| u64::from(*r)));
        let columns: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .map(|c| take(c, &indices, None))
            .collect::<Result<_, _>>()
            .map_err(internal)?;
        out.push(RecordBatch::try_new(schema.clone(), columns).map_err(internal)?);
    }
    Ok((out, inserted, updated))
}

/// A 64-bit digest of a row's non-key columns (their Arrow row encoding, hashed with SipHash).
/// Two rows with equal values get equal digests; a changed row keeps its digest with a
/// probability of 2^-64.
struct Digests {
    columns: Vec<usize>,
    converter: arrow::row::RowConverter,
}

impl Digests {
    fn new(schema: &Schema, columns: &[usize]) -> Result<Digests, arrow::error::ArrowError> {
        let fields = columns
            .iter()
            .map(|i| arrow::row::SortField::new(schema.field(*i).data_type().clone()))
            .collect();
        Ok(Digests { columns: columns.to_vec(), converter: arrow::row::RowConverter::new(fields)? })
    }

    fn of(
        &self,
        all: &[arrow::array::ArrayRef],
    ) -> Result<arrow::array::UInt64Array, arrow::error::ArrowError> {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let arrays: Vec<_> = self.columns.iter().map(|i| all[*i].clone()).collect();
        let rows = self.converter.convert_columns(&arrays)?;
        Ok(rows
            .iter()
            .map(|row| {
                let mut h = DefaultHasher::new();
                row.as_ref().hash(&mut h);
                h.finish()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_schema_adds_reporting_columns() {
        let s = store_schema(&kpiflow_model::schema::AD_SPEND);
        let names: Vec<_> = s.fields().iter().map(|f| f.name().as_str()).collect();
        let i = names.iter().position(|n| *n == "cost").unwrap_or_default();
        assert_eq!(names[i + 1], "cost_reporting");
        assert_eq!(names.len(), kpiflow_model::schema::AD_SPEND.columns.len() + 1);
    }

    #[test]
    fn as_of_parses_numbers_times_and_dates() {
        assert_eq!(AsOf::parse("3"), Some(AsOf::Import(3)));
        assert_eq!(AsOf::parse("0"), None);
        assert!(matches!(AsOf::parse("2024-03-01T10:00:00Z"), Some(AsOf::Time(_))));
        assert!(matches!(AsOf::parse("2024-03-01"), Some(AsOf::Time(_))));
        assert_eq!(AsOf::parse("yesterday"), None);
    }
}
