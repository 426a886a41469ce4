//! The reword-tolerant view: sentences of stemmed content words.
//!
//! Reworded reruns (spun, paraphrased, machine translated and back) keep a
//! story's facts, names and most content words but few five-word runs, so
//! the shingle view cannot see them. This view splits each article into
//! sentences and represents a sentence by its set of stemmed content words
//! (Snowball stemmer and stopwords of the document's language, see
//! [`detect_language`]), which survives synonym swaps of a few words,
//! reordered clauses and inflection changes.
//!
//! In: documents (and the boilerplate table, so site furniture takes no
//! part). Out: for each candidate pair, reworded [`Passage`]s with exact
//! byte and character offsets and a tf-idf cosine, plus how much of each
//! document they cover.
//!
//! Stages, each parallel and deterministic:
//! 1. [`sentence_keys`]: per document, MinHash LSH band keys of every sentence
//!    with at least `min_terms` content words (`bands` x `rows` minima).
//! 2. [`candidate_pairs`]: documents sharing a band key, from buckets of at
//!    most `bucket_cap` documents (stock phrases and furniture are capped).
//! 3. [`align_pair`]: sentence pairs whose tf-idf cosine and Dice overlap
//!    pass the thresholds are seeds (as in Sanchez-Perez et al., PAN 2014);
//!    seeds at most `max_gap` sentences apart on both sides are joined into
//!    one passage, kept when the whole passage's cosine passes and both sides
//!    are at least `min_chars` long; overlapping passages keep the best.
//!
//! Invariants: a passage never starts or ends inside a sentence; its offsets
//! are byte and character ranges of the original text; a sentence that is
//! mostly boilerplate never seeds a passage.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use ahash::{AHashMap, AHashSet};
use rayon::prelude::*;
use rust_stemmers::{Algorithm, Stemmer};
use xxhash_rust::xxh3::xxh3_64;

use crate::align::{Passage, PassageKind, to_chars};
use crate::boilerplate::{Boilerplate, OutletIndex};
use crate::config::RewordConfig;
use crate::document::DocId;
use crate::observe::Observer;
use crate::shingle::{self, Token};
use crate::verify::{Relation, intersection_size};

/// A stemmed content word: 32 bits of the stem's xxh3, never 0.
pub type Term = u32;

/// English stopwords (function words, and news verbs of saying that every
/// report uses). Matching is on the lowercased word.
const STOPWORDS: &str = "a about above after again against all also am an and any are aren as at \
    be because been before being below between both but by can cannot could couldn did didn do does \
    doesn doing don down during each few for from further had hadn has hasn have haven having he her \
    here hers herself him himself his how i if in into is isn it its itself just let ll me more most \
    mustn my myself no nor not now of off on once only or other ought our ours ourselves out over own \
    re same shan she should shouldn so some such than that the their theirs them themselves then there \
    these they this those through to too under until up upon us ve very was wasn we were weren what \
    when where which while who whom why will with won would wouldn you your yours yourself yourselves \
    said says say saying told tell mr mrs ms dr st according one would also may might must shall";

/// Abbreviations after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "capt", "cmdr",
    "adm", "maj", "jr", "sr", "inc", "co", "corp", "ltd", "no", "vs", "etc", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "prof", "rev", "mt", "ft",
    "approx", "dept", "est", "fig", "pres",
];

/// The languages the view reads, by ISO 639-1 code, with their Snowball
/// stemmers. Index 0, English, is the default. Stopwords are NLTK's
/// (through the `stop-words` crate), except English's own list above.
const LANGUAGES: [(&str, Algorithm); 18] = [
    ("en", Algorithm::English),
    ("ar", Algorithm::Arabic),
    ("da", Algorithm::Danish),
    ("de", Algorithm::German),
    ("el", Algorithm::Greek),
    ("es", Algorithm::Spanish),
    ("fi", Algorithm::Finnish),
    ("fr", Algorithm::French),
    ("hu", Algorithm::Hungarian),
    ("it", Algorithm::Italian),
    ("nl", Algorithm::Dutch),
    ("no", Algorithm::Norwegian),
    ("pt", Algorithm::Portuguese),
    ("ro", Algorithm::Romanian),
    ("ru", Algorithm::Russian),
    ("sv", Algorithm::Swedish),
    ("ta", Algorithm::Tamil),
    ("tr", Algorithm::Turkish),
];

/// Words read, evenly spread, to tell a document's language
/// ([`detect_language`]).
const DETECT_WORDS: usize = 100;

/// Fewest distinct stopwords of a language other than English among those
/// words for the document to be read as that language.
const DETECT_MIN: u32 = 5;

/// One of the 18 languages the reworded view reads (see [`detect_language`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Language(u8);

impl Language {
    /// English, the default.
    pub const ENGLISH: Language = Language(0);

    /// ISO 639-1 code: `en`, `fr`, ...
    pub fn code(self) -> &'static str {
        LANGUAGES[usize::from(self.0)].0
    }

    /// Mixed into word and sentence memo keys, so that one word read in two
    /// languages is two entries; English's is 0.
    fn salt(self) -> u64 {
        u64::from(self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

/// The language with the most stopwords among 100 words spread evenly over
/// `tokens` (every n-th), as in stopword-based language identification.
/// English unless another language has more distinct stopwords there (not
/// starting with a capital, of two letters or more), and at least 5. Text
/// without spaces between words, in a language the view has no stemmer
/// for, or that is mostly names and figures (market tables) is read as
/// English.
///
/// ```
/// use wiretrace::reword::detect_language;
/// use wiretrace::shingle::tokenize;
/// let read = |text: &str| {
///     let mut toks = Vec::new();
///     tokenize(text, &mut toks);
///     detect_language(text, &toks).code()
/// };
/// assert_eq!(read("Le président a dit que les troupes de l'OTAN ne partiront pas et qu'il faut continuer le dialogue."), "fr");
/// assert_eq!(read("The president said the troops would not leave."), "en");
/// ```
pub fn detect_language(text: &str, tokens: &[Token]) -> Language {
    let lex = lexicon();
    // Words spread over the whole text, so that a page's navigation or a
    // local note at the top does not decide for the article under it.
    let step = tokens.len().div_ceil(DETECT_WORDS).max(1);
    let words = tokens.iter().step_by(step);
    // Distinct stopwords vote, each once: a table repeating `ba` (bid/ask)
    // is not Romanian. Function words of running text are not written in
    // capitals (`DE` and `MEN` in a stock table are tickers); scripts
    // without case (Arabic, Tamil) pass. One letter is too little to tell
    // by (the `d` and `l` of French elisions are also the `H`/`L` columns
    // of market tables).
    let uncapitalised = |t: &Token| {
        text[t.start as usize..]
            .chars()
            .next()
            .is_some_and(|c| !c.is_uppercase())
    };
    let mut hits: Vec<(u64, u32)> = words
        .filter(|t| t.end - t.start > 1)
        .filter_map(|t| Some((t, *lex.votes.get(&t.hash)?)))
        .filter(|(t, _)| uncapitalised(t))
        .map(|(t, mask)| (t.hash, mask))
        .collect();
    hits.sort_unstable();
    hits.dedup();
    let mut votes = [0u32; LANGUAGES.len()];
    for (_, mask) in hits {
        for (i, v) in votes.iter_mut().enumerate() {
            *v += (mask >> i) & 1;
        }
    }
    // The first of the most voted; English keeps ties.
    let best = (1..votes.len()).fold(0, |b, i| if votes[i] > votes[b] { i } else { b });
    if best != 0 && votes[best] >= DETECT_MIN {
        Language(best as u8)
    } else {
        Language::ENGLISH
    }
}

/// How one language is read: its stemmer and stopwords.
struct Reading {
    stemmer: Stemmer,
    stop: AHashSet<u64>,
}

struct Lexicon {
    readings: Vec<Reading>,
    /// Word hash to the languages (bit i: [`LANGUAGES`]`[i]`) it is a
    /// stopword of.
    votes: AHashMap<u64, u32>,
    abbreviations: AHashSet<u64>,
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let readings: Vec<Reading> = LANGUAGES
            .iter()
            .map(|&(code, algorithm)| {
                let words: Vec<&str> = if code == "en" {
                    STOPWORDS.split_whitespace().collect()
                } else {
                    stop_words::get(code).to_vec()
                };
                Reading {
                    stemmer: Stemmer::create(algorithm),
                    stop: words
                        .iter()
                        .map(|w| crate::shingle::word_hash(w.to_lowercase().as_bytes()))
                        .collect(),
                }
            })
            .collect();
        let mut votes: AHashMap<u64, u32> = AHashMap::new();
        for (i, r) in readings.iter().enumerate() {
            for &h in &r.stop {
                *votes.entry(h).or_default() |= 1 << i;
            }
        }
        Lexicon {
            readings,
            votes,
            abbreviations: ABBREVIATIONS
                .iter()
                .map(|w| xxh3_64(w.as_bytes()))
                .collect(),
        }
    })
}

/// Per-thread memo of word → term (0: not a content word), so each distinct
/// word is lowercased and stemmed once. Cleared when it grows past a bound.
#[derive(Default)]
pub struct TermCache {
    map: AHashMap<u64, Term>,
    /// The language of the document being read.
    language: Language,
    tokens: Vec<Token>,
    scratch: [Vec<Term>; 3],
}

const CACHE_LIMIT: usize = 1 << 20;

thread_local! {
    /// One term cache per worker thread for the life of the thread (rayon's
    /// `map_init` would start a cold one for every split of the work).
    static CACHE: std::cell::RefCell<TermCache> = std::cell::RefCell::new(TermCache::default());
}

/// Runs `f` with this thread's term cache.
pub fn with_cache<R>(f: impl FnOnce(&mut TermCache) -> R) -> R {
    CACHE.with(|c| f(&mut c.borrow_mut()))
}

impl TermCache {
    /// The term of a token, or 0 for stopwords, one-letter words and
    /// numbers made only of zeros.
    pub fn term(&mut self, text: &str, token: &Token) -> Term {
        let key = token.hash ^ self.language.salt();
        if let Some(&t) = self.map.get(&key) {
            return t;
        }
        if self.map.len() >= CACHE_LIMIT {
            self.map.clear();
        }
        let word = &text[token.start as usize..token.end as usize];
        let t = compute_term(word, token.hash, self.language);
        self.map.insert(key, t);
        t
    }
}

fn compute_term(word: &str, hash: u64, language: Language) -> Term {
    let reading = &lexicon().readings[usize::from(language.0)];
    if word.chars().nth(1).is_none()
        || reading.stop.contains(&hash)
        || word.bytes().all(|b| b == b'0')
    {
        return 0;
    }
    let lower = word.to_lowercase();
    let stem = reading.stemmer.stem(&lower);
    ((xxh3_64(stem.as_bytes()) >> 32) as u32).max(1)
}

/// One sentence of a document.
#[derive(Clone, Debug, PartialEq)]
pub struct Sentence {
    /// Byte range in the text, from the first word (with an opening quote)
    /// to the closing punctuation.
    pub bytes: (u32, u32),
    /// Token range `[first, last)`.
    pub tokens: (u32, u32),
    /// Distinct content terms, sorted.
    pub terms: Vec<Term>,
    /// Distinct key terms, sorted: names and numbers (content terms of
    /// words with a digit, or capitalised other than the sentence's first).
    pub keys: Vec<Term>,
    /// Distinct number terms (words with a digit), sorted.
    pub numbers: Vec<Term>,
    /// Mostly boilerplate shingles: takes no part in matching.
    pub boilerplate: bool,
}

/// Whether a gap between words holds a blank line (a paragraph break).
fn blank_line(gap: &[u8]) -> bool {
    let mut newlines = 0;
    for &b in gap {
        match b {
            b'\n' => {
                newlines += 1;
                if newlines == 2 {
                    return true;
                }
            }
            b' ' | b'\t' | b'\r' => {}
            _ => newlines = 0,
        }
    }
    false
}

/// Token ranges of the sentences of `text`. A sentence ends at a paragraph
/// break (a blank line; single line breaks of hard-wrapped text do not end
/// one), or where the gap between two words holds `.`, `!` or `?` followed by
/// white space and a word that does not start in lower case; a full stop
/// right after a known abbreviation or a single letter (`U.S.`) does not
/// end one.
///
/// ```
/// use wiretrace::reword::sentence_ranges;
/// use wiretrace::shingle::tokenize;
/// let text = "Mr. Putin met U.S. envoys. They\ntalked.\n\nNext line";
/// let mut toks = Vec::new();
/// tokenize(text, &mut toks);
/// assert_eq!(sentence_ranges(text, &toks), [(0, 6), (6, 8), (8, 10)]);
/// ```
pub fn sentence_ranges(text: &str, tokens: &[Token]) -> Vec<(u32, u32)> {
    let lex = lexicon();
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0usize;
    for i in 0..tokens.len() {
        let end_here = match tokens.get(i + 1) {
            None => true,
            Some(next) => {
                let gap = &bytes[tokens[i].end as usize..next.start as usize];
                if blank_line(gap) || ideographic_stop(gap) {
                    true
                } else if let Some(p) = gap.iter().position(|&b| matches!(b, b'.' | b'!' | b'?')) {
                    let spaced = gap[p..].iter().any(|b| b.is_ascii_whitespace());
                    let next_lower = text[next.start as usize..]
                        .chars()
                        .next()
                        .is_some_and(char::is_lowercase);
                    let word = &text[tokens[i].start as usize..tokens[i].end as usize];
                    let abbreviation = gap[p] == b'.'
                        && p == 0
                        && (word.chars().nth(1).is_none()
                            || lex
                                .abbreviations
                                .contains(&xxh3_64(word.to_ascii_lowercase().as_bytes())));
                    spaced && !next_lower && !abbreviation
                } else {
                    false
                }
            }
        };
        if end_here {
            out.push((start as u32, i as u32 + 1));
            start = i + 1;
        }
    }
    out
}

/// The full stop, exclamation and question marks written without a space
/// after them (Chinese and Japanese; `｡` is the halfwidth stop).
const IDEOGRAPHIC_STOPS: [char; 4] = ['。', '！', '？', '｡'];

/// Whether the text between two tokens holds one of [`IDEOGRAPHIC_STOPS`].
fn ideographic_stop(gap: &[u8]) -> bool {
    // Their UTF-8 starts with 0xE3 or 0xEF: most gaps are one space.
    gap.iter().any(|&b| b >= 0xE3)
        && std::str::from_utf8(gap).is_ok_and(|g| g.contains(IDEOGRAPHIC_STOPS))
}

/// Whether token `n` (with digits) is followed by more of the same number:
/// the next token has digits and the gap is one of `.,/-`.
fn continues_number(text: &str, toks: &[Token], n: usize) -> bool {
    toks.get(n + 1).is_some_and(|next| {
        let gap = &text.as_bytes()[toks[n].end as usize..next.start as usize];
        gap.len() == 1
            && matches!(gap[0], b'.' | b',' | b'/' | b'-')
            && text.as_bytes()[next.start as usize..next.end as usize]
                .iter()
                .all(u8::is_ascii_digit)
    })
}

/// Byte offset where the number ending at token `n` starts.
fn number_start(text: &str, toks: &[Token], mut n: usize) -> usize {
    while n > 0 && continues_number(text, toks, n - 1) {
        let prev = &text.as_bytes()[toks[n - 1].start as usize..toks[n - 1].end as usize];
        if !prev.iter().all(u8::is_ascii_digit) {
            break;
        }
        n -= 1;
    }
    toks[n].start as usize
}

/// Byte span of a sentence of tokens `[first, last)`: widened left over an
/// opening quote or bracket and right over closing punctuation. Chinese
/// and Japanese put no space between sentences: there the widening stops
/// at the full-width punctuation that ends a sentence or clause, which
/// belongs to the one before.
fn sentence_bytes(text: &str, tokens: &[Token], first: usize, last: usize) -> (u32, u32) {
    const CLOSING: [char; 9] = ['，', '、', '；', '：', '」', '』', '）', '】', '》'];
    let bytes = text.as_bytes();
    let mut s = tokens[first].start as usize;
    let lo = if first > 0 {
        tokens[first - 1].end as usize
    } else {
        0
    };
    while s > lo {
        let c = text[..s].chars().next_back().expect("s > 0");
        if c.is_whitespace() || IDEOGRAPHIC_STOPS.contains(&c) || CLOSING.contains(&c) {
            break;
        }
        s -= c.len_utf8();
    }
    let mut e = tokens[last - 1].end as usize;
    let hi = tokens.get(last).map_or(bytes.len(), |t| t.start as usize);
    while e < hi {
        let c = text[e..].chars().next().expect("e < len");
        if c.is_whitespace() {
            break;
        }
        e += c.len_utf8();
        if IDEOGRAPHIC_STOPS.contains(&c) {
            break;
        }
    }
    (s as u32, e as u32)
}

/// Boilerplate as one document's shingle set saw it, for [`analyze`].
#[derive(Clone, Copy)]
pub struct BoilerContext<'a> {
    /// The table.
    pub table: &'a Boilerplate,
    /// The document's outlet.
    pub outlet: OutletIndex,
    /// Whether global boilerplate was stripped from the document's set (it
    /// is kept in a text rerun so widely that its own shingles are global;
    /// see [`Boilerplate::strip`]).
    pub global: bool,
    /// Shingle size.
    pub k: usize,
}

impl BoilerContext<'_> {
    /// Whether shingle `h` was boilerplate in the document's set.
    pub fn contains(&self, h: shingle::ShingleHash) -> bool {
        self.table.contains_in(h, self.outlet, self.global)
    }
}

/// A sentence's content terms, key terms and numbers (see [`Sentence`]).
type SentenceTerms = (Vec<Term>, Vec<Term>, Vec<Term>);

/// The distinct content terms, key terms and numbers of one sentence's
/// tokens, each sorted, each in a vector of exactly its size (they are
/// gathered in the cache's scratch vectors).
fn sentence_terms(text: &str, toks: &[Token], cache: &mut TermCache) -> SentenceTerms {
    let [mut terms, mut keys, mut numbers] = std::mem::take(&mut cache.scratch);
    terms.clear();
    keys.clear();
    numbers.clear();
    for (n, t) in toks.iter().enumerate() {
        let word = &text.as_bytes()[t.start as usize..t.end as usize];
        let digits = word.iter().any(u8::is_ascii_digit);
        if digits && !continues_number(text, toks, n) {
            // One number however it is punctuated: 3.6, 100,000, 1-1/4.
            let start = number_start(text, toks, n);
            let key = (xxh3_64(&text.as_bytes()[start..t.end as usize]) >> 32) as u32;
            numbers.push(key.max(1));
        }
        let term = match unspaced_bigram(text, toks, n) {
            Some(bigram) => bigram,
            None => cache.term(text, t),
        };
        if term == 0 {
            continue;
        }
        terms.push(term);
        let first = text[t.start as usize..].chars().next().unwrap_or(' ');
        if digits || (n > 0 && first.is_uppercase()) {
            keys.push(term);
        }
    }
    terms.sort_unstable();
    terms.dedup();
    keys.sort_unstable();
    keys.dedup();
    numbers.sort_unstable();
    numbers.dedup();
    let out = (terms.to_vec(), keys.to_vec(), numbers.to_vec());
    cache.scratch = [terms, keys, numbers];
    out
}

/// In scripts written without spaces each letter is a token (see
/// [`crate::shingle::tokenize`]); their content terms are the pairs of
/// adjacent letters, the usual unit of Chinese and Japanese retrieval
/// (single letters are too common to say much). `Some(0)` for such a
/// letter with no letter right after it, `None` for other tokens.
fn unspaced_bigram(text: &str, toks: &[Token], n: usize) -> Option<Term> {
    // Those letters take three or four bytes in UTF-8: an ASCII word is
    // turned away by its first byte.
    let unspaced = |t: &Token| {
        text.as_bytes()[t.start as usize] >= 0xE0
            && text[t.start as usize..]
                .chars()
                .next()
                .is_some_and(crate::shingle::is_unspaced)
    };
    let t = &toks[n];
    if !unspaced(t) {
        return None;
    }
    Some(match toks.get(n + 1) {
        Some(next) if next.start == t.end && unspaced(next) => {
            let pair = crate::shingle::fmix64(t.hash ^ next.hash.rotate_left(29));
            ((pair >> 32) as u32).max(1)
        }
        _ => 0,
    })
}

/// Splits `text` into [`Sentence`]s with their content terms.
pub fn analyze(
    text: &str,
    cache: &mut TermCache,
    boiler: Option<BoilerContext<'_>>,
) -> Vec<Sentence> {
    analyze_with(text, cache, boiler, None)
}

/// Terms, keys and numbers of sentences already analysed, by the xxh3 of
/// the sentence's words and the gaps between them (all they depend on).
/// The copies of one story repeat most of their origin's sentences.
#[derive(Default)]
pub struct SentenceMemo {
    map: AHashMap<u64, SentenceTerms>,
}

/// [`analyze`], taking each sentence's terms from `memo` when it holds
/// them (and adding them when it does not). Same result as [`analyze`].
pub fn analyze_memo(
    text: &str,
    cache: &mut TermCache,
    boiler: Option<BoilerContext<'_>>,
    memo: &mut SentenceMemo,
) -> Vec<Sentence> {
    analyze_with(text, cache, boiler, Some(memo))
}

fn analyze_with(
    text: &str,
    cache: &mut TermCache,
    boiler: Option<BoilerContext<'_>>,
    mut memo: Option<&mut SentenceMemo>,
) -> Vec<Sentence> {
    let mut tokens = std::mem::take(&mut cache.tokens);
    tokens.clear();
    shingle::tokenize(text, &mut tokens);
    cache.language = detect_language(text, &tokens);
    let salt = cache.language.salt();
    let mut out = Vec::new();
    for (first, last) in sentence_ranges(text, &tokens) {
        let toks = &tokens[first as usize..last as usize];
        let (terms, keys, numbers) = match memo.as_deref_mut() {
            None => sentence_terms(text, toks, cache),
            Some(memo) => {
                let words =
                    &text.as_bytes()[toks[0].start as usize..toks[toks.len() - 1].end as usize];
                memo.map
                    .entry(xxh3_64(words) ^ salt)
                    .or_insert_with(|| sentence_terms(text, toks, cache))
                    .clone()
            }
        };
        let boilerplate = boiler.is_some_and(|b| {
            toks.len() >= b.k && {
                let windows = toks.len() + 1 - b.k;
                let furniture = toks
                    .windows(b.k)
                    .filter(|w| b.contains(shingle::shingle_hash(w)))
                    .count();
                furniture * 2 >= windows
            }
        });
        out.push(Sentence {
            bytes: sentence_bytes(text, &tokens, first as usize, last as usize),
            tokens: (first, last),
            terms,
            keys,
            numbers,
            boilerplate,
        });
    }
    cache.tokens = tokens;
    out
}

// The sentence MinHash's mixer is Murmur3's finaliser (the one shingle
// hashes end with), not `minhash::mix` (SplitMix64's): with that one,
// different template sentences of Reuters' bond notices become candidates
// and slip past the names-and-numbers check (tests/reuters.rs fails),
// which shows that check is too weak for templates; every measured figure
// of the view uses this mixer.
use crate::shingle::fmix64 as mix;

/// LSH band keys of one sentence's terms: `bands` keys, each mixing the
/// band number with `rows` MinHash minima. Appended to `out`.
pub fn band_keys(terms: &[Term], bands: usize, rows: usize, out: &mut Vec<u32>) {
    let mut mins = [u64::MAX; 64];
    let n = bands * rows;
    for &t in terms {
        for (j, m) in mins[..n].iter_mut().enumerate() {
            let h = mix(u64::from(t) ^ (j as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            *m = (*m).min(h);
        }
    }
    for b in 0..bands {
        let mut acc = mix(b as u64 + 1);
        for m in &mins[b * rows..(b + 1) * rows] {
            acc = mix(acc ^ m);
        }
        out.push((acc >> 32) as u32);
    }
}

/// A document's distinct sentence band keys, sorted.
pub fn sentence_keys(sentences: &[Sentence], cfg: &RewordConfig) -> Vec<u32> {
    let mut keys = Vec::new();
    for s in sentences.iter().filter(|s| usable(s, cfg)) {
        band_keys(&s.terms, cfg.bands, cfg.rows, &mut keys);
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// What candidate generation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CandidateStats {
    /// Band keys over all documents.
    pub keys: u64,
    /// Buckets over the cap, not expanded.
    pub capped_buckets: u64,
}

/// One document's first analysis in [`find_pairs`].
#[derive(Default)]
struct Analysed {
    /// `None` for a document not analysed.
    language: Option<Language>,
    keys: Vec<u32>,
    sample: Option<Vec<Term>>,
    usable: u64,
    sentences: Vec<Sentence>,
}

/// Document pairs `(a, b)`, `a < b`, sorted and distinct, that share at
/// least `min_hits` sentence band keys in buckets of at most `cap`
/// documents. `place` stands each story of the shingle view in as its
/// origin: a sentence of a 50-copy story is one entry, not 1,225 settled
/// pairs, and a reworded copy is paired with the story's origin once, its
/// hits with every member counted together. Hits are counted per document
/// against the buckets' document lists, as the passage index counts shared
/// fingerprints ([`crate::fingerprint`]): no table of every pair of every
/// bucket is built.
pub fn candidate_pairs(
    keys: &[Vec<u32>],
    place: &[Placement],
    cap: usize,
    min_hits: usize,
) -> (Vec<(DocId, DocId)>, CandidateStats) {
    // (key, document) of every key, written in parallel into one vector
    // cut into each document's part (no per-thread lists to concatenate).
    let mut flat = vec![0u64; keys.iter().map(Vec::len).sum()];
    let mut parts: Vec<&mut [u64]> = Vec::with_capacity(keys.len());
    let mut rest = flat.as_mut_slice();
    for ks in keys {
        let (part, tail) = rest.split_at_mut(ks.len());
        parts.push(part);
        rest = tail;
    }
    parts
        .into_par_iter()
        .zip(keys.par_iter())
        .enumerate()
        .for_each(|(d, (part, ks))| {
            for (slot, &k) in part.iter_mut().zip(ks) {
                *slot = (u64::from(k) << 32) | d as u64;
            }
        });
    flat.par_sort_unstable();
    let mut stats = CandidateStats {
        keys: flat.len() as u64,
        ..Default::default()
    };
    // Each bucket's documents, each as its story's origin, once, ascending;
    // gathered as (start, length) lists over one document vector per part
    // of the sorted keys (parts cut at bucket boundaries, scanned in
    // parallel), through a scratch list (most buckets hold one document).
    let n = flat.len();
    let cuts = rayon::current_num_threads() * 8;
    let mut bounds: Vec<usize> = (0..=cuts).map(|p| p * n / cuts).collect();
    for p in 1..cuts {
        let mut b = bounds[p].max(bounds[p - 1]);
        while b > 0 && b < n && flat[b] >> 32 == flat[b - 1] >> 32 {
            b += 1;
        }
        bounds[p] = b;
    }
    type Lists = (Vec<(u32, u32)>, Vec<u32>, u64);
    let parts: Vec<Lists> = bounds
        .par_windows(2)
        .map(|w| {
            let (mut lists, mut docs, mut capped) = (Vec::new(), Vec::new(), 0u64);
            let mut bucket: Vec<u32> = Vec::new();
            for run in flat[w[0]..w[1]].chunk_by(|x, y| x >> 32 == y >> 32) {
                if run.len() < 2 {
                    continue;
                }
                bucket.clear();
                bucket.extend(run.iter().map(|x| {
                    let d = (x & 0xffff_ffff) as usize;
                    place.get(d).copied().flatten().map_or(d as u32, |o| o.0)
                }));
                bucket.sort_unstable();
                bucket.dedup();
                if bucket.len() > cap {
                    capped += 1;
                } else if bucket.len() >= 2 {
                    lists.push((docs.len() as u32, bucket.len() as u32));
                    docs.extend_from_slice(&bucket);
                }
            }
            (lists, docs, capped)
        })
        .collect();
    drop(flat);
    let (mut lists, mut docs) = (Vec::new(), Vec::new());
    for (part_lists, part_docs, capped) in parts {
        crate::fingerprint::append_lists((&mut lists, &mut docs), part_lists, &part_docs);
        stats.capped_buckets += capped;
    }
    let min_hits = u32::try_from(min_hits).unwrap_or(u32::MAX);
    let pairs = crate::fingerprint::pairs_sharing(keys.len(), &docs, &lists, min_hits)
        .into_iter()
        .map(|p| (p.a, p.b))
        .collect();
    (pairs, stats)
}

/// Inverse document frequencies from a sample of documents.
#[derive(Clone, Debug, Default)]
pub struct Idf {
    /// Weight of every sampled term.
    weights: AHashMap<Term, f64>,
    /// Weight of a term the sample never saw.
    unseen: f64,
}

impl Idf {
    /// Counts, for each term, the documents (term sets) it occurs in.
    pub fn from_term_sets<'a>(sets: impl IntoIterator<Item = &'a [Term]>) -> Self {
        let mut df: AHashMap<Term, u32> = AHashMap::new();
        let mut n = 0u32;
        for set in sets {
            n += 1;
            for &t in set {
                *df.entry(t).or_default() += 1;
            }
        }
        let w = |df: u32| (f64::from(n + 1) / f64::from(df + 1)).ln() + 1.0;
        Idf {
            weights: df.into_iter().map(|(t, d)| (t, w(d))).collect(),
            unseen: w(0),
        }
    }

    /// `ln((n + 1) / (df + 1)) + 1` for a term in `df` of `n` sampled
    /// documents: never zero, highest for unseen terms.
    pub fn weight(&self, t: Term) -> f64 {
        if self.weights.is_empty() {
            return 1.0;
        }
        self.weights.get(&t).copied().unwrap_or(self.unseen)
    }
}

/// The distinct terms of a whole document, for the idf sample.
pub fn document_terms(sentences: &[Sentence]) -> Vec<Term> {
    let mut t = content_terms(sentences);
    t.dedup();
    t
}

/// The terms of the non-boilerplate sentences, sorted, once per sentence
/// that holds them.
fn content_terms(sentences: &[Sentence]) -> Vec<Term> {
    let mut t: Vec<Term> = sentences
        .iter()
        .filter(|s| !s.boilerplate)
        .flat_map(|s| s.terms.iter().copied())
        .collect();
    t.sort_unstable();
    t
}

/// Similarity of two sentences' term sets: tf-idf cosine (binary term
/// frequencies) and Dice overlap.
///
/// ```
/// use wiretrace::reword::{Idf, similarity};
/// let idf = Idf::default();
/// let (cos, dice) = similarity(&[1, 2, 3, 4], &[2, 3, 4, 5], &idf);
/// assert!((cos - 0.75).abs() < 1e-9 && (dice - 0.75).abs() < 1e-9);
/// ```
pub fn similarity(a: &[Term], b: &[Term], idf: &Idf) -> (f64, f64) {
    if a.is_empty() || b.is_empty() {
        return (0.0, 0.0);
    }
    let (mut i, mut j, mut shared, mut dot) = (0, 0, 0usize, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                let w = idf.weight(a[i]);
                dot += w * w;
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let norm = |s: &[Term]| s.iter().map(|&t| idf.weight(t).powi(2)).sum::<f64>().sqrt();
    let cos = dot / (norm(a) * norm(b));
    let dice = 2.0 * shared as f64 / (a.len() + b.len()) as f64;
    (cos.min(1.0), dice)
}

/// A document prepared for pair alignment.
pub struct View<'a> {
    text: &'a str,
    sentences: Vec<Sentence>,
    norms: Vec<f64>,
    /// Whether each sentence takes part in matching (see `usable`).
    usable: Vec<bool>,
    /// The distinct terms of the non-boilerplate sentences, sorted (their
    /// ids alone, for the merge of two views' terms). Sentences too short
    /// to match are counted too: a passage's cosine counts their words.
    term_ids: Vec<Term>,
    /// Beside each of `term_ids`: its idf weight and the range of
    /// `sentences_of` listing the sentences that hold it (ascending).
    terms: Vec<(f64, u32, u32)>,
    /// Sentence indices, grouped by term.
    sentences_of: Vec<u32>,
    /// Bytes of the sentences that are not boilerplate.
    content_bytes: u64,
}

impl<'a> View<'a> {
    /// Prepares `text` (sentences analysed by [`analyze`]).
    pub fn new(text: &'a str, sentences: Vec<Sentence>, idf: &Idf, cfg: &RewordConfig) -> Self {
        let mut norms = Vec::with_capacity(sentences.len());
        let mut postings = Vec::new();
        for (i, s) in sentences.iter().enumerate() {
            norms.push(
                s.terms
                    .iter()
                    .map(|&t| idf.weight(t).powi(2))
                    .sum::<f64>()
                    .sqrt(),
            );
            if !s.boilerplate {
                // (term, sentence) packed so the sort compares integers.
                postings.extend(s.terms.iter().map(|&t| (u64::from(t) << 32) | i as u64));
            }
        }
        // Sentences were pushed in order, so a stable radix sort on the term
        // half (four passes, not a comparison sort) orders them fully.
        radsort::sort_by_key(&mut postings, |p| (p >> 32) as u32);
        let (mut term_ids, mut terms) = (Vec::new(), Vec::new());
        let mut sentences_of = Vec::with_capacity(postings.len());
        for run in postings.chunk_by(|x, y| x >> 32 == y >> 32) {
            let start = sentences_of.len() as u32;
            sentences_of.extend(run.iter().map(|&p| p as u32));
            let end = sentences_of.len() as u32;
            let t = (run[0] >> 32) as Term;
            term_ids.push(t);
            terms.push((idf.weight(t), start, end));
        }
        let content_bytes = sentences
            .iter()
            .filter(|s| !s.boilerplate)
            .map(|s| u64::from(s.bytes.1 - s.bytes.0))
            .sum();
        View {
            text,
            usable: sentences.iter().map(|s| usable(s, cfg)).collect(),
            sentences,
            norms,
            term_ids,
            terms,
            sentences_of,
            content_bytes,
        }
    }

    /// The sentences.
    pub fn sentences(&self) -> &[Sentence] {
        &self.sentences
    }

    /// `(term, count, idf weight)` of the non-boilerplate sentences in `r`
    /// (inclusive), sorted by term; `count` is how many of them hold it.
    fn span_terms(&self, r: (u32, u32)) -> Vec<(Term, f64, f64)> {
        let span = &self.sentences[r.0 as usize..=r.1 as usize];
        let words: usize = span
            .iter()
            .filter(|s| !s.boilerplate)
            .map(|s| s.terms.len())
            .sum();
        if words * 4 < self.term_ids.len() {
            // A few sentences: sort their terms.
            let t = content_terms(span);
            t.chunk_by(|x, y| x == y)
                .map(|run| {
                    let i = self
                        .term_ids
                        .binary_search(&run[0])
                        .expect("a non-boilerplate sentence's terms are listed");
                    (run[0], run.len() as f64, self.terms[i].0)
                })
                .collect()
        } else {
            // Most of the text: count each listed term's sentences in range
            // (ascending, so a list inside the range counts whole).
            let mut out = Vec::with_capacity(self.terms.len());
            for (&t, &(w, s, e)) in self.term_ids.iter().zip(&self.terms) {
                let list = &self.sentences_of[s as usize..e as usize];
                let n = if r.0 <= list[0] && list[list.len() - 1] <= r.1 {
                    list.len()
                } else {
                    list.iter().filter(|&&i| r.0 <= i && i <= r.1).count()
                };
                if n > 0 {
                    out.push((t, n as f64, w));
                }
            }
            out
        }
    }
}

fn usable(s: &Sentence, cfg: &RewordConfig) -> bool {
    !s.boilerplate && s.terms.len() >= cfg.min_terms
}

/// A candidate passage: sentence ranges (inclusive) on both sides, its
/// tf-idf cosine, shared distinct terms and the seeds inside.
struct Span {
    ai: (u32, u32),
    bj: (u32, u32),
    cos: f64,
    shared: u32,
    seeds: u32,
}

/// A matched sentence pair.
#[derive(Clone, Copy, Debug)]
struct Seed {
    i: u32,
    j: u32,
}

/// The reworded passages of a pair and how much of each side they cover.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PairResult {
    /// Passages in order of their start in A.
    pub passages: Vec<Passage>,
    /// Matched sentence pairs (seeds) inside the passages.
    pub seeds: u32,
    /// Share of A's non-boilerplate sentence bytes inside passages.
    pub cover_a: f64,
    /// Share of B's.
    pub cover_b: f64,
    /// Coverage weighted by passage cosine, of the better-covered side: the
    /// pair's reworded score in [0, 1].
    pub score: f64,
    /// Agreement on names and numbers over all passages (see
    /// [`RewordConfig::version_key_agreement`]).
    pub key_agreement: f64,
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        parent[x as usize] = parent[parent[x as usize] as usize];
        x = parent[x as usize];
    }
    x
}

/// tf-idf cosine of two spans of sentences (term frequencies summed) and
/// their shared distinct terms.
fn span_cosine(a: &View<'_>, ai: (u32, u32), b: &View<'_>, bj: (u32, u32)) -> (f64, u32) {
    let (ma, mb) = (a.span_terms(ai), b.span_terms(bj));
    let norm = |m: &[(Term, f64, f64)]| {
        m.iter()
            .map(|&(_, c, w)| (c * w).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let (mut dot, mut shared) = (0.0, 0u32);
    let (mut i, mut j) = (0, 0);
    while i < ma.len() && j < mb.len() {
        match ma[i].0.cmp(&mb[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += ma[i].1 * mb[j].1 * ma[i].2.powi(2);
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let d = norm(&ma) * norm(&mb);
    (if d > 0.0 { (dot / d).min(1.0) } else { 0.0 }, shared)
}

/// Agreement of two spans on names and numbers: for key terms, and for
/// numbers alone, the shared share of the smaller side (1 when a side has
/// none); the smaller of the two. Reworded copies keep who, where and how
/// many; filled-in templates (bond issues, daily market figures) share
/// their wording but not these.
fn key_agreement(a: &View<'_>, ai: &[(u32, u32)], b: &View<'_>, bj: &[(u32, u32)]) -> f64 {
    fn collect(v: &View<'_>, rs: &[(u32, u32)], pick: fn(&Sentence) -> &[Term]) -> Vec<Term> {
        let mut k: Vec<Term> = rs
            .iter()
            .flat_map(|r| &v.sentences[r.0 as usize..=r.1 as usize])
            .filter(|s| !s.boilerplate)
            .flat_map(|s| pick(s).iter().copied())
            .collect();
        k.sort_unstable();
        k.dedup();
        k
    }
    let share = |ka: Vec<Term>, kb: Vec<Term>| {
        let smaller = ka.len().min(kb.len());
        if smaller == 0 {
            return 1.0;
        }
        intersection_size(&ka, &kb) as f64 / smaller as f64
    };
    let keys = share(collect(a, ai, |s| &s.keys), collect(b, bj, |s| &s.keys));
    let numbers = share(
        collect(a, ai, |s| &s.numbers),
        collect(b, bj, |s| &s.numbers),
    );
    keys.min(numbers)
}

/// Aligns the reworded passages of two prepared documents.
pub fn align_pair(a: &View<'_>, b: &View<'_>, cfg: &RewordConfig) -> PairResult {
    // Seeds: sentence pairs sharing terms, found by merging the two sorted
    // term lists and accumulating into a dense |A| x |B| table.
    let (na, nb) = (a.sentences.len(), b.sentences.len());
    let mut dot = vec![0.0f64; na * nb];
    let mut shared = vec![0u16; na * nb];
    // The merge walks the bare term ids and moves on without a branch;
    // only shared terms branch.
    let (ia, ib) = (&a.term_ids, &b.term_ids);
    let (mut x, mut y) = (0, 0);
    while x < ia.len() && y < ib.len() {
        let (p, q) = (ia[x], ib[y]);
        if p == q {
            let (w, a0, a1) = a.terms[x];
            let w = w.powi(2);
            let (_, b0, b1) = b.terms[y];
            let bs = &b.sentences_of[b0 as usize..b1 as usize];
            for &i in &a.sentences_of[a0 as usize..a1 as usize] {
                let row = i as usize * nb;
                for &j in bs {
                    dot[row + j as usize] += w;
                    shared[row + j as usize] += 1;
                }
            }
        }
        x += usize::from(p <= q);
        y += usize::from(q <= p);
    }
    let mut seeds: Vec<Seed> = Vec::new();
    for i in 0..na {
        for j in 0..nb {
            let k = i * nb + j;
            if shared[k] < 2 || !(a.usable[i] && b.usable[j]) {
                continue;
            }
            let cos = dot[k] / (a.norms[i] * b.norms[j]);
            let dice = 2.0 * f64::from(shared[k])
                / (a.sentences[i].terms.len() + b.sentences[j].terms.len()) as f64;
            if cos >= cfg.min_cosine && dice >= cfg.min_dice {
                seeds.push(Seed {
                    i: i as u32,
                    j: j as u32,
                });
            }
        }
    }
    if seeds.is_empty() {
        return PairResult::default();
    }
    // Join seeds within max_gap sentences on both sides (seeds are in i order).
    let gap = cfg.max_gap as u32 + 1;
    let mut parent: Vec<u32> = (0..seeds.len() as u32).collect();
    for x in 0..seeds.len() {
        for y in x + 1..seeds.len() {
            if seeds[y].i - seeds[x].i > gap {
                break;
            }
            if seeds[y].j.abs_diff(seeds[x].j) <= gap {
                let (rx, ry) = (find(&mut parent, x as u32), find(&mut parent, y as u32));
                if rx != ry {
                    parent[rx.max(ry) as usize] = rx.min(ry);
                }
            }
        }
    }
    let mut rooted: Vec<(u32, Seed)> = (0..seeds.len())
        .map(|x| (find(&mut parent, x as u32), seeds[x]))
        .collect();
    rooted.sort_by_key(|r| r.0);
    let groups: Vec<(u32, Vec<Seed>)> = rooted
        .chunk_by(|x, y| x.0 == y.0)
        .map(|g| (g[0].0, g.iter().map(|r| r.1).collect()))
        .collect();

    let mut spans: Vec<Span> = Vec::new();
    let consider = |group: &[Seed], spans: &mut Vec<_>| {
        let ai = (
            group.iter().map(|s| s.i).min().expect("non-empty"),
            group.iter().map(|s| s.i).max().expect("non-empty"),
        );
        let bj = (
            group.iter().map(|s| s.j).min().expect("non-empty"),
            group.iter().map(|s| s.j).max().expect("non-empty"),
        );
        let (cos, shared) = span_cosine(a, ai, b, bj);
        (cos >= cfg.min_passage_cosine
            && key_agreement(a, &[ai], b, &[bj]) >= cfg.min_key_agreement)
            .then(|| {
                spans.push(Span {
                    ai,
                    bj,
                    cos,
                    shared,
                    seeds: group.len() as u32,
                })
            })
    };
    for (_, group) in &groups {
        if consider(group, &mut spans).is_none() && group.len() > 1 {
            // The gaps diluted it: fall back to the seeds one by one.
            for s in group {
                consider(std::slice::from_ref(s), &mut spans);
            }
        }
    }
    let byte_span = |v: &View<'_>, r: (u32, u32)| {
        (
            v.sentences[r.0 as usize].bytes.0,
            v.sentences[r.1 as usize].bytes.1,
        )
    };
    let chars = |v: &View<'_>, r: (u32, u32)| v.text[r.0 as usize..r.1 as usize].chars().count();
    spans.retain(|s| {
        chars(a, byte_span(a, s.ai)) >= cfg.min_chars
            && chars(b, byte_span(b, s.bj)) >= cfg.min_chars
    });
    // Overlaps: keep the best-scoring passage (cosine x length).
    let score = |s: &Span| s.cos * f64::from(s.ai.1 - s.ai.0 + s.bj.1 - s.bj.0 + 2);
    spans.sort_by(|x, y| {
        score(y)
            .total_cmp(&score(x))
            .then(x.ai.cmp(&y.ai))
            .then(x.bj.cmp(&y.bj))
    });
    let mut kept: Vec<Span> = Vec::new();
    for s in spans {
        let clash = kept.iter().any(|k| {
            (s.ai.0 <= k.ai.1 && k.ai.0 <= s.ai.1) || (s.bj.0 <= k.bj.1 && k.bj.0 <= s.bj.1)
        });
        if !clash {
            kept.push(s);
        }
    }
    kept.sort_unstable_by_key(|s| s.ai);

    let mut result = PairResult::default();
    let (mut cov_a, mut cov_b, mut wa, mut wb) = (0u64, 0u64, 0.0, 0.0);
    let ranges_a: Vec<(u32, u32)> = kept.iter().map(|s| s.ai).collect();
    let ranges_b: Vec<(u32, u32)> = kept.iter().map(|s| s.bj).collect();
    for Span {
        ai,
        bj,
        cos,
        shared: shared_terms,
        seeds: n,
    } in kept
    {
        let (ab, bb) = (byte_span(a, ai), byte_span(b, bj));
        let (la, lb) = (u64::from(ab.1 - ab.0), u64::from(bb.1 - bb.0));
        cov_a += la;
        cov_b += lb;
        wa += la as f64 * cos;
        wb += lb as f64 * cos;
        result.seeds += n;
        result.passages.push(Passage {
            a_first: a.sentences[ai.0 as usize].tokens.0,
            a_last: a.sentences[ai.1 as usize].tokens.1,
            b_first: b.sentences[bj.0 as usize].tokens.0,
            b_last: b.sentences[bj.1 as usize].tokens.1,
            a_chars: ab,
            b_chars: bb,
            a_bytes: ab,
            b_bytes: bb,
            matched: shared_terms,
            similarity: cos,
            kind: PassageKind::Reworded,
        });
    }
    let share = |c: f64, total: u64| {
        if total == 0 {
            0.0
        } else {
            (c / total as f64).min(1.0)
        }
    };
    result.cover_a = share(cov_a as f64, a.content_bytes);
    result.cover_b = share(cov_b as f64, b.content_bytes);
    result.score = share(wa, a.content_bytes).max(share(wb, b.content_bytes));
    result.key_agreement = key_agreement(a, &ranges_a, b, &ranges_b);
    {
        let mut ends: Vec<&mut u32> = result
            .passages
            .iter_mut()
            .flat_map(|p| [&mut p.a_chars.0, &mut p.a_chars.1])
            .collect();
        to_chars(a.text, &mut ends);
    }
    let mut ends: Vec<&mut u32> = result
        .passages
        .iter_mut()
        .flat_map(|p| [&mut p.b_chars.0, &mut p.b_chars.1])
        .collect();
    to_chars(b.text, &mut ends);
    result
}

/// Two texts on their own (no corpus, no boilerplate table): analysed,
/// weighed by word frequencies in the two texts alone, and aligned.
pub fn align_texts(a: &str, b: &str, cfg: &RewordConfig) -> PairResult {
    let (ta, tb) = with_cache(|cache| (analyze(a, cache, None), analyze(b, cache, None)));
    let idf = Idf::from_term_sets([
        document_terms(&ta).as_slice(),
        document_terms(&tb).as_slice(),
    ]);
    align_pair(
        &View::new(a, ta, &idf, cfg),
        &View::new(b, tb, &idf, cfg),
        cfg,
    )
}

/// The relation a pair gets from its reworded passages alone: `reworded`
/// when they cover at least `containment` of one side with at least two
/// matched sentences and agree on names and numbers (at least
/// `version_key_agreement`), else `partial`; `None` without passages.
pub fn relation(r: &PairResult, cfg: &RewordConfig) -> Option<Relation> {
    if r.passages.is_empty() {
        None
    } else if r.seeds >= 2
        && r.cover_a.max(r.cover_b) >= cfg.containment
        && r.key_agreement >= cfg.version_key_agreement
    {
        Some(Relation::Reworded)
    } else {
        Some(Relation::Partial)
    }
}

/// Adds reworded passages to a pair's word-aligned ones. A reworded passage
/// that overlaps a verbatim passage is dropped (the word alignment is the
/// exact account); one that overlaps only `edited` passages replaces them
/// when it spans more of A than they do together (a mostly reworded text
/// reads as one reworded passage, not as scattered edits), else it is
/// dropped. Sorted by start in A.
pub fn merge_passages(mut aligned: Vec<Passage>, reworded: &[Passage]) -> Vec<Passage> {
    let overlaps = |x: (u32, u32), y: (u32, u32)| x.0 < y.1 && y.0 < x.1;
    let clash =
        |p: &Passage, r: &Passage| overlaps(p.a_bytes, r.a_bytes) || overlaps(p.b_bytes, r.b_bytes);
    for r in reworded {
        let hit: Vec<usize> = (0..aligned.len())
            .filter(|&i| clash(&aligned[i], r))
            .collect();
        if hit.is_empty() {
            aligned.push(r.clone());
            continue;
        }
        let verbatim = hit.iter().any(|&i| aligned[i].is_verbatim());
        let span: u32 = hit
            .iter()
            .map(|&i| aligned[i].a_bytes.1 - aligned[i].a_bytes.0)
            .sum();
        if !verbatim && r.a_bytes.1 - r.a_bytes.0 > span {
            // `hit` is ascending: remove from the back so indices stay valid.
            for &i in hit.iter().rev() {
                aligned.remove(i);
            }
            aligned.push(r.clone());
        }
    }
    aligned.sort_by_key(|p| (p.a_chars.0, p.b_chars.0));
    aligned
}

/// A pair with reworded passages; `a < b`.
#[derive(Clone, Debug)]
pub struct RewordedPair {
    /// Smaller id.
    pub a: DocId,
    /// Larger id.
    pub b: DocId,
    /// What alignment found.
    pub result: PairResult,
}

/// What the view did over a corpus, for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ViewStats {
    /// Sentences with enough content words to take part (in documents that
    /// are in no story of the shingle view, and in those stories' origins).
    pub sentences: u64,
    /// Distinct (document, band key) entries.
    pub band_keys: u64,
    /// Sentence buckets over the cap, not expanded.
    pub capped_buckets: u64,
    /// Candidate pairs from sentence buckets (each story of the shingle view
    /// standing in as its origin).
    pub candidates: u64,
    /// Pairs aligned sentence by sentence: the candidates, then each
    /// reworded version of an origin with the story's other members.
    pub aligned_pairs: u64,
    /// Pairs with at least one reworded passage.
    pub pairs_with_passages: u64,
    /// The documents it analysed, by the language it read them in
    /// ([`detect_language`]): ISO 639-1 code to count.
    pub languages: BTreeMap<String, u64>,
}

/// Where a document already sits after the shingle view: the origin of its
/// story, if it is in one.
pub type Placement = Option<DocId>;

/// What the view found in its first two phases (see [`find_pairs`]).
pub struct Found {
    /// Pairs with passages, in no particular order.
    pairs: Vec<RewordedPair>,
    /// Term weights, from a sample of the analysed documents.
    idf: Idf,
    stats: ViewStats,
}

/// A story origin of the shingle view and its reworded versions, ascending.
pub type Versions = (DocId, Vec<DocId>);

/// Runs the view's first two phases over a corpus: band keys, candidates
/// (each story of the shingle view stands in as its origin), sentence
/// alignment of the candidates. A verified `partial` pair is aligned here
/// when its sentences share keys like any other pair. `boiler(d)` is
/// document `d`'s boilerplate as its shingle set saw it.
///
/// `texts` needs only the documents [`analysed_docs`] marks (those that
/// are not copies in a story): the others' entries are not read. The third phase
/// ([`Found::align_versions`]) reads the members of the stories that
/// [`Found::versions`] names.
pub fn find_pairs<'b>(
    texts: &[&str],
    boiler: &(dyn Fn(usize) -> BoilerContext<'b> + Sync),
    place: &[Placement],
    cfg: &RewordConfig,
    obs: &dyn Observer,
) -> Found {
    let stride = texts.len().div_ceil(cfg.idf_sample).max(1);
    // Each analysis is kept until the candidates are known: the documents
    // they involve are aligned from it instead of being analysed again.
    obs.step("articles analysed", Some(texts.len() as u64));
    let mut analysed: Vec<Analysed> = Vec::with_capacity(texts.len());
    let chunk = crate::scan::progress_chunk(texts.len());
    for (c, part) in texts.chunks(chunk).enumerate() {
        analysed.par_extend(part.par_iter().enumerate().map(|(i, text)| {
            let d = c * chunk + i;
            // A story of the shingle view takes part through its origin
            // alone: its copies' sentences would only lead to the origin.
            if !analysed_doc(place, d) {
                return Analysed::default();
            }
            let (sentences, language) = with_cache(|cache| {
                let sentences = analyze(text, cache, Some(boiler(d)));
                (sentences, cache.language)
            });
            let usable = sentences.iter().filter(|s| usable(s, cfg)).count() as u64;
            let sample = d.is_multiple_of(stride).then(|| document_terms(&sentences));
            Analysed {
                language: Some(language),
                keys: sentence_keys(&sentences, cfg),
                sample,
                usable,
                sentences,
            }
        }));
        obs.advance(part.len() as u64, 0);
    }
    obs.step("pairing articles that share sentence keys", None);
    let mut stats = ViewStats {
        sentences: analysed.iter().map(|a| a.usable).sum(),
        ..ViewStats::default()
    };
    for language in analysed.iter().filter_map(|a| a.language) {
        *stats
            .languages
            .entry(language.code().to_string())
            .or_default() += 1;
    }
    let idf = Idf::from_term_sets(analysed.iter().filter_map(|a| a.sample.as_deref()));
    let (keys, kept): (Vec<Vec<u32>>, Vec<Vec<Sentence>>) =
        analysed.into_iter().map(|a| (a.keys, a.sentences)).unzip();
    let (pairs, cstats) = candidate_pairs(&keys, place, cfg.bucket_cap, cfg.min_hits);
    drop(keys);
    stats.band_keys = cstats.keys;
    stats.capped_buckets = cstats.capped_buckets;
    stats.candidates = pairs.len() as u64;
    stats.aligned_pairs = pairs.len() as u64;

    let mut involved = vec![false; texts.len()];
    for &(a, b) in &pairs {
        involved[a.index()] = true;
        involved[b.index()] = true;
    }
    // The analyses of documents no candidate involves are dropped here.
    let views: Vec<Option<View<'_>>> = kept
        .into_par_iter()
        .zip(involved.par_iter())
        .enumerate()
        .map(|(d, (sentences, &inv))| inv.then(|| View::new(texts[d], sentences, &idf, cfg)))
        .collect();
    obs.step("pairs aligned", Some(pairs.len() as u64));
    let mut found: Vec<RewordedPair> = Vec::new();
    for part in pairs.chunks(crate::scan::progress_chunk(pairs.len())) {
        found.par_extend(part.par_iter().filter_map(|&(a, b)| {
            let (va, vb) = (views[a.index()].as_ref()?, views[b.index()].as_ref()?);
            let result = align_pair(va, vb, cfg);
            (!result.passages.is_empty()).then_some(RewordedPair { a, b, result })
        }));
        obs.advance(part.len() as u64, 0);
    }
    drop(views);
    Found {
        pairs: found,
        idf,
        stats,
    }
}

/// Whether [`find_pairs`] analyses document `d`: it is in no story of the
/// shingle view, or it is its story's origin (a copy takes part through
/// its origin alone).
fn analysed_doc(place: &[Placement], d: usize) -> bool {
    place[d].is_none_or(|o| o.index() == d)
}

/// The documents [`find_pairs`] reads (see `analysed_doc`).
pub fn analysed_docs(place: &[Placement]) -> Vec<bool> {
    (0..place.len()).map(|d| analysed_doc(place, d)).collect()
}

/// The documents [`Found::align_versions`] reads for these stories: each
/// reworded version and every member of its story.
pub fn version_docs(place: &[Placement], stories: &[Versions]) -> Vec<bool> {
    let mut origin = vec![false; place.len()];
    for (o, _) in stories {
        origin[o.index()] = true;
    }
    // A member's placement is its origin (an origin's is itself).
    let mut marked: Vec<bool> = place
        .iter()
        .map(|p| p.is_some_and(|o| origin[o.index()]))
        .collect();
    for u in stories.iter().flat_map(|(_, us)| us) {
        marked[u.index()] = true;
    }
    marked
}

impl Found {
    /// The story origins of the shingle view with a reworded version among
    /// the pairs found, by origin: a document that is a reworded version of
    /// an origin is related to the story's other members too (see
    /// [`Found::align_versions`]).
    pub fn versions(&self, place: &[Placement], cfg: &RewordConfig) -> Vec<Versions> {
        let mut versions: BTreeMap<DocId, Vec<DocId>> = BTreeMap::new();
        for rp in &self.pairs {
            if relation(&rp.result, cfg) != Some(Relation::Reworded) {
                continue;
            }
            for (u, o) in [(rp.a, rp.b), (rp.b, rp.a)] {
                if place[u.index()].is_none() && place[o.index()] == Some(o) {
                    versions.entry(o).or_default().push(u);
                }
            }
        }
        versions
            .into_iter()
            .map(|(o, mut us)| {
                us.sort_unstable();
                us.dedup();
                (o, us)
            })
            .collect()
    }

    /// The third phase: aligns each reworded version with the other members
    /// of its story, so pairs.csv relates it to every copy, as the shingle
    /// view relates verbatim copies. `texts` needs the versions and every
    /// member of their stories.
    pub fn align_versions<'b>(
        &mut self,
        texts: &[&str],
        boiler: &(dyn Fn(usize) -> BoilerContext<'b> + Sync),
        place: &[Placement],
        stories: &[Versions],
        cfg: &RewordConfig,
        obs: &dyn Observer,
    ) {
        let mut members: AHashMap<DocId, Vec<DocId>> = AHashMap::new();
        for (d, p) in place.iter().enumerate() {
            if let Some(o) = p {
                members.entry(*o).or_default().push(DocId(d as u32));
            }
        }
        self.stats.aligned_pairs += stories
            .iter()
            .map(|(o, us)| (us.len() * members.get(o).map_or(0, |m| m.len() - 1)) as u64)
            .sum::<u64>();
        let idf = &self.idf;
        obs.step("stories with reworded versions", Some(stories.len() as u64));
        // Stories vary in size: small chunks keep both threads busy.
        for part in stories.chunks((stories.len() / 64).max(64)) {
            self.pairs
                .par_extend(part.par_iter().flat_map_iter(|(o, us)| {
                    // The members are copies of one text: most of their sentences are
                    // analysed once per story.
                    let mut memo = SentenceMemo::default();
                    let mut view = |d: DocId| {
                        let sentences = with_cache(|cache| {
                            analyze_memo(
                                texts[d.index()],
                                cache,
                                Some(boiler(d.index())),
                                &mut memo,
                            )
                        });
                        View::new(texts[d.index()], sentences, idf, cfg)
                    };
                    let uviews: Vec<(DocId, View<'_>)> = us.iter().map(|&u| (u, view(u))).collect();
                    let mut out = Vec::new();
                    for &m in members.get(o).into_iter().flatten().filter(|&&m| m != *o) {
                        let vm = view(m);
                        for (u, vu) in &uviews {
                            let (a, b) = ((*u).min(m), (*u).max(m));
                            let result = if *u < m {
                                align_pair(vu, &vm, cfg)
                            } else {
                                align_pair(&vm, vu, cfg)
                            };
                            if !result.passages.is_empty() {
                                out.push(RewordedPair { a, b, result });
                            }
                        }
                    }
                    out
                }));
            obs.advance(part.len() as u64, 0);
        }
    }

    /// The pairs with passages, by `(a, b)`, and what the view did.
    pub fn finish(mut self) -> (Vec<RewordedPair>, ViewStats) {
        self.pairs.sort_by_key(|rp| (rp.a, rp.b));
        self.pairs.dedup_by_key(|rp| (rp.a, rp.b));
        self.stats.pairs_with_passages = self.pairs.len() as u64;
        (self.pairs, self.stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUTIN_A: &str = "Russian President Vladimir Putin wants NATO to withdraw its troops and military equipment from countries that border Russia, which include Ukraine but also NATO allies like Estonia, Latvia and Lithuania.";
    const PUTIN_B: &str = "Mr Putin has indicated that he also wants NATO to withdraw its troops and military equipment from all countries bordering Russia, including Ukraine and current NATO allies such as Estonia, Latvia and Lithuania.";

    fn terms(s: &str) -> Vec<Term> {
        let mut cache = TermCache::default();
        analyze(s, &mut cache, None)
            .into_iter()
            .flat_map(|s| s.terms)
            .collect()
    }

    #[test]
    fn an_article_under_english_navigation_is_read_in_its_language() {
        let menu = "Skip to the main content of this page and read more about the news \
            in your area, or sign in to your account with us to get all of the latest \
            updates in your inbox and share what you think with the rest of them. "
            .repeat(2);
        let fixture = include_str!("../fixtures/multilingual/corpus.jsonl");
        let first: serde_json::Value =
            serde_json::from_str(fixture.lines().next().expect("a line")).expect("JSON");
        let article = first["text"].as_str().expect("a text").to_string();
        let read = |text: &str| {
            let mut toks = Vec::new();
            shingle::tokenize(text, &mut toks);
            detect_language(text, &toks).code()
        };
        assert_eq!(read(&article), "fr");
        assert_eq!(read(&menu), "en");
        // Two lines of English navigation over a French article of about
        // 250 words: the first 100 words are mostly English, those spread
        // over the page French.
        assert_eq!(read(&(menu + &article)), "fr");
        // A script without case votes too.
        let arabic = "قال الرئيس إن القوات التي في المنطقة لن تنسحب من الحدود مع الدولة \
            على أن يكون هذا القرار هو الذي يحدد ما هي الخطوة التالية عن قريب";
        assert_eq!(read(arabic), "ar");
    }

    #[test]
    fn stemming_and_stopwords_make_reworded_sentences_close() {
        let (a, b) = (terms(PUTIN_A), terms(PUTIN_B));
        let (cos, dice) = similarity(&a, &b, &Idf::default());
        assert!(cos > 0.75 && dice > 0.75, "cos {cos} dice {dice}");
    }

    #[test]
    fn a_reworded_sentence_among_other_text_is_one_passage_with_exact_offsets() {
        let a = format!(
            "Officials met on Monday in Brussels for talks.\n\n{PUTIN_A}\n\nThe weather was cold and grey all week long."
        );
        let b =
            format!("{PUTIN_B} Analysts expect the market for copper to rise sharply next year.");
        let r = align_texts(&a, &b, &RewordConfig::default());
        assert_eq!(r.passages.len(), 1, "{r:?}");
        let p = &r.passages[0];
        assert_eq!(p.kind, PassageKind::Reworded);
        let pa: String = a
            .chars()
            .skip(p.a_chars.0 as usize)
            .take((p.a_chars.1 - p.a_chars.0) as usize)
            .collect();
        let pb = &b[p.b_bytes.0 as usize..p.b_bytes.1 as usize];
        assert_eq!(pa, PUTIN_A);
        assert_eq!(pb, PUTIN_B);
        assert!(r.score > 0.2 && r.score < 1.0);
    }

    #[test]
    fn each_phase_reads_the_documents_it_names() {
        // Stories {0, 1} (origin 0) and {3, 4} (origin 3); 2 rewords 0.
        let place = [
            Some(DocId(0)),
            Some(DocId(0)),
            None,
            Some(DocId(3)),
            Some(DocId(3)),
            None,
        ];
        let marked = version_docs(&place, &[(DocId(0), vec![DocId(2)])]);
        assert_eq!(marked, [true, true, true, false, false, false]);
        assert_eq!(version_docs(&place, &[]), [false; 6]);
        // The first phase reads the origins and the documents in no story.
        assert_eq!(
            analysed_docs(&place),
            [true, false, true, true, false, true]
        );
    }

    #[test]
    fn the_sentence_memo_changes_no_analysis() {
        // Copies of one text with a sentence edited, a number changed and
        // a sentence added: shared sentences come from the memo.
        let origin = format!(
            "{PUTIN_A} Talks in Geneva on Monday ended without a deal. The U.S. sent 3,000 troops.\n\n{PUTIN_B}"
        );
        let copies = [
            origin.clone(),
            origin.replace("3,000", "3,500"),
            origin.replace("Monday", "Tuesday"),
            format!("{origin} Mr. Biden said so. Analysts expect more talks."),
            "Leave a Reply. Post a Comment.".to_string(),
        ];
        let mut cache = TermCache::default();
        let mut memo = SentenceMemo::default();
        for text in copies.iter().chain(copies.iter()) {
            let plain = analyze(text, &mut cache, None);
            assert_eq!(analyze_memo(text, &mut cache, None, &mut memo), plain);
        }
        assert!(
            memo.map.len()
                < copies
                    .iter()
                    .map(|t| analyze(t, &mut cache, None).len())
                    .sum()
        );
    }

    #[test]
    fn same_topic_different_sentences_do_not_match() {
        let a = "Russia has massed about 100,000 troops near the border with Ukraine, raising fears of an invasion.";
        let b = "NATO foreign ministers will meet in Brussels next week to discuss the alliance's response to Russia.";
        let r = align_texts(
            a,
            b,
            &RewordConfig {
                min_chars: 10,
                ..RewordConfig::default()
            },
        );
        assert!(r.passages.is_empty(), "{r:?}");
    }

    #[test]
    fn band_keys_agree_for_equal_sets_and_mostly_differ_for_disjoint_ones() {
        let (mut x, mut y, mut z) = (Vec::new(), Vec::new(), Vec::new());
        band_keys(&[5, 9, 13, 77, 90], 8, 2, &mut x);
        band_keys(&[5, 9, 13, 77, 90], 8, 2, &mut y);
        band_keys(&[6, 10, 14, 78, 91], 8, 2, &mut z);
        assert_eq!(x, y);
        assert!(x.iter().zip(&z).all(|(p, q)| p != q));
    }

    #[test]
    fn candidate_pairs_come_from_shared_keys_and_respect_the_cap() {
        let keys = vec![vec![1, 2], vec![2, 3], vec![3], vec![9], vec![9], vec![9]];
        let (pairs, stats) = candidate_pairs(&keys, &[None; 6], 2, 1);
        assert_eq!(pairs, [(DocId(0), DocId(1)), (DocId(1), DocId(2))]);
        assert_eq!(stats.capped_buckets, 1);
        // Two hits needed: only 0 and 1 share two keys. A story's copies
        // count as its origin: 3 stands in for 4, and 5 shares 7 and 8
        // with the story (one key through each member).
        let keys = vec![
            vec![1, 2],
            vec![1, 2, 3],
            vec![3],
            vec![7],
            vec![8],
            vec![7, 8],
        ];
        let (pairs, _) = candidate_pairs(&keys, &[None; 6], 20, 2);
        assert_eq!(pairs, [(DocId(0), DocId(1))]);
        let place = [None, None, None, Some(DocId(3)), Some(DocId(3)), None];
        let (pairs, _) = candidate_pairs(&keys, &place, 20, 2);
        assert_eq!(pairs, [(DocId(0), DocId(1)), (DocId(3), DocId(5))]);
    }

    #[test]
    fn span_terms_count_each_terms_sentences_in_the_span() {
        // Repeated words across sentences, a short sentence and a
        // boilerplate one: every span against the definition (terms of the
        // span's non-boilerplate sentences, sorted, counted), both for the
        // few-sentence path and the whole-text one.
        let furniture = "Leave a Reply to this story and tell us what you think of the news today.";
        let text = format!(
            "{PUTIN_A} Putin met NATO envoys in Geneva on Monday. Talks ended. {furniture} \
             {PUTIN_B} The envoys said NATO troops would stay in Estonia and Latvia."
        );
        let table = furniture_table(furniture);
        let ctx = BoilerContext {
            table: &table,
            outlet: None,
            global: true,
            k: 5,
        };
        let sentences = analyze(&text, &mut TermCache::default(), Some(ctx));
        assert!(sentences.iter().any(|s| s.boilerplate));
        let idf = Idf::from_term_sets([document_terms(&sentences).as_slice(), &[3, 4]]);
        let view = View::new(&text, sentences.clone(), &idf, &RewordConfig::default());
        let n = sentences.len() as u32;
        for lo in 0..n {
            for hi in lo..n {
                let mut t: Vec<Term> = sentences[lo as usize..=hi as usize]
                    .iter()
                    .filter(|s| !s.boilerplate)
                    .flat_map(|s| s.terms.iter().copied())
                    .collect();
                t.sort_unstable();
                let want: Vec<(Term, f64, f64)> = t
                    .chunk_by(|x, y| x == y)
                    .map(|run| (run[0], run.len() as f64, idf.weight(run[0])))
                    .collect();
                assert_eq!(view.span_terms((lo, hi)), want, "span {lo}..={hi}");
            }
        }
    }

    /// A boilerplate table holding every 5-shingle of `text` as global
    /// furniture.
    fn furniture_table(text: &str) -> Boilerplate {
        let mut toks = Vec::new();
        shingle::tokenize(text, &mut toks);
        let mut set: Vec<u32> = toks.windows(5).map(shingle::shingle_hash).collect();
        set.sort_unstable();
        set.dedup();
        Boilerplate::new(set, Vec::new())
    }

    #[test]
    fn boilerplate_sentences_are_flagged() {
        let text = "Leave a Reply to this story and tell us what you think of the news today.";
        let table = furniture_table(text);
        let mut cache = TermCache::default();
        let ctx = BoilerContext {
            table: &table,
            outlet: None,
            global: true,
            k: 5,
        };
        let s = analyze(text, &mut cache, Some(ctx));
        assert!(s[0].boilerplate);
        // A document whose global boilerplate was kept (a text rerun so
        // widely that it is global) keeps its sentences too.
        let s = analyze(
            text,
            &mut cache,
            Some(BoilerContext {
                global: false,
                ..ctx
            }),
        );
        assert!(!s[0].boilerplate);
        let s = analyze(text, &mut cache, Some(ctx));
        assert!(s[0].boilerplate);
    }
}
