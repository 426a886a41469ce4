//! Shared helper for integration tests: a temporary directory and a way to
//! run the real `wiretrace` binary in it.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Self {
        Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `wiretrace ARGS` with the repository root as working directory.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wiretrace"));
        cmd.args(args).current_dir(root());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn wiretrace");
        if let Some(data) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(data).unwrap();
        }
        child.wait_with_output().expect("wait for wiretrace")
    }

    /// Runs `wiretrace scan ARGS --out <workdir>/out`, requires exit 0, and
    /// returns the output directory and the run's output.
    pub fn scan_ok(&self, args: &[&str]) -> (PathBuf, Output) {
        self.scan_to("out", args)
    }

    /// As [`Workdir::scan_ok`], into `<workdir>/OUT`.
    pub fn scan_to(&self, out: &str, args: &[&str]) -> (PathBuf, Output) {
        let out = self.path(out);
        let mut full = vec!["scan", "--out", out.to_str().unwrap()];
        full.extend_from_slice(args);
        let o = self.run(&full);
        assert_eq!(code(&o), 0, "scan {args:?}: {}", stderr(&o));
        (out, o)
    }

    /// Runs `wiretrace synth --docs N --seed S --out <workdir>/NAME`,
    /// requires exit 0, and returns the corpus path (truth beside it).
    pub fn synth(&self, name: &str, docs: u32, seed: u32) -> PathBuf {
        let corpus = self.path(name);
        let o = self.run(&[
            "synth",
            "--docs",
            &docs.to_string(),
            "--seed",
            &seed.to_string(),
            "--out",
            corpus.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        corpus
    }

    /// Writes `data` gzip-compressed to `<workdir>/NAME` and returns its
    /// path: an input the scan cannot read again by offset.
    pub fn gzip(&self, name: &str, data: &[u8]) -> PathBuf {
        use std::io::Write;
        let path = self.path(name);
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(data).unwrap();
        enc.finish().unwrap();
        path
    }

    /// Runs `wiretrace eval --truth TRUTH --report REPORT --json ...`,
    /// requires exit 0, and returns the run's output and the JSON scores.
    pub fn eval(&self, truth: &Path, report: &Path) -> (Output, serde_json::Value) {
        let json = self.path("eval.json");
        let o = self.run(&[
            "eval",
            "--truth",
            truth.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        (o, self.json("eval.json"))
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    pub fn json(&self, name: &str) -> serde_json::Value {
        serde_json::from_str(&self.read(name)).unwrap()
    }
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> String {
    root()
        .join("fixtures")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The shared data directory, or None (with a printed note) when absent.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = root().join("..").join("shared").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("note: {} is absent; skipping this test", p.display());
        None
    }
}

/// Rows of a CSV file as vectors of strings (header excluded).
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    rdr.records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The relation `pairs.csv` gives the pair `(a, b)` (ids in that order),
/// from its rows ([`csv_rows`]); `None` when they are not related.
pub fn relation(pairs: &[Vec<String>], a: &str, b: &str) -> Option<String> {
    pairs
        .iter()
        .find(|r| r[0] == a && r[1] == b)
        .map(|r| r[2].clone())
}

/// The `summary.json` of a scan's output directory.
pub fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// Writes `records` as a JSONL file, one per line.
pub fn write_jsonl(path: &Path, records: impl IntoIterator<Item = serde_json::Value>) {
    let lines: String = records.into_iter().map(|r| r.to_string() + "\n").collect();
    std::fs::write(path, lines).unwrap();
}

/// Every report a default scan writes but `summary.json` (whose timings vary).
pub const REPORTS: [&str; 5] = [
    "pairs.csv",
    "stories.csv",
    "passages.csv",
    "outlets.csv",
    "report.html",
];

/// Fails, naming the file and `why`, unless every one of [`REPORTS`] is
/// byte-identical in directories `a` and `b`.
pub fn assert_same_reports(a: &Path, b: &Path, why: &str) {
    for f in REPORTS {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs {why}");
    }
}
