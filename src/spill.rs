//! External sort: fixed-size records sorted within a memory budget.
//!
//! In: records pushed in any order. Out: the same records in sorted order.
//! While the records fit in `budget` bytes they are sorted in memory (the
//! fast path, identical to `sort_unstable`); beyond it, each full buffer is
//! sorted in parallel and written to a temporary file as a run, and the runs
//! are merged with a heap. Either way the output order is the total order of
//! the records, so what follows does not depend on whether anything spilled.
//!
//! A sorter made with [`Sorter::distinct`] gives each record once: a full
//! buffer is first sorted and deduplicated in place, and written out only
//! when that frees less than half of it, so records that repeat (a pair
//! found in many LSH bands) mostly never reach the disk.
//!
//! Used where the working set grows with the corpus: LSH band keys and
//! candidate pairs (`--memory-limit`).

use std::collections::BinaryHeap;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use rayon::prelude::*;

use crate::error::{Error, Result};

/// A record of fixed size with a total order.
pub trait Record: Copy + Ord + Send + Sync {
    /// Bytes per record on disk.
    const SIZE: usize;
    /// Writes the record to `out` (`SIZE` bytes).
    fn put(&self, out: &mut [u8]);
    /// Reads a record from `bytes` (`SIZE` bytes).
    fn get(bytes: &[u8]) -> Self;
}

impl Record for u64 {
    const SIZE: usize = 8;
    fn put(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Self {
        u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
    }
}

impl Record for (u64, u32) {
    const SIZE: usize = 12;
    fn put(&self, out: &mut [u8]) {
        out[..8].copy_from_slice(&self.0.to_le_bytes());
        out[8..].copy_from_slice(&self.1.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Self {
        (
            u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")),
            u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")),
        )
    }
}

/// Runs kept on disk before they are merged into one.
const MAX_RUNS: usize = 64;

/// Collects records and sorts them within a memory budget.
pub struct Sorter<T: Record> {
    buf: Vec<T>,
    capacity: usize,
    runs: Vec<std::fs::File>,
    dir: std::path::PathBuf,
    /// Whether equal records are given once ([`Sorter::distinct`]).
    distinct: bool,
}

impl<T: Record> Sorter<T> {
    /// A sorter holding at most `budget` bytes of records in memory
    /// (`None`: no limit) and writing runs to temporary files in `dir`.
    pub fn new(budget: Option<u64>, dir: &std::path::Path) -> Self {
        let capacity = budget.map_or(usize::MAX, |b| {
            ((b / std::mem::size_of::<T>().max(1) as u64) as usize).max(16)
        });
        Sorter {
            buf: Vec::new(),
            capacity,
            runs: Vec::new(),
            dir: dir.to_path_buf(),
            distinct: false,
        }
    }

    /// Like [`Sorter::new`], but the output holds each distinct record
    /// once.
    pub fn distinct(budget: Option<u64>, dir: &std::path::Path) -> Self {
        Sorter {
            distinct: true,
            ..Sorter::new(budget, dir)
        }
    }

    /// Sorts the buffer and, for a distinct sorter, drops repeats.
    fn sort_buffer(&mut self) {
        self.buf.par_sort_unstable();
        if self.distinct {
            self.buf.dedup();
        }
    }

    /// Adds records, spilling a sorted run whenever the buffer is full.
    pub fn extend(&mut self, items: impl IntoIterator<Item = T>) -> Result<()> {
        for x in items {
            if self.buf.len() >= self.capacity {
                self.sort_buffer();
                // Repeats dropped in place make room without a run.
                if !self.distinct || self.buf.len() > self.capacity / 2 {
                    self.write_run()?;
                }
            }
            self.buf.push(x);
        }
        Ok(())
    }

    /// Writes the sorted buffer out as a run and empties it.
    fn write_run(&mut self) -> Result<()> {
        let mut file = tempfile::tempfile_in(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        {
            let mut w = BufWriter::with_capacity(1 << 20, &mut file);
            let mut rec = vec![0u8; T::SIZE];
            for x in &self.buf {
                x.put(&mut rec);
                w.write_all(&rec).map_err(|e| Error::io(&self.dir, e))?;
            }
            w.flush().map_err(|e| Error::io(&self.dir, e))?;
        }
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(&self.dir, e))?;
        self.runs.push(file);
        self.buf.clear();
        if self.runs.len() >= MAX_RUNS {
            self.compact()?;
        }
        Ok(())
    }

    /// Merges every run into one, so open files stay bounded.
    fn compact(&mut self) -> Result<()> {
        let runs = std::mem::take(&mut self.runs);
        let merged: Sorted<T> = merge(runs, &self.dir, self.distinct)?;
        let mut file = tempfile::tempfile_in(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        {
            let mut w = BufWriter::with_capacity(1 << 20, &mut file);
            let mut rec = vec![0u8; T::SIZE];
            for x in merged {
                x?.put(&mut rec);
                w.write_all(&rec).map_err(|e| Error::io(&self.dir, e))?;
            }
            w.flush().map_err(|e| Error::io(&self.dir, e))?;
        }
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(&self.dir, e))?;
        self.runs.push(file);
        Ok(())
    }

    /// Runs written to disk so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Every record, sorted. In memory when nothing spilled, else merged
    /// from the runs (the last buffer becomes a run too).
    pub fn finish(mut self) -> Result<Sorted<T>> {
        if self.runs.is_empty() {
            self.sort_buffer();
            return Ok(Sorted(Inner::Memory(self.buf.into_iter())));
        }
        if !self.buf.is_empty() {
            self.sort_buffer();
            self.write_run()?;
        }
        merge(self.runs, &self.dir, self.distinct)
    }
}

/// Runs merged into one sorted stream (each record once when `distinct`).
fn merge<T: Record>(
    runs: Vec<std::fs::File>,
    dir: &std::path::Path,
    distinct: bool,
) -> Result<Sorted<T>> {
    let dir = dir.to_path_buf();
    let mut readers: Vec<RunReader<T>> = runs
        .into_iter()
        .map(|f| RunReader {
            r: BufReader::with_capacity(1 << 16, f),
            rec: vec![0u8; T::SIZE],
            _t: std::marker::PhantomData,
        })
        .collect();
    let mut heap = BinaryHeap::new();
    for (i, r) in readers.iter_mut().enumerate() {
        if let Some(x) = r.next().map_err(|e| Error::io(&dir, e))? {
            heap.push(std::cmp::Reverse((x, i)));
        }
    }
    Ok(Sorted(Inner::Merge {
        readers,
        heap,
        dir,
        last: None,
        distinct,
    }))
}

struct RunReader<T> {
    r: BufReader<std::fs::File>,
    rec: Vec<u8>,
    _t: std::marker::PhantomData<T>,
}

impl<T: Record> RunReader<T> {
    fn next(&mut self) -> std::io::Result<Option<T>> {
        match self.r.read_exact(&mut self.rec) {
            Ok(()) => Ok(Some(T::get(&self.rec))),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The sorted records: an iterator of `Result<T>` (reading a run can fail).
pub struct Sorted<T: Record>(Inner<T>);

enum Inner<T: Record> {
    /// Nothing spilled.
    Memory(std::vec::IntoIter<T>),
    /// A k-way merge of runs on disk: one reader per run, the smallest
    /// unread record of each run, the directory for error messages, the
    /// record given last and whether repeats of it are skipped.
    Merge {
        readers: Vec<RunReader<T>>,
        heap: BinaryHeap<std::cmp::Reverse<(T, usize)>>,
        dir: std::path::PathBuf,
        last: Option<T>,
        distinct: bool,
    },
}

impl<T: Record> Iterator for Sorted<T> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        match &mut self.0 {
            Inner::Memory(it) => it.next().map(Ok),
            Inner::Merge {
                readers,
                heap,
                dir,
                last,
                distinct,
            } => loop {
                let std::cmp::Reverse((x, i)) = heap.pop()?;
                match readers[i].next() {
                    Ok(Some(y)) => heap.push(std::cmp::Reverse((y, i))),
                    Ok(None) => {}
                    Err(e) => return Some(Err(Error::io(dir.clone(), e))),
                }
                if *distinct && *last == Some(x) {
                    continue;
                }
                *last = Some(x);
                return Some(Ok(x));
            },
        }
    }
}

/// Parses a size such as `4G`, `512M`, `100k` or `1000000` (bytes).
///
/// ```
/// use wiretrace::spill::parse_size;
/// assert_eq!(parse_size("4G"), Some(4 << 30));
/// assert_eq!(parse_size("512m"), Some(512 << 20));
/// assert_eq!(parse_size("1500"), Some(1500));
/// assert_eq!(parse_size("lots"), None);
/// ```
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()?.to_ascii_uppercase() {
        'K' => (&s[..s.len() - 1], 1u64 << 10),
        'M' => (&s[..s.len() - 1], 1 << 20),
        'G' => (&s[..s.len() - 1], 1 << 30),
        'T' => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn spilled_and_in_memory_sorts_agree(v in proptest::collection::vec((0u64..50, 0u32..1000), 0..5000)) {
            let dir = tempfile::tempdir().unwrap();
            let mut small = Sorter::new(Some(1), dir.path());
            small.extend(v.iter().copied()).unwrap();
            let mut big = Sorter::new(None, dir.path());
            big.extend(v.iter().copied()).unwrap();
            let spilled = small.runs() > 0 || v.len() <= 16;
            let a: Vec<(u64, u32)> = small.finish().unwrap().map(Result::unwrap).collect();
            let b: Vec<(u64, u32)> = big.finish().unwrap().map(Result::unwrap).collect();
            let mut expected = v.clone();
            expected.sort_unstable();
            prop_assert!(spilled);
            prop_assert_eq!(&a, &expected);
            prop_assert_eq!(&b, &expected);
        }
    }

    proptest! {
        #[test]
        fn a_distinct_sorter_gives_each_record_once(v in proptest::collection::vec(0u64..300, 0..5000), budget in 1u64..4096) {
            let dir = tempfile::tempdir().unwrap();
            let mut s = Sorter::distinct(Some(budget), dir.path());
            s.extend(v.iter().copied()).unwrap();
            let out: Vec<u64> = s.finish().unwrap().map(Result::unwrap).collect();
            let mut expected = v.clone();
            expected.sort_unstable();
            expected.dedup();
            prop_assert_eq!(out, expected);
        }
    }

    #[test]
    fn repeats_dropped_in_memory_write_no_runs() {
        let dir = tempfile::tempdir().unwrap();
        // 100,000 records, 500 distinct, through a buffer of 1,024.
        let v: Vec<u64> = (0..100_000u64).map(|i| (i * 7919) % 500).collect();
        let mut plain: Sorter<u64> = Sorter::new(Some(8 * 1024), dir.path());
        plain.extend(v.iter().copied()).unwrap();
        assert!(plain.runs() > 0);
        let mut distinct: Sorter<u64> = Sorter::distinct(Some(8 * 1024), dir.path());
        distinct.extend(v.iter().copied()).unwrap();
        assert_eq!(distinct.runs(), 0);
        let out: Vec<u64> = distinct.finish().unwrap().map(Result::unwrap).collect();
        assert_eq!(out, (0..500).collect::<Vec<_>>());
        // More distinct records than the buffer holds still spill, and
        // repeats across runs are merged away.
        let mut s: Sorter<u64> = Sorter::distinct(Some(8 * 1024), dir.path());
        s.extend((0..30_000u64).chain(0..30_000).map(|i| (i * 7919) % 20_000))
            .unwrap();
        assert!(s.runs() > 0);
        let out: Vec<u64> = s.finish().unwrap().map(Result::unwrap).collect();
        assert_eq!(out, (0..20_000).collect::<Vec<_>>());
    }

    #[test]
    fn a_small_budget_writes_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut s: Sorter<u64> = Sorter::new(Some(8 * 1024), dir.path());
        s.extend((0..10_000u64).rev()).unwrap();
        assert!(s.runs() >= 9, "{} runs", s.runs());
        let out: Vec<u64> = s.finish().unwrap().map(Result::unwrap).collect();
        assert_eq!(out, (0..10_000).collect::<Vec<_>>());
    }
}
