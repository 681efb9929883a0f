//! The encoding layer of the text formats: a file in any encoding read as UTF-8, on the fly.
//!
//! Which encoding a file is in:
//! 1. a byte-order mark of UTF-8 (`EF BB BF`), UTF-16LE (`FF FE`) or UTF-16BE (`FE FF`) always
//!    wins, and is removed;
//! 2. else the mapping's [`ReadOptions::encoding`];
//! 3. else UTF-8, except that a start where (nearly) every other byte is NUL is UTF-16 without a
//!    byte-order mark (ASCII text in UTF-16LE is `a\0b\0`; in UTF-16BE `\0a\0b`), which some
//!    exporters write and which read as UTF-8 would be a header of NUL-riddled names.
//!
//! UTF-8 is handed through as it is (no decoding, no copy beyond the reader's buffer): the CSV
//! reader checks each record's UTF-8 itself and reports a bad record as an unreadable row, so one
//! stray byte does not fail the import. Every other encoding is decoded by `encoding_rs` in a
//! streaming way, and text that is malformed in its encoding is an error naming the file, the
//! byte offset and the encoding, never a silent U+FFFD: a file read in the wrong encoding must
//! not import as plausible-looking garbage.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use encoding_rs::{Decoder, DecoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE};

use super::ReadOptions;
use crate::error::ImportError;

/// Source bytes decoded per read of the file.
const INPUT_CHUNK: usize = 64 * 1024;
/// Reads asking for fewer bytes than this are served from an internal buffer: the decoder needs
/// room for at least one whole character.
const MIN_OUTPUT: usize = 64;
/// Bytes of the start of a file looked at to choose its encoding.
const SNIFF_BYTES: usize = 1024;

/// Why a file is read in the encoding it is, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingChoice {
    /// The file starts with a byte-order mark.
    ByteOrderMark,
    /// The mapping names the encoding.
    Mapping,
    /// Every other byte of the file's start is NUL.
    NulBytes,
    /// Nothing says otherwise.
    Default,
}

impl EncodingChoice {
    fn explain(self, encoding: &'static Encoding) -> String {
        let name = encoding.name();
        match self {
            EncodingChoice::ByteOrderMark => {
                format!(" (the file starts with the byte-order mark of {name})")
            }
            EncodingChoice::Mapping => {
                format!(" (the mapping's `encoding`); check that the file really is {name}")
            }
            EncodingChoice::NulBytes => format!(
                " (read as {name} because every other byte of its start is NUL); set the \
                 mapping's `encoding` if it is something else"
            ),
            EncodingChoice::Default => {
                " (no byte-order mark and no `encoding` in the mapping); set the mapping's \
                 `encoding` (for instance `windows-1252`)"
                    .to_owned()
            }
        }
    }
}

/// The encoding of a file whose first bytes are `head`, the length of its byte-order mark, and
/// why (see the module's rules).
pub fn choose_encoding(
    head: &[u8],
    configured: Option<&'static Encoding>,
) -> (&'static Encoding, usize, EncodingChoice) {
    if let Some((encoding, bom)) = Encoding::for_bom(head) {
        return (encoding, bom, EncodingChoice::ByteOrderMark);
    }
    if let Some(encoding) = configured {
        return (encoding, 0, EncodingChoice::Mapping);
    }
    match utf16_by_nul_bytes(head) {
        Some(encoding) => (encoding, 0, EncodingChoice::NulBytes),
        None => (UTF_8, 0, EncodingChoice::Default),
    }
}

/// UTF-16 without a byte-order mark, told by its NUL bytes: in at least 90 % of the first
/// (up to 512) byte pairs one byte is NUL, always the same one (the high byte of an ASCII
/// character). Text outside ASCII in UTF-16 without a BOM is not recognised: name its encoding
/// in the mapping.
fn utf16_by_nul_bytes(head: &[u8]) -> Option<&'static Encoding> {
    let pairs = (head.len() / 2).min(SNIFF_BYTES / 2);
    if pairs < 2 {
        return None;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for pair in head[..pairs * 2].chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    let most = |n: usize| n * 10 >= pairs * 9;
    let few = |n: usize| n * 10 <= pairs;
    if most(odd) && few(even) {
        Some(UTF_16LE)
    } else if most(even) && few(odd) {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// `n` with a `,` between groups of three digits (`1,234`), as messages show offsets.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A file read as UTF-8 text (see the module's rules), byte-order mark removed.
///
/// Besides the text it tells how much of the file has been consumed ([`TextReader::source_bytes`],
/// for progress), whether the end was reached and whether the text ended with `\n` (so the CSV
/// reader can tell where its last record started).
pub struct TextReader {
    path: PathBuf,
    file: File,
    encoding: &'static Encoding,
    choice: EncodingChoice,
    file_len: u64,
    /// Bytes of the file consumed (the byte-order mark included).
    consumed: u64,
    /// UTF-8 bytes handed out.
    produced: u64,
    last_byte: Option<u8>,
    /// A read returned 0: the whole text has been handed out.
    finished: bool,
    /// `None` for UTF-8, which is handed through.
    decoding: Option<Box<Decoding>>,
}

impl std::fmt::Debug for TextReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextReader")
            .field("path", &self.path)
            .field("encoding", &self.encoding.name())
            .field("consumed", &self.consumed)
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

/// The state of a decoding (not UTF-8) read.
struct Decoding {
    decoder: Decoder,
    input: Box<[u8]>,
    in_pos: usize,
    in_len: usize,
    /// The file returned 0.
    source_eof: bool,
    /// The decoder was told the input ended and has handed out all it had.
    decoder_done: bool,
    /// Decoded text not yet handed out (for reads of fewer than [`MIN_OUTPUT`] bytes).
    pending: Vec<u8>,
    pending_pos: usize,
}

impl TextReader {
    /// Opens `path`, choosing its encoding by the module's rules.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<TextReader, ImportError> {
        let io = |source| ImportError::ReadFile { path: path.to_path_buf(), source };
        let mut file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut head = [0u8; SNIFF_BYTES];
        let n = read_up_to(&mut file, &mut head).map_err(io)?;
        let (encoding, bom, choice) = choose_encoding(&head[..n], options.encoding);
        file.seek(SeekFrom::Start(bom as u64)).map_err(io)?;
        let decoding = (encoding != UTF_8).then(|| {
            Box::new(Decoding {
                decoder: encoding.new_decoder_without_bom_handling(),
                input: vec![0u8; INPUT_CHUNK].into_boxed_slice(),
                in_pos: 0,
                in_len: 0,
                source_eof: false,
                decoder_done: false,
                pending: Vec::new(),
                pending_pos: 0,
            })
        });
        Ok(TextReader {
            path: path.to_path_buf(),
            file,
            encoding,
            choice,
            file_len,
            consumed: bom as u64,
            produced: 0,
            last_byte: None,
            finished: false,
            decoding,
        })
    }

    /// The name of the encoding the file is read in (`UTF-8`, `UTF-16LE`, `windows-1252`).
    pub fn encoding(&self) -> &'static str {
        self.encoding.name()
    }

    /// Why the file is read in that encoding.
    pub fn encoding_choice(&self) -> EncodingChoice {
        self.choice
    }

    /// Bytes of the file consumed so far, the byte-order mark included (reads ahead of the text
    /// handed out by at most one buffer).
    pub fn source_bytes(&self) -> u64 {
        self.consumed
    }

    /// The file's length in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// UTF-8 bytes handed out so far.
    pub fn text_bytes(&self) -> u64 {
        self.produced
    }

    /// The total length of the text in UTF-8 bytes, once a read has returned 0 (the end).
    pub fn text_len_at_end(&self) -> Option<u64> {
        self.finished.then_some(self.produced)
    }

    /// Whether the text handed out so far ends with `\n`.
    pub fn ends_with_newline(&self) -> bool {
        self.last_byte == Some(b'\n')
    }

    fn malformed(&self, offset: u64) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "byte {} is not valid {}{}",
                thousands(offset),
                self.encoding.name(),
                self.choice.explain(self.encoding)
            ),
        )
    }

    /// Decodes into `dst` (at least [`MIN_OUTPUT`] bytes long): as much as fits, reading the file
    /// in chunks; 0 only at the end.
    fn decode(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        let Some(d) = self.decoding.as_deref_mut() else {
            return Ok(0);
        };
        let mut written = 0;
        while !d.decoder_done {
            if d.in_pos == d.in_len && !d.source_eof {
                d.in_len = read_up_to(&mut self.file, &mut d.input)?;
                d.in_pos = 0;
                d.source_eof = d.in_len == 0;
            }
            let (result, read, w) = d.decoder.decode_to_utf8_without_replacement(
                &d.input[d.in_pos..d.in_len],
                &mut dst[written..],
                d.source_eof,
            );
            d.in_pos += read;
            self.consumed += read as u64;
            written += w;
            match result {
                DecoderResult::Malformed(bad, after) => {
                    // The malformed sequence ends `after` bytes before what has been consumed.
                    let offset = self.consumed.saturating_sub(u64::from(after) + u64::from(bad));
                    return Err(self.malformed(offset));
                }
                DecoderResult::OutputFull => break,
                DecoderResult::InputEmpty => {
                    if d.source_eof {
                        d.decoder_done = true;
                    } else if dst.len() - written < MIN_OUTPUT && written > 0 {
                        break;
                    }
                }
            }
        }
        Ok(written)
    }

    fn read_decoded(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let pending = self.decoding.as_ref().is_some_and(|d| d.pending_pos < d.pending.len());
        if !pending {
            if buf.len() >= MIN_OUTPUT {
                return self.decode(buf);
            }
            let mut scratch =
                self.decoding.as_mut().map(|d| std::mem::take(&mut d.pending)).unwrap_or_default();
            scratch.resize(4096, 0);
            let n = self.decode(&mut scratch)?;
            scratch.truncate(n);
            if let Some(d) = self.decoding.as_deref_mut() {
                d.pending = scratch;
                d.pending_pos = 0;
            }
        }
        let Some(d) = self.decoding.as_deref_mut() else {
            return Ok(0);
        };
        let n = buf.len().min(d.pending.len() - d.pending_pos);
        buf[..n].copy_from_slice(&d.pending[d.pending_pos..d.pending_pos + n]);
        d.pending_pos += n;
        Ok(n)
    }
}

impl Read for TextReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.finished {
            return Ok(0);
        }
        let n = if self.decoding.is_some() {
            self.read_decoded(buf)?
        } else {
            let n = self.file.read(buf)?;
            self.consumed += n as u64;
            n
        };
        if n == 0 {
            self.finished = true;
        } else {
            self.produced += n as u64;
            self.last_byte = Some(buf[n - 1]);
        }
        Ok(n)
    }
}

/// The first `max_bytes` bytes of `path` as text, by the same rules as [`TextReader`], and the
/// encoding they were read in: for probing a file (which format, which vendor) before reading
/// it. The text is cut at a character boundary (a character cut by `max_bytes` is left out, not
/// an error). Bytes that are not UTF-8 in a file read as UTF-8 become U+FFFD here: the CSV
/// reader reports such rows as unreadable, so probing must not fail on them. Malformed text in
/// any other encoding is an error, as when reading.
pub fn head_text(
    path: &Path,
    options: &ReadOptions,
    max_bytes: usize,
) -> Result<(String, &'static Encoding), ImportError> {
    let io = |source| ImportError::ReadFile { path: path.to_path_buf(), source };
    let mut file = File::open(path).map_err(io)?;
    let mut head = vec![0u8; max_bytes];
    let n = read_up_to(&mut file, &mut head).map_err(io)?;
    head.truncate(n);
    let (encoding, bom, choice) = choose_encoding(&head, options.encoding);
    let body = &head[bom..];
    if encoding == UTF_8 {
        let body = &body[..utf8_complete_len(body)];
        return Ok((String::from_utf8_lossy(body).into_owned(), encoding));
    }
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(
        decoder.max_utf8_buffer_length_without_replacement(body.len()).unwrap_or(body.len() * 3),
    );
    let mut pos = 0;
    loop {
        // `last: false`: a character cut at the end stays inside the decoder, unreported.
        let (result, read) =
            decoder.decode_to_string_without_replacement(&body[pos..], &mut text, false);
        pos += read;
        match result {
            DecoderResult::InputEmpty => return Ok((text, encoding)),
            DecoderResult::OutputFull => text.reserve(body.len() - pos + 16),
            DecoderResult::Malformed(bad, after) => {
                let offset = (bom + pos).saturating_sub(usize::from(bad) + usize::from(after));
                return Err(ImportError::File {
                    file: path.display().to_string(),
                    message: format!(
                        "byte {} is not valid {}{}",
                        thousands(offset as u64),
                        encoding.name(),
                        choice.explain(encoding)
                    ),
                });
            }
        }
    }
}

/// The length of `bytes` without a UTF-8 sequence cut short at its end.
fn utf8_complete_len(bytes: &[u8]) -> usize {
    // A lead byte among the last three whose sequence runs past the end.
    for back in 1..=bytes.len().min(3) {
        let b = bytes[bytes.len() - back];
        let len = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            0x80..=0xBF => continue,
            _ => return bytes.len(),
        };
        return if len > back { bytes.len() - back } else { bytes.len() };
    }
    bytes.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    fn read_all(f: &tempfile::NamedTempFile, options: &ReadOptions) -> io::Result<String> {
        let mut r = TextReader::open(f.path(), options).unwrap();
        let mut s = String::new();
        r.read_to_string(&mut s)?;
        Ok(s)
    }

    #[test]
    fn byte_order_marks_win_and_are_removed() {
        let options =
            ReadOptions { encoding: Some(encoding_rs::WINDOWS_1252), ..Default::default() };
        let f = file(b"\xEF\xBB\xBFa,\xC3\xA9\n");
        assert_eq!(read_all(&f, &options).unwrap(), "a,é\n");
        let f = file(&utf16le("a\tb\n1\t€\n", true));
        let r = TextReader::open(f.path(), &options).unwrap();
        assert_eq!(r.encoding(), "UTF-16LE");
        assert_eq!(read_all(&f, &options).unwrap(), "a\tb\n1\t€\n");
        let mut be = vec![0xFE, 0xFF];
        be.extend("x,y\n".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(read_all(&file(&be), &options).unwrap(), "x,y\n");
    }

    #[test]
    fn the_mapping_names_the_encoding_else_utf8_or_utf16_by_nul_bytes() {
        let f = file(b"caf\xE9\n");
        let options =
            ReadOptions { encoding: Some(encoding_rs::WINDOWS_1252), ..Default::default() };
        assert_eq!(read_all(&f, &options).unwrap(), "café\n");
        // Without the mapping, UTF-8 is handed through as it is (the CSV reader checks it).
        let mut r = TextReader::open(f.path(), &ReadOptions::default()).unwrap();
        let mut raw = Vec::new();
        r.read_to_end(&mut raw).unwrap();
        assert_eq!(raw, b"caf\xE9\n");
        assert_eq!(r.encoding(), "UTF-8");
        let f = file(&utf16le("Campaign,Clicks\nBrand,12\n", false));
        let r = TextReader::open(f.path(), &ReadOptions::default()).unwrap();
        assert_eq!((r.encoding(), r.encoding_choice()), ("UTF-16LE", EncodingChoice::NulBytes));
        assert_eq!(read_all(&f, &ReadOptions::default()).unwrap(), "Campaign,Clicks\nBrand,12\n");
    }

    #[test]
    fn malformed_text_is_an_error_naming_the_byte_and_the_encoding() {
        // An unpaired surrogate (D800) at byte 6 (after the BOM and two characters).
        let mut bytes = utf16le("ab", true);
        bytes.extend([0x00, 0xD8, b'c', 0x00]);
        let e = read_all(&file(&bytes), &ReadOptions::default()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().starts_with("byte 6 is not valid UTF-16LE"), "{e}");
        // Far into a file: the offset counts from the file's start, with thousands separators.
        let mut bytes = utf16le(&"x".repeat(100_000), true);
        bytes.extend([0x00, 0xDC]);
        let e = read_all(&file(&bytes), &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().starts_with("byte 200,002 is not valid UTF-16LE"), "{e}");
        // An odd byte at the end of UTF-16 is malformed too.
        let mut bytes = utf16le("ab", true);
        bytes.push(b'c');
        assert!(read_all(&file(&bytes), &ReadOptions::default()).is_err());
    }

    #[test]
    fn large_text_decodes_across_chunks_and_counts_bytes() {
        let text: String = (0..50_000).map(|i| format!("{i}\t€{i}\n")).collect();
        let bytes = utf16le(&text, true);
        let f = file(&bytes);
        let mut r = TextReader::open(f.path(), &ReadOptions::default()).unwrap();
        // Small and odd reads too.
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        for _ in 0..10 {
            let n = r.read(&mut buf).unwrap();
            out.extend_from_slice(&buf[..n]);
        }
        r.read_to_end(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), text);
        assert_eq!(r.source_bytes(), bytes.len() as u64);
        assert_eq!(r.text_len_at_end(), Some(text.len() as u64));
        assert!(r.ends_with_newline());
    }

    #[test]
    fn head_text_cuts_at_a_character() {
        let f = file(&utf16le("Campaign\tClicks\n€", true));
        // BOM + 16 characters + one byte of `€`.
        let (text, enc) = head_text(f.path(), &ReadOptions::default(), 2 + 32 + 1).unwrap();
        assert_eq!((text.as_str(), enc.name()), ("Campaign\tClicks\n", "UTF-16LE"));
        let f = file("a,é".as_bytes());
        let (text, _) = head_text(f.path(), &ReadOptions::default(), 3).unwrap();
        assert_eq!(text, "a,");
        let (text, _) = head_text(f.path(), &ReadOptions::default(), 100).unwrap();
        assert_eq!(text, "a,é");
        let mut bytes = utf16le("ab", false);
        bytes.extend([0x00, 0xDC, b'c', 0, b'd', 0]);
        let options = ReadOptions { encoding: Some(UTF_16LE), ..Default::default() };
        let e = head_text(file(&bytes).path(), &options, 100).unwrap_err();
        assert!(e.to_string().contains("byte 4 is not valid UTF-16LE"), "{e}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
