//! Terminal progress for the binary: an indicatif bar per step of each stage on stderr
//! when stderr is a terminal, and warnings for bad records.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressState, ProgressStyle};
use wiretrace::ingest::BadRecord;
use wiretrace::observe::{Observer, Stage};

/// Prints warnings (at most `max_warnings`, then a count) and draws bars.
pub struct Terminal {
    /// The current stage and its step's bar.
    bar: Mutex<Option<(Stage, ProgressBar)>>,
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
        if let Some((_, bar)) = self.bar.lock().expect("progress lock").as_ref() {
            f(bar);
        }
    }

    /// Replaces the bar with a new one for this step of `stage` (`None`:
    /// of the current stage, if a bar is shown): a fresh bar never shows
    /// one step's count against another's length.
    fn show(&self, stage: Option<Stage>, what: &str, total: Option<u64>) {
        let mut slot = self.bar.lock().expect("progress lock");
        let Some(stage) = stage.or(slot.as_ref().map(|b| b.0)) else {
            return;
        };
        if let Some((_, old)) = slot.take() {
            old.finish_and_clear();
        }
        let bar = new_bar(stage, what, total);
        bar.enable_steady_tick(Duration::from_millis(200));
        *slot = Some((stage, bar));
    }

    fn finish(&self) {
        if let Some((_, bar)) = self.bar.lock().expect("progress lock").take() {
            bar.finish_and_clear();
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

    fn stage_start(&self, stage: Stage, what: &str, total: Option<u64>) {
        if !self.show_bars {
            return;
        }
        self.bytes.store(0, Ordering::Relaxed);
        self.show(Some(stage), what, total);
    }

    fn step(&self, what: &str, total: Option<u64>) {
        self.show(None, what, total);
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
        self.finish();
    }
}

impl Drop for Terminal {
    /// A run that fails mid-stage leaves no bar above its error message.
    fn drop(&mut self) {
        self.finish();
    }
}

/// Units per second, as a whole number with thousands separators.
fn rate(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{}/s", HumanCount(state.per_sec().round() as u64));
}

/// A bar for a step of `stage`: over `total` units when known (with the
/// rate and the time left), else a spinner saying what runs. The read
/// stage's spinner counts articles and its message is the bytes read.
fn new_bar(stage: Stage, what: &str, total: Option<u64>) -> ProgressBar {
    let template = match (total, stage) {
        (Some(_), _) => "{prefix:>11} [{bar:25}] {human_pos}/{human_len} {msg}, {rate}, eta {eta}",
        (None, Stage::Read) => {
            "{prefix:>11} {spinner} {human_pos} articles ({rate}), {msg}, {elapsed}"
        }
        (None, _) => "{prefix:>11} {spinner} {msg}, {elapsed}",
    };
    let style = ProgressStyle::with_template(template)
        .expect("template")
        .with_key("rate", rate)
        .progress_chars("=> ");
    // Built whole before its first draw.
    match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    }
    .with_style(style)
    .with_prefix(stage.as_str())
    .with_message(what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::{InMemoryTerm, ProgressDrawTarget};

    /// What a bar for this step draws after `done` units.
    fn drawn(stage: Stage, what: &str, total: Option<u64>, done: u64) -> String {
        let term = InMemoryTerm::new(2, 160);
        let bar = new_bar(stage, what, total);
        bar.set_draw_target(ProgressDrawTarget::term_like(Box::new(term.clone())));
        bar.inc(done);
        bar.tick();
        term.contents()
    }

    #[test]
    fn a_counted_step_shows_its_count_total_and_unit() {
        let shown = drawn(Stage::Verify, "candidate pairs", Some(2000), 1500);
        assert!(shown.trim_start().starts_with("verify ["), "{shown}");
        assert!(shown.contains("1,500/2,000 candidate pairs, "), "{shown}");
        assert!(shown.contains("/s, eta "), "{shown}");
    }

    #[test]
    fn a_spinner_names_what_runs_and_the_read_stage_counts_articles() {
        let shown = drawn(
            Stage::Lsh,
            "banding signatures into candidate pairs",
            None,
            0,
        );
        assert!(shown.contains("lsh"), "{shown}");
        assert!(
            shown.contains("banding signatures into candidate pairs, "),
            "{shown}"
        );
        assert!(!shown.contains("articles"), "{shown}");
        let shown = drawn(Stage::Read, "reading", None, 1234);
        assert!(shown.contains("1,234 articles ("), "{shown}");
        assert!(shown.contains("), reading, "), "{shown}");
    }
}
