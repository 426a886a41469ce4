//! `wiretrace synth`: a seeded, deterministic generator of a syndicated news
//! corpus with ground truth, streamed to disk in constant memory.
//!
//! Out: `NAME.jsonl` (one article per line: `id`, `outlet`, `date`,
//! `title`, `url`, `text`) and `NAME.truth.jsonl` beside it (one line per
//! article: its story, kind, the edits applied, and the character offsets of
//! every base-story paragraph it carries, so alignment can be scored).
//!
//! The model: wire stories (600-900 words, `CITY (AP) —` datelines) are
//! rerun by 2 to 50 outlets (heavy-tailed); each copy is edited the way
//! outlets edit (truncation to the first 40-100% of paragraphs, headline,
//! dateline and byline edits, inserted local paragraphs, per-outlet footers,
//! word substitutions, sentence drops, paragraph swaps, OCR-like character
//! noise for print outlets, or nothing at all); the agency's own copy is
//! present or not; follow-up stories reuse background paragraphs of an
//! earlier story; unrelated articles fill the rest. A bounded shuffle
//! buffer interleaves stories as a scraped dump would.

mod language;

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::{Rng, RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::Serialize;

use crate::error::{Error, Result};
pub use language::Language;

/// Every knob of the generator.
#[derive(Clone, Debug)]
pub struct SynthConfig {
    /// Articles to write.
    pub docs: usize,
    /// Seed; the same seed and settings give the same bytes.
    pub seed: u64,
    /// Number of outlets (heavy-tailed sizes).
    pub outlets: usize,
    /// Fewest outlets rerunning a wire story.
    pub min_copies: usize,
    /// Most outlets rerunning a wire story.
    pub max_copies: usize,
    /// Pareto shape of the number of copies (smaller: heavier tail).
    pub copies_alpha: f64,
    /// Share of new items that are unrelated single articles.
    pub unrelated: f64,
    /// Share of wire stories that are follow-ups reusing an earlier story's background.
    pub followups: f64,
    /// Probability that the agency's own copy is in the corpus.
    pub agency_copy: f64,
    /// Probability that a copy is verbatim (no edits but the outlet's footer).
    pub verbatim: f64,
    /// Probability that a copy is truncated.
    pub truncate: f64,
    /// Smallest share of paragraphs a truncated copy keeps.
    pub min_keep: f64,
    /// Probability that a copy gets 1-3 local paragraphs inserted.
    pub pad: f64,
    /// Probability that the headline is rewritten or edited.
    pub headline: f64,
    /// Probability that the dateline is changed or dropped.
    pub dateline: f64,
    /// Probability that the byline is changed or dropped.
    pub byline: f64,
    /// Probability that a copy has word substitutions.
    pub substitute: f64,
    /// Share of words substituted in such a copy.
    pub substitute_rate: f64,
    /// Probability that a copy is reworded sentence by sentence (a spun or
    /// machine-translated rerun: synonym swaps, reordered clauses, dropped
    /// modifiers).
    pub reword: f64,
    /// Share of content words swapped for synonyms in such a copy.
    pub reword_rate: f64,
    /// Probability that a copy drops one or two sentences.
    pub sentence_drop: f64,
    /// Probability that a copy swaps two adjacent paragraphs.
    pub paragraph_swap: f64,
    /// Share of outlets that are print (OCR-noised).
    pub ocr_outlets: f64,
    /// Per-character noise rate of print outlets.
    pub ocr_rate: f64,
    /// Share of outlets whose site template adds a generic comment box.
    pub template_outlets: f64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            docs: 1000,
            seed: 1,
            outlets: 300,
            min_copies: 2,
            max_copies: 50,
            copies_alpha: 1.2,
            unrelated: 0.3,
            followups: 0.15,
            agency_copy: 0.5,
            verbatim: 0.15,
            truncate: 0.5,
            min_keep: 0.4,
            pad: 0.3,
            headline: 0.6,
            dateline: 0.4,
            byline: 0.5,
            substitute: 0.3,
            substitute_rate: 0.01,
            reword: 0.05,
            reword_rate: 0.3,
            sentence_drop: 0.2,
            paragraph_swap: 0.1,
            ocr_outlets: 0.25,
            ocr_rate: 0.004,
            template_outlets: 0.3,
        }
    }
}

impl SynthConfig {
    /// Checks the values, naming the flag.
    pub fn validate(&self) -> Result<()> {
        let share = |v: f64, flag: &'static str| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::config(flag, "must be between 0 and 1"))
            }
        };
        if self.docs == 0 {
            return Err(Error::config("--docs", "must be at least 1"));
        }
        if self.outlets < 2 {
            return Err(Error::config("--outlets", "must be at least 2"));
        }
        if self.min_copies < 1 || self.max_copies < self.min_copies {
            return Err(Error::config(
                "--max-copies",
                "needs 1 <= --min-copies <= --max-copies",
            ));
        }
        if self.max_copies > self.outlets {
            return Err(Error::config("--max-copies", "cannot exceed --outlets"));
        }
        if self.copies_alpha <= 0.0 {
            return Err(Error::config("--copies-alpha", "must be positive"));
        }
        share(self.unrelated, "--unrelated")?;
        share(self.followups, "--followups")?;
        share(self.agency_copy, "--agency-copy")?;
        share(self.verbatim, "--verbatim")?;
        share(self.truncate, "--truncate")?;
        share(self.min_keep, "--min-keep")?;
        share(self.pad, "--pad")?;
        share(self.headline, "--headline")?;
        share(self.dateline, "--dateline")?;
        share(self.byline, "--byline")?;
        share(self.substitute, "--substitute")?;
        share(self.substitute_rate, "--substitute-rate")?;
        share(self.reword, "--reword")?;
        share(self.reword_rate, "--reword-rate")?;
        share(self.sentence_drop, "--sentence-drop")?;
        share(self.paragraph_swap, "--paragraph-swap")?;
        share(self.ocr_outlets, "--ocr-outlets")?;
        share(self.ocr_rate, "--ocr-rate")?;
        share(self.template_outlets, "--template-outlets")
    }
}

/// One article of the corpus.
#[derive(Serialize)]
struct Article<'a> {
    id: &'a str,
    outlet: &'a str,
    date: &'a str,
    title: &'a str,
    url: &'a str,
    text: &'a str,
}

/// Where a base-story paragraph sits in an article (character offsets).
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Segment {
    /// The story whose base text the paragraph comes from.
    pub story: String,
    /// Paragraph index in that story's base text.
    pub para: u32,
    /// First character (Unicode scalar value) of the paragraph in the article.
    pub start: u64,
    /// One past the last character.
    pub end: u64,
}

/// The truth about one article.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct Truth {
    /// Article id.
    pub id: String,
    /// The story it carries (its own story for unrelated articles).
    pub story: String,
    /// `agency`, `rerun` or `unrelated`.
    pub kind: String,
    /// For follow-up stories: the earlier story whose background it reuses.
    pub followup_of: Option<String>,
    /// Edits applied to this copy.
    pub edits: Vec<String>,
    /// Base-story paragraphs present, in article order.
    pub segments: Vec<Segment>,
}

/// What a run wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SynthStats {
    /// Articles written.
    pub docs: u64,
    /// Wire stories with at least one copy.
    pub stories: u64,
    /// Follow-up stories among them.
    pub followups: u64,
    /// Unrelated articles.
    pub unrelated: u64,
    /// Bytes of the corpus file.
    pub bytes: u64,
}

/// The truth file that goes with a corpus file: `x.jsonl` → `x.truth.jsonl`.
pub fn truth_path(corpus: &Path) -> PathBuf {
    let name = corpus
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".jsonl").unwrap_or(&name);
    corpus.with_file_name(format!("{stem}.truth.jsonl"))
}

struct Outlet {
    name: String,
    domain: String,
    footer: Vec<String>,
    print: bool,
}

struct BaseStory {
    id: String,
    agency: usize,
    place: String,
    author: String,
    headline: String,
    topic: Vec<String>,
    /// Paragraphs of sentences, with the story and paragraph index they come from.
    paras: Vec<(Vec<String>, String, u32)>,
    followup_of: Option<String>,
    t0: i64,
}

const AGENCIES: [(&str, &str, &str); 3] = [
    ("Associated Press", "AP", "apnews.example"),
    ("Reuters", "Reuters", "reuters.example"),
    ("Agence France-Presse", "AFP", "afp.example"),
];

/// A piece of article text: a prefix that belongs to no story (a dateline)
/// and a text that may be a base-story paragraph.
struct Piece {
    prefix: String,
    text: String,
    seg: Option<(String, u32)>,
}

impl Piece {
    fn plain(text: String) -> Self {
        Piece {
            prefix: String::new(),
            text,
            seg: None,
        }
    }
}

struct Pending {
    story: String,
    kind: &'static str,
    followup_of: Option<String>,
    edits: Vec<String>,
    outlet: String,
    domain: String,
    date: i64,
    title: String,
    pieces: Vec<Piece>,
}

/// The generator. Call [`Generator::run`].
pub struct Generator {
    cfg: SynthConfig,
    rng: Pcg64Mcg,
    lang: Language,
    outlets: Vec<Outlet>,
    outlet_cdf: Vec<f64>,
    recent: std::collections::VecDeque<BaseStory>,
    next_story: u64,
}

impl Generator {
    /// A generator for these settings.
    pub fn new(cfg: SynthConfig) -> Result<Self> {
        cfg.validate()?;
        let mut rng = Pcg64Mcg::seed_from_u64(cfg.seed);
        let lang = Language::new(40_000, 7);
        let nouns = [
            "Gazette",
            "Herald",
            "Tribune",
            "Courier",
            "Times",
            "Post",
            "Journal",
            "Record",
            "Observer",
            "Sentinel",
            "Daily",
            "Register",
            "Ledger",
            "Chronicle",
            "Bulletin",
        ];
        let mut outlets = Vec::with_capacity(cfg.outlets);
        for i in 0..cfg.outlets {
            let place = {
                let p = lang.place(&mut rng).to_lowercase();
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            };
            let noun = nouns[rng.random_range(0..nouns.len())];
            let name = if i % 17 == 3 {
                format!("Le Courrier de {place}é")
            } else {
                format!("The {place} {noun}")
            };
            let domain = format!("{}{}.example", place.to_lowercase(), i);
            let mut footer = vec![format!(
                "© 2024 {name}. All rights reserved. This material may not be published, broadcast, rewritten or redistributed without permission."
            )];
            match rng.random_range(0..3) {
                0 => footer.push(format!(
                    "Follow {name} on social media and subscribe to our newsletter for the latest local news from {place}."
                )),
                1 => footer.push(format!(
                    "Got a news tip? Contact the {place} newsroom. Share this article: Facebook Twitter Email Print"
                )),
                _ => {}
            }
            if rng.random_bool(cfg.template_outlets) {
                footer.push(
                    "Source link. Leave a Reply. Your email address will not be published. Required fields are marked. Post a Comment."
                        .to_string(),
                );
            }
            outlets.push(Outlet {
                name,
                domain,
                footer,
                print: rng.random_bool(cfg.ocr_outlets),
            });
        }
        let mut outlet_cdf = Vec::with_capacity(cfg.outlets);
        let mut acc = 0.0;
        for i in 0..cfg.outlets {
            acc += 1.0 / ((i + 1) as f64).powf(0.7);
            outlet_cdf.push(acc);
        }
        for c in &mut outlet_cdf {
            *c /= acc;
        }
        Ok(Generator {
            cfg,
            rng,
            lang,
            outlets,
            outlet_cdf,
            recent: std::collections::VecDeque::new(),
            next_story: 0,
        })
    }

    /// Writes the corpus and its truth file.
    pub fn run(mut self, corpus: &Path) -> Result<SynthStats> {
        let truth = truth_path(corpus);
        let mut stats = SynthStats::default();
        crate::report::write_atomic(corpus, |cw| {
            crate::report::write_atomic(&truth, |tw| {
                self.generate(cw, tw, &mut stats)
                    .map_err(|e| std::io::Error::other(e.to_string()))
            })
            .map_err(|e| std::io::Error::other(e.to_string()))
        })?;
        Ok(stats)
    }

    fn generate(
        &mut self,
        cw: &mut dyn Write,
        tw: &mut dyn Write,
        stats: &mut SynthStats,
    ) -> Result<()> {
        let mut buffer: Vec<Pending> = Vec::new();
        let mut written = 0usize;
        let mut emitted = 0usize; // articles generated so far
        let cap = 4096;
        while emitted < self.cfg.docs {
            let batch = self.next_item(stats);
            emitted += batch.len();
            buffer.extend(batch);
            while buffer.len() > cap {
                let i = self.rng.random_range(0..buffer.len());
                let p = buffer.swap_remove(i);
                if written < self.cfg.docs {
                    self.write(p, written, cw, tw, stats)?;
                    written += 1;
                }
            }
        }
        while !buffer.is_empty() && written < self.cfg.docs {
            let i = self.rng.random_range(0..buffer.len());
            let p = buffer.swap_remove(i);
            self.write(p, written, cw, tw, stats)?;
            written += 1;
        }
        Ok(())
    }

    fn write(
        &self,
        p: Pending,
        index: usize,
        cw: &mut dyn Write,
        tw: &mut dyn Write,
        stats: &mut SynthStats,
    ) -> Result<()> {
        let id = format!("a{index:07}");
        let mut text = String::new();
        let mut chars = 0u64;
        let mut segments = Vec::new();
        for (i, piece) in p.pieces.iter().enumerate() {
            if i > 0 {
                text.push_str("\n\n");
                chars += 2;
            }
            text.push_str(&piece.prefix);
            chars += piece.prefix.chars().count() as u64;
            let n = piece.text.chars().count() as u64;
            if let Some((story, para)) = &piece.seg {
                segments.push(Segment {
                    story: story.clone(),
                    para: *para,
                    start: chars,
                    end: chars + n,
                });
            }
            text.push_str(&piece.text);
            chars += n;
        }
        let date = crate::document::iso_utc(p.date);
        let url = format!("https://{}/news/{}", p.domain, id);
        let line = serde_json::to_string(&Article {
            id: &id,
            outlet: &p.outlet,
            date: &date,
            title: &p.title,
            url: &url,
            text: &text,
        })
        .expect("serialisable");
        let io = |e| Error::io("synth output", e);
        cw.write_all(line.as_bytes()).map_err(io)?;
        cw.write_all(b"\n").map_err(io)?;
        stats.bytes += line.len() as u64 + 1;
        stats.docs += 1;
        let truth = Truth {
            id,
            story: p.story,
            kind: p.kind.to_string(),
            followup_of: p.followup_of,
            edits: p.edits,
            segments,
        };
        serde_json::to_writer(&mut *tw, &truth).map_err(|e| Error::io("synth truth", e.into()))?;
        tw.write_all(b"\n").map_err(io)?;
        Ok(())
    }

    fn pick_outlet(&mut self) -> usize {
        let u: f64 = self.rng.random();
        self.outlet_cdf
            .partition_point(|&c| c < u)
            .min(self.outlets.len() - 1)
    }

    fn new_story_id(&mut self) -> String {
        self.next_story += 1;
        format!("st{:07}", self.next_story)
    }

    fn time_of(&self, story: u64) -> i64 {
        // One new story about every 7 minutes from 2024-01-01.
        1_704_067_200 + story as i64 * 420
    }

    /// The next story's articles (one for an unrelated article).
    fn next_item(&mut self, stats: &mut SynthStats) -> Vec<Pending> {
        if self.rng.random_bool(self.cfg.unrelated) {
            stats.unrelated += 1;
            let id = self.new_story_id();
            let topic = self.topic();
            let n = self.rng.random_range(8..16);
            let pieces = (0..n)
                .map(|_| Piece::plain(self.lang.paragraph(&mut self.rng, &topic)))
                .collect::<Vec<_>>();
            let o = self.pick_outlet();
            let title = self.lang.headline(&mut self.rng, &topic);
            let t = self.time_of(self.next_story) + self.rng.random_range(0..3600);
            let mut pieces = pieces;
            pieces.extend(
                self.outlets[o]
                    .footer
                    .iter()
                    .map(|f| Piece::plain(f.clone())),
            );
            return vec![Pending {
                story: id,
                kind: "unrelated",
                followup_of: None,
                edits: Vec::new(),
                outlet: self.outlets[o].name.clone(),
                domain: self.outlets[o].domain.clone(),
                date: t,
                title,
                pieces,
            }];
        }
        let story = self.base_story();
        stats.stories += 1;
        stats.followups += u64::from(story.followup_of.is_some());
        let copies = self.copies();
        let mut out = Vec::with_capacity(copies + 1);
        if self.rng.random_bool(self.cfg.agency_copy) {
            out.push(self.agency_copy(&story));
        }
        let mut used = ahash::AHashSet::new();
        while used.len() < copies {
            let o = self.pick_outlet();
            if used.insert(o) {
                out.push(self.rerun(&story, o));
            }
        }
        self.recent.push_back(story);
        if self.recent.len() > 200 {
            self.recent.pop_front();
        }
        out
    }

    fn topic(&mut self) -> Vec<String> {
        let n = self.rng.random_range(3..6);
        (0..n).map(|_| self.lang.entity(&mut self.rng)).collect()
    }

    fn copies(&mut self) -> usize {
        let u: f64 = self.rng.random_range(1e-9..1.0);
        let x = self.cfg.min_copies as f64 * u.powf(-1.0 / self.cfg.copies_alpha);
        (x as usize).clamp(self.cfg.min_copies, self.cfg.max_copies)
    }

    fn base_story(&mut self) -> BaseStory {
        let id = self.new_story_id();
        let topic = self.topic();
        let target = self.rng.random_range(600..=900);
        let mut paras: Vec<(Vec<String>, String, u32)> = Vec::new();
        let mut words = 0;
        while words < target {
            let p = self.lang.paragraph(&mut self.rng, &topic);
            words += p.split_whitespace().count();
            let sentences = split_sentences(&p);
            let idx = paras.len() as u32;
            paras.push((sentences, id.clone(), idx));
        }
        let mut followup_of = None;
        if !self.recent.is_empty() && self.rng.random_bool(self.cfg.followups) {
            let parent = &self.recent[self.rng.random_range(0..self.recent.len())];
            let half = parent.paras.len() / 2;
            let n = self.rng.random_range(2..=3).min(parent.paras.len() - half);
            let start = self.rng.random_range(half..=parent.paras.len() - n);
            let background: Vec<_> = parent.paras[start..start + n].to_vec();
            let at = self
                .rng
                .random_range(3..paras.len().max(4))
                .min(paras.len());
            for (k, p) in background.into_iter().enumerate() {
                paras.insert(at + k, p);
            }
            followup_of = Some(parent.id.clone());
        }
        let agency = self.rng.random_range(0..AGENCIES.len());
        BaseStory {
            headline: self.lang.headline(&mut self.rng, &topic),
            place: self.lang.place(&mut self.rng).to_string(),
            author: self.lang.person(&mut self.rng).to_uppercase(),
            t0: self.time_of(self.next_story),
            id,
            agency,
            topic,
            paras,
            followup_of,
        }
    }

    fn agency_copy(&mut self, s: &BaseStory) -> Pending {
        let (name, tag, domain) = AGENCIES[s.agency];
        let mut pieces = vec![Piece::plain(format!("By {}\n{}", s.author, name))];
        for (i, (sentences, story, para)) in s.paras.iter().enumerate() {
            pieces.push(Piece {
                prefix: if i == 0 {
                    format!("{} ({tag}) — ", s.place)
                } else {
                    String::new()
                },
                text: sentences.join(" "),
                seg: Some((story.clone(), *para)),
            });
        }
        Pending {
            story: s.id.clone(),
            kind: "agency",
            followup_of: s.followup_of.clone(),
            edits: vec!["verbatim".into()],
            outlet: name.to_string(),
            domain: domain.to_string(),
            date: s.t0,
            title: s.headline.clone(),
            pieces,
        }
    }

    fn rerun(&mut self, s: &BaseStory, o: usize) -> Pending {
        let (agency_name, tag, _) = AGENCIES[s.agency];
        let cfg = self.cfg.clone();
        let rng = &mut self.rng;
        let mut edits: Vec<String> = Vec::new();
        let verbatim = rng.random_bool(cfg.verbatim);
        let mut paras: Vec<(Vec<String>, String, u32)> = s.paras.clone();
        let mut title = s.headline.clone();
        let mut dateline = format!("{} ({tag}) — ", s.place);
        let mut byline = Some(format!("By {}\n{}", s.author, agency_name));
        let mut local: Vec<String> = Vec::new();
        let mut substitute = false;
        let print = self.outlets[o].print;
        if verbatim {
            edits.push("verbatim".into());
        } else {
            if rng.random_bool(cfg.truncate) {
                let keep = rng.random_range(cfg.min_keep..1.0);
                let n = ((paras.len() as f64 * keep).ceil() as usize).clamp(1, paras.len());
                if n < paras.len() {
                    paras.truncate(n);
                    edits.push(format!("truncated:{keep:.2}"));
                }
            }
            if rng.random_bool(cfg.headline) {
                if rng.random_bool(0.5) {
                    title = self.lang.headline(rng, &s.topic);
                    edits.push("headline_rewritten".into());
                } else {
                    title = title
                        .split(' ')
                        .map(|w| {
                            if rng.random_bool(0.25) {
                                self.lang.substitute(w, rng)
                            } else {
                                w.to_string()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" ");
                    edits.push("headline_edited".into());
                }
            }
            if rng.random_bool(cfg.dateline) {
                if rng.random_bool(0.5) {
                    dateline = format!("{} — ", s.place);
                    edits.push("dateline_changed".into());
                } else {
                    dateline.clear();
                    edits.push("dateline_dropped".into());
                }
            }
            if rng.random_bool(cfg.byline) {
                if rng.random_bool(0.5) {
                    byline = Some(format!(
                        "From staff and wire reports\n{}",
                        self.outlets[o].name
                    ));
                    edits.push("byline_changed".into());
                } else {
                    byline = None;
                    edits.push("byline_dropped".into());
                }
            }
            if rng.random_bool(cfg.sentence_drop) {
                let mut dropped = 0;
                for _ in 0..rng.random_range(1..=2) {
                    let i = rng.random_range(0..paras.len());
                    if paras[i].0.len() > 1 {
                        let j = rng.random_range(0..paras[i].0.len());
                        paras[i].0.remove(j);
                        dropped += 1;
                    }
                }
                if dropped > 0 {
                    edits.push(format!("sentence_drop:{dropped}"));
                }
            }
            if paras.len() > 3 && rng.random_bool(cfg.paragraph_swap) {
                let i = rng.random_range(1..paras.len() - 1);
                paras.swap(i, i + 1);
                edits.push("paragraph_swap".into());
            }
            if rng.random_bool(cfg.pad) {
                let n = rng.random_range(1..=3);
                let topic = vec![self.lang.entity(rng), self.lang.entity(rng)];
                local = (0..n).map(|_| self.lang.paragraph(rng, &topic)).collect();
                edits.push(format!("padded:{n}"));
            }
            if rng.random_bool(cfg.reword) {
                for (sentences, _, _) in paras.iter_mut() {
                    for sentence in sentences.iter_mut() {
                        *sentence = reword_sentence(sentence, cfg.reword_rate, &self.lang, rng);
                    }
                }
                edits.push(format!("reworded:{:.2}", cfg.reword_rate));
            }
            substitute = rng.random_bool(cfg.substitute);
            if substitute {
                edits.push(format!("substituted:{:.3}", cfg.substitute_rate));
            }
            if print {
                edits.push(format!("noisy:{:.3}", cfg.ocr_rate));
            }
        }
        let mut pieces: Vec<Piece> = Vec::new();
        if let Some(b) = byline {
            pieces.push(Piece::plain(b));
        }
        let n_story = paras.len();
        // Local paragraphs go after the second paragraph or at the end.
        let mut insert_at: Vec<usize> = local
            .iter()
            .map(|_| {
                if rng.random_bool(0.5) {
                    n_story
                } else {
                    rng.random_range(2.min(n_story)..=n_story)
                }
            })
            .collect();
        insert_at.sort_unstable();
        let mut local_iter = local.into_iter().zip(insert_at).peekable();
        for (i, (sentences, story, para)) in paras.iter().enumerate() {
            while let Some((_, at)) = local_iter.peek() {
                if *at == i {
                    let (text, _) = local_iter.next().expect("peeked");
                    pieces.push(Piece::plain(text));
                } else {
                    break;
                }
            }
            let mut body = sentences.join(" ");
            if substitute {
                body = substitute_words(&body, cfg.substitute_rate, &self.lang, rng);
            }
            if print && !verbatim {
                body = ocr_noise(&body, cfg.ocr_rate, rng);
            }
            pieces.push(Piece {
                prefix: if i == 0 {
                    dateline.clone()
                } else {
                    String::new()
                },
                text: body,
                seg: Some((story.clone(), *para)),
            });
        }
        for (text, _) in local_iter {
            pieces.push(Piece::plain(text));
        }
        for f in &self.outlets[o].footer {
            let text = if print && !verbatim {
                ocr_noise(f, cfg.ocr_rate, rng)
            } else {
                f.clone()
            };
            pieces.push(Piece::plain(text));
        }
        let delay = rng.random_range(600..72 * 3600);
        Pending {
            story: s.id.clone(),
            kind: "rerun",
            followup_of: s.followup_of.clone(),
            edits,
            outlet: self.outlets[o].name.clone(),
            domain: self.outlets[o].domain.clone(),
            date: s.t0 + delay,
            title,
            pieces,
        }
    }
}

/// Splits a generated paragraph into sentences (they end in `.` followed by a space).
fn split_sentences(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = p.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'.' && (i + 1 == b.len() || b[i + 1] == b' ') {
            out.push(p[start..=i].trim().to_string());
            start = i + 1;
        }
    }
    if start < p.len() && !p[start..].trim().is_empty() {
        out.push(p[start..].trim().to_string());
    }
    out
}

/// Rewords one sentence the way a spinner or a round trip through machine
/// translation does: swaps `rate` of its longer words for other words of
/// similar frequency (synonyms), moves the clause after the comma to the
/// front half the time, and drops a modifier from long sentences. Quotes and
/// the final full stop stay in place.
pub fn reword_sentence(sentence: &str, rate: f64, lang: &Language, rng: &mut impl Rng) -> String {
    let (body, end) = match sentence.strip_suffix('.') {
        Some(b) => (b, "."),
        None => (sentence, ""),
    };
    let quoted = body.starts_with('“');
    let mut clauses: Vec<String> = if !quoted && rng.random_bool(0.5) {
        body.splitn(2, ", ").map(str::to_string).collect()
    } else {
        vec![body.to_string()]
    };
    if clauses.len() == 2 {
        // "A, B." -> "B, a."
        let first = clauses[0].clone();
        let mut lowered = first.chars();
        let head: String = lowered
            .next()
            .map(|c| c.to_lowercase().collect::<String>() + lowered.as_str())
            .unwrap_or_default();
        let keep_case = first.split(' ').next().is_some_and(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars().skip(1).any(char::is_uppercase)
        });
        clauses[0] = clauses[1].clone();
        clauses[1] = if keep_case { first } else { head };
        let mut c = clauses[0].chars();
        if let Some(f) = c.next() {
            clauses[0] = f.to_uppercase().chain(c).collect();
        }
    }
    let mut words = substitute_each(&clauses.join(", "), rate, 4, lang, rng);
    if words.len() > 12 && rng.random_bool(0.5) {
        let i = rng.random_range(2..words.len() - 2);
        if words[i].chars().all(|c| c.is_ascii_alphabetic()) {
            words.remove(i);
        }
    }
    format!("{}{end}", words.join(" "))
}

fn substitute_words(text: &str, rate: f64, lang: &Language, rng: &mut impl Rng) -> String {
    substitute_each(text, rate, 3, lang, rng).join(" ")
}

/// The words of `text` (split at spaces), each purely alphabetic one of at
/// least `min_len` letters swapped with probability `rate` for a word of
/// similar frequency, punctuation kept.
fn substitute_each(
    text: &str,
    rate: f64,
    min_len: usize,
    lang: &Language,
    rng: &mut impl Rng,
) -> Vec<String> {
    text.split(' ')
        .map(|w| {
            let core: String = w.chars().filter(|c| c.is_alphanumeric()).collect();
            if core.len() >= min_len
                && core.chars().all(|c| c.is_ascii_alphabetic())
                && rng.random_bool(rate)
            {
                w.replace(&core, &lang.substitute(&core, rng))
            } else {
                w.to_string()
            }
        })
        .collect()
}

/// OCR-like character noise: look-alike substitutions, drops and splits.
pub fn ocr_noise(text: &str, rate: f64, rng: &mut impl Rng) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !rng.random_bool(rate) {
            out.push(c);
            continue;
        }
        match c {
            'm' => out.push_str("rn"),
            'e' => out.push('c'),
            'l' => out.push('1'),
            'o' => out.push('0'),
            'i' => out.push('l'),
            'h' => out.push('b'),
            'n' => out.push('u'),
            'a' => out.push('o'),
            ' ' => {}
            c if c.is_alphabetic() => {
                out.push(c);
                out.push(if rng.random_bool(0.5) { ' ' } else { '.' });
            }
            c => out.push(c),
        }
    }
    out
}
