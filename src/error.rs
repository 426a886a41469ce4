//! One error type for the library.
//!
//! Fatal errors ([`Error`]) stop a run. Per-record problems are not errors:
//! they are [`crate::ingest::BadRecord`]s, counted by [`SkipReason`] and
//! skipped, unless the caller asked for strict mode, in which case the first
//! one is turned into [`Error::Strict`].

use std::fmt;
use std::path::PathBuf;

/// Why a record was skipped. The snake_case name is what `summary.json` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// The bytes of the record are not valid UTF-8.
    InvalidUtf8,
    /// A JSONL line that is not a JSON object.
    MalformedJson,
    /// A CSV record that the CSV reader rejected.
    MalformedCsv,
    /// A Reuters SGML record that could not be parsed.
    MalformedSgml,
    /// No `id` field (or mapped key).
    MissingId,
    /// No `text` field (or mapped key).
    MissingText,
    /// A `text` that is empty or only white space.
    EmptyText,
    /// An id already seen earlier in this run; the first one wins.
    DuplicateId,
    /// A `date` that is not an ISO 8601 date or date-time (extended or
    /// basic), an RFC 2822 date or a Unix time.
    BadDate,
    /// A file (or a decompression stream) that could not be read.
    UnreadableFile,
}

impl SkipReason {
    /// Every reason, in the order the summary lists them.
    pub const ALL: [SkipReason; 10] = [
        SkipReason::InvalidUtf8,
        SkipReason::MalformedJson,
        SkipReason::MalformedCsv,
        SkipReason::MalformedSgml,
        SkipReason::MissingId,
        SkipReason::MissingText,
        SkipReason::EmptyText,
        SkipReason::DuplicateId,
        SkipReason::BadDate,
        SkipReason::UnreadableFile,
    ];

    /// The stable snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::InvalidUtf8 => "invalid_utf8",
            SkipReason::MalformedJson => "malformed_json",
            SkipReason::MalformedCsv => "malformed_csv",
            SkipReason::MalformedSgml => "malformed_sgml",
            SkipReason::MissingId => "missing_id",
            SkipReason::MissingText => "missing_text",
            SkipReason::EmptyText => "empty_text",
            SkipReason::DuplicateId => "duplicate_id",
            SkipReason::BadDate => "bad_date",
            SkipReason::UnreadableFile => "unreadable_file",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fatal error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on a named path.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error (shown in the message, so not chained as a source).
        error: std::io::Error,
    },
    /// A record read again after the scan let its text go is no longer what
    /// was read (the input file changed during the run).
    #[error("{}: byte {offset}: the input changed during the scan: {detail}", path.display())]
    InputChanged {
        /// The input file.
        path: PathBuf,
        /// Byte offset of the record.
        offset: u64,
        /// What was found instead.
        detail: String,
    },
    /// A bad record under `--strict`.
    #[error("{location}: {reason}: {detail} (stopped by --strict)")]
    Strict {
        /// `file:line` of the record.
        location: String,
        /// Why it is bad.
        reason: SkipReason,
        /// Details, e.g. the parser's message.
        detail: String,
    },
    /// A configuration value that cannot work; names the flag.
    #[error("invalid setting {flag}: {message}")]
    Config {
        /// The flag or field, e.g. `--threshold`.
        flag: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The reports cannot fit on the disk that holds their directory:
    /// found before writing, not halfway through.
    #[error(
        "{}: not enough disk space for the reports: they need at least {need}, and {free} is free{advice}",
        dir.display()
    )]
    NoSpace {
        /// The reports' directory.
        dir: PathBuf,
        /// The least the reports take, for people (`12 GB`).
        need: String,
        /// The space free there, for people.
        free: String,
        /// What would make them fit, starting with `; ` (or empty).
        advice: String,
    },
    /// A file whose content is not what its format promises (e.g. a truth file).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error: source,
        }
    }

    /// A configuration error naming the flag.
    pub fn config(flag: &'static str, message: impl Into<String>) -> Self {
        Error::Config {
            flag,
            message: message.into(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
