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
//! document in parallel against an inverted index, with a per-thread sparse
//! accumulator; no global pair table and no lock.

use rayon::prelude::*;

use crate::config::FingerprintConfig;
use crate::lsh::CandidatePair;
use crate::shingle::{ShingleHash, ShingleSet};

/// Whether a shingle hash is a fingerprint at this sampling rate.
#[inline]
pub fn is_fingerprint(h: ShingleHash, sample: u64) -> bool {
    // Remix so the choice is independent of the bits MinHash uses.
    let x = (u64::from(h) ^ 0x5851_f42d_4c95_7f2d).wrapping_mul(0x9e37_79b9_7f4a_7c15);
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
    if cfg.sample == 0 || sets.is_empty() {
        return (Vec::new(), FingerprintStats::default());
    }
    let n = sets.len();
    let fps: Vec<Vec<ShingleHash>> = sets
        .par_iter()
        .map(|s| {
            s.iter()
                .copied()
                .filter(|&h| is_fingerprint(h, cfg.sample))
                .collect()
        })
        .collect();
    let mut postings: Vec<(ShingleHash, u32)> = Vec::with_capacity(fps.iter().map(Vec::len).sum());
    postings.extend(
        fps.iter()
            .enumerate()
            .flat_map(|(d, f)| f.iter().map(move |&h| (h, d as u32))),
    );
    // Pushed in document order, so a stable radix sort on the hash alone
    // orders by (hash, document): four passes instead of a comparison sort.
    radsort::sort_by_key(&mut postings, |p| p.0);
    // CSR by key: `docs[offsets[k]..offsets[k + 1]]` are the documents holding key k,
    // in increasing order. `doc_keys[doc_offsets[d]..]` are the keys of document d.
    let mut offsets: Vec<u32> = Vec::with_capacity(postings.len() + 1);
    let mut doc_offsets: Vec<usize> = Vec::with_capacity(n + 1);
    doc_offsets.push(0);
    for f in &fps {
        doc_offsets.push(doc_offsets.last().expect("non-empty") + f.len());
    }
    drop(fps);
    // `doc_keys` holds, per document, the key of each of its postings and
    // its position in `docs`, so the documents after it in that key's list
    // are `docs[pos + 1..end of key]` without a search.
    let mut cursor = doc_offsets.clone();
    let mut doc_keys = vec![(0u32, 0u32); postings.len()];
    let mut docs = Vec::with_capacity(postings.len());
    let mut last = None;
    for (i, &(h, d)) in postings.iter().enumerate() {
        if last != Some(h) {
            offsets.push(i as u32);
            last = Some(h);
        }
        let k = (offsets.len() - 1) as u32;
        doc_keys[cursor[d as usize]] = (k, i as u32);
        cursor[d as usize] += 1;
        docs.push(d);
    }
    offsets.push(postings.len() as u32);
    drop(postings);
    let keys = offsets.len() - 1;
    let list = |k: u32| &docs[offsets[k as usize] as usize..offsets[k as usize + 1] as usize];
    let capped = (0..keys as u32)
        .filter(|&k| list(k).len() > cfg.max_df)
        .count() as u64;
    // Sparse accumulator per thread: a dense counter over documents plus the
    // list of documents it touched, reset after each document.
    let per_doc: Vec<Vec<u64>> = (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0u16; n], Vec::<u32>::new()),
            |(counts, touched), d| {
                let d32 = d as u32;
                for &(k, pos) in &doc_keys[doc_offsets[d]..doc_offsets[d + 1]] {
                    let end = offsets[k as usize + 1] as usize;
                    if end - offsets[k as usize] as usize > cfg.max_df {
                        continue;
                    }
                    for &e in &docs[pos as usize + 1..end] {
                        let c = &mut counts[e as usize];
                        if *c == 0 {
                            touched.push(e);
                        }
                        *c = c.saturating_add(1);
                    }
                }
                let mut out: Vec<u64> = Vec::new();
                for &e in touched.iter() {
                    if u32::from(counts[e as usize]) >= cfg.min_shared {
                        out.push((u64::from(d32) << 32) | u64::from(e));
                    }
                    counts[e as usize] = 0;
                }
                touched.clear();
                out.sort_unstable();
                out
            },
        )
        .collect();
    let mut pairs = Vec::with_capacity(per_doc.iter().map(Vec::len).sum());
    pairs.extend(per_doc.into_iter().flatten().map(CandidatePair::unpack));
    (
        pairs,
        FingerprintStats {
            fingerprints: keys as u64,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::DocId;

    fn pair(a: u32, b: u32) -> CandidatePair {
        CandidatePair {
            a: DocId(a.min(b)),
            b: DocId(a.max(b)),
        }
    }

    #[test]
    fn shared_passage_is_found_and_caps_apply() {
        // 400 shingles of a shared passage: about 50 fingerprints at 1/8.
        let h = |i: u64| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as u32;
        let passage: Vec<u32> = (0..400u64).map(h).collect();
        let mut a: Vec<u32> = (1000..3000u64).map(h).collect();
        let mut b: Vec<u32> = (5000..7000u64).map(h).collect();
        let c: Vec<u32> = (9000..9500u64).map(h).collect();
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
