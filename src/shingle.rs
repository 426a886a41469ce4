//! Normalise and shingle: text to tokens (with offsets) to a sorted set of
//! 64-bit word k-shingle hashes.
//!
//! In: a document's text. Out: [`Token`]s (hash of the normalised word plus
//! its byte span in the original text) and a [`ShingleSet`].
//!
//! Normalisation: a token is a maximal run of letters and digits (combining
//! marks stay inside a token), except in scripts written without spaces
//! (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar), where each letter
//! is a token, so shingles there are character n-grams; each token is
//! NFKC-normalised and lowercased.
//! Quotes, dashes and all other punctuation separate tokens, so curly and
//! straight quotes or different dashes never change a token. Each token is
//! hashed once ([`word_hash`]); a shingle hash folds its k token hashes
//! ([`shingle_hash`]).
//!
//! Invariants: token spans are in increasing order, non-overlapping, on
//! `char` boundaries; a `ShingleSet` is sorted and has no duplicates.

use unicode_normalization::UnicodeNormalization;
use xxhash_rust::xxh3::xxh3_64;

/// One word of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// [`word_hash`] of the normalised word.
    pub hash: u64,
    /// Byte offset of the first byte in the original text.
    pub start: u32,
    /// Byte offset one past the last byte in the original text.
    pub end: u32,
}

/// A stored shingle: the top 32 bits of the shingle's 64-bit xxh3 hash.
///
/// Sets are compared pairwise, so what matters is the chance that two
/// different shingles of two articles collide: about |A|·|B| / 2³², i.e.
/// 1 false shared shingle per ~9,000 pairs of 700-shingle articles, far below
/// any threshold. Half the width halves memory traffic in verification,
/// boilerplate and passage indexing, the scan's memory-bound stages.
pub type ShingleHash = u32;

/// Sorted, deduplicated shingle hashes of one document.
pub type ShingleSet = Vec<ShingleHash>;

fn is_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A
        | 0x064B..=0x065F | 0x0900..=0x0903 | 0x093A..=0x094F | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF | 0x200C..=0x200D | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c) || is_unspaced_mark(c)
}

/// Combining vowel signs, tone marks and the like of the scripts of
/// [`is_unspaced`]: they stay with the letter before them.
fn is_unspaced_mark(c: char) -> bool {
    matches!(c as u32,
        0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E | 0x0EB1 | 0x0EB4..=0x0EBC
        | 0x0EC8..=0x0ECD | 0x102B..=0x103E | 0x1056..=0x1059 | 0x105E..=0x1060
        | 0x1062..=0x1064 | 0x1067..=0x106D | 0x1071..=0x1074 | 0x1082..=0x108D
        | 0x108F | 0x109A..=0x109D | 0x17B4..=0x17D3 | 0x17DD | 0x3099..=0x309A)
}

/// Letters of scripts written without spaces between words (Thai, Lao,
/// Myanmar, Khmer, Hiragana, Katakana, Han): each is a token of its own,
/// so that shingles there are character n-grams. A run of them would
/// otherwise be one token as long as a clause.
pub(crate) fn is_unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF | 0x1000..=0x109F | 0x1780..=0x17FF | 0x3040..=0x30FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF66..=0xFF9F
        | 0x20000..=0x3FFFF)
}

/// Normalises one word: NFKC, lowercase, letters and digits only.
///
/// ```
/// use wiretrace::shingle::normalize_word;
/// assert_eq!(normalize_word("NATO"), "nato");
/// assert_eq!(normalize_word("Cafe\u{301}"), "café");
/// assert_eq!(normalize_word("ﬁnal"), "final");
/// ```
pub fn normalize_word(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    if word.is_ascii() {
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        return out;
    }
    for c in word.nfkc() {
        if is_word_char(c) {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Appends the tokens of `text` to `out`.
///
/// ```
/// use wiretrace::shingle::tokenize;
/// let text = "Putin’s “red lines” — NATO";
/// let mut toks = Vec::new();
/// tokenize(text, &mut toks);
/// let words: Vec<&str> = toks.iter().map(|t| &text[t.start as usize..t.end as usize]).collect();
/// assert_eq!(words, ["Putin", "s", "red", "lines", "NATO"]);
/// ```
pub fn tokenize(text: &str, out: &mut Vec<Token>) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        let b = bytes[i];
        if b < 0x80 {
            if !b.is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            // ASCII fast path: scan the run while it stays ASCII alphanumeric.
            let start = i;
            i = ascii_run_end(bytes, i);
            if i < n
                && bytes[i] >= 0x80
                && next_char(text, i).is_some_and(|c| is_word_char(c) && !is_unspaced(c))
            {
                i = slow_run_end(text, i);
                push_slow(text, start, i, out);
            } else {
                out.push(Token {
                    hash: ascii_word_hash(bytes, start, i),
                    start: start as u32,
                    end: i as u32,
                });
            }
        } else {
            let c = next_char(text, i).expect("valid UTF-8");
            if is_word_char(c) {
                let start = i;
                i = if is_unspaced(c) {
                    unspaced_letter_end(text, i + c.len_utf8())
                } else {
                    slow_run_end(text, i)
                };
                push_slow(text, start, i, out);
            } else {
                i += c.len_utf8();
            }
        }
    }
}

/// One past the end of the run of ASCII letters and digits at `i`, found
/// eight bytes at a time (most words end within the first eight).
#[inline]
fn ascii_run_end(bytes: &[u8], mut i: usize) -> usize {
    while let Some(window) = bytes.get(i..i + 8) {
        let x = u64::from_le_bytes(window.try_into().expect("8 bytes"));
        let stop = !ascii_word_bytes(x) & HIGH;
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
        i += 1;
    }
    i
}

const HIGH: u64 = 0x8080_8080_8080_8080;

const fn splat(b: u8) -> u64 {
    u64::from_le_bytes([b; 8])
}

/// Bit 7 of each byte of `x` set where that byte is an ASCII letter or
/// digit. Each byte is range-checked on its low seven bits by adding a bias
/// that sets bit 7 exactly when it is in range, which never carries into
/// the next byte; bytes of 0x80 and above are then masked out.
#[inline]
fn ascii_word_bytes(x: u64) -> u64 {
    let low = x & !HIGH;
    let digit = (low + splat(0x80 - b'0')) & !(low + splat(0x7f - b'9'));
    let folded = low | splat(0x20);
    let alpha = (folded + splat(0x80 - b'a')) & !(folded + splat(0x7f - b'z'));
    (digit | alpha) & !x & HIGH
}

const K0: u64 = 0x9e37_79b9_7f4a_7c15;
const K1: u64 = 0xc2b2_ae3d_27d4_eb4f;
const K2: u64 = 0x1656_67b1_9e37_79f9;

/// Final avalanche of a 64-bit value (murmur3's fmix64).
#[inline]
pub(crate) fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Hash of a normalised word (lowercase UTF-8 bytes). Words up to 16 bytes,
/// nearly all of them, are read as two little-endian integers and mixed
/// directly; longer ones go through xxh3. The value depends only on the
/// bytes, so the ASCII fast path and the Unicode path agree.
///
/// ```
/// use wiretrace::shingle::{tokenize, word_hash};
/// let mut toks = Vec::new();
/// tokenize("NATO café", &mut toks);
/// assert_eq!(toks[0].hash, word_hash(b"nato"));
/// assert_eq!(toks[1].hash, word_hash("café".as_bytes()));
/// ```
#[inline]
pub fn word_hash(word: &[u8]) -> u64 {
    let len = word.len();
    if len > 16 {
        return xxh3_64(word);
    }
    let mut buf = [0u8; 16];
    buf[..len].copy_from_slice(word);
    mix_words(buf, len)
}

#[inline]
fn mix_words(buf: [u8; 16], len: usize) -> u64 {
    let lo = u64::from_le_bytes(buf[..8].try_into().expect("8 bytes"));
    let hi = u64::from_le_bytes(buf[8..].try_into().expect("8 bytes"));
    mix(lo, hi, len)
}

#[inline]
fn mix(lo: u64, hi: u64, len: usize) -> u64 {
    let h = (lo ^ K0).wrapping_mul(K1) ^ (hi ^ K1).rotate_left(29).wrapping_mul(K2);
    fmix64(h ^ (len as u64).wrapping_mul(K0))
}

/// [`word_hash`] of the ASCII letters-and-digits run `bytes[start..end]`,
/// lowercased on the way: setting bit 0x20 lowercases a letter and leaves
/// a digit unchanged. Where 16 bytes are left in the text the run is read
/// with two unaligned loads and masked to its length, instead of copied.
#[inline]
fn ascii_word_hash(bytes: &[u8], start: usize, end: usize) -> u64 {
    let len = end - start;
    if len <= 16
        && let Some(window) = bytes.get(start..start + 16)
    {
        let lo = u64::from_le_bytes(window[..8].try_into().expect("8 bytes"));
        let hi = u64::from_le_bytes(window[8..].try_into().expect("8 bytes"));
        let (lo_mask, hi_mask) = if len >= 8 {
            (u64::MAX, BYTE_MASK[len - 8])
        } else {
            (BYTE_MASK[len], 0)
        };
        const LOWER: u64 = 0x2020_2020_2020_2020;
        return mix((lo | LOWER) & lo_mask, (hi | LOWER) & hi_mask, len);
    }
    // Long words, and words in a text's last 16 bytes.
    word_hash(&bytes[start..end].to_ascii_lowercase())
}

/// `BYTE_MASK[n]`: the low `n` bytes set.
const BYTE_MASK: [u64; 9] = {
    let mut t = [0u64; 9];
    let mut n = 1;
    while n < 9 {
        t[n] = u64::MAX >> (64 - 8 * n);
        n += 1;
    }
    t
};

fn next_char(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

/// One past the combining marks at `i` that follow an unspaced letter.
fn unspaced_letter_end(text: &str, mut i: usize) -> usize {
    for c in text[i..].chars() {
        if !is_unspaced_mark(c) {
            break;
        }
        i += c.len_utf8();
    }
    i
}

/// One past the run of word characters at `i` (not starting with an
/// unspaced letter, which ends it: see [`is_unspaced`]).
fn slow_run_end(text: &str, mut i: usize) -> usize {
    for c in text[i..].chars() {
        if !is_word_char(c) || is_unspaced(c) {
            break;
        }
        i += c.len_utf8();
    }
    i
}

fn push_slow(text: &str, start: usize, end: usize, out: &mut Vec<Token>) {
    let norm = normalize_word(&text[start..end]);
    if norm.is_empty() {
        return;
    }
    out.push(Token {
        hash: word_hash(norm.as_bytes()),
        start: start as u32,
        end: end as u32,
    });
}

/// Hash of the shingle made of these token hashes: the token hashes folded
/// in order by multiply-rotate steps, then avalanched, keeping the top 32
/// bits (see [`ShingleHash`]). Token hashes are already uniform, so the fold
/// only has to be order-sensitive and mix well.
#[inline]
pub fn shingle_hash(tokens: &[Token]) -> ShingleHash {
    let mut h = K2 ^ tokens.len() as u64;
    for t in tokens {
        h = (h ^ t.hash).wrapping_mul(K0).rotate_left(31);
    }
    (fmix64(h) >> 32) as ShingleHash
}

/// Items of many groups sorted by a 32-bit key, as 256 parts (by the key's
/// top byte) whose concatenation is the sorted whole. Groups are scattered
/// in parallel chunks, then each part is stably radix-sorted in parallel,
/// so items with equal keys keep their group order. `items(g, group, emit)`
/// emits the items of group `g`. Used for the big counts of shingle hashes
/// (boilerplate, passage index) instead of one large sort.
pub(crate) fn sorted_parts<S, T>(
    groups: &[S],
    key: impl Fn(&T) -> ShingleHash + Sync,
    items: impl Fn(usize, &S, &mut dyn FnMut(T)) + Sync,
) -> Vec<Vec<T>>
where
    S: Sync,
    T: Copy + Send + Sync,
{
    use rayon::prelude::*;
    let chunk = groups
        .len()
        .div_ceil(rayon::current_num_threads() * 4)
        .max(1);
    let scattered: Vec<Vec<Vec<T>>> = groups
        .par_chunks(chunk)
        .enumerate()
        .map(|(c, groups)| {
            let mut parts: Vec<Vec<T>> = vec![Vec::new(); 256];
            for (i, g) in groups.iter().enumerate() {
                items(c * chunk + i, g, &mut |t| {
                    parts[(key(&t) >> 24) as usize].push(t)
                });
            }
            parts
        })
        .collect();
    // Regrouped by part (moving the pieces, not copying them), so each
    // part's pieces are freed as soon as that part is assembled: the peak is
    // one copy of the items plus the parts in progress, not two copies.
    let mut by_part: Vec<Vec<Vec<T>>> = (0..256)
        .map(|_| Vec::with_capacity(scattered.len()))
        .collect();
    for chunk in scattered {
        for (p, piece) in chunk.into_iter().enumerate() {
            by_part[p].push(piece);
        }
    }
    by_part
        .into_par_iter()
        .map(|pieces| {
            let mut part: Vec<T> = Vec::with_capacity(pieces.iter().map(Vec::len).sum());
            for piece in pieces {
                part.extend_from_slice(&piece);
            }
            radsort::sort_by_key(&mut part, |x| key(x));
            part
        })
        .collect()
}

/// Word k-shingle hashes of `tokens`, sorted and deduplicated, into `out`.
/// A text with fewer than `k` tokens has no shingles.
///
/// ```
/// use wiretrace::shingle::{shingles, tokenize};
/// let mut toks = Vec::new();
/// tokenize("a b c d a b c", &mut toks);
/// let mut set = Vec::new();
/// shingles(&toks, 3, &mut set);
/// assert_eq!(set.len(), 4); // "a b c" occurs twice
/// assert!(set.windows(2).all(|w| w[0] < w[1]));
/// ```
pub fn shingles(tokens: &[Token], k: usize, out: &mut ShingleSet) {
    shingles_with(tokens, k, out, &mut Vec::new());
}

/// [`shingles`] with the radix sort's second buffer supplied by the caller
/// (`out` and `scratch` may trade allocations).
pub fn shingles_with(tokens: &[Token], k: usize, out: &mut ShingleSet, scratch: &mut Vec<u32>) {
    assert!((1..=16).contains(&k), "shingle size must be 1..=16");
    out.clear();
    if tokens.len() < k {
        return;
    }
    out.extend(tokens.windows(k).map(shingle_hash));
    radix_sort(out, scratch);
    out.dedup();
}

/// Working buffers of [`shingle_text`], one set per thread for its life.
#[derive(Default)]
struct Scratch {
    tokens: Vec<Token>,
    hashes: Vec<u32>,
    sort: Vec<u32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// The shingle set of `text` in an allocation of exactly its size. Tokens,
/// hashes and the sort go through buffers this thread keeps, so a corpus of
/// any size makes one allocation per document here (growing scratch vectors
/// anew for every batch made the kernel zero fresh pages over and over).
///
/// ```
/// use wiretrace::shingle::{shingle_text, shingles, tokenize};
/// let text = "the cat sat on the mat and the cat sat on the hat";
/// let mut toks = Vec::new();
/// tokenize(text, &mut toks);
/// let mut set = Vec::new();
/// shingles(&toks, 3, &mut set);
/// assert_eq!(shingle_text(text, 3), set);
/// ```
pub fn shingle_text(text: &str, k: usize) -> ShingleSet {
    SCRATCH.with(|s| {
        let s = &mut *s.borrow_mut();
        s.tokens.clear();
        tokenize(text, &mut s.tokens);
        shingles_with(&s.tokens, k, &mut s.hashes, &mut s.sort);
        s.hashes.to_vec()
    })
}

/// Sorts `v` ascending by a least-significant-digit radix sort: four 8-bit
/// passes (a pass whose digit is the same in every key is skipped) through
/// `scratch`, which may end up holding `v`'s old allocation. Short inputs
/// go to the standard sort. (`radsort`, used elsewhere, allocates its
/// buffer on every call; the read stage sorts one set per document.)
///
/// ```
/// let mut v = vec![70_000, 3, u32::MAX, 256, 3, 0];
/// wiretrace::shingle::radix_sort(&mut v, &mut Vec::new());
/// assert_eq!(v, [0, 3, 3, 256, 70_000, u32::MAX]);
/// ```
pub fn radix_sort(v: &mut Vec<u32>, scratch: &mut Vec<u32>) {
    let n = v.len();
    if n <= 64 {
        v.sort_unstable();
        return;
    }
    let mut counts = [[0u32; 256]; 4];
    for &x in v.iter() {
        for (d, c) in counts.iter_mut().enumerate() {
            c[((x >> (8 * d)) & 0xff) as usize] += 1;
        }
    }
    scratch.clear();
    scratch.resize(n, 0);
    for (d, c) in counts.iter().enumerate() {
        let shift = 8 * d;
        if c[((v[0] >> shift) & 0xff) as usize] as usize == n {
            continue;
        }
        let mut next = [0u32; 256];
        let mut sum = 0;
        for (o, &count) in next.iter_mut().zip(c) {
            *o = sum;
            sum += count;
        }
        for &x in v.iter() {
            let slot = &mut next[((x >> shift) & 0xff) as usize];
            scratch[*slot as usize] = x;
            *slot += 1;
        }
        std::mem::swap(v, scratch);
    }
}

/// Shingle hashes in text order (one per token position `0..=n-k`),
/// not deduplicated. Used to locate shared shingles inside a text.
pub fn shingle_sequence(tokens: &[Token], k: usize) -> Vec<ShingleHash> {
    if tokens.len() < k {
        return Vec::new();
    }
    tokens.windows(k).map(shingle_hash).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn radix_sort_sorts(mut v in proptest::collection::vec(any::<u32>(), 0..600), narrow in any::<bool>()) {
            if narrow {
                // Keys that agree in some digits exercise the skipped passes.
                v.iter_mut().for_each(|x| *x &= 0x00ff_0f00);
            }
            let mut want = v.clone();
            want.sort_unstable();
            radix_sort(&mut v, &mut Vec::new());
            prop_assert_eq!(v, want);
        }

        // The word-at-a-time paths agree with the plain definitions: a run of
        // ASCII letters and digits ends at the first other byte, and its hash is
        // that of its lowercase spelling, wherever it sits in the text.
        #[test]
        fn fast_ascii_paths_match_plain(pre in "[ -~]{0,20}", word in "[A-Za-z0-9]{1,30}", post in "[ -~\u{e9}\u{2014}]{0,20}") {
            let text = format!("{pre} {word}");
            let text = if post.starts_with(|c: char| c.is_ascii_alphanumeric() || !c.is_ascii()) {
                text
            } else {
                format!("{text}{post}")
            };
            let start = pre.len() + 1;
            let end = start + word.len();
            let want = word_hash(word.to_ascii_lowercase().as_bytes());
            // As written, and with 16 bytes of room after the word, so that
            // a word of up to 16 bytes takes the masked-load path (near a
            // text's end it falls back to `word_hash` itself).
            let padded = format!("{text}{}", " ".repeat(16));
            for t in [&text, &padded] {
                let bytes = t.as_bytes();
                prop_assert_eq!(ascii_run_end(bytes, start), end);
                prop_assert_eq!(ascii_word_hash(bytes, start, end), want);
            }
        }
    }

    #[test]
    fn word_byte_classes_match_the_table() {
        for b in 0..=255u8 {
            let mut bytes = [b' '; 8];
            bytes[3] = b;
            let x = u64::from_le_bytes(bytes);
            assert_eq!(
                ascii_word_bytes(x) != 0,
                b.is_ascii_alphanumeric(),
                "byte {b:#x}"
            );
        }
    }

    fn words(text: &str) -> Vec<String> {
        let mut t = Vec::new();
        tokenize(text, &mut t);
        t.iter()
            .map(|t| text[t.start as usize..t.end as usize].to_string())
            .collect()
    }

    #[test]
    fn splits_on_punctuation_and_keeps_offsets() {
        assert_eq!(
            words("U.S.-led talks, 2022!"),
            ["U", "S", "led", "talks", "2022"]
        );
        assert_eq!(words("naïve café Zürich"), ["naïve", "café", "Zürich"]);
        assert_eq!(words("e\u{301}te\u{301}"), ["e\u{301}te\u{301}"]);
        // Scripts without spaces: one token per letter, whatever is next to it.
        assert_eq!(words("abc東京def"), ["abc", "東", "京", "def"]);
        assert_eq!(
            words("北约峰会。NATO峰会，東京のニュース"),
            [
                "北", "约", "峰", "会", "NATO", "峰", "会", "東", "京", "の", "ニ", "ュ", "ー",
                "ス"
            ]
        );
        assert_eq!(words("café東京"), ["café", "東", "京"]);
        // Thai "news": the tone mark stays on its letter.
        assert_eq!(words("ข่าว"), ["ข\u{e48}", "า", "ว"]);
        // ... and counts: "news" and "white" differ by it.
        let first = |t: &str| {
            let mut toks = Vec::new();
            tokenize(t, &mut toks);
            toks[0].hash
        };
        assert_ne!(first("ข่าว"), first("ขาว"));
        assert_eq!(words("が"), ["が"]);
        assert_eq!(words("か\u{3099}き"), ["か\u{3099}", "き"]);
        // Korean is written with spaces: its words stay whole.
        assert_eq!(words("서울 뉴스"), ["서울", "뉴스"]);
        assert!(words("— … “ ”").is_empty());
    }

    #[test]
    fn case_width_and_quotes_do_not_change_hashes() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        tokenize("Putin's “NATO” demands", &mut a);
        tokenize("PUTIN’S \"ｎａｔｏ\" Demands", &mut b);
        let ha: Vec<u64> = a.iter().map(|t| t.hash).collect();
        let hb: Vec<u64> = b.iter().map(|t| t.hash).collect();
        assert_eq!(ha, hb);
    }

    #[test]
    fn long_ascii_words_hash_like_short_path() {
        let long = "x".repeat(100);
        let mut a = Vec::new();
        tokenize(&long.to_uppercase(), &mut a);
        assert_eq!(a[0].hash, xxh3_64(long.as_bytes()));
    }
}
