//! The reworded view's yardsticks: a rewrite table scored by `eval`, and
//! sentence matching calibrated on MRPC (../shared/data/mrpc, skipped with a
//! note when absent).

mod common;
use common::*;

#[test]
fn eval_scores_a_rewrite_table_by_auc() {
    let w = Workdir::new();
    let (out, _) = w.scan_ok(&["fixtures/rewrites/texts", "-q"]);
    let (o, e) = w.eval(
        std::path::Path::new(&fixture("rewrites/file_information.csv")),
        &out,
    );
    assert!(
        stdout(&o).contains("4 texts scored against their source: ROC AUC 1.0000"),
        "{}",
        stdout(&o)
    );
    let cat = |c: &str| {
        e["by_category"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["category"] == c)
            .unwrap()
            .clone()
    };
    // The paraphrase is found by the reworded view alone; the independent
    // texts on the same topic are not related to the source at all.
    assert_eq!(cat("heavy")["related"], 1);
    assert!(cat("heavy")["mean_score"].as_f64().unwrap() > 0.3);
    assert_eq!(cat("non")["related"], 0);
    let pairs = csv_rows(&out.join("pairs.csv"));
    let heavy = pairs
        .iter()
        .find(|r| r[0] == "heavy_taska.txt" && r[1] == "orig_taska.txt")
        .expect("heavy rewrite related to its source");
    assert_eq!(heavy[2], "reworded");
    assert!(
        heavy[3].parse::<f64>().unwrap() < 0.05,
        "few shared shingles: {heavy:?}"
    );
}

#[test]
fn calibrate_reports_auc_and_precision_recall_on_labelled_pairs() {
    let w = Workdir::new();
    let file = w.path("mrpc.txt");
    let mut text = String::from("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n");
    let pos = [
        (
            "The company reported record profits in the third quarter of the year.",
            "Record third-quarter profits were reported by the company this year.",
        ),
        (
            "Police arrested three men after the robbery at the downtown bank branch.",
            "Three men were arrested by police following the downtown bank branch robbery.",
        ),
    ];
    let neg = [
        (
            "The senator will visit Ohio next week to meet voters and donors.",
            "The governor said the state budget deficit had doubled since May.",
        ),
        (
            "Shares of the airline fell sharply after the strike was announced.",
            "The museum opened a new wing devoted to modern sculpture on Sunday.",
        ),
    ];
    for (i, (a, b)) in pos.iter().enumerate() {
        text.push_str(&format!("1\t{i}\t{i}\t{a}\t{b}\n"));
    }
    for (i, (a, b)) in neg.iter().enumerate() {
        text.push_str(&format!("0\t{i}\t{i}\t{a}\t{b}\n"));
    }
    text.push_str("not a pair\n");
    std::fs::write(&file, text).unwrap();
    let json = w.path("c.json");
    let o = w.run(&[
        "calibrate",
        "--mrpc",
        file.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    // One malformed line: named, counted, exit 1.
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("mrpc.txt:6: expected 5 tab-separated fields"),
        "{}",
        stderr(&o)
    );
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(c["lines"], 5);
    assert_eq!(c["skipped"], 1);
    // Pairs 0, 1, 3 calibrate (both paraphrases pass, the negative does
    // not); pair 2, a negative, is held out and is not accepted.
    let cal = &c["configured_calibration"];
    assert_eq!(
        (cal["precision"].as_f64(), cal["recall"].as_f64()),
        (Some(1.0), Some(1.0)),
        "{c}"
    );
    assert_eq!(c["configured_held_out"]["positives"], 0);
    assert_eq!(
        c["configured_held_out"]["precision"].as_f64(),
        Some(1.0),
        "{c}"
    );
    assert_eq!(c["auc_calibration"].as_f64(), Some(1.0));
}

#[test]
fn mrpc_sentence_matching_beats_chance_with_high_recall() {
    let Some(dir) = shared("data/mrpc") else {
        return;
    };
    let (pairs, bad) =
        wiretrace::calibrate::read_mrpc(&dir.join("msr_paraphrase_train.txt")).unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(pairs.len(), 4075);
    let c = wiretrace::calibrate::calibrate(&pairs, 0, &wiretrace::config::RewordConfig::default());
    // MRPC's negatives are same-event sentences: a hard floor, measured 0.751.
    assert!(c.auc_held_out > 0.72, "{c:?}");
    let base = c.configured_held_out.positives as f64 / c.configured_held_out.pairs as f64;
    assert!(c.configured_held_out.precision > base + 0.01, "{c:?}");
    assert!(c.configured_held_out.recall > 0.85, "{c:?}");
}

/// Chinese copy (`fixtures/cjk`): a wire story, a rerun with two words
/// changed, a truncated rerun, a hand paraphrase of three of its sentences
/// by another outlet, and an unrelated story. Without spaces between
/// words, each letter is a token and the view's terms are letter pairs.
#[test]
fn chinese_reruns_excerpts_and_rewording_are_found() {
    let w = Workdir::new();
    let (out, o) = w.scan_ok(&["fixtures/cjk/corpus.jsonl", "-q"]);
    // Untitled, the story is titled by its origin's first ten letters (a
    // Chinese paragraph is one whitespace-separated "word").
    let printed = stdout(&o);
    let line = printed
        .lines()
        .find(|l| l.contains(" docs  origin "))
        .unwrap();
    assert!(line.ends_with("origin zh1  美国和北约星期三拒绝"), "{line}");
    let pairs = csv_rows(&out.join("pairs.csv"));
    let rel = |a: &str, b: &str| relation(&pairs, a, b);
    assert_eq!(rel("zh0", "zh1").as_deref(), Some("rerun"));
    assert_eq!(rel("zh0", "zh2").as_deref(), Some("excerpt"));
    assert_eq!(rel("zh0", "zh4").as_deref(), Some("reworded"));
    assert!(
        pairs.iter().all(|r| r[0] != "zh3" && r[1] != "zh3"),
        "the unrelated story is related to nothing"
    );
    // One story of the four versions.
    let stories = csv_rows(&out.join("stories.csv"));
    let mut members: Vec<&str> = stories.iter().map(|r| r[1].as_str()).collect();
    members.sort_unstable();
    assert_eq!(members, ["zh0", "zh1", "zh2", "zh4"]);
    // The reworded passage is whole sentences: it starts at a sentence's
    // first letter (not the full stop before it) and ends with its own.
    let mut rdr = csv::Reader::from_path(out.join("passages.csv")).unwrap();
    let passage = rdr
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(Result::unwrap)
        .find(|p| p["doc_a"] == "zh0" && p["doc_b"] == "zh4" && p["kind"] == "reworded")
        .expect("a reworded passage");
    assert!(
        passage["a_text"].starts_with("这些决定"),
        "{}",
        passage["a_text"]
    );
    assert!(passage["a_text"].ends_with('。'), "{}", passage["a_text"]);
    assert!(
        passage["b_text"].starts_with("上述决定"),
        "{}",
        passage["b_text"]
    );
}

/// French and German reruns are read with their own stemmer and stopwords:
/// a reworded rerun joins its story, another report on the same meeting
/// does not.
#[test]
fn french_and_german_rewording_is_read_in_its_language() {
    let w = Workdir::new();
    let (out, o) = w.scan_ok(&["fixtures/multilingual/corpus.jsonl"]);
    assert!(
        stdout(&o).contains("articles read by language: de 2, fr 3"),
        "{}",
        stdout(&o)
    );
    let summary = w.json("out/summary.json");
    assert_eq!(
        summary["reword"]["languages"],
        serde_json::json!({"de": 2, "fr": 3})
    );
    let pairs = csv_rows(&out.join("pairs.csv"));
    let rel = |a: &str, b: &str| relation(&pairs, a, b);
    assert_eq!(rel("fr-origine", "fr-reecrit").as_deref(), Some("reworded"));
    assert_eq!(
        rel("de-original", "de-umgeschrieben").as_deref(),
        Some("reworded")
    );
    assert!(
        pairs
            .iter()
            .all(|r| r[0] != "fr-autre" && r[1] != "fr-autre"),
        "{pairs:?}"
    );
    // Read as English, German's capitalised nouns and inflections kept the
    // headline and lead apart; read as German they match from the start.
    let passages = csv_rows(&out.join("passages.csv"));
    let de = passages
        .iter()
        .find(|r| r[0] == "de-original" && r[1] == "de-umgeschrieben")
        .expect("a German passage");
    assert_eq!((&de[2][..], &de[4][..], &de[6][..]), ("0", "0", "reworded"));
}
