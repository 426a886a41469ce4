//! Eval: scores a scan's reports against ground truth.
//!
//! In: a truth file (the `*.truth.jsonl` that `synth` writes, or a plain CSV
//! of related pairs with a `doc_a,doc_b` header) and a report directory.
//! Out: an [`Evaluation`]: pair precision/recall/F1 (rerun and excerpt rows
//! against same-story pairs), recall by edit type, false positives split
//! into follow-ups and unrelated, story co-membership precision/recall and
//! the adjusted Rand index. Passage scores are added when `passages.csv`
//! exists.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use ahash::{AHashMap, AHashSet};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::synth::Truth;

/// Ground truth, loaded.
pub struct TruthSet {
    /// Index of each article id.
    pub index: AHashMap<String, u32>,
    /// Per article (synth truth only).
    pub docs: Vec<Truth>,
    /// For plain pair truth: the positive pairs.
    pub pairs: Option<AHashSet<(u32, u32)>>,
}

fn ordered(a: u32, b: u32) -> (u32, u32) {
    (a.min(b), a.max(b))
}

impl TruthSet {
    /// Loads a synth truth JSONL or a plain `doc_a,doc_b` CSV (by extension `.csv`).
    pub fn load(path: &Path) -> Result<TruthSet> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let reader = std::io::BufReader::new(file);
        let is_csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let mut index = AHashMap::new();
        if is_csv {
            let mut rdr = csv::Reader::from_reader(reader);
            let headers = rdr.headers().map_err(|e| bad(path, 1, e))?.clone();
            let col = |name: &str| {
                headers
                    .iter()
                    .position(|h| h == name)
                    .ok_or_else(|| Error::Format {
                        path: path.to_path_buf(),
                        message: format!("no '{name}' column (need doc_a,doc_b)"),
                    })
            };
            let (ca, cb) = (col("doc_a")?, col("doc_b")?);
            let mut pairs = AHashSet::new();
            for (i, rec) in rdr.records().enumerate() {
                let rec = rec.map_err(|e| bad(path, i as u64 + 2, e))?;
                let mut id = |s: &str| {
                    let n = index.len() as u32;
                    *index.entry(s.to_string()).or_insert(n)
                };
                let (a, b) = (id(&rec[ca]), id(&rec[cb]));
                if a != b {
                    pairs.insert(ordered(a, b));
                }
            }
            return Ok(TruthSet {
                index,
                docs: Vec::new(),
                pairs: Some(pairs),
            });
        }
        let mut docs = Vec::new();
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| Error::io(path, e))?;
            if line.trim().is_empty() {
                continue;
            }
            let t: Truth = serde_json::from_str(&line).map_err(|e| bad(path, i as u64 + 1, e))?;
            index.insert(t.id.clone(), docs.len() as u32);
            docs.push(t);
        }
        Ok(TruthSet {
            index,
            docs,
            pairs: None,
        })
    }

    fn same_story(&self, a: u32, b: u32) -> bool {
        match &self.pairs {
            Some(p) => p.contains(&ordered(a, b)),
            None => self.docs[a as usize].story == self.docs[b as usize].story,
        }
    }

    /// Positive pairs: same story (synth) or listed (plain).
    pub fn positive_pairs(&self) -> Vec<(u32, u32)> {
        if let Some(p) = &self.pairs {
            let mut v: Vec<_> = p.iter().copied().collect();
            v.sort_unstable();
            return v;
        }
        let mut by_story: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (i, d) in self.docs.iter().enumerate() {
            by_story.entry(&d.story).or_default().push(i as u32);
        }
        let mut out = Vec::new();
        for members in by_story.values() {
            for (x, &a) in members.iter().enumerate() {
                for &b in &members[x + 1..] {
                    out.push(ordered(a, b));
                }
            }
        }
        out.sort_unstable();
        out
    }
}

fn bad(path: &Path, line: u64, e: impl std::fmt::Display) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        message: format!("line {line}: {e}"),
    }
}

/// Precision, recall and F1.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Prf {
    /// Share of reported items that are true.
    pub precision: f64,
    /// Share of true items that are reported.
    pub recall: f64,
    /// Harmonic mean.
    pub f1: f64,
    /// True positives.
    pub tp: u64,
    /// Reported items.
    pub reported: u64,
    /// True items.
    pub truth: u64,
}

impl Prf {
    /// From counts; an empty denominator gives 1.0 (nothing to get wrong).
    pub fn new(tp: u64, reported: u64, truth: u64) -> Prf {
        let precision = if reported == 0 {
            1.0
        } else {
            tp as f64 / reported as f64
        };
        let recall = if truth == 0 {
            1.0
        } else {
            tp as f64 / truth as f64
        };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            precision,
            recall,
            f1,
            tp,
            reported,
            truth,
        }
    }
}

/// Recall of the true pairs that involve one kind of edit.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct EditRecall {
    /// Edit name (`truncated`, `padded`, `noisy`, `substituted`, `clean`).
    pub edit: String,
    /// True pairs with that edit on either side.
    pub pairs: u64,
    /// Of those, found.
    pub found: u64,
    /// found / pairs.
    pub recall: f64,
}

/// The full evaluation.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Evaluation {
    /// rerun/excerpt rows of pairs.csv against same-story pairs.
    pub pairs: Prf,
    /// Recall by edit type (synth truth only).
    pub recall_by_edit: Vec<EditRecall>,
    /// False positives between a follow-up and the story it reuses.
    pub false_positives_followup: u64,
    /// Other false positives.
    pub false_positives_unrelated: u64,
    /// Reported ids not in the truth (ignored in the scores).
    pub unknown_ids: u64,
    /// Story co-membership precision/recall (synth truth only).
    pub stories: Option<Prf>,
    /// Adjusted Rand index of stories against truth (synth truth only).
    pub adjusted_rand_index: Option<f64>,
}

fn edit_kinds(t: &Truth) -> Vec<&'static str> {
    let mut out = Vec::new();
    for e in &t.edits {
        let name = e.split(':').next().unwrap_or("");
        let kind = match name {
            "truncated" => "truncated",
            "padded" => "padded",
            "noisy" => "noisy",
            "substituted" => "substituted",
            "reworded" => "reworded",
            _ => continue,
        };
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    out
}

/// Scores the reports in `report_dir` against `truth`.
pub fn evaluate(truth: &TruthSet, report_dir: &Path) -> Result<Evaluation> {
    let pairs_path = report_dir.join("pairs.csv");
    let mut rdr = csv::Reader::from_path(&pairs_path).map_err(|e| bad(&pairs_path, 0, e))?;
    let headers = rdr.headers().map_err(|e| bad(&pairs_path, 1, e))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::Format {
                path: pairs_path.clone(),
                message: format!("no '{name}' column"),
            })
    };
    let (ca, cb, cr) = (col("doc_a")?, col("doc_b")?, col("relation")?);
    let mut reported: AHashSet<(u32, u32)> = AHashSet::new();
    let mut unknown = 0u64;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(&pairs_path, i as u64 + 2, e))?;
        if !matches!(&rec[cr], "rerun" | "excerpt") {
            continue;
        }
        match (truth.index.get(&rec[ca]), truth.index.get(&rec[cb])) {
            (Some(&a), Some(&b)) if a != b => {
                reported.insert(ordered(a, b));
            }
            _ => unknown += 1,
        }
    }
    let positives = truth.positive_pairs();
    let tp = positives.iter().filter(|p| reported.contains(p)).count() as u64;
    let mut eval = Evaluation {
        pairs: Prf::new(tp, reported.len() as u64, positives.len() as u64),
        unknown_ids: unknown,
        ..Evaluation::default()
    };
    for &(a, b) in &reported {
        if truth.same_story(a, b) {
            continue;
        }
        let followup = !truth.docs.is_empty() && {
            let (x, y) = (&truth.docs[a as usize], &truth.docs[b as usize]);
            x.followup_of.as_deref() == Some(y.story.as_str())
                || y.followup_of.as_deref() == Some(x.story.as_str())
        };
        if followup {
            eval.false_positives_followup += 1;
        } else {
            eval.false_positives_unrelated += 1;
        }
    }
    if truth.docs.is_empty() {
        return Ok(eval);
    }
    let mut by_edit: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    for p in &positives {
        let mut kinds = edit_kinds(&truth.docs[p.0 as usize]);
        for k in edit_kinds(&truth.docs[p.1 as usize]) {
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        if kinds.is_empty() {
            kinds.push("clean");
        }
        let found = reported.contains(p);
        for k in kinds {
            let e = by_edit.entry(k).or_default();
            e.0 += 1;
            e.1 += u64::from(found);
        }
    }
    eval.recall_by_edit = by_edit
        .into_iter()
        .map(|(edit, (pairs, found))| EditRecall {
            edit: edit.to_string(),
            pairs,
            found,
            recall: if pairs == 0 {
                1.0
            } else {
                found as f64 / pairs as f64
            },
        })
        .collect();
    let (stories, ari) = story_scores(truth, &report_dir.join("stories.csv"))?;
    eval.stories = Some(stories);
    eval.adjusted_rand_index = Some(ari);
    Ok(eval)
}

fn choose2(n: u64) -> f64 {
    (n as f64) * (n as f64 - 1.0) / 2.0
}

fn story_scores(truth: &TruthSet, path: &Path) -> Result<(Prf, f64)> {
    let n = truth.docs.len();
    // Predicted cluster per doc; docs in no story are singletons.
    let mut predicted: Vec<u64> = (0..n as u64).map(|i| i + (1 << 40)).collect();
    let mut rdr = csv::Reader::from_path(path).map_err(|e| bad(path, 0, e))?;
    let mut names: AHashMap<String, u64> = AHashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(path, i as u64 + 2, e))?;
        let next = names.len() as u64;
        let s = *names.entry(rec[0].to_string()).or_insert(next);
        if let Some(&d) = truth.index.get(&rec[1]) {
            predicted[d as usize] = s;
        }
    }
    let mut story_names: AHashMap<&str, u64> = AHashMap::new();
    let actual: Vec<u64> = truth
        .docs
        .iter()
        .map(|d| {
            let next = story_names.len() as u64;
            *story_names.entry(d.story.as_str()).or_insert(next)
        })
        .collect();
    let mut cells: AHashMap<(u64, u64), u64> = AHashMap::new();
    let mut rows: AHashMap<u64, u64> = AHashMap::new();
    let mut cols: AHashMap<u64, u64> = AHashMap::new();
    for i in 0..n {
        *cells.entry((predicted[i], actual[i])).or_default() += 1;
        *rows.entry(predicted[i]).or_default() += 1;
        *cols.entry(actual[i]).or_default() += 1;
    }
    let index: f64 = cells.values().map(|&c| choose2(c)).sum();
    let pred_pairs: f64 = rows.values().map(|&c| choose2(c)).sum();
    let true_pairs: f64 = cols.values().map(|&c| choose2(c)).sum();
    let total = choose2(n as u64);
    let expected = if total > 0.0 {
        pred_pairs * true_pairs / total
    } else {
        0.0
    };
    let max = (pred_pairs + true_pairs) / 2.0;
    let ari = if max - expected == 0.0 {
        1.0
    } else {
        (index - expected) / (max - expected)
    };
    Ok((
        Prf::new(index as u64, pred_pairs as u64, true_pairs as u64),
        ari,
    ))
}

/// The evaluation as an aligned text table.
pub fn render(e: &Evaluation) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<28} {:>9} {:>9} {:>9}",
        "", "precision", "recall", "F1"
    );
    let _ = writeln!(
        t,
        "{:<28} {:>9.4} {:>9.4} {:>9.4}   ({} of {} true pairs, {} reported)",
        "pairs (rerun+excerpt)",
        e.pairs.precision,
        e.pairs.recall,
        e.pairs.f1,
        e.pairs.tp,
        e.pairs.truth,
        e.pairs.reported
    );
    if let Some(s) = &e.stories {
        let _ = writeln!(
            t,
            "{:<28} {:>9.4} {:>9.4} {:>9.4}",
            "stories (co-membership)", s.precision, s.recall, s.f1
        );
    }
    if let Some(ari) = e.adjusted_rand_index {
        let _ = writeln!(t, "{:<28} {:>9.4}", "adjusted Rand index", ari);
    }
    for r in &e.recall_by_edit {
        let _ = writeln!(
            t,
            "  recall, {:<19} {:>9} {:>9.4}   ({} of {})",
            r.edit, "", r.recall, r.found, r.pairs
        );
    }
    let _ = writeln!(
        t,
        "false positives: {} follow-up, {} unrelated",
        e.false_positives_followup, e.false_positives_unrelated
    );
    if e.unknown_ids > 0 {
        let _ = writeln!(
            t,
            "{} reported pairs name ids not in the truth (ignored)",
            e.unknown_ids
        );
    }
    t
}
