//! wiretrace finds near-duplicate and syndicated news copy: which outlets
//! reran the same wire story (verbatim, truncated, padded or reworded) and
//! which passages they share.
//!
//! The pipeline, one module per stage (see `ARCHITECTURE.md`):
//! [`ingest`] → [`shingle`] → [`boilerplate`] → [`minhash`] → [`lsh`] →
//! [`verify`] → [`cluster`] → [`report`], driven by [`scan`].

#![warn(missing_docs)]

pub mod boilerplate;
pub mod calibrate;
pub mod cleanup;
pub mod cluster;
pub mod config;
pub mod direct;
pub mod document;
pub mod error;
pub mod ingest;
pub mod lsh;
pub mod minhash;
pub mod observe;
pub mod report;
pub mod reword;
pub mod scan;
pub mod sets;
pub mod shingle;
pub mod spill;
pub mod verify;

pub use error::{Error, Result};
pub mod align;
pub mod compare;
pub mod eval;
pub mod fingerprint;
pub mod html;
pub mod synth;
