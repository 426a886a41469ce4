//! LSH: signatures to candidate pairs by banding, in parallel, without a
//! global lock.
//!
//! In: one [`Signature`](crate::minhash::Signature) per document (documents
//! without shingles are left out). Out: sorted, deduplicated
//! [`CandidatePair`]s with `a < b`, and [`BucketStats`] naming the buckets
//! too large to expand.
//!
//! Each signature is cut into `b` bands of `r` rows; a band's key is the
//! xxh3 of its rows seeded with the band index. All (key, doc) tuples are
//! sorted in parallel, runs of equal keys are buckets, and each bucket of
//! up to `bucket_cap` documents emits all its pairs. A larger bucket
//! (templated text, or one article repeated many times) is not expanded
//! quadratically: each of its documents is paired with the next one only,
//! so verification still sees every member and true duplicates still chain
//! into one story, at linear cost. Chunks of the sorted
//! tuples are swept by separate threads; pairs are then sorted and
//! deduplicated. The result does not depend on the number of threads.

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::config::LshConfig;
use crate::document::DocId;
use crate::observe::Observer;
use crate::spill::Sorter;

/// A candidate pair, `a < b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CandidatePair {
    /// The smaller id.
    pub a: DocId,
    /// The larger id.
    pub b: DocId,
}

impl CandidatePair {
    /// Packs into one `u64` that sorts like the pair.
    pub fn pack(self) -> u64 {
        (u64::from(self.a.0) << 32) | u64::from(self.b.0)
    }
    /// Inverse of [`pack`](Self::pack).
    pub fn unpack(v: u64) -> Self {
        CandidatePair {
            a: DocId((v >> 32) as u32),
            b: DocId(v as u32),
        }
    }
}

/// Bands and rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Banding {
    /// Number of bands.
    pub bands: usize,
    /// Rows (slots) per band.
    pub rows: usize,
}

impl Banding {
    /// Probability that two documents of Jaccard `j` share at least one band:
    /// `1 - (1 - j^r)^b`.
    pub fn collision_probability(&self, j: f64) -> f64 {
        1.0 - (1.0 - j.powi(self.rows as i32)).powi(self.bands as i32)
    }
}

fn integrate(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    // Composite Simpson's rule; the integrands are smooth polynomials.
    let n = 200;
    let h = (hi - lo) / n as f64;
    let mut s = f(lo) + f(hi);
    for i in 1..n {
        let x = lo + i as f64 * h;
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(x);
    }
    s * h / 3.0
}

/// The (bands, rows) with `bands * rows <= num_perm` that minimise
/// `fp_weight * FP + fn_weight * FN`, where
/// `FP = ∫_0^t P(j) dj` (pairs below the threshold that collide) and
/// `FN = ∫_t^1 (1 - P(j)) dj` (pairs above it that do not), with
/// `P(j) = 1 - (1 - j^r)^b`. This is the criterion datasketch uses.
///
/// ```
/// use wiretrace::lsh::{optimal_banding, Banding};
/// let p = |t| { let b = optimal_banding(t, 128, 0.5, 0.5); (b.bands, b.rows) };
/// assert_eq!(p(0.8), (9, 13));
/// assert_eq!(p(0.5), (25, 5));
/// assert_eq!(p(0.3), (37, 3));
/// ```
pub fn optimal_banding(threshold: f64, num_perm: usize, fp_weight: f64, fn_weight: f64) -> Banding {
    let mut best = Banding { bands: 1, rows: 1 };
    let mut best_err = f64::INFINITY;
    for bands in 1..=num_perm {
        for rows in 1..=num_perm / bands {
            let cand = Banding { bands, rows };
            let fp = integrate(|j| cand.collision_probability(j), 0.0, threshold);
            let fneg = integrate(|j| 1.0 - cand.collision_probability(j), threshold, 1.0);
            let err = fp_weight * fp + fn_weight * fneg;
            if err < best_err {
                best_err = err;
                best = cand;
            }
        }
    }
    best
}

/// What happened to the buckets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BucketStats {
    /// Buckets with two or more documents that were expanded.
    pub expanded: u64,
    /// Sizes of the buckets not expanded because they exceeded the cap,
    /// largest first.
    pub capped_sizes: Vec<usize>,
}

/// The hash of one band of a signature.
fn band_key(sig: &[u32], band: usize, rows: usize) -> u64 {
    let rows_slice = &sig[band * rows..(band + 1) * rows];
    let mut buf = [0u8; 4 * 64];
    if rows <= 64 {
        for (k, v) in rows_slice.iter().enumerate() {
            buf[k * 4..k * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        xxh3_64_with_seed(&buf[..rows * 4], band as u64)
    } else {
        let v: Vec<u8> = rows_slice.iter().flat_map(|v| v.to_le_bytes()).collect();
        xxh3_64_with_seed(&v, band as u64)
    }
}

/// Candidate pairs from signatures. `signatures[i]` belongs to `DocId(i)`;
/// `None` (no shingles) is left out.
///
/// Each band is sorted on its own (in parallel, one band per task) and cut
/// into buckets. Pairs then come from the buckets as document lists
/// (`fingerprint::pairs_sharing`, the passage index's counter):
/// the same pair found in many bands is counted, never materialised,
/// sorted and deduplicated. Same output as sweeping the globally sorted
/// (key, doc) tuples ([`pairs_from_sorted`]).
pub fn candidates(
    signatures: &[Option<&[u32]>],
    banding: Banding,
    cfg: &LshConfig,
) -> (Vec<CandidatePair>, BucketStats) {
    let Banding { bands, rows } = banding;
    let n = signatures.len();
    let present: Vec<(u32, &[u32])> = signatures
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i as u32, s)))
        .collect();
    struct Band {
        /// Members of the expanded buckets, bucket after bucket, docs ascending.
        members: Vec<u32>,
        /// End (in `members`) of each expanded bucket.
        ends: Vec<u32>,
        /// Pairs of chained (over-cap) buckets, packed.
        chained: Vec<u64>,
        expanded: u64,
        capped: Vec<usize>,
    }
    let per_band: Vec<Band> = (0..bands)
        .into_par_iter()
        .map(|band| {
            let mut t: Vec<(u64, u32)> = present
                .iter()
                .map(|&(d, sig)| (band_key(sig, band, rows), d))
                .collect();
            t.sort_unstable();
            let mut b = Band {
                members: Vec::new(),
                ends: Vec::new(),
                chained: Vec::new(),
                expanded: 0,
                capped: Vec::new(),
            };
            for run in t.chunk_by(|x, y| x.0 == y.0) {
                if run.len() > cfg.bucket_cap {
                    sweep_bucket(run, cfg.bucket_cap, &mut b.chained, &mut 0, &mut b.capped);
                } else if run.len() >= 2 {
                    b.expanded += 1;
                    b.members.extend(run.iter().map(|x| x.1));
                    b.ends.push(b.members.len() as u32);
                }
            }
            b
        })
        .collect();
    let mut stats = BucketStats::default();
    let mut chained: Vec<u64> = Vec::new();
    // Every expanded bucket of every band as one list over `members`.
    let mut members: Vec<u32> = Vec::new();
    let mut lists: Vec<(u32, u32)> = Vec::new();
    for b in per_band {
        stats.expanded += b.expanded;
        stats.capped_sizes.extend(b.capped);
        chained.extend(b.chained);
        let base = members.len() as u32;
        let mut start = 0u32;
        for &end in &b.ends {
            lists.push((base + start, end - start));
            start = end;
        }
        members.extend(b.members);
    }
    // A pair is a candidate when it shares one bucket in any band.
    let expanded = crate::fingerprint::pairs_sharing(n, &members, &lists, 1);
    chained.sort_unstable();
    chained.dedup();
    stats.capped_sizes.sort_unstable_by(|a, b| b.cmp(a));
    let chained = chained.into_iter().map(CandidatePair::unpack).collect();
    (crate::fingerprint::union(expanded, chained), stats)
}

/// One bucket (a run of equal keys, docs ascending): all its pairs, or, over
/// the cap, each document paired with the next (chained, still one story).
fn sweep_bucket(
    run: &[(u64, u32)],
    cap: usize,
    pairs: &mut Vec<u64>,
    expanded: &mut u64,
    capped: &mut Vec<usize>,
) {
    if run.len() > cap {
        capped.push(run.len());
        for w in run.windows(2) {
            if w[0].1 != w[1].1 {
                pairs.push((u64::from(w[0].1) << 32) | u64::from(w[1].1));
            }
        }
    } else if run.len() >= 2 {
        *expanded += 1;
        for x in 0..run.len() {
            for y in x + 1..run.len() {
                let (a, b) = (run[x].1.min(run[y].1), run[x].1.max(run[y].1));
                if a != b {
                    pairs.push((u64::from(a) << 32) | u64::from(b));
                }
            }
        }
    }
}

/// [`candidates`] within a memory budget for the band keys and pairs: when
/// `n x bands` keys would not fit in `budget` bytes, they are sorted
/// externally in runs under `dir` (see [`crate::spill`]) and swept as a
/// stream, and so are the pairs. Same output as [`candidates`]. Returns the
/// runs written (0 when it all fit). On the sorted-on-disk path `obs` is
/// told its steps: articles banded, band keys swept, pairs merged.
pub fn candidates_within(
    signatures: &[Option<&[u32]>],
    banding: Banding,
    cfg: &LshConfig,
    budget: Option<u64>,
    dir: &std::path::Path,
    obs: &dyn Observer,
) -> crate::error::Result<(Vec<CandidatePair>, BucketStats, usize)> {
    let Banding { bands, rows } = banding;
    let need = (signatures.len() * bands * std::mem::size_of::<(u64, u32)>()) as u64;
    let Some(budget) = budget.filter(|&b| need > b) else {
        let (pairs, stats) = candidates(signatures, banding, cfg);
        return Ok((pairs, stats, 0));
    };
    let mut keys: Sorter<(u64, u32)> = Sorter::new(Some(budget / 2), dir);
    obs.step(
        "articles banded, keys sorted on disk",
        Some(signatures.len() as u64),
    );
    for (c, chunk) in signatures.chunks(16_384).enumerate() {
        let tuples: Vec<(u64, u32)> = chunk
            .par_iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (c * 16_384 + i, s)))
            .flat_map_iter(|(i, sig)| {
                (0..bands).map(move |band| (band_key(sig, band, rows), i as u32))
            })
            .collect();
        keys.extend(tuples)?;
        obs.advance(chunk.len() as u64, 0);
    }
    let mut runs = keys.runs();
    let total_keys = signatures.iter().flatten().count() * bands;
    obs.step("band keys swept", Some(total_keys as u64));
    let mut swept = 0u64;
    // A pair is found once per band it shares; repeats are dropped in
    // memory before anything is written.
    let mut pairs: Sorter<u64> = Sorter::distinct(Some(budget / 2), dir);
    let mut stats = BucketStats::default();
    let mut bucket: Vec<(u64, u32)> = Vec::new();
    let mut out: Vec<u64> = Vec::new();
    let mut flush =
        |bucket: &mut Vec<(u64, u32)>, pairs: &mut Sorter<u64>, stats: &mut BucketStats| {
            out.clear();
            sweep_bucket(
                bucket,
                cfg.bucket_cap,
                &mut out,
                &mut stats.expanded,
                &mut stats.capped_sizes,
            );
            bucket.clear();
            pairs.extend(out.iter().copied())
        };
    for t in keys.finish()? {
        let t = t?;
        if bucket.last().is_some_and(|b| b.0 != t.0) {
            flush(&mut bucket, &mut pairs, &mut stats)?;
        }
        bucket.push(t);
        swept += 1;
        if swept.is_multiple_of(1 << 20) {
            obs.advance(1 << 20, 0);
        }
    }
    obs.advance(swept % (1 << 20), 0);
    flush(&mut bucket, &mut pairs, &mut stats)?;
    runs += pairs.runs();
    obs.step("merging candidate pairs from disk", None);
    let mut all: Vec<CandidatePair> = Vec::new();
    for p in pairs.finish()? {
        all.push(CandidatePair::unpack(p?));
    }
    stats.capped_sizes.sort_unstable_by(|a, b| b.cmp(a));
    Ok((all, stats, runs))
}

/// Sweeps sorted (key, doc) tuples: every run of equal keys is a bucket.
pub fn pairs_from_sorted(tuples: &[(u64, u32)], cap: usize) -> (Vec<CandidatePair>, BucketStats) {
    // Cut into chunks at key boundaries so that each chunk holds whole buckets.
    let threads = rayon::current_num_threads().max(1);
    let target = (tuples.len() / (threads * 8)).max(4096);
    let mut cuts = vec![0usize];
    let mut at = target;
    while at < tuples.len() {
        let key = tuples[at].0;
        while at < tuples.len() && tuples[at].0 == key {
            at += 1;
        }
        if at < tuples.len() {
            cuts.push(at);
        }
        at += target;
    }
    cuts.push(tuples.len());
    let parts: Vec<(Vec<u64>, u64, Vec<usize>)> = cuts
        .par_windows(2)
        .map(|w| {
            let chunk = &tuples[w[0]..w[1]];
            let mut pairs = Vec::new();
            let mut expanded = 0u64;
            let mut capped = Vec::new();
            let mut i = 0;
            while i < chunk.len() {
                let mut j = i + 1;
                while j < chunk.len() && chunk[j].0 == chunk[i].0 {
                    j += 1;
                }
                sweep_bucket(&chunk[i..j], cap, &mut pairs, &mut expanded, &mut capped);
                i = j;
            }
            pairs.sort_unstable();
            pairs.dedup();
            (pairs, expanded, capped)
        })
        .collect();
    let mut stats = BucketStats::default();
    let mut all: Vec<u64> = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    for (pairs, expanded, capped) in parts {
        all.extend(pairs);
        stats.expanded += expanded;
        stats.capped_sizes.extend(capped);
    }
    all.par_sort_unstable();
    all.dedup();
    stats.capped_sizes.sort_unstable_by(|a, b| b.cmp(a));
    (all.into_iter().map(CandidatePair::unpack).collect(), stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_expand_and_cap() {
        // Key 1: docs 0,1,2 (3 pairs); key 2: docs 3..=7 (capped at 4); key 3: doc 8 alone.
        let mut t: Vec<(u64, u32)> = vec![(1, 2), (1, 0), (1, 1), (3, 8)];
        t.extend((3..=7).map(|d| (2, d)));
        t.sort_unstable();
        let (pairs, stats) = pairs_from_sorted(&t, 4);
        let got: Vec<(u32, u32)> = pairs.iter().map(|p| (p.a.0, p.b.0)).collect();
        // Key 2's capped bucket is chained: 3-4, 4-5, 5-6, 6-7, not all 10 pairs.
        assert_eq!(
            got,
            [(0, 1), (0, 2), (1, 2), (3, 4), (4, 5), (5, 6), (6, 7)]
        );
        assert_eq!(stats.capped_sizes, [5]);
        assert_eq!(stats.expanded, 1);
    }

    #[test]
    fn identical_signatures_collide_in_every_band() {
        let a: Vec<u32> = (0..128).collect();
        let mut c = a.clone();
        for v in c.iter_mut() {
            *v += 1000;
        }
        let sigs = [
            Some(a.as_slice()),
            None,
            Some(a.as_slice()),
            Some(c.as_slice()),
        ];
        let cfg = LshConfig::default();
        let (pairs, _) = candidates(&sigs, Banding { bands: 16, rows: 8 }, &cfg);
        let dir = tempfile::tempdir().unwrap();
        let (spilled, _, runs) = candidates_within(
            &sigs,
            Banding { bands: 16, rows: 8 },
            &cfg,
            Some(1),
            dir.path(),
            &crate::observe::Silent,
        )
        .unwrap();
        assert!(runs > 0);
        assert_eq!(spilled, pairs);
        assert_eq!(
            pairs,
            [CandidatePair {
                a: DocId(0),
                b: DocId(2)
            }]
        );
    }

    #[test]
    fn per_band_sweep_matches_global_sweep() {
        // Families of near-identical signatures (shared rows), some families
        // larger than the cap, plus unrelated ones.
        let mut sigs: Vec<Vec<u32>> = Vec::new();
        let mut x = 7u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for family in 0..40u32 {
            let base: Vec<u32> = (0..32).map(|_| next()).collect();
            for _ in 0..(family % 9) + 1 {
                let mut s = base.clone();
                for _ in 0..(next() % 12) {
                    let i = (next() % 32) as usize;
                    s[i] = next();
                }
                sigs.push(s);
            }
        }
        let refs: Vec<Option<&[u32]>> = sigs
            .iter()
            .enumerate()
            .map(|(i, s)| (i % 11 != 3).then_some(s.as_slice()))
            .collect();
        let banding = Banding { bands: 8, rows: 4 };
        let cfg = LshConfig {
            bucket_cap: 5,
            ..LshConfig::default()
        };
        let mut tuples: Vec<(u64, u32)> = refs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (i, s)))
            .flat_map(|(i, s)| (0..8).map(move |b| (band_key(s, b, 4), i as u32)))
            .collect();
        tuples.sort_unstable();
        let (want, want_stats) = pairs_from_sorted(&tuples, 5);
        let (got, got_stats) = candidates(&refs, banding, &cfg);
        assert!(want.len() > 50, "{}", want.len());
        assert!(!want_stats.capped_sizes.is_empty());
        assert_eq!(got, want);
        assert_eq!(got_stats, want_stats);
    }

    #[test]
    fn pack_roundtrip() {
        let p = CandidatePair {
            a: DocId(3),
            b: DocId(u32::MAX),
        };
        assert_eq!(CandidatePair::unpack(p.pack()), p);
    }
}
