//! Ingest: turns input paths into a stream of [`Item`]s, each a good
//! [`Document`] or a [`BadRecord`] that says where and why.
//!
//! In: paths (directories of `.txt`, `.txt` files, JSONL, CSV, Reuters SGML,
//! `.gz`/`.zst` of the record formats, `-` for JSONL on stdin).
//! Out: items in a deterministic order: arguments in the order given,
//! directory entries sorted by path, records in file order.
//!
//! Invariants: files are streamed record by record (a large file is never
//! read whole); every record read is emitted exactly once, as a document or
//! as a bad record, so `read = documents + bad`. The first record with a
//! given id wins; later ones are bad (`duplicate_id`).

mod csv_input;
mod jsonl;
mod sgml;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use ahash::AHashSet;

use crate::config::{FieldMap, Format, IngestConfig};
use crate::document::{Document, Timestamp};
use crate::error::{Error, Result, SkipReason};

/// Where a record came from: a file (or `-`) and a 1-based line number
/// (0 when the whole file is the record or the file could not be read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The path as given (or relative to the directory argument's parent).
    pub file: String,
    /// 1-based line of the record's start; 0 for whole-file records.
    pub line: u64,
    /// Index of the file in the sources being read (see [`read_sources`]).
    pub source: usize,
    /// Where the record can be read again: the byte offset of its start in
    /// the file, for JSONL lines and `.txt` files read from plain (not
    /// compressed) files; `None` when it cannot be re-read by offset.
    pub offset: Option<u64>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}

/// A record that was read but cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRecord {
    /// Where it is.
    pub location: Location,
    /// Why it is skipped.
    pub reason: SkipReason,
    /// The parser's words, or the offending value.
    pub detail: String,
}

impl std::fmt::Display for BadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.reason, self.detail)
    }
}

/// One unit of ingest output.
#[derive(Debug)]
pub enum Item {
    /// A good article, with where it came from.
    Doc(Document, Location),
    /// A record that is skipped.
    Bad(BadRecord),
}

/// One file (or stdin) to read, with the format it will be read as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The path; `-` is stdin.
    pub path: PathBuf,
    /// How it is read.
    pub format: Format,
    /// For `.txt` files: the article id.
    pub text_id: Option<String>,
}

/// Raw fields of a record before validation. `None` means absent.
#[derive(Debug, Default)]
pub(crate) struct RawFields {
    pub id: Option<String>,
    pub text: Option<String>,
    pub title: Option<String>,
    pub outlet: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
    /// Byte offset of the record's start in the (decompressed) stream, when
    /// the format can re-read a record from there.
    pub offset: Option<u64>,
}

/// Guesses the format of a file from its name: `.txt`, `.jsonl`/`.ndjson`/
/// `.json`, `.csv`, `.sgm`/`.sgml`, each record format optionally followed by
/// `.gz` or `.zst`.
///
/// ```
/// use wiretrace::config::Format;
/// use wiretrace::ingest::format_of;
/// use std::path::Path;
/// assert_eq!(format_of(Path::new("a/b.jsonl.zst")), Some(Format::Jsonl));
/// assert_eq!(format_of(Path::new("reut2-000.sgm")), Some(Format::ReutersSgml));
/// assert_eq!(format_of(Path::new("export.tsv")), Some(Format::Csv));
/// assert_eq!(format_of(Path::new("notes.md")), None);
/// ```
pub fn format_of(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let base = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(&name);
    let compressed = base.len() != name.len();
    let ext = base.rsplit_once('.').map(|(_, e)| e)?;
    match ext {
        "txt" if !compressed => Some(Format::Text),
        "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
        "csv" | "tsv" => Some(Format::Csv),
        "sgm" | "sgml" => Some(Format::ReutersSgml),
        _ => None,
    }
}

/// Expands the input arguments into sources, in a deterministic order.
///
/// A directory yields every file below it with a recognised extension,
/// sorted by path: each `.txt` is one article whose id is its path relative
/// to the directory (`/`-separated, extension kept); JSONL, CSV and SGML
/// files are read record by record. Files with other extensions are passed
/// over. A missing path, or a file argument with an unknown extension, is
/// an error that names it.
pub fn discover(inputs: &[PathBuf], cfg: &IngestConfig) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            out.push(Source {
                path: input.clone(),
                format: cfg.format.unwrap_or(Format::Jsonl),
                text_id: None,
            });
            continue;
        }
        let meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            let mut visited = AHashSet::new();
            walk(input, &mut files, &mut visited)?;
            files.sort_by(|a, b| a.0.cmp(&b.0));
            for (f, format) in files {
                let text_id = (format == Format::Text).then(|| {
                    let rel = f.strip_prefix(input).unwrap_or(&f);
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/")
                });
                out.push(Source {
                    path: f,
                    format,
                    text_id,
                });
            }
        } else {
            let format = cfg.format.or_else(|| format_of(input)).ok_or_else(|| Error::Format {
                path: input.clone(),
                message: "unknown input format: use .txt, .jsonl, .csv, .sgm (optionally .gz or .zst) or --format".into(),
            })?;
            let text_id = (format == Format::Text).then(|| {
                input
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            out.push(Source {
                path: input.clone(),
                format,
                text_id,
            });
        }
    }
    Ok(out)
}

/// Collects files with a recognised format below `dir`. Symbolic links to
/// directories are followed once: a directory already visited (by its
/// canonical path) is not entered again, so link loops end.
fn walk(
    dir: &Path,
    out: &mut Vec<(PathBuf, Format)>,
    visited: &mut AHashSet<PathBuf>,
) -> Result<()> {
    let canonical = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    if !visited.insert(canonical) {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let ty = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if ty.is_dir() || (ty.is_symlink() && path.is_dir()) {
            walk(&path, out, visited)?;
        } else if let Some(format) = format_of(&path) {
            out.push((path, format));
        }
    }
    Ok(())
}

/// Opens a source as a buffered byte stream, decompressing `.gz` and `.zst`.
fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::with_capacity(1 << 20, io::stdin())));
    }
    let file = File::open(path)?;
    let name = path.to_string_lossy().to_ascii_lowercase();
    let reader: Box<dyn Read + Send> = if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 16,
            file,
        )))
    } else if name.ends_with(".zst") {
        Box::new(zstd::Decoder::new(file)?)
    } else {
        Box::new(file)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, reader)))
}

/// Reads every source in order and hands each item to `sink`.
///
/// The sink may stop the run by returning an error (that is how `--strict`
/// works: see [`Reader`]). I/O errors on a file are bad records
/// (`unreadable_file`), not fatal errors.
pub fn read_sources(
    sources: &[Source],
    cfg: &IngestConfig,
    recycled: Option<&Recycled>,
    sink: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<()> {
    let mut reader = Reader::new(cfg);
    reader.recycled = recycled;
    for (index, source) in sources.iter().enumerate() {
        reader.read_source(index, source, sink)?;
    }
    Ok(())
}

/// Strings the consumer of the records hands back once it has let a text
/// go: the JSONL reader writes later texts into them instead of allocating.
pub type Recycled = crossbeam_channel::Receiver<String>;

/// Validates raw records into documents and remembers ids for duplicate detection.
pub struct Reader<'a> {
    cfg: &'a IngestConfig,
    seen: AHashSet<String>,
    recycled: Option<&'a Recycled>,
}

impl<'a> Reader<'a> {
    /// A reader with no ids seen yet.
    pub fn new(cfg: &'a IngestConfig) -> Self {
        Reader {
            cfg,
            seen: AHashSet::new(),
            recycled: None,
        }
    }

    /// Reads one source (number `index` of the run's sources), emitting
    /// each of its records.
    pub fn read_source(
        &mut self,
        index: usize,
        source: &Source,
        sink: &mut dyn FnMut(Item) -> Result<()>,
    ) -> Result<()> {
        let file = source.path.to_string_lossy().into_owned();
        let seekable = is_seekable(&source.path);
        let mut emit =
            |this: &mut Self,
             line: u64,
             raw: std::result::Result<RawFields, (SkipReason, String)>| {
                let location = Location {
                    file: file.clone(),
                    line,
                    source: index,
                    offset: raw
                        .as_ref()
                        .ok()
                        .and_then(|r| r.offset)
                        .filter(|_| seekable),
                };
                let item = match raw.and_then(|r| this.validate(r)) {
                    Ok(doc) => Item::Doc(doc, location),
                    Err((reason, detail)) => Item::Bad(BadRecord {
                        location,
                        reason,
                        detail,
                    }),
                };
                if let (true, Item::Bad(bad)) = (this.cfg.strict, &item) {
                    return Err(Error::Strict {
                        location: bad.location.to_string(),
                        reason: bad.reason,
                        detail: bad.detail.clone(),
                    });
                }
                sink(item)
            };
        let stream = match open(&source.path) {
            Ok(s) => s,
            Err(e) => return emit(self, 0, Err((SkipReason::UnreadableFile, e.to_string()))),
        };
        let fields = self.cfg.fields.clone();
        let result = match source.format {
            Format::Text => {
                let raw = read_text(stream, source.text_id.clone().unwrap_or_default());
                emit(self, 0, raw).map_err(StreamError::Stop)
            }
            Format::Jsonl => {
                let recycled = self.recycled;
                jsonl::read(stream, &fields, recycled, &mut |line, raw| {
                    emit(self, line, raw)
                })
            }
            Format::Csv => csv_input::read(stream, &fields, &mut |line, raw| emit(self, line, raw)),
            Format::ReutersSgml => sgml::read(stream, &mut |line, raw| emit(self, line, raw)),
        };
        match result {
            Err(StreamError::Io(line, e)) => emit(
                self,
                line,
                Err((
                    SkipReason::UnreadableFile,
                    format!("read failed, the rest of the file is not read: {e}"),
                )),
            ),
            Err(StreamError::Stop(e)) => Err(e),
            Ok(()) => Ok(()),
        }
    }

    fn validate(&mut self, raw: RawFields) -> std::result::Result<Document, (SkipReason, String)> {
        let id = match raw.id {
            Some(id) if !id.trim().is_empty() => id,
            _ => {
                return Err((
                    SkipReason::MissingId,
                    format!("no '{}' field", self.cfg.fields.id),
                ));
            }
        };
        let text = raw.text.ok_or_else(|| {
            (
                SkipReason::MissingText,
                format!("record '{id}' has no '{}' field", self.cfg.fields.text),
            )
        })?;
        if text.trim().is_empty() {
            return Err((
                SkipReason::EmptyText,
                format!("record '{id}' has an empty text"),
            ));
        }
        let date = match raw.date.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(Timestamp::parse(d).ok_or_else(|| {
                (
                    SkipReason::BadDate,
                    format!(
                        "record '{id}': '{d}' is not an ISO 8601 or RFC 2822 date, nor a Unix time"
                    ),
                )
            })?),
        };
        if !self.seen.insert(id.clone()) {
            return Err((
                SkipReason::DuplicateId,
                format!("id '{id}' was already read"),
            ));
        }
        let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        Ok(Document {
            id,
            text,
            title: nonempty(raw.title),
            outlet: nonempty(raw.outlet),
            date,
            url: nonempty(raw.url),
        })
    }
}

/// How a record stream ended early.
pub(crate) enum StreamError {
    /// Reading failed at this line; the rest of the file is lost.
    Io(u64, io::Error),
    /// The sink stopped the run.
    Stop(Error),
}

impl From<Error> for StreamError {
    fn from(e: Error) -> Self {
        StreamError::Stop(e)
    }
}

/// The callback format readers use: line number and the raw record or why it is bad.
pub(crate) type RawSink<'s> =
    dyn FnMut(u64, std::result::Result<RawFields, (SkipReason, String)>) -> Result<()> + 's;

fn read_text(
    mut stream: Box<dyn BufRead + Send>,
    id: String,
) -> std::result::Result<RawFields, (SkipReason, String)> {
    let mut bytes = Vec::new();
    stream
        .read_to_end(&mut bytes)
        .map_err(|e| (SkipReason::UnreadableFile, e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        (
            SkipReason::InvalidUtf8,
            format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
        )
    })?;
    Ok(RawFields {
        id: Some(id),
        text: Some(text),
        offset: Some(0),
        ..RawFields::default()
    })
}

/// Whether records of this file can be read again by byte offset (and its
/// size is the bytes to read): a plain file, not stdin and not compressed.
pub fn is_seekable(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    path.as_os_str() != "-" && !name.ends_with(".gz") && !name.ends_with(".zst")
}

/// Reads the texts of records again from their sources, for stages that
/// need text after the scan let it go. `wanted` holds (source index, byte
/// offset, expected id) triples; each text comes back in the same order.
/// Fails, naming the file and offset, when a record is no longer there or
/// its id changed (the input was modified during the run); when several
/// fail, the error is the one at the smallest (source, offset).
///
/// Records are read in file order, in chunks of [`REREAD_CHUNK`] read in
/// parallel, each through its own buffered handle that skips forward
/// within its buffer rather than seeking.
pub fn reread_texts(
    sources: &[Source],
    cfg: &IngestConfig,
    wanted: &[(u32, u64, &str)],
    obs: &dyn crate::observe::Observer,
) -> Result<Vec<String>> {
    use rayon::prelude::*;
    let names = field_names(&cfg.fields);
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_unstable_by_key(|&i| (wanted[i].0, wanted[i].1));
    let chunks: Vec<Result<Vec<String>>> = order
        .par_chunks(REREAD_CHUNK)
        .map(|chunk| {
            let mut reader = Rereader::new(sources, &names);
            let texts = chunk.iter().map(|&i| reader.text(wanted[i])).collect();
            obs.advance(chunk.len() as u64, 0);
            texts
        })
        .collect();
    // In file order, so the error reported does not depend on timing.
    let chunks: Vec<Vec<String>> = chunks.into_iter().collect::<Result<_>>()?;
    let mut out = vec![String::new(); wanted.len()];
    for (i, text) in order.into_iter().zip(chunks.into_iter().flatten()) {
        out[i] = text;
    }
    Ok(out)
}

/// Records [`reread_texts`] reads in one sequential run.
pub const REREAD_CHUNK: usize = 2048;

/// One sequential reader over the sources, for [`reread_texts`].
struct Rereader<'a> {
    sources: &'a [Source],
    names: &'a [&'a str; 6],
    /// The open source, its reader and the reader's position.
    open: Option<(u32, BufReader<File>, u64)>,
    line: Vec<u8>,
}

impl<'a> Rereader<'a> {
    fn new(sources: &'a [Source], names: &'a [&'a str; 6]) -> Self {
        Rereader {
            sources,
            names,
            open: None,
            line: Vec::new(),
        }
    }

    fn text(&mut self, (src, offset, id): (u32, u64, &str)) -> Result<String> {
        use std::io::{Seek, SeekFrom};
        let source = &self.sources[src as usize];
        let path = &source.path;
        let changed = |detail: String| Error::InputChanged {
            path: path.clone(),
            offset,
            detail,
        };
        if self.open.as_ref().is_none_or(|(s, _, _)| *s != src) {
            let f = File::open(path).map_err(|e| Error::io(path, e))?;
            self.open = Some((src, BufReader::with_capacity(1 << 16, f), 0));
        }
        let (_, reader, pos) = self.open.as_mut().expect("opened above");
        // Forward within the buffer keeps it; anything else seeks.
        match offset.checked_sub(*pos).and_then(|d| i64::try_from(d).ok()) {
            Some(ahead) => reader.seek_relative(ahead),
            None => reader.seek(SeekFrom::Start(offset)).map(drop),
        }
        .map_err(|e| Error::io(path, e))?;
        *pos = offset;
        let raw = match source.format {
            Format::Text => {
                let mut bytes = Vec::new();
                let n = reader
                    .read_to_end(&mut bytes)
                    .map_err(|e| Error::io(path, e))?;
                *pos += n as u64;
                let text = String::from_utf8(bytes).map_err(|e| changed(e.to_string()))?;
                RawFields {
                    id: source.text_id.clone(),
                    text: Some(text),
                    ..RawFields::default()
                }
            }
            Format::Jsonl => {
                self.line.clear();
                let n = reader
                    .read_until(b'\n', &mut self.line)
                    .map_err(|e| Error::io(path, e))?;
                *pos += n as u64;
                jsonl::parse_line(jsonl::trim_line(&self.line), self.names)
                    .map_err(|e| changed(e.1))?
            }
            Format::Csv | Format::ReutersSgml => {
                return Err(changed(format!(
                    "{:?} records are not re-read by offset",
                    source.format
                )));
            }
        };
        if raw.id.as_deref() != Some(id) {
            return Err(changed(format!(
                "expected record '{id}', found {:?}",
                raw.id.as_deref().unwrap_or("no id")
            )));
        }
        Ok(raw.text.unwrap_or_default())
    }
}

/// Checks a field map for the keys the record formats need.
pub(crate) fn field_names(fields: &FieldMap) -> [&str; 6] {
    [
        &fields.id,
        &fields.text,
        &fields.title,
        &fields.outlet,
        &fields.date,
        &fields.url,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// More records than one chunk, from two files, asked for in an order
    /// that is neither file order nor reverse: each text comes back in its
    /// place, and a wrong id is named with its file and offset.
    #[test]
    fn reread_texts_returns_each_text_in_place_across_chunks_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let n = REREAD_CHUNK + 300;
        let mut sources = Vec::new();
        let mut wanted: Vec<(u32, u64, String, String)> = Vec::new();
        for f in 0..2u32 {
            let path = dir.path().join(format!("f{f}.jsonl"));
            let mut data = String::new();
            for i in 0..n {
                let (id, text) = (
                    format!("f{f}-{i}"),
                    format!("text {i} of file {f} {}", "x".repeat(i % 50)),
                );
                wanted.push((f, data.len() as u64, id.clone(), text.clone()));
                data.push_str(&format!("{{\"id\":\"{id}\",\"text\":\"{text}\"}}\n"));
            }
            std::fs::write(&path, data).unwrap();
            sources.push(Source {
                path,
                format: Format::Jsonl,
                text_id: None,
            });
        }
        // A fixed scramble: stride through the list by a number prime to its length.
        let m = wanted.len();
        let order: Vec<usize> = (0..m).map(|i| (i * 7919) % m).collect();
        let triples: Vec<(u32, u64, &str)> = order
            .iter()
            .map(|&i| (wanted[i].0, wanted[i].1, wanted[i].2.as_str()))
            .collect();
        let cfg = IngestConfig::default();
        let texts = reread_texts(&sources, &cfg, &triples, &crate::observe::Silent).unwrap();
        assert_eq!(texts.len(), m);
        for (k, &i) in order.iter().enumerate() {
            assert_eq!(texts[k], wanted[i].3);
        }
        // Two wrong ids, in different chunks: the first in file order is named.
        let mut bad = triples.clone();
        let (late, early) = (
            order.iter().position(|&i| i == m - 1).unwrap(),
            order.iter().position(|&i| i == 5).unwrap(),
        );
        bad[late].2 = "nope";
        bad[early].2 = "nope";
        let err = reread_texts(&sources, &cfg, &bad, &crate::observe::Silent)
            .unwrap_err()
            .to_string();
        assert!(err.contains("f0.jsonl") && err.contains("f0-5"), "{err}");
    }
}
