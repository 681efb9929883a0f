//! The files an import reads, from the paths given: a file as it is, a `.zip` as the files it
//! holds, a folder as the files directly inside it.
//!
//! Vendors hand out zips (Google Search Console's export is one zip of seven CSV files) and
//! people drop a month of exports in a folder; both are read as the files they hold, which keep
//! a group so a reader can look at their siblings (the zip's `Filters.csv` names the date range
//! of its `Chart.csv`). A zip is extracted into a temporary folder that lives as long as the
//! [`Inputs`]; entries are placed by their enclosed name only (no path leaves that folder),
//! their total size is bounded and an absurd compression ratio (a zip bomb) is refused.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::ImportError;
use crate::import::format::text::thousands;

/// The most a zip's files may hold, uncompressed, in all.
pub const MAX_UNZIPPED_BYTES: u64 = 8 << 30;
/// An entry this much larger than its compressed size is refused when it is also larger than
/// [`RATIO_CHECKED_ABOVE`]: real exports compress 5–50 times, a deflate bomb up to a thousand.
pub const MAX_COMPRESSION_RATIO: u64 = 500;
pub const RATIO_CHECKED_ABOVE: u64 = 64 << 20;

/// One file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Where it is on disk (inside a temporary folder for a zip's files).
    pub path: PathBuf,
    /// How messages name it: the path as given, `export.zip/Chart.csv`, `folder/file.csv`.
    pub name: String,
    /// Files from the same zip or folder share a group.
    pub group: Option<usize>,
}

/// The files of an import, and the temporary folders holding what zips held.
#[derive(Debug, Default)]
pub struct Inputs {
    files: Vec<InputFile>,
    /// Kept for as long as the files are read; removed when dropped.
    _unzipped: Vec<tempfile::TempDir>,
}

impl Inputs {
    pub fn files(&self) -> &[InputFile] {
        &self.files
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, InputFile> {
        self.files.iter()
    }

    /// The other files of file `i`'s zip or folder (none for a file given by itself).
    pub fn siblings(&self, i: usize) -> impl Iterator<Item = &InputFile> {
        let group = self.files.get(i).and_then(|f| f.group);
        self.files
            .iter()
            .enumerate()
            .filter(move |(j, f)| *j != i && group.is_some() && f.group == group)
            .map(|(_, f)| f)
    }
}

impl<'a> IntoIterator for &'a Inputs {
    type Item = &'a InputFile;
    type IntoIter = std::slice::Iter<'a, InputFile>;
    fn into_iter(self) -> Self::IntoIter {
        self.files.iter()
    }
}

/// The files to read for `paths`, in order: a file stays as it is; a `.zip` becomes the files it
/// holds (sorted by name; folders, `__MACOSX/` and hidden files left out), extracted into a
/// temporary folder; a folder becomes the files directly inside it (not its sub-folders; hidden
/// files left out), sorted by name. A path that does not exist, a zip holding no file and an
/// empty folder are errors naming the path.
pub fn expand(paths: &[PathBuf]) -> Result<Inputs, ImportError> {
    let named: Vec<(PathBuf, String)> =
        paths.iter().map(|p| (p.clone(), p.display().to_string())).collect();
    expand_named(&named)
}

/// [`expand`], with the name each path goes by in messages and the log (an upload's own file
/// name rather than where the server keeps it); a zip's or folder's files are named under it.
pub fn expand_named(paths: &[(PathBuf, String)]) -> Result<Inputs, ImportError> {
    let mut inputs = Inputs::default();
    let mut groups = 0;
    for (path, given) in paths {
        let given = given.clone();
        let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => {
                ImportError::File { file: given.clone(), message: "no such file or folder".into() }
            }
            _ => ImportError::ReadFile { path: path.clone(), source },
        })?;
        if meta.is_dir() {
            let files = folder_files(path)?;
            if files.is_empty() {
                return Err(ImportError::File {
                    file: given,
                    message: "the folder holds no file to import (sub-folders and hidden files \
                              are not read)"
                        .into(),
                });
            }
            let group = Some(groups);
            groups += 1;
            let base = given.trim_end_matches(['/', '\\']).to_owned();
            for (name, file) in files {
                inputs.files.push(InputFile { path: file, name: format!("{base}/{name}"), group });
            }
        } else if is_zip(path) {
            let dir = tempfile::Builder::new()
                .prefix("kpiflow-unzip-")
                .tempdir()
                .map_err(|source| ImportError::ReadFile { path: std::env::temp_dir(), source })?;
            let files = unzip(path, &given, dir.path())?;
            if files.is_empty() {
                return Err(ImportError::File {
                    file: given,
                    message: "the zip holds no file to import (folders, `__MACOSX/` and hidden \
                              files are not read)"
                        .into(),
                });
            }
            let group = Some(groups);
            groups += 1;
            for (name, file) in files {
                inputs.files.push(InputFile { path: file, name: format!("{given}/{name}"), group });
            }
            inputs._unzipped.push(dir);
        } else {
            inputs.files.push(InputFile { path: path.clone(), name: given, group: None });
        }
    }
    Ok(inputs)
}

fn is_zip(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// Hidden files (`.DS_Store`) and the lock files Office leaves beside an open workbook
/// (`~$report.xlsx`): never data.
fn hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with("~$")
}

/// The files directly in `dir` (name, path), sorted by name.
fn folder_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, ImportError> {
    let io = |source| ImportError::ReadFile { path: dir.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if hidden(&name) || !path.is_file() {
            continue;
        }
        files.push((name, path));
    }
    files.sort();
    Ok(files)
}

/// Extracts the files of the zip at `path` into `into`; returns (name inside the zip, path on
/// disk), sorted by name.
fn unzip(path: &Path, given: &str, into: &Path) -> Result<Vec<(String, PathBuf)>, ImportError> {
    let bad = |message: String| ImportError::File { file: given.to_owned(), message };
    let io_into = |source| ImportError::ReadFile { path: into.to_path_buf(), source };
    let file =
        File::open(path).map_err(|source| ImportError::ReadFile { path: path.into(), source })?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| bad(format!("cannot be read as a zip archive: {e}")))?;
    let mut files = Vec::new();
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut entry =
            archive.by_index(i).map_err(|e| bad(format!("cannot read entry {}: {e}", i + 1)))?;
        let raw_name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.is_dir() || entry.is_symlink() {
            continue;
        }
        let Some(enclosed) = entry.enclosed_name() else {
            return Err(bad(format!(
                "entry `{raw_name}` has a path outside the archive (absolute, or with `..`); \
                 refusing to extract it"
            )));
        };
        let parts: Vec<String> =
            enclosed.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        if parts.iter().any(|p| p == "__MACOSX" || hidden(p)) {
            continue;
        }
        let name = parts.join("/");
        if entry.encrypted() {
            return Err(bad(format!("`{name}` is encrypted; unzip it with its password first")));
        }
        let size = entry.size();
        if size > RATIO_CHECKED_ABOVE
            && size / entry.compressed_size().max(1) > MAX_COMPRESSION_RATIO
        {
            return Err(bad(format!(
                "`{name}` would unpack from {} to {} bytes, more than {MAX_COMPRESSION_RATIO} \
                 times its size: refusing what looks like a zip bomb (unzip it yourself if it \
                 is genuine)",
                thousands(entry.compressed_size()),
                thousands(size)
            )));
        }
        if total.saturating_add(size) > MAX_UNZIPPED_BYTES {
            return Err(bad(format!(
                "its files hold more than {} GiB uncompressed; unzip it and import the files",
                MAX_UNZIPPED_BYTES >> 30
            )));
        }
        let target = into.join(&enclosed);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io_into)?;
        }
        let mut out = File::create_new(&target).map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => bad(format!("holds `{name}` twice")),
            _ => io_into(source),
        })?;
        // Never more than the entry claims: a size that lies is a damaged or hostile archive.
        let written = io::copy(&mut entry.by_ref().take(size + 1), &mut out)
            .map_err(|e| bad(format!("cannot unpack `{name}`: {e}")))?;
        if written > size {
            return Err(bad(format!(
                "`{name}` holds more than the {} bytes its entry claims; the archive is \
                 damaged",
                thousands(size)
            )));
        }
        out.flush().map_err(io_into)?;
        total += written;
        files.push((name, target));
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let mut zip = zip::ZipWriter::new(File::create(path).unwrap());
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            if name.ends_with('/') {
                zip.add_directory(*name, options).unwrap();
            } else {
                zip.start_file(*name, options).unwrap();
                zip.write_all(bytes).unwrap();
            }
        }
        zip.finish().unwrap();
    }

    #[test]
    fn files_zips_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let single = dir.path().join("deals.csv");
        std::fs::write(&single, "a\n1\n").unwrap();
        let zip = dir.path().join("export.zip");
        write_zip(
            &zip,
            &[
                ("Queries.csv", b"q\n"),
                ("Chart.csv", b"Date,Clicks\n2025-08-11,0\n"),
                ("__MACOSX/._Chart.csv", b"junk"),
                (".DS_Store", b"junk"),
                ("~$Chart.xlsx", b"lock"),
                ("sub/", b""),
                ("sub/Filters.csv", b"Filter,Value\n"),
            ],
        );
        let folder = dir.path().join("month");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("b.csv"), "x\n").unwrap();
        std::fs::write(folder.join("a.csv"), "x\n").unwrap();
        std::fs::write(folder.join(".hidden.csv"), "x\n").unwrap();
        std::fs::create_dir(folder.join("nested")).unwrap();
        std::fs::write(folder.join("nested/c.csv"), "x\n").unwrap();

        let inputs = expand(&[single.clone(), zip.clone(), folder.clone()]).unwrap();
        let names: Vec<&str> = inputs.iter().map(|f| f.name.as_str()).collect();
        let z = zip.display().to_string();
        let m = folder.display().to_string();
        assert_eq!(
            names,
            [
                single.display().to_string(),
                format!("{z}/Chart.csv"),
                format!("{z}/Queries.csv"),
                format!("{z}/sub/Filters.csv"),
                format!("{m}/a.csv"),
                format!("{m}/b.csv"),
            ]
        );
        let groups: Vec<Option<usize>> = inputs.iter().map(|f| f.group).collect();
        assert_eq!(groups, [None, Some(0), Some(0), Some(0), Some(1), Some(1)]);
        assert_eq!(inputs.files()[0].path, single);
        let chart = &inputs.files()[1];
        assert_eq!(std::fs::read_to_string(&chart.path).unwrap(), "Date,Clicks\n2025-08-11,0\n");
        let siblings: Vec<&str> = inputs.siblings(1).map(|f| f.name.as_str()).collect();
        assert_eq!(siblings, [format!("{z}/Queries.csv"), format!("{z}/sub/Filters.csv")]);
        assert_eq!(inputs.siblings(0).count(), 0);
        assert_eq!(
            inputs.siblings(4).map(|f| f.name.clone()).collect::<Vec<_>>(),
            [format!("{m}/b.csv")]
        );
        // The extracted files go with the `Inputs`.
        let extracted = chart.path.clone();
        drop(inputs);
        assert!(!extracted.exists());
    }

    #[test]
    fn missing_paths_empty_zips_and_folders_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let e = expand(&[dir.path().join("nope.csv")]).unwrap_err().to_string();
        assert!(e.contains("nope.csv: no such file or folder"), "{e}");
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        std::fs::write(empty.join(".keep"), "").unwrap();
        let e = expand(std::slice::from_ref(&empty)).unwrap_err().to_string();
        assert!(e.contains("empty: the folder holds no file"), "{e}");
        let zip = dir.path().join("e.zip");
        write_zip(&zip, &[("folder/", b""), ("__MACOSX/x", b"y")]);
        let e = expand(std::slice::from_ref(&zip)).unwrap_err().to_string();
        assert!(e.contains("e.zip: the zip holds no file"), "{e}");
        let not_zip = dir.path().join("n.zip");
        std::fs::write(&not_zip, "plain text").unwrap();
        let e = expand(&[not_zip]).unwrap_err().to_string();
        assert!(e.contains("cannot be read as a zip archive"), "{e}");
    }

    #[test]
    fn zip_bombs_and_escaping_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bomb = dir.path().join("bomb.zip");
        let zeros = vec![0u8; (RATIO_CHECKED_ABOVE + (1 << 20)) as usize];
        write_zip(&bomb, &[("zeros.csv", &zeros)]);
        let e = expand(std::slice::from_ref(&bomb)).unwrap_err().to_string();
        assert!(e.contains("looks like a zip bomb"), "{e}");
        // An entry named `../evil.csv`: enclosed_name refuses it.
        let evil = dir.path().join("evil.zip");
        write_zip(&evil, &[("../evil.csv", b"a\n")]);
        let e = expand(std::slice::from_ref(&evil)).unwrap_err().to_string();
        assert!(e.contains("has a path outside the archive"), "{e}");
        assert!(!dir.path().parent().unwrap().join("evil.csv").exists());
    }
}
