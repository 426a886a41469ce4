//! Stories: `rerun` and `excerpt` matches grouped into [`Story`]s, each with
//! an origin.
//!
//! In: matches and, per document, an origin rank (earliest date, then most
//! complete) and its user-facing id. Out: stories of two or more documents,
//! largest first, then by story id.
//!
//! Invariants: `partial` matches never merge stories; a story's id is
//! `S` + 12 hex digits of the xxh3 of its origin's id, so it is the same for
//! the same input whatever the thread count or input order; members are the
//! origin first, then the others by rank.

use xxhash_rust::xxh3::xxh3_64;

use crate::document::DocId;
use crate::verify::Match;

/// A group of documents carrying the same story.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Story {
    /// Stable id, derived from the origin's id.
    pub id: String,
    /// The first and most complete version.
    pub origin: DocId,
    /// Every member, origin first.
    pub members: Vec<DocId>,
}

/// The story id for an origin with this user-facing id.
///
/// ```
/// assert_eq!(wiretrace::cluster::story_id("a.txt"), wiretrace::cluster::story_id("a.txt"));
/// assert_eq!(wiretrace::cluster::story_id("a.txt").len(), 13);
/// ```
pub fn story_id(origin_id: &str) -> String {
    format!("S{:012x}", xxh3_64(origin_id.as_bytes()) >> 16)
}

struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra as usize] < self.size[rb as usize]
            || (self.size[ra as usize] == self.size[rb as usize] && rb < ra)
        {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
    }
}

/// Groups documents into stories.
///
/// `rank(d)` orders candidate origins (smallest wins); `ids(d)` is the
/// user-facing id, used for the story id and to break ties.
pub fn stories<K: Ord>(
    n: usize,
    matches: &[Match],
    rank: impl Fn(DocId) -> K,
    ids: impl Fn(DocId) -> String,
) -> Vec<Story> {
    let mut uf = UnionFind::new(n);
    for m in matches.iter().filter(|m| m.relation.same_story()) {
        uf.union(m.a.0, m.b.0);
    }
    let mut groups: ahash::AHashMap<u32, Vec<DocId>> = ahash::AHashMap::new();
    for m in matches.iter().filter(|m| m.relation.same_story()) {
        for d in [m.a, m.b] {
            let root = uf.find(d.0);
            groups.entry(root).or_default().push(d);
        }
    }
    let mut out: Vec<Story> = groups
        .into_values()
        .map(|mut members| {
            members.sort_unstable();
            members.dedup();
            let mut keyed: Vec<(K, String, DocId)> =
                members.into_iter().map(|d| (rank(d), ids(d), d)).collect();
            keyed.sort_by(|x, y| x.0.cmp(&y.0).then_with(|| x.1.cmp(&y.1)));
            let origin = keyed[0].2;
            let id = story_id(&keyed[0].1);
            Story {
                id,
                origin,
                members: keyed.into_iter().map(|k| k.2).collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Relation;

    fn m(a: u32, b: u32, relation: Relation) -> Match {
        Match {
            a: DocId(a),
            b: DocId(b),
            shared: 50,
            jaccard: 0.5,
            a_in_b: 0.5,
            b_in_a: 0.5,
            relation,
            reworded: 0.0,
        }
    }

    #[test]
    fn partial_never_merges_and_origin_is_best_ranked() {
        let matches = [
            m(0, 1, Relation::Rerun),
            m(1, 2, Relation::Excerpt),
            m(2, 3, Relation::Partial),
            m(3, 4, Relation::Rerun),
        ];
        // rank: doc 2 is earliest.
        let dates = [5, 4, 1, 9, 9];
        let s = stories(6, &matches, |d| dates[d.index()], |d| format!("d{}", d.0));
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].members, [DocId(2), DocId(1), DocId(0)]);
        assert_eq!(s[0].origin, DocId(2));
        assert_eq!(s[0].id, story_id("d2"));
        assert_eq!(s[1].members, [DocId(3), DocId(4)]); // tie on date: id order
    }
}
