//! JSONL records: one JSON object per line. Only the six mapped keys are
//! kept; every other key is skipped without being built into a value.

use std::fmt;
use std::io::BufRead;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::{RawFields, RawSink, Recycled, StreamError, field_names};
use crate::config::FieldMap;
use crate::error::SkipReason;

/// Reads the records of `stream`. Each text is written into a string from
/// `recycled` when one is waiting there (a text the consumer let go), so a
/// large dump does not allocate, and the kernel does not zero, fresh memory
/// for every record's text.
pub(crate) fn read(
    mut stream: Box<dyn BufRead + Send>,
    fields: &FieldMap,
    recycled: Option<&Recycled>,
    sink: &mut RawSink<'_>,
) -> Result<(), StreamError> {
    let names = field_names(fields);
    // A byte-order mark (as Windows tools write UTF-8) is not part of the
    // first record; offsets count past it, so that record reads back the
    // same.
    let mut offset = skip_mark(&mut stream).map_err(|e| StreamError::Io(1, e))?;
    if starts_array(&mut stream).map_err(|e| StreamError::Io(1, e))? {
        return read_array(stream, &names, sink);
    }
    let mut buf = Vec::with_capacity(1 << 16);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = stream
            .read_until(b'\n', &mut buf)
            .map_err(|e| StreamError::Io(line_no + 1, e))?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        let start = offset;
        offset += n as u64;
        let line = trim_line(&buf);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let buf = recycled.and_then(|r| r.try_recv().ok()).unwrap_or_default();
        let raw = parse_line_into(line, &names, buf).map(|mut r| {
            r.offset = Some(start);
            r
        });
        sink(line_no, raw)?;
    }
}

/// Consumes a UTF-8 byte-order mark at the start of `stream`; returns the
/// bytes consumed.
fn skip_mark(stream: &mut dyn BufRead) -> std::io::Result<u64> {
    if !stream.fill_buf()?.starts_with(BOM) {
        return Ok(0);
    }
    stream.consume(BOM.len());
    Ok(BOM.len() as u64)
}

/// Whether the stream holds one JSON array rather than JSON Lines: its first
/// byte past white space is `[` (nothing consumed).
fn starts_array(stream: &mut dyn BufRead) -> std::io::Result<bool> {
    let head = stream.fill_buf()?;
    Ok(head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'['))
}

/// Reads a file that is one JSON array of records (as many exports write
/// `.json`), streaming: records are numbered from 1 in place of lines, and
/// have no offset (their texts are kept or spilled like CSV rows'). A
/// record that is not an object is a bad record; a syntax error ends the
/// file, reported as one bad record that says so.
fn read_array(
    stream: Box<dyn BufRead + Send>,
    names: &[&str; 6],
    sink: &mut RawSink<'_>,
) -> Result<(), StreamError> {
    let mut de = serde_json::Deserializer::from_reader(stream);
    let (mut records, mut stopped) = (0u64, None);
    let records_of = Records {
        names,
        sink,
        records: &mut records,
        stopped: &mut stopped,
    };
    let parsed = de::Deserializer::deserialize_seq(&mut de, records_of).and_then(|()| de.end());
    if let Some(stop) = stopped {
        return Err(stop);
    }
    match parsed {
        Ok(()) => Ok(()),
        Err(e) if e.is_io() => Err(StreamError::Io(records + 1, e.into())),
        Err(e) => Ok(sink(
            records + 1,
            Err((
                SkipReason::MalformedJson,
                format!(
                    "record {} of the array: {e}; the rest of the file is not read",
                    records + 1
                ),
            )),
        )?),
    }
}

/// The elements of a JSON array, each handed to the sink as it is parsed.
struct Records<'a, 's> {
    names: &'a [&'a str; 6],
    sink: &'a mut RawSink<'s>,
    records: &'a mut u64,
    /// Why the sink stopped the run, if it did.
    stopped: &'a mut Option<StreamError>,
}

impl<'de> Visitor<'de> for Records<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element_seed(Element { names: self.names })? {
            *self.records += 1;
            let n = *self.records;
            let raw =
                raw.map_err(|(why, detail)| (why, format!("record {n} of the array: {detail}")));
            if let Err(e) = (self.sink)(n, raw) {
                *self.stopped = Some(e.into());
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// One element of a JSON array: a record when it is an object.
struct Element<'n> {
    names: &'n [&'n str; 6],
}

type ElementResult = Result<RawFields, (SkipReason, String)>;

impl<'de> DeserializeSeed<'de> for Element<'_> {
    type Value = ElementResult;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<ElementResult, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Element<'_> {
    type Value = ElementResult;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ElementResult, A::Error> {
        let picker = Picker {
            names: self.names,
            text: String::new(),
        };
        Visitor::visit_map(picker, map).map(Ok)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<ElementResult, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(not_an_object("an array"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<ElementResult, E> {
        Ok(not_an_object("a string"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ElementResult, E> {
        Ok(not_an_object("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ElementResult, E> {
        Ok(not_an_object("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ElementResult, E> {
        Ok(not_an_object("a number"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ElementResult, E> {
        Ok(not_an_object("a boolean"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<ElementResult, E> {
        Ok(not_an_object("null"))
    }
}

fn not_an_object(what: &str) -> ElementResult {
    Err((
        SkipReason::MalformedJson,
        format!("{what}, not a JSON object"),
    ))
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

pub(crate) fn trim_line(buf: &[u8]) -> &[u8] {
    let mut end = buf.len();
    while end > 0 && (buf[end - 1] == b'\n' || buf[end - 1] == b'\r') {
        end -= 1;
    }
    &buf[..end]
}

/// Parses one line into raw fields.
pub(crate) fn parse_line(
    line: &[u8],
    names: &[&str; 6],
) -> Result<RawFields, (SkipReason, String)> {
    parse_line_into(line, names, String::new())
}

/// [`parse_line`], writing the text into `buf` (cleared first).
fn parse_line_into(
    line: &[u8],
    names: &[&str; 6],
    buf: String,
) -> Result<RawFields, (SkipReason, String)> {
    let line = std::str::from_utf8(line).map_err(|e| {
        (
            SkipReason::InvalidUtf8,
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    let mut de = serde_json::Deserializer::from_str(line);
    let raw = Picker { names, text: buf }
        .deserialize(&mut de)
        .and_then(|raw| de.end().map(|()| raw))
        .map_err(|e| (SkipReason::MalformedJson, e.to_string()))?;
    Ok(raw)
}

struct Picker<'n> {
    names: &'n [&'n str; 6],
    /// Where the text goes.
    text: String,
}

impl<'de> DeserializeSeed<'de> for Picker<'_> {
    type Value = RawFields;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RawFields, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Picker<'_> {
    type Value = RawFields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFields, A::Error> {
        let mut raw = RawFields::default();
        let mut buf = Some(self.text);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let slot = match self.names.iter().position(|n| *n == key) {
                Some(0) => &mut raw.id,
                Some(1) => {
                    // A repeated key: the last value wins, as for the others.
                    let mut b = buf.take().unwrap_or_default();
                    b.clear();
                    raw.text = map.next_value_seed(ScalarInto(b))?.0;
                    continue;
                }
                Some(2) => &mut raw.title,
                Some(3) => &mut raw.outlet,
                Some(4) => &mut raw.date,
                Some(5) => &mut raw.url,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value::<Scalar>()?.0;
        }
        Ok(raw)
    }
}

/// A string, a number (kept as its JSON spelling), a bool, or null.
struct Scalar(Option<String>);

/// A [`Scalar`] written into the given (empty) string: a recycled text
/// buffer, or a new one for every other field.
struct ScalarInto(String);

impl<'de> DeserializeSeed<'de> for ScalarInto {
    type Value = Scalar;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        struct V(String);
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, a number or null")
            }
            fn visit_str<E: de::Error>(mut self, v: &str) -> Result<Scalar, E> {
                self.0.push_str(v);
                Ok(Scalar(Some(self.0)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
        }
        d.deserialize_any(V(self.0))
    }
}

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ScalarInto(String::new()).deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> [&'static str; 6] {
        ["id", "text", "title", "outlet", "date", "url"]
    }

    #[test]
    fn picks_mapped_keys_and_skips_others() {
        let line = br#"{"id": 7, "extra": {"deep": [1,2,{"x":null}]}, "text": "caf\u00e9", "outlet": null}"#;
        let raw = parse_line(line, &names()).unwrap();
        assert_eq!(raw.id.as_deref(), Some("7"));
        assert_eq!(raw.text.as_deref(), Some("café"));
        assert_eq!(raw.outlet, None);
    }

    #[test]
    fn a_recycled_buffer_holds_only_the_new_text() {
        let used = String::from("an earlier, longer text that must not leak into the next one");
        let raw = parse_line_into(
            br#"{"id": "b", "text": "short \"new\" text"}"#,
            &names(),
            used,
        )
        .unwrap();
        assert_eq!(raw.text.as_deref(), Some(r#"short "new" text"#));
        let raw = parse_line_into(br#"{"id": "c", "text": 42}"#, &names(), "old".into()).unwrap();
        assert_eq!(raw.text.as_deref(), Some("42"));
        let raw = parse_line_into(br#"{"id": "d", "text": null}"#, &names(), "old".into()).unwrap();
        assert_eq!(raw.text, None);
        let raw = parse_line_into(br#"{"id": "e"}"#, &names(), "old".into()).unwrap();
        assert_eq!(raw.text, None);
        // A repeated key: the last value wins.
        let raw = parse_line_into(
            br#"{"text": "one", "id": "f", "text": "two"}"#,
            &names(),
            "old".into(),
        )
        .unwrap();
        assert_eq!(raw.text.as_deref(), Some("two"));
    }

    #[test]
    fn reports_malformed_and_non_utf8() {
        let err = parse_line(br#"{"id": "a", "text": "#, &names()).unwrap_err();
        assert_eq!(err.0, SkipReason::MalformedJson);
        let err = parse_line(b"[1, 2]", &names()).unwrap_err();
        assert_eq!(err.0, SkipReason::MalformedJson);
        let err = parse_line(b"{\"id\": \"a\xff\"}", &names()).unwrap_err();
        assert_eq!(err.0, SkipReason::InvalidUtf8);
        let err = parse_line(br#"{"id": "a"} trailing"#, &names()).unwrap_err();
        assert_eq!(err.0, SkipReason::MalformedJson);
    }
}
