//! `wiretrace scan` end to end on the fixtures.

mod common;
use common::*;

/// The seeds are real scraped reruns of one January 2022 story, reworded
/// rather than copied (word 5-shingle Jaccard of 001 and 004: 0.007).
#[test]
fn seeds_reworded_reruns_are_found_with_their_passages() {
    let w = Workdir::new();
    let (out, o) = w.scan_ok(&["fixtures/seeds"]);
    for f in ["pairs.csv", "stories.csv", "passages.csv"] {
        let expected = std::fs::read_to_string(fixture(&format!("seeds_expected/{f}"))).unwrap();
        assert_eq!(
            w.read(&format!("out/{f}")),
            expected,
            "{f} differs from the golden file"
        );
    }
    let id = |n: &str| {
        std::fs::read_dir(fixture("seeds"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .find(|f| f.starts_with(n))
            .unwrap()
    };
    let (s0, s1, s2, s3, s4) = (id("000"), id("001"), id("002"), id("003"), id("004"));
    let pairs = csv_rows(&out.join("pairs.csv"));
    let related = |a: &str, b: &str| pairs.iter().any(|r| r[0] == a && r[1] == b);
    assert!(related(&s1, &s4) && related(&s1, &s2), "{pairs:?}");

    let passages = csv_rows(&out.join("passages.csv"));
    let of = |a: &str, b: &str| -> Vec<&Vec<String>> {
        passages.iter().filter(|p| p[0] == a && p[1] == b).collect()
    };
    let p14 = of(&s1, &s4);
    assert!(
        p14.len() >= 3 && p14.iter().all(|p| p[6] == "reworded"),
        "{p14:?}"
    );
    assert!(
        p14.iter()
            .any(|p| p[8].contains("Estonia, Latvia and Lithuania")
                && p[9].starts_with("Mr Putin has indicated")
                && p[9].contains("Estonia, Latvia and Lithuania")),
        "the Putin/Estonia passage: {p14:?}"
    );
    let p12 = of(&s1, &s2);
    assert!(
        p12.iter()
            .any(|p| p[8].contains("annexed the Crimean Peninsula")
                && p[9].contains("grabbed the Crimean Peninsula")),
        "the Crimea background passage: {p12:?}"
    );
    // Offsets are exact: the text columns are the character slices.
    for p in &passages {
        let text = |f: &str| std::fs::read_to_string(fixture(&format!("seeds/{f}"))).unwrap();
        let slice = |f: &str, a: &str, b: &str| -> String {
            let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
            text(f).chars().skip(a).take(b - a).collect()
        };
        assert_eq!(slice(&p[0], &p[2], &p[3]), p[8]);
        assert_eq!(slice(&p[1], &p[4], &p[5]), p[9]);
        // No passage is site furniture.
        for t in [&p[8], &p[9]] {
            for furniture in [
                "Leave a Reply",
                "Post a Comment",
                "No comments",
                "Source link",
            ] {
                assert!(!t.contains(furniture), "boilerplate in a passage: {t}");
            }
        }
    }
    // 002 shares only background with 001: never in a story with 000 or 003.
    let stories = csv_rows(&out.join("stories.csv"));
    let story_of = |d: &str| stories.iter().find(|r| r[1] == d).map(|r| r[0].clone());
    if let Some(s) = story_of(&s2) {
        assert_ne!(story_of(&s0), Some(s.clone()));
        assert_ne!(story_of(&s3), Some(s));
    }

    let s = w.json("out/summary.json");
    assert_eq!(s["records"]["read"], 5);
    assert_eq!(s["records"]["scanned"], 5);
    assert!(s["reworded_passages"].as_u64().unwrap() >= 4);
    assert!(stdout(&o).contains("read 5 records: 5 scanned, 0 skipped"));
    // Time and peak memory per stage, in pipeline order.
    let stages: Vec<&str> = s["timings"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "read",
            "boilerplate",
            "sketch",
            "lsh",
            "passages",
            "verify",
            "reword",
            "stories",
            "align",
            "reports"
        ]
    );
    if cfg!(target_os = "linux") {
        for x in s["timings"]["stages"].as_array().unwrap() {
            assert!(x["peak_rss_mib"].as_f64().unwrap() > 0.0, "{x}");
        }
    }
    // Each scan stage's steps, in order, inside the stage's time.
    let steps = s["timings"]["steps"].as_array().unwrap();
    let step_stages: Vec<&str> = steps.iter().map(|x| x["stage"].as_str().unwrap()).collect();
    let mut distinct = step_stages.clone();
    distinct.dedup();
    assert_eq!(distinct, stages[..stages.len() - 1]);
    let names = |stage: &str| -> Vec<&str> {
        steps
            .iter()
            .filter(|x| x["stage"] == stage)
            .map(|x| x["step"].as_str().unwrap())
            .collect()
    };
    assert_eq!(names("verify"), ["candidate pairs"]);
    assert!(names("reword").contains(&"stories with reworded versions"));
    for x in s["timings"]["stages"].as_array().unwrap() {
        let spent: f64 = steps
            .iter()
            .filter(|y| y["stage"] == x["stage"])
            .map(|y| y["ms"].as_f64().unwrap())
            .sum();
        assert!(
            spent <= x["ms"].as_f64().unwrap() + 1.0,
            "{x}: steps {spent} ms"
        );
    }
}

#[test]
fn without_the_reworded_view_the_seeds_share_nothing() {
    let w = Workdir::new();
    let (out, _) = w.scan_ok(&["fixtures/seeds", "--no-reworded"]);
    // Exact shingles alone find nothing among reworded copies.
    assert_eq!(csv_rows(&out.join("pairs.csv")).len(), 0);
    assert_eq!(w.json("out/summary.json")["reworded_view"], false);
}

#[test]
fn every_relation_matches_the_golden_files() {
    let w = Workdir::new();
    let (out, o) = w.scan_ok(&["fixtures/relations/corpus.jsonl"]);
    for f in ["pairs.csv", "stories.csv"] {
        let expected =
            std::fs::read_to_string(fixture(&format!("relations/expected/{f}"))).unwrap();
        assert_eq!(
            w.read(&format!("out/{f}")),
            expected,
            "{f} differs from the golden file"
        );
    }
    let pairs = csv_rows(&out.join("pairs.csv"));
    let rel = |a: &str, b: &str| relation(&pairs, a, b);
    assert_eq!(rel("rerun", "wire").as_deref(), Some("rerun"));
    assert_eq!(rel("truncated", "wire").as_deref(), Some("excerpt"));
    assert_eq!(rel("followup", "wire").as_deref(), Some("partial"));
    // A shared site footer alone never relates two articles.
    assert_eq!(rel("footer_a", "footer_b"), None);
    assert!(pairs.iter().all(|r| r[0] != "other" && r[1] != "other"));
    // The earliest version is the origin; a partial edge does not join the story.
    let stories = csv_rows(&out.join("stories.csv"));
    let origin: Vec<_> = stories.iter().filter(|r| r[4] == "origin").collect();
    assert_eq!(origin.len(), 1);
    assert_eq!(origin[0][1], "wire");
    assert!(stories.iter().all(|r| r[1] != "followup"));
    // The hand-paraphrased copy is a reworded rerun of the wire story: same
    // story, one reworded passage over its whole text.
    assert_eq!(rel("reworded", "wire").as_deref(), Some("reworded"));
    assert!(
        stories
            .iter()
            .any(|r| r[1] == "reworded" && r[0] == origin[0][0] && r[5] == "reworded")
    );

    // Passages: offsets are characters into the texts as read, and the text
    // columns are exactly those slices.
    let texts: std::collections::HashMap<String, String> =
        std::fs::read_to_string(fixture("relations/corpus.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["id"].as_str().unwrap().to_string(),
                    v["text"].as_str().unwrap().to_string(),
                )
            })
            .collect();
    let slice = |id: &str, a: &str, b: &str| -> String {
        let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
        texts[id].chars().skip(a).take(b - a).collect()
    };
    let passages = csv_rows(&out.join("passages.csv"));
    assert!(!passages.is_empty());
    for p in &passages {
        assert_eq!(slice(&p[0], &p[2], &p[3]), p[8]);
        assert_eq!(slice(&p[1], &p[4], &p[5]), p[9]);
    }
    let of = |a: &str, b: &str| {
        passages
            .iter()
            .filter(|p| p[0] == a && p[1] == b)
            .collect::<Vec<_>>()
    };
    // The padded rerun's two local paragraphs split the wire copy in two passages.
    assert_eq!(of("padded", "wire").len(), 2);
    // The follow-up shares one passage: the three background paragraphs, verbatim.
    let f = of("followup", "wire");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0][6], "verbatim");
    assert!(f[0][8].starts_with("Stoltenberg underlined"), "{}", f[0][8]);
    let r = of("reworded", "wire");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0][6], "reworded");
    assert!(
        r[0][8].starts_with("BRUSSELS — Washington")
            && r[0][9].starts_with("BRUSSELS — The United States")
    );
    // Who reruns whom.
    let outlets = csv_rows(&out.join("outlets.csv"));
    assert!(
        outlets
            .iter()
            .any(|r| r[0] == "AP" && r[1] == "Morning Star" && r[2] == "1")
    );
    assert!(stdout(&o).contains("outlets that rerun the most"));
}

#[test]
fn all_input_formats_read_the_same_articles() {
    let w = Workdir::new();
    let mut summaries = Vec::new();
    let inputs: &[&[&str]] = &[
        &["fixtures/formats/seeds.jsonl"],
        &["fixtures/formats/seeds.jsonl.gz"],
        &["fixtures/formats/seeds.jsonl.zst"],
        &["fixtures/formats/seeds.csv"],
        &[
            "fixtures/formats/seeds-body.jsonl",
            "--field",
            "id=doc_id",
            "--field",
            "text=body",
            "--field",
            "outlet=source",
        ],
        &["fixtures/seeds"],
        &[
            "fixtures/seeds/000_0b100eb329b44137.txt",
            "fixtures/seeds/001_7d6c65d472a597a6.txt",
            "fixtures/seeds/002_7d16baccb0432d61.txt",
            "fixtures/seeds/003_1385dfa9514a6a57.txt",
            "fixtures/seeds/004_d07a4059c8cfa16f.txt",
        ],
    ];
    for (i, args) in inputs.iter().enumerate() {
        let out = w.path(&format!("out{i}"));
        let mut full = vec![
            "scan",
            "--out",
            out.to_str().unwrap(),
            "--max-df",
            "2",
            "--min-shared",
            "3",
        ];
        full.extend_from_slice(args);
        let o = w.run(&full);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        let s = w.json(&format!("out{i}/summary.json"));
        assert_eq!(s["records"]["scanned"], 5, "{args:?}");
        summaries.push((
            s["boilerplate_shingles"].clone(),
            w.read(&format!("out{i}/pairs.csv")),
        ));
    }
    // Same texts and ids, so the same boilerplate and the same pairs.
    for s in &summaries[1..] {
        assert_eq!(s, &summaries[0]);
    }
}

#[test]
fn stdin_reads_jsonl() {
    let w = Workdir::new();
    let data = std::fs::read(fixture("formats/seeds.jsonl")).unwrap();
    let out = w.path("out");
    let o = w.run_with_stdin(&["scan", "-", "--out", out.to_str().unwrap()], Some(&data));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(w.json("out/summary.json")["records"]["scanned"], 5);
}

#[test]
fn bad_records_are_named_counted_and_skipped() {
    let w = Workdir::new();
    let out = w.path("out");
    let o = w.run(&[
        "scan",
        "fixtures/bad/mixed.jsonl",
        "fixtures/bad/mixed.csv",
        "fixtures/bad/truncated.jsonl.gz",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "some records were skipped: exit 1");
    let err = stderr(&o);
    for expected in [
        "mixed.jsonl:2: invalid_utf8",
        "mixed.jsonl:3: malformed_json",
        "mixed.jsonl:4: missing_text",
        "mixed.jsonl:5: empty_text",
        "mixed.jsonl:6: missing_id",
        "mixed.jsonl:7: duplicate_id: id 'ok-1'",
        "mixed.jsonl:8: bad_date",
        "mixed.csv:3: malformed_csv",
        "mixed.csv:4: invalid_utf8",
        "truncated.jsonl.gz:1: unreadable_file",
    ] {
        assert!(err.contains(expected), "stderr lacks {expected:?}:\n{err}");
    }
    let s = w.json("out/summary.json");
    let r = &s["records"];
    assert_eq!(r["read"], 14);
    assert_eq!(r["scanned"], 4);
    assert_eq!(r["skipped"], 10);
    let by: u64 = r["skipped_by_reason"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by, 10, "skips by reason add up");
    assert_eq!(r["skipped_by_reason"]["invalid_utf8"], 2);
    assert_eq!(r["skipped_by_reason"]["duplicate_id"], 1);
}

#[test]
fn strict_stops_at_the_first_bad_record() {
    let w = Workdir::new();
    let out = w.path("out");
    let o = w.run(&[
        "scan",
        "fixtures/bad/mixed.jsonl",
        "--strict",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("mixed.jsonl:2: invalid_utf8"),
        "{}",
        stderr(&o)
    );
    assert!(
        !out.join("pairs.csv").exists(),
        "no reports after a fatal error"
    );
}

#[test]
fn fatal_errors_name_the_flag_or_path() {
    let w = Workdir::new();
    let o = w.run(&["scan", "fixtures/seeds", "--out", "x", "--threshold", "1.5"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--threshold"));
    let o = w.run(&["scan", "no/such/file.jsonl", "--out", "x"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no/such/file.jsonl"));
    let o = w.run(&["scan", "Cargo.toml", "--out", "x"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown input format"));
    // Before any reading: the summary line never comes.
    let o = w.run(&["scan", "fixtures/seeds", "--out", "Cargo.toml"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--out") && stderr(&o).contains("not a directory"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("records"));
}

/// Everything but the timings of summary.json.
fn deterministic_part(summary: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(summary).unwrap();
    v.as_object_mut().unwrap().remove("timings");
    v
}

#[test]
fn reports_are_identical_across_thread_counts_and_runs() {
    let w = Workdir::new();
    let corpus = w.synth("c.jsonl", 1500, 9);
    let mut outs = Vec::new();
    for (i, threads) in ["1", "2", "2"].iter().enumerate() {
        let out = w.path(&format!("out{i}"));
        let o = w.run(&[
            "scan",
            corpus.to_str().unwrap(),
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        outs.push(out);
    }
    let rows = csv_rows(&outs[0].join("pairs.csv"));
    assert!(rows.len() > 100, "the corpus has related pairs to compare");
    let passages = csv_rows(&outs[0].join("passages.csv"));
    assert!(passages.len() > 100, "and passages");
    for other in &outs[1..] {
        assert_same_reports(&outs[0], other, "between thread counts or runs");
        let a = std::fs::read_to_string(outs[0].join("summary.json")).unwrap();
        let b = std::fs::read_to_string(other.join("summary.json")).unwrap();
        assert_eq!(deterministic_part(&a), deterministic_part(&b));
    }
    // Atomic writes leave no temporary files behind.
    let leftovers: Vec<_> = std::fs::read_dir(&outs[0])
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn rerun_replaces_reports_in_place() {
    let w = Workdir::new();
    let out = w.path("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("pairs.csv"), "stale").unwrap();
    let o = w.run(&[
        "scan",
        "fixtures/relations/corpus.jsonl",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    assert!(w.read("out/pairs.csv").starts_with("doc_a,doc_b,relation"));
}

#[test]
fn a_run_that_fails_while_writing_leaves_no_summary() {
    let w = Workdir::new();
    let corpus = fixture("relations/corpus.jsonl");
    let (out, _) = w.scan_ok(&[&corpus]);
    assert!(out.join("summary.json").exists());
    // outlets.csv cannot be replaced by a file once it is a directory.
    std::fs::remove_file(out.join("outlets.csv")).unwrap();
    std::fs::create_dir(out.join("outlets.csv")).unwrap();
    let o = w.run(&["scan", &corpus, "--out", out.to_str().unwrap()]);
    assert_ne!(code(&o), 0);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("outlets.csv"), "{err}");
    // The earlier run's summary is gone, so the directory does not pass
    // for a finished run.
    assert!(!out.join("summary.json").exists());
}

#[test]
fn html_report_is_self_contained_and_lists_stories() {
    let w = Workdir::new();
    w.scan_ok(&["fixtures/relations/corpus.jsonl"]);
    let html = w.read("out/report.html");
    for external in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(
            !html.contains(external),
            "report.html loads an external asset: {external}"
        );
    }
    // The embedded data names the story, its origin and the passages to highlight.
    assert!(html.contains("Sce6f97fcfd63"));
    assert!(html.contains("No Ukraine breakthrough"));
    assert!(
        html.contains("\"passages\":[[0,5604,0,5604,\"verbatim\",1.0"),
        "rerun passage offsets embedded"
    );
    assert!(
        !html.contains("</script><"),
        "data cannot close its script element early"
    );
}

#[test]
fn compare_prints_scores_and_passages_from_files_or_ids() {
    let w = Workdir::new();
    let o = w.run(&[
        "compare",
        "followup",
        "wire",
        "--in",
        "fixtures/relations/corpus.jsonl",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("relation partial"), "{text}");
    assert!(text.contains("1 shared passages"), "{text}");
    assert!(
        text.contains("A 1004..1501  B 3027..3524  verbatim"),
        "{text}"
    );
    assert!(
        !text.contains("\x1b["),
        "no colour when stdout is not a terminal"
    );

    let o = w.run(&[
        "compare",
        "truncated",
        "wire",
        "--in",
        "fixtures/relations/corpus.jsonl",
        "--csv",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut rdr = csv::Reader::from_reader(o.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let cells: Vec<&str> = rows[0].iter().skip(2).take(5).collect();
    assert_eq!(cells, ["0", "2185", "0", "2185", "verbatim"]);

    // Two files: the seeds are reworded; only the reworded view relates them.
    let args = [
        "compare",
        "fixtures/seeds/001_7d6c65d472a597a6.txt",
        "fixtures/seeds/004_d07a4059c8cfa16f.txt",
    ];
    let o = w.run(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("relation partial"), "{text}");
    assert!(text.contains("reworded, cosine"), "{text}");
    assert!(text.contains("B: Mr Putin has indicated"), "{text}");
    let o = w.run(&[args[0], args[1], args[2], "--no-reworded"]);
    assert!(stdout(&o).contains("relation none"), "{}", stdout(&o));

    let o = w.run(&[
        "compare",
        "nope",
        "wire",
        "--in",
        "fixtures/relations/corpus.jsonl",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no article with id 'nope'"));
}

#[cfg(unix)]
#[test]
fn directory_symlink_loops_end() {
    let w = Workdir::new();
    let dir = w.path("articles");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::copy(fixture("seeds/000_0b100eb329b44137.txt"), dir.join("a.txt")).unwrap();
    std::fs::copy(
        fixture("seeds/001_7d6c65d472a597a6.txt"),
        dir.join("sub/b.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("sub/loop")).unwrap();
    w.scan_ok(&[dir.to_str().unwrap()]);
    assert_eq!(w.json("out/summary.json")["records"]["scanned"], 2);
}

/// A small outlet that updated a wire story through the day carries
/// eight versions of it: they are reruns of the wire copy, not the
/// outlet's furniture (the outlet rule counts near-identical pages once).
#[test]
fn versions_of_a_story_at_one_outlet_rerun_it() {
    let w = Workdir::new();
    let text = std::fs::read_to_string(fixture("seeds/001_7d6c65d472a597a6.txt")).unwrap();
    let versions = (0..8).map(|i| {
        let update = format!("Updated at {} o'clock with new details.\n\n", i + 1);
        serde_json::json!({"id": format!("v{i}"), "outlet": "Small Daily", "text": update + &text})
    });
    let wire = serde_json::json!({"id": "wire", "outlet": "AP", "text": text});
    write_jsonl(&w.path("versions.jsonl"), versions.chain([wire]));
    w.scan_ok(&[w.path("versions.jsonl").to_str().unwrap(), "--no-passages"]);
    let s = w.json("out/summary.json");
    assert_eq!(s["stories"], 1);
    assert_eq!(s["documents_in_stories"], 9);
    let pairs = csv_rows(&w.path("out/pairs.csv"));
    assert!(
        pairs
            .iter()
            .any(|r| r[0] == "v0" && r[1] == "wire" && r[2] == "rerun")
    );
}

#[test]
fn an_article_repeated_past_the_bucket_cap_still_forms_one_story() {
    let w = Workdir::new();
    let text = std::fs::read_to_string(fixture("seeds/001_7d6c65d472a597a6.txt")).unwrap();
    // Three outlets each carry the article 100 times: that makes it a
    // duplicate to report, not any outlet's furniture.
    let copies = (0..300).map(|i| {
        serde_json::json!({"id": format!("copy{i:03}"), "outlet": format!("Outlet {}", i % 3), "text": text})
    });
    write_jsonl(&w.path("copies.jsonl"), copies);
    w.scan_ok(&[w.path("copies.jsonl").to_str().unwrap(), "--no-passages"]);
    let s = w.json("out/summary.json");
    // Identical copies never reach the LSH buckets: the first takes part in
    // pairing, the 299 others are chained to one another (the group is over
    // the 200 cap), which is linear, not the 44,850 pairs of 300 copies.
    assert_eq!(s["identical_copies"], 299);
    assert_eq!(s["candidates"], 0);
    assert_eq!(s["stories"], 1);
    assert_eq!(s["documents_in_stories"], 300);
    assert_eq!(s["verified_pairs"], 299);
    let pairs = csv_rows(&w.path("out/pairs.csv"));
    assert!(pairs.iter().all(|r| r[2] == "rerun" && r[3] == "1.0000"));
}

#[test]
fn a_few_identical_copies_get_every_relation_of_their_first() {
    let w = Workdir::new();
    let corpus = std::fs::read_to_string(fixture("relations/corpus.jsonl")).unwrap();
    let wire = corpus
        .lines()
        .find(|l| l.contains("\"id\": \"wire\""))
        .unwrap();
    let mut jsonl = corpus.clone();
    for i in 0..3 {
        jsonl.push_str(&wire.replace("\"id\": \"wire\"", &format!("\"id\": \"wire{i}\"")));
        jsonl.push('\n');
    }
    std::fs::write(w.path("c.jsonl"), jsonl).unwrap();
    w.scan_ok(&[w.path("c.jsonl").to_str().unwrap(), "--no-passages"]);
    assert_eq!(w.json("out/summary.json")["identical_copies"], 3);
    let pairs = csv_rows(&w.path("out/pairs.csv"));
    let row = |a: &str, b: &str| pairs.iter().find(|r| r[0] == a && r[1] == b).cloned();
    // Every copy relates to the others and to whatever the wire relates to,
    // with the same scores.
    for c in ["wire0", "wire1", "wire2"] {
        assert_eq!(row("wire", c).unwrap()[2], "rerun");
        let t = row("truncated", c).unwrap();
        let orig = row("truncated", "wire").unwrap();
        assert_eq!(t[2..8], orig[2..8], "{t:?} vs {orig:?}");
    }
    assert_eq!(row("wire0", "wire1").unwrap()[3], "1.0000");
}

#[test]
fn no_passages_leaves_no_passages_csv() {
    let w = Workdir::new();
    let corpus = fixture("relations/corpus.jsonl");
    let (out, _) = w.scan_ok(&[&corpus]);
    assert!(out.join("passages.csv").exists());
    w.scan_ok(&[&corpus, "--no-passages"]);
    assert!(
        !out.join("passages.csv").exists(),
        "a stale passages.csv would be scored as this run's"
    );
    assert_eq!(w.json("out/summary.json")["alignment"], false);
}

#[test]
fn no_html_skips_the_page_and_changes_no_table() {
    let w = Workdir::new();
    let corpus = fixture("relations/corpus.jsonl");
    let tables = ["pairs.csv", "stories.csv", "passages.csv", "outlets.csv"];
    let (out, _) = w.scan_ok(&[&corpus]);
    assert!(out.join("report.html").exists());
    let before: Vec<String> = tables.iter().map(|f| w.read(&format!("out/{f}"))).collect();
    w.scan_ok(&[&corpus, "--no-html"]);
    assert!(
        !out.join("report.html").exists(),
        "a stale report.html would pass for this run's"
    );
    for (f, before) in tables.iter().zip(&before) {
        assert_eq!(&w.read(&format!("out/{f}")), before, "{f} changed");
    }
    assert!(out.join("summary.json").exists());
}

/// Texts of plain JSONL are let go after shingling and read back by offset
/// by the stages that need them: the reworded view, alignment and the page.
/// A gzip input cannot be re-read that way: its texts go to a temporary
/// file in `--out` and are read back from there, and the file is gone
/// once the run ends. In every mode, every report must be the same either
/// way, the HTML page included.
#[test]
fn letting_texts_go_changes_no_report() {
    let w = Workdir::new();
    let corpus = w.synth("c.jsonl", 1200, 4);
    let gz = w.gzip("c.jsonl.gz", &std::fs::read(&corpus).unwrap());
    let modes: [(&str, &[&str]); 3] = [
        ("verbatim", &["--no-passages", "--no-reworded"]),
        ("reworded", &["--no-passages"]),
        ("default", &[]),
    ];
    for (mode, flags) in modes {
        let mut summaries = Vec::new();
        for (name, input) in [("plain", &corpus), ("gz", &gz)] {
            let out = w.path(&format!("{mode}-{name}"));
            let mut args = vec!["scan", input.to_str().unwrap()];
            args.extend_from_slice(flags);
            args.extend(["--html-text-mb", "1", "--out", out.to_str().unwrap()]);
            let o = w.run(&args);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
            summaries.push(w.json(&format!("{mode}-{name}/summary.json")));
        }
        assert_eq!(summaries[0]["texts_dropped"], 1200, "{mode}");
        let reread = summaries[0]["texts_reread"].as_u64().unwrap();
        // The page alone reads back fewer than all; the reworded view reads
        // every document that is not a copy, and alignment every document
        // of a pair, so with both some are read twice.
        let expected = match mode {
            "verbatim" => 51..1200,
            "reworded" => 300..2400,
            _ => 600..3600,
        };
        assert!(
            expected.contains(&reread),
            "{mode}: {reread} texts read back"
        );
        assert_eq!(summaries[0]["texts_spilled"], 0, "{mode}");
        if mode == "default" {
            // Every passage is of one kind, and each kind is counted.
            let n = |k: &str| summaries[0][k].as_u64().unwrap();
            assert!(n("edited_passages") > 0 && n("verbatim_passages") > 0);
            assert_eq!(
                n("passages"),
                n("verbatim_passages") + n("edited_passages") + n("reworded_passages")
            );
        }
        assert_eq!(summaries[1]["texts_dropped"], 1200, "{mode}");
        assert_eq!(summaries[1]["texts_spilled"], 1200, "{mode}");
        assert_eq!(summaries[1]["texts_reread"], reread, "{mode}");
        let left: Vec<_> = std::fs::read_dir(w.path(&format!("{mode}-gz")))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|f| f.starts_with("wiretrace-texts"))
            .collect();
        assert!(left.is_empty(), "{mode}: {left:?} left in --out");
        let mut files = vec!["pairs.csv", "stories.csv", "outlets.csv", "report.html"];
        if mode == "default" {
            files.push("passages.csv");
        }
        for f in files {
            let a = w.read(&format!("{mode}-plain/{f}"));
            let b = w.read(&format!("{mode}-gz/{f}"));
            assert!(a.len() > 100, "{mode}: {f} is empty");
            assert!(a == b, "{mode}: {f} differs when texts are let go");
        }
    }
}

/// Texts that cannot be read again go to a file in the spill directory;
/// when it cannot be made, the scan stops and names it.
#[test]
fn an_unwritable_spill_directory_is_named() {
    use wiretrace::config::ScanConfig;
    let w = Workdir::new();
    let blocker = w.path("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let cfg = ScanConfig {
        spill_dir: Some(blocker.join("spill")),
        ..ScanConfig::default()
    };
    let input = std::path::PathBuf::from(fixture("formats/seeds.jsonl.gz"));
    let Err(err) = wiretrace::scan::scan(&[input], &cfg, &wiretrace::scan::Silent) else {
        panic!("the spill directory cannot be made");
    };
    let message = err.to_string();
    let named = blocker.join("spill").display().to_string();
    assert!(message.contains(&named), "{message}");
}

/// A record read back by offset must still be the record that was read.
#[test]
fn a_file_changed_during_the_scan_is_named_not_misread() {
    use wiretrace::config::ScanConfig;
    let w = Workdir::new();
    let corpus = w.synth("c.jsonl", 300, 2);
    let mut cfg = ScanConfig::default();
    cfg.align.enabled = false;
    cfg.reword.enabled = false;
    let mut out = wiretrace::scan::scan(
        std::slice::from_ref(&corpus),
        &cfg,
        &wiretrace::scan::Silent,
    )
    .unwrap();
    assert_eq!(out.summary.texts_dropped, 300);
    let d = wiretrace::document::DocId(5);
    assert!(out.docs[5].text.is_empty());
    assert_eq!(
        out.restore_texts(&[d], &cfg.ingest, &wiretrace::scan::Silent)
            .unwrap(),
        1
    );
    assert_eq!(out.docs[5].text.len(), out.text_len(d));
    assert!(out.docs[5].text.len() > 100);
    // Shift every record by one byte: the offsets now point elsewhere.
    let data = std::fs::read(&corpus).unwrap();
    std::fs::write(&corpus, [b"\n".as_slice(), &data].concat()).unwrap();
    let err = out
        .restore_texts(
            &[wiretrace::document::DocId(9)],
            &cfg.ingest,
            &wiretrace::scan::Silent,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("c.jsonl") && err.contains("changed during the scan"),
        "{err}"
    );
}

/// What a scan told its observer, in order.
#[derive(Debug, PartialEq)]
enum Event {
    Start(wiretrace::observe::Stage),
    Step(String, Option<u64>),
    Advance(u64),
    End(wiretrace::observe::Stage),
}

#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<Event>>);

impl wiretrace::observe::Observer for Recorder {
    fn stage_start(&self, stage: wiretrace::observe::Stage, what: &str, total: Option<u64>) {
        let mut e = self.0.lock().unwrap();
        e.push(Event::Start(stage));
        e.push(Event::Step(what.to_string(), total));
    }
    fn step(&self, what: &str, total: Option<u64>) {
        self.0
            .lock()
            .unwrap()
            .push(Event::Step(what.to_string(), total));
    }
    fn advance(&self, units: u64, _bytes: u64) {
        self.0.lock().unwrap().push(Event::Advance(units));
    }
    fn stage_end(&self, stage: wiretrace::observe::Stage) {
        self.0.lock().unwrap().push(Event::End(stage));
    }
}

/// Every stage shows progress: each step with a known total is advanced to
/// exactly that total before the next step, and the texts read back add up
/// to `texts_reread`; with the shingle sets in memory and in a file.
#[test]
fn every_counted_step_reaches_its_total() {
    let w = Workdir::new();
    let corpus = w.synth("c.jsonl", 400, 3);
    let mut cfg = wiretrace::config::ScanConfig::default();
    steps_reach_their_totals(&corpus, &cfg, false);
    cfg.memory_limit = Some(64 << 10);
    cfg.spill_dir = Some(w.path("."));
    steps_reach_their_totals(&corpus, &cfg, true);
}

fn steps_reach_their_totals(
    corpus: &std::path::Path,
    cfg: &wiretrace::config::ScanConfig,
    sets_on_disk: bool,
) {
    use wiretrace::observe::Stage;
    let rec = Recorder::default();
    let out = wiretrace::scan::scan(&[corpus.to_path_buf()], cfg, &rec).unwrap();
    assert_eq!(out.summary.sets_on_disk_bytes > 0, sets_on_disk);
    let events = rec.0.into_inner().unwrap();
    let stages: Vec<Stage> = events
        .iter()
        .filter_map(|e| match e {
            Event::Start(s) => Some(*s),
            _ => None,
        })
        .collect();
    use Stage::*;
    assert_eq!(
        stages,
        [
            Read,
            Boilerplate,
            Sketch,
            Lsh,
            Passages,
            Verify,
            Reword,
            Stories,
            Align
        ]
    );
    let (mut open, mut step, mut done) = (None, None::<(String, Option<u64>)>, 0u64);
    let (mut counted_steps, mut read_back) = (0, 0);
    let mut close = |step: &Option<(String, Option<u64>)>, done: u64| {
        if let Some((what, Some(total))) = step {
            assert_eq!(done, *total, "step {what:?}");
            counted_steps += 1;
            if what == "texts read back" {
                read_back += total;
            }
        }
    };
    for e in &events {
        match e {
            Event::Start(s) => {
                assert!(open.is_none(), "{s:?} starts inside {open:?}");
                open = Some(*s);
            }
            Event::Step(what, total) => {
                assert!(open.is_some(), "step {what:?} outside a stage");
                close(&step, done);
                (step, done) = (Some((what.clone(), *total)), 0);
            }
            Event::Advance(n) => done += n,
            Event::End(s) => {
                assert_eq!(open, Some(*s));
                close(&step, done);
                (open, step, done) = (None, None, 0);
            }
        }
    }
    assert!(open.is_none());
    // Read is a spinner; boilerplate, sketch, verify, two reword steps and
    // align count at least, plus the re-reads.
    assert!(counted_steps >= 7, "{counted_steps} counted steps");
    assert!(read_back > 0);
    assert_eq!(read_back, out.summary.texts_reread);
}

/// The README's example is what the scan prints (but its time and memory)
/// and what `pairs.csv` holds for the rows it greps.
#[test]
fn the_readme_example_is_what_the_scan_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let example = readme
        .split("$ wiretrace scan fixtures/seeds fixtures/relations/corpus.jsonl --out out/\n")
        .nth(1)
        .expect("the example in the README");
    let (printed, rest) = example
        .split_once("\n$ grep")
        .expect("the grep in the example");
    let grepped: Vec<&str> = rest
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    let w = Workdir::new();
    let out = w.path("out");
    let o = w.run(&[
        "scan",
        "fixtures/seeds",
        "fixtures/relations/corpus.jsonl",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let timeless = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("reports in "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(timeless(&stdout(&o)), timeless(printed));
    let pairs = std::fs::read_to_string(out.join("pairs.csv")).unwrap();
    let wanted: Vec<&str> = pairs
        .lines()
        .filter(|l| {
            [
                "truncated,wire",
                "followup,wire",
                "rerun,wire",
                "reworded,wire",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .collect();
    assert_eq!(wanted, grepped);
}

#[test]
fn compressed_input_keeps_no_texts_the_tables_do_not_need() {
    let w = Workdir::new();
    let corpus = w.synth("c.jsonl", 600, 5);
    // Without headlines, so that the printed summary titles stories by
    // their texts' first words.
    let mut lines = String::new();
    for line in std::fs::read_to_string(&corpus).unwrap().lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        v.as_object_mut().unwrap().remove("title");
        lines.push_str(&v.to_string());
        lines.push('\n');
    }
    let plain = w.path("untitled.jsonl");
    std::fs::write(&plain, &lines).unwrap();
    let gz = w.gzip("untitled.jsonl.gz", lines.as_bytes());
    let scan = |input: &std::path::Path, out: &str, extra: &[&str]| {
        let mut args = vec![input.to_str().unwrap(), "--no-passages", "--no-reworded"];
        args.extend_from_slice(extra);
        let (dir, o) = w.scan_to(out, &args);
        let titles: Vec<String> = stdout(&o)
            .lines()
            .filter(|l| l.contains(" docs  origin "))
            .map(String::from)
            .collect();
        let s = summary(&dir);
        (dir, s, titles)
    };
    let (p, p_summary, p_titles) = scan(&plain, "plain", &["--no-html"]);
    let (z, z_summary, z_titles) = scan(&gz, "gz", &["--no-html"]);
    // A plain file lets every text go and reads the story origins back; a
    // compressed one cannot be read again, and without the page nothing
    // needs more of a text than the words that title its story.
    for s in [&p_summary, &z_summary] {
        assert_eq!(s["texts_dropped"], 600);
        assert_eq!(s["texts_spilled"], 0, "cut, not written out");
    }
    assert_eq!(p_titles.len(), 5, "five stories printed");
    assert_eq!(p_titles, z_titles);
    for f in ["pairs.csv", "stories.csv", "outlets.csv"] {
        assert_eq!(
            std::fs::read(p.join(f)).unwrap(),
            std::fs::read(z.join(f)).unwrap(),
            "{f}"
        );
    }
    // The page reads texts: compressed ones go whole to a temporary file.
    let (_, page_summary, _) = scan(&gz, "page", &[]);
    assert_eq!(page_summary["texts_dropped"], 600);
    assert_eq!(page_summary["texts_spilled"], 600);
}

/// A rerun that rewrote one long sentence of the wire copy shares one
/// passage with it, holes included, not two passages around the sentence.
#[test]
fn a_sentence_rewritten_in_place_leaves_one_passage() {
    let w = Workdir::new();
    let text = std::fs::read_to_string(fixture("seeds/001_7d6c65d472a597a6.txt")).unwrap();
    let paragraphs: Vec<&str> = text.split("\n\n").collect();
    let (x, y) = paragraphs.split_at(paragraphs.len() / 2);
    let (x, y) = (x.join("\n\n"), y.join("\n\n"));
    // 50 words each, sharing almost none: too long for one chain's gap.
    let said = "Officials in the capital said on Tuesday that the delegation would travel north by train before the talks, carrying letters from the president, the foreign minister and the heads of the three largest parties, and that no date had yet been fixed for the next round of meetings with the allies.";
    let wrote = "A spokesman wrote late on Monday evening that envoys were expected to fly to the border region ahead of any negotiation, bringing messages signed by both chambers of parliament as well as several regional governors, although he gave no timetable for further sessions between Kyiv, Washington and European partners.";
    let wire = serde_json::json!({"id": "wire", "text": format!("{x}\n\n{said}\n\n{y}")});
    let rerun = serde_json::json!({"id": "rerun", "text": format!("{x}\n\n{wrote}\n\n{y}")});
    write_jsonl(&w.path("pair.jsonl"), [rerun, wire]);
    let input = w.path("pair.jsonl");
    let passages = |out: &str, extra: &[&str]| {
        let args: Vec<&str> = [input.to_str().unwrap(), "--no-reworded"]
            .iter()
            .chain(extra)
            .copied()
            .collect();
        let (dir, _) = w.scan_to(out, &args);
        csv_rows(&dir.join("passages.csv"))
    };
    let joined = passages("joined", &[]);
    assert_eq!(joined.len(), 1, "{joined:?}");
    let row = &joined[0];
    assert_eq!(row[6], "edited");
    // Side A is the rerun (ids in order). The passage runs from the first
    // paragraph across the hole to the last.
    assert_eq!((&row[0][..], &row[1][..]), ("rerun", "wire"));
    assert!(row[8].contains(wrote) && row[9].contains(said));
    assert!(row[8].starts_with("No Ukraine breakthrough"));
    assert!(row[8].contains("Jari Tanner in Tallinn, Estonia, contributed to this report"));
    let apart = passages("apart", &["--max-hole", "0"]);
    assert_eq!(apart.len(), 2, "{apart:?}");
    assert!(apart.iter().all(|r| !r[8].contains(wrote)));
}

/// `--no-passage-text` writes the same passages without their texts.
#[test]
fn passages_can_leave_their_texts_out() {
    let w = Workdir::new();
    let inputs = ["fixtures/seeds", "fixtures/relations/corpus.jsonl"];
    let (full, _) = w.scan_to("full", &inputs);
    let mut args = inputs.to_vec();
    args.push("--no-passage-text");
    let (bare, _) = w.scan_to("bare", &args);
    let (full_rows, bare_rows) = (
        csv_rows(&full.join("passages.csv")),
        csv_rows(&bare.join("passages.csv")),
    );
    assert!(full_rows.len() > 5);
    let cut: Vec<Vec<String>> = full_rows.iter().map(|r| r[..8].to_vec()).collect();
    assert_eq!(bare_rows, cut);
    let header = std::fs::read_to_string(bare.join("passages.csv")).unwrap();
    assert_eq!(
        header.lines().next(),
        Some("doc_a,doc_b,a_start,a_end,b_start,b_end,kind,similarity")
    );
    assert_eq!(w.json("bare/summary.json")["passage_text"], false);
    assert_eq!(w.json("full/summary.json")["passage_text"], true);
    for f in ["pairs.csv", "stories.csv", "outlets.csv"] {
        assert_eq!(
            std::fs::read(full.join(f)).unwrap(),
            std::fs::read(bare.join(f)).unwrap(),
            "{f}"
        );
    }
}

/// `--excel`: each CSV starts with a byte-order mark, a passage longer than
/// an Excel cell is cut to one, and nothing else changes.
#[test]
fn excel_csvs_have_a_bom_and_cells_excel_can_hold() {
    let w = Workdir::new();
    // About 45,000 characters, some of two bytes.
    let text: String = (0..6000)
        .map(|i| format!("mot{i}é"))
        .collect::<Vec<_>>()
        .join(" ");
    let docs = ["wire", "copy"].map(|id| serde_json::json!({"id": id, "text": text}));
    write_jsonl(&w.path("long.jsonl"), docs);
    let input = w.path("long.jsonl");
    let input = input.to_str().unwrap();
    let (plain, _) = w.scan_to("plain", &[input, "--no-reworded"]);
    let (excel, _) = w.scan_to("excel", &[input, "--no-reworded", "--excel"]);
    for f in ["pairs.csv", "stories.csv", "outlets.csv", "passages.csv"] {
        let (a, b) = (
            std::fs::read(plain.join(f)).unwrap(),
            std::fs::read(excel.join(f)).unwrap(),
        );
        assert!(b.starts_with(b"\xEF\xBB\xBF"), "{f}");
        if f != "passages.csv" {
            assert_eq!(&b[3..], &a[..], "{f}");
        }
    }
    let rows = csv_rows(&plain.join("passages.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][8].chars().count(), text.chars().count());
    let mut rdr = csv::Reader::from_path(excel.join("passages.csv")).unwrap();
    let cut: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    // Offsets, kind and similarity are the whole passage's; the quotes are
    // cut to a cell.
    let head: Vec<&str> = cut[0].iter().take(8).collect();
    assert_eq!(head, rows[0][..8]);
    for side in [8, 9] {
        let cell = cut[0].get(side).unwrap();
        assert_eq!(cell.encode_utf16().count(), 32_767);
        assert!(cell.ends_with('…'));
        assert!(text.starts_with(cell.trim_end_matches('…')));
    }
}

/// The space check's bound is a floor of what the tables take, whatever the
/// style, and a disk with less free space than it stops the run before any
/// table is written, naming what would fit.
#[test]
fn the_reports_space_floor_is_below_what_they_take() {
    use wiretrace::report::{CsvStyle, check_space, least_table_bytes, write_tables};
    let w = Workdir::new();
    let inputs = [
        root().join("fixtures/seeds"),
        root().join("fixtures/relations/corpus.jsonl"),
    ];
    let cfg = wiretrace::config::ScanConfig::default();
    let mut out = wiretrace::scan::scan(&inputs, &cfg, &wiretrace::scan::Silent).unwrap();
    let need = wiretrace::html::texts_needed(&out, 64 << 20);
    out.restore_texts(&need, &cfg.ingest, &wiretrace::scan::Silent)
        .unwrap();
    assert!(out.summary.passages > 10);
    let table_bytes = |dir: &std::path::Path| -> u64 {
        ["pairs.csv", "stories.csv", "passages.csv"]
            .iter()
            .map(|f| std::fs::metadata(dir.join(f)).unwrap().len())
            .sum()
    };
    for (excel, text) in [(false, true), (true, true), (false, false)] {
        out.summary.passage_text = text;
        let style = CsvStyle { excel };
        let dir = w.path(&format!("r-{excel}-{text}"));
        write_tables(&dir, &out, style).unwrap();
        let floor = least_table_bytes(&out, style);
        let written = table_bytes(&dir);
        assert!(floor.total <= written, "{floor:?} > {written}");
        // Not a vacuous floor: at least half of what is written.
        assert!(floor.total * 2 > written, "{floor:?} against {written}");
        assert_eq!(floor.passage_text > 0, text);
    }
    out.summary.passage_text = true;
    let style = CsvStyle::default();
    let floor = least_table_bytes(&out, style);
    let dir = w.path("full-disk");
    assert!(check_space(&dir, &out, style, Some(floor.total)).is_ok());
    assert!(check_space(&dir, &out, style, None).is_ok());
    let err = check_space(&dir, &out, style, Some(floor.total - 1))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("full-disk") && err.contains("not enough disk space"),
        "{err}"
    );
    assert!(err.contains("--no-passage-text"), "{err}");
    // When even the tables without quotes do not fit, the flag would not help.
    let err = check_space(&dir, &out, style, Some(0))
        .unwrap_err()
        .to_string();
    assert!(!err.contains("--no-passage-text"), "{err}");
}

/// A JSONL file that starts with a UTF-8 byte-order mark (as Windows tools
/// write it) loses no record, and its first record reads back by offset.
#[test]
fn a_byte_order_mark_before_the_first_record_is_not_a_bad_record() {
    let w = Workdir::new();
    let text = "The city council voted on Tuesday to close the old bridge over the river \
                for two years of repairs, officials said after a long public meeting.";
    let lines: Vec<String> = ["a", "b"]
        .iter()
        .map(|id| serde_json::json!({"id": id, "text": text}).to_string())
        .collect();
    let mut data = b"\xEF\xBB\xBF".to_vec();
    data.extend_from_slice(lines.join("\n").as_bytes());
    data.push(b'\n');
    std::fs::write(w.path("bom.jsonl"), data).unwrap();
    let input = w.path("bom.jsonl");
    let (out, o) = w.scan_to("out", &[input.to_str().unwrap(), "--min-passage", "5"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = common::summary(&out);
    assert_eq!(s["records"]["scanned"], 2);
    let pairs = csv_rows(&out.join("pairs.csv"));
    assert_eq!(relation(&pairs, "a", "b").as_deref(), Some("rerun"));
    // The passage (its words: the last full stop is not one) quotes the
    // first record's text, read back past the mark.
    let passages = csv_rows(&out.join("passages.csv"));
    assert_eq!(passages.len(), 1);
    let words = text.trim_end_matches('.');
    assert_eq!(passages[0][8], words);
    assert_eq!(passages[0][9], words);
}

/// Ctrl-C in the middle of a run leaves none of its temporary files behind:
/// here the texts of a compressed input, which the scan writes to `--out`
/// (gigabytes at a million articles).
#[cfg(unix)]
#[test]
fn an_interrupted_scan_leaves_no_temporary_files() {
    use std::process::{Command, Stdio};
    let w = Workdir::new();
    let corpus = w.synth("c.jsonl", 3000, 4);
    let gz = w.gzip("c.jsonl.gz", &std::fs::read(&corpus).unwrap());
    let out = w.path("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wiretrace"))
        .args([
            "scan",
            gz.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let temporary = |dir: &std::path::Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with("wiretrace-texts-") || n.starts_with(".wiretrace-"))
                    .collect()
            })
            .unwrap_or_default()
    };
    // Wait until the texts' file exists (it lives until the run's end).
    let started = std::time::Instant::now();
    while temporary(&out).is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the scan ended before its temporary file was seen"
        );
        assert!(
            started.elapsed().as_secs() < 120,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
    assert_eq!(temporary(&out), Vec::<String>::new());
}

/// Spreadsheets in locales with a decimal comma export CSV with semicolons;
/// tab-separated exports are common too. The header row says which.
#[test]
fn semicolon_and_tab_separated_exports_are_read() {
    let w = Workdir::new();
    let text = "The city council voted on Tuesday to close the old bridge over the river \
                for two years of repairs, officials said after a long public meeting.";
    for (name, sep) in [("semi.csv", ";"), ("tabs.tsv", "\t")] {
        let mut data = format!("id{sep}outlet{sep}text\n");
        for (id, outlet) in [("a", "Le Matin, Lausanne"), ("b", "Der Bund")] {
            data += &format!("{id}{sep}\"{outlet}\"{sep}\"{text}\"\n");
        }
        std::fs::write(w.path(name), data).unwrap();
        let input = w.path(name);
        let (out, _) = w.scan_to(
            &format!("out-{name}"),
            &[input.to_str().unwrap(), "--no-reworded"],
        );
        let s = common::summary(&out);
        assert_eq!(s["records"]["scanned"], 2, "{name}");
        let pairs = csv_rows(&out.join("pairs.csv"));
        assert_eq!(
            relation(&pairs, "a", "b").as_deref(),
            Some("rerun"),
            "{name}"
        );
        let stories = csv_rows(&out.join("stories.csv"));
        assert!(
            stories.iter().any(|r| r[2] == "Le Matin, Lausanne"),
            "{name}"
        );
    }
}

/// Many exports write `.json` as one array of records rather than JSON
/// Lines: its records are read, numbered in place of lines; one that is not
/// an object is a bad record, and a syntax error ends the file as one bad
/// record that says so.
#[test]
fn a_json_array_file_is_read_record_by_record() {
    let w = Workdir::new();
    let text = "The city council voted on Tuesday to close the old bridge over the river \
                for two years of repairs, officials said after a long public meeting.";
    let records = serde_json::json!([
        {"id": "a", "text": text, "extra": [1, {"deep": null}]},
        42,
        {"id": "b", "outlet": "Der Bund", "text": text},
    ]);
    std::fs::write(
        w.path("export.json"),
        serde_json::to_string_pretty(&records).unwrap(),
    )
    .unwrap();
    let input = w.path("export.json");
    let o = w.run(&[
        "scan",
        input.to_str().unwrap(),
        "--out",
        w.path("out").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "export.json:2: malformed_json: record 2 of the array: a number, not a JSON object"
        ),
        "{}",
        stderr(&o)
    );
    let out = w.path("out");
    let s = common::summary(&out);
    assert_eq!(s["records"]["read"], 3);
    assert_eq!(s["records"]["scanned"], 2);
    let pairs = csv_rows(&out.join("pairs.csv"));
    assert_eq!(relation(&pairs, "a", "b").as_deref(), Some("rerun"));
    // The texts, which cannot be read again by offset, still reach the passages.
    let passages = csv_rows(&out.join("passages.csv"));
    assert_eq!(passages[0][8], text.trim_end_matches('.'));

    // Cut short: the records before the break are read, the break is one
    // bad record, and --strict stops there.
    let whole = serde_json::to_string(&records).unwrap();
    std::fs::write(w.path("cut.json"), &whole[..whole.len() - 40]).unwrap();
    let cut = w.path("cut.json");
    let o = w.run(&[
        "scan",
        cut.to_str().unwrap(),
        "--out",
        w.path("out-cut").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the rest of the file is not read"),
        "{}",
        stderr(&o)
    );
    let s = common::summary(&w.path("out-cut"));
    assert_eq!(s["records"]["scanned"], 1);
    assert_eq!(s["records"]["skipped"], 2);
    let o = w.run(&[
        "scan",
        input.to_str().unwrap(),
        "--out",
        w.path("out-strict").to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("record 2 of the array"),
        "{}",
        stderr(&o)
    );
}

/// Dates in the forms dumps carry (RSS's RFC 2822, Unix times, GDELT's
/// compact stamps) order a story like ISO 8601 ones, and the reports show
/// them in ISO 8601 so the date column sorts.
#[test]
fn dates_in_other_forms_order_stories_and_show_in_iso() {
    let w = Workdir::new();
    let text = "The city council voted on Tuesday to close the old bridge over the river \
                for two years of repairs, officials said after a long public meeting.";
    let docs = [
        ("rss", "Wed, 12 Jan 2022 18:00:00 GMT"),
        ("unix", "1641945600"),
        ("iso", "2022-01-13T09:00:00+01:00"),
        ("gdelt", "20220112120000"),
    ]
    .map(|(id, date)| serde_json::json!({"id": id, "date": date, "text": text}));
    write_jsonl(&w.path("dated.jsonl"), docs);
    let input = w.path("dated.jsonl");
    let (out, _) = w.scan_to("out", &[input.to_str().unwrap(), "--no-reworded"]);
    let stories = csv_rows(&out.join("stories.csv"));
    let rows: Vec<(&str, &str, &str)> = stories
        .iter()
        .map(|r| (r[1].as_str(), r[3].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("unix", "2022-01-12T00:00:00Z", "origin"),
            ("gdelt", "2022-01-12T12:00:00Z", "rerun"),
            ("rss", "2022-01-12T18:00:00Z", "rerun"),
            ("iso", "2022-01-13T09:00:00+01:00", "rerun"),
        ]
    );
}
