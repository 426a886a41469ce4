//! The `scan` pipeline: ingest → shingle → boilerplate → sketch → LSH →
//! verify → stories. Reports are written by [`crate::report`].
//!
//! In: input paths and a [`ScanConfig`]. Out: a [`ScanOutput`] holding the
//! documents, their shingle sets, the verified matches, the stories and a
//! [`Summary`] that accounts for every record read.
//!
//! Reading runs on its own thread and hands batches of documents over a
//! bounded channel to the shingling stage, which tokenises each batch in
//! parallel, so reading and shingling overlap and memory for raw text in
//! flight is bounded. All later stages are data-parallel with rayon and
//! deterministic: results are sorted by `DocId` or pair, never by thread.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use ahash::AHashMap;
use rayon::prelude::*;
use serde::Serialize;

use crate::align;
use crate::boilerplate;
use crate::cluster::{self, Story};
use crate::config::{AlignConfig, ScanConfig};
use crate::document::{DocId, Document};
use crate::error::{Result, SkipReason};
use crate::fingerprint;
use crate::ingest::{self, BadRecord, Item};
use crate::lsh::{self, CandidatePair};
use crate::minhash::Sketcher;
use crate::report;
use crate::reword;
use crate::sets::{SetSource, Sets};
use crate::shingle::{self, ShingleHash, ShingleSet};
use crate::verify::{self, Match, Relation};

pub use crate::observe::{Observer, Silent, Stage};

/// Counts of records, by fate.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct RecordCounts {
    /// Records read: `scanned + skipped`.
    pub read: u64,
    /// Records that became documents.
    pub scanned: u64,
    /// Records skipped.
    pub skipped: u64,
    /// Skipped records by reason (every reason listed, zeros included).
    pub skipped_by_reason: BTreeMap<&'static str, u64>,
}

/// What `scan` found, for `summary.json` and the terminal.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    /// Record accounting.
    pub records: RecordCounts,
    /// Scanned documents with fewer words than one shingle (or only
    /// boilerplate): read and counted, but they cannot match anything.
    pub too_short: u64,
    /// Boilerplate shingles: global ones plus each outlet's own.
    pub boilerplate_shingles: u64,
    /// Texts the scan let go after shingling: those of plain JSONL and
    /// `.txt` inputs, which can be read again; those of other inputs, which
    /// went to a temporary file (`texts_spilled`); and any text no later
    /// stage needs ([`ScanConfig::texts_unused_after_scan`]), which was cut.
    pub texts_dropped: u64,
    /// Of those, texts whose input cannot be read again (compressed files,
    /// CSV, SGML, stdin), written to a temporary file in the spill
    /// directory because a later stage reads them.
    pub texts_spilled: u64,
    /// Texts read back by offset, summed over the stages that read them:
    /// the reworded view (the documents it analyses), alignment (the
    /// documents of the pairs it aligns) and the reports (the HTML page's
    /// full texts and untitled story origins). A text read by two stages
    /// counts twice.
    pub texts_reread: u64,
    /// Documents whose boilerplate-free shingle set equals an earlier
    /// document's: left out of pairing, given the earlier one's relations.
    pub identical_copies: u64,
    /// Bands and rows used.
    pub lsh_bands: usize,
    /// Rows per band.
    pub lsh_rows: usize,
    /// Buckets of two or more documents expanded into pairs.
    pub buckets_expanded: u64,
    /// Buckets over `--bucket-cap`, not expanded.
    pub capped_buckets: u64,
    /// Sizes of the largest capped buckets (at most 20), largest first.
    pub capped_bucket_sizes: Vec<usize>,
    /// Candidate pairs from LSH.
    pub candidates_lsh: u64,
    /// Sorted runs the LSH stage wrote to disk under `--memory-limit` (0:
    /// everything fit in memory).
    pub spill_runs: u64,
    /// Bytes of shingle sets kept in a file under `--memory-limit` (0: the
    /// sets were held in memory).
    pub sets_on_disk_bytes: u64,
    /// Candidate pairs from shared passage fingerprints.
    pub candidates_passage: u64,
    /// Passage fingerprints over `--passage-max-df`, not expanded.
    pub capped_fingerprints: u64,
    /// Distinct candidate pairs (union of both).
    pub candidates: u64,
    /// Candidates that verified as related.
    pub verified_pairs: u64,
    /// Verified pairs by relation.
    pub pairs_by_relation: BTreeMap<&'static str, u64>,
    /// Stories of two or more documents.
    pub stories: u64,
    /// Documents in some story.
    pub documents_in_stories: u64,
    /// Size of the largest story.
    pub largest_story: u64,
    /// Whether passages were aligned (`--no-passages` turns it off).
    pub alignment: bool,
    /// Whether `passages.csv` has the `a_text` and `b_text` columns: the
    /// scan sets it when it aligned passages; the binary clears it for
    /// `--no-passage-text` before writing the reports, which follow it.
    pub passage_text: bool,
    /// Pairs aligned (each rerun against its story's origin, and every
    /// partial pair).
    pub aligned_pairs: u64,
    /// Passages found in them.
    pub passages: u64,
    /// Of those, verbatim.
    pub verbatim_passages: u64,
    /// Of those, edited (a word alignment with substitutions or gaps).
    pub edited_passages: u64,
    /// Of those, reworded (found by the sentence view).
    pub reworded_passages: u64,
    /// Whether the reworded view ran (`--no-reworded` turns it off).
    pub reworded_view: bool,
    /// What the reworded view did.
    pub reword: reword::ViewStats,
    /// Wall time per stage in milliseconds and peak memory. The only part
    /// of the summary that varies from run to run.
    pub timings: Timings,
}

impl Summary {
    /// `"7 rerun, 7 excerpt, 5 reworded, 6 partial"`: related pairs by
    /// relation, in report order.
    pub fn relation_counts(&self) -> String {
        Relation::ALL
            .iter()
            .map(|r| {
                let n = self.pairs_by_relation.get(r.as_str()).unwrap_or(&0);
                format!("{n} {}", r.as_str())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Wall time per stage and peak resident memory.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Timings {
    /// Milliseconds per stage, in pipeline order.
    pub stages: Vec<StageTime>,
    /// Milliseconds per step inside the scan's stages, in order: where a
    /// stage's time goes.
    pub steps: Vec<StepTime>,
    /// Total milliseconds.
    pub total_ms: f64,
    /// Peak resident set size in MiB (Linux), 0 where unknown.
    pub peak_rss_mib: f64,
}

impl Timings {
    /// Appends a stage that started at `since` and ends now (the scan's
    /// stages, and the binary's `reports` after it): its time counts in the
    /// total, its peak memory (sampled since the last stage ended) in the
    /// peak.
    pub fn add_stage(&mut self, stage: &str, since: Instant) {
        let ms = since.elapsed().as_secs_f64() * 1000.0;
        let peak = rss::take_stage_peak_mib();
        self.stages.push(StageTime {
            stage: stage.to_string(),
            ms,
            peak_rss_mib: peak,
        });
        self.total_ms += ms;
        self.peak_rss_mib = self.peak_rss_mib.max(peak).max(peak_rss_mib());
    }
}

/// Wall time and peak memory of one stage.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct StageTime {
    /// Stage name.
    pub stage: String,
    /// Milliseconds.
    pub ms: f64,
    /// Peak resident set size during the stage in MiB (Linux; sampled every
    /// 10 ms, see `rss`), 0 where unknown.
    pub peak_rss_mib: f64,
}

/// Wall time of one step of a stage (see [`Observer::step`]).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct StepTime {
    /// Stage name.
    pub stage: String,
    /// What the step counts or does, as its progress bar says.
    pub step: String,
    /// Milliseconds, from the step's start to the next step's or the stage's end.
    pub ms: f64,
}

/// `(stage, step, start)` of one step; a stage's end is a step named "".
type Mark = (Stage, String, Instant);

/// Forwards every notice to `inner` and notes when each step starts and
/// its stage ends, for [`Timings::steps`].
struct StepClock<'o> {
    inner: &'o dyn Observer,
    /// The current stage, and every step so far.
    marks: std::sync::Mutex<(Option<Stage>, Vec<Mark>)>,
}

impl<'o> StepClock<'o> {
    fn new(inner: &'o dyn Observer) -> Self {
        StepClock {
            inner,
            marks: std::sync::Mutex::new((None, Vec::new())),
        }
    }

    /// Notes a step of `stage`, or of the current stage when `None`.
    fn mark(&self, stage: Option<Stage>, what: &str) {
        let mut guard = self.marks.lock().expect("step clock lock");
        let (current, marks) = &mut *guard;
        if let Some(stage) = stage.or(*current) {
            *current = Some(stage);
            marks.push((stage, what.to_string(), Instant::now()));
        }
    }

    /// The steps, each timed up to the next mark.
    fn steps(&self) -> Vec<StepTime> {
        let guard = self.marks.lock().expect("step clock lock");
        guard
            .1
            .windows(2)
            .filter(|w| !w[0].1.is_empty())
            .map(|w| StepTime {
                stage: w[0].0.as_str().to_string(),
                step: w[0].1.clone(),
                ms: (w[1].2 - w[0].2).as_secs_f64() * 1000.0,
            })
            .collect()
    }
}

impl Observer for StepClock<'_> {
    fn bad_record(&self, bad: &BadRecord) {
        self.inner.bad_record(bad);
    }
    fn stage_start(&self, stage: Stage, what: &str, total: Option<u64>) {
        self.mark(Some(stage), what);
        self.inner.stage_start(stage, what, total);
    }
    fn step(&self, what: &str, total: Option<u64>) {
        self.mark(None, what);
        self.inner.step(what, total);
    }
    fn input_bytes(&self, bytes: u64) {
        self.inner.input_bytes(bytes);
    }
    fn advance(&self, units: u64, bytes: u64) {
        self.inner.advance(units, bytes);
    }
    fn stage_end(&self, stage: Stage) {
        self.mark(Some(stage), "");
        self.inner.stage_end(stage);
    }
}

/// The passages of one aligned pair; `a < b`, offsets as in [`align::Passage`]
/// with side A = document `a`.
#[derive(Clone, Debug)]
pub struct PairPassages {
    /// Smaller id.
    pub a: DocId,
    /// Larger id.
    pub b: DocId,
    /// Passages in order of their start in `a`.
    pub passages: Vec<align::Passage>,
}

/// Everything a scan produced.
#[derive(Debug)]
pub struct ScanOutput {
    /// Documents in `DocId` order.
    pub docs: Vec<Document>,
    /// Per document in a story: the share of its story's origin it carries
    /// and the relation of the pair (see [`report::member_relation`]);
    /// `(0.0, "")` for documents in no story.
    pub member_relations: Vec<(f64, &'static str)>,
    /// Related pairs, sorted by `(a, b)`.
    pub matches: Vec<Match>,
    /// Stories, largest first.
    pub stories: Vec<Story>,
    /// Story index per document, if in one.
    pub story_of: Vec<Option<u32>>,
    /// Outlet number per document (names sorted), for boilerplate lookups.
    pub outlets: Vec<boilerplate::OutletIndex>,
    /// The boilerplate table used.
    pub boilerplate: boilerplate::Boilerplate,
    /// Aligned pairs with their passages, sorted by `(a, b)`.
    pub passages: Vec<PairPassages>,
    /// Counts and timings.
    pub summary: Summary,
    /// Whether document texts are in memory (see [`ScanOutput::restore_texts`]).
    pub texts: Texts,
}

impl ScanOutput {
    /// Length in bytes of a document's text, whether or not it is in memory.
    pub fn text_len(&self, d: DocId) -> usize {
        match &self.texts {
            Texts::Dropped { refs, .. } => {
                refs[d.index()].map_or(self.docs[d.index()].text.len(), |r| r.len as usize)
            }
            Texts::Kept => self.docs[d.index()].text.len(),
        }
    }

    /// Reads the texts of these documents back into `docs` where the scan
    /// let them go; returns how many were read. Fails when an input file
    /// changed since it was read.
    pub fn restore_texts(
        &mut self,
        wanted: &[DocId],
        cfg: &crate::config::IngestConfig,
        obs: &dyn Observer,
    ) -> Result<u64> {
        self.texts.restore(&mut self.docs, wanted, cfg, obs)
    }
}

/// Resident memory: the process's peak from the kernel's high-water mark,
/// and per-stage peaks from sampling.
///
/// Per-stage peaks are not taken by resetting the high-water mark
/// (`clear_refs`): that also resets what the kernel reports to the parent
/// when the process exits, so `/usr/bin/time` and benchmark harnesses
/// would see only the last stage's peak. Instead a background thread reads
/// the resident size every [`rss::EVERY`] and keeps the largest since the
/// last stage ended; a spike shorter than that can be missed in a stage's
/// figure, never in the process's.
mod rss {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    /// Sampling interval.
    pub(super) const EVERY: Duration = Duration::from_millis(10);

    /// Largest resident size (KiB) sampled since the last stage ended.
    static STAGE_PEAK_KIB: AtomicU64 = AtomicU64::new(0);
    static SAMPLER: OnceLock<()> = OnceLock::new();

    /// A `kB` field of `/proc/self/status` (Linux), `None` elsewhere.
    fn status_kib(field: &str) -> Option<u64> {
        std::fs::read_to_string("/proc/self/status")
            .ok()?
            .lines()
            .find(|l| l.starts_with(field))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    fn start() {
        SAMPLER.get_or_init(|| {
            if status_kib("VmRSS:").is_none() {
                return; // Nothing to sample on this system.
            }
            // Runs for the life of the process; if it cannot start, stage
            // peaks are read at stage ends only.
            let _ = std::thread::Builder::new()
                .name("wiretrace-rss".into())
                .spawn(|| {
                    loop {
                        if let Some(kib) = status_kib("VmRSS:") {
                            STAGE_PEAK_KIB.fetch_max(kib, Ordering::Relaxed);
                        }
                        std::thread::sleep(EVERY);
                    }
                });
        });
    }

    /// The largest resident size since the last call, in MiB, and the
    /// start of a new stage.
    pub(super) fn take_stage_peak_mib() -> f64 {
        start();
        let now = status_kib("VmRSS:").unwrap_or(0);
        let sampled = STAGE_PEAK_KIB.swap(now, Ordering::Relaxed);
        sampled.max(now) as f64 / 1024.0
    }

    /// The process's peak resident size in MiB (`VmHWM`), 0 where unknown.
    pub(super) fn process_peak_mib() -> f64 {
        status_kib("VmHWM:").map_or(0.0, |kib| kib as f64 / 1024.0)
    }
}

/// Peak resident set size of this process in MiB (Linux `VmHWM`), 0 where
/// unknown.
pub fn peak_rss_mib() -> f64 {
    rss::process_peak_mib()
}

/// Peak resident memory per byte of (uncompressed) input, measured on
/// `wiretrace synth` corpora (README, Performance): with passages or the
/// reworded view (the texts they read back, the sentence analyses), and for
/// the verbatim pipeline in memory (the shingle sets, the signatures).
const PEAK_PER_INPUT_BYTE: (f64, f64) = (2.1, 1.0);

/// The least a compressed input expands to (JSONL news compresses three
/// to five times).
const COMPRESSED_EXPANDS: u64 = 3;

/// The size of a scan's inputs, read before it starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputSize {
    /// Bytes of inputs that can be read again by offset (plain files).
    pub plain: u64,
    /// Bytes of compressed inputs (`.gz`, `.zst`).
    pub compressed: u64,
}

impl InputSize {
    /// The sizes of `sources`; `None` when one is unknown (stdin).
    pub fn of(sources: &[ingest::Source]) -> Option<InputSize> {
        let mut size = InputSize::default();
        for s in sources {
            let bytes = std::fs::metadata(&s.path).ok()?.len();
            if ingest::is_seekable(&s.path) {
                size.plain += bytes;
            } else {
                size.compressed += bytes;
            }
        }
        Some(size)
    }

    /// The least the inputs hold uncompressed (compressed bytes counted at
    /// their least expansion).
    pub fn uncompressed(self) -> u64 {
        self.plain
            .saturating_add(self.compressed.saturating_mul(COMPRESSED_EXPANDS))
    }
}

/// About how much memory a scan of `input` will reach, in bytes. `None`
/// when the peak does not grow with the input's bytes: the verbatim
/// pipeline under `--memory-limit` (about 1.5 KB per article).
pub fn expected_peak_bytes(input: InputSize, cfg: &ScanConfig) -> Option<u64> {
    let view = cfg.align.enabled || cfg.reword.enabled;
    if !view && cfg.memory_limit.is_some() {
        return None;
    }
    let per_byte = if view {
        PEAK_PER_INPUT_BYTE.0
    } else {
        PEAK_PER_INPUT_BYTE.1
    };
    Some((input.uncompressed() as f64 * per_byte) as u64)
}

/// A warning to print before the scan when its expected peak
/// ([`expected_peak_bytes`]) passes the machine's memory (running out ends
/// a long run with nothing written), or passes `--memory-limit` in a mode
/// the limit does not bound (passages, the reworded view and the page need
/// the texts and their analyses in memory). `None` when it fits, or when
/// the figures are unknown (stdin, a system without `/proc/meminfo`).
pub fn memory_warning(input: InputSize, cfg: &ScanConfig, machine: Option<u64>) -> Option<String> {
    let InputSize { plain, compressed } = input;
    let need = expected_peak_bytes(input, cfg)?;
    let over_machine = machine.filter(|&m| need > m);
    let over_limit = cfg.memory_limit.filter(|&l| need > l);
    if over_machine.is_none() && over_limit.is_none() {
        return None;
    }
    let input = if compressed > 0 {
        format!(
            "{} of input, compressed counted as at least {COMPRESSED_EXPANDS}x",
            size_text(plain + compressed)
        )
    } else {
        format!("{} of input", size_text(plain))
    };
    let mut over = Vec::new();
    if let Some(limit) = over_limit {
        over.push(format!("--memory-limit's {}", size_text(limit)));
    }
    if let Some(machine) = over_machine {
        over.push(format!("this machine's {}", size_text(machine)));
    }
    let mut advice = Vec::new();
    if over_limit.is_some() {
        advice.push(
            "the limit bounds only the verbatim pipeline (--no-passages --no-reworded --no-html), whose shingle sets, band keys and candidate pairs it moves to disk",
        );
    }
    if over_machine.is_some() {
        advice.push("a run that runs out writes nothing");
        if cfg.align.enabled || cfg.reword.enabled {
            advice.push("the verbatim pipeline (--no-passages --no-reworded --no-html) needs about 1 byte per input byte, and under --memory-limit about 1.5 KB per article");
        } else {
            advice
                .push("under --memory-limit the verbatim pipeline needs about 1.5 KB per article");
        }
    }
    Some(format!(
        "this scan may need about {} of memory ({input}), more than {}; {}",
        size_text(need),
        over.join(" and "),
        advice.join("; ")
    ))
}

/// Bytes of shingle sets per byte of (uncompressed) input: four bytes a
/// shingle, about one shingle a word (2.9 GB for the 4.6 GB of 1M
/// `wiretrace synth` articles).
const SETS_PER_INPUT_BYTE: f64 = 0.6;

/// A warning to print before a scan under `--memory-limit` when the disk
/// that holds its spill directory (`free` bytes there) has less room than
/// the shingle sets the limit sends to a file (once they pass a quarter of
/// it): a scan that fills the disk
/// stops partway with nothing written. The sorted runs of band keys and
/// pairs need more besides (at 10M articles the spill directory held about
/// one byte per input byte). `None` without a limit, or when it fits or a
/// figure is unknown.
pub fn disk_warning(input: InputSize, cfg: &ScanConfig, free: Option<u64>) -> Option<String> {
    let share = cfg.spill_share()?;
    let sets = (input.uncompressed() as f64 * SETS_PER_INPUT_BYTE) as u64;
    let free = free?;
    // Sets within their quarter of the limit stay in memory.
    if sets <= share || sets <= free {
        return None;
    }
    Some(format!(
        "under --memory-limit this scan keeps its shingle sets, about {}, in a file in {}, which has {} free; a scan that fills the disk stops with nothing written (the sorted runs of band keys and pairs need more besides)",
        size_text(sets),
        cfg.spill_dir().display(),
        size_text(free)
    ))
}

/// A byte count for people: `12 GB`, `4.6 GB`, `830 MB`, `21 kB`.
///
/// ```
/// use wiretrace::scan::size_text;
/// assert_eq!(size_text(11_600_000_000), "12 GB");
/// assert_eq!(size_text(4_600_000_000), "4.6 GB");
/// assert_eq!(size_text(830_000_000), "830 MB");
/// assert_eq!(size_text(21_000), "21 kB");
/// ```
pub fn size_text(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e10 {
        format!("{:.0} GB", b / 1e9)
    } else if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

/// This machine's physical memory in bytes (Linux `MemTotal`), `None`
/// where unknown.
pub fn machine_memory_bytes() -> Option<u64> {
    let kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()?
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

struct Clock {
    start: Instant,
    last: Instant,
    timings: Timings,
}

impl Clock {
    fn new() -> Self {
        let now = Instant::now();
        rss::take_stage_peak_mib();
        Clock {
            start: now,
            last: now,
            timings: Timings::default(),
        }
    }
    fn lap(&mut self, stage: Stage) {
        self.timings.add_stage(stage.as_str(), self.last);
        self.last = Instant::now();
    }
    /// The stages so far with their steps; the total is the wall time
    /// since the start.
    fn finish(mut self, steps: Vec<StepTime>) -> Timings {
        self.timings.steps = steps;
        self.timings.total_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        self.timings
    }
}

const BATCH: usize = 512;

/// Longest text buffer (in bytes of capacity) handed back to the reader.
const RECYCLED_TEXT: usize = 64 << 10;

/// Reads every input and returns documents with their raw shingle sets,
/// and the record counts. Texts that can be read again by offset are let go
/// once shingled (see [`Texts`]).
pub fn read_and_shingle(
    inputs: &[PathBuf],
    cfg: &ScanConfig,
    obs: &dyn Observer,
) -> Result<Shingled> {
    let mut sources = ingest::discover(inputs, &cfg.ingest)?;
    if sources.iter().all(|s| ingest::is_seekable(&s.path)) {
        let size: u64 = sources
            .iter()
            .filter_map(|s| std::fs::metadata(&s.path).ok())
            .map(|m| m.len())
            .sum();
        obs.input_bytes(size);
    }
    let k = cfg.shingle.k;
    // Whether a text that cannot be read again is still needed whole.
    let cut_texts = cfg.texts_unused_after_scan && !cfg.align.enabled && !cfg.reword.enabled;
    let mut texts_cut = 0u64;
    let (tx, rx) = crossbeam_channel::bounded::<Vec<(Document, Option<TextRef>)>>(8);
    let mut docs = Vec::new();
    let mut sets = Sets::default();
    // Under a memory limit the sets get their share of it; beyond it they
    // go to a file.
    let (set_budget, spill_dir) = (cfg.spill_share(), cfg.spill_dir());
    let mut refs: Vec<Option<TextRef>> = Vec::new();
    // Texts that cannot be read from their input again but that a later
    // stage needs go to a file of their own, read back like the others.
    let mut spill: Option<TextSpill> = None;
    let spill_source = sources.len() as u32;
    let sources_ref = &sources;
    // Texts let go go back to the reader, which fills them again.
    let (give_back, recycled) = crossbeam_channel::bounded::<String>(4 * BATCH);
    let recycled = &recycled;
    let skipped = std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut skipped: BTreeMap<SkipReason, u64> = BTreeMap::new();
            let mut batch = Vec::with_capacity(BATCH);
            let result =
                ingest::read_sources(sources_ref, &cfg.ingest, Some(recycled), &mut |item| {
                    match item {
                        Item::Doc(doc, location) => {
                            let len = doc.text.len() as u32;
                            let at = location.offset.map(|offset| TextRef {
                                source: location.source as u32,
                                offset,
                                len,
                            });
                            batch.push((doc, at));
                            if batch.len() >= BATCH {
                                // A closed channel means the consumer stopped; nothing to do.
                                let _ = tx
                                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                            }
                        }
                        Item::Bad(bad) => {
                            obs.bad_record(&bad);
                            *skipped.entry(bad.reason).or_default() += 1;
                        }
                    }
                    Ok(())
                });
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
            result.map(|()| skipped)
        });
        let mut failed = None;
        'batches: for batch in rx.iter() {
            let bytes: u64 = batch.iter().map(|d| d.0.text.len() as u64).sum();
            let n = batch.len() as u64;
            let (mut shingled, lines): (Vec<ShingleSet>, Vec<Option<Vec<u8>>>) = batch
                .par_iter()
                .map(|(doc, at)| {
                    let line = (at.is_none() && !cut_texts)
                        .then(|| spill_line(&doc.id, &doc.text, &cfg.ingest.fields));
                    (shingle::shingle_text(&doc.text, k), line)
                })
                .unzip();
            for ((mut doc, mut at), line) in batch.into_iter().zip(lines) {
                if let Some(line) = line {
                    let written = match &mut spill {
                        Some(spill) => Ok(spill),
                        None => TextSpill::create(&spill_dir).map(|s| spill.insert(s)),
                    }
                    .and_then(|spill| spill.write(&line, spill_source, doc.text.len() as u32));
                    match written {
                        Ok(r) => at = Some(r),
                        Err(e) => {
                            failed = Some(e);
                            break 'batches;
                        }
                    }
                }
                // A text that can be read again is let go once shingled;
                // the stages that need it read it back (`Texts::restore`).
                if at.is_some() {
                    let text = std::mem::take(&mut doc.text);
                    // A full pool, or a text too long to be worth holding,
                    // is simply freed.
                    if text.capacity() <= RECYCLED_TEXT {
                        let _ = give_back.try_send(text);
                    }
                } else if cut_texts {
                    cut_text(&mut doc);
                    texts_cut += 1;
                }
                refs.push(at);
                docs.push(doc);
            }
            if let Err(e) = sets.append(&mut shingled, set_budget, &spill_dir) {
                failed = Some(e);
                break;
            }
            obs.advance(n, bytes);
        }
        // The reader finishes on its own once nothing receives its batches.
        drop(rx);
        let read = reader.join().expect("reader thread panicked");
        match failed {
            Some(e) => Err(e),
            None => read,
        }
    })?;
    let mut counts = RecordCounts::default();
    for reason in SkipReason::ALL {
        let n = skipped.get(&reason).copied().unwrap_or(0);
        counts.skipped_by_reason.insert(reason.as_str(), n);
        counts.skipped += n;
    }
    counts.scanned = docs.len() as u64;
    counts.read = counts.scanned + counts.skipped;
    let texts_spilled = spill.as_ref().map_or(0, |s| s.texts);
    let spill = match spill {
        Some(spill) => {
            let (source, path) = spill.finish()?;
            debug_assert_eq!(sources.len() as u32, spill_source);
            sources.push(source);
            Some(std::sync::Arc::new(path))
        }
        None => None,
    };
    let texts = if refs.iter().any(Option::is_some) {
        Texts::Dropped {
            sources,
            refs,
            spill,
        }
    } else {
        Texts::Kept
    };
    Ok(Shingled {
        docs,
        sets,
        counts,
        texts,
        texts_cut,
        texts_spilled,
    })
}

/// Texts that cannot be read from their input again (compressed files, CSV
/// rows, SGML records, stdin) while a later stage needs them: written as
/// JSONL records (id and text, under the input's field names) to a
/// temporary file in the spill directory, and read back by offset like the
/// records of a plain JSONL input. The file goes when the scan's texts do.
struct TextSpill {
    out: std::io::BufWriter<std::fs::File>,
    path: crate::cleanup::ListedPath,
    /// Bytes written so far (where the next record goes).
    end: u64,
    /// Records written.
    texts: u64,
}

impl TextSpill {
    /// A new file in `dir`, which is created if missing (the binary's
    /// default is `--out`, made only once the reports are written).
    fn create(dir: &std::path::Path) -> Result<TextSpill> {
        std::fs::create_dir_all(dir).map_err(|e| crate::error::Error::io(dir, e))?;
        let (file, path) = tempfile::Builder::new()
            .prefix("wiretrace-texts-")
            .suffix(".jsonl")
            .tempfile_in(dir)
            .map_err(|e| crate::error::Error::io(dir, e))?
            .into_parts();
        Ok(TextSpill {
            out: std::io::BufWriter::with_capacity(1 << 20, file),
            path: crate::cleanup::ListedPath::new(path),
            end: 0,
            texts: 0,
        })
    }

    /// Appends one record ([`spill_line`]) and says where it is.
    fn write(&mut self, line: &[u8], source: u32, len: u32) -> Result<TextRef> {
        use std::io::Write;
        self.out
            .write_all(line)
            .map_err(|e| crate::error::Error::io(&*self.path, e))?;
        let at = TextRef {
            source,
            offset: self.end,
            len,
        };
        self.end += line.len() as u64;
        self.texts += 1;
        Ok(at)
    }

    /// Flushes the file; returns it as a source, and the path that deletes
    /// it when dropped.
    fn finish(self) -> Result<(ingest::Source, crate::cleanup::ListedPath)> {
        let TextSpill { out, path, .. } = self;
        out.into_inner()
            .map_err(|e| crate::error::Error::io(&*path, e.into_error()))?;
        let source = ingest::Source {
            path: path.to_path_buf(),
            format: crate::config::Format::Jsonl,
            text_id: None,
        };
        Ok((source, path))
    }
}

/// One JSONL record holding an article's id and text under the configured
/// keys, newline included.
fn spill_line(id: &str, text: &str, fields: &crate::config::FieldMap) -> Vec<u8> {
    let mut line = Vec::with_capacity(text.len() + id.len() + 32);
    let field = |key: &str, value: &str, line: &mut Vec<u8>| {
        serde_json::to_writer(&mut *line, key).expect("a string serialises");
        line.push(b':');
        serde_json::to_writer(&mut *line, value).expect("a string serialises");
    };
    line.push(b'{');
    field(&fields.id, id, &mut line);
    line.push(b',');
    field(&fields.text, text, &mut line);
    line.extend_from_slice(b"}\n");
    line
}

/// The most words of an untitled article's text that title its story (on
/// the page; the printed summary shows ten) ([`Document::display_title`]).
pub const TITLE_WORDS: usize = 12;

/// Cuts a text no later stage reads: to the words that title an untitled
/// article's story, else to nothing.
fn cut_text(doc: &mut Document) {
    if doc.title.is_some() {
        doc.text = String::new();
        return;
    }
    let end = doc
        .text
        .split_whitespace()
        .take(TITLE_WORDS)
        .last()
        // The end of the last word kept, as an offset into the text it is
        // a slice of.
        .map_or(0, |w| {
            w.as_ptr() as usize + w.len() - doc.text.as_ptr() as usize
        });
    doc.text.truncate(end);
    doc.text.shrink_to_fit();
}

/// What [`read_and_shingle`] returns.
pub struct Shingled {
    /// Documents in `DocId` order (texts let go where `texts` says so).
    pub docs: Vec<Document>,
    /// Raw shingle set per document.
    pub sets: Sets,
    /// Record accounting.
    pub counts: RecordCounts,
    /// Whether texts were kept.
    pub texts: Texts,
    /// Texts that could not be read again and were cut, no later stage
    /// needing them ([`ScanConfig::texts_unused_after_scan`]).
    pub texts_cut: u64,
    /// Texts that could not be read from their input again and went to a
    /// temporary file, a later stage needing them.
    pub texts_spilled: u64,
}

/// Where to find a document's text again after the scan let it go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextRef {
    /// Index of the source (file) it was read from.
    pub source: u32,
    /// Byte offset of its record in that file.
    pub offset: u64,
    /// Length of the text in bytes.
    pub len: u32,
}

/// Whether the scan kept every text in memory.
#[derive(Clone, Debug, Default)]
pub enum Texts {
    /// Every `Document::text` is there.
    #[default]
    Kept,
    /// Texts are let go once shingled and read back by offset by the
    /// stages that need them ([`Texts::hold`], [`Texts::restore`]): those
    /// of plain JSONL and `.txt` inputs from there, the others (compressed,
    /// CSV, SGML, stdin) from a temporary file they were written to, when a
    /// later stage needs them. `refs[d]` says where document `d`'s text is
    /// (`None`: it could not be read again and was cut, nothing reading
    /// it; see [`ScanConfig::texts_unused_after_scan`]). A document's text
    /// is in memory when it is not empty: no scanned document has an empty
    /// text.
    Dropped {
        /// The inputs, in reading order, then the temporary file if any.
        sources: Vec<ingest::Source>,
        /// Per document.
        refs: Vec<Option<TextRef>>,
        /// The temporary file of texts (deleted when the last clone goes).
        spill: Option<std::sync::Arc<crate::cleanup::ListedPath>>,
    },
}

impl Texts {
    /// Reads back into `docs` the texts of `wanted` that are not in memory;
    /// returns how many it read (shown to `obs` as a step of the current
    /// stage). Fails when an input file changed since it was read.
    pub fn restore(
        &self,
        docs: &mut [Document],
        wanted: &[DocId],
        cfg: &crate::config::IngestConfig,
        obs: &dyn Observer,
    ) -> Result<u64> {
        let Texts::Dropped { sources, refs, .. } = self else {
            return Ok(0);
        };
        let mut ids: Vec<DocId> = wanted
            .iter()
            .copied()
            .filter(|d| refs[d.index()].is_some() && docs[d.index()].text.is_empty())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let triples: Vec<(u32, u64, &str)> = ids
            .iter()
            .map(|d| {
                let r = refs[d.index()].expect("filtered above");
                (r.source, r.offset, docs[d.index()].id.as_str())
            })
            .collect();
        if !triples.is_empty() {
            obs.step("texts read back", Some(triples.len() as u64));
        }
        let read = ingest::reread_texts(sources, cfg, &triples, obs)?;
        for (d, text) in ids.iter().zip(read) {
            docs[d.index()].text = text;
        }
        Ok(ids.len() as u64)
    }

    /// Holds the texts of the documents `wanted` marks and no others that
    /// can be read again: lets the rest go, then reads back the wanted ones
    /// not in memory ([`Texts::restore`]); returns how many it read.
    pub fn hold(
        &self,
        docs: &mut [Document],
        wanted: &[bool],
        cfg: &crate::config::IngestConfig,
        obs: &dyn Observer,
    ) -> Result<u64> {
        let Texts::Dropped { refs, .. } = self else {
            return Ok(0);
        };
        docs.par_iter_mut()
            .zip(refs.par_iter())
            .zip(wanted.par_iter())
            .filter(|((_, r), w)| r.is_some() && !**w)
            .for_each(|((doc, _), _)| doc.text = String::new());
        let ids: Vec<DocId> = (0..docs.len() as u32)
            .map(DocId)
            .filter(|d| wanted[d.index()])
            .collect();
        self.restore(docs, &ids, cfg, obs)
    }
}

/// Holds for each stage the texts it needs ([`Texts::hold`]), shows the
/// re-reads as a step of the stage, and counts them.
struct Holder<'a> {
    texts: &'a Texts,
    cfg: &'a crate::config::IngestConfig,
    obs: &'a dyn Observer,
    /// Texts read back so far.
    reread: u64,
}

impl Holder<'_> {
    fn hold(&mut self, docs: &mut [Document], wanted: &[bool]) -> Result<()> {
        self.reread += self.texts.hold(docs, wanted, self.cfg, self.obs)?;
        Ok(())
    }
}

/// Units of work between two progress updates of a data-parallel loop over
/// `n` items: about 64 updates, in chunks large enough that the pause
/// between chunks costs nothing measurable.
pub(crate) fn progress_chunk(n: usize) -> usize {
    (n / 64).max(4096)
}

/// Runs the whole pipeline.
pub fn scan(inputs: &[PathBuf], cfg: &ScanConfig, obs: &dyn Observer) -> Result<ScanOutput> {
    cfg.validate()?;
    let mut clock = Clock::new();
    let step_clock = StepClock::new(obs);
    let obs: &dyn Observer = &step_clock;

    obs.stage_start(Stage::Read, "reading", None);
    // Texts are let go once shingled. The reworded view reads back the
    // documents it analyses, and alignment those of the pairs it aligns
    // (`texts_reread` counts them all).
    let Shingled {
        mut docs,
        mut sets,
        counts: records,
        texts,
        texts_cut,
        texts_spilled,
    } = read_and_shingle(inputs, cfg, obs)?;
    let mut holder = Holder {
        texts: &texts,
        cfg: &cfg.ingest,
        obs,
        reread: 0,
    };
    obs.stage_end(Stage::Read);
    clock.lap(Stage::Read);

    obs.stage_start(Stage::Boilerplate, "counting shingles by outlet", None);
    let outlets = outlet_indices(&docs);
    let boiler = boilerplate::detect(&sets, &outlets, &cfg.boilerplate);
    sets.check()?;
    obs.step("articles stripped", Some(docs.len() as u64));
    let mut global_stripped: Vec<bool> = Vec::with_capacity(docs.len());
    let chunk = progress_chunk(docs.len());
    sets.blocks_mut(chunk, |first, run| {
        let outlets = &outlets[first..first + run.len()];
        global_stripped.par_extend(
            run.par_iter_mut()
                .zip(outlets.par_iter())
                .map(|(s, &o)| boiler.strip(s, o)),
        );
        obs.advance(run.len() as u64, 0);
    })?;
    obs.stage_end(Stage::Boilerplate);
    clock.lap(Stage::Boilerplate);

    obs.stage_start(Stage::Sketch, "articles sketched", Some(docs.len() as u64));
    // Identical shingle sets: only the first of each takes part in pairing;
    // the copies get its relations afterwards. One pass finds them and
    // sketches (copies are sketched too, then dropped: they are few).
    let sketcher = Sketcher::new(cfg.sketch.num_perm, cfg.sketch.seed);
    let mut signatures: Vec<Option<Vec<u32>>> = Vec::with_capacity(docs.len());
    let mut set_keys: Vec<(u64, usize)> = Vec::with_capacity(docs.len());
    sets.blocks(chunk, |_, run| {
        set_keys.par_extend(run.par_iter().map(|s| set_key(s)));
        signatures.par_extend(
            run.par_iter()
                .map(|s| (!s.is_empty()).then(|| sketcher.sketch(s))),
        );
        obs.advance(run.len() as u64, 0);
    })?;
    let dup_of = identical_sets(set_keys, &sets);
    sets.check()?;
    for (sig, dup) in signatures.iter_mut().zip(&dup_of) {
        if dup.is_some() {
            *sig = None;
        }
    }
    obs.stage_end(Stage::Sketch);
    clock.lap(Stage::Sketch);

    obs.stage_start(Stage::Lsh, "banding signatures into candidate pairs", None);
    let banding = lsh::optimal_banding(
        cfg.lsh.threshold,
        cfg.sketch.num_perm,
        cfg.lsh.fp_weight,
        cfg.lsh.fn_weight,
    );
    let sig_refs: Vec<Option<&[u32]>> = signatures.iter().map(|s| s.as_deref()).collect();
    let (lsh_pairs, buckets, spill_runs) = lsh::candidates_within(
        &sig_refs,
        banding,
        &cfg.lsh,
        cfg.spill_share(),
        &cfg.spill_dir(),
        obs,
    )?;
    drop(sig_refs);
    drop(signatures);
    obs.stage_end(Stage::Lsh);
    clock.lap(Stage::Lsh);

    obs.stage_start(Stage::Passages, "indexing sampled shingles", None);
    let (passage_pairs, fp_stats) = passage_candidates(&sets, &dup_of, chunk, cfg, obs)?;
    let (candidates_lsh, candidates_passage) = (lsh_pairs.len() as u64, passage_pairs.len() as u64);
    let candidates = fingerprint::union(lsh_pairs, passage_pairs);
    obs.stage_end(Stage::Passages);
    clock.lap(Stage::Passages);

    obs.stage_start(
        Stage::Verify,
        "candidate pairs",
        Some(candidates.len() as u64),
    );
    let mut matches = Vec::new();
    for chunk in candidates.chunks(progress_chunk(candidates.len())) {
        matches.append(&mut verify::verify(chunk, &sets, &cfg.verify));
        obs.advance(chunk.len() as u64, 0);
    }
    sets.check()?;
    let identical_copies = with_copies(&mut matches, &dup_of, &sets, cfg.lsh.bucket_cap);
    debug_assert!(matches.is_sorted_by_key(|m| (m.a, m.b)));
    obs.stage_end(Stage::Verify);
    clock.lap(Stage::Verify);

    obs.stage_start(Stage::Reword, "placing articles in stories", None);
    let furniture = Furniture {
        table: &boiler,
        outlets: &outlets,
        global_stripped: &global_stripped,
    };
    let (reworded, reword_stats) = if cfg.reword.enabled {
        reworded_view(&mut docs, &mut holder, &sets, &furniture, &mut matches, cfg)?
    } else {
        (Vec::new(), reword::ViewStats::default())
    };
    obs.stage_end(Stage::Reword);
    clock.lap(Stage::Reword);

    obs.stage_start(Stage::Stories, "grouping matches into stories", None);
    let stories = stories_of(&docs, &sets, &matches);
    let story_of = story_index(docs.len(), &stories);
    // The last use of the shingle sets: they go before alignment.
    let member_relations = member_relations(docs.len(), &stories, &matches, &sets);
    sets.check()?;
    let too_short = (0..sets.doc_count())
        .filter(|&d| sets.set_len(d) == 0)
        .count() as u64;
    let sets_on_disk_bytes = sets.bytes_on_disk();
    drop(sets);
    obs.stage_end(Stage::Stories);
    clock.lap(Stage::Stories);

    let align_pairs = pairs_to_align(&matches, &stories, &story_of);
    let pairs_total = align_pairs.iter().map(|g| g.1.len() as u64).sum();
    obs.stage_start(Stage::Align, "choosing the texts to align", None);
    // Only the documents of the pairs to align keep (or get back) their
    // texts; the reports read them too.
    let mut aligned_docs = vec![false; docs.len()];
    if cfg.align.enabled {
        for (anchor, partners) in &align_pairs {
            aligned_docs[anchor.index()] = true;
            for p in partners {
                aligned_docs[p.index()] = true;
            }
        }
    }
    holder.hold(&mut docs, &aligned_docs)?;
    drop(aligned_docs);
    let align_cfg = AlignConfig {
        k: cfg.shingle.k,
        ..cfg.align.clone()
    };
    let passages = if cfg.align.enabled {
        obs.step("pairs aligned", Some(pairs_total));
        let aligned = align_all(&align_pairs, &docs, &furniture, &align_cfg, obs);
        with_reworded(aligned, reworded, align_cfg.max_hole as u32)
    } else {
        Vec::new()
    };
    obs.stage_end(Stage::Align);
    clock.lap(Stage::Align);

    let of_kind = |kind: align::PassageKind| {
        passages
            .iter()
            .flat_map(|p| &p.passages)
            .filter(|p| p.kind == kind)
            .count() as u64
    };
    let mut pairs_by_relation = BTreeMap::new();
    for r in Relation::ALL {
        pairs_by_relation.insert(
            r.as_str(),
            matches.iter().filter(|m| m.relation == r).count() as u64,
        );
    }
    let summary = Summary {
        records,
        too_short,
        boilerplate_shingles: boiler.len() as u64,
        texts_dropped: texts_cut
            + match &texts {
                Texts::Dropped { refs, .. } => refs.iter().filter(|r| r.is_some()).count() as u64,
                Texts::Kept => 0,
            },
        texts_spilled,
        texts_reread: holder.reread,
        identical_copies,
        lsh_bands: banding.bands,
        lsh_rows: banding.rows,
        buckets_expanded: buckets.expanded,
        capped_buckets: buckets.capped_sizes.len() as u64,
        capped_bucket_sizes: buckets.capped_sizes.iter().take(20).copied().collect(),
        candidates_lsh,
        spill_runs: spill_runs as u64,
        sets_on_disk_bytes,
        candidates_passage,
        capped_fingerprints: fp_stats.capped,
        candidates: candidates.len() as u64,
        verified_pairs: matches.len() as u64,
        pairs_by_relation,
        stories: stories.len() as u64,
        documents_in_stories: stories.iter().map(|s| s.members.len() as u64).sum(),
        largest_story: stories.first().map_or(0, |s| s.members.len() as u64),
        alignment: cfg.align.enabled,
        passage_text: cfg.align.enabled,
        aligned_pairs: passages.len() as u64,
        passages: passages.iter().map(|p| p.passages.len() as u64).sum(),
        verbatim_passages: of_kind(align::PassageKind::Verbatim),
        edited_passages: of_kind(align::PassageKind::Edited),
        reworded_passages: of_kind(align::PassageKind::Reworded),
        reworded_view: cfg.reword.enabled,
        reword: reword_stats,
        timings: clock.finish(step_clock.steps()),
    };
    Ok(ScanOutput {
        docs,
        member_relations,
        matches,
        stories,
        story_of,
        outlets,
        boilerplate: boiler,
        passages,
        summary,
        texts,
    })
}

/// [`report::member_relation`] for every member of every story.
fn member_relations(
    n: usize,
    stories: &[Story],
    matches: &[Match],
    sets: &Sets,
) -> Vec<(f64, &'static str)> {
    // Where each document's matches as `a` start (matches are sorted by
    // pair): each lookup searches one document's few matches, not all
    // millions (a binary search over them missed cache at every step).
    let mut starts = vec![0usize; n + 1];
    for m in matches {
        starts[m.a.index() + 1] += 1;
    }
    for d in 0..n {
        starts[d + 1] += starts[d];
    }
    let found: Vec<(DocId, (f64, &'static str))> = stories
        .par_iter()
        .flat_map_iter(|s| {
            s.members.iter().map(|&d| {
                let a = s.origin.min(d).index();
                let own = &matches[starts[a]..starts[a + 1]];
                (d, report::relation_to_origin(own, sets, s.origin, d))
            })
        })
        .collect();
    let mut out = vec![(0.0, ""); n];
    for (d, r) in found {
        out[d.index()] = r;
    }
    out
}

/// What [`identical_sets`] groups by: a hash of the set's hashes (their
/// bytes as they lie in memory, not copied) and its length.
fn set_key(set: &[ShingleHash]) -> (u64, usize) {
    (
        xxhash_rust::xxh3::xxh3_64(bytemuck::cast_slice(set)),
        set.len(),
    )
}

/// For each document whose boilerplate-free shingle set equals an earlier
/// document's, that document (the first of its group); `None` otherwise.
/// Empty sets are never grouped. `keys` are the sets' [`set_key`]s.
fn identical_sets(keys: Vec<(u64, usize)>, sets: &impl SetSource) -> Vec<Option<DocId>> {
    let n = keys.len();
    let mut keyed: Vec<(u64, usize, u32)> = keys
        .into_iter()
        .enumerate()
        .filter(|(_, (_, len))| *len > 0)
        .map(|(d, (h, len))| (h, len, d as u32))
        .collect();
    keyed.par_sort_unstable();
    let mut dup_of = vec![None; n];
    for run in keyed.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        if run.len() < 2 {
            continue;
        }
        let first = run[0].2;
        let first_set = sets.set(first as usize);
        for x in &run[1..] {
            if sets.set(x.2 as usize) == first_set {
                dup_of[x.2 as usize] = Some(DocId(first));
            }
        }
    }
    dup_of
}

/// Candidate pairs from the passage index ([`fingerprint::candidates`]),
/// which copies stay out of. One pass over the sets (in memory or in a
/// file) gathers the sampled shingles ([`fingerprint::Prints`]), since the
/// index reads only those.
fn passage_candidates(
    sets: &Sets,
    dup_of: &[Option<DocId>],
    chunk: usize,
    cfg: &ScanConfig,
    obs: &dyn Observer,
) -> Result<(Vec<CandidatePair>, fingerprint::FingerprintStats)> {
    obs.step("gathering sampled shingles", Some(dup_of.len() as u64));
    let sample = cfg.fingerprint.sample;
    let mut prints = fingerprint::Prints::default();
    sets.blocks(chunk, |first, run| {
        prints.push_run(run, sample, |i| dup_of[first + i].is_none());
        obs.advance(run.len() as u64, 0);
    })?;
    Ok(fingerprint::candidates_of_prints(
        prints,
        &cfg.fingerprint,
        obs,
    ))
}

/// Gives copies (see [`identical_sets`]) the relations of their first:
/// in a group of at most `cap` documents every copy gets each of the
/// first's matches and a `rerun` match with every other member; a larger
/// group is chained (each member a rerun of the next), so a text repeated
/// 100,000 times costs linear time and still forms one story. Returns the
/// number of copies.
fn with_copies(matches: &mut Vec<Match>, dup_of: &[Option<DocId>], sets: &Sets, cap: usize) -> u64 {
    let mut groups: BTreeMap<DocId, Vec<DocId>> = BTreeMap::new();
    for (d, r) in dup_of.iter().enumerate() {
        if let Some(r) = r {
            groups
                .entry(*r)
                .or_insert_with(|| vec![*r])
                .push(DocId(d as u32));
        }
    }
    let copies = dup_of.iter().filter(|r| r.is_some()).count() as u64;
    if copies == 0 {
        return 0;
    }
    let identical = |a: DocId, b: DocId, shared: u32| Match {
        a: a.min(b),
        b: a.max(b),
        shared,
        jaccard: 1.0,
        a_in_b: 1.0,
        b_in_a: 1.0,
        relation: Relation::Rerun,
        reworded: 0.0,
    };
    // The matches of each group's first document (only those are copied).
    let mut by_doc: AHashMap<DocId, Vec<usize>> = groups.keys().map(|&f| (f, Vec::new())).collect();
    for (i, m) in matches.iter().enumerate() {
        for d in [m.a, m.b] {
            if let Some(list) = by_doc.get_mut(&d) {
                list.push(i);
            }
        }
    }
    let mut added = Vec::new();
    for (first, members) in &groups {
        let shared = sets.set_len(first.index()) as u32;
        if members.len() > cap {
            for w in members.windows(2) {
                added.push(identical(w[0], w[1], shared));
            }
            continue;
        }
        for (i, &x) in members.iter().enumerate() {
            for &y in &members[i + 1..] {
                added.push(identical(x, y, shared));
            }
        }
        for &i in by_doc.get(first).into_iter().flatten() {
            let m = matches[i];
            let (other, mine, theirs) = if m.a == *first {
                (m.b, m.a_in_b, m.b_in_a)
            } else {
                (m.a, m.b_in_a, m.a_in_b)
            };
            for &d in &members[1..] {
                let (a, b, a_in_b, b_in_a) = if d < other {
                    (d, other, mine, theirs)
                } else {
                    (other, d, theirs, mine)
                };
                added.push(Match {
                    a,
                    b,
                    a_in_b,
                    b_in_a,
                    ..m
                });
            }
        }
    }
    merge_sorted(matches, added);
    copies
}

/// Merges `added` into `matches` (sorted by pair, as verification keeps
/// candidate order), from the back: the millions already in order are not
/// sorted again (0.8 s at 1M articles).
fn merge_sorted(matches: &mut Vec<Match>, mut added: Vec<Match>) {
    let key = |m: &Match| (m.a, m.b);
    added.sort_unstable_by_key(key);
    let (mut i, mut j) = (matches.len(), added.len());
    matches.extend_from_slice(&added);
    for k in (0..matches.len()).rev() {
        if j == 0 {
            break;
        }
        if i > 0 && key(&matches[i - 1]) > key(&added[j - 1]) {
            matches[k] = matches[i - 1];
            i -= 1;
        } else {
            matches[k] = added[j - 1];
            j -= 1;
        }
    }
}

/// Runs the reworded view and folds what it found into `matches` (kept
/// sorted by pair): existing pairs get their reworded score and, when a
/// `partial` pair is mostly reworded, the relation `reworded`; pairs only
/// this view found are added with their exact shingle scores.
///
/// Texts are read back as the view needs them: first every document that
/// is not a copy in a story, then, for its third phase, the members of the
/// stories with a reworded version (the others are let go again).
fn reworded_view(
    docs: &mut [Document],
    holder: &mut Holder<'_>,
    sets: &Sets,
    furniture: &Furniture<'_>,
    matches: &mut Vec<Match>,
    cfg: &ScanConfig,
) -> Result<(Vec<reword::RewordedPair>, reword::ViewStats)> {
    let find =
        |m: &[Match], a: DocId, b: DocId| m.binary_search_by_key(&(a, b), |x| (x.a, x.b)).ok();
    let verbatim_stories = stories_of(docs, sets, matches);
    let mut place: Vec<reword::Placement> = vec![None; docs.len()];
    for s in &verbatim_stories {
        for &d in &s.members {
            place[d.index()] = Some(s.origin);
        }
    }
    let furniture = |d: usize| furniture.of(DocId(d as u32), cfg.shingle.k);
    let firsts = reword::analysed_docs(&place);
    holder.hold(docs, &firsts)?;
    drop(firsts);
    let obs = holder.obs;
    let mut view = {
        let t: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        reword::find_pairs(&t, &furniture, &place, &cfg.reword, obs)
    };
    let versions = view.versions(&place, &cfg.reword);
    let third = reword::version_docs(&place, &versions);
    holder.hold(docs, &third)?;
    {
        let t: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        view.align_versions(&t, &furniture, &place, &versions, &cfg.reword, obs);
    }
    obs.step("folding the view's pairs into the matches", None);
    let (found, stats) = view.finish();
    let mut added = Vec::new();
    for rp in &found {
        let Some(relation) = reword::relation(&rp.result, &cfg.reword) else {
            continue;
        };
        match find(matches, rp.a, rp.b) {
            Some(i) => {
                let m = &mut matches[i];
                m.reworded = rp.result.score;
                if m.relation == Relation::Partial {
                    m.relation = relation;
                }
            }
            None => added.push(Match {
                reworded: rp.result.score,
                ..verify::measure(
                    rp.a,
                    rp.b,
                    &sets.set(rp.a.index()),
                    &sets.set(rp.b.index()),
                    relation,
                )
            }),
        }
    }
    merge_sorted(matches, added);
    Ok((found, stats))
}

/// Adds the reworded view's passages to the word-aligned ones, pair by pair,
/// and joins each pair's passages across holes ([`align::bridge`]).
fn with_reworded(
    aligned: Vec<PairPassages>,
    reworded: Vec<reword::RewordedPair>,
    max_hole: u32,
) -> Vec<PairPassages> {
    let mut by_pair: BTreeMap<(DocId, DocId), Vec<align::Passage>> = aligned
        .into_iter()
        .map(|p| ((p.a, p.b), p.passages))
        .collect();
    for rp in reworded {
        let e = by_pair.entry((rp.a, rp.b)).or_default();
        *e = reword::merge_passages(std::mem::take(e), &rp.result.passages);
    }
    by_pair
        .into_iter()
        .map(|((a, b), passages)| PairPassages {
            a,
            b,
            passages: align::bridge(passages, max_hole),
        })
        .collect()
}

/// Pairs to align: each story member against the story's origin, and every
/// `partial` pair. A 50-outlet story costs 49 alignments, not 1,225.
/// Grouped by the document prepared once: `(anchor, partners)`.
///
/// Each story's group is followed by the `partial` groups anchored in that
/// story (then those anchored outside any story): partial pairs mostly join
/// the members of two related stories, so in this order the same documents
/// come back soon and `align_all`'s small cache of prepared texts catches
/// them. The order changes no result; the passages are sorted afterwards.
///
/// `story_of[d]` is the index in `stories` of the story holding document
/// `d` ([`ScanOutput::story_of`]).
pub fn pairs_to_align(
    matches: &[Match],
    stories: &[Story],
    story_of: &[Option<u32>],
) -> Vec<(DocId, Vec<DocId>)> {
    let mut partial: Vec<(DocId, DocId)> = matches
        .iter()
        .filter(|m| m.relation == Relation::Partial)
        .map(|m| (m.a, m.b))
        .collect();
    partial.sort_unstable();
    // Partial groups by the story of their anchor (`stories.len()`: none).
    let mut by_story: Vec<Vec<(DocId, Vec<DocId>)>> = vec![Vec::new(); stories.len() + 1];
    for chunk in partial.chunk_by(|x, y| x.0 == y.0) {
        let anchor = chunk[0].0;
        let slot = story_of[anchor.index()].map_or(stories.len(), |s| s as usize);
        by_story[slot].push((anchor, chunk.iter().map(|p| p.1).collect()));
    }
    let mut groups =
        Vec::with_capacity(stories.len() + by_story.iter().map(Vec::len).sum::<usize>());
    for (s, partials) in stories.iter().zip(&mut by_story) {
        let others = s.members.iter().copied().filter(|&d| d != s.origin);
        groups.push((s.origin, others.collect()));
        groups.append(partials);
    }
    groups.append(&mut by_story[stories.len()]);
    groups
}

/// The last documents prepared for alignment, for reuse: at most `cap`,
/// the least recently used dropped first. Holds texts of one sequential
/// run of groups (one rayon task), so it needs no locking.
struct PreparedCache<'t> {
    map: AHashMap<DocId, (u64, Rc<align::Prepared<'t>>)>,
    clock: u64,
    cap: usize,
}

impl<'t> PreparedCache<'t> {
    fn new(cap: usize) -> Self {
        PreparedCache {
            map: AHashMap::with_capacity(cap + 1),
            clock: 0,
            cap,
        }
    }

    fn get(&mut self, d: DocId, docs: &'t [Document], k: usize) -> Rc<align::Prepared<'t>> {
        self.clock += 1;
        if let Some((used, p)) = self.map.get_mut(&d) {
            *used = self.clock;
            return Rc::clone(p);
        }
        if self.map.len() >= self.cap {
            let oldest = self
                .map
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(&d, _)| d)
                .expect("a full cache is not empty");
            self.map.remove(&oldest);
        }
        let p = Rc::new(align::Prepared::new(&docs[d.index()].text, k));
        self.map.insert(d, (self.clock, Rc::clone(&p)));
        p
    }
}

/// Prepared texts each alignment task keeps (about 20 KB each).
const PREPARED_CACHE: usize = 256;

/// What the boilerplate stage took out of each document's shingle set:
/// the table, the document's outlet and whether global boilerplate went
/// (see [`boilerplate::Boilerplate::strip`]). The reworded view and
/// alignment skip the same furniture.
struct Furniture<'a> {
    table: &'a boilerplate::Boilerplate,
    outlets: &'a [boilerplate::OutletIndex],
    global_stripped: &'a [bool],
}

impl Furniture<'_> {
    /// Document `d`'s share of it, for `k`-shingles.
    fn of(&self, d: DocId, k: usize) -> reword::BoilerContext<'_> {
        reword::BoilerContext {
            table: self.table,
            outlet: self.outlets[d.index()],
            global: self.global_stripped[d.index()],
            k,
        }
    }
}

fn align_all(
    groups: &[(DocId, Vec<DocId>)],
    docs: &[Document],
    furniture: &Furniture<'_>,
    cfg: &AlignConfig,
    obs: &dyn Observer,
) -> Vec<PairPassages> {
    // Contiguous runs of groups, a few per thread, each with its own cache
    // (runs of about equal pair counts, so the threads finish together).
    let total: usize = groups.iter().map(|g| g.1.len() + 1).sum();
    let per_run = total.div_ceil(rayon::current_num_threads() * 8).max(1);
    let mut runs: Vec<&[(DocId, Vec<DocId>)]> = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, g) in groups.iter().enumerate() {
        size += g.1.len() + 1;
        if size >= per_run {
            runs.push(&groups[start..=i]);
            (start, size) = (i + 1, 0);
        }
    }
    runs.push(&groups[start..]);
    let mut out: Vec<PairPassages> = runs
        .par_iter()
        .flat_map_iter(|run| {
            let mut cache = PreparedCache::new(PREPARED_CACHE);
            let mut result: Vec<PairPassages> = Vec::new();
            for (anchor, partners) in run.iter() {
                let prepared = cache.get(*anchor, docs, cfg.k);
                for &p in partners {
                    let other = cache.get(p, docs, cfg.k);
                    // Boilerplate as each side's shingle set saw it: a text
                    // rerun so widely that it is "global" keeps it.
                    let (fa, fp) = (furniture.of(*anchor, cfg.k), furniture.of(p, cfg.k));
                    let skip = |h| fa.contains(h) || fp.contains(h);
                    // Side A is always the smaller DocId.
                    let passages = if *anchor < p {
                        align::align(&prepared, &other, cfg, &skip)
                    } else {
                        align::align(&other, &prepared, cfg, &skip)
                    };
                    result.push(PairPassages {
                        a: (*anchor).min(p),
                        b: (*anchor).max(p),
                        passages,
                    });
                }
                obs.advance(partners.len() as u64, 0);
            }
            result
        })
        .collect();
    out.sort_unstable_by_key(|p| (p.a, p.b));
    out.dedup_by_key(|p| (p.a, p.b));
    out
}

/// The index in `stories` of each of `n` documents' story, if it has one.
fn story_index(n: usize, stories: &[Story]) -> Vec<Option<u32>> {
    let mut story_of = vec![None; n];
    for (i, s) in stories.iter().enumerate() {
        for d in &s.members {
            story_of[d.index()] = Some(i as u32);
        }
    }
    story_of
}

/// Stories of these matches, origins ranked by [`origin_rank`].
fn stories_of(docs: &[Document], sets: &Sets, matches: &[Match]) -> Vec<Story> {
    cluster::stories(
        docs.len(),
        matches,
        |d| origin_rank(&docs[d.index()], sets.set_len(d.index())),
        |d| docs[d.index()].id.clone(),
    )
}

/// Origin preference: dated before undated, earlier first, then the larger
/// (more complete) shingle set. Ties fall to the id (see [`cluster::stories`]).
fn origin_rank(doc: &Document, set_len: usize) -> (bool, i64, std::cmp::Reverse<usize>) {
    (
        doc.date.is_none(),
        doc.date.as_ref().map_or(0, |d| d.epoch_seconds),
        std::cmp::Reverse(set_len),
    )
}

/// Dense outlet numbers, assigned in sorted name order.
fn outlet_indices(docs: &[Document]) -> Vec<boilerplate::OutletIndex> {
    // Few outlets, many documents: number the distinct names, then sort only those.
    let mut seen: AHashMap<&str, u32> = AHashMap::new();
    let first: Vec<Option<u32>> = docs
        .iter()
        .map(|d| {
            let o = d.outlet.as_deref()?;
            let next = seen.len() as u32;
            Some(*seen.entry(o).or_insert(next))
        })
        .collect();
    let mut names: Vec<(&str, u32)> = seen.into_iter().collect();
    names.sort_unstable();
    let mut sorted_index = vec![0u32; names.len()];
    for (i, &(_, n)) in names.iter().enumerate() {
        sorted_index[n as usize] = i as u32;
    }
    first
        .into_iter()
        .map(|n| n.map(|n| sorted_index[n as usize]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Any sorted matches and any added ones (unsorted, their pairs
        // apart from the sorted ones') merge into the full sorted list.
        #[test]
        fn added_matches_merge_in_order(
            pairs in proptest::collection::btree_set((0u32..60, 0u32..60), 0..80),
            take in proptest::collection::vec(any::<bool>(), 80),
            shuffle in any::<u64>(),
        ) {
            let m = |&(a, b): &(u32, u32)| Match {
                a: DocId(a),
                b: DocId(b),
                shared: a + b,
                jaccard: 0.5,
                a_in_b: 0.5,
                b_in_a: 0.5,
                relation: Relation::Partial,
                reworded: 0.0,
            };
            let all: Vec<Match> = pairs.iter().map(m).collect();
            let (mut added, mut matches) = (Vec::new(), Vec::new());
            for (x, &t) in all.iter().zip(&take) {
                if t { added.push(*x) } else { matches.push(*x) }
            }
            added.sort_by_key(|x| (x.shared as u64 ^ shuffle).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            merge_sorted(&mut matches, added);
            let merged = matches;
            let key = |x: &Match| (x.a, x.b, x.shared);
            prop_assert_eq!(merged.iter().map(key).collect::<Vec<_>>(), all.iter().map(key).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_cut_text_keeps_the_words_that_title_it() {
        let words: Vec<String> = (0..20).map(|i| format!("w\u{e9}{i}")).collect();
        let mut doc = Document {
            text: format!("  {}\n\n", words.join(" \t")),
            ..Document::default()
        };
        let title = doc.display_title(TITLE_WORDS);
        cut_text(&mut doc);
        assert_eq!(doc.text, format!("  {}", words[..TITLE_WORDS].join(" \t")));
        assert_eq!(doc.display_title(TITLE_WORDS), title);
        let mut short = Document {
            text: "two words".into(),
            ..Document::default()
        };
        cut_text(&mut short);
        assert_eq!(short.text, "two words");
        // A headline titles the story: nothing of the text is kept.
        let mut titled = Document {
            text: "some words".into(),
            title: Some("Headline".into()),
            ..Document::default()
        };
        cut_text(&mut titled);
        assert_eq!(titled.text, "");
    }

    fn partial(a: u32, b: u32) -> Match {
        Match {
            a: DocId(a),
            b: DocId(b),
            shared: 1,
            jaccard: 0.1,
            a_in_b: 0.1,
            b_in_a: 0.1,
            relation: Relation::Partial,
            reworded: 0.0,
        }
    }

    fn story(origin: u32, members: &[u32]) -> Story {
        Story {
            id: format!("S{origin}"),
            origin: DocId(origin),
            members: members.iter().map(|&d| DocId(d)).collect(),
        }
    }

    #[test]
    fn pairs_to_align_covers_each_pair_once_with_partials_after_their_story() {
        let stories = [story(0, &[0, 1, 2]), story(5, &[5, 6])];
        // 6-9 and 1-6 join the two stories; 3-4 is outside both.
        let matches = [partial(6, 9), partial(3, 4), partial(1, 6), partial(1, 5)];
        let groups = pairs_to_align(&matches, &stories, &story_index(10, &stories));
        let d = DocId;
        assert_eq!(
            groups,
            vec![
                (d(0), vec![d(1), d(2)]),
                (d(1), vec![d(5), d(6)]),
                (d(5), vec![d(6)]),
                (d(6), vec![d(9)]),
                (d(3), vec![d(4)]),
            ]
        );
    }

    #[test]
    fn prepared_cache_reuses_and_drops_the_least_recently_used() {
        let docs: Vec<Document> = (0..3)
            .map(|i| Document {
                id: format!("d{i}"),
                text: format!("text number {i} of three"),
                title: None,
                outlet: None,
                date: None,
                url: None,
            })
            .collect();
        let mut cache = PreparedCache::new(2);
        let first = cache.get(DocId(0), &docs, 2);
        assert!(Rc::ptr_eq(&first, &cache.get(DocId(0), &docs, 2)));
        assert_eq!(first.text, docs[0].text);
        cache.get(DocId(1), &docs, 2);
        cache.get(DocId(0), &docs, 2);
        // Full: 1 is the least recently used and goes.
        cache.get(DocId(2), &docs, 2);
        assert!(cache.map.contains_key(&DocId(0)));
        assert!(!cache.map.contains_key(&DocId(1)));
        assert!(Rc::ptr_eq(&first, &cache.get(DocId(0), &docs, 2)));
    }
}

#[cfg(test)]
mod memory_estimate_tests {
    use super::*;

    /// 10,000 bytes of plain input.
    const TEN_KB: InputSize = InputSize {
        plain: 10_000,
        compressed: 0,
    };

    #[test]
    fn input_sizes_are_read_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let source = |name: &str, bytes: usize| {
            let path = dir.path().join(name);
            std::fs::write(&path, vec![b'x'; bytes]).unwrap();
            ingest::Source {
                path,
                format: crate::config::Format::Jsonl,
                text_id: None,
            }
        };
        let sources = [source("a.jsonl", 10_000), source("b.jsonl.gz", 100)];
        let size = InputSize::of(&sources).unwrap();
        assert_eq!(
            size,
            InputSize {
                plain: 10_000,
                compressed: 100
            }
        );
        assert_eq!(size.uncompressed(), 10_300);
        let gone = ingest::Source {
            path: dir.path().join("missing.jsonl"),
            ..sources[0].clone()
        };
        assert_eq!(InputSize::of(&[gone]), None);
    }

    #[test]
    fn the_estimate_follows_the_mode_and_the_warning_the_machine() {
        let mut cfg = ScanConfig::default();
        // With passages and the view: 2.1 bytes per byte; compressed bytes
        // count three times.
        let input = |plain, compressed| InputSize { plain, compressed };
        assert_eq!(expected_peak_bytes(input(1000, 0), &cfg), Some(2100));
        assert_eq!(expected_peak_bytes(input(1000, 100), &cfg), Some(2730));
        cfg.align.enabled = false;
        cfg.reword.enabled = false;
        assert_eq!(expected_peak_bytes(input(1000, 0), &cfg), Some(1000));
        // The verbatim pipeline under a limit does not grow by the byte.
        cfg.memory_limit = Some(1 << 30);
        assert_eq!(expected_peak_bytes(input(1000, 0), &cfg), None);

        let default = ScanConfig::default();
        // 21 kB needed: a machine of 20 kB is warned, one of 30 kB is not,
        // nor one whose memory is unknown.
        let warning = memory_warning(TEN_KB, &default, Some(20_000)).expect("too small");
        assert!(
            warning.contains("--no-passages --no-reworded --no-html"),
            "{warning}"
        );
        assert_eq!(memory_warning(TEN_KB, &default, Some(30_000)), None);
        assert_eq!(memory_warning(TEN_KB, &default, None), None);
        assert_eq!(memory_warning(TEN_KB, &cfg, Some(1)), None, "bounded");
        // A limit the mode does not honour is named, whatever the machine.
        let unbounded = ScanConfig {
            memory_limit: Some(15_000),
            ..ScanConfig::default()
        };
        let warning = memory_warning(TEN_KB, &unbounded, Some(1 << 40)).expect("over the limit");
        assert!(warning.contains("--memory-limit's"), "{warning}");
        assert!(
            warning.contains("bounds only the verbatim pipeline"),
            "{warning}"
        );
        assert!(!warning.contains("machine"), "{warning}");
        let warning = memory_warning(TEN_KB, &unbounded, Some(20_000)).expect("over both");
        assert!(warning.contains("and this machine's"), "{warning}");
        let roomy = ScanConfig {
            memory_limit: Some(30_000),
            ..ScanConfig::default()
        };
        assert_eq!(memory_warning(TEN_KB, &roomy, Some(1 << 40)), None);
        assert_eq!(memory_warning(TEN_KB, &roomy, None), None);
    }

    #[test]
    fn a_spill_the_disk_cannot_hold_is_warned_of() {
        let bounded = ScanConfig {
            memory_limit: Some(4_000),
            spill_dir: Some("/tmp/spill-here".into()),
            ..ScanConfig::default()
        };
        // 6 kB of sets for 10 kB of input.
        let warning = disk_warning(TEN_KB, &bounded, Some(5_000)).expect("too little disk");
        assert!(
            warning.contains("6 kB") && warning.contains("5 kB free"),
            "{warning}"
        );
        assert!(warning.contains("in /tmp/spill-here,"), "{warning}");
        assert_eq!(disk_warning(TEN_KB, &bounded, Some(7_000)), None);
        assert_eq!(disk_warning(TEN_KB, &bounded, None), None);
        // Without a limit nothing is spilled, nor when the sets fit in a
        // quarter of it.
        assert_eq!(disk_warning(TEN_KB, &ScanConfig::default(), Some(0)), None);
        let roomy = ScanConfig {
            memory_limit: Some(1 << 30),
            ..bounded.clone()
        };
        assert_eq!(disk_warning(TEN_KB, &roomy, Some(0)), None);
    }
}

#[cfg(test)]
mod rss_tests {
    use super::rss;

    #[test]
    fn stage_peaks_leave_the_process_peak_alone() {
        if rss::process_peak_mib() == 0.0 {
            eprintln!("note: no /proc/self/status here; resident memory is not measured");
            return;
        }
        // Touch 64 MiB, note the peak, let it go.
        let block = vec![1u8; 64 << 20];
        std::hint::black_box(&block);
        let with_block = rss::process_peak_mib();
        drop(block);
        // Two stage ends: each starts a new stage peak.
        rss::take_stage_peak_mib();
        let stage = rss::take_stage_peak_mib();
        // The process's peak still counts the block (a reset of the
        // kernel's high-water mark would have dropped it). The kernel's
        // counters are per-CPU and approximate, so allow a few MiB.
        let after = rss::process_peak_mib();
        assert!(
            after >= with_block - 8.0,
            "peak {with_block} MiB with the block, {after} MiB after"
        );
        // ...and the new stage's own peak is no larger than the process's.
        assert!(
            stage <= after + 1.0,
            "stage peak {stage} MiB, process peak {after} MiB"
        );
    }
}
