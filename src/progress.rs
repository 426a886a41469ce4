//! Terminal progress for the binary: an indicatif bar per stage on stderr
//! when stderr is a terminal, and warnings for bad records.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use wiretrace::ingest::BadRecord;
use wiretrace::scan::{Observer, Stage};

/// Prints warnings (at most `max_warnings`, then a count) and draws bars.
pub struct Terminal {
    bar: Mutex<Option<ProgressBar>>,
    show_bars: bool,
    warned: AtomicU64,
    max_warnings: u64,
    bytes: AtomicU64,
    input_bytes: AtomicU64,
}

impl Terminal {
    pub fn new(quiet: bool, max_warnings: u64) -> Self {
        Terminal {
            bar: Mutex::new(None),
            show_bars: !quiet && std::io::stderr().is_terminal(),
            warned: AtomicU64::new(0),
            max_warnings,
            bytes: AtomicU64::new(0),
            input_bytes: AtomicU64::new(0),
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(bar) = self.bar.lock().expect("progress lock").as_ref() {
            f(bar);
        }
    }

    /// How many warnings were suppressed.
    pub fn suppressed(&self) -> u64 {
        self.warned
            .load(Ordering::Relaxed)
            .saturating_sub(self.max_warnings)
    }
}

impl Observer for Terminal {
    fn bad_record(&self, bad: &BadRecord) {
        let n = self.warned.fetch_add(1, Ordering::Relaxed);
        if n < self.max_warnings {
            let msg = format!("warning: skipped {bad}");
            let mut printed = false;
            self.with_bar(|b| {
                b.suspend(|| eprintln!("{msg}"));
                printed = true;
            });
            if !printed {
                eprintln!("{msg}");
            }
        }
    }

    fn stage_start(&self, stage: Stage, total: Option<u64>) {
        if !self.show_bars {
            return;
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template(
                    "{prefix:>11} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}",
                )
                .expect("template")
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template(
                    "{prefix:>11} {spinner} {human_pos} articles ({per_sec}), {msg}, {elapsed}",
                )
                .expect("template"),
            ),
        };
        bar.set_prefix(stage.as_str());
        self.bytes.store(0, Ordering::Relaxed);
        bar.enable_steady_tick(Duration::from_millis(200));
        *self.bar.lock().expect("progress lock") = Some(bar);
    }

    fn input_bytes(&self, bytes: u64) {
        self.input_bytes.store(bytes, Ordering::Relaxed);
    }

    fn advance(&self, units: u64, bytes: u64) {
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let input = self.input_bytes.load(Ordering::Relaxed);
        self.with_bar(|b| {
            b.inc(units);
            if bytes > 0 {
                let secs = b.elapsed().as_secs_f64().max(1e-3);
                let mb = total as f64 / 1e6;
                let rate = mb / secs;
                // Article text is most of an input file; markup makes the
                // estimate of the time left slightly long, never short.
                let eta = if input > total && rate > 0.0 {
                    format!(", about {:.0} s left", (input - total) as f64 / 1e6 / rate)
                } else {
                    String::new()
                };
                b.set_message(format!("{mb:.0} MB at {rate:.0} MB/s{eta}"));
            }
        });
    }

    fn stage_end(&self, _stage: Stage) {
        if let Some(bar) = self.bar.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
    }
}
