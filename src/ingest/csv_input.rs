//! CSV records: a header row naming the fields, then one article per record.

use std::io::BufRead;

use super::{RawFields, RawSink, StreamError, field_names};
use crate::config::FieldMap;
use crate::error::SkipReason;

pub(crate) fn read(
    mut stream: Box<dyn BufRead + Send>,
    fields: &FieldMap,
    sink: &mut RawSink<'_>,
) -> Result<(), StreamError> {
    let names = field_names(fields);
    let head = stream.fill_buf().map_err(|e| StreamError::Io(1, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter(head))
        .flexible(false)
        .has_headers(true)
        .from_reader(stream);
    let headers = match rdr.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            if let csv::ErrorKind::Io(_) = e.kind() {
                let csv::ErrorKind::Io(io) = e.into_kind() else {
                    unreachable!()
                };
                return Err(StreamError::Io(1, io));
            }
            return Ok(sink(
                1,
                Err((SkipReason::MalformedCsv, format!("bad header row: {e}"))),
            )?);
        }
    };
    let columns: Vec<Option<usize>> = names
        .iter()
        .map(|n| headers.iter().position(|h| h == n.as_bytes()))
        .collect();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = rdr.position().line() + u64::from(rdr.position().line() == 0);
        match rdr.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                sink(line, to_raw(&record, &columns))?;
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                if let csv::ErrorKind::Io(_) = e.kind() {
                    let csv::ErrorKind::Io(io) = e.into_kind() else {
                        unreachable!()
                    };
                    return Err(StreamError::Io(line, io));
                }
                sink(line, Err((SkipReason::MalformedCsv, e.to_string())))?;
            }
        }
    }
}

/// The field separator the header row (the first line of `head`) uses:
/// a comma, a semicolon (spreadsheets in locales whose decimal mark is a
/// comma export CSV so) or a tab, whichever separates more fields outside
/// quotes; a comma on a tie.
fn delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let [comma, semicolon, tab] = counts;
    if semicolon > comma && semicolon >= tab {
        b';'
    } else if tab > comma && tab > semicolon {
        b'\t'
    } else {
        b','
    }
}

fn to_raw(
    record: &csv::ByteRecord,
    columns: &[Option<usize>],
) -> Result<RawFields, (SkipReason, String)> {
    let get = |i: usize| -> Result<Option<String>, (SkipReason, String)> {
        let Some(col) = columns[i] else {
            return Ok(None);
        };
        match record.get(col) {
            None => Ok(None),
            Some(bytes) => std::str::from_utf8(bytes)
                .map(|s| Some(s.to_owned()))
                .map_err(|e| {
                    (
                        SkipReason::InvalidUtf8,
                        format!(
                            "invalid UTF-8 in column {} at byte {}",
                            col + 1,
                            e.valid_up_to()
                        ),
                    )
                }),
        }
    };
    Ok(RawFields {
        id: get(0)?,
        text: get(1)?,
        title: get(2)?,
        outlet: get(3)?,
        date: get(4)?,
        url: get(5)?,
        // Not re-read by offset (quoted fields and tags span lines): texts stay in memory.
        offset: None,
    })
}

#[cfg(test)]
mod tests {
    use super::delimiter;

    #[test]
    fn the_header_row_names_the_separator() {
        assert_eq!(delimiter(b"id,text,date\n1,a;b,x"), b',');
        // A later row's commas do not count.
        assert_eq!(delimiter(b"id;text;date\n1;a, b, c, d;x"), b';');
        assert_eq!(delimiter(b"id\ttext\n1\ta;b"), b'\t');
        // Inside quotes a separator is text.
        assert_eq!(delimiter(b"\"id;x\",text\n"), b',');
        // One column, or nothing read: a comma.
        assert_eq!(delimiter(b"text\nhello"), b',');
        assert_eq!(delimiter(b""), b',');
    }
}
