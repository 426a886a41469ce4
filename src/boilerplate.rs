//! Boilerplate: finds shingles that are site furniture, not content, so that
//! they are dropped from every shingle set before sketching and scoring.
//!
//! In: every document's shingle set and outlet. Out: the sorted list of
//! boilerplate shingle hashes.
//!
//! A shingle is boilerplate when it occurs in more than `max_df` documents
//! (templates shared across sites: "Leave a Reply", "Source link"), or in at
//! least `outlet_df` documents of one outlet (that outlet's footer, byline
//! box or share buttons). News reruns cross outlets, so a wire story rerun
//! by many outlets keeps its shingles; an outlet's own repeated furniture
//! does not. Documents without an outlet are only subject to `max_df`.

use rayon::prelude::*;

use crate::config::BoilerplateConfig;
use crate::shingle::ShingleSet;

/// Outlet index per document; `None` when the document has no outlet.
pub type OutletIndex = Option<u32>;

/// Sorted boilerplate shingle hashes.
pub fn detect(sets: &[ShingleSet], outlets: &[OutletIndex], cfg: &BoilerplateConfig) -> Vec<u64> {
    let max_df = cfg.effective_max_df(sets.len());
    let mut tuples: Vec<(u64, u32)> = sets
        .par_iter()
        .zip(outlets.par_iter())
        .flat_map_iter(|(set, outlet)| {
            let o = outlet.unwrap_or(u32::MAX);
            set.iter().map(move |&h| (h, o))
        })
        .collect();
    tuples.par_sort_unstable();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tuples.len() {
        let h = tuples[i].0;
        let mut j = i;
        let mut boiler = false;
        while j < tuples.len() && tuples[j].0 == h {
            let o = tuples[j].1;
            let mut k = j;
            while k < tuples.len() && tuples[k].0 == h && tuples[k].1 == o {
                k += 1;
            }
            if o != u32::MAX && cfg.outlet_df > 0 && k - j >= cfg.outlet_df {
                boiler = true;
            }
            j = k;
        }
        if boiler || j - i > max_df {
            out.push(h);
        }
        i = j;
    }
    out
}

/// Removes boilerplate hashes from a set (both sorted).
pub fn strip(set: &mut ShingleSet, boilerplate: &[u64]) {
    if boilerplate.is_empty() {
        return;
    }
    set.retain(|h| boilerplate.binary_search(h).is_err());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlet_furniture_and_global_templates() {
        // Shingle 1: in 3 docs of outlet 0 -> boilerplate at outlet_df 3.
        // Shingle 2: in 3 docs of 3 different outlets -> content.
        // Shingle 3: in 4 docs without outlet -> boilerplate at max_df 3.
        let sets = vec![
            vec![1, 2, 3],
            vec![1, 2, 3],
            vec![1, 3],
            vec![2, 3],
            vec![9],
        ];
        let outlets = vec![Some(0), Some(0), Some(0), Some(1), None];
        let outlets2 = vec![Some(0), Some(1), Some(0), Some(2), None];
        let cfg = BoilerplateConfig {
            max_df: 3,
            outlet_df: 3,
        };
        assert_eq!(detect(&sets, &outlets, &cfg), [1, 3]);
        assert_eq!(detect(&sets, &outlets2, &cfg), [3]);
        let mut s = vec![1, 2, 3, 4];
        strip(&mut s, &[1, 3]);
        assert_eq!(s, [2, 4]);
    }
}
