//! Passage candidates: shared sampled shingles (fingerprints) find pairs that
//! share a passage but are too different overall for document-level LSH
//! (a follow-up reusing background paragraphs, an article quoting another).
//!
//! In: boilerplate-free shingle sets. Out: sorted, deduplicated
//! [`CandidatePair`]s that share at least `min_shared` fingerprints.
//!
//! A shingle is a fingerprint when its remixed hash is 0 mod `sample`
//! (0-mod-p sampling): the choice depends only on the shingle, so two
//! documents sharing a passage of L shingles share about L / p fingerprints
//! whatever else they contain. Fingerprints in more than `max_df` documents
//! are not expanded (templated text, or a story so widely rerun that
//! document-level LSH finds its copies anyway). Pairs are counted per
//! document in parallel against an inverted index; no global pair table.

use ahash::AHashMap;
use rayon::prelude::*;

use crate::config::FingerprintConfig;
use crate::document::DocId;
use crate::lsh::CandidatePair;
use crate::shingle::ShingleSet;

/// Whether a shingle hash is a fingerprint at this sampling rate.
#[inline]
pub fn is_fingerprint(h: u64, sample: u64) -> bool {
    // Remix so the choice is independent of the bits MinHash uses.
    let x = (h ^ 0x5851_f42d_4c95_7f2d).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x >> 32).is_multiple_of(sample)
}

/// What the index did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FingerprintStats {
    /// Distinct fingerprints indexed.
    pub fingerprints: u64,
    /// Fingerprints over `max_df`, not expanded.
    pub capped: u64,
}

/// Candidate pairs sharing at least `min_shared` fingerprints.
pub fn candidates(
    sets: &[ShingleSet],
    cfg: &FingerprintConfig,
) -> (Vec<CandidatePair>, FingerprintStats) {
    if cfg.sample == 0 {
        return (Vec::new(), FingerprintStats::default());
    }
    let fps: Vec<Vec<u64>> = sets
        .par_iter()
        .map(|s| {
            s.iter()
                .copied()
                .filter(|&h| is_fingerprint(h, cfg.sample))
                .collect()
        })
        .collect();
    let mut postings: Vec<(u64, u32)> = fps
        .par_iter()
        .enumerate()
        .flat_map_iter(|(d, f)| f.iter().map(move |&h| (h, d as u32)))
        .collect();
    postings.par_sort_unstable();
    // CSR: unique keys with offsets into the doc column.
    let mut keys: Vec<u64> = Vec::new();
    let mut offsets: Vec<usize> = Vec::new();
    for (i, (h, _)) in postings.iter().enumerate() {
        if keys.last() != Some(h) {
            keys.push(*h);
            offsets.push(i);
        }
    }
    offsets.push(postings.len());
    let docs: Vec<u32> = postings.iter().map(|p| p.1).collect();
    drop(postings);
    let capped = (0..keys.len())
        .filter(|&k| offsets[k + 1] - offsets[k] > cfg.max_df)
        .count() as u64;
    let per_doc: Vec<Vec<u64>> = fps
        .par_iter()
        .enumerate()
        .map_init(AHashMap::<u32, u32>::new, |counts, (d, f)| {
            counts.clear();
            let d = d as u32;
            for h in f {
                let k = keys.binary_search(h).expect("indexed above");
                let list = &docs[offsets[k]..offsets[k + 1]];
                if list.len() > cfg.max_df {
                    continue;
                }
                // Postings are sorted by doc: count only partners after d.
                let from = list.partition_point(|&e| e <= d);
                for &e in &list[from..] {
                    *counts.entry(e).or_default() += 1;
                }
            }
            let mut out: Vec<u64> = counts
                .iter()
                .filter(|&(_, &c)| c >= cfg.min_shared)
                .map(|(&e, _)| (u64::from(d) << 32) | u64::from(e))
                .collect();
            out.sort_unstable();
            out
        })
        .collect();
    let pairs = per_doc
        .into_iter()
        .flatten()
        .map(CandidatePair::unpack)
        .collect();
    (
        pairs,
        FingerprintStats {
            fingerprints: keys.len() as u64,
            capped,
        },
    )
}

/// Merges two sorted, deduplicated candidate lists.
pub fn union(a: Vec<CandidatePair>, b: Vec<CandidatePair>) -> Vec<CandidatePair> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// `DocId` pair helper for tests and callers.
pub fn pair(a: u32, b: u32) -> CandidatePair {
    CandidatePair {
        a: DocId(a.min(b)),
        b: DocId(a.max(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_passage_is_found_and_caps_apply() {
        // 400 shingles of a shared passage: about 50 fingerprints at 1/8.
        let passage: Vec<u64> = (0..400u64)
            .map(|i| i.wrapping_mul(0x1234_5678_9abc_def1))
            .collect();
        let mut a: Vec<u64> = (1000..3000u64)
            .map(|i| i.wrapping_mul(77_777_777_777))
            .collect();
        let mut b: Vec<u64> = (5000..7000u64)
            .map(|i| i.wrapping_mul(77_777_777_777))
            .collect();
        let c: Vec<u64> = (9000..9500u64)
            .map(|i| i.wrapping_mul(77_777_777_777))
            .collect();
        a.extend(&passage);
        b.extend(&passage);
        for s in [&mut a, &mut b] {
            s.sort_unstable();
            s.dedup();
        }
        let sets = vec![a, c, b];
        let (pairs, stats) = candidates(&sets, &FingerprintConfig::default());
        assert_eq!(pairs, [pair(0, 2)]);
        assert!(stats.fingerprints > 500);
        let capped = FingerprintConfig {
            max_df: 1,
            ..FingerprintConfig::default()
        };
        assert!(candidates(&sets, &capped).0.is_empty());
    }

    #[test]
    fn union_merges() {
        let u = union(
            vec![pair(0, 1), pair(0, 3)],
            vec![pair(0, 2), pair(0, 3), pair(1, 2)],
        );
        assert_eq!(u, [pair(0, 1), pair(0, 2), pair(0, 3), pair(1, 2)]);
    }
}
