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
use crate::observe::Observer;
use crate::shingle::{ShingleHash, ShingleSet};

/// Whether a shingle hash is a fingerprint at this sampling rate.
#[inline]
pub fn is_fingerprint(h: ShingleHash, sample: u64) -> bool {
    let x = remix(h);
    // `x % sample == 0` without a 64-bit division per shingle (gathering
    // at 1M articles: 2.2 s with it, 1.8 s without): for x and sample
    // below 2^32, with c = ceil(2^64 / sample), sample divides x exactly
    // when x * c mod 2^64 < c (Lemire, Kaser and Kurz, "Faster remainder by
    // direct computation", 2019). `c` depends on `sample` only, so it is
    // computed once per loop.
    match sample {
        1 => true,
        2..=0xffff_ffff => {
            let c = u64::MAX / sample + 1;
            x.wrapping_mul(c) < c
        }
        // 0, and rates of 2^32 and above: x is below 2^32, so only 0 is a
        // multiple.
        _ => x == 0,
    }
}

/// A shingle hash remixed to 32 bits, so that the choice of fingerprints
/// is independent of the bits MinHash uses.
#[inline]
fn remix(h: ShingleHash) -> u64 {
    (u64::from(h) ^ 0x5851_f42d_4c95_7f2d).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32
}

/// The fingerprints of a shingle set at this sampling rate (none at 0), in
/// the set's order.
pub fn fingerprints_of(set: &[ShingleHash], sample: u64) -> Vec<ShingleHash> {
    let mut scratch = Vec::new();
    sample_into(set, sample, &mut scratch).to_vec()
}

/// The fingerprints of `set`, written into `scratch` (reused across sets).
/// Every hash is stored and the end moves on only past fingerprints: no
/// branch to mispredict on one shingle in eight, about three times as fast
/// as filtering.
fn sample_into<'a>(
    set: &[ShingleHash],
    sample: u64,
    scratch: &'a mut Vec<ShingleHash>,
) -> &'a [ShingleHash] {
    if sample == 0 {
        return &[];
    }
    scratch.clear();
    scratch.resize(set.len(), 0);
    let mut kept = 0;
    for &h in set {
        scratch[kept] = h;
        kept += usize::from(is_fingerprint(h, sample));
    }
    &scratch[..kept]
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
/// `obs` is told which part of the work runs.
pub fn candidates(
    sets: &[ShingleSet],
    cfg: &FingerprintConfig,
    obs: &dyn Observer,
) -> (Vec<CandidatePair>, FingerprintStats) {
    if cfg.sample == 0 || sets.is_empty() {
        return (Vec::new(), FingerprintStats::default());
    }
    let mut prints = Prints::default();
    for run in sets.chunks(GATHER_CHUNK) {
        prints.push_run(run, cfg.sample, |_| true);
    }
    candidates_of_prints(prints, cfg, obs)
}

/// Sets sampled at once by [`candidates`].
const GATHER_CHUNK: usize = 50_000;

/// The fingerprints of a corpus, gathered document by document and kept
/// apart by quarter of the hash space, for [`candidates_of_prints`]: the
/// index reads these (an eighth of the shingles at the default sampling)
/// rather than the sets, and lets each quarter go once it is indexed.
#[derive(Debug)]
pub struct Prints {
    /// Per quarter: document `d`'s fingerprints are
    /// `hashes[start[d]..start[d + 1]]`.
    quarters: [(Vec<u32>, Vec<ShingleHash>); 4],
}

impl Default for Prints {
    fn default() -> Self {
        Prints {
            quarters: std::array::from_fn(|_| (vec![0], Vec::new())),
        }
    }
}

impl Prints {
    /// The next document's fingerprints ([`fingerprints_of`] its set; none
    /// for a document the index leaves out).
    pub fn push(&mut self, fingerprints: &[ShingleHash]) {
        // Ascending, as `fingerprints_of` gives them, each quarter is one
        // run; anything else is sorted first.
        let sorted: std::borrow::Cow<'_, [ShingleHash]> = if fingerprints.is_sorted() {
            fingerprints.into()
        } else {
            let mut v = fingerprints.to_vec();
            v.sort_unstable();
            v.into()
        };
        let mut rest = &sorted[..];
        for (quarter, (start, hashes)) in (0..).zip(&mut self.quarters) {
            let end = rest.partition_point(|&h| h >> 30 <= quarter);
            hashes.extend_from_slice(&rest[..end]);
            rest = &rest[end..];
            start.push(hashes.len() as u32);
        }
    }

    /// The next documents' fingerprints, sampled from their sets in
    /// parallel at rate `sample`; a document for which `keep(i)` (its index
    /// in `run`) is false is pushed with none.
    pub fn push_run(
        &mut self,
        run: &[ShingleSet],
        sample: u64,
        keep: impl Fn(usize) -> bool + Sync,
    ) {
        let sampled: Vec<ShingleSet> = run
            .par_iter()
            .enumerate()
            .map_init(Vec::new, |scratch, (i, s)| {
                if keep(i) {
                    sample_into(s, sample, scratch).to_vec()
                } else {
                    Vec::new()
                }
            })
            .collect();
        for s in &sampled {
            self.push(s);
        }
    }

    /// Documents pushed.
    pub fn len(&self) -> usize {
        self.quarters[0].0.len() - 1
    }

    /// Whether no document was pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// [`candidates`] from gathered fingerprints: the same pairs and stats as
/// from the sets they were gathered from.
pub fn candidates_of_prints(
    prints: Prints,
    cfg: &FingerprintConfig,
    obs: &dyn Observer,
) -> (Vec<CandidatePair>, FingerprintStats) {
    let n = prints.len();
    if cfg.sample == 0 || n == 0 {
        return (Vec::new(), FingerprintStats::default());
    }
    let mut quarters = prints.quarters.map(Some);
    index(n, cfg, obs, |quarter| {
        let (start, hashes) = quarters[quarter as usize]
            .take()
            .expect("each quarter once");
        postings_of_quarter(&start, hashes)
    })
}

/// One quarter's (fingerprint, document) postings, in parts by the hash's
/// top byte, each sorted by hash with documents ascending. The parts are
/// counted first and filled at their exact size, and the quarter's hashes
/// go before the parts are sorted: one copy of the postings, without the
/// slack of vectors grown by doubling (`shingle::sorted_parts` cannot know
/// the sizes in advance). At 1M articles under `--memory-limit 1G` the
/// stage's peak fell from 1,567-1,625 MiB to 1,383-1,498.
fn postings_of_quarter(start: &[u32], hashes: Vec<ShingleHash>) -> Vec<Vec<(ShingleHash, u32)>> {
    let mut counts = vec![0usize; 256];
    for &h in &hashes {
        counts[(h >> 24) as usize] += 1;
    }
    let mut parts: Vec<Vec<(ShingleHash, u32)>> =
        counts.iter().map(|&c| Vec::with_capacity(c)).collect();
    for (d, w) in start.windows(2).enumerate() {
        for &h in &hashes[w[0] as usize..w[1] as usize] {
            parts[(h >> 24) as usize].push((h, d as u32));
        }
    }
    drop(hashes);
    // A stable sort keeps each hash's documents in the ascending order
    // they were pushed in.
    parts
        .par_iter_mut()
        .for_each(|part| radsort::sort_by_key(part, |p| p.0));
    parts
}

/// The index over `n` documents, a quarter of the hash space at a time:
/// `postings(quarter)` gives that quarter's (fingerprint, document) pairs
/// sorted by (hash, document), in parts by the hash's top byte.
fn index(
    n: usize,
    cfg: &FingerprintConfig,
    obs: &dyn Observer,
    mut postings: impl FnMut(u32) -> Vec<Vec<(ShingleHash, u32)>>,
) -> (Vec<CandidatePair>, FingerprintStats) {
    // The hash space is indexed a quarter at a time (by the top two bits),
    // so the postings of one quarter are held at once, and only the lists
    // that pair documents are kept: at 1M articles the full postings were
    // 0.7 GB beside their 0.35 GB of document ids.
    type Found = (Vec<(u32, u32)>, Vec<u32>, u64, u64);
    let (mut lists, mut docs) = (Vec::<(u32, u32)>::new(), Vec::<u32>::new());
    let (mut keys, mut capped) = (0u64, 0u64);
    for quarter in 0..4u32 {
        obs.step(
            &format!("indexing sampled shingles, part {} of 4", quarter + 1),
            None,
        );
        let parts = postings(quarter);
        // Runs of equal hashes are the fingerprints' document lists
        // (documents ascending). Lists of one document pair nothing; lists
        // over `max_df` are not expanded. Per part: its kept lists (start
        // in the part's kept documents, length), those documents, keys and
        // capped keys.
        let found: Vec<Found> = parts
            .into_par_iter()
            .map(|part| {
                let (mut lists, mut docs, mut keys, mut capped) = (Vec::new(), Vec::new(), 0, 0);
                for run in part.chunk_by(|x, y| x.0 == y.0) {
                    keys += 1;
                    if run.len() > cfg.max_df {
                        capped += 1;
                    } else if run.len() >= 2 {
                        lists.push((docs.len() as u32, run.len() as u32));
                        docs.extend(run.iter().map(|x| x.1));
                    }
                }
                (lists, docs, keys, capped)
            })
            .collect();
        for (part_lists, part_docs, k, c) in found {
            append_lists((&mut lists, &mut docs), part_lists, &part_docs);
            keys += k;
            capped += c;
        }
    }
    obs.step("pairing articles that share sampled shingles", None);
    let pairs = pairs_sharing(n, &docs, &lists, cfg.min_shared);
    (
        pairs,
        FingerprintStats {
            fingerprints: keys,
            capped,
        },
    )
}

/// Appends one part's document lists (`(start, length)` into `part_docs`)
/// to the lists of the whole (into `whole.1`), for [`pairs_sharing`].
pub(crate) fn append_lists(
    whole: (&mut Vec<(u32, u32)>, &mut Vec<u32>),
    part_lists: Vec<(u32, u32)>,
    part_docs: &[u32],
) {
    let (lists, docs) = whole;
    let base = docs.len() as u32;
    lists.extend(
        part_lists
            .into_iter()
            .map(|(start, len)| (base + start, len)),
    );
    docs.extend_from_slice(part_docs);
}

/// Pairs of documents that occur together in at least `min_count` of the
/// given lists. Each list is `docs[start..start + len]`, documents
/// ascending, and is one shared key (a fingerprint, an LSH bucket). Returns
/// sorted pairs `a < b`.
///
/// Copies of one story share most keys, so many lists hold the same
/// documents: identical lists are merged into one with a weight (how many
/// keys it stands for), and counting costs one pass per distinct list. Each
/// document then meets the documents after it in its lists, counted in a
/// per-thread sparse accumulator (a dense counter plus the documents it
/// touched); no global pair table, no lock, no sort of raw pairs.
pub(crate) fn pairs_sharing(
    n: usize,
    docs: &[u32],
    lists: &[(u32, u32)],
    min_count: u32,
) -> Vec<CandidatePair> {
    let slice = |start: u32, len: u32| &docs[start as usize..(start + len) as usize];
    let mut keyed: Vec<(u64, u32, u32)> = lists
        .par_iter()
        .map(|&(start, len)| {
            let h = slice(start, len).iter().fold(u64::from(len), |h, &d| {
                crate::shingle::fmix64(h ^ u64::from(d))
            });
            (h, start, len)
        })
        .collect();
    keyed.par_sort_unstable();
    // (start, len, weight), in key order; runs are grouped in parallel.
    let weighted: Vec<(u32, u32, u16)> = keyed
        .par_chunk_by(|x, y| x.0 == y.0 && x.2 == y.2)
        .flat_map_iter(|run| {
            // Equal hashes are checked: a collision keeps the lists apart.
            let mut groups: Vec<(u32, u32, u16)> = Vec::new();
            for &(_, start, len) in run {
                match groups
                    .iter_mut()
                    .find(|g| slice(g.0, g.1) == slice(start, len))
                {
                    Some(g) => g.2 = g.2.saturating_add(1),
                    None => groups.push((start, len, 1)),
                }
            }
            groups
        })
        .collect();
    drop(keyed);
    // Per document: (its position in a list, the list's end, the weight),
    // in `slots[doc_offsets[d]..doc_offsets[d + 1]]`.
    let threads = rayon::current_num_threads().max(1);
    let mut doc_offsets: Vec<u32> = weighted
        .par_chunks(weighted.len().div_ceil(threads).max(1))
        .map(|part| {
            let mut counts = vec![0u32; n + 1];
            for &(start, len, _) in part {
                for &d in slice(start, len) {
                    counts[d as usize + 1] += 1;
                }
            }
            counts
        })
        .reduce_with(|mut a, b| {
            a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
            a
        })
        .unwrap_or_else(|| vec![0; n + 1]);
    for d in 0..n {
        doc_offsets[d + 1] += doc_offsets[d];
    }
    // Filled in parallel by ranges of documents with about equal slots:
    // each range scans every list and writes only its own documents'
    // slots, a contiguous part of `slots`.
    let mut slots = vec![(0u32, 0u32, 0u16); doc_offsets[n] as usize];
    let mut ranges = Vec::with_capacity(threads);
    let mut rest: &mut [(u32, u32, u16)] = &mut slots;
    let mut lo = 0usize;
    for r in 1..=threads {
        let hi = if r == threads {
            n
        } else {
            let goal = (u64::from(doc_offsets[n]) * r as u64 / threads as u64) as u32;
            doc_offsets.partition_point(|&o| o < goal).clamp(lo, n)
        };
        let (mine, tail) = rest.split_at_mut((doc_offsets[hi] - doc_offsets[lo]) as usize);
        ranges.push((lo, hi, mine));
        rest = tail;
        lo = hi;
    }
    ranges.into_par_iter().for_each(|(lo, hi, mine)| {
        let base = doc_offsets[lo];
        let mut cursor: Vec<u32> = doc_offsets[lo..hi].iter().map(|&o| o - base).collect();
        for &(start, len, w) in &weighted {
            for pos in start..start + len {
                let d = docs[pos as usize] as usize;
                if (lo..hi).contains(&d) {
                    let c = &mut cursor[d - lo];
                    mine[*c as usize] = (pos, start + len, w);
                    *c += 1;
                }
            }
        }
    });
    drop(weighted);
    let per_doc: Vec<Vec<u64>> = (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0u16; n], Vec::<u32>::new()),
            |(counts, touched), d| {
                let d32 = d as u32;
                for &(pos, end, w) in &slots[doc_offsets[d] as usize..doc_offsets[d + 1] as usize] {
                    for &e in &docs[pos as usize + 1..end as usize] {
                        let c = &mut counts[e as usize];
                        if *c == 0 {
                            touched.push(e);
                        }
                        *c = c.saturating_add(w);
                    }
                }
                let mut out: Vec<u64> = Vec::new();
                for &e in touched.iter() {
                    if u32::from(counts[e as usize]) >= min_count {
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
    pairs
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
    use crate::observe::Silent;

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
        let (pairs, stats) = candidates(&sets, &FingerprintConfig::default(), &Silent);
        assert_eq!(pairs, [pair(0, 2)]);
        assert!(stats.fingerprints > 500);
        let capped = FingerprintConfig {
            max_df: 1,
            ..FingerprintConfig::default()
        };
        assert!(candidates(&sets, &capped, &Silent).0.is_empty());
    }

    #[test]
    fn gathered_prints_index_like_the_sets() {
        // 60 documents in overlapping windows of one hash stream: many
        // pairs, in every quarter of the hash space.
        let h = |i: u64| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as u32;
        let sets: Vec<ShingleSet> = (0..60u64)
            .map(|d| {
                let mut s: Vec<u32> = (d * 20..d * 20 + 600).map(h).collect();
                s.sort_unstable();
                s
            })
            .collect();
        for cfg in [
            FingerprintConfig::default(),
            FingerprintConfig {
                max_df: 3,
                ..FingerprintConfig::default()
            },
        ] {
            // The definition: pairs sharing at least `min_shared`
            // fingerprints held by at most `max_df` documents.
            let mut holders: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
            for (d, s) in sets.iter().enumerate() {
                for h in fingerprints_of(s, cfg.sample) {
                    holders.entry(h).or_default().push(d as u32);
                }
            }
            let mut shared: std::collections::BTreeMap<(u32, u32), u32> = Default::default();
            for docs in holders.values().filter(|v| v.len() <= cfg.max_df) {
                for (i, &a) in docs.iter().enumerate() {
                    for &b in &docs[i + 1..] {
                        *shared.entry((a, b)).or_default() += 1;
                    }
                }
            }
            let want: Vec<CandidatePair> = shared
                .into_iter()
                .filter(|&(_, c)| c >= cfg.min_shared)
                .map(|((a, b), _)| pair(a, b))
                .collect();
            assert!(!want.is_empty());
            let (from_sets, stats) = candidates(&sets, &cfg, &Silent);
            assert_eq!(from_sets, want);
            assert_eq!(stats.fingerprints, holders.len() as u64);
            // Pushed one by one, odd documents' fingerprints out of order.
            let mut prints = Prints::default();
            for (d, s) in sets.iter().enumerate() {
                let mut f = fingerprints_of(s, cfg.sample);
                if d % 2 == 1 {
                    f.reverse();
                }
                prints.push(&f);
            }
            assert_eq!(prints.len(), sets.len());
            assert_eq!(candidates_of_prints(prints, &cfg, &Silent), (want, stats));
        }
    }

    #[test]
    fn merged_lists_count_each_fingerprint() {
        // Fingerprint hashes, and filler that is never one.
        let fp: Vec<u32> = (0u32..).filter(|&h| is_fingerprint(h, 8)).take(6).collect();
        let filler: Vec<u32> = (1_000_000u32..)
            .filter(|&h| !is_fingerprint(h, 8))
            .take(4)
            .collect();
        let set = |hs: &[u32]| {
            let mut v: Vec<u32> = hs.iter().chain(&filler).copied().collect();
            v.sort_unstable();
            v
        };
        // 0 and 1 share fp0 and fp1 (two lists with the same documents, merged
        // into one of weight 2); 0 and 2 share only fp2; 3 and 4 share fp3 and
        // fp4, whose lists differ (fp4 is also in 5).
        let sets = vec![
            set(&[fp[0], fp[1], fp[2]]),
            set(&[fp[0], fp[1]]),
            set(&[fp[2]]),
            set(&[fp[3], fp[4]]),
            set(&[fp[3], fp[4], fp[5]]),
            set(&[fp[4], fp[5]]),
        ];
        let (pairs, stats) = candidates(&sets, &FingerprintConfig::default(), &Silent);
        assert_eq!(pairs, [pair(0, 1), pair(3, 4), pair(4, 5)]);
        assert_eq!(stats.fingerprints, 6);
    }

    proptest::proptest! {
        // Any lists (many repeated, as copies make them) pair exactly the
        // documents that meet in at least `min_count` of them, whatever the
        // grouping, the ranges the slots are filled by, or the threads.
        #[test]
        fn pairs_sharing_counts_like_the_definition(
            raw in proptest::collection::vec(proptest::collection::btree_set(0u32..40, 1..8), 0..60),
            repeat in proptest::collection::vec(1usize..4, 60),
            min_count in 1u32..4,
        ) {
            let (mut docs, mut lists) = (Vec::new(), Vec::new());
            for (list, &times) in raw.iter().zip(&repeat) {
                for _ in 0..times {
                    lists.push((docs.len() as u32, list.len() as u32));
                    docs.extend(list.iter().copied());
                }
            }
            let mut want: std::collections::BTreeMap<(u32, u32), u32> = Default::default();
            for &(start, len) in &lists {
                let l = &docs[start as usize..(start + len) as usize];
                for (i, &a) in l.iter().enumerate() {
                    for &b in &l[i + 1..] {
                        *want.entry((a, b)).or_default() += 1;
                    }
                }
            }
            let want: Vec<CandidatePair> = want
                .into_iter()
                .filter(|&(_, c)| c >= min_count)
                .map(|((a, b), _)| pair(a, b))
                .collect();
            proptest::prop_assert_eq!(pairs_sharing(40, &docs, &lists, min_count), want);
        }
    }

    #[test]
    fn fingerprint_test_is_the_remainder() {
        let wide = [0xffff_ffff, 1 << 32, u64::MAX];
        let samples = [0, 1, 2, 3, 7, 8, 13, 1000, 65_537].into_iter().chain(wide);
        for h in (0..200_000u32).chain([u32::MAX, u32::MAX - 1]) {
            for sample in samples.clone() {
                let x = remix(h);
                let want = x.is_multiple_of(sample);
                assert_eq!(is_fingerprint(h, sample), want, "h {h} sample {sample}");
            }
        }
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
