//! Align: a pair of related articles to the [`Passage`]s they share, with
//! exact character offsets.
//!
//! In: two [`Prepared`] texts (tokens, shingle sequence, per-token character
//! offsets) and a boilerplate test. Out: passages in order of their start in
//! the first text, each a pair of half-open character ranges (Unicode scalar
//! values, so `text[start..end]` in Python gives the passage), the share of
//! aligned tokens that match, and whether it is verbatim.
//!
//! Method (as passim does): seeds are positions where both texts have the
//! same word k-shingle (boilerplate shingles and shingles repeated inside a
//! text are not seeds); seeds on one diagonal merge into exact anchors;
//! anchors are chained in order by dynamic programming, allowing gaps of up
//! to `max_gap` tokens on either side, so one copied paragraph with a few
//! substituted or OCR-damaged words stays one passage; the gaps are aligned
//! token by token with Needleman-Wunsch-Gotoh (match 2, mismatch -1, gap
//! open 5, extend 0.5); the ends are extended without gaps while the score
//! stays within an x-drop of its best. Chains are extracted best first until
//! no anchors remain, so reordered paragraphs become separate passages.
//!
//! Invariants: passages do not overlap in either text; offsets lie on
//! token boundaries; `a_text == text_a[a_start..a_end]` by construction.

use crate::config::AlignConfig;
use crate::shingle::{self, ShingleHash, Token};

/// A text ready for alignment.
#[derive(Clone, Debug)]
pub struct Prepared<'t> {
    /// The text.
    pub text: &'t str,
    /// Tokens with byte spans.
    pub tokens: Vec<Token>,
    /// Shingle hash at each token position (`tokens.len() - k + 1` entries).
    pub seq: Vec<ShingleHash>,
    /// `(hash << 32) | position` for every position whose shingle occurs
    /// nowhere else in the text, sorted: the seed index, built once per text
    /// (an origin is aligned against all its reruns).
    unique: Vec<u64>,
    /// Character offsets of each token's start and end, counted once per
    /// text: a passage's character range is two lookups, not a count over
    /// the text for every pair it is aligned in.
    chars: Vec<(u32, u32)>,
}

impl<'t> Prepared<'t> {
    /// Tokenises and shingles a text.
    pub fn new(text: &'t str, k: usize) -> Prepared<'t> {
        let mut tokens = Vec::new();
        shingle::tokenize(text, &mut tokens);
        let seq = shingle::shingle_sequence(&tokens, k);
        let mut keys: Vec<u64> = seq
            .iter()
            .enumerate()
            .map(|(i, &h)| (u64::from(h) << 32) | i as u64)
            .collect();
        // Positions were pushed in order, so a stable sort on the hash half
        // (four radix passes, not eight) orders the keys fully.
        radsort::sort_by_key(&mut keys, |k| (k >> 32) as u32);
        // Repeated shingles are ambiguous seeds: only the unique ones stay.
        let unique = keys
            .chunk_by(|x, y| x >> 32 == y >> 32)
            .filter(|run| run.len() == 1)
            .map(|run| run[0])
            .collect();
        let chars = token_chars(text, &tokens);
        Prepared {
            text,
            tokens,
            seq,
            unique,
            chars,
        }
    }
}

/// The character offsets of each token's start and end ([`to_chars`]).
fn token_chars(text: &str, tokens: &[Token]) -> Vec<(u32, u32)> {
    let mut chars: Vec<(u32, u32)> = tokens.iter().map(|t| (t.start, t.end)).collect();
    let mut ends: Vec<&mut u32> = chars
        .iter_mut()
        .flat_map(|c| [&mut c.0, &mut c.1])
        .collect();
    to_chars(text, &mut ends);
    chars
}

/// Converts byte offsets (on `char` boundaries) to character offsets,
/// whatever their order. A character offset is the byte offset less the
/// UTF-8 continuation bytes before it; those are found a 64-byte block at
/// a time (blocks of ASCII are skipped whole) and met in order as the
/// offsets ascend, so many offsets cost one pass, not a count per gap.
pub(crate) fn to_chars(text: &str, offsets: &mut [&mut u32]) {
    const BLOCK: usize = 64;
    offsets.sort_unstable_by_key(|o| **o);
    let end = offsets.last().map_or(0, |o| **o as usize);
    let mut continuations: Vec<u32> = Vec::new();
    for (n, block) in text.as_bytes()[..end].chunks(BLOCK).enumerate() {
        if block.is_ascii() {
            continue;
        }
        continuations.extend(
            (0..)
                .zip(block)
                .filter(|&(_, &b)| b & 0xC0 == 0x80)
                .map(|(i, _)| (n * BLOCK) as u32 + i),
        );
    }
    let mut before = 0;
    for o in offsets.iter_mut() {
        while before < continuations.len() && continuations[before] < **o {
            before += 1;
        }
        **o -= before as u32;
    }
}

/// One shared passage.
#[derive(Clone, Debug, PartialEq)]
pub struct Passage {
    /// First token in A.
    pub a_first: u32,
    /// One past the last token in A.
    pub a_last: u32,
    /// First token in B.
    pub b_first: u32,
    /// One past the last token in B.
    pub b_last: u32,
    /// Character range in A, half-open.
    pub a_chars: (u32, u32),
    /// Character range in B, half-open.
    pub b_chars: (u32, u32),
    /// Byte range in A, half-open.
    pub a_bytes: (u32, u32),
    /// Byte range in B, half-open.
    pub b_bytes: (u32, u32),
    /// Aligned tokens that are equal.
    pub matched: u32,
    /// `matched` / the longer side's token count.
    pub similarity: f64,
    /// How the passage was found.
    pub kind: PassageKind,
}

/// How a passage was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PassageKind {
    /// Every token matches and neither side has a gap.
    Verbatim,
    /// Word alignment with substitutions or gaps.
    Edited,
    /// Matched sentence by sentence on stemmed content words
    /// ([`crate::reword`]); `similarity` is a tf-idf cosine.
    Reworded,
}

impl PassageKind {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PassageKind::Verbatim => "verbatim",
            PassageKind::Edited => "edited",
            PassageKind::Reworded => "reworded",
        }
    }
}

/// An exact match: `len` tokens from `a` in A and `b` in B.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Anchor {
    a: u32,
    b: u32,
    len: u32,
}

impl Anchor {
    fn a_end(&self) -> u32 {
        self.a + self.len
    }
    fn b_end(&self) -> u32 {
        self.b + self.len
    }
}

/// Exact anchors: shared shingle positions merged along diagonals.
fn anchors(
    a: &Prepared,
    b: &Prepared,
    k: usize,
    skip: &dyn Fn(ShingleHash) -> bool,
) -> Vec<Anchor> {
    // Seeds: shingles that occur once in each text (repeats are ambiguous),
    // found by merging the two texts' unique (hash, position) keys. The
    // merge moves on without a branch; only shared shingles branch.
    let (ua, ub) = (&a.unique, &b.unique);
    // Seeds by their position in B: each position of B holds at most one
    // seed (its shingle occurs once in A), so a walk along B meets the
    // seeds of one diagonal run one after another, with no sort.
    const NONE: u32 = u32::MAX;
    let mut at_b = vec![NONE; b.seq.len()];
    let (mut i, mut j) = (0, 0);
    while i < ua.len() && j < ub.len() {
        let (ha, hb) = (ua[i] >> 32, ub[j] >> 32);
        if ha == hb && !skip(ha as ShingleHash) {
            at_b[ub[j] as u32 as usize] = ua[i] as u32;
        }
        i += usize::from(ha <= hb);
        j += usize::from(hb <= ha);
    }
    // Merge runs on the same diagonal.
    let mut out: Vec<Anchor> = Vec::new();
    let mut open: Option<Anchor> = None;
    for (jb, &ia) in at_b.iter().enumerate() {
        let jb = jb as u32;
        match open {
            Some(ref mut x) if ia != NONE && ia == x.a + x.len && jb == x.b + x.len => x.len += 1,
            _ => {
                out.extend(open.take());
                if ia != NONE {
                    open = Some(Anchor {
                        a: ia,
                        b: jb,
                        len: 1,
                    });
                }
            }
        }
    }
    out.extend(open);
    // Runs of seeds become runs of tokens: a seed covers k tokens.
    for x in &mut out {
        x.len += k as u32 - 1;
    }
    out.sort_unstable_by_key(|x| (x.a, x.b));
    out
}

/// Best chain of anchors (most anchored tokens), in order, with gaps of at
/// most `max_gap` tokens; anchors may overlap by less than their length.
fn best_chain(anchors: &[Anchor], max_gap: u32) -> Vec<usize> {
    let n = anchors.len();
    let mut score = vec![0u32; n];
    let mut prev = vec![usize::MAX; n];
    let mut best = 0;
    for i in 0..n {
        let x = anchors[i];
        score[i] = x.len;
        for j in (0..i).rev() {
            let y = anchors[j];
            if y.a_end() + max_gap < x.a {
                // Anchors are sorted by start in A; earlier ones are farther.
                if y.a + max_gap + 4 * x.len.max(y.len) < x.a {
                    break;
                }
                continue;
            }
            let ok = y.a < x.a
                && y.b < x.b
                && x.a <= y.a_end() + max_gap
                && x.b <= y.b_end() + max_gap
                && x.a_end() > y.a_end()
                && x.b_end() > y.b_end();
            if ok {
                let overlap = y
                    .a_end()
                    .saturating_sub(x.a)
                    .max(y.b_end().saturating_sub(x.b));
                let s = score[j] + x.len - overlap.min(x.len);
                if s > score[i] {
                    score[i] = s;
                    prev[i] = j;
                }
            }
        }
        if score[i] > score[best] {
            best = i;
        }
    }
    let mut chain = vec![best];
    while prev[*chain.last().expect("non-empty")] != usize::MAX {
        chain.push(prev[*chain.last().expect("non-empty")]);
    }
    chain.reverse();
    chain
}

/// Matches in the best global alignment of two token-hash slices
/// (Needleman-Wunsch-Gotoh: match 2, mismatch -1, gap open 5, extend 0.5).
/// Keeps two rows of the three score matrices, not the whole matrices.
///
/// Each cell is one integer, `score * 2 << SHIFT | matches`: scores are
/// whole multiples of 0.5, so doubling makes them exact integers, and
/// comparing the packed values compares the score first and the matches on
/// a tie, which is the order the alignment breaks ties in. The f32 form it
/// replaced is kept in the tests as the oracle.
pub fn gap_matches(a: &[u64], b: &[u64]) -> u32 {
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let (n, m) = (a.len(), b.len());
    // Doubled scores stay within 2 * (n + m) * OPEN of zero, far inside the
    // 31 bits above the matches.
    debug_assert!(((n + m) as u64) < 1 << 26);
    // h: best ending in a match/mismatch; e: gap in a; f: gap in b.
    let mut rows = vec![NEG; 6 * (m + 1)];
    let (prev, cur) = rows.split_at_mut(3 * (m + 1));
    let (mut ph, rest) = prev.split_at_mut(m + 1);
    let (mut pe, mut pf) = rest.split_at_mut(m + 1);
    let (mut ch, rest) = cur.split_at_mut(m + 1);
    let (mut ce, mut cf) = rest.split_at_mut(m + 1);
    ph[0] = 0;
    for (j, cell) in pe.iter_mut().enumerate().skip(1) {
        *cell = -(OPEN2 + EXTEND2 * (j as i64 - 1)) << SHIFT;
    }
    const HIT: i64 = (MATCH2 << SHIFT) | 1;
    const MISS: i64 = MISMATCH2 << SHIFT;
    const OPEN: i64 = OPEN2 << SHIFT;
    const EXTEND: i64 = EXTEND2 << SHIFT;
    for i in 1..=n {
        ch[0] = NEG;
        ce[0] = NEG;
        cf[0] = -(OPEN2 + EXTEND2 * (i as i64 - 1)) << SHIFT;
        let x = a[i - 1];
        for j in 1..=m {
            let diag = ph[j - 1].max(pe[j - 1]).max(pf[j - 1]);
            ch[j] = diag + if x == b[j - 1] { HIT } else { MISS };
            ce[j] = (ch[j - 1] - OPEN)
                .max(ce[j - 1] - EXTEND)
                .max(cf[j - 1] - OPEN);
            cf[j] = (ph[j] - OPEN).max(pf[j] - EXTEND).max(pe[j] - OPEN);
        }
        std::mem::swap(&mut ph, &mut ch);
        std::mem::swap(&mut pe, &mut ce);
        std::mem::swap(&mut pf, &mut cf);
    }
    (ph[m].max(pe[m]).max(pf[m]) & ((1 << SHIFT) - 1)) as u32
}

/// Bits of a packed cell that count matches (a `u32`, as returned).
const SHIFT: u32 = 32;
/// Scores doubled: match 2, mismatch -1, gap open 5, extend 0.5.
const MATCH2: i64 = 4;
const MISMATCH2: i64 = -2;
const OPEN2: i64 = 10;
const EXTEND2: i64 = 1;
/// An impossible cell: far below any real score, and far enough above
/// `i64::MIN` that subtracting gap costs cannot overflow.
const NEG: i64 = i64::MIN / 4;

/// Ungapped x-drop extension from (i, j) stepping by `dir` (+1 or -1):
/// how many tokens to take and how many of them match.
fn extend(a: &[u64], b: &[u64], i: i64, j: i64, dir: i64, limit: u32) -> (u32, u32) {
    const XDROP: i32 = 3;
    let (mut score, mut best, mut best_len, mut best_matches, mut matches) =
        (0i32, 0i32, 0u32, 0u32, 0u32);
    let mut step = 0u32;
    loop {
        let (x, y) = (i + dir * i64::from(step), j + dir * i64::from(step));
        if step >= limit || x < 0 || y < 0 || x as usize >= a.len() || y as usize >= b.len() {
            break;
        }
        if a[x as usize] == b[y as usize] {
            score += 1;
            matches += 1;
        } else {
            score -= 1;
        }
        step += 1;
        if score > best {
            best = score;
            best_len = step;
            best_matches = matches;
        } else if best - score > XDROP {
            break;
        }
    }
    (best_len, best_matches)
}

/// The passages two prepared texts share. `skip(h)` marks shingles that may
/// not seed a passage (boilerplate).
pub fn align(
    a: &Prepared,
    b: &Prepared,
    cfg: &AlignConfig,
    skip: &dyn Fn(ShingleHash) -> bool,
) -> Vec<Passage> {
    let mut pool = anchors(a, b, cfg.k, skip);
    let ta: Vec<u64> = a.tokens.iter().map(|t| t.hash).collect();
    let tb: Vec<u64> = b.tokens.iter().map(|t| t.hash).collect();
    let mut out: Vec<Passage> = Vec::new();
    let max_gap = cfg.max_gap as u32;
    while !pool.is_empty() {
        let chain = best_chain(&pool, max_gap);
        let picked: Vec<Anchor> = chain.iter().map(|&i| pool[i]).collect();
        let first = picked[0];
        let last = *picked.last().expect("non-empty chain");
        let mut matched = 0u32;
        let mut gapped = false;
        let mut covered_a = first.a;
        let mut covered_b = first.b;
        for (n, x) in picked.iter().enumerate() {
            if n > 0 {
                let (ga, gb) = (x.a.saturating_sub(covered_a), x.b.saturating_sub(covered_b));
                if ga > 0 || gb > 0 {
                    gapped |= ga != gb;
                    let gm = gap_matches(
                        &ta[covered_a as usize..(covered_a + ga) as usize],
                        &tb[covered_b as usize..(covered_b + gb) as usize],
                    );
                    gapped |= gm < ga.max(gb);
                    matched += gm;
                }
            }
            // Count the part of this anchor not already covered.
            let skip_in = covered_a
                .saturating_sub(x.a)
                .max(covered_b.saturating_sub(x.b))
                .min(x.len);
            matched += x.len - skip_in;
            covered_a = covered_a.max(x.a_end());
            covered_b = covered_b.max(x.b_end());
        }
        let (mut a0, mut b0, mut a1, mut b1) = (
            first.a,
            first.b,
            last.a_end().max(covered_a),
            last.b_end().max(covered_b),
        );
        // Extend both ends, not into passages already taken.
        let left_room = out
            .iter()
            .filter(|p| p.a_last <= a0 && p.b_last <= b0)
            .map(|p| (a0 - p.a_last).min(b0 - p.b_last))
            .min()
            .unwrap_or(u32::MAX)
            .min(max_gap);
        let (l, lm) = extend(
            &ta,
            &tb,
            i64::from(a0) - 1,
            i64::from(b0) - 1,
            -1,
            left_room,
        );
        let right_room = out
            .iter()
            .filter(|p| p.a_first >= a1 && p.b_first >= b1)
            .map(|p| (p.a_first - a1).min(p.b_first - b1))
            .min()
            .unwrap_or(u32::MAX)
            .min(max_gap);
        let (r, rm) = extend(&ta, &tb, i64::from(a1), i64::from(b1), 1, right_room);
        gapped |= lm < l || rm < r;
        a0 -= l;
        b0 -= l;
        a1 += r;
        b1 += r;
        matched += lm + rm;
        // Remove anchors that touch this passage in either text.
        pool.retain(|x| x.a_end() <= a0 || x.a >= a1);
        pool.retain(|x| x.b_end() <= b0 || x.b >= b1);
        let (len_a, len_b) = (a1 - a0, b1 - b0);
        if (len_a.min(len_b) as usize) < cfg.min_tokens {
            continue;
        }
        if out
            .iter()
            .any(|p| overlaps(p.a_first, p.a_last, a0, a1) || overlaps(p.b_first, p.b_last, b0, b1))
        {
            continue;
        }
        let matched = matched.min(len_a.min(len_b));
        let a_bytes = (a.tokens[a0 as usize].start, a.tokens[a1 as usize - 1].end);
        let b_bytes = (b.tokens[b0 as usize].start, b.tokens[b1 as usize - 1].end);
        out.push(Passage {
            a_first: a0,
            a_last: a1,
            b_first: b0,
            b_last: b1,
            a_chars: (a.chars[a0 as usize].0, a.chars[a1 as usize - 1].1),
            b_chars: (b.chars[b0 as usize].0, b.chars[b1 as usize - 1].1),
            a_bytes,
            b_bytes,
            matched,
            similarity: f64::from(matched) / f64::from(len_a.max(len_b)),
            kind: if !gapped && len_a == len_b && matched == len_a {
                PassageKind::Verbatim
            } else {
                PassageKind::Edited
            },
        });
    }
    out.sort_by_key(|p| (p.a_first, p.b_first));
    out
}

impl Passage {
    /// The same passage seen from the other text: sides A and B exchanged.
    pub fn swapped(&self) -> Passage {
        Passage {
            a_first: self.b_first,
            a_last: self.b_last,
            b_first: self.a_first,
            b_last: self.a_last,
            a_chars: self.b_chars,
            b_chars: self.a_chars,
            a_bytes: self.b_bytes,
            b_bytes: self.a_bytes,
            ..self.clone()
        }
    }

    /// `verbatim`, `edited` or `reworded`, as reports name it.
    pub fn kind_name(&self) -> &'static str {
        self.kind.as_str()
    }

    /// Whether every token matches with no gap.
    pub fn is_verbatim(&self) -> bool {
        self.kind == PassageKind::Verbatim
    }
}

/// Joins passages of one pair across holes: two passages that follow each
/// other in both texts, with nothing between them in either, become one when
/// the hole between them is at most `max_hole` words in each text and the
/// two holes are of about the same length (they differ by at most half the
/// longer, plus 3 words). That is a sentence rewritten in place, too far
/// from its neighbours in words for one chain (`max_gap`) and too changed
/// for a reworded sentence match; text inserted on one side (a hole in only
/// one text) or a reordering (a passage in between) keeps them apart.
///
/// The joined passage is `reworded` if either part is, else `edited`. Its
/// `matched` is the parts' sum. Its similarity counts the hole as unmatched:
/// for word-aligned parts, `matched` over the longer side's words; with a
/// reworded part, the parts' similarities weighted by their words in A, over
/// the joined passage's words in A. `max_hole` 0 joins nothing.
///
/// `passages` are one pair's, not overlapping in either text; the result is
/// sorted by start in A.
pub fn bridge(mut passages: Vec<Passage>, max_hole: u32) -> Vec<Passage> {
    passages.sort_by_key(|p| (p.a_first, p.b_first));
    if max_hole == 0 || passages.len() < 2 {
        return passages;
    }
    let b_starts: Vec<u32> = passages.iter().map(|p| p.b_first).collect();
    let mut out: Vec<Passage> = Vec::with_capacity(passages.len());
    for p in passages {
        let Some(last) = out.last_mut() else {
            out.push(p);
            continue;
        };
        let fits = last.a_last <= p.a_first
            && last.b_last <= p.b_first
            // Nothing starts in B's hole (a passage out of order in A).
            && !b_starts.iter().any(|&s| last.b_last <= s && s < p.b_first)
            && {
                let (ha, hb) = (p.a_first - last.a_last, p.b_first - last.b_last);
                ha.max(hb) <= max_hole && ha.abs_diff(hb) <= ha.max(hb) / 2 + 3
            };
        if !fits {
            out.push(p);
            continue;
        }
        let words = |x: &Passage| f64::from(x.a_last - x.a_first);
        let (first_part, second_part) = (words(last), words(&p));
        let kind = if last.kind == PassageKind::Reworded || p.kind == PassageKind::Reworded {
            PassageKind::Reworded
        } else {
            PassageKind::Edited
        };
        let weighted = last.similarity * first_part + p.similarity * second_part;
        last.a_last = p.a_last;
        last.b_last = p.b_last;
        last.a_chars.1 = p.a_chars.1;
        last.b_chars.1 = p.b_chars.1;
        last.a_bytes.1 = p.a_bytes.1;
        last.b_bytes.1 = p.b_bytes.1;
        last.matched += p.matched;
        last.similarity = if kind == PassageKind::Reworded {
            weighted / words(last)
        } else {
            let longer = (last.a_last - last.a_first).max(last.b_last - last.b_first);
            f64::from(last.matched.min(longer)) / f64::from(longer)
        };
        last.kind = kind;
    }
    out
}

fn overlaps(s0: u32, e0: u32, s1: u32, e1: u32) -> bool {
    s0 < e1 && s1 < e0
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEVER: &dyn Fn(ShingleHash) -> bool = &|_| false;

    fn run(a: &str, b: &str) -> Vec<Passage> {
        let cfg = AlignConfig {
            min_tokens: 5,
            ..AlignConfig::default()
        };
        align(&Prepared::new(a, 5), &Prepared::new(b, 5), &cfg, NEVER)
    }

    fn text(s: &str, r: (u32, u32)) -> String {
        s.chars()
            .skip(r.0 as usize)
            .take((r.1 - r.0) as usize)
            .collect()
    }

    const P1: &str = "The United States and NATO rejected key Russian security demands for easing tensions over Ukraine but left open the possibility of future talks with Moscow on arms control.";
    const P2: &str = "Russian President Vladimir Putin wants NATO to withdraw its troops and military equipment from countries that border Russia, including the Baltic states.";

    #[test]
    fn a_copied_paragraph_inside_other_text_is_one_verbatim_passage() {
        let a = format!(
            "Local news first. Our county fair opens Friday with rides and food. {P1} More local notes follow here today."
        );
        let b = format!("ÜBER „Nachrichten“ — {P1} And the weather will be cold.");
        let p = run(&a, &b);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].is_verbatim());
        assert_eq!(text(&a, p[0].a_chars), P1.trim_end_matches('.'));
        assert_eq!(text(&b, p[0].b_chars), P1.trim_end_matches('.'));
        assert_eq!(
            &a[p[0].a_bytes.0 as usize..p[0].a_bytes.1 as usize],
            P1.trim_end_matches('.')
        );
    }

    #[test]
    fn substitutions_and_noise_stay_in_one_passage() {
        let edited = P1
            .replace("rejected", "turned down")
            .replace("tensions", "tensi0ns")
            .replace("possibility", "prospect");
        let p = run(P1, &edited);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(!p[0].is_verbatim());
        assert!(
            p[0].similarity > 0.85 && p[0].similarity < 1.0,
            "{}",
            p[0].similarity
        );
        // The passage spans the whole sentence on both sides, edits included.
        assert_eq!(text(P1, p[0].a_chars), P1.trim_end_matches('.'));
        assert_eq!(text(&edited, p[0].b_chars), edited.trim_end_matches('.'));
    }

    #[test]
    fn swapped_paragraphs_are_two_passages() {
        let a = format!("{P1}\n\n{P2}");
        let b = format!("{P2}\n\n{P1}");
        let p = run(&a, &b);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().all(|x| x.is_verbatim()));
    }

    #[test]
    fn unrelated_texts_share_nothing_and_skip_masks_seeds() {
        assert!(run(P1, P2).is_empty());
        let a = Prepared::new(P1, 5);
        let b = Prepared::new(P1, 5);
        let all = |_: ShingleHash| true;
        assert!(align(&a, &b, &AlignConfig::default(), &all).is_empty());
    }

    proptest::proptest! {
        /// Any char boundaries, in any order and with repeats, become the
        /// number of chars before them, across ASCII blocks and long
        /// multibyte runs alike.
        #[test]
        fn byte_offsets_become_char_offsets(
            text in "([a-z ]{0,90}|[\u{e9}\u{6771}\u{1f642}\u{2014} ]{0,40}){0,6}",
            picks in proptest::collection::vec(proptest::num::usize::ANY, 0..30),
        ) {
            let bounds: Vec<usize> = (0..=text.len()).filter(|&b| text.is_char_boundary(b)).collect();
            let mut got: Vec<u32> = picks.iter().map(|p| bounds[p % bounds.len()] as u32).collect();
            let want: Vec<u32> = got.iter().map(|&b| text[..b as usize].chars().count() as u32).collect();
            let mut refs: Vec<&mut u32> = got.iter_mut().collect();
            to_chars(&text, &mut refs);
            proptest::prop_assert_eq!(got, want);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]
        /// Character offsets are exact on any mix of scripts: slicing either
        /// text by a passage's character range gives the same string as its
        /// byte range, and a copied run of 20+ words is found whole.
        #[test]
        fn offsets_are_exact_for_multibyte_text(
            words in proptest::collection::vec(proptest::sample::select(vec![
                "Zürich", "naïve", "東京", "Москва", "café", "🙂", "Ελλάδα", "NATO", "said", "the",
                "troops", "ﬁnal", "e\u{301}t\u{e9}", "“quoted”", "—", "Ukraine’s", "2022", "x",
            ]), 60..160),
            seed in 0u64..1000,
        ) {
            let n = words.len();
            let from = (seed as usize) % (n / 2);
            let len = 20 + (seed as usize) % (n / 2 - 10).max(1);
            let to = (from + len).min(n);
            let a: String = words.join(" ");
            let copied = words[from..to].join(" ");
            let b = format!("Préambule 🙂 unique words here alpha beta gamma. {copied} Épilogue delta epsilon zeta.");
            let cfg = AlignConfig { min_tokens: 5, ..AlignConfig::default() };
            let pa = Prepared::new(&a, 5);
            let pb = Prepared::new(&b, 5);
            let passages = align(&pa, &pb, &cfg, NEVER);
            for p in &passages {
                proptest::prop_assert_eq!(text(&a, p.a_chars), &a[p.a_bytes.0 as usize..p.a_bytes.1 as usize]);
                proptest::prop_assert_eq!(text(&b, p.b_chars), &b[p.b_bytes.0 as usize..p.b_bytes.1 as usize]);
                proptest::prop_assert!(p.a_chars.0 < p.a_chars.1 && p.b_chars.0 < p.b_chars.1);
            }
            // The copied words (repeats aside) lie inside some passage in B.
            let start_b = b.find(&copied).unwrap();
            let start_b_chars = b[..start_b].chars().count() as u32;
            let end_b_chars = start_b_chars + copied.chars().count() as u32;
            let covered: u32 = passages
                .iter()
                .map(|p| p.b_chars.1.min(end_b_chars).saturating_sub(p.b_chars.0.max(start_b_chars)))
                .sum();
            let unique = words[from..to].iter().collect::<std::collections::HashSet<_>>().len();
            if unique >= 12 {
                proptest::prop_assert!(covered * 2 >= end_b_chars - start_b_chars,
                    "copied {copied:?}: {passages:?}");
            }
        }
    }

    /// The whole-matrix form of [`gap_matches`], as first written: the oracle.
    fn gap_matches_full(a: &[u64], b: &[u64]) -> u32 {
        if a.is_empty() || b.is_empty() {
            return 0;
        }
        const MATCH: f32 = 2.0;
        const MISMATCH: f32 = -1.0;
        const OPEN: f32 = 5.0;
        const EXTEND: f32 = 0.5;
        let (n, m) = (a.len(), b.len());
        let neg = f32::NEG_INFINITY;
        // h: best ending in a match/mismatch; e: gap in a; f: gap in b. Track matches.
        let w = m + 1;
        let mut h = vec![(neg, 0u32); (n + 1) * w];
        let mut e = vec![(neg, 0u32); (n + 1) * w];
        let mut f = vec![(neg, 0u32); (n + 1) * w];
        h[0] = (0.0, 0);
        for (j, cell) in e.iter_mut().enumerate().take(m + 1).skip(1) {
            *cell = (-(OPEN + EXTEND * (j as f32 - 1.0)), 0);
        }
        for i in 1..=n {
            f[i * w] = (-(OPEN + EXTEND * (i as f32 - 1.0)), 0);
        }
        let best = |xs: [(f32, u32); 3]| {
            xs.into_iter().fold((neg, 0), |acc, x| {
                if x.0 > acc.0 || (x.0 == acc.0 && x.1 > acc.1) {
                    x
                } else {
                    acc
                }
            })
        };
        for i in 1..=n {
            for j in 1..=m {
                let diag = best([
                    h[(i - 1) * w + j - 1],
                    e[(i - 1) * w + j - 1],
                    f[(i - 1) * w + j - 1],
                ]);
                let eq = a[i - 1] == b[j - 1];
                h[i * w + j] = (
                    diag.0 + if eq { MATCH } else { MISMATCH },
                    diag.1 + u32::from(eq),
                );
                let left = i * w + j - 1;
                e[i * w + j] = best([
                    (h[left].0 - OPEN, h[left].1),
                    (e[left].0 - EXTEND, e[left].1),
                    (f[left].0 - OPEN, f[left].1),
                ]);
                let up = (i - 1) * w + j;
                f[i * w + j] = best([
                    (h[up].0 - OPEN, h[up].1),
                    (f[up].0 - EXTEND, f[up].1),
                    (e[up].0 - OPEN, e[up].1),
                ]);
            }
        }
        best([h[n * w + m], e[n * w + m], f[n * w + m]]).1
    }

    proptest::proptest! {
        #[test]
        fn rolling_rows_match_the_full_matrix(
            a in proptest::collection::vec(0u64..6, 0..40),
            b in proptest::collection::vec(0u64..6, 0..40),
        ) {
            proptest::prop_assert_eq!(gap_matches(&a, &b), gap_matches_full(&a, &b));
        }
    }

    #[test]
    fn gap_alignment_counts_matches() {
        assert_eq!(gap_matches(&[1, 2, 3], &[1, 2, 3]), 3);
        assert_eq!(gap_matches(&[1, 9, 3], &[1, 2, 3]), 2);
        assert_eq!(gap_matches(&[1, 2, 3, 4], &[1, 3, 4]), 3);
        assert_eq!(gap_matches(&[], &[1]), 0);
    }

    /// A passage over words `a` of A and `b` of B, each word 6 characters
    /// and bytes wide.
    fn part(a: (u32, u32), b: (u32, u32), kind: PassageKind, matched: u32) -> Passage {
        let longer = (a.1 - a.0).max(b.1 - b.0);
        Passage {
            a_first: a.0,
            a_last: a.1,
            b_first: b.0,
            b_last: b.1,
            a_chars: (a.0 * 6, a.1 * 6),
            b_chars: (b.0 * 6, b.1 * 6),
            a_bytes: (a.0 * 6, a.1 * 6),
            b_bytes: (b.0 * 6, b.1 * 6),
            matched,
            similarity: f64::from(matched) / f64::from(longer),
            kind,
        }
    }

    use PassageKind::{Edited, Reworded, Verbatim};

    #[test]
    fn a_sentence_rewritten_in_place_joins_its_neighbours() {
        // 60 words, a 50-word hole in A and a 56-word one in B, 40 words.
        let first = part((0, 60), (10, 70), Verbatim, 60);
        let second = part((110, 150), (126, 166), Edited, 36);
        let joined = bridge(vec![second, first], 100);
        assert_eq!(joined.len(), 1, "{joined:?}");
        let j = &joined[0];
        assert_eq!(
            (j.a_first, j.a_last, j.b_first, j.b_last),
            (0, 150, 10, 166)
        );
        assert_eq!((j.a_chars, j.b_chars), ((0, 900), (60, 996)));
        assert_eq!((j.a_bytes, j.b_bytes), ((0, 900), (60, 996)));
        assert_eq!(j.kind, Edited);
        assert_eq!(j.matched, 96);
        // The hole counts as unmatched: 96 of B's 156 words.
        assert!(
            (j.similarity - 96.0 / 156.0).abs() < 1e-12,
            "{}",
            j.similarity
        );
    }

    #[test]
    fn a_reworded_part_makes_the_joined_passage_reworded() {
        let mut first = part((0, 40), (0, 40), Reworded, 12);
        first.similarity = 0.8;
        let second = part((60, 100), (55, 95), Edited, 30);
        let joined = bridge(vec![first, second.clone()], 100);
        assert_eq!(joined.len(), 1, "{joined:?}");
        assert_eq!(joined[0].kind, Reworded);
        // 40 words at 0.8 and 40 at 0.75, over 100 words of A.
        assert!((joined[0].similarity - (32.0 + 30.0) / 100.0).abs() < 1e-12);
        // Chains: a third passage after another like hole joins too.
        let third = part((130, 170), (120, 160), Verbatim, 40);
        let first = part((0, 40), (0, 40), Verbatim, 40);
        assert_eq!(bridge(vec![first, second, third], 100).len(), 1);
    }

    #[test]
    fn inserted_text_reordering_and_long_holes_keep_passages_apart() {
        let first = part((0, 60), (0, 60), Verbatim, 60);
        // Local copy inserted in B only: no hole in A.
        let inserted = part((60, 120), (90, 150), Verbatim, 60);
        assert_eq!(bridge(vec![first.clone(), inserted], 100).len(), 2);
        // Holes of 20 and 50 words: 30 apart, more than half of 50 plus 3.
        let unlike = part((80, 140), (110, 170), Verbatim, 60);
        assert_eq!(bridge(vec![first.clone(), unlike], 100).len(), 2);
        // Holes of 20 and 13 words: 7 apart, within half of 20 plus 3.
        let like = part((80, 140), (73, 133), Verbatim, 60);
        assert_eq!(bridge(vec![first.clone(), like.clone()], 100).len(), 1);
        assert_eq!(bridge(vec![first.clone(), like], 0).len(), 2);
        // Holes longer than max_hole.
        let far = part((200, 260), (200, 260), Verbatim, 60);
        assert_eq!(bridge(vec![first.clone(), far.clone()], 100).len(), 2);
        assert_eq!(bridge(vec![first.clone(), far], 140).len(), 1);
        // Reordered: `moved` comes after `last` in A but sits in B's hole
        // between `first` and `last`.
        let last = part((80, 140), (90, 150), Verbatim, 60);
        let moved = part((150, 170), (65, 85), Verbatim, 20);
        let kept = bridge(vec![first, last, moved], 100);
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert!(kept.windows(2).all(|w| w[0].a_first < w[1].a_first));
    }
}
