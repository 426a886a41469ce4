//! CSV records: a header row naming the fields, then one article per record.

use std::io::BufRead;

use super::{RawFields, RawSink, StreamError, field_names};
use crate::config::FieldMap;
use crate::error::SkipReason;

pub(crate) fn read(
    stream: Box<dyn BufRead + Send>,
    fields: &FieldMap,
    sink: &mut RawSink<'_>,
) -> Result<(), StreamError> {
    let names = field_names(fields);
    let mut rdr = csv::ReaderBuilder::new()
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
