//! Eval: scores a scan's reports against ground truth.
//!
//! In: a truth file (the `*.truth.jsonl` that `synth` writes, or a plain CSV
//! of related pairs with a `doc_a,doc_b` header) and a report directory.
//! Out: an [`Evaluation`]: pair precision/recall/F1 (rerun and excerpt rows
//! against same-story pairs), recall by edit type, false positives split
//! into follow-ups and unrelated, story co-membership precision/recall and
//! the adjusted Rand index, and, when `passages.csv` exists, PAN character
//! precision, recall, granularity and plagdet of the aligned passages.

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
            let col = |name| column(&headers, path, name);
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

/// Position of the column `name` in a CSV header; an error naming the file
/// and the column when it is missing.
fn column(headers: &csv::StringRecord, path: &Path, name: &str) -> Result<usize> {
    headers
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| Error::Format {
            path: path.to_path_buf(),
            message: format!("no '{name}' column"),
        })
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
    /// Share of those pairs placed in one reported story (directly related
    /// or not): a reworded copy is related to its story's origin only.
    pub story_recall: f64,
}

/// The full evaluation.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Evaluation {
    /// Same-story rows of pairs.csv (rerun, excerpt, reworded) against same-story pairs.
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
    /// PAN passage scores, when `passages.csv` exists (synth truth only).
    pub passages: Vec<PassageScores>,
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
    let col = |name| column(&headers, &pairs_path, name);
    let (ca, cb, cr) = (col("doc_a")?, col("doc_b")?, col("relation")?);
    let mut reported: AHashSet<(u32, u32)> = AHashSet::new();
    let mut partial: Vec<(u32, u32)> = Vec::new();
    let mut unknown = 0u64;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(&pairs_path, i as u64 + 2, e))?;
        let ids = (truth.index.get(&rec[ca]), truth.index.get(&rec[cb]));
        match (&rec[cr], ids) {
            ("rerun" | "excerpt" | "reworded", (Some(&a), Some(&b))) if a != b => {
                reported.insert(ordered(a, b));
            }
            ("rerun" | "excerpt" | "reworded", _) => unknown += 1,
            ("partial", (Some(&a), Some(&b))) if a != b => partial.push(ordered(a, b)),
            _ => {}
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
    let story_rows = read_stories(truth, &report_dir.join("stories.csv"))?;
    let mut story_of: AHashMap<u32, u64> = AHashMap::new();
    for r in &story_rows {
        if let Some(d) = r.doc {
            story_of.insert(d, r.story);
        }
    }
    let mut by_edit: BTreeMap<&'static str, (u64, u64, u64)> = BTreeMap::new();
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
        let together = story_of
            .get(&p.0)
            .is_some_and(|s| story_of.get(&p.1) == Some(s));
        for k in kinds {
            let e = by_edit.entry(k).or_default();
            e.0 += 1;
            e.1 += u64::from(found);
            e.2 += u64::from(together);
        }
    }
    let share = |x: u64, n: u64| if n == 0 { 1.0 } else { x as f64 / n as f64 };
    eval.recall_by_edit = by_edit
        .into_iter()
        .map(|(edit, (pairs, found, together))| EditRecall {
            edit: edit.to_string(),
            pairs,
            found,
            recall: share(found, pairs),
            story_recall: share(together, pairs),
        })
        .collect();
    let (stories, ari) = story_scores(truth, &story_rows);
    eval.stories = Some(stories);
    eval.adjusted_rand_index = Some(ari);
    let passages = report_dir.join("passages.csv");
    if passages.exists() {
        let aligned = aligned_pairs(&story_rows, partial);
        eval.passages = evaluate_passages(truth, &passages, aligned)?;
    }
    Ok(eval)
}

fn choose2(n: u64) -> f64 {
    (n as f64) * (n as f64 - 1.0) / 2.0
}

/// One row of `stories.csv`: story number (in order of first appearance),
/// the article's truth index (None when not in the truth), whether it is the origin.
struct StoryRow {
    story: u64,
    doc: Option<u32>,
    origin: bool,
}

fn read_stories(truth: &TruthSet, path: &Path) -> Result<Vec<StoryRow>> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| bad(path, 0, e))?;
    let headers = rdr.headers().map_err(|e| bad(path, 1, e))?.clone();
    let col = |name| column(&headers, path, name);
    let (cs, cd, cr) = (col("story")?, col("doc")?, col("role")?);
    let mut names: AHashMap<String, u64> = AHashMap::new();
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(path, i as u64 + 2, e))?;
        let next = names.len() as u64;
        rows.push(StoryRow {
            story: *names.entry(rec[cs].to_string()).or_insert(next),
            doc: truth.index.get(&rec[cd]).copied(),
            origin: &rec[cr] == "origin",
        });
    }
    Ok(rows)
}

/// The pairs a scan aligned: each story member against its origin, and
/// every partial pair.
fn aligned_pairs(stories: &[StoryRow], partial: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    let origin_of: AHashMap<u64, u32> = stories
        .iter()
        .filter_map(|r| r.doc.filter(|_| r.origin).map(|d| (r.story, d)))
        .collect();
    let mut pairs = partial;
    for r in stories {
        if let (Some(d), Some(&o)) = (r.doc, origin_of.get(&r.story))
            && d != o
        {
            pairs.push(ordered(d, o));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

fn story_scores(truth: &TruthSet, rows: &[StoryRow]) -> (Prf, f64) {
    let n = truth.docs.len();
    // Predicted cluster per doc; docs in no story are singletons.
    let mut predicted: Vec<u64> = (0..n as u64).map(|i| i + (1 << 40)).collect();
    for r in rows {
        if let Some(d) = r.doc {
            predicted[d as usize] = r.story;
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
    (
        Prf::new(index as u64, pred_pairs as u64, true_pairs as u64),
        ari,
    )
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
        "pairs (same story)",
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
            "  recall, {:<19} {:>9} {:>9.4}   ({} of {}; in one story {:.4})",
            r.edit, "", r.recall, r.found, r.pairs, r.story_recall
        );
    }
    let _ = writeln!(
        t,
        "false positives: {} follow-up, {} unrelated",
        e.false_positives_followup, e.false_positives_unrelated
    );
    if !e.passages.is_empty() {
        let _ = writeln!(
            t,
            "passages{:<22} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7}",
            "", "precision", "recall", "granul.", "plagdet", "pairs", "cases"
        );
        for p in &e.passages {
            let _ = writeln!(
                t,
                "  {:<28} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>7} {:>7}",
                p.subset, p.precision, p.recall, p.granularity, p.plagdet, p.pairs, p.cases
            );
        }
    }
    if e.unknown_ids > 0 {
        let _ = writeln!(
            t,
            "{} reported pairs name ids not in the truth (ignored)",
            e.unknown_ids
        );
    }
    t
}

/// A passage in two documents: character ranges `[x0, x1)` in `x` and `[y0, y1)` in `y`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span2 {
    /// Start in the first document.
    pub x0: u64,
    /// End in the first document.
    pub x1: u64,
    /// Start in the second document.
    pub y0: u64,
    /// End in the second document.
    pub y1: u64,
}

impl Span2 {
    fn len(&self) -> u64 {
        (self.x1 - self.x0) + (self.y1 - self.y0)
    }
    fn overlaps(&self, o: &Span2) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// Characters of `target` covered by the union of `others` that overlap it
/// in both documents (PAN's |∪ (s ⊓ r)|).
fn covered(target: &Span2, others: &[Span2]) -> u64 {
    let hits: Vec<&Span2> = others.iter().filter(|o| o.overlaps(target)).collect();
    let side = |lo: u64, hi: u64, get: &dyn Fn(&Span2) -> (u64, u64)| -> u64 {
        let mut iv: Vec<(u64, u64)> = hits
            .iter()
            .map(|o| {
                let (a, b) = get(o);
                (a.max(lo), b.min(hi))
            })
            .filter(|(a, b)| a < b)
            .collect();
        iv.sort_unstable();
        let (mut total, mut end) = (0, 0);
        for (a, b) in iv {
            let a = a.max(end);
            if b > a {
                total += b - a;
                end = b;
            }
        }
        total
    };
    side(target.x0, target.x1, &|o| (o.x0, o.x1)) + side(target.y0, target.y1, &|o| (o.y0, o.y1))
}

/// PAN text-alignment scores (Potthast et al. 2010), character level.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PassageScores {
    /// Which pairs these scores cover.
    pub subset: String,
    /// Aligned document pairs in the subset.
    pub pairs: u64,
    /// True shared passages (cases).
    pub cases: u64,
    /// Reported passages (detections).
    pub detections: u64,
    /// Mean share of each detection's characters inside some case.
    pub precision: f64,
    /// Mean share of each case's characters covered by some detection.
    pub recall: f64,
    /// Mean number of detections per detected case (1 is ideal).
    pub granularity: f64,
    /// F1 / log2(1 + granularity).
    pub plagdet: f64,
}

/// One document pair's true passages (cases) and reported ones (detections).
pub type PairSpans = (Vec<Span2>, Vec<Span2>);

/// Scores detections against cases, both grouped per document pair.
pub fn pan_scores(subset: &str, groups: &[PairSpans]) -> PassageScores {
    let (mut rec_sum, mut prec_sum, mut gran_sum) = (0.0, 0.0, 0.0);
    let (mut cases, mut detections, mut detected) = (0u64, 0u64, 0u64);
    for (truth, found) in groups {
        for s in truth {
            cases += 1;
            rec_sum += covered(s, found) as f64 / s.len().max(1) as f64;
            let n = found.iter().filter(|r| r.overlaps(s)).count();
            if n > 0 {
                detected += 1;
                gran_sum += n as f64;
            }
        }
        for r in found {
            detections += 1;
            prec_sum += covered(r, truth) as f64 / r.len().max(1) as f64;
        }
    }
    let recall = if cases == 0 {
        1.0
    } else {
        rec_sum / cases as f64
    };
    let precision = if detections == 0 {
        if cases == 0 { 1.0 } else { 0.0 }
    } else {
        prec_sum / detections as f64
    };
    let granularity = if detected == 0 {
        1.0
    } else {
        gran_sum / detected as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    PassageScores {
        subset: subset.to_string(),
        pairs: groups.len() as u64,
        cases,
        detections,
        precision,
        recall,
        granularity,
        plagdet: f1 / (1.0 + granularity).log2(),
    }
}

/// True shared passages of two synth articles: their common base paragraphs,
/// with runs of paragraphs adjacent in both merged into one case.
pub fn truth_cases(x: &Truth, y: &Truth) -> Vec<Span2> {
    let mut cases: Vec<Span2> = Vec::new();
    for sx in &x.segments {
        if let Some(sy) = y
            .segments
            .iter()
            .find(|s| s.story == sx.story && s.para == sx.para)
        {
            cases.push(Span2 {
                x0: sx.start,
                x1: sx.end,
                y0: sy.start,
                y1: sy.end,
            });
        }
    }
    cases.sort_unstable_by_key(|c| (c.x0, c.y0));
    let mut merged: Vec<Span2> = Vec::new();
    for c in cases {
        if let Some(last) = merged.last_mut() {
            let gap = |a: u64, b: u64| b >= a && b - a <= 3;
            if gap(last.x1, c.x0) && gap(last.y1, c.y0) {
                last.x1 = c.x1;
                last.y1 = c.y1;
                continue;
            }
        }
        merged.push(c);
    }
    merged
}

/// Passage scores of a `passages.csv` against synth truth, over the pairs
/// the scan aligned (`aligned`, truth indices: each story member against its
/// origin, each partial pair), overall and by kind of pair.
pub fn evaluate_passages(
    truth: &TruthSet,
    path: &Path,
    aligned: Vec<(u32, u32)>,
) -> Result<Vec<PassageScores>> {
    let mut found: AHashMap<(u32, u32), Vec<Span2>> = AHashMap::new();
    let mut rdr = csv::Reader::from_path(path).map_err(|e| bad(path, 0, e))?;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(path, i as u64 + 2, e))?;
        let (Some(&a), Some(&b)) = (truth.index.get(&rec[0]), truth.index.get(&rec[1])) else {
            continue;
        };
        let num = |k: usize| {
            rec[k]
                .parse::<u64>()
                .map_err(|e| bad(path, i as u64 + 2, e))
        };
        let (x0, x1, y0, y1) = (num(2)?, num(3)?, num(4)?, num(5)?);
        let span = if a < b {
            Span2 { x0, x1, y0, y1 }
        } else {
            Span2 {
                x0: y0,
                x1: y1,
                y0: x0,
                y1: x1,
            }
        };
        found.entry(ordered(a, b)).or_default().push(span);
    }
    let mut subsets: BTreeMap<&'static str, Vec<PairSpans>> = BTreeMap::new();
    for (a, b) in aligned {
        let (x, y) = (&truth.docs[a as usize], &truth.docs[b as usize]);
        let cases = truth_cases(x, y);
        let det = found.remove(&(a, b)).unwrap_or_default();
        let kinds: Vec<&str> = edit_kinds(x).into_iter().chain(edit_kinds(y)).collect();
        let subset = if x.story != y.story {
            "copied passage (follow-up)"
        } else if kinds.contains(&"reworded") {
            "rerun, reworded"
        } else if kinds.contains(&"noisy") {
            "rerun, OCR noise"
        } else if kinds.contains(&"substituted") {
            "rerun, substitutions"
        } else if kinds.contains(&"truncated") {
            "rerun, truncated"
        } else {
            "rerun, verbatim or padded"
        };
        subsets
            .entry("all")
            .or_default()
            .push((cases.clone(), det.clone()));
        subsets.entry(subset).or_default().push((cases, det));
    }
    Ok(subsets.iter().map(|(k, v)| pan_scores(k, v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(x0: u64, x1: u64, y0: u64, y1: u64) -> Span2 {
        Span2 { x0, x1, y0, y1 }
    }

    #[test]
    fn pan_scores_match_hand_computed_values() {
        let case = vec![span(0, 100, 0, 100)];
        // Half the case found: recall 0.5, precision 1, granularity 1.
        let s = pan_scores("t", &[(case.clone(), vec![span(0, 50, 0, 50)])]);
        assert!((s.recall - 0.5).abs() < 1e-12 && (s.precision - 1.0).abs() < 1e-12);
        assert!((s.plagdet - 2.0 / 3.0).abs() < 1e-12, "{s:?}");
        // Found whole but in two pieces: granularity 2, plagdet 1 / log2(3).
        let s = pan_scores(
            "t",
            &[(
                case.clone(),
                vec![span(0, 50, 0, 50), span(50, 100, 50, 100)],
            )],
        );
        assert!((s.recall - 1.0).abs() < 1e-12 && (s.granularity - 2.0).abs() < 1e-12);
        assert!((s.plagdet - 1.0 / 3f64.log2()).abs() < 1e-12);
        // A detection overlapping in one document only is no overlap at all.
        let s = pan_scores("t", &[(case.clone(), vec![span(0, 100, 500, 600)])]);
        assert_eq!((s.recall, s.precision), (0.0, 0.0));
        // Twice as long as the case on one side: precision 200/300.
        let s = pan_scores("t", &[(case, vec![span(0, 200, 0, 100)])]);
        assert!((s.precision - 200.0 / 300.0).abs() < 1e-12);
    }

    #[test]
    fn truth_cases_merge_adjacent_paragraphs() {
        let seg = |para, start, end| crate::synth::Segment {
            story: "s".into(),
            para,
            start,
            end,
        };
        let t = |segments| Truth {
            id: "x".into(),
            story: "s".into(),
            kind: "rerun".into(),
            followup_of: None,
            edits: vec![],
            segments,
        };
        let x = t(vec![seg(0, 10, 50), seg(1, 52, 90), seg(2, 92, 120)]);
        // y lacks paragraph 1 and has paragraph 2 far away: two cases.
        let y = t(vec![seg(0, 0, 40), seg(2, 300, 328)]);
        assert_eq!(
            truth_cases(&x, &y),
            [span(10, 50, 0, 40), span(92, 120, 300, 328)]
        );
        let z = t(vec![seg(0, 5, 45), seg(1, 47, 85)]);
        assert_eq!(truth_cases(&x, &z), [span(10, 90, 5, 85)]);
    }
}

/// Mean score and share related, for one category of rewritten texts.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CategoryScore {
    /// `cut`, `light`, `heavy` or `non` (the Clough-Stevenson levels).
    pub category: String,
    /// Texts in the category.
    pub texts: usize,
    /// Mean `score` of the text against its source (0 when not reported).
    pub mean_score: f64,
    /// Texts reported as related to their source at all.
    pub related: usize,
}

/// How well the scan's pair `score` separates texts rewritten from a
/// source from texts written independently on the same topic.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RewriteEvaluation {
    /// Texts scored against their source.
    pub texts: usize,
    /// ROC AUC of `score`: rewritten (cut, light, heavy) against `non`.
    pub auc: f64,
    /// By category, in the order cut, light, heavy, non.
    pub by_category: Vec<CategoryScore>,
}

/// Whether `path` is a rewrite table (`File,Task,Category` columns, as the
/// Clough-Stevenson corpus of short answers ships it).
pub fn is_rewrite_table(path: &Path) -> bool {
    csv::Reader::from_path(path)
        .and_then(|mut r| r.headers().cloned())
        .is_ok_and(|h| {
            ["File", "Task", "Category"]
                .iter()
                .all(|c| h.iter().any(|x| x == *c))
        })
}

/// Scores each text against the source of its task (`orig` rows name the
/// sources) using `pairs.csv`'s `score` column.
pub fn evaluate_rewrites(table: &Path, report_dir: &Path) -> Result<RewriteEvaluation> {
    let mut rdr = csv::Reader::from_path(table).map_err(|e| bad(table, 0, e))?;
    let headers = rdr.headers().map_err(|e| bad(table, 1, e))?.clone();
    let col = |name| column(&headers, table, name);
    let (cf, ct, cc) = (col("File")?, col("Task")?, col("Category")?);
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(table, i as u64 + 2, e))?;
        rows.push((
            rec[cf].to_string(),
            rec[ct].to_string(),
            rec[cc].to_string(),
        ));
    }
    let source: AHashMap<&str, &str> = rows
        .iter()
        .filter(|r| r.2 == "orig")
        .map(|r| (r.1.as_str(), r.0.as_str()))
        .collect();
    let pairs_path = report_dir.join("pairs.csv");
    let mut prdr = csv::Reader::from_path(&pairs_path).map_err(|e| bad(&pairs_path, 0, e))?;
    let ph = prdr.headers().map_err(|e| bad(&pairs_path, 1, e))?.clone();
    let pcol = |name| column(&ph, &pairs_path, name);
    let (ca, cb, cs) = (pcol("doc_a")?, pcol("doc_b")?, pcol("score")?);
    let mut score: AHashMap<(String, String), f64> = AHashMap::new();
    for (i, rec) in prdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(&pairs_path, i as u64 + 2, e))?;
        let s: f64 = rec[cs]
            .parse()
            .map_err(|e| bad(&pairs_path, i as u64 + 2, e))?;
        score.insert((rec[ca].to_string(), rec[cb].to_string()), s);
    }
    let mut scored: Vec<(f64, bool)> = Vec::new();
    let mut by: Vec<CategoryScore> = ["cut", "light", "heavy", "non"]
        .iter()
        .map(|c| CategoryScore {
            category: c.to_string(),
            texts: 0,
            mean_score: 0.0,
            related: 0,
        })
        .collect();
    for (file, task, category) in rows.iter().filter(|r| r.2 != "orig") {
        let Some(src) = source.get(task.as_str()) else {
            continue;
        };
        let key = if file.as_str() < *src {
            (file.clone(), src.to_string())
        } else {
            (src.to_string(), file.clone())
        };
        let s = score.get(&key).copied();
        scored.push((s.unwrap_or(0.0), category != "non"));
        if let Some(c) = by.iter_mut().find(|c| c.category == *category) {
            c.texts += 1;
            c.mean_score += s.unwrap_or(0.0);
            c.related += usize::from(s.is_some());
        }
    }
    for c in &mut by {
        if c.texts > 0 {
            c.mean_score /= c.texts as f64;
        }
    }
    Ok(RewriteEvaluation {
        texts: scored.len(),
        auc: crate::calibrate::auc(&scored),
        by_category: by,
    })
}

/// The rewrite evaluation as a table.
pub fn render_rewrites(e: &RewriteEvaluation) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{} texts scored against their source: ROC AUC {:.4} (rewritten vs independent)",
        e.texts, e.auc
    );
    for c in &e.by_category {
        let _ = writeln!(
            t,
            "  {:<6} {:>3} texts  mean score {:.4}  related to the source {}",
            c.category, c.texts, c.mean_score, c.related
        );
    }
    t
}
