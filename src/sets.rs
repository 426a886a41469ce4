//! The corpus's shingle sets, held in memory or, when `--memory-limit`
//! leaves them too little room, in a file.
//!
//! In: one [`ShingleSet`] per document, in document order, as the read
//! stage makes them. Out: any document's set on demand ([`SetSource`]),
//! and passes over runs of consecutive documents ([`Sets::blocks`],
//! [`Sets::blocks_mut`]).
//!
//! The sets of a million 4.6 KB articles are 690M hashes, 2.8 GB: the bulk
//! of a verbatim scan's memory. Under a memory limit, once the sets held
//! pass their budget, all of them go to an unnamed temporary file in the
//! spill directory (4-byte hashes, one document after another) and only
//! each set's offset and length stay in memory. A document's set is then
//! read back with one positioned read, a run of documents with one read of
//! their span; the operating system's page cache keeps what fits in the
//! machine's memory, outside the process's.
//!
//! Invariants: a set reads back exactly as it was stored, whichever store
//! holds it; [`Sets::blocks_mut`] may only shorten sets (a block is
//! rewritten in the space it had). A failed read of the file yields an
//! empty set and is kept; [`Sets::check`] reports it, and the scan checks
//! after every stage that reads sets, so no result built on a failed read
//! is ever written.

use std::borrow::Cow;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::shingle::{ShingleHash, ShingleSet};

/// Bytes per stored hash.
const HASH_BYTES: u64 = std::mem::size_of::<ShingleHash>() as u64;

/// Largest span of the file one block pass reads at once.
const BLOCK_BYTES: u64 = 32 << 20;

/// Random access to the shingle sets of documents `0..doc_count()`.
pub trait SetSource: Sync {
    /// Number of documents.
    fn doc_count(&self) -> usize;
    /// Length of document `d`'s set.
    fn set_len(&self, d: usize) -> usize;
    /// Document `d`'s set (borrowed when held in memory).
    fn set(&self, d: usize) -> Cow<'_, [ShingleHash]>;
}

impl SetSource for [ShingleSet] {
    fn doc_count(&self) -> usize {
        self.len()
    }
    fn set_len(&self, d: usize) -> usize {
        self[d].len()
    }
    fn set(&self, d: usize) -> Cow<'_, [ShingleHash]> {
        Cow::Borrowed(&self[d])
    }
}

/// The sets of a corpus, in memory or in a file (see the module notes).
pub struct Sets {
    store: Store,
}

enum Store {
    /// Sets, and the bytes they hold.
    Memory(Vec<ShingleSet>, u64),
    File(FileSets),
}

struct FileSets {
    file: File,
    /// The directory the file is in, to name in errors.
    dir: PathBuf,
    /// Offset of each set in the file, in hashes.
    at: Vec<u64>,
    /// Length of each set, in hashes.
    lens: Vec<u32>,
    /// Hashes written so far (where the next set goes).
    end: u64,
    /// The first failed read, reported by [`Sets::check`].
    failed: Mutex<Option<std::io::Error>>,
}

impl Default for Sets {
    fn default() -> Self {
        Sets::in_memory(Vec::new())
    }
}

impl Sets {
    /// Sets held in memory.
    pub fn in_memory(sets: Vec<ShingleSet>) -> Self {
        let bytes = sets.iter().map(|s| s.len() as u64 * HASH_BYTES).sum();
        Sets {
            store: Store::Memory(sets, bytes),
        }
    }

    /// Appends the sets of the next documents (`batch` is left empty). When
    /// the sets are in memory and `budget` is given, and the bytes they hold
    /// pass it, every set moves to a file in `dir` and later ones follow.
    pub fn append(
        &mut self,
        batch: &mut Vec<ShingleSet>,
        budget: Option<u64>,
        dir: &Path,
    ) -> Result<()> {
        match &mut self.store {
            Store::Memory(sets, bytes) => {
                *bytes += batch
                    .iter()
                    .map(|s| s.len() as u64 * HASH_BYTES)
                    .sum::<u64>();
                sets.append(batch);
                if budget.is_some_and(|b| *bytes > b) {
                    let held = std::mem::take(sets);
                    let mut file = FileSets::create(dir, held.len())?;
                    file.write_sets(held)?;
                    self.store = Store::File(file);
                }
                Ok(())
            }
            Store::File(file) => file.write_sets(std::mem::take(batch)),
        }
    }

    /// Whether the sets are in a file.
    pub fn on_disk(&self) -> bool {
        matches!(self.store, Store::File(_))
    }

    /// Bytes of hashes in the file (0 in memory).
    pub fn bytes_on_disk(&self) -> u64 {
        match &self.store {
            Store::Memory(..) => 0,
            Store::File(f) => f.end * HASH_BYTES,
        }
    }

    /// The first failed read of the file, as an error naming its directory.
    pub fn check(&self) -> Result<()> {
        match &self.store {
            Store::Memory(..) => Ok(()),
            Store::File(f) => match f.failed.lock().expect("lock").take() {
                Some(e) => Err(Error::io(&f.dir, e)),
                None => Ok(()),
            },
        }
    }

    /// Calls `f` with runs of consecutive documents: the first document's
    /// number and the run's sets, in document order. Runs are at most
    /// `chunk` documents; from a file, also at most 32 MiB of hashes.
    pub fn blocks(&self, chunk: usize, mut f: impl FnMut(usize, &[ShingleSet])) -> Result<()> {
        match &self.store {
            Store::Memory(sets, _) => {
                for (i, run) in sets.chunks(chunk.max(1)).enumerate() {
                    f(i * chunk.max(1), run);
                }
                Ok(())
            }
            Store::File(file) => {
                for (lo, hi) in file.runs(chunk) {
                    f(lo, &file.read_run(lo, hi)?);
                }
                Ok(())
            }
        }
    }

    /// As [`Sets::blocks`], and what `f` leaves in the sets is kept. `f` may
    /// only shorten sets.
    pub fn blocks_mut(
        &mut self,
        chunk: usize,
        mut f: impl FnMut(usize, &mut [ShingleSet]),
    ) -> Result<()> {
        match &mut self.store {
            Store::Memory(sets, bytes) => {
                for (i, run) in sets.chunks_mut(chunk.max(1)).enumerate() {
                    f(i * chunk.max(1), run);
                }
                *bytes = sets.iter().map(|s| s.len() as u64 * HASH_BYTES).sum();
                Ok(())
            }
            Store::File(file) => {
                for (lo, hi) in file.runs(chunk) {
                    let mut run = file.read_run(lo, hi)?;
                    f(lo, &mut run);
                    file.rewrite_run(lo, &run)?;
                }
                Ok(())
            }
        }
    }
}

impl SetSource for Sets {
    fn doc_count(&self) -> usize {
        match &self.store {
            Store::Memory(sets, _) => sets.len(),
            Store::File(f) => f.lens.len(),
        }
    }
    fn set_len(&self, d: usize) -> usize {
        match &self.store {
            Store::Memory(sets, _) => sets[d].len(),
            Store::File(f) => f.lens[d] as usize,
        }
    }
    fn set(&self, d: usize) -> Cow<'_, [ShingleHash]> {
        match &self.store {
            Store::Memory(sets, _) => Cow::Borrowed(&sets[d]),
            Store::File(f) => Cow::Owned(f.read_set(d)),
        }
    }
}

impl FileSets {
    fn create(dir: &Path, docs: usize) -> Result<Self> {
        let file = tempfile::tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
        Ok(FileSets {
            file,
            dir: dir.to_path_buf(),
            at: Vec::with_capacity(docs),
            lens: Vec::with_capacity(docs),
            end: 0,
            failed: Mutex::new(None),
        })
    }

    /// Appends sets at the end of the file, in writes of about 8 MiB, each
    /// set let go once copied (the first call moves every set held so far).
    fn write_sets(&mut self, sets: Vec<ShingleSet>) -> Result<()> {
        const WRITE_BYTES: usize = 8 << 20;
        let mut bytes = Vec::with_capacity(WRITE_BYTES);
        let mut offset = self.end * HASH_BYTES;
        for s in sets {
            self.at.push(self.end);
            self.lens.push(s.len() as u32);
            self.end += s.len() as u64;
            bytes.extend_from_slice(bytemuck::cast_slice(&s));
            if bytes.len() >= WRITE_BYTES {
                write_at(&self.file, &bytes, offset).map_err(|e| Error::io(&self.dir, e))?;
                offset += bytes.len() as u64;
                bytes.clear();
            }
        }
        write_at(&self.file, &bytes, offset).map_err(|e| Error::io(&self.dir, e))
    }

    /// Runs `lo..hi` of consecutive documents, at most `chunk` documents and
    /// [`BLOCK_BYTES`] each (a single larger set is a run of its own).
    fn runs(&self, chunk: usize) -> Vec<(usize, usize)> {
        let (n, chunk) = (self.lens.len(), chunk.max(1));
        let mut runs = Vec::new();
        let mut lo = 0;
        while lo < n {
            let mut hi = lo;
            let mut bytes = 0;
            while hi < n && hi - lo < chunk {
                let b = u64::from(self.lens[hi]) * HASH_BYTES;
                if hi > lo && bytes + b > BLOCK_BYTES {
                    break;
                }
                bytes += b;
                hi += 1;
            }
            runs.push((lo, hi));
            lo = hi;
        }
        runs
    }

    /// The sets of documents `lo..hi`, read in one read of their span.
    fn read_run(&self, lo: usize, hi: usize) -> Result<Vec<ShingleSet>> {
        let start = self.at[lo];
        let end = self.at[hi - 1] + u64::from(self.lens[hi - 1]);
        let mut span: Vec<ShingleHash> = vec![0; (end - start) as usize];
        read_at(
            &self.file,
            bytemuck::cast_slice_mut(&mut span),
            start * HASH_BYTES,
        )
        .map_err(|e| Error::io(&self.dir, e))?;
        Ok((lo..hi)
            .map(|d| {
                let from = (self.at[d] - start) as usize;
                span[from..from + self.lens[d] as usize].to_vec()
            })
            .collect())
    }

    /// Writes the sets of documents `lo..lo + run.len()` back, packed from
    /// where the first one was: as sets only shrink, the run fits in the
    /// span it was read from.
    fn rewrite_run(&mut self, lo: usize, run: &[ShingleSet]) -> Result<()> {
        let hi = lo + run.len();
        let start = self.at[lo];
        let old_end = self.at[hi - 1] + u64::from(self.lens[hi - 1]);
        let mut bytes = Vec::with_capacity(((old_end - start) * HASH_BYTES) as usize);
        let mut at = start;
        for (d, s) in (lo..hi).zip(run) {
            assert!(
                s.len() <= self.lens[d] as usize,
                "a set rewritten in place may only shrink"
            );
            self.at[d] = at;
            self.lens[d] = s.len() as u32;
            at += s.len() as u64;
            bytes.extend_from_slice(bytemuck::cast_slice(s));
        }
        write_at(&self.file, &bytes, start * HASH_BYTES).map_err(|e| Error::io(&self.dir, e))
    }

    /// Document `d`'s set; empty after a failed read (kept for `check`).
    fn read_set(&self, d: usize) -> ShingleSet {
        let mut set: ShingleSet = vec![0; self.lens[d] as usize];
        match read_at(
            &self.file,
            bytemuck::cast_slice_mut(&mut set),
            self.at[d] * HASH_BYTES,
        ) {
            Ok(()) => set,
            Err(e) => {
                self.failed.lock().expect("lock").get_or_insert(e);
                Vec::new()
            }
        }
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(unix)]
fn write_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(windows)]
fn write_at(file: &File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_write(buf, offset)?;
        buf = &buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<ShingleSet> {
        (0..300u32)
            .map(|d| (0..(d * 7) % 40).map(|i| i * 1000 + d).collect())
            .collect()
    }

    /// Fills a store batch by batch, as the read stage does.
    fn filled(budget: Option<u64>, dir: &Path) -> Sets {
        let mut sets = Sets::default();
        for batch in corpus().chunks(32) {
            sets.append(&mut batch.to_vec(), budget, dir).unwrap();
        }
        sets
    }

    #[test]
    fn a_file_store_reads_back_what_memory_holds() {
        let dir = tempfile::tempdir().unwrap();
        let memory = filled(None, dir.path());
        let file = filled(Some(1000), dir.path());
        assert!(!memory.on_disk());
        assert!(file.on_disk());
        let want = corpus();
        assert_eq!(
            file.bytes_on_disk(),
            want.iter().map(|s| s.len() as u64 * 4).sum::<u64>()
        );
        for store in [&memory, &file] {
            assert_eq!(store.doc_count(), want.len());
            for (d, s) in want.iter().enumerate() {
                assert_eq!(store.set_len(d), s.len());
                assert_eq!(&*store.set(d), &s[..]);
            }
            let mut seen = Vec::new();
            store
                .blocks(7, |first, run| {
                    assert_eq!(first, seen.len());
                    assert!(run.len() <= 7);
                    seen.extend_from_slice(run);
                })
                .unwrap();
            assert_eq!(seen, want);
            store.check().unwrap();
        }
    }

    #[test]
    fn shortened_sets_are_kept_in_either_store() {
        let dir = tempfile::tempdir().unwrap();
        let shorten = |_: usize, run: &mut [ShingleSet]| {
            for s in run {
                s.retain(|h| h % 3 != 0);
            }
        };
        let mut memory = filled(None, dir.path());
        let mut file = filled(Some(0), dir.path());
        memory.blocks_mut(11, shorten).unwrap();
        file.blocks_mut(11, shorten).unwrap();
        let mut want = corpus();
        shorten(0, &mut want);
        for store in [&memory, &file] {
            for (d, s) in want.iter().enumerate() {
                assert_eq!(&*store.set(d), &s[..], "document {d}");
            }
        }
        // Shortened again, from the packed layout.
        file.blocks_mut(5, |_, run| run.iter_mut().for_each(|s| s.truncate(2)))
            .unwrap();
        for (d, s) in want.iter().enumerate() {
            assert_eq!(&*file.set(d), &s[..s.len().min(2)]);
        }
    }

    #[test]
    fn sets_over_one_write_read_back_whole() {
        // 24 MB: the move to the file takes three writes.
        let big: Vec<ShingleSet> = (0..60u32)
            .map(|d| (0..100_000).map(|i| i * 7 + d).collect())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let mut sets = Sets::default();
        sets.append(&mut big.clone(), Some(1), dir.path()).unwrap();
        sets.append(&mut vec![vec![5, 6]], Some(1), dir.path())
            .unwrap();
        assert_eq!(sets.bytes_on_disk(), 60 * 400_000 + 8);
        for (d, s) in big.iter().enumerate() {
            assert_eq!(&*sets.set(d), &s[..]);
        }
        assert_eq!(&*sets.set(60), &[5, 6]);
    }

    #[test]
    fn a_failed_read_is_reported_by_check() {
        let dir = tempfile::tempdir().unwrap();
        let mut sets = filled(Some(0), dir.path());
        let Store::File(file) = &sets.store else {
            panic!("the sets are in a file");
        };
        // The file loses its contents under the scan.
        file.file.set_len(0).unwrap();
        assert!(sets.set(5).is_empty());
        let err = sets.check().unwrap_err().to_string();
        assert!(err.starts_with(&dir.path().display().to_string()), "{err}");
        assert!(sets.blocks(7, |_, _| {}).is_err());
        assert!(sets.blocks_mut(7, |_, _| {}).is_err());
    }

    #[test]
    fn a_store_under_its_budget_stays_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let total: u64 = corpus().iter().map(|s| s.len() as u64 * 4).sum();
        assert!(!filled(Some(total), dir.path()).on_disk());
        assert!(filled(Some(total - 1), dir.path()).on_disk());
    }
}
