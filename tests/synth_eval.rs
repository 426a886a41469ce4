//! `wiretrace synth` and `wiretrace eval`, and the quality goal on a synthetic corpus.

mod common;
use common::*;
use wiretrace::synth::Truth;

fn truths(path: &std::path::Path) -> Vec<Truth> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn texts(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn char_slice(text: &str, start: u64, end: u64) -> String {
    text.chars()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect()
}

#[test]
fn synth_is_deterministic_and_its_truth_matches_its_text() {
    let w = Workdir::new();
    let (a, b) = (w.synth("a.jsonl", 600, 5), w.synth("b.jsonl", 600, 5));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let docs = texts(&a);
    let truth = truths(&w.path("a.truth.jsonl"));
    assert_eq!(docs.len(), 600);
    assert_eq!(truth.len(), 600);
    // Paragraph text per (story, para) as written in copies without in-text edits.
    let mut clean: std::collections::HashMap<(String, u32), String> = Default::default();
    let mut checked = 0;
    for (d, t) in docs.iter().zip(&truth) {
        assert_eq!(d["id"].as_str().unwrap(), t.id);
        let text = d["text"].as_str().unwrap();
        let n = text.chars().count() as u64;
        let mut last_end = 0;
        for s in &t.segments {
            assert!(
                s.start >= last_end && s.start < s.end && s.end <= n,
                "{t:?}"
            );
            last_end = s.end;
            let slice = char_slice(text, s.start, s.end);
            assert!(
                !slice.contains("\n\n") && slice.trim() == slice,
                "segment is one paragraph: {slice:?}"
            );
            let unedited = !t.edits.iter().any(|e| {
                e.starts_with("substituted")
                    || e.starts_with("reworded")
                    || e.starts_with("noisy")
                    || e.starts_with("sentence_drop")
            });
            if unedited {
                let key = (s.story.clone(), s.para);
                match clean.get(&key) {
                    Some(prev) => {
                        assert_eq!(prev, &slice, "same paragraph, same text");
                        checked += 1;
                    }
                    None => {
                        clean.insert(key, slice);
                    }
                }
            }
        }
        if t.kind == "unrelated" {
            assert!(t.segments.is_empty());
        }
    }
    assert!(checked > 100, "enough paragraphs cross-checked: {checked}");
    // The mix of edits the generator promises is there.
    let all_edits: Vec<&str> = truth
        .iter()
        .flat_map(|t| t.edits.iter().map(|e| e.split(':').next().unwrap()))
        .collect();
    for e in [
        "verbatim",
        "truncated",
        "padded",
        "noisy",
        "substituted",
        "headline_rewritten",
        "dateline_dropped",
        "byline_changed",
        "paragraph_swap",
        "sentence_drop",
        "reworded",
    ] {
        assert!(all_edits.contains(&e), "no {e} edit in 600 articles");
    }
    assert!(truth.iter().any(|t| t.followup_of.is_some()));
    assert!(truth.iter().any(|t| t.kind == "agency"));
}

#[test]
fn scan_meets_the_quality_goal_on_a_synthetic_corpus() {
    let w = Workdir::new();
    let corpus = w.synth("c.jsonl", 4000, 11);
    let (out, _) = w.scan_ok(&[corpus.to_str().unwrap(), "-q"]);
    let (o, e) = w.eval(&w.path("c.truth.jsonl"), &out);
    let p = e["pairs"]["precision"].as_f64().unwrap();
    let r = e["pairs"]["recall"].as_f64().unwrap();
    assert!(p >= 0.99, "precision {p}\n{}", stdout(&o));
    assert!(r >= 0.95, "recall {r}\n{}", stdout(&o));
    for edit in e["recall_by_edit"].as_array().unwrap() {
        let (recall, story) = (
            edit["recall"].as_f64().unwrap(),
            edit["story_recall"].as_f64().unwrap(),
        );
        if edit["edit"] == "reworded" {
            // Below the other edits, and said so in the README: measured
            // here (4,000 articles) 0.878 pairwise and 0.940 placed in their
            // story; 0.912 and 0.981 at 20,000.
            assert!(recall >= 0.85 && story >= 0.9, "{edit}");
        } else {
            assert!(recall >= 0.9 && story >= 0.95, "{edit}");
        }
    }
    assert!(e["adjusted_rand_index"].as_f64().unwrap() >= 0.95);
    // Passages (PAN plagdet): >= 0.95 on verbatim and truncated reruns,
    // >= 0.90 with OCR noise and substitutions.
    let passages = e["passages"].as_array().unwrap();
    let plagdet = |subset: &str| {
        passages
            .iter()
            .find(|p| p["subset"] == subset)
            .unwrap_or_else(|| panic!("no {subset} in {passages:?}"))["plagdet"]
            .as_f64()
            .unwrap()
    };
    assert!(plagdet("rerun, verbatim or padded") >= 0.95, "{passages:?}");
    assert!(plagdet("rerun, truncated") >= 0.95, "{passages:?}");
    assert!(plagdet("rerun, OCR noise") >= 0.90, "{passages:?}");
    assert!(plagdet("rerun, substitutions") >= 0.90, "{passages:?}");
    // Reworded reruns: sentence-level passages, measured 0.91 at 20k articles.
    assert!(plagdet("rerun, reworded") >= 0.80, "{passages:?}");
    assert!(
        plagdet("copied passage (follow-up)") >= 0.90,
        "{passages:?}"
    );
    assert!(stdout(&o).contains("pairs (same story)"));
}

#[test]
fn eval_scores_hand_made_reports_exactly() {
    let w = Workdir::new();
    // Truth: stories s1 = {a, b, c}, s2 = {d, e}, s3 = {f}; f is a follow-up of s1.
    let truth = [
        ("a", "s1", None),
        ("b", "s1", None),
        ("c", "s1", None),
        ("d", "s2", None),
        ("e", "s2", None),
        ("f", "s3", Some("s1")),
    ];
    let lines: Vec<String> = truth
        .iter()
        .map(|(id, story, f)| {
            serde_json::json!({"id": id, "story": story, "kind": "rerun", "followup_of": f,
                               "edits": if *id == "c" { vec!["truncated:0.50"] } else { vec![] },
                               "segments": []})
            .to_string()
        })
        .collect();
    std::fs::write(w.path("t.truth.jsonl"), lines.join("\n") + "\n").unwrap();
    let rep = w.path("rep");
    std::fs::create_dir_all(&rep).unwrap();
    // Reported: a-b (TP), a-c (TP), d-e (TP), a-f (FP, follow-up), d-f (FP, unrelated),
    // b-e partial (ignored). Missed: b-c.
    std::fs::write(
        rep.join("pairs.csv"),
        "doc_a,doc_b,relation,jaccard,a_in_b,b_in_a,story\n\
         a,b,rerun,0.9,0.9,0.9,X\na,c,excerpt,0.4,0.4,1.0,X\nd,e,rerun,0.9,0.9,0.9,Y\n\
         a,f,excerpt,0.3,0.3,0.8,\nd,f,rerun,0.7,0.7,0.7,\nb,e,partial,0.1,0.1,0.1,\n",
    )
    .unwrap();
    // Stories: X = {a, b, c}, Y = {d, e, f}.
    std::fs::write(
        rep.join("stories.csv"),
        "story,doc,outlet,date,role,coverage\nX,a,,,origin,1\nX,b,,,rerun,1\nX,c,,,rerun,1\nY,d,,,origin,1\nY,e,,,rerun,1\nY,f,,,rerun,1\n",
    )
    .unwrap();
    let (_, e) = w.eval(&w.path("t.truth.jsonl"), &rep);
    assert_eq!(e["pairs"]["tp"], 3);
    assert_eq!(e["pairs"]["reported"], 5);
    assert_eq!(e["pairs"]["truth"], 4);
    assert!((e["pairs"]["precision"].as_f64().unwrap() - 0.6).abs() < 1e-9);
    assert!((e["pairs"]["recall"].as_f64().unwrap() - 0.75).abs() < 1e-9);
    assert_eq!(e["false_positives_followup"], 1);
    assert_eq!(e["false_positives_unrelated"], 1);
    // Pairs with a truncated side: a-c (found), b-c (missed).
    let trunc = e["recall_by_edit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["edit"] == "truncated")
        .unwrap();
    assert_eq!(trunc["pairs"], 2);
    assert_eq!(trunc["found"], 1);
    // Stories: predicted pairs 3 + 3 = 6, true pairs 3 + 1 = 4, shared 3 + 1 = 4.
    assert_eq!(e["stories"]["tp"], 4);
    assert_eq!(e["stories"]["reported"], 6);
    assert_eq!(e["stories"]["truth"], 4);
    // ARI by hand: index 4, expected 6*4/15 = 1.6, max 5 -> (4-1.6)/(5-1.6).
    let ari = e["adjusted_rand_index"].as_f64().unwrap();
    assert!((ari - (4.0 - 1.6) / (5.0 - 1.6)).abs() < 1e-9, "{ari}");

    // The plain CSV truth form.
    std::fs::write(w.path("plain.csv"), "doc_a,doc_b\nb,a\nd,e\nc,b\n").unwrap();
    let (_, e) = w.eval(&w.path("plain.csv"), &rep);
    assert_eq!(e["pairs"]["truth"], 3);
    assert_eq!(e["pairs"]["tp"], 2);
}
