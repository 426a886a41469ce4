//! Temporary files to remove when a run is interrupted.
//!
//! A temporary file in `--out` (a report being written, the texts of inputs
//! that cannot be read again) is deleted by its owner when dropped, but a
//! run ended by Ctrl-C or `kill` drops nothing: at a million articles that
//! leaves gigabytes behind. Such files are listed here while they live, and
//! the binary's signal handler removes those still listed
//! ([`remove_listed`]) before it exits. Files created already unlinked
//! (the shingle sets and sorted runs under `--memory-limit`) need nothing.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static LISTED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn listed() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A panic elsewhere while holding the lock leaves the list as it was.
    LISTED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Keeps `path` listed while it lives.
#[derive(Debug)]
pub struct Listing(PathBuf);

impl Listing {
    /// Lists `path` until the returned value is dropped.
    pub fn new(path: &Path) -> Listing {
        listed().push(path.to_path_buf());
        Listing(path.to_path_buf())
    }
}

impl Drop for Listing {
    fn drop(&mut self) {
        let mut list = listed();
        if let Some(i) = list.iter().rposition(|p| *p == self.0) {
            list.swap_remove(i);
        }
    }
}

/// A temporary file deleted when dropped (a [`tempfile::TempPath`]), and
/// listed until then.
#[derive(Debug)]
pub struct ListedPath {
    // Fields drop in order: the file goes before its listing, so a signal
    // in between finds nothing left to remove rather than a file unlisted.
    path: tempfile::TempPath,
    _listing: Listing,
}

impl ListedPath {
    /// Lists `path`.
    pub fn new(path: tempfile::TempPath) -> ListedPath {
        let _listing = Listing::new(&path);
        ListedPath { path, _listing }
    }
}

impl std::ops::Deref for ListedPath {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

/// Removes every listed file that still exists; returns how many it
/// removed. For a signal handler: the process is about to end.
///
/// ```
/// use wiretrace::cleanup::{Listing, remove_listed};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("partial.tmp");
/// std::fs::write(&path, "half a report").unwrap();
/// let listing = Listing::new(&path);
/// assert_eq!(remove_listed(), 1);
/// assert!(!path.exists());
/// drop(listing);
/// assert_eq!(remove_listed(), 0);
/// ```
pub fn remove_listed() -> usize {
    listed()
        .iter()
        .filter(|p| std::fs::remove_file(p).is_ok())
        .count()
}
