//! Keys seen in an import: a key may appear once per import (per table).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

use arrow::array::RecordBatch;
use arrow::row::{RowConverter, SortField};
use kpiflow_model::Table;

use super::report::RowError;
use crate::error::StoreError;

/// The keys seen so far in an import, to refuse a key given twice.
///
/// Keys are remembered by a 128-bit hash of their encoded values (two SipHash passes) and where
/// they were first seen, packed in 64 bits ([`KeyIndex::place`]): 24 bytes an entry, about
/// 30 bytes a row with the map's slack; a false duplicate needs a 128-bit collision. The map is
/// sized once from the first batch's bytes per row ([`KeyIndex::expect`]), so a large import
/// does not hold the old and the new table while the map doubles.
pub(super) struct KeyIndex {
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
    pub(super) fn new(table: &Table) -> Result<KeyIndex, StoreError> {
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
    pub(super) fn expect(&mut self, rows: u64) {
        const CAP: u64 = 200_000_000;
        if self.seen.capacity() == 0 {
            self.seen.reserve(rows.min(CAP) as usize);
        }
    }

    /// Remembers the keys of `batch` and returns the rows whose key was seen before, each with
    /// an error naming the key and where it was first seen.
    pub(super) fn check(
        &mut self,
        batch: &RecordBatch,
        lines: &[u64],
        file_idx: usize,
        files: &[String],
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
                        format!("{}:{first_line}", files[first_file])
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
        let files = vec!["a.csv".to_owned(), "b.csv".to_owned()];
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
