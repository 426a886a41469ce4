//! An English-like language with no download: real English function and
//! common words at the head of a Zipf distribution, syllable-built words in
//! the long tail, capitalised names, sentences of news length with quotes.

use rand::{Rng, RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// The most frequent English words, roughly in frequency order.
const HEAD: &str = "the of and to a in that is for on it with as was he said by at from his be an have has are not but this had they were or its who which been their will after more one would about new also two than up people other year when there over last out into first all some only government can she her could state percent we president them three police what told no years over week while million before him most officials may against since where because just no any time officials under so between former during city many such including day us our country now then national being both around group officials several back told if us you told still those how another public made says four did them plan through even report second party law make next five court house company team well work world months support local system family billion called added long should health found high much help take own political news early recent school each very war part part public according children home money end official military late left area security never does best program white same told way market children number head water says did these general season month director major least times former economic right case past leaders members week lot chief deal six get took set major statement less per country led show economy came foreign";

const ONSETS: [&str; 24] = [
    "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "ch",
    "st", "tr", "pl", "gr", "sh", "th",
];
const NUCLEI: [&str; 10] = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "ee"];
const CODAS: [&str; 14] = [
    "", "", "", "n", "r", "s", "t", "l", "nd", "rt", "st", "ng", "ck", "m",
];

/// A vocabulary with Zipf-distributed word frequencies.
pub struct Language {
    words: Vec<String>,
    rank: ahash::AHashMap<String, usize>,
    cdf: Vec<f64>,
    names: Vec<String>,
    places: Vec<String>,
}

fn pseudo_word(rng: &mut impl Rng, syllables: usize) -> String {
    let mut w = String::new();
    for _ in 0..syllables {
        w.push_str(ONSETS[rng.random_range(0..ONSETS.len())]);
        w.push_str(NUCLEI[rng.random_range(0..NUCLEI.len())]);
    }
    w.push_str(CODAS[rng.random_range(0..CODAS.len())]);
    w
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl Language {
    /// Builds the language; the same seed gives the same language.
    pub fn new(vocab: usize, seed: u64) -> Self {
        let mut rng = Pcg64Mcg::seed_from_u64(seed ^ 0x6c61_6e67);
        let mut words: Vec<String> = Vec::with_capacity(vocab);
        let mut seen = ahash::AHashSet::new();
        for w in HEAD.split_whitespace() {
            if seen.insert(w.to_string()) {
                words.push(w.to_string());
            }
        }
        while words.len() < vocab {
            let syl = 1 + usize::from(rng.random_bool(0.6)) + usize::from(rng.random_bool(0.3));
            let w = pseudo_word(&mut rng, syl);
            if w.len() > 2 && seen.insert(w.clone()) {
                words.push(w);
            }
        }
        // Zipf with exponent 1.05.
        let mut cdf = Vec::with_capacity(words.len());
        let mut acc = 0.0;
        for r in 0..words.len() {
            acc += 1.0 / ((r + 1) as f64).powf(1.05);
            cdf.push(acc);
        }
        for c in cdf.iter_mut() {
            *c /= acc;
        }
        let names = (0..3000)
            .map(|_| capitalise(&pseudo_word(&mut rng, 2)))
            .collect();
        let places = (0..800)
            .map(|_| pseudo_word(&mut rng, 2).to_uppercase())
            .collect();
        let rank = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i))
            .collect();
        Language {
            words,
            rank,
            cdf,
            names,
            places,
        }
    }

    /// A word drawn from the Zipf distribution.
    pub fn word(&self, rng: &mut impl Rng) -> &str {
        let u: f64 = rng.random();
        let i = self
            .cdf
            .partition_point(|&c| c < u)
            .min(self.words.len() - 1);
        &self.words[i]
    }

    /// A word of about the same frequency as `w` but different: a stand-in
    /// for a synonym.
    pub fn substitute(&self, w: &str, rng: &mut impl Rng) -> String {
        let lower = w.to_lowercase();
        let rank = self.rank.get(&lower).copied().unwrap_or(500);
        let lo = rank.saturating_sub(50).max(150);
        let hi = (rank + 50).clamp(lo + 10, self.words.len());
        let mut s = self.words[rng.random_range(lo..hi)].clone();
        if s == lower {
            s = self.words[(rank + 1) % self.words.len()].clone();
        }
        if w.chars().next().is_some_and(char::is_uppercase) {
            s = capitalise(&s);
        }
        s
    }

    /// A person's name: first and last.
    pub fn person(&self, rng: &mut impl Rng) -> String {
        format!(
            "{} {}",
            self.names[rng.random_range(0..self.names.len())],
            self.names[rng.random_range(0..self.names.len())]
        )
    }

    /// A place name in dateline capitals.
    pub fn place(&self, rng: &mut impl Rng) -> &str {
        &self.places[rng.random_range(0..self.places.len())]
    }

    /// A capitalised entity name (organisation or place).
    pub fn entity(&self, rng: &mut impl Rng) -> String {
        capitalise(&self.names[rng.random_range(0..self.names.len())])
    }

    /// One sentence; `topic` words (the story's names) appear often. Some
    /// sentences are quotes with curly quotation marks.
    pub fn sentence(&self, rng: &mut impl Rng, topic: &[String]) -> String {
        let len = rng.random_range(8..=32);
        let mut words: Vec<String> = Vec::with_capacity(len);
        for _ in 0..len {
            if !topic.is_empty() && rng.random_bool(0.07) {
                words.push(topic[rng.random_range(0..topic.len())].clone());
            } else if rng.random_bool(0.02) {
                words.push(rng.random_range(2..2000).to_string());
            } else {
                words.push(self.word(rng).to_string());
            }
        }
        words[0] = capitalise(&words[0]);
        let comma = rng.random_range(3..len.max(5)).min(len - 2);
        let mut s = String::new();
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(w);
            if i == comma && rng.random_bool(0.5) {
                s.push(',');
            }
        }
        if !topic.is_empty() && rng.random_bool(0.15) {
            let who = &topic[rng.random_range(0..topic.len())];
            format!("“{s},” {who} said.")
        } else {
            s.push('.');
            s
        }
    }

    /// A paragraph of one to three sentences.
    pub fn paragraph(&self, rng: &mut impl Rng, topic: &[String]) -> String {
        let n = match rng.random_range(0..10) {
            0..=3 => 1,
            4..=8 => 2,
            _ => 3,
        };
        (0..n)
            .map(|_| self.sentence(rng, topic))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A headline: 6 to 12 words, title-cased where names appear.
    pub fn headline(&self, rng: &mut impl Rng, topic: &[String]) -> String {
        let n = rng.random_range(6..=12);
        let mut w: Vec<String> = (0..n).map(|_| self.word(rng).to_string()).collect();
        if let Some(t) = topic.first() {
            let at = rng.random_range(0..n);
            w[at] = t.clone();
        }
        w[0] = capitalise(&w[0]);
        w.join(" ")
    }
}
