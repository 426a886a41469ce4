//! Plain configuration structs, one per stage, each with `Default` and
//! `validate()`. The CLI turns flags into a [`ScanConfig`]; each stage takes
//! only its own sub-config. Validation errors name the flag.

use crate::error::{Error, Result};

/// Which input key holds each field (`--field text=body`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldMap {
    /// Key of the article id. Default `id`.
    pub id: String,
    /// Key of the article text. Default `text`.
    pub text: String,
    /// Key of the headline. Default `title`.
    pub title: String,
    /// Key of the outlet. Default `outlet`.
    pub outlet: String,
    /// Key of the publication date. Default `date`.
    pub date: String,
    /// Key of the URL. Default `url`.
    pub url: String,
}

impl Default for FieldMap {
    fn default() -> Self {
        FieldMap {
            id: "id".into(),
            text: "text".into(),
            title: "title".into(),
            outlet: "outlet".into(),
            date: "date".into(),
            url: "url".into(),
        }
    }
}

impl FieldMap {
    /// Applies one `field=key` mapping, e.g. `text=body`.
    pub fn set(&mut self, mapping: &str) -> Result<()> {
        let (field, key) = mapping
            .split_once('=')
            .ok_or_else(|| Error::config("--field", format!("'{mapping}' is not FIELD=KEY")))?;
        if key.is_empty() {
            return Err(Error::config(
                "--field",
                format!("'{mapping}' has an empty key"),
            ));
        }
        let slot = match field {
            "id" => &mut self.id,
            "text" => &mut self.text,
            "title" => &mut self.title,
            "outlet" => &mut self.outlet,
            "date" => &mut self.date,
            "url" => &mut self.url,
            other => {
                return Err(Error::config(
                    "--field",
                    format!("unknown field '{other}' (one of id, text, title, outlet, date, url)"),
                ));
            }
        };
        *slot = key.to_string();
        Ok(())
    }
}

/// Input format, normally chosen by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One article per file.
    Text,
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
    /// Reuters-21578 SGML (`<REUTERS>` records).
    ReutersSgml,
}

/// How to read inputs.
#[derive(Clone, Debug, Default)]
pub struct IngestConfig {
    /// Key names.
    pub fields: FieldMap,
    /// Force one format for every file argument instead of guessing by extension.
    pub format: Option<Format>,
    /// Stop at the first bad record instead of skipping it.
    pub strict: bool,
}

/// How text becomes shingles.
#[derive(Clone, Debug)]
pub struct ShingleConfig {
    /// Words per shingle (`--shingle`). Default 5.
    pub k: usize,
}

impl Default for ShingleConfig {
    fn default() -> Self {
        ShingleConfig { k: 5 }
    }
}

impl ShingleConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if !(1..=16).contains(&self.k) {
            return Err(Error::config("--shingle", "must be between 1 and 16 words"));
        }
        Ok(())
    }
}

/// How shingle sets become MinHash signatures.
#[derive(Clone, Debug)]
pub struct SketchConfig {
    /// Slots per signature (`--permutations`). Default 128.
    pub num_perm: usize,
    /// Seed of the hash functions (`--seed`). Default 42.
    pub seed: u64,
}

impl Default for SketchConfig {
    fn default() -> Self {
        SketchConfig {
            num_perm: 128,
            seed: 42,
        }
    }
}

impl SketchConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if !(8..=1024).contains(&self.num_perm) {
            return Err(Error::config(
                "--permutations",
                "must be between 8 and 1024",
            ));
        }
        Ok(())
    }
}

/// How signatures become candidate pairs.
#[derive(Clone, Debug)]
pub struct LshConfig {
    /// Jaccard threshold the bands are tuned for (`--threshold`). Default 0.3:
    /// low, because truncated and padded reruns have low document Jaccard;
    /// verification decides what is related.
    pub threshold: f64,
    /// Weight of false positives in the band optimisation. Default 0.5.
    pub fp_weight: f64,
    /// Weight of false negatives in the band optimisation. Default 0.5.
    pub fn_weight: f64,
    /// Buckets with more documents than this are not expanded into all
    /// their pairs; each document is paired with its neighbour instead
    /// (`--bucket-cap`). Default 200.
    pub bucket_cap: usize,
}

impl Default for LshConfig {
    fn default() -> Self {
        LshConfig {
            threshold: 0.3,
            fp_weight: 0.5,
            fn_weight: 0.5,
            bucket_cap: 200,
        }
    }
}

impl LshConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(Error::config(
                "--threshold",
                "must be strictly between 0 and 1",
            ));
        }
        if self.fp_weight < 0.0 || self.fn_weight < 0.0 || self.fp_weight + self.fn_weight <= 0.0 {
            return Err(Error::config(
                "--threshold",
                "weights must be non-negative and not both 0",
            ));
        }
        if self.bucket_cap < 2 {
            return Err(Error::config("--bucket-cap", "must be at least 2"));
        }
        Ok(())
    }
}

/// Which shingles count as boilerplate and are left out of every set.
#[derive(Clone, Debug)]
pub struct BoilerplateConfig {
    /// A shingle in more documents than this is boilerplate (`--max-df`).
    /// 0 means automatic: `max(100, documents / 200)`.
    pub max_df: usize,
    /// A shingle in at least this many of the sampled documents of one
    /// outlet is that outlet's boilerplate (`--outlet-df`). Default 5; 0
    /// turns it off.
    pub outlet_df: usize,
    /// Documents sampled per outlet for the outlet rule. Default 64.
    pub outlet_sample: usize,
    /// Documents sampled for the global rule (exact below this). Default 20,000.
    pub global_sample: usize,
}

impl Default for BoilerplateConfig {
    fn default() -> Self {
        BoilerplateConfig {
            max_df: 0,
            outlet_df: 5,
            outlet_sample: 64,
            global_sample: 20_000,
        }
    }
}

impl BoilerplateConfig {
    /// The document-frequency cap for a corpus of `docs` documents.
    ///
    /// ```
    /// use wiretrace::config::BoilerplateConfig;
    /// let auto = BoilerplateConfig::default();
    /// assert_eq!(auto.effective_max_df(5), 100);
    /// assert_eq!(auto.effective_max_df(1_000_000), 5_000);
    /// let fixed = BoilerplateConfig { max_df: 30, ..auto };
    /// assert_eq!(fixed.effective_max_df(1_000_000), 30);
    /// ```
    pub fn effective_max_df(&self, docs: usize) -> usize {
        if self.max_df > 0 {
            self.max_df
        } else {
            (docs / 200).max(100)
        }
    }
}

/// Settings of the passage index.
#[derive(Clone, Debug)]
pub struct FingerprintConfig {
    /// Keep one shingle in `sample` (by hash). Default 8. 0 turns the index off.
    pub sample: u64,
    /// Fewest shared fingerprints for a candidate. Default 2.
    pub min_shared: u32,
    /// Fingerprints in more documents than this are not expanded. Default 100.
    pub max_df: usize,
}

impl FingerprintConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if self.sample > 0 && self.min_shared == 0 {
            return Err(Error::config("--passage-min", "must be at least 1"));
        }
        if self.max_df < 2 {
            return Err(Error::config("--passage-max-df", "must be at least 2"));
        }
        Ok(())
    }
}

impl Default for FingerprintConfig {
    fn default() -> Self {
        FingerprintConfig {
            sample: 8,
            min_shared: 2,
            max_df: 100,
        }
    }
}

/// Alignment settings.
#[derive(Clone, Debug)]
pub struct AlignConfig {
    /// Whether `scan` aligns passages at all (`--no-passages` turns it off).
    pub enabled: bool,
    /// Words per seed shingle (the scan's shingle size).
    pub k: usize,
    /// Shortest passage kept, in words on the shorter side. Default 15.
    pub min_tokens: usize,
    /// Longest gap bridged inside one passage, in words. Default 40.
    pub max_gap: usize,
    /// Longest hole between two passages that [`crate::align::bridge`]
    /// joins, in words in each text (0: none). Default 100.
    pub max_hole: usize,
}

impl AlignConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if self.min_tokens == 0 {
            return Err(Error::config("--min-passage", "must be at least 1 word"));
        }
        Ok(())
    }
}

impl Default for AlignConfig {
    fn default() -> Self {
        AlignConfig {
            enabled: true,
            k: 5,
            min_tokens: 15,
            max_gap: 40,
            max_hole: 100,
        }
    }
}

/// How candidate pairs are scored and labelled.
#[derive(Clone, Debug)]
pub struct VerifyConfig {
    /// Jaccard at or above which a pair is a `rerun` (`--rerun-jaccard`). Default 0.6.
    pub rerun_jaccard: f64,
    /// Containment of the smaller in the larger at or above which a pair is
    /// an `excerpt` (`--containment`). Default 0.5.
    pub containment: f64,
    /// Fewest shared shingles for any relation (`--min-shared`). Default 20,
    /// i.e. at least one shared run of 24 words at k = 5.
    pub min_shared: usize,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            rerun_jaccard: 0.6,
            containment: 0.5,
            min_shared: 20,
        }
    }
}

impl VerifyConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if !(self.rerun_jaccard > 0.0 && self.rerun_jaccard <= 1.0) {
            return Err(Error::config("--rerun-jaccard", "must be in (0, 1]"));
        }
        if !(self.containment > 0.0 && self.containment <= 1.0) {
            return Err(Error::config("--containment", "must be in (0, 1]"));
        }
        if self.min_shared == 0 {
            return Err(Error::config("--min-shared", "must be at least 1"));
        }
        Ok(())
    }
}

/// Everything `scan` needs.
#[derive(Clone, Debug, Default)]
pub struct ScanConfig {
    /// Reading.
    pub ingest: IngestConfig,
    /// Shingling.
    pub shingle: ShingleConfig,
    /// Boilerplate removal.
    pub boilerplate: BoilerplateConfig,
    /// Sketching.
    pub sketch: SketchConfig,
    /// Candidate generation by document similarity.
    pub lsh: LshConfig,
    /// Candidate generation by shared passages.
    pub fingerprint: FingerprintConfig,
    /// Verification.
    pub verify: VerifyConfig,
    /// Passage alignment (its `k` is set from `shingle.k` by `scan`).
    pub align: AlignConfig,
    /// The reword-tolerant sentence view.
    pub reword: RewordConfig,
    /// Memory budget in bytes (`--memory-limit`): when the LSH band keys
    /// would take more than a quarter of it, they and the candidate pairs
    /// are sorted on disk in runs under `spill_dir` and merged; once the
    /// shingle sets pass another quarter, they are kept in a file there
    /// ([`crate::sets`]).
    pub memory_limit: Option<u64>,
    /// Where sorted runs go (default: the system temp directory).
    pub spill_dir: Option<std::path::PathBuf>,
    /// The caller will not read whole texts from the scan's output (the
    /// binary without its page). Then, when neither alignment nor the
    /// reworded view runs, a text that cannot be read again (compressed or
    /// piped input) is cut once shingled: to its first
    /// [`crate::scan::TITLE_WORDS`] words when the article has no headline
    /// (they title its story), else to nothing. Plain files let texts go
    /// either way. Default `false`: such texts are kept whole.
    pub texts_unused_after_scan: bool,
}

impl ScanConfig {
    /// The share of `--memory-limit` each structure that can go to disk
    /// gets (the LSH band keys and candidate pairs; the shingle sets): a
    /// quarter. `None` without a limit.
    pub fn spill_share(&self) -> Option<u64> {
        self.memory_limit.map(|m| m / 4)
    }

    /// Where sorted runs and the sets' file go: `spill_dir`, else the
    /// system temp directory.
    pub fn spill_dir(&self) -> std::path::PathBuf {
        self.spill_dir.clone().unwrap_or_else(std::env::temp_dir)
    }

    /// Checks every sub-config.
    pub fn validate(&self) -> Result<()> {
        self.shingle.validate()?;
        self.sketch.validate()?;
        self.lsh.validate()?;
        self.fingerprint.validate()?;
        self.align.validate()?;
        self.reword.validate()?;
        self.verify.validate()
    }
}

/// The reword-tolerant view: sentences as sets of stemmed content words,
/// bucketed by MinHash LSH, matched by tf-idf cosine and Dice, extended over
/// gaps into passages. Defaults are calibrated on MRPC (see the README).
#[derive(Clone, Debug)]
pub struct RewordConfig {
    /// Whether the view runs at all (`--no-reworded` turns it off).
    pub enabled: bool,
    /// Fewest distinct content words for a sentence to take part. Default 5.
    pub min_terms: usize,
    /// LSH bands per sentence. Default 8.
    pub bands: usize,
    /// MinHash rows per band. Default 2.
    pub rows: usize,
    /// Fewest shared sentence band keys for a candidate pair. Default 2.
    pub min_hits: usize,
    /// Sentence buckets holding more documents than this are not expanded
    /// (shared furniture and stock phrases). Default 20 (measured: 50 finds no more on synth and lets more Reuters templates in).
    pub bucket_cap: usize,
    /// Smallest tf-idf cosine for two sentences to match (`--reword-cosine`).
    pub min_cosine: f64,
    /// Smallest Dice overlap of content words for two sentences to match.
    pub min_dice: f64,
    /// Sentences that may separate two matches of one passage. Default 3.
    pub max_gap: usize,
    /// Shortest passage on either side, in characters. Default 120 (one
    /// full news sentence; PAN systems use 150).
    pub min_chars: usize,
    /// Smallest tf-idf cosine of a whole extended passage. Default 0.4.
    pub min_passage_cosine: f64,
    /// Smallest share of the names and numbers of a passage's smaller side
    /// found on the other side. Guards against filled-in templates that
    /// share wording but not facts. Default 0.5.
    pub min_key_agreement: f64,
    /// Agreement on names and numbers over all of a pair's passages needed
    /// for one to be a reworded version of the other (same story): a
    /// reworded rerun keeps its facts. Default 0.75.
    pub version_key_agreement: f64,
    /// Share of the smaller document covered by reworded passages at or
    /// above which it is a reworded version of the other (relation
    /// `reworded`, same story). Default 0.5.
    pub containment: f64,
    /// Documents sampled for word frequencies (idf). Default 20,000.
    pub idf_sample: usize,
}

impl Default for RewordConfig {
    fn default() -> Self {
        RewordConfig {
            enabled: true,
            min_terms: 5,
            bands: 8,
            rows: 2,
            bucket_cap: 20,
            min_hits: 2,
            min_cosine: 0.5,
            min_dice: 0.4,
            max_gap: 3,
            min_chars: 120,
            min_passage_cosine: 0.4,
            min_key_agreement: 0.5,
            version_key_agreement: 0.75,
            containment: 0.5,
            idf_sample: 20_000,
        }
    }
}

impl RewordConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if self.min_terms < self.rows.max(1) {
            return Err(Error::config(
                "--reword-min-terms",
                "must be at least the rows per band",
            ));
        }
        if self.bands == 0 || self.rows == 0 || self.bands * self.rows > 64 {
            return Err(Error::config(
                "--reword-bands",
                "bands x rows must be in 1..=64",
            ));
        }
        if self.min_hits == 0 {
            return Err(Error::config("--reword-min-hits", "must be at least 1"));
        }
        if self.min_hits == 0 {
            return Err(Error::config("--reword-min-hits", "must be at least 1"));
        }
        if self.bucket_cap < 2 {
            return Err(Error::config("--reword-bucket-cap", "must be at least 2"));
        }
        for (name, v) in [
            ("--reword-cosine", self.min_cosine),
            ("--reword-dice", self.min_dice),
            ("--reword-passage-cosine", self.min_passage_cosine),
            ("--reword-key-agreement", self.min_key_agreement),
            ("--reword-version-key-agreement", self.version_key_agreement),
            ("--reword-containment", self.containment),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(Error::config(name, "must be in (0, 1]"));
            }
        }
        if self.idf_sample == 0 {
            return Err(Error::config("--reword-idf-sample", "must be at least 1"));
        }
        Ok(())
    }
}
