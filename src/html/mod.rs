//! The HTML report: one self-contained page (no network, no external
//! assets) listing stories largest first, each with its origin, the outlets
//! that reran it, coverage and relation per rerun, and a side-by-side view
//! of each rerun against its origin with shared passages highlighted;
//! partial pairs are listed with their passages.
//!
//! In: a [`ScanOutput`]. Out: `report.html`. The data is embedded as JSON
//! and rendered by a small script: stories are paginated (50 a page) and a
//! story's body is built only when it is opened, so the page stays usable
//! with 10,000 stories. Full texts are embedded for the largest stories
//! until a byte budget is spent (the rest are listed, with a note), which
//! bounds the file size on large corpora. Passage offsets are Unicode scalar values,
//! sliced in the page with `Array.from`.

use serde::Serialize;

use crate::Result;
use crate::report::{id_ranks, write_atomic};
use crate::scan::ScanOutput;
use crate::verify::Relation;

const TEMPLATE: &str = include_str!("template.html");

#[derive(Serialize)]
struct Doc<'a> {
    id: &'a str,
    outlet: Option<&'a str>,
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

/// A passage as a story's side-by-side view uses it (offsets into the
/// embedded texts): `[a0, a1, b0, b1, kind, similarity]`.
type Span = (u32, u32, u32, u32, &'static str, f64);

/// A partial pair's passage, with its texts: `[.., a_text, b_text]`.
type PassageCell<'a> = (u32, u32, u32, u32, &'static str, f64, &'a str, &'a str);

#[derive(Serialize)]
struct Member<'a> {
    doc: usize,
    relation: &'a str,
    coverage: f64,
    /// Side A is the origin.
    passages: Vec<Span>,
}

#[derive(Serialize)]
struct Story<'a> {
    id: &'a str,
    title: String,
    origin: usize,
    outlets: Vec<&'a str>,
    search: String,
    members: Vec<Member<'a>>,
}

#[derive(Serialize)]
struct Partial<'a> {
    a: usize,
    b: usize,
    jaccard: f64,
    passages: Vec<PassageCell<'a>>,
}

#[derive(Serialize)]
struct Data<'a> {
    summary: String,
    docs: Vec<Doc<'a>>,
    stories: Vec<Story<'a>>,
    partials: Vec<Partial<'a>>,
}

/// Writes `report.html` for a scan; article texts are embedded for the
/// largest stories up to `text_budget` bytes, and `max_partials` partial
/// pairs are listed with their passages.
pub fn write_html(
    path: &std::path::Path,
    out: &ScanOutput,
    text_budget: usize,
    max_partials: usize,
) -> Result<()> {
    let data = build(out, text_budget, max_partials);
    let (head, tail) = TEMPLATE
        .split_once("/*DATA*/")
        .expect("the template has a data slot");
    // Streamed into the file: at a million articles the page is ~240 MB,
    // and building it as a string took three copies of that.
    write_atomic(path, |w| {
        w.write_all(head.as_bytes())?;
        let mut json = EscapeClose {
            inner: &mut *w,
            after_lt: false,
        };
        serde_json::to_writer(&mut json, &data)?;
        w.write_all(tail.as_bytes())
    })
}

/// Writes JSON into a `<script>` element: every `</` goes out as `<\/`
/// (the same string to JSON), so no text in the data can close the element.
struct EscapeClose<W> {
    inner: W,
    /// Whether the last byte written was `<`.
    after_lt: bool,
}

impl<W: std::io::Write> std::io::Write for EscapeClose<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut from = 0;
        for (i, &b) in buf.iter().enumerate() {
            let prev_lt = if i == 0 {
                self.after_lt
            } else {
                buf[i - 1] == b'<'
            };
            if b == b'/' && prev_lt {
                self.inner.write_all(&buf[from..i])?;
                self.inner.write_all(b"\\")?;
                from = i;
            }
        }
        self.inner.write_all(&buf[from..])?;
        if let Some(&last) = buf.last() {
            self.after_lt = last == b'<';
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Which documents the page shows in full: the members of the largest
/// stories, story by story, while their texts fit in `text_budget` bytes.
fn with_text(out: &ScanOutput, text_budget: usize) -> Vec<bool> {
    let mut with_text = vec![false; out.docs.len()];
    let mut spent = 0usize;
    for story in &out.stories {
        let bytes: usize = story.members.iter().map(|&d| out.text_len(d)).sum();
        if spent + bytes > text_budget {
            break;
        }
        spent += bytes;
        for d in &story.members {
            with_text[d.index()] = true;
        }
    }
    with_text
}

/// The documents whose texts the page needs (see [`ScanOutput::restore_texts`]):
/// those it shows in full, and story origins without a headline (the page
/// titles them by their first words).
pub fn texts_needed(out: &ScanOutput, text_budget: usize) -> Vec<crate::document::DocId> {
    let shown = with_text(out, text_budget);
    let mut need: Vec<crate::document::DocId> = (0..out.docs.len())
        .filter(|&d| shown[d])
        .map(|d| crate::document::DocId(d as u32))
        .collect();
    need.extend(
        out.stories
            .iter()
            .map(|s| s.origin)
            .filter(|o| out.docs[o.index()].title.is_none()),
    );
    need
}

fn build(out: &ScanOutput, text_budget: usize, max_partials: usize) -> Data<'_> {
    let with_text = with_text(out, text_budget);
    let passages_of: ahash::AHashMap<(u32, u32), &crate::scan::PairPassages> =
        out.passages.iter().map(|p| ((p.a.0, p.b.0), p)).collect();
    let text = |d: usize, r: (u32, u32)| &out.docs[d].text[r.0 as usize..r.1 as usize];
    // Passages of (x, y) with side A = x.
    let cells = |x: usize, y: usize| -> Vec<PassageCell<'_>> {
        let key = ((x.min(y)) as u32, (x.max(y)) as u32);
        let Some(pp) = passages_of.get(&key) else {
            return Vec::new();
        };
        pp.passages
            .iter()
            .map(|p| {
                let p = if x < y { p.clone() } else { p.swapped() };
                (
                    p.a_chars.0,
                    p.a_chars.1,
                    p.b_chars.0,
                    p.b_chars.1,
                    p.kind.as_str(),
                    p.similarity,
                    text(x, p.a_bytes),
                    text(y, p.b_bytes),
                )
            })
            .collect()
    };
    let stories = out
        .stories
        .iter()
        .map(|s| {
            let o = s.origin.index();
            let origin = &out.docs[o];
            let title = origin.display_title(crate::scan::TITLE_WORDS);
            let mut outlets: Vec<&str> = s
                .members
                .iter()
                .filter(|&&d| d != s.origin)
                .filter_map(|d| out.docs[d.index()].outlet.as_deref())
                .collect();
            outlets.sort_unstable();
            outlets.dedup();
            let members = s
                .members
                .iter()
                .map(|&d| {
                    let i = d.index();
                    let (coverage, relation) = crate::report::member_relation(out, d);
                    Member {
                        doc: i,
                        relation,
                        coverage,
                        passages: if d == s.origin {
                            Vec::new()
                        } else {
                            cells(o, i)
                                .into_iter()
                                .map(|c| (c.0, c.1, c.2, c.3, c.4, c.5))
                                .collect()
                        },
                    }
                })
                .collect();
            let search =
                format!("{} {} {} {}", s.id, title, origin.id, outlets.join(" ")).to_lowercase();
            Story {
                id: &s.id,
                title,
                origin: o,
                outlets,
                search,
                members,
            }
        })
        .collect();
    // Partial pairs in pairs.csv order (by id), without sorting all pairs again.
    let rank = id_ranks(out);
    let mut partial: Vec<(u32, u32, usize, usize, f64)> = out
        .matches
        .iter()
        .filter(|m| m.relation == Relation::Partial)
        .map(|m| {
            let (a, b) = (m.a.index(), m.b.index());
            let (x, y) = if rank[a] <= rank[b] { (a, b) } else { (b, a) };
            (rank[x], rank[y], x, y, m.jaccard)
        })
        .collect();
    partial.sort_unstable_by_key(|p| (p.0, p.1));
    partial.truncate(max_partials);
    let partials = partial
        .iter()
        .map(|&(_, _, a, b, jaccard)| Partial {
            a,
            b,
            jaccard,
            passages: cells(a, b),
        })
        .collect();
    let s = &out.summary;
    let summary = format!(
        "{} articles read, {} scanned, {} skipped · {} stories covering {} articles · {} related pairs ({}) · {} passages",
        s.records.read,
        s.records.scanned,
        s.records.skipped,
        s.stories,
        s.documents_in_stories,
        s.verified_pairs,
        s.relation_counts(),
        s.passages
    );
    let docs = out
        .docs
        .iter()
        .enumerate()
        .map(|(i, d)| Doc {
            id: &d.id,
            outlet: d.outlet.as_deref(),
            date: d.date.as_ref().map(|t| t.text.as_str()),
            text: with_text[i].then_some(d.text.as_str()),
        })
        .collect();
    Data {
        summary,
        docs,
        stories,
        partials,
    }
}

#[cfg(test)]
mod tests {
    use super::EscapeClose;
    use std::io::Write;

    #[test]
    fn escape_close_matches_replace_wherever_writes_split() {
        let text = b"a</b><</c></script>x<y/z</";
        let want = String::from_utf8_lossy(text).replace("</", "<\\/");
        for cut in 0..=text.len() {
            let mut out = Vec::new();
            let mut w = EscapeClose {
                inner: &mut out,
                after_lt: false,
            };
            w.write_all(&text[..cut]).unwrap();
            w.write_all(&[]).unwrap();
            w.write_all(&text[cut..]).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "split at {cut}");
        }
    }
}
