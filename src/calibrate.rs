//! Calibrate: the reworded view's sentence match against human judgements.
//!
//! In: the Microsoft Research Paraphrase Corpus (`msr_paraphrase_*.txt`:
//! tab-separated `Quality`, two ids, two sentences; 1 = paraphrase). Out: a
//! [`Calibration`]: for a calibration split (two pairs in three) and a
//! held-out split (every third pair), the ROC AUC of the sentence cosine,
//! precision and recall at the configured thresholds, and the thresholds
//! that maximise F1 on the calibration split with their held-out scores.
//!
//! MRPC's negatives are hard: most are sentences about the same event that
//! share names and numbers, which is exactly the topic similarity the view
//! must not flag; precision there is the figure to watch.

use std::path::Path;

use serde::Serialize;

use crate::config::RewordConfig;
use crate::error::{Error, Result};
use crate::reword::{self, Idf, Term, TermCache};

/// One labelled sentence pair, as content terms.
#[derive(Clone, Debug)]
pub struct LabelledPair {
    /// Human judgement: paraphrase or not.
    pub paraphrase: bool,
    /// Terms of the first sentence.
    pub a: Vec<Term>,
    /// Terms of the second sentence.
    pub b: Vec<Term>,
}

/// Precision, recall and F1 of a rule on a split.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Scores {
    /// Pairs.
    pub pairs: usize,
    /// Paraphrase pairs.
    pub positives: usize,
    /// Of the pairs the rule accepts, the share that are paraphrases.
    pub precision: f64,
    /// Of the paraphrases, the share the rule accepts.
    pub recall: f64,
    /// Harmonic mean.
    pub f1: f64,
}

/// What `wiretrace calibrate` measured.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Calibration {
    /// Lines read (header excluded).
    pub lines: usize,
    /// Lines skipped as malformed.
    pub skipped: usize,
    /// ROC AUC of the tf-idf cosine on the calibration split.
    pub auc_calibration: f64,
    /// ROC AUC of the tf-idf cosine on the held-out split.
    pub auc_held_out: f64,
    /// Thresholds in use: (cosine, dice).
    pub configured: (f64, f64),
    /// Their scores on the calibration split.
    pub configured_calibration: Scores,
    /// Their scores on the held-out split.
    pub configured_held_out: Scores,
    /// The (cosine, dice) maximising F1 on the calibration split.
    pub best_f1: (f64, f64),
    /// Its scores on the held-out split.
    pub best_f1_held_out: Scores,
}

/// Reads an MRPC file into labelled term pairs; returns them and the count
/// of malformed lines (reported on stderr by the caller).
pub fn read_mrpc(path: &Path) -> Result<(Vec<LabelledPair>, Vec<String>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut cache = TermCache::default();
    let mut terms = |s: &str| -> Vec<Term> {
        let mut t: Vec<Term> = reword::analyze(s, &mut cache, None)
            .into_iter()
            .flat_map(|s| s.terms)
            .collect();
        t.sort_unstable();
        t.dedup();
        t
    };
    let mut pairs = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let label = f.first().map(|s| s.trim());
        if f.len() != 5 || !matches!(label, Some("0" | "1")) {
            bad.push(format!(
                "{}:{}: expected 5 tab-separated fields starting with 0 or 1",
                path.display(),
                n + 1
            ));
            continue;
        }
        pairs.push(LabelledPair {
            paraphrase: label == Some("1"),
            a: terms(f[3]),
            b: terms(f[4]),
        });
    }
    Ok((pairs, bad))
}

/// ROC AUC: the probability that a random positive scores above a random
/// negative (ties count half).
///
/// ```
/// use wiretrace::calibrate::auc;
/// assert_eq!(auc(&[(0.9, true), (0.8, true), (0.1, false)]), 1.0);
/// assert_eq!(auc(&[(0.5, true), (0.5, false)]), 0.5);
/// ```
pub fn auc(scored: &[(f64, bool)]) -> f64 {
    let mut v = scored.to_vec();
    v.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (pos, neg) = (
        v.iter().filter(|x| x.1).count() as f64,
        v.iter().filter(|x| !x.1).count() as f64,
    );
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    // Rank-sum with average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        rank_sum += avg * v[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

fn scores(items: &[(f64, f64, bool)], cos: f64, dice: f64) -> Scores {
    let accepted = |x: &&(f64, f64, bool)| x.0 >= cos && x.1 >= dice;
    let tp = items.iter().filter(|x| accepted(x) && x.2).count() as f64;
    let fp = items.iter().filter(|x| accepted(x) && !x.2).count() as f64;
    let pos = items.iter().filter(|x| x.2).count();
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 1.0 };
    let recall = if pos > 0 { tp / pos as f64 } else { 0.0 };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Scores {
        pairs: items.len(),
        positives: pos,
        precision,
        recall,
        f1,
    }
}

/// Scores labelled pairs with the reworded view's sentence similarity.
pub fn calibrate(pairs: &[LabelledPair], skipped: usize, cfg: &RewordConfig) -> Calibration {
    let idf = Idf::from_term_sets(pairs.iter().flat_map(|p| [p.a.as_slice(), p.b.as_slice()]));
    let scored: Vec<(f64, f64, bool)> = pairs
        .iter()
        .map(|p| {
            let (c, d) = reword::similarity(&p.a, &p.b, &idf);
            (c, d, p.paraphrase)
        })
        .collect();
    let (mut cal, mut held) = (Vec::new(), Vec::new());
    for (i, s) in scored.into_iter().enumerate() {
        if i % 3 == 2 {
            held.push(s);
        } else {
            cal.push(s);
        }
    }
    let roc = |v: &[(f64, f64, bool)]| auc(&v.iter().map(|x| (x.0, x.2)).collect::<Vec<_>>());
    let grid: Vec<f64> = (4..=18).map(|i| f64::from(i) * 0.05).collect();
    let mut best = (0.0, (grid[0], grid[0]));
    for &c in &grid {
        for &d in &grid {
            let f = scores(&cal, c, d).f1;
            if f > best.0 + 1e-12 {
                best = (f, (c, d));
            }
        }
    }
    Calibration {
        lines: pairs.len() + skipped,
        skipped,
        auc_calibration: roc(&cal),
        auc_held_out: roc(&held),
        configured: (cfg.min_cosine, cfg.min_dice),
        configured_calibration: scores(&cal, cfg.min_cosine, cfg.min_dice),
        configured_held_out: scores(&held, cfg.min_cosine, cfg.min_dice),
        best_f1: best.1,
        best_f1_held_out: scores(&held, best.1.0, best.1.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mrpc_lines_and_counts_malformed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.txt");
        std::fs::write(
            &p,
            "\u{feff}Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n\
             1\t1\t2\tThe company reported record profits in the third quarter.\tRecord third-quarter profits were reported by the company.\n\
             0\t3\t4\tThe senator will visit Ohio next week to meet voters.\tThe governor said the budget deficit had doubled since May.\n\
             garbage line\n",
        )
        .unwrap();
        let (pairs, bad) = read_mrpc(&p).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].ends_with(":4: expected 5 tab-separated fields starting with 0 or 1"));
        let c = calibrate(&pairs, bad.len(), &RewordConfig::default());
        assert_eq!(c.lines, 3);
        // The paraphrase scores above the unrelated pair.
        let idf = Idf::from_term_sets(pairs.iter().flat_map(|p| [p.a.as_slice(), p.b.as_slice()]));
        let s0 = reword::similarity(&pairs[0].a, &pairs[0].b, &idf).0;
        let s1 = reword::similarity(&pairs[1].a, &pairs[1].b, &idf).0;
        assert!(s0 > 0.5 && s1 < 0.1, "{s0} {s1}");
    }
}
