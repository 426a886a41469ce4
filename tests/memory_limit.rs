//! `--memory-limit`: band keys and candidate pairs sorted on disk, and
//! shingle sets kept in a file, give the same reports as the in-memory path.

mod common;
use common::*;

#[test]
fn spilling_to_disk_gives_identical_reports() {
    let w = Workdir::new();
    let corpus = w.synth("c.jsonl", 1500, 3);
    // The report directory and what the run printed.
    let scan = |out: &str, extra: &[&str]| {
        let mut args = vec![corpus.to_str().unwrap(), "-q"];
        args.extend_from_slice(extra);
        let (dir, o) = w.scan_to(out, &args);
        (dir, stdout(&o))
    };
    let ((mem, mem_printed), (disk, disk_printed)) =
        (scan("mem", &[]), scan("disk", &["--memory-limit", "64K"]));
    assert_same_reports(&mem, &disk, "between the in-memory and the spilled run");
    let runs = |d: &std::path::Path| summary(d)["spill_runs"].as_u64().unwrap();
    // The summary says what went to disk, and only when something did.
    assert!(!mem_printed.contains("--memory-limit"), "{mem_printed}");
    let line = disk_printed
        .lines()
        .find(|l| l.contains("under --memory-limit"))
        .unwrap_or_else(|| panic!("{disk_printed}"));
    assert!(
        line.contains("shingle sets kept in a file (")
            && line.contains(&format!(
                "band keys and candidate pairs sorted in {} runs",
                runs(&disk)
            )),
        "{line}"
    );
    assert_eq!(runs(&mem), 0);
    // The shingle sets went to a file too, and were read back from it.
    assert_eq!(summary(&mem)["sets_on_disk_bytes"], 0);
    assert!(
        summary(&disk)["sets_on_disk_bytes"].as_u64().unwrap() > 64 << 10,
        "the sets were over a quarter of the limit"
    );
    assert!(
        runs(&disk) > 10,
        "the small limit forced sorted runs: {}",
        runs(&disk)
    );
    assert!(csv_rows(&mem.join("pairs.csv")).len() > 100);
    // Temporary runs are gone: only the reports are left.
    let left: Vec<String> = std::fs::read_dir(&disk)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(left.iter().all(|f| !f.starts_with(".tmp")), "{left:?}");

    let o = w.run(&[
        "scan",
        "fixtures/seeds",
        "--out",
        w.path("x").to_str().unwrap(),
        "--memory-limit",
        "lots",
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("'lots' is not a size such as 4G"),
        "{}",
        stderr(&o)
    );
}
