//! Command-line flags ("low" arguments) and their translation into the
//! library's configuration structs ("high" arguments). Nothing below this
//! module sees a flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use wiretrace::config::{
    BoilerplateConfig, FieldMap, Format, IngestConfig, LshConfig, ScanConfig, ShingleConfig,
    SketchConfig, VerifyConfig,
};

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
    /// LSH buckets with more documents than this are not expanded (templated text).
    #[arg(long, default_value_t = LshConfig::default().bucket_cap)]
    pub bucket_cap: usize,
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
    /// A shingle in at least this many articles of one outlet is that outlet's boilerplate (0: off).
    #[arg(long, default_value_t = BoilerplateConfig::default().outlet_df)]
    pub outlet_df: usize,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print at most this many warnings about skipped records (all are counted).
    #[arg(long, default_value_t = 20)]
    pub max_warnings: u64,
}

impl InputArgs {
    pub fn ingest_config(&self) -> wiretrace::Result<IngestConfig> {
        let mut fields = FieldMap::default();
        for f in &self.fields {
            fields.set(f)?;
        }
        Ok(IngestConfig {
            fields,
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
            verify: VerifyConfig {
                rerun_jaccard: self.rerun_jaccard,
                containment: self.containment,
                min_shared: self.min_shared,
            },
        };
        cfg.validate()?;
        Ok(cfg)
    }
}
