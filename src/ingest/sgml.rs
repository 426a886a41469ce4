//! Reuters-21578 SGML: `<REUTERS ... NEWID="n">` records with `<DATE>`,
//! `<TITLE>`, `<DATELINE>` and `<BODY>`. The article text is the title, a
//! blank line, then the body (or the raw `<TEXT>` of unprocessed stories);
//! entities are decoded and control characters (`&#2;`, `&#3;`, ...) dropped.
//! `outlet` is `Reuters`; `date` is `<DATE>` in ISO 8601.

use std::io::BufRead;

use super::{RawFields, RawSink, StreamError};
use crate::error::SkipReason;

pub(crate) fn read(
    mut stream: Box<dyn BufRead + Send>,
    sink: &mut RawSink<'_>,
) -> Result<(), StreamError> {
    let mut buf = Vec::new();
    let mut record: Vec<u8> = Vec::new();
    let mut start_line = 0u64;
    let mut line_no = 0u64;
    let mut inside = false;
    loop {
        buf.clear();
        let n = stream
            .read_until(b'\n', &mut buf)
            .map_err(|e| StreamError::Io(line_no + 1, e))?;
        if n == 0 {
            if inside {
                sink(
                    start_line,
                    Err((
                        SkipReason::MalformedSgml,
                        "file ends inside a <REUTERS> record".into(),
                    )),
                )?;
            }
            return Ok(());
        }
        line_no += 1;
        if !inside {
            if let Some(pos) = find(&buf, b"<REUTERS") {
                inside = true;
                start_line = line_no;
                record.clear();
                record.extend_from_slice(&buf[pos..]);
            } else {
                continue;
            }
        } else {
            record.extend_from_slice(&buf);
        }
        if find(&record, b"</REUTERS>").is_some() {
            inside = false;
            sink(start_line, parse_record(&record))?;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_record(bytes: &[u8]) -> Result<RawFields, (SkipReason, String)> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        (
            SkipReason::InvalidUtf8,
            format!("invalid UTF-8 at byte {} of the record", e.valid_up_to()),
        )
    })?;
    let open_end = text.find('>').ok_or_else(|| {
        (
            SkipReason::MalformedSgml,
            "unterminated <REUTERS> tag".to_string(),
        )
    })?;
    let id = attribute(&text[..open_end], "NEWID")
        .ok_or_else(|| (SkipReason::MissingId, "<REUTERS> has no NEWID".to_string()))?;
    let date = element(text, "DATE")
        .map(|d| reuters_date(d.trim()).unwrap_or_else(|| d.trim().to_string()));
    let title = element(text, "TITLE").map(decode);
    let body = element(text, "BODY").map(decode);
    let raw_text = element(text, "TEXT").map(|t| decode(&strip_tags(t)));
    let article = match (&title, &body) {
        (Some(t), Some(b)) => Some(format!("{}\n\n{}", t.trim(), b.trim_end())),
        (None, Some(b)) => Some(b.trim_end().to_string()),
        (Some(t), None) => Some(t.trim().to_string()),
        (None, None) => raw_text.map(|t| t.trim().to_string()),
    };
    Ok(RawFields {
        id: Some(id),
        text: article,
        title: title.map(|t| t.trim().to_string()),
        outlet: Some("Reuters".to_string()),
        date,
        url: None,
        // Not re-read by offset (quoted fields and tags span lines): texts stay in memory.
        offset: None,
    })
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let pat = format!("{name}=\"");
    let start = tag.find(&pat)? + pat.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_string())
}

/// The content of the first `<NAME ...>...</NAME>` element.
fn element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}");
    let mut from = 0;
    let start = loop {
        let at = text[from..].find(&open)? + from;
        let after = &text[at + open.len()..];
        if after.starts_with('>') || after.starts_with(' ') {
            break at + open.len() + after.find('>')? + 1;
        }
        from = at + open.len();
    };
    let close = format!("</{name}>");
    let end = text[start..].find(&close)? + start;
    Some(&text[start..end])
}

fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Decodes `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;` and `&#N;`; numeric
/// references to control characters other than tab and newline are dropped.
fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..semi];
        let decoded = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix('#')
                .and_then(|n| n.parse::<u32>().ok())
                .map(|n| char::from_u32(n).unwrap_or('\u{fffd}')),
        };
        match decoded {
            Some(c) if c.is_control() && c != '\n' && c != '\t' => {}
            Some(c) => out.push(c),
            None => {
                out.push('&');
                rest = &rest[1..];
                continue;
            }
        }
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}

/// `26-FEB-1987 15:01:01.79` to `1987-02-26T15:01:01.79`.
fn reuters_date(d: &str) -> Option<String> {
    let (day_part, time) = d.split_once(' ').unwrap_or((d, ""));
    let mut it = day_part.split('-');
    let day: u32 = it.next()?.trim().parse().ok()?;
    let month = match it.next()?.to_ascii_uppercase().as_str() {
        "JAN" => 1,
        "FEB" => 2,
        "MAR" => 3,
        "APR" => 4,
        "MAY" => 5,
        "JUN" => 6,
        "JUL" => 7,
        "AUG" => 8,
        "SEP" => 9,
        "OCT" => 10,
        "NOV" => 11,
        "DEC" => 12,
        _ => return None,
    };
    let year: u32 = it.next()?.trim().parse().ok()?;
    // Some <DATE>s carry wire routing codes after the time
    // (`01:21:21.63&#5;&#5;&#5;F`): keep the leading time only.
    let time = time.trim();
    let time = &time[..time
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(time.len())];
    if time.is_empty() {
        Some(format!("{year:04}-{month:02}-{day:02}"))
    } else {
        Some(format!("{year:04}-{month:02}-{day:02}T{time}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<REUTERS TOPICS="YES" NEWID="12">
<DATE>26-FEB-1987 15:01:01.79</DATE>
<TEXT>&#2;
<TITLE>BAHIA COCOA &lt;REVIEW&gt;</TITLE>
<DATELINE>    SALVADOR, Feb 26 - </DATELINE><BODY>Showers continued &amp; more.
 Reuter
&#3;</BODY></TEXT>
</REUTERS>"#;

    #[test]
    fn parses_a_record() {
        let raw = parse_record(SAMPLE.as_bytes()).unwrap();
        assert_eq!(raw.id.as_deref(), Some("12"));
        assert_eq!(raw.date.as_deref(), Some("1987-02-26T15:01:01.79"));
        assert_eq!(raw.title.as_deref(), Some("BAHIA COCOA <REVIEW>"));
        assert_eq!(
            raw.text.as_deref(),
            Some("BAHIA COCOA <REVIEW>\n\nShowers continued & more.\n Reuter")
        );
        assert_eq!(raw.outlet.as_deref(), Some("Reuters"));
    }

    #[test]
    fn routing_codes_after_the_date_are_dropped() {
        assert_eq!(
            reuters_date("27-MAR-1987 01:21:21.63&#5;&#5;&#5;RM").as_deref(),
            Some("1987-03-27T01:21:21.63")
        );
        assert_eq!(reuters_date("5-APR-1987").as_deref(), Some("1987-04-05"));
        assert_eq!(reuters_date("5-XYZ-1987"), None);
    }

    #[test]
    fn unprocessed_text_is_kept() {
        let rec = "<REUTERS NEWID=\"3\"><DATE>2-MAR-1987 01:02:03.00</DATE><TEXT TYPE=\"UNPROC\">&#2;\nsome raw wire text\n&#3;</TEXT></REUTERS>";
        let raw = parse_record(rec.as_bytes()).unwrap();
        assert_eq!(raw.text.as_deref(), Some("some raw wire text"));
        assert_eq!(raw.date.as_deref(), Some("1987-03-02T01:02:03.00"));
    }
}
