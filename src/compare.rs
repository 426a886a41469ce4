//! Compare: two articles to their scores and shared passages, without a
//! corpus (no boilerplate table, no candidate search).
//!
//! In: two [`Document`]s and the scan's settings. Out: a [`Comparison`]:
//! shingle counts, Jaccard, both containments, the relation `scan` would
//! give the pair (or none), and the aligned passages: word-aligned ones and,
//! unless the reworded view is off, reworded ones (word frequencies taken
//! from the two articles alone).

use crate::align::{self, Passage, Prepared};
use crate::config::{AlignConfig, ScanConfig};
use crate::document::{DocId, Document};
use crate::reword;
use crate::shingle;
use crate::verify::{self, Relation};

/// Scores and passages of two articles.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Distinct shingles of A.
    pub shingles_a: usize,
    /// Distinct shingles of B.
    pub shingles_b: usize,
    /// Shingles in both.
    pub shared: usize,
    /// |A∩B| / |A∪B|.
    pub jaccard: f64,
    /// |A∩B| / |A|.
    pub a_in_b: f64,
    /// |A∩B| / |B|.
    pub b_in_a: f64,
    /// The relation a scan would report, if any.
    pub relation: Option<Relation>,
    /// Reworded score (see [`crate::verify::Match::reworded`]).
    pub reworded: f64,
    /// Shared passages, side A = the first document.
    pub passages: Vec<Passage>,
}

/// Compares two articles with the scan's shingle, verify and align settings.
pub fn compare(a: &Document, b: &Document, cfg: &ScanConfig) -> Comparison {
    let set = |text: &str| {
        let mut tokens = Vec::new();
        shingle::tokenize(text, &mut tokens);
        let mut s = Vec::new();
        shingle::shingles(&tokens, cfg.shingle.k, &mut s);
        s
    };
    let (sa, sb) = (set(&a.text), set(&b.text));
    let m = verify::measure(DocId(0), DocId(1), &sa, &sb, Relation::Partial);
    let align_cfg = AlignConfig {
        k: cfg.shingle.k,
        ..cfg.align.clone()
    };
    let mut passages = align::align(
        &Prepared::new(&a.text, cfg.shingle.k),
        &Prepared::new(&b.text, cfg.shingle.k),
        &align_cfg,
        &|_| false,
    );
    let mut relation = verify::classify(m.shared as usize, sa.len(), sb.len(), &cfg.verify);
    let mut reworded = 0.0;
    if cfg.reword.enabled {
        let r = reword::align_texts(&a.text, &b.text, &cfg.reword);
        if let Some(rel) = reword::relation(&r, &cfg.reword) {
            reworded = r.score;
            if !relation.is_some_and(Relation::same_story) {
                relation = Some(rel);
            }
        }
        passages = reword::merge_passages(passages, &r.passages);
    }
    let passages = align::bridge(passages, cfg.align.max_hole as u32);
    Comparison {
        shingles_a: sa.len(),
        shingles_b: sb.len(),
        shared: m.shared as usize,
        jaccard: m.jaccard,
        a_in_b: m.a_in_b,
        b_in_a: m.b_in_a,
        relation,
        reworded,
        passages,
    }
}
