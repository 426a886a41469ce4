//! Reports: a [`ScanOutput`] to `pairs.csv`, `stories.csv`, `passages.csv`,
//! `outlets.csv` and `summary.json` in an output directory, and a one-screen
//! text summary.
//!
//! Every file is written to a temporary file in the same directory and then
//! renamed over the target, so a reader never sees half a report and a
//! failed run leaves the previous reports intact. Rows are sorted and
//! numbers formatted with fixed precision, so the same input and flags give
//! byte-identical files whatever the thread count; only the `timings` key
//! of `summary.json` varies.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

use crate::direct::DirectWriter;
use crate::document::DocId;
use crate::error::{Error, Result};
use crate::scan::{PairPassages, ScanOutput};
use crate::sets::SetSource;
use crate::verify::{Match, Relation, intersection_size};

/// Removes a report an earlier run left at `path`, if there is one: the
/// reports in a directory describe one run, so a file this run does not
/// write must not be read as this run's.
pub fn remove_stale(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// Writes `path` atomically: `fill` writes into a temporary file beside it,
/// which is then renamed to `path`.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".wiretrace-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    // Removed by the signal handler if the run is interrupted.
    let _listing = crate::cleanup::Listing::new(tmp.path());
    {
        // Past the page cache where the file system allows (see `direct`).
        let mut w = DirectWriter::new(tmp.as_file(), tmp.path());
        fill(&mut w).map_err(|e| Error::io(path, e))?;
        w.finish().map_err(|e| Error::io(path, e))?;
    }
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    // Temporary files are created private (0600); a report is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::Permissions::from_mode(0o644);
        tmp.as_file()
            .set_permissions(perms)
            .map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// How the CSV reports are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsvStyle {
    /// For Excel (`scan --excel`): a UTF-8 byte-order mark first, without
    /// which Excel reads the file in the system's legacy code page (accents
    /// and curly quotes garbled), and each cell cut to Excel's limit of
    /// [`EXCEL_CELL`] characters (UTF-16 units), ending in `…` where cut.
    pub excel: bool,
}

/// The most characters (UTF-16 units) Excel keeps in one cell.
pub const EXCEL_CELL: usize = 32_767;

/// The most rows Excel shows of a sheet, the header included.
pub const EXCEL_ROWS: u64 = 1_048_576;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A cell as `style` writes it: for Excel, one longer than [`EXCEL_CELL`]
/// UTF-16 units is cut to that many, the last of them `…`; else as it is.
///
/// ```
/// use wiretrace::report::{CsvStyle, EXCEL_CELL, cell};
/// let excel = CsvStyle { excel: true };
/// assert_eq!(&*cell(b"short", excel), b"short");
/// let full = "é".repeat(EXCEL_CELL);
/// assert_eq!(&*cell(full.as_bytes(), excel), full.as_bytes());
/// let long = "é".repeat(EXCEL_CELL + 5);
/// let cut = String::from_utf8(cell(long.as_bytes(), excel).into_owned()).unwrap();
/// assert_eq!(cut.encode_utf16().count(), EXCEL_CELL);
/// assert!(cut.ends_with("é…"));
/// assert_eq!(cell(long.as_bytes(), CsvStyle::default()).len(), long.len());
/// ```
pub fn cell(field: &[u8], style: CsvStyle) -> std::borrow::Cow<'_, [u8]> {
    // No character takes fewer bytes in UTF-8 than units in UTF-16.
    if !style.excel || field.len() <= EXCEL_CELL {
        return field.into();
    }
    let text = String::from_utf8_lossy(field);
    if text.encode_utf16().count() <= EXCEL_CELL {
        return field.into();
    }
    // Room for the ellipsis: the longest prefix of EXCEL_CELL - 1 units.
    let mut units = 0;
    let end = text
        .char_indices()
        .find(|&(_, c)| {
            units += c.len_utf16();
            units > EXCEL_CELL - 1
        })
        .map_or(text.len(), |(i, _)| i);
    let mut cut = text[..end].as_bytes().to_vec();
    cut.extend_from_slice("…".as_bytes());
    cut.into()
}

/// The start of a CSV file: the byte-order mark for Excel, then the header.
fn write_head(w: &mut (dyn Write + Send), header: &[&str], style: CsvStyle) -> std::io::Result<()> {
    if style.excel {
        w.write_all(BOM)?;
    }
    let mut head = csv::Writer::from_writer(Vec::new());
    head.write_record(header)?;
    w.write_all(&head.into_inner().map_err(|e| e.into_error())?)
}

/// Writes a CSV file atomically from a header and rows.
pub fn write_csv<I, R>(path: &Path, header: &[&str], rows: I, style: CsvStyle) -> Result<()>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<str>,
{
    write_atomic(path, |w| {
        write_head(w, header, style)?;
        let mut csv = csv::Writer::from_writer(w);
        for row in rows {
            for field in row {
                csv.write_field(cell(field.as_ref().as_bytes(), style))?;
            }
            csv.write_record(None::<&[u8]>)?;
        }
        csv.flush()?;
        Ok(())
    })
}

/// Writes a CSV file atomically from a header and many rows, formatting
/// the rows in parallel: the rows are cut into chunks of `chunk` rows,
/// each formatted into its own buffer on some thread, a wave of
/// `WAVE_CHUNKS` chunks at a time, and the buffers are written in row order
/// (so the file is the same as a sequential write), each wave while the
/// next is formatted. Memory is bounded by two waves' text, not by the
/// file: callers size `chunk` to their rows (thousands of short rows, tens
/// of rows that quote whole passages).
pub fn write_csv_par<T, F, R>(
    path: &Path,
    header: &[&str],
    rows: &[T],
    chunk: usize,
    style: CsvStyle,
    format: F,
) -> Result<()>
where
    T: Sync,
    F: Fn(&T) -> R + Sync,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let chunk = chunk.max(1);
    let format_wave = |wave: &[T]| -> Vec<std::io::Result<Vec<u8>>> {
        wave.par_chunks(chunk)
            .map(|chunk| {
                let mut csv = csv::Writer::from_writer(Vec::with_capacity(chunk.len() * 64));
                for row in chunk {
                    for field in format(row) {
                        csv.write_field(cell(field.as_ref(), style))?;
                    }
                    csv.write_record(None::<&[u8]>)?;
                }
                csv.into_inner().map_err(|e| e.into_error())
            })
            .collect()
    };
    let write_wave = |w: &mut (dyn Write + Send), buffers: Vec<std::io::Result<Vec<u8>>>| {
        buffers.into_iter().try_for_each(|b| w.write_all(&b?))
    };
    write_atomic(path, |w| {
        write_head(w, header, style)?;
        // Each wave is written while the next one is formatted.
        let mut formatted: Vec<std::io::Result<Vec<u8>>> = Vec::new();
        for wave in rows.chunks(chunk * WAVE_CHUNKS) {
            let done = std::mem::take(&mut formatted);
            let (written, next) = rayon::join(|| write_wave(&mut *w, done), || format_wave(wave));
            written?;
            formatted = next;
        }
        write_wave(w, formatted)
    })
}

/// Chunks per wave of [`write_csv_par`].
const WAVE_CHUNKS: usize = 64;

/// Rows per chunk of the short-row reports (pairs, stories): a wave holds
/// about 20 MB of text.
const SHORT_ROWS: usize = 4096;

/// Rows per chunk of `passages.csv`, whose rows quote both sides of a
/// passage (about 5 KB on synthetic news): a wave holds about 20 MB.
const PASSAGE_ROWS: usize = 64;

/// How a story member relates to the story's origin: the share of the
/// origin it carries (shingle containment, or the reworded score for a
/// reworded copy) and the relation of the pair (`origin` for the origin
/// itself, `linked` when the member joined through another copy). The scan
/// works this out for every member while it holds the shingle sets
/// ([`ScanOutput::member_relations`]).
pub fn member_relation(out: &ScanOutput, d: DocId) -> (f64, &'static str) {
    out.member_relations[d.index()]
}

/// [`member_relation`] from the related pairs (sorted by `(a, b)`; any
/// sorted slice holding all pairs whose `a` is the smaller of `origin` and
/// `d` will do) and the boilerplate-free shingle sets.
pub fn relation_to_origin<S: SetSource + ?Sized>(
    matches: &[Match],
    sets: &S,
    origin: DocId,
    d: DocId,
) -> (f64, &'static str) {
    if d == origin {
        return (1.0, "origin");
    }
    let key = (origin.min(d), origin.max(d));
    match matches.binary_search_by_key(&key, |m| (m.a, m.b)) {
        Ok(i) => {
            let m = &matches[i];
            // The match already holds |origin ∩ d| / |origin|.
            let shingles = if m.a == origin { m.a_in_b } else { m.b_in_a };
            let cov = if m.relation == Relation::Reworded {
                shingles.max(m.reworded)
            } else {
                shingles
            };
            (cov, m.relation.as_str())
        }
        Err(_) => {
            let set = sets.set(origin.index());
            let cov = if set.is_empty() {
                0.0
            } else {
                intersection_size(&set, &sets.set(d.index())) as f64 / set.len() as f64
            };
            (cov, "linked")
        }
    }
}

/// Columns of `pairs.csv`.
pub const PAIRS_HEADER: [&str; 9] = [
    "doc_a", "doc_b", "relation", "jaccard", "a_in_b", "b_in_a", "reworded", "score", "story",
];

/// Columns of `passages.csv` (and `compare --csv`).
pub const PASSAGES_HEADER: [&str; 10] = [
    "doc_a",
    "doc_b",
    "a_start",
    "a_end",
    "b_start",
    "b_end",
    "kind",
    "similarity",
    "a_text",
    "b_text",
];

/// Formats a share in [0, 1] with four decimals, rounding half away from
/// zero (integer arithmetic: float formatting dominated report writing).
///
/// ```
/// use wiretrace::report::fmt_share;
/// assert_eq!(fmt_share(1.0), "1.0000");
/// assert_eq!(fmt_share(0.39344), "0.3934");
/// assert_eq!(fmt_share(0.00005), "0.0001");
/// assert_eq!(fmt_share(0.0), "0.0000");
/// ```
pub fn fmt_share(x: f64) -> String {
    Share::new(x).as_str().to_string()
}

/// A share formatted as [`fmt_share`] does, without allocating (for the
/// hot loops that write millions of rows).
///
/// ```
/// use wiretrace::report::{fmt_share, Share};
/// for x in [0.0, 0.00005, 0.39344, 0.99996, 1.0, 1.5, -0.25] {
///     assert_eq!(Share::new(x).as_str(), fmt_share(x));
/// }
/// ```
#[derive(Clone, Debug)]
pub enum Share {
    /// A share in [0, 1]: `d.dddd`, on the stack.
    Fixed([u8; 6]),
    /// Anything else, as `format!("{x:.4}")` spells it.
    Other(String),
}

impl Share {
    /// Formats `x`.
    pub fn new(x: f64) -> Share {
        if !(0.0..=1.0).contains(&x) {
            return Share::Other(format!("{x:.4}"));
        }
        let n = (x * 10_000.0).round() as u32;
        let digit = |d: u32| b'0' + (d % 10) as u8;
        Share::Fixed([
            digit(n / 10_000),
            b'.',
            digit(n / 1000),
            digit(n / 100),
            digit(n / 10),
            digit(n),
        ])
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_ref()).expect("ASCII")
    }
}

impl AsRef<[u8]> for Share {
    fn as_ref(&self) -> &[u8] {
        match self {
            Share::Fixed(b) => b,
            Share::Other(s) => s.as_bytes(),
        }
    }
}

/// The plain `format!` spelling [`Share`] must reproduce (a test oracle).
#[cfg(test)]
fn fmt_share_plain(x: f64) -> String {
    if !(0.0..=1.0).contains(&x) {
        return format!("{x:.4}");
    }
    let n = (x * 10_000.0).round() as u32;
    format!("{}.{:04}", n / 10_000, n % 10_000)
}

/// One row of `pairs.csv`, with ids in `doc_a < doc_b` order.
#[derive(Clone, Debug, PartialEq)]
pub struct PairRow<'a> {
    /// Smaller id.
    pub doc_a: &'a str,
    /// Larger id.
    pub doc_b: &'a str,
    /// Relation name.
    pub relation: &'static str,
    /// Jaccard.
    pub jaccard: f64,
    /// Share of doc_a's shingles in doc_b.
    pub a_in_b: f64,
    /// Share of doc_b's shingles in doc_a.
    pub b_in_a: f64,
    /// Reworded score (see [`crate::verify::Match::reworded`]).
    pub reworded: f64,
    /// Overall reuse score: the largest of the containments and `reworded`.
    pub score: f64,
    /// Shared story id, or empty.
    pub story: &'a str,
}

/// Each document's position in id order (ids compared as strings).
pub fn id_ranks(out: &ScanOutput) -> Vec<u32> {
    let mut order: Vec<u32> = (0..out.docs.len() as u32).collect();
    order.par_sort_unstable_by(|&x, &y| out.docs[x as usize].id.cmp(&out.docs[y as usize].id));
    let mut rank = vec![0u32; order.len()];
    for (r, &d) in order.iter().enumerate() {
        rank[d as usize] = r as u32;
    }
    rank
}

/// The order of `pairs.csv`: indices into `out.matches` sorted by
/// `(doc_a, doc_b)` ids; `rank` is [`id_ranks`]. Rows are built from it one
/// at a time as they are written ([`pair_row`]); at a million articles
/// (nine million pairs) a vector of every row took 1.4 GB.
pub fn pair_order(out: &ScanOutput, rank: &[u32]) -> Vec<u32> {
    let mut keyed: Vec<(u64, u32)> = out
        .matches
        .par_iter()
        .enumerate()
        .map(|(i, m)| {
            let (ra, rb) = (rank[m.a.index()], rank[m.b.index()]);
            let key = (u64::from(ra.min(rb)) << 32) | u64::from(ra.max(rb));
            (key, i as u32)
        })
        .collect();
    keyed.par_sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Row `i` of `out.matches` as it appears in `pairs.csv`.
pub fn pair_row<'a>(out: &'a ScanOutput, rank: &[u32], i: u32) -> PairRow<'a> {
    let m = &out.matches[i as usize];
    let (a, b) = (m.a.index(), m.b.index());
    let story = match (out.story_of[a], out.story_of[b]) {
        (Some(x), Some(y)) if x == y => out.stories[x as usize].id.as_str(),
        _ => "",
    };
    let (first, second, a_in_b, b_in_a) = if rank[a] <= rank[b] {
        (a, b, m.a_in_b, m.b_in_a)
    } else {
        (b, a, m.b_in_a, m.a_in_b)
    };
    PairRow {
        doc_a: &out.docs[first].id,
        doc_b: &out.docs[second].id,
        relation: m.relation.as_str(),
        jaccard: m.jaccard,
        a_in_b,
        b_in_a,
        reworded: m.reworded,
        score: m.score(),
        story,
    }
}

/// One row of `outlets.csv`: articles of `rerun_outlet` that reran stories
/// first published by `origin_outlet`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutletRow {
    /// Outlet of the stories' origins (empty when unknown).
    pub origin_outlet: String,
    /// Outlet of the reruns (empty when unknown).
    pub rerun_outlet: String,
    /// Rerun articles.
    pub articles: u64,
    /// Distinct stories.
    pub stories: u64,
    /// Words of the origin found in the reruns' passages.
    pub words_reused: u64,
}

/// Who reruns whom, most articles first.
pub fn outlet_rows(out: &ScanOutput) -> Vec<OutletRow> {
    use std::collections::BTreeMap;
    let words: ahash::AHashMap<(u32, u32), u64> = out
        .passages
        .iter()
        .map(|p| {
            (
                (p.a.0, p.b.0),
                p.passages.iter().map(|x| u64::from(x.matched)).sum(),
            )
        })
        .collect();
    // (origin outlet, rerun outlet) -> (articles, stories, words reused).
    let mut table: BTreeMap<(&str, &str), (u64, u64, u64)> = BTreeMap::new();
    for story in &out.stories {
        let origin_outlet = out.docs[story.origin.index()]
            .outlet
            .as_deref()
            .unwrap_or("");
        let mut seen: Vec<&str> = Vec::new();
        for &d in story.members.iter().filter(|&&d| d != story.origin) {
            let outlet = out.docs[d.index()].outlet.as_deref().unwrap_or("");
            let pair = (story.origin.0.min(d.0), story.origin.0.max(d.0));
            let e = table.entry((origin_outlet, outlet)).or_default();
            e.0 += 1;
            if !seen.contains(&outlet) {
                seen.push(outlet);
                e.1 += 1;
            }
            e.2 += words.get(&pair).copied().unwrap_or(0);
        }
    }
    let mut rows: Vec<OutletRow> = table
        .into_iter()
        .map(
            |((origin, rerun), (articles, stories, words_reused))| OutletRow {
                origin_outlet: origin.to_string(),
                rerun_outlet: rerun.to_string(),
                articles,
                stories,
                words_reused,
            },
        )
        .collect();
    rows.sort_by(|x, y| {
        y.articles.cmp(&x.articles).then_with(|| {
            (&x.origin_outlet, &x.rerun_outlet).cmp(&(&y.origin_outlet, &y.rerun_outlet))
        })
    });
    rows
}

/// Writes `pairs.csv`, `stories.csv`, `passages.csv`, `outlets.csv` and
/// `summary.json` into `dir`.
pub fn write_reports(dir: &Path, out: &ScanOutput) -> Result<()> {
    write_tables(dir, out, CsvStyle::default())?;
    write_summary(dir, out)
}

/// Writes the CSV reports (all but `summary.json`) into `dir`.
///
/// An earlier run's `summary.json` goes first: it is written last, after
/// every other report, so a directory without one holds a run that did not
/// finish (a full disk, say), not a mix that looks complete.
pub fn write_tables(dir: &Path, out: &ScanOutput, style: CsvStyle) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    remove_stale(&dir.join("summary.json"))?;
    let rank = id_ranks(out);
    // The files are independent: write them side by side.
    let (pairs, (stories, rest)) = rayon::join(
        || write_pairs(dir, out, &rank, style),
        || {
            rayon::join(
                || write_stories(dir, out, style),
                || write_passages_and_outlets(dir, out, &rank, style),
            )
        },
    );
    pairs?;
    stories?;
    rest
}

/// The least bytes the tables (`pairs.csv`, `stories.csv`, `passages.csv`)
/// take: their ids, the passages' quoted texts and the shortest spelling of
/// every other column, before quoting. Written tables are larger (numbers
/// longer, quotes doubled, `outlets.csv` and the page besides), so a disk
/// with less free space than `total` cannot hold them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableBytes {
    /// All three tables.
    pub total: u64,
    /// Of which the passages' `a_text` and `b_text` columns.
    pub passage_text: u64,
}

/// [`TableBytes`] of `out` as `style` writes it.
pub fn least_table_bytes(out: &ScanOutput, style: CsvStyle) -> TableBytes {
    let id = |d: DocId| out.docs[d.index()].id.len() as u64;
    // Five shares of six characters ("0.1234"), nine separators and a
    // newline; the relation and story names are left out.
    let pairs: u64 = out
        .matches
        .par_iter()
        .map(|m| id(m.a) + id(m.b) + 5 * 6 + 10)
        .sum();
    // A story name (`S` and 12 hex digits), a role, a share, six
    // separators and a newline.
    let stories: u64 = out
        .stories
        .iter()
        .flat_map(|s| &s.members)
        .map(|&d| id(d) + 13 + 5 + 6 + 7)
        .sum();
    let mut passage_text = 0;
    let mut passages = 0;
    if out.summary.alignment {
        let quoted = |range: (u32, u32)| {
            let len = u64::from(range.1 - range.0);
            // An Excel cell holds at most EXCEL_CELL UTF-16 units of at
            // least one byte each (the ellipsis included).
            if style.excel {
                len.min(EXCEL_CELL as u64)
            } else {
                len
            }
        };
        (passages, passage_text) = out
            .passages
            .par_iter()
            .map(|pp| {
                let ids = id(pp.a) + id(pp.b);
                let (mut rows, mut texts) = (0, 0);
                for p in &pp.passages {
                    // Four offsets of a digit, a kind of six letters, a
                    // share, seven separators and a newline.
                    rows += ids + 4 + 6 + 6 + 8;
                    if out.summary.passage_text {
                        texts += quoted(p.a_bytes) + quoted(p.b_bytes) + 2;
                    }
                }
                (rows, texts)
            })
            .reduce(|| (0, 0), |x, y| (x.0 + y.0, x.1 + y.1));
    }
    TableBytes {
        total: pairs + stories + passages + passage_text,
        passage_text,
    }
}

/// Bytes this user may still write on the file system holding `dir`
/// (`None` where unknown).
pub fn free_bytes(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let fs = rustix::fs::statvfs(dir).ok()?;
        Some(fs.f_bavail.saturating_mul(fs.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// An [`Error::NoSpace`] when the tables of `out` cannot fit in `free`
/// bytes (see [`least_table_bytes`]); nothing is checked when `free` is
/// unknown. Finding it before writing keeps a run from failing halfway
/// through an 11 GB `passages.csv`, and names what would fit.
pub fn check_space(dir: &Path, out: &ScanOutput, style: CsvStyle, free: Option<u64>) -> Result<()> {
    let Some(free) = free else {
        return Ok(());
    };
    let need = least_table_bytes(out, style);
    if need.total <= free {
        return Ok(());
    }
    let without_text = need.total - need.passage_text;
    let advice = if need.passage_text > 0 && without_text <= free {
        format!(
            "; the passages' quoted texts take {} of it, and --no-passage-text leaves them out",
            crate::scan::size_text(need.passage_text)
        )
    } else {
        String::new()
    };
    Err(Error::NoSpace {
        dir: dir.to_path_buf(),
        need: crate::scan::size_text(need.total),
        free: crate::scan::size_text(free),
        advice,
    })
}

/// Writes `summary.json` into `dir`.
pub fn write_summary(dir: &Path, out: &ScanOutput) -> Result<()> {
    write_atomic(&dir.join("summary.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &out.summary)?;
        w.write_all(b"\n")
    })
}

/// A CSV field: borrowed text, a formatted share or a number.
enum Field<'a> {
    Text(&'a [u8]),
    Share(Share),
    Int(Int),
}

impl AsRef<[u8]> for Field<'_> {
    fn as_ref(&self) -> &[u8] {
        match self {
            Field::Text(t) => t,
            Field::Share(s) => s.as_ref(),
            Field::Int(n) => n.as_ref(),
        }
    }
}

/// A `u32` in decimal, on the stack.
struct Int {
    digits: [u8; 10],
    start: usize,
}

impl Int {
    fn new(mut n: u32) -> Int {
        let mut digits = [0u8; 10];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                return Int { digits, start };
            }
        }
    }
}

impl AsRef<[u8]> for Int {
    fn as_ref(&self) -> &[u8] {
        &self.digits[self.start..]
    }
}

fn write_pairs<'a>(dir: &Path, out: &'a ScanOutput, rank: &[u32], style: CsvStyle) -> Result<()> {
    write_csv_par(
        &dir.join("pairs.csv"),
        &PAIRS_HEADER,
        &pair_order(out, rank),
        SHORT_ROWS,
        style,
        |&i| {
            let r = pair_row(out, rank, i);
            let text = |s: &'a str| Field::Text(s.as_bytes());
            [
                text(r.doc_a),
                text(r.doc_b),
                text(r.relation),
                Field::Share(Share::new(r.jaccard)),
                Field::Share(Share::new(r.a_in_b)),
                Field::Share(Share::new(r.b_in_a)),
                Field::Share(Share::new(r.reworded)),
                Field::Share(Share::new(r.score)),
                text(r.story),
            ]
        },
    )
}

fn write_stories<'a>(dir: &Path, out: &'a ScanOutput, style: CsvStyle) -> Result<()> {
    let members: Vec<(&'a crate::cluster::Story, DocId)> = out
        .stories
        .iter()
        .flat_map(|s| s.members.iter().map(move |&d| (s, d)))
        .collect();
    write_csv_par(
        &dir.join("stories.csv"),
        &[
            "story", "doc", "outlet", "date", "role", "relation", "coverage",
        ],
        &members,
        SHORT_ROWS,
        style,
        |&(story, d)| {
            let doc = &out.docs[d.index()];
            let (coverage, relation) = member_relation(out, d);
            let text = |s: &'a str| Field::Text(s.as_bytes());
            [
                text(&story.id),
                text(&doc.id),
                text(doc.outlet.as_deref().unwrap_or("")),
                text(doc.date.as_ref().map_or("", |t| t.text.as_str())),
                text(if d == story.origin { "origin" } else { "rerun" }),
                text(relation),
                Field::Share(Share::new(coverage)),
            ]
        },
    )
}

fn write_passages_and_outlets(
    dir: &Path,
    out: &ScanOutput,
    rank: &[u32],
    style: CsvStyle,
) -> Result<()> {
    let passages_path = dir.join("passages.csv");
    if out.summary.alignment {
        // Side A is the pair's document that comes first in pairs.csv.
        let sides = |pp: &PairPassages| {
            let flip = rank[pp.b.index()] < rank[pp.a.index()];
            (flip, if flip { (pp.b, pp.a) } else { (pp.a, pp.b) })
        };
        // Passage `k` of a pair, seen from that side A.
        let passage = move |pp: &PairPassages, k: usize| {
            let p = &pp.passages[k];
            if sides(pp).0 { p.swapped() } else { p.clone() }
        };
        // One key per passage, (rank of A, rank of B, A's start, pair,
        // passage), sorted; the rows are formatted from them in parallel.
        let mut order: Vec<(u32, u32, u32, u32, u32)> = out
            .passages
            .par_iter()
            .enumerate()
            .flat_map_iter(|(n, pp)| {
                let (_, (da, db)) = sides(pp);
                (0..pp.passages.len()).map(move |k| {
                    let p = passage(pp, k);
                    (
                        rank[da.index()],
                        rank[db.index()],
                        p.a_chars.0,
                        n as u32,
                        k as u32,
                    )
                })
            })
            .collect();
        order.par_sort_unstable();
        // Without the text columns, the first eight.
        let width = if out.summary.passage_text {
            PASSAGES_HEADER.len()
        } else {
            PASSAGES_HEADER.len() - 2
        };
        write_csv_par(
            &passages_path,
            &PASSAGES_HEADER[..width],
            &order,
            PASSAGE_ROWS,
            style,
            |&(_, _, _, n, k)| {
                let pp = &out.passages[n as usize];
                let (_, (da, db)) = sides(pp);
                let p = passage(pp, k as usize);
                let (ca, cb, ba, bb) = (p.a_chars, p.b_chars, p.a_bytes, p.b_bytes);
                let text = |d: DocId, bytes: (u32, u32)| {
                    Field::Text(
                        &out.docs[d.index()].text.as_bytes()[bytes.0 as usize..bytes.1 as usize],
                    )
                };
                [
                    Field::Text(out.docs[da.index()].id.as_bytes()),
                    Field::Text(out.docs[db.index()].id.as_bytes()),
                    Field::Int(Int::new(ca.0)),
                    Field::Int(Int::new(ca.1)),
                    Field::Int(Int::new(cb.0)),
                    Field::Int(Int::new(cb.1)),
                    Field::Text(p.kind.as_str().as_bytes()),
                    Field::Share(Share::new(p.similarity)),
                    text(da, ba),
                    text(db, bb),
                ]
                .into_iter()
                .take(width)
            },
        )?;
    } else {
        remove_stale(&passages_path)?;
    }
    write_csv(
        &dir.join("outlets.csv"),
        &[
            "origin_outlet",
            "rerun_outlet",
            "articles",
            "stories",
            "words_reused",
        ],
        outlet_rows(out).into_iter().map(|r| {
            [
                r.origin_outlet,
                r.rerun_outlet,
                r.articles.to_string(),
                r.stories.to_string(),
                r.words_reused.to_string(),
            ]
        }),
        style,
    )?;
    Ok(())
}

/// For `--excel`: a warning for each table with more rows than Excel shows
/// ([`EXCEL_ROWS`], the header included), naming the file and the rows
/// it would not show.
pub fn excel_row_warnings(out: &ScanOutput) -> Vec<String> {
    let s = &out.summary;
    over_excel(&[
        ("pairs.csv", s.verified_pairs),
        ("stories.csv", s.documents_in_stories),
        ("passages.csv", s.passages),
    ])
}

/// The warnings of [`excel_row_warnings`] for tables of these data rows.
fn over_excel(tables: &[(&str, u64)]) -> Vec<String> {
    tables
        .iter()
        .filter(|&&(_, rows)| rows >= EXCEL_ROWS)
        .map(|&(file, rows)| {
            format!(
                "{file} has {rows} rows; Excel shows the first {} and drops the other {}",
                EXCEL_ROWS - 1,
                rows - (EXCEL_ROWS - 1)
            )
        })
        .collect()
}

/// The one-screen summary printed to stdout.
pub fn render_summary(out: &ScanOutput, dir: &Path) -> String {
    let s = &out.summary;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "read {} records: {} scanned, {} skipped",
        s.records.read, s.records.scanned, s.records.skipped
    );
    for (reason, n) in s.records.skipped_by_reason.iter().filter(|(_, n)| **n > 0) {
        let _ = writeln!(t, "  skipped {n} {reason}");
    }
    if s.too_short > 0 {
        let _ = writeln!(t, "  {} documents too short to compare", s.too_short);
    }
    let _ = writeln!(
        t,
        "{} candidate pairs ({} from LSH with {} bands x {} rows, {} from shared passages), {} related: {}",
        s.candidates,
        s.candidates_lsh,
        s.lsh_bands,
        s.lsh_rows,
        s.candidates_passage,
        s.verified_pairs,
        s.relation_counts(),
    );
    if s.reworded_view {
        let _ = writeln!(
            t,
            "  reworded view: {} sentences, {} candidate pairs from sentence buckets, {} pairs with reworded passages",
            s.reword.sentences, s.reword.candidates, s.reword.pairs_with_passages
        );
        // Said only when some article was not read as English.
        if s.reword.languages.keys().any(|l| l != "en") {
            let read: Vec<String> = s
                .reword
                .languages
                .iter()
                .map(|(l, n)| format!("{l} {n}"))
                .collect();
            let _ = writeln!(t, "  articles read by language: {}", read.join(", "));
        }
    }
    if s.capped_buckets > 0 {
        let _ = writeln!(
            t,
            "  {} LSH buckets over the cap were not expanded (largest: {:?})",
            s.capped_buckets,
            &s.capped_bucket_sizes[..s.capped_bucket_sizes.len().min(5)]
        );
    }
    if s.sets_on_disk_bytes > 0 || s.spill_runs > 0 {
        let mut on_disk = Vec::new();
        if s.sets_on_disk_bytes > 0 {
            on_disk.push(format!(
                "shingle sets kept in a file ({:.1} MB)",
                s.sets_on_disk_bytes as f64 / 1e6
            ));
        }
        if s.spill_runs > 0 {
            on_disk.push(format!(
                "band keys and candidate pairs sorted in {} runs",
                s.spill_runs
            ));
        }
        let _ = writeln!(t, "  under --memory-limit: {}", on_disk.join("; "));
    }
    let _ = writeln!(
        t,
        "{} stories covering {} documents (largest: {})",
        s.stories, s.documents_in_stories, s.largest_story
    );
    for story in out.stories.iter().take(5) {
        let origin = &out.docs[story.origin.index()];
        let title = origin.display_title(10);
        let _ = writeln!(
            t,
            "  {}  {:>4} docs  origin {}  {}",
            story.id,
            story.members.len(),
            origin.id,
            truncate(&title, 60)
        );
    }
    if s.aligned_pairs > 0 {
        let _ = writeln!(
            t,
            "{} passages ({} verbatim, {} edited, {} reworded) in {} aligned pairs",
            s.passages,
            s.verbatim_passages,
            s.edited_passages,
            s.reworded_passages,
            s.aligned_pairs
        );
    }
    let mut reruns: std::collections::BTreeMap<String, u64> = Default::default();
    for r in outlet_rows(out) {
        if !r.rerun_outlet.is_empty() {
            *reruns.entry(r.rerun_outlet).or_default() += r.articles;
        }
    }
    let mut top: Vec<(String, u64)> = reruns.into_iter().collect();
    top.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    if !top.is_empty() {
        let names: Vec<String> = top
            .iter()
            .take(5)
            .map(|(o, n)| format!("{o} ({n})"))
            .collect();
        let _ = writeln!(t, "outlets that rerun the most: {}", names.join(", "));
    }
    let _ = writeln!(
        t,
        "reports in {} ({:.1} s, peak {:.0} MiB)",
        dir.display(),
        s.timings.total_ms / 1000.0,
        s.timings.peak_rss_mib
    );
    t
}

fn truncate(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn share_matches_plain_formatting(x in -2.0f64..3.0) {
            let share = Share::new(x);
            proptest::prop_assert_eq!(share.as_str(), fmt_share_plain(x));
        }

        #[test]
        fn int_spells_numbers_as_to_string_does(n in proptest::prelude::any::<u32>()) {
            let (int, plain) = (Int::new(n), n.to_string());
            proptest::prop_assert_eq!(int.as_ref(), plain.as_bytes());
        }
    }

    #[test]
    fn excel_is_warned_of_tables_longer_than_its_sheets() {
        // A sheet holds the header and 1,048,575 data rows.
        let fits = ("stories.csv", EXCEL_ROWS - 1);
        assert!(over_excel(&[fits]).is_empty());
        let w = over_excel(&[fits, ("pairs.csv", 9_037_507)]);
        assert_eq!(
            w,
            [
                "pairs.csv has 9037507 rows; Excel shows the first 1048575 and drops the other 7988932"
            ]
        );
    }

    #[test]
    fn parallel_csv_waves_write_the_sequential_file() {
        // Chunks of one row: 200 rows are four waves, each written while
        // the next is formatted; fields that need quoting included.
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<[String; 2]> = (0..200)
            .map(|i| [format!("row {i}"), format!("say \"{i}\", then,\nstop")])
            .collect();
        let (seq, par) = (dir.path().join("seq.csv"), dir.path().join("par.csv"));
        let plain = CsvStyle::default();
        write_csv(&seq, &["a", "b"], rows.iter().map(|r| r.iter()), plain).unwrap();
        write_csv_par(&par, &["a", "b"], &rows, 1, plain, |r: &[String; 2]| {
            r.clone()
        })
        .unwrap();
        let want = std::fs::read(&seq).unwrap();
        assert_eq!(want.iter().filter(|&&b| b == b'"').count(), 1200);
        assert_eq!(std::fs::read(&par).unwrap(), want);
    }

    #[test]
    fn int_edges() {
        for n in [0, 9, 10, 99, 100, 4_294_967_295] {
            assert_eq!(Int::new(n).as_ref(), n.to_string().as_bytes());
        }
    }

    #[test]
    fn share_edges() {
        for x in [
            0.0,
            1.0,
            0.99995,
            0.00004999,
            1.00001,
            -0.00001,
            f64::NAN,
            12345.6789,
            1e300,
        ] {
            assert_eq!(Share::new(x).as_str(), fmt_share_plain(x), "{x}");
        }
    }
}
