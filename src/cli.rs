//! Command-line flags ("low" arguments) and their translation into the
//! library's configuration structs ("high" arguments). Nothing below this
//! module sees a flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use wiretrace::config::{
    AlignConfig, BoilerplateConfig, FieldMap, FingerprintConfig, Format, IngestConfig, LshConfig,
    RewordConfig, ScanConfig, ShingleConfig, SketchConfig, VerifyConfig,
};
use wiretrace::synth::SynthConfig;

/// Find which outlets reran the same news story, and what they share.
#[derive(Parser, Debug)]
#[command(name = "wiretrace", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Find reruns, excerpts and shared passages across articles and write reports.
    ///
    /// Exit code: 0 when every record was scanned, 1 when some records were
    /// skipped (each is warned about on stderr and counted in summary.json),
    /// 2 on a fatal error (including the first bad record under --strict).
    Scan(ScanArgs),
    /// Generate a synthetic syndicated news corpus (JSONL) with ground truth beside it.
    Synth(SynthArgs),
    /// Score a scan's reports against ground truth (synth truth or a doc_a,doc_b CSV).
    Eval(EvalArgs),
    /// Align two articles and print their scores and shared passages.
    ///
    /// A and B are files (each read whole as one article) or, with --in, ids
    /// of articles in those inputs.
    Compare(CompareArgs),
    /// Measure the reworded view's sentence match on labelled paraphrase pairs
    /// (MRPC format): ROC AUC, and precision/recall at the thresholds in use
    /// on a calibration split and a held-out split.
    Calibrate(CalibrateArgs),
}

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Labelled sentence pairs: msr_paraphrase_train.txt or the same layout
    /// (Quality, #1 ID, #2 ID, #1 String, #2 String; tab-separated).
    #[arg(long)]
    pub mrpc: PathBuf,
    /// Sentence cosine threshold to score (default: the scan's).
    #[arg(long, default_value_t = RewordConfig::default().min_cosine)]
    pub reword_cosine: f64,
    /// Sentence Dice threshold to score (default: the scan's).
    #[arg(long, default_value_t = RewordConfig::default().min_dice)]
    pub reword_dice: f64,
    /// Also write the figures as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// First article: a file, or an id found in --in.
    pub a: String,
    /// Second article: a file, or an id found in --in.
    pub b: String,
    /// Inputs to look ids up in (any format scan reads).
    #[arg(long = "in", value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Map a field to another key, e.g. --field text=body. Repeatable.
    #[arg(long = "field", value_name = "FIELD=KEY")]
    pub fields: Vec<String>,
    /// Print the passages as passages.csv rows instead of text.
    #[arg(long)]
    pub csv: bool,
    /// Words per shingle.
    #[arg(long, default_value_t = ShingleConfig::default().k)]
    pub shingle: usize,
    /// Shortest passage reported, in words.
    #[arg(long, default_value_t = AlignConfig::default().min_tokens)]
    pub min_passage: usize,
    /// Longest run of differing words bridged inside one passage.
    #[arg(long, default_value_t = AlignConfig::default().max_gap)]
    pub max_gap: usize,
    /// Longest hole between two passages joined into one, in words in each
    /// text, when both texts have a hole of about that length there (a
    /// sentence rewritten in place). 0 joins none.
    #[arg(long, default_value_t = AlignConfig::default().max_hole)]
    pub max_hole: usize,
    /// Skip the reworded view (sentence matching on stemmed content words).
    #[arg(long)]
    pub no_reworded: bool,
}

impl CompareArgs {
    pub fn config(&self) -> wiretrace::Result<ScanConfig> {
        let cfg = ScanConfig {
            ingest: IngestConfig {
                fields: field_map(&self.fields)?,
                ..IngestConfig::default()
            },
            shingle: ShingleConfig { k: self.shingle },
            align: AlignConfig {
                enabled: true,
                k: self.shingle,
                min_tokens: self.min_passage,
                max_gap: self.max_gap,
                max_hole: self.max_hole,
            },
            reword: RewordConfig {
                enabled: !self.no_reworded,
                ..RewordConfig::default()
            },
            ..ScanConfig::default()
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Truth: NAME.truth.jsonl from `wiretrace synth`, a CSV with doc_a,doc_b
    /// columns, or a rewrite table with File,Task,Category columns (the
    /// Clough-Stevenson layout: categories cut, light, heavy, non and orig),
    /// which reports the ROC AUC of the pairs' score.
    #[arg(long)]
    pub truth: PathBuf,
    /// The directory `wiretrace scan --out` wrote.
    #[arg(long)]
    pub report: PathBuf,
    /// Also write the scores as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    Txt,
    Jsonl,
    Csv,
    ReutersSgml,
}

#[derive(Args, Debug)]
pub struct InputArgs {
    /// Inputs: directories of .txt articles, .txt files, .jsonl / .csv
    /// (optionally .gz or .zst), Reuters .sgm files, or - for JSONL on stdin.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Read every file argument as this format instead of guessing by extension.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Map a field to another key, e.g. --field text=body (fields: id, text,
    /// title, outlet, date, url). Repeatable.
    #[arg(long = "field", value_name = "FIELD=KEY")]
    pub fields: Vec<String>,
    /// Stop at the first bad record (exit 2) instead of skipping it.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory for the reports (created if missing).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Words per shingle.
    #[arg(long, default_value_t = ShingleConfig::default().k)]
    pub shingle: usize,
    /// MinHash slots per signature.
    #[arg(long, default_value_t = SketchConfig::default().num_perm)]
    pub permutations: usize,
    /// Seed of the MinHash hash functions.
    #[arg(long, default_value_t = SketchConfig::default().seed)]
    pub seed: u64,
    /// Jaccard similarity the LSH bands are tuned for. Lower finds more
    /// truncated and padded reruns at the cost of more candidates to verify.
    #[arg(long, default_value_t = LshConfig::default().threshold)]
    pub threshold: f64,
    /// LSH buckets with more articles than this are not expanded into all pairs
    /// (templated text); each article is paired with its neighbour instead.
    #[arg(long, default_value_t = LshConfig::default().bucket_cap)]
    pub bucket_cap: usize,
    /// Passage index: keep one shingle in N as a fingerprint (0: no passage index).
    #[arg(long, default_value_t = FingerprintConfig::default().sample)]
    pub passage_sample: u64,
    /// Passage index: fewest shared fingerprints for a candidate pair.
    #[arg(long, default_value_t = FingerprintConfig::default().min_shared)]
    pub passage_min: u32,
    /// Passage index: fingerprints in more articles than this are not expanded.
    #[arg(long, default_value_t = FingerprintConfig::default().max_df)]
    pub passage_max_df: usize,
    /// Jaccard at or above which a pair is a rerun.
    #[arg(long, default_value_t = VerifyConfig::default().rerun_jaccard)]
    pub rerun_jaccard: f64,
    /// Containment of the shorter article in the longer at or above which a pair is an excerpt.
    #[arg(long, default_value_t = VerifyConfig::default().containment)]
    pub containment: f64,
    /// Fewest shared shingles for any relation.
    #[arg(long, default_value_t = VerifyConfig::default().min_shared)]
    pub min_shared: usize,
    /// A shingle in more documents than this is boilerplate (0: max(100, documents/200)).
    #[arg(long, default_value_t = BoilerplateConfig::default().max_df)]
    pub max_df: usize,
    /// A shingle in at least this many of 64 sampled articles of one outlet is that outlet's boilerplate (0: off).
    #[arg(long, default_value_t = BoilerplateConfig::default().outlet_df)]
    pub outlet_df: usize,
    /// Skip passage alignment (no passages.csv rows, no highlights).
    #[arg(long)]
    pub no_passages: bool,
    /// Shortest passage reported, in words.
    #[arg(long, default_value_t = AlignConfig::default().min_tokens)]
    pub min_passage: usize,
    /// Longest run of differing words bridged inside one passage.
    #[arg(long, default_value_t = AlignConfig::default().max_gap)]
    pub max_gap: usize,
    /// Longest hole between two passages joined into one, in words in each
    /// text, when both texts have a hole of about that length there (a
    /// sentence rewritten in place). 0 joins none.
    #[arg(long, default_value_t = AlignConfig::default().max_hole)]
    pub max_hole: usize,
    /// Write the CSVs for Excel: a UTF-8 byte-order mark first (so accents
    /// and curly quotes show as written) and cells cut to Excel's 32,767
    /// characters; warns when a table has more rows than Excel shows.
    #[arg(long)]
    pub excel: bool,
    /// Leave the passage texts (a_text, b_text) out of passages.csv: offsets,
    /// kind and similarity only, a small part of the size.
    #[arg(long)]
    pub no_passage_text: bool,
    /// Memory budget, e.g. 4G: when the LSH band keys would take more than a
    /// quarter of it, they and the candidate pairs are sorted on disk (in
    /// the --out directory) and merged; once the shingle sets pass another
    /// quarter, they are kept in a file there. Same reports either way.
    /// It bounds the verbatim pipeline (--no-passages --no-reworded
    /// --no-html); passages, the reworded view and the page keep texts and
    /// their analyses in memory, and the scan warns when they would pass it.
    #[arg(long, value_parser = parse_memory)]
    pub memory_limit: Option<u64>,
    /// Skip the reworded view (sentence matching on stemmed content words).
    #[arg(long)]
    pub no_reworded: bool,
    /// Reworded view: smallest tf-idf cosine for two sentences to match.
    #[arg(long, default_value_t = RewordConfig::default().min_cosine)]
    pub reword_cosine: f64,
    /// Reworded view: smallest Dice overlap of content words for two sentences to match.
    #[arg(long, default_value_t = RewordConfig::default().min_dice)]
    pub reword_dice: f64,
    /// Reworded view: shortest reworded passage, in characters (on both sides).
    #[arg(long, default_value_t = RewordConfig::default().min_chars)]
    pub reword_min_chars: usize,
    /// Reworded view: share of the smaller article inside reworded passages at
    /// or above which the pair is `reworded` (same story).
    #[arg(long, default_value_t = RewordConfig::default().containment)]
    pub reword_containment: f64,
    /// report.html embeds article texts (for side-by-side views) of the largest
    /// stories, up to this many megabytes; other stories are listed without them.
    #[arg(long, default_value_t = 32)]
    pub html_text_mb: usize,
    /// Skip report.html (for large dumps where only the tables are wanted); a
    /// report.html left in --out by an earlier run is removed.
    #[arg(long)]
    pub no_html: bool,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print at most this many warnings about skipped records (all are counted).
    #[arg(long, default_value_t = 20)]
    pub max_warnings: u64,
}

impl InputArgs {
    pub fn ingest_config(&self) -> wiretrace::Result<IngestConfig> {
        Ok(IngestConfig {
            fields: field_map(&self.fields)?,
            format: self.format.map(|f| match f {
                FormatArg::Txt => Format::Text,
                FormatArg::Jsonl => Format::Jsonl,
                FormatArg::Csv => Format::Csv,
                FormatArg::ReutersSgml => Format::ReutersSgml,
            }),
            strict: self.strict,
        })
    }
}

impl ScanArgs {
    pub fn config(&self) -> wiretrace::Result<ScanConfig> {
        let cfg = ScanConfig {
            ingest: self.input.ingest_config()?,
            shingle: ShingleConfig { k: self.shingle },
            boilerplate: BoilerplateConfig {
                max_df: self.max_df,
                outlet_df: self.outlet_df,
                ..BoilerplateConfig::default()
            },
            sketch: SketchConfig {
                num_perm: self.permutations,
                seed: self.seed,
            },
            lsh: LshConfig {
                threshold: self.threshold,
                bucket_cap: self.bucket_cap,
                ..LshConfig::default()
            },
            fingerprint: FingerprintConfig {
                sample: self.passage_sample,
                min_shared: self.passage_min,
                max_df: self.passage_max_df,
            },
            verify: VerifyConfig {
                rerun_jaccard: self.rerun_jaccard,
                containment: self.containment,
                min_shared: self.min_shared,
            },
            align: AlignConfig {
                enabled: !self.no_passages,
                k: self.shingle,
                min_tokens: self.min_passage,
                max_gap: self.max_gap,
                max_hole: self.max_hole,
            },
            memory_limit: self.memory_limit,
            spill_dir: Some(self.out.clone()),
            // Without the page, nothing after the scan reads whole texts.
            texts_unused_after_scan: self.no_html,
            reword: RewordConfig {
                enabled: !self.no_reworded,
                min_cosine: self.reword_cosine,
                min_dice: self.reword_dice,
                min_chars: self.reword_min_chars,
                containment: self.reword_containment,
                ..RewordConfig::default()
            },
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Articles to write.
    #[arg(long, default_value_t = SynthConfig::default().docs)]
    pub docs: usize,
    /// Seed: the same seed and flags give the same bytes.
    #[arg(long, default_value_t = SynthConfig::default().seed)]
    pub seed: u64,
    /// The corpus file to write (JSONL); the truth goes to NAME.truth.jsonl beside it.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Number of outlets (heavy-tailed sizes).
    #[arg(long, default_value_t = SynthConfig::default().outlets)]
    pub outlets: usize,
    /// Fewest outlets rerunning a wire story.
    #[arg(long, default_value_t = SynthConfig::default().min_copies)]
    pub min_copies: usize,
    /// Most outlets rerunning a wire story.
    #[arg(long, default_value_t = SynthConfig::default().max_copies)]
    pub max_copies: usize,
    /// Pareto shape of the number of copies (smaller: heavier tail).
    #[arg(long, default_value_t = SynthConfig::default().copies_alpha)]
    pub copies_alpha: f64,
    /// Share of new items that are unrelated single articles.
    #[arg(long, default_value_t = SynthConfig::default().unrelated)]
    pub unrelated: f64,
    /// Share of wire stories that are follow-ups reusing an earlier story's background paragraphs.
    #[arg(long, default_value_t = SynthConfig::default().followups)]
    pub followups: f64,
    /// Probability that the agency's own copy is in the corpus.
    #[arg(long, default_value_t = SynthConfig::default().agency_copy)]
    pub agency_copy: f64,
    /// Probability that a rerun is verbatim (only the outlet's footer added).
    #[arg(long, default_value_t = SynthConfig::default().verbatim)]
    pub verbatim: f64,
    /// Probability that a rerun is truncated.
    #[arg(long, default_value_t = SynthConfig::default().truncate)]
    pub truncate: f64,
    /// Smallest share of paragraphs a truncated rerun keeps.
    #[arg(long, default_value_t = SynthConfig::default().min_keep)]
    pub min_keep: f64,
    /// Probability that a rerun gets 1-3 local paragraphs.
    #[arg(long, default_value_t = SynthConfig::default().pad)]
    pub pad: f64,
    /// Probability that the headline is rewritten or edited.
    #[arg(long, default_value_t = SynthConfig::default().headline)]
    pub headline: f64,
    /// Probability that the dateline is changed or dropped.
    #[arg(long, default_value_t = SynthConfig::default().dateline)]
    pub dateline: f64,
    /// Probability that the byline is changed or dropped.
    #[arg(long, default_value_t = SynthConfig::default().byline)]
    pub byline: f64,
    /// Probability that a rerun has word substitutions.
    #[arg(long, default_value_t = SynthConfig::default().substitute)]
    pub substitute: f64,
    /// Share of words substituted in such a rerun.
    #[arg(long, default_value_t = SynthConfig::default().substitute_rate)]
    pub substitute_rate: f64,
    /// Probability that a rerun is reworded sentence by sentence (synonym
    /// swaps, reordered clauses, dropped modifiers).
    #[arg(long, default_value_t = SynthConfig::default().reword)]
    pub reword: f64,
    /// Share of content words swapped in a reworded rerun.
    #[arg(long, default_value_t = SynthConfig::default().reword_rate)]
    pub reword_rate: f64,
    /// Probability that a rerun drops one or two sentences.
    #[arg(long, default_value_t = SynthConfig::default().sentence_drop)]
    pub sentence_drop: f64,
    /// Probability that a rerun swaps two adjacent paragraphs.
    #[arg(long, default_value_t = SynthConfig::default().paragraph_swap)]
    pub paragraph_swap: f64,
    /// Share of outlets that are print, with OCR-like character noise.
    #[arg(long, default_value_t = SynthConfig::default().ocr_outlets)]
    pub ocr_outlets: f64,
    /// Per-character noise rate of print outlets.
    #[arg(long, default_value_t = SynthConfig::default().ocr_rate)]
    pub ocr_rate: f64,
    /// Share of outlets whose site template adds a generic comment box.
    #[arg(long, default_value_t = SynthConfig::default().template_outlets)]
    pub template_outlets: f64,
}

impl SynthArgs {
    pub fn config(&self) -> wiretrace::Result<SynthConfig> {
        let cfg = SynthConfig {
            docs: self.docs,
            seed: self.seed,
            outlets: self.outlets,
            min_copies: self.min_copies,
            max_copies: self.max_copies,
            copies_alpha: self.copies_alpha,
            unrelated: self.unrelated,
            followups: self.followups,
            agency_copy: self.agency_copy,
            verbatim: self.verbatim,
            truncate: self.truncate,
            min_keep: self.min_keep,
            pad: self.pad,
            headline: self.headline,
            dateline: self.dateline,
            byline: self.byline,
            substitute: self.substitute,
            substitute_rate: self.substitute_rate,
            reword: self.reword,
            reword_rate: self.reword_rate,
            sentence_drop: self.sentence_drop,
            paragraph_swap: self.paragraph_swap,
            ocr_outlets: self.ocr_outlets,
            ocr_rate: self.ocr_rate,
            template_outlets: self.template_outlets,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

fn parse_memory(s: &str) -> Result<u64, String> {
    wiretrace::spill::parse_size(s)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("'{s}' is not a size such as 4G, 512M or 100000"))
}

/// `--field NAME=KEY` flags as a field map.
fn field_map(flags: &[String]) -> wiretrace::Result<FieldMap> {
    let mut fields = FieldMap::default();
    for f in flags {
        fields.set(f)?;
    }
    Ok(fields)
}
