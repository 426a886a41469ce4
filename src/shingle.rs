//! Normalise and shingle: text to tokens (with offsets) to a sorted set of
//! 64-bit word k-shingle hashes.
//!
//! In: a document's text. Out: [`Token`]s (hash of the normalised word plus
//! its byte span in the original text) and a [`ShingleSet`].
//!
//! Normalisation: a token is a maximal run of letters and digits (combining
//! marks stay inside a token); each token is NFKC-normalised and lowercased.
//! Quotes, dashes and all other punctuation separate tokens, so curly and
//! straight quotes or different dashes never change a token. Each token is
//! hashed once (xxh3); a shingle hash is the xxh3 of its k token hashes.
//!
//! Invariants: token spans are in increasing order, non-overlapping, on
//! `char` boundaries; a `ShingleSet` is sorted and has no duplicates.

use unicode_normalization::UnicodeNormalization;
use xxhash_rust::xxh3::xxh3_64;

/// One word of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// xxh3 of the normalised word.
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
    c.is_alphanumeric() || is_mark(c)
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
    let mut lower = [0u8; 64];
    let mut i = 0;
    let n = bytes.len();
    while i < n {
        let b = bytes[i];
        if b < 0x80 {
            if !b.is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            // ASCII fast path: scan the run while it stays ASCII alphanumeric.
            let start = i;
            while i < n && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            if i < n && bytes[i] >= 0x80 && next_char(text, i).is_some_and(is_word_char) {
                i = slow_run_end(text, i);
                push_slow(text, start, i, out);
            } else {
                let len = i - start;
                let hash = if len <= lower.len() {
                    for (dst, src) in lower.iter_mut().zip(&bytes[start..i]) {
                        *dst = src.to_ascii_lowercase();
                    }
                    xxh3_64(&lower[..len])
                } else {
                    xxh3_64(text[start..i].to_ascii_lowercase().as_bytes())
                };
                out.push(Token {
                    hash,
                    start: start as u32,
                    end: i as u32,
                });
            }
        } else {
            let c = next_char(text, i).expect("valid UTF-8");
            if is_word_char(c) {
                let start = i;
                i = slow_run_end(text, i);
                push_slow(text, start, i, out);
            } else {
                i += c.len_utf8();
            }
        }
    }
}

fn next_char(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

fn slow_run_end(text: &str, mut i: usize) -> usize {
    for c in text[i..].chars() {
        if !is_word_char(c) {
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
        hash: xxh3_64(norm.as_bytes()),
        start: start as u32,
        end: end as u32,
    });
}

/// Hash of the shingle made of these token hashes: xxh3 over the k token
/// hashes, keeping the top 32 bits (see [`ShingleHash`]).
#[inline]
pub fn shingle_hash(tokens: &[Token]) -> ShingleHash {
    let mut buf = [0u8; 8 * 16];
    for (i, t) in tokens.iter().enumerate() {
        buf[i * 8..i * 8 + 8].copy_from_slice(&t.hash.to_le_bytes());
    }
    (xxh3_64(&buf[..tokens.len() * 8]) >> 32) as ShingleHash
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
    assert!((1..=16).contains(&k), "shingle size must be 1..=16");
    out.clear();
    if tokens.len() < k {
        return;
    }
    out.extend(tokens.windows(k).map(shingle_hash));
    radsort::sort(out);
    out.dedup();
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
        assert_eq!(words("abc東京def"), ["abc東京def"]);
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
