//! Boilerplate: finds shingles that are site furniture, not content, so that
//! they are dropped before sketching and scoring.
//!
//! In: every document's shingle set and outlet. Out: a [`Boilerplate`]
//! table: shingles that are boilerplate everywhere, and per outlet.
//!
//! Two rules:
//! - **global**: a shingle in more than `max_df` documents is boilerplate
//!   (templates shared across sites: "Leave a Reply", "Source link"), and is
//!   stripped from a document when such shingles are a minority of its
//!   shingles. A document made mostly of them is a widely rerun story (or
//!   one article repeated many times), not furniture, and keeps them.
//!   Document frequency is counted exactly up to `global_sample` documents
//!   and estimated above that from an evenly spaced sample of that many
//!   (boilerplate is frequent by definition, so a sample sees it);
//! - **outlet**: a shingle in at least `outlet_df` of up to `outlet_sample`
//!   evenly spaced documents of one outlet is that outlet's furniture
//!   (footer, byline box, share buttons) and is dropped from that outlet's
//!   documents only. Wire reruns cross outlets, so a story rerun by many
//!   outlets keeps its shingles. Near-identical sets in the sample count
//!   once: an article an outlet's pages carry many times over (a scrape
//!   that fetched it under many addresses, or a story updated through the
//!   day) is reuse to report, not the outlet's furniture.
//!
//! Cost is bounded by the samples, not by the corpus: O(global_sample +
//! outlets × outlet_sample) shingle sets are counted.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::config::BoilerplateConfig;
use crate::sets::SetSource;
use crate::shingle::{ShingleHash, ShingleSet};

/// Outlet index per document; `None` when the document has no outlet.
pub type OutletIndex = Option<u32>;

/// Boilerplate shingles, global and per outlet (each list sorted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Boilerplate {
    /// Boilerplate in every document.
    pub global: Vec<ShingleHash>,
    /// Boilerplate in the documents of outlet `i`.
    pub per_outlet: Vec<Vec<ShingleHash>>,
    /// One bit per `hash % FILTER_BITS` of every listed shingle: a cheap
    /// "certainly not boilerplate" test before the binary searches.
    filter: Vec<u64>,
}

const FILTER_BITS: u32 = 1 << 20;

impl Boilerplate {
    /// A table from sorted shingle lists: global, and per outlet number.
    pub fn new(global: Vec<ShingleHash>, per_outlet: Vec<Vec<ShingleHash>>) -> Self {
        let mut filter = vec![0u64; (FILTER_BITS / 64) as usize];
        for h in global.iter().chain(per_outlet.iter().flatten()) {
            let bit = h % FILTER_BITS;
            filter[(bit / 64) as usize] |= 1 << (bit % 64);
        }
        Boilerplate {
            global,
            per_outlet,
            filter,
        }
    }

    /// Distinct (rule, shingle) entries, for the summary.
    pub fn len(&self) -> usize {
        self.global.len() + self.per_outlet.iter().map(Vec::len).sum::<usize>()
    }

    /// True when nothing is boilerplate.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `h` is boilerplate in a document of this outlet.
    pub fn contains(&self, h: ShingleHash, outlet: OutletIndex) -> bool {
        let bit = h % FILTER_BITS;
        if self.filter.is_empty() || self.filter[(bit / 64) as usize] & (1 << (bit % 64)) == 0 {
            return false;
        }
        self.global.binary_search(&h).is_ok()
            || outlet
                .and_then(|o| self.per_outlet.get(o as usize))
                .is_some_and(|l| l.binary_search(&h).is_ok())
    }

    /// Whether `h` is boilerplate in a document of this outlet whose global
    /// boilerplate was kept (`global: false`: only the outlet's furniture
    /// counts) or stripped (`global: true`: as [`Boilerplate::contains`]).
    pub fn contains_in(&self, h: ShingleHash, outlet: OutletIndex, global: bool) -> bool {
        if global {
            return self.contains(h, outlet);
        }
        let bit = h % FILTER_BITS;
        if self.filter.is_empty() || self.filter[(bit / 64) as usize] & (1 << (bit % 64)) == 0 {
            return false;
        }
        outlet
            .and_then(|o| self.per_outlet.get(o as usize))
            .is_some_and(|l| l.binary_search(&h).is_ok())
    }

    /// Removes boilerplate from one document's set: its outlet's furniture
    /// always, global boilerplate when it is a minority of the set (a story
    /// rerun very widely keeps its text). Returns whether global
    /// boilerplate was stripped.
    pub fn strip(&self, set: &mut ShingleSet, outlet: OutletIndex) -> bool {
        let own: &[ShingleHash] = outlet
            .and_then(|o| self.per_outlet.get(o as usize))
            .map_or(&[], Vec::as_slice);
        if self.global.is_empty() && own.is_empty() {
            return true;
        }
        let filter = &self.filter;
        // One pass finds the few shingles the filter cannot rule out; only
        // those are looked up, and the set is compacted only if one goes.
        let mut hits: Vec<(usize, bool, bool)> = Vec::new();
        for (i, &h) in set.iter().enumerate() {
            let bit = h % FILTER_BITS;
            if filter[(bit / 64) as usize] & (1 << (bit % 64)) != 0 {
                let global = self.global.binary_search(&h).is_ok();
                let mine = own.binary_search(&h).is_ok();
                if global || mine {
                    hits.push((i, global, mine));
                }
            }
        }
        let global_hits = hits.iter().filter(|x| x.1).count();
        let strip_global = global_hits * 2 < set.len();
        let mut drop = hits
            .iter()
            .filter(|&&(_, global, mine)| mine || (strip_global && global))
            .map(|x| x.0)
            .peekable();
        // Compacted in place (positions ascend): no second copy of the set.
        if let Some(&first) = drop.peek() {
            let mut to = first;
            let mut from = first;
            for i in drop {
                set.copy_within(from..i, to);
                to += i - from;
                from = i + 1;
            }
            set.copy_within(from.., to);
            to += set.len() - from;
            set.truncate(to);
        }
        strip_global
    }
}

/// One set of each group of near-identical ones, the first met: versions
/// of one article count once towards an outlet's furniture, whatever
/// their number. Furniture is what different articles share.
fn distinct_articles(sample: Vec<Cow<[ShingleHash]>>) -> Vec<Cow<[ShingleHash]>> {
    let mut kept: Vec<Cow<[ShingleHash]>> = Vec::new();
    for set in sample {
        if !kept.iter().any(|k| near_identical(k, &set)) {
            kept.push(set);
        }
    }
    kept
}

/// Whether at least 28 of the 32 smallest shingles of `x ∪ y` are in both
/// (a bottom-k estimate of Jaccard >= 0.875), or, when the union has fewer
/// than 32, whether the sets are equal. Two different articles under one
/// footer stay apart unless the footer is nearly all of both; versions of
/// one article that differ by a line or a paragraph meet.
fn near_identical(x: &[ShingleHash], y: &[ShingleHash]) -> bool {
    const K: usize = 32;
    let (mut i, mut j, mut both, mut seen) = (0, 0, 0, 0);
    while seen < K && (i < x.len() || j < y.len()) {
        match (x.get(i), y.get(j)) {
            (Some(p), Some(q)) if p == q => {
                both += 1;
                i += 1;
                j += 1;
            }
            (Some(p), Some(q)) if p < q => i += 1,
            (Some(_), None) => i += 1,
            _ => j += 1,
        }
        seen += 1;
    }
    if seen < K {
        return x == y;
    }
    8 * both >= 7 * K
}

/// Shingles found in at least `min_count` of the given sets.
fn frequent(sets: &[Cow<[ShingleHash]>], min_count: usize) -> Vec<ShingleHash> {
    let total: usize = sets.iter().map(|s| s.len()).sum();
    if total < 1 << 20 {
        let mut all: Vec<ShingleHash> = sets.iter().flat_map(|s| s.iter().copied()).collect();
        radsort::sort(&mut all);
        return runs_of_at_least(&all, min_count);
    }
    // Millions of keys: sorted in 256 parts, counted in parallel.
    crate::shingle::sorted_parts(
        sets,
        |h: &ShingleHash| *h,
        |_, s: &Cow<[ShingleHash]>, emit| {
            for &h in s.iter() {
                emit(h);
            }
        },
    )
    .into_par_iter()
    .flat_map_iter(|part| runs_of_at_least(&part, min_count))
    .collect()
}

/// The values of a sorted slice that occur at least `min_count` times.
fn runs_of_at_least(sorted: &[ShingleHash], min_count: usize) -> Vec<ShingleHash> {
    sorted
        .chunk_by(|x, y| x == y)
        .filter(|run| run.len() >= min_count)
        .map(|run| run[0])
        .collect()
}

/// Up to `n` evenly spaced items of `items`.
fn spaced<T: Copy>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n).map(|i| items[i * items.len() / n]).collect()
}

/// Finds boilerplate in a corpus.
pub fn detect<S: SetSource + ?Sized>(
    sets: &S,
    outlets: &[OutletIndex],
    cfg: &BoilerplateConfig,
) -> Boilerplate {
    let n = sets.doc_count();
    let max_df = cfg.effective_max_df(n);
    let all: Vec<usize> = (0..n).collect();
    let sample: Vec<Cow<[ShingleHash]>> = spaced(&all, cfg.global_sample.max(1))
        .into_par_iter()
        .map(|i| sets.set(i))
        .collect();
    // More than max_df of n documents ⇔ more than max_df·s/n of a sample of s.
    let threshold = (max_df as f64 * sample.len() as f64 / n.max(1) as f64).floor() as usize + 1;
    let global = frequent(&sample, threshold.max(2));

    let outlet_count = outlets
        .iter()
        .flatten()
        .map(|&o| o as usize + 1)
        .max()
        .unwrap_or(0);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); outlet_count];
    for (d, o) in outlets.iter().enumerate() {
        if let Some(o) = o {
            members[*o as usize].push(d);
        }
    }
    let per_outlet = if cfg.outlet_df == 0 {
        vec![Vec::new(); outlet_count]
    } else {
        members
            .par_iter()
            .map(|docs| {
                if docs.len() < cfg.outlet_df {
                    return Vec::new();
                }
                let sample: Vec<Cow<[ShingleHash]>> =
                    spaced(docs, cfg.outlet_sample.max(cfg.outlet_df))
                        .into_iter()
                        .map(|d| sets.set(d))
                        .collect();
                frequent(&distinct_articles(sample), cfg.outlet_df)
            })
            .collect()
    };
    Boilerplate::new(global, per_outlet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(max_df: usize, outlet_df: usize) -> BoilerplateConfig {
        BoilerplateConfig {
            max_df,
            outlet_df,
            ..BoilerplateConfig::default()
        }
    }

    #[test]
    fn outlet_furniture_stays_with_its_outlet() {
        // Shingle 1: in 3 docs of outlet 0 -> outlet 0's boilerplate at outlet_df 3.
        // Shingle 2: in 3 docs of 2 outlets -> content.
        // Shingle 3: in 4 docs -> global boilerplate at max_df 3.
        let sets: [ShingleSet; 5] = [
            vec![1, 2, 3],
            vec![1, 2, 3, 6],
            vec![1, 3],
            vec![2, 3],
            vec![9],
        ];
        let outlets = vec![Some(0), Some(0), Some(0), Some(1), None];
        let b = detect(&sets[..], &outlets, &cfg(3, 3));
        assert_eq!(b.global, [3]);
        // Shingle 3 is also in 3 docs of outlet 0, so it is on that list too.
        assert_eq!(b.per_outlet, [vec![1, 3], vec![]]);
        assert_eq!(b.len(), 3);
        let mut s0 = vec![1, 2, 3, 4];
        b.strip(&mut s0, Some(0));
        assert_eq!(s0, [2, 4]);
        let mut s1 = vec![1, 2, 3, 4];
        b.strip(&mut s1, Some(1));
        assert_eq!(s1, [1, 2, 4], "outlet 0's furniture is content elsewhere");
        // A document made mostly of globally frequent shingles (a widely rerun
        // story) keeps them; its outlet's furniture still goes.
        let mut s2 = vec![1, 3];
        b.strip(&mut s2, Some(1));
        assert_eq!(s2, [1, 3]);
        let mut s3 = vec![1, 3, 5];
        b.strip(&mut s3, Some(0));
        assert_eq!(s3, [5], "1 and 3 are outlet 0's furniture");
    }

    #[test]
    fn an_article_an_outlet_carries_many_times_is_not_its_furniture() {
        // Outlet 0: one article (shingles 10-14) six times over, and three
        // other articles; all seven pages share the footer 1-2. Outlet 1:
        // six different articles with the footer 7.
        let copy: ShingleSet = vec![1, 2, 10, 11, 12, 13, 14];
        let mut sets: Vec<ShingleSet> = vec![copy.clone(); 6];
        sets.extend([vec![1, 2, 20], vec![1, 2, 21], vec![1, 2, 22]]);
        sets.extend((30..36).map(|x| vec![7, x]));
        let outlets: Vec<OutletIndex> = [vec![Some(0); 9], vec![Some(1); 6]].concat();
        let b = detect(&sets[..], &outlets, &cfg(1000, 3));
        // The footer is in four distinct pages of outlet 0: furniture; the
        // copied article in one: content.
        assert_eq!(b.per_outlet, [vec![1, 2], vec![7]]);
        let mut s = copy.clone();
        b.strip(&mut s, Some(0));
        assert_eq!(s, [10, 11, 12, 13, 14]);
    }

    #[test]
    fn versions_of_one_article_count_once_but_a_footer_under_briefs_does_not() {
        // Shingle hashes are uniform: draw them so.
        let h = |x: u64| (crate::shingle::fmix64(x) >> 32) as ShingleHash;
        let draw = |from: u64, n: u64| -> Vec<ShingleHash> { (from..from + n).map(h).collect() };
        // Eight versions of one 400-shingle article, each with 10 shingles
        // of its own (an update line), all under a 40-shingle footer, and
        // four other articles of 60 shingles under the same footer.
        let (footer, story) = (draw(0, 40), draw(1_000, 400));
        let with = |parts: &[&[ShingleHash]]| -> ShingleSet {
            let mut s: ShingleSet = parts.concat();
            s.sort_unstable();
            s.dedup();
            s
        };
        let mut sets: Vec<ShingleSet> = (0..8)
            .map(|v| with(&[&footer, &story, &draw(10_000 + 100 * v, 10)]))
            .collect();
        for a in 0..4 {
            sets.push(with(&[&footer, &draw(20_000 + 100 * a, 60)]));
        }
        let outlets = vec![Some(0); sets.len()];
        let b = detect(&sets[..], &outlets, &cfg(1000, 5));
        // Five different articles carry the footer: it is furniture; the
        // story is in one article (eight versions of it): content.
        let mut want = footer.clone();
        want.sort_unstable();
        assert_eq!(b.per_outlet, [want]);
    }

    #[test]
    fn sampled_global_df_finds_frequent_shingles() {
        // 10,000 docs; shingle 7 in ~500 of them, shingle 8 in ~50, chosen
        // pseudo-randomly so the evenly spaced sample is not aligned with them.
        let pick = |d: u64, m: u64| {
            d.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29)
                .is_multiple_of(m)
        };
        let sets: Vec<ShingleSet> = (0..10_000u64)
            .map(|d| {
                let mut s = vec![1000 + d as u32];
                if pick(d, 20) {
                    s.push(7);
                }
                if pick(d ^ 0x55, 200) {
                    s.push(8);
                }
                s.sort_unstable();
                s
            })
            .collect();
        let outlets = vec![None; sets.len()];
        let sampled = BoilerplateConfig {
            max_df: 200,
            outlet_df: 0,
            global_sample: 1000,
            ..BoilerplateConfig::default()
        };
        assert_eq!(detect(&sets[..], &outlets, &sampled).global, [7]);
    }
}
