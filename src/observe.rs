//! Progress notices from the pipeline: stages, the steps inside them, units
//! done and skipped records. The binary draws them as progress bars; a
//! library caller may ignore them ([`Silent`]) or record them.
//!
//! Every call may come from any rayon thread. A stage's units are the ones
//! its current step counts (articles, candidate pairs, texts read back):
//! `advance` adds to that step, and a new step starts again from zero.

use crate::ingest::BadRecord;

/// A pipeline stage, for progress reporting and timings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Reading, tokenising and shingling.
    Read,
    /// Finding boilerplate shingles.
    Boilerplate,
    /// Building MinHash signatures.
    Sketch,
    /// Banding signatures into candidate pairs.
    Lsh,
    /// Shared-passage candidates from sampled fingerprints.
    Passages,
    /// Scoring candidates.
    Verify,
    /// The reword-tolerant sentence view.
    Reword,
    /// Grouping matches into stories.
    Stories,
    /// Aligning shared passages.
    Align,
    /// Writing the reports (the binary's last stage).
    Reports,
}

impl Stage {
    /// Name used in summaries and progress bars.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Boilerplate => "boilerplate",
            Stage::Sketch => "sketch",
            Stage::Lsh => "lsh",
            Stage::Passages => "passages",
            Stage::Verify => "verify",
            Stage::Reword => "reword",
            Stage::Stories => "stories",
            Stage::Align => "align",
            Stage::Reports => "reports",
        }
    }
}

/// Receives progress and bad-record notices. All methods default to nothing.
pub trait Observer: Sync {
    /// A record was skipped.
    fn bad_record(&self, _bad: &BadRecord) {}
    /// A stage starts with its first step: `what` it counts or does, over
    /// `total` units when known.
    fn stage_start(&self, _stage: Stage, _what: &str, _total: Option<u64>) {}
    /// The current stage starts another step (its units count from zero).
    fn step(&self, _what: &str, _total: Option<u64>) {}
    /// The input's size in bytes, when every input is a plain file (sent
    /// before reading starts, for an estimate of the time left).
    fn input_bytes(&self, _bytes: u64) {}
    /// Units of the current step, and input bytes, done since the last call.
    fn advance(&self, _units: u64, _bytes: u64) {}
    /// The current stage is done.
    fn stage_end(&self, _stage: Stage) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}
