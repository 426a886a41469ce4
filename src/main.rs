//! The `wiretrace` binary: parses flags (see `cli`), builds the library's
//! configuration, runs a command, and maps the outcome to an exit code:
//! 0 all records used, 1 some records skipped, 2 fatal error.

mod cli;
mod progress;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use cli::{CalibrateArgs, Cli, Command, CompareArgs, EvalArgs, ScanArgs, SynthArgs};
use wiretrace::align::PassageKind;
use wiretrace::observe::{Observer, Stage};

// Page faults are expensive on the VMs this runs on (~4 us per 4 KiB page
// measured); mimalloc reuses freed pages across the scan's many mid-sized
// vectors instead of returning them to the kernel and faulting them back.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code of a run ended by a signal (128 + SIGINT, as shells report
/// Ctrl-C).
const INTERRUPTED: i32 = 130;

fn main() -> ExitCode {
    // Where the kernel backs memory with transparent huge pages, regions
    // mimalloc hands back and takes again are faulted in as fresh, zeroed
    // 2 MiB pages (14% of all samples at 200k articles; the 1M verbatim
    // scan runs about 3% faster without). The scan's memory is many
    // mid-sized vectors, which gain little from huge pages. A kernel that
    // refuses is no reason to stop.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    // Ctrl-C, SIGTERM or SIGHUP ends the run at once, but first removes the
    // temporary files it has in --out (a half-written report, the texts of
    // compressed inputs): dropped by nobody, they would stay behind.
    let _ = ctrlc::set_handler(|| {
        let removed = wiretrace::cleanup::remove_listed();
        eprintln!("\ninterrupted: {removed} temporary file(s) removed");
        std::process::exit(INTERRUPTED);
    });
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => run_scan(&args),
        Command::Synth(args) => run_synth(&args),
        Command::Eval(args) => run_eval(&args),
        Command::Compare(args) => run_compare(&args),
        Command::Calibrate(args) => run_calibrate(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = threads {
        anyhow::ensure!(n > 0, "invalid setting --threads: must be at least 1");
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("could not start the thread pool")?;
    }
    Ok(())
}

fn run_scan(args: &ScanArgs) -> anyhow::Result<ExitCode> {
    let cfg = args.config()?;
    set_threads(args.threads)?;
    let term = progress::Terminal::new(args.quiet, args.max_warnings);
    // Checked before the scan, so it fails at once rather than after a long run.
    if args.out.exists() && !args.out.is_dir() {
        anyhow::bail!(
            "invalid setting --out {}: it is a file, not a directory",
            args.out.display()
        );
    }
    if cfg.memory_limit.is_some() {
        // Sorted runs, and the shingle sets once over their share, are
        // written there (as unnamed temporary files).
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("creating {}", args.out.display()))?;
    }
    // A run that would outgrow the machine, or the disk it spills to, says
    // so before it starts.
    if let Ok(sources) = wiretrace::ingest::discover(&args.input.inputs, &cfg.ingest)
        && let Some(input) = wiretrace::scan::InputSize::of(&sources)
    {
        let memory =
            wiretrace::scan::memory_warning(input, &cfg, wiretrace::scan::machine_memory_bytes());
        let free = wiretrace::report::free_bytes(&cfg.spill_dir());
        let disk = wiretrace::scan::disk_warning(input, &cfg, free);
        for warning in memory.into_iter().chain(disk) {
            eprintln!("warning: {warning}");
        }
    }
    let mut out = wiretrace::scan::scan(&args.input.inputs, &cfg, &term)?;
    let reporting = std::time::Instant::now();
    if out.summary.records.read == 0 {
        eprintln!(
            "warning: no articles found in the inputs (directories are searched for .txt, .jsonl, .csv and .sgm files)"
        );
    }
    if term.suppressed() > 0 {
        eprintln!(
            "warning: {} more skipped records not shown (see summary.json)",
            term.suppressed()
        );
    }
    term.stage_start(Stage::Reports, "choosing the texts the reports show", None);
    // The page shows some texts in full and titles stories; read back those
    // the scan let go.
    // Without the page, only untitled story origins are read back (the
    // summary titles them by their first words).
    let html_budget = if args.no_html {
        0
    } else {
        args.html_text_mb << 20
    };
    // The quotes are a report's choice, not the scan's.
    out.summary.passage_text &= !args.no_passage_text;
    let need = wiretrace::html::texts_needed(&out, html_budget);
    out.summary.texts_reread += out.restore_texts(&need, &cfg.ingest, &term)?;
    term.step(
        if args.no_html {
            "writing the tables"
        } else {
            "writing the tables and the page"
        },
        None,
    );
    // The tables and the page are independent: written side by side, into
    // a directory that must exist before either starts.
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let style = wiretrace::report::CsvStyle { excel: args.excel };
    wiretrace::report::check_space(
        &args.out,
        &out,
        style,
        wiretrace::report::free_bytes(&args.out),
    )?;
    let (tables, page) = rayon::join(
        || {
            wiretrace::report::write_tables(&args.out, &out, style)
                .with_context(|| format!("writing reports to {}", args.out.display()))
        },
        || {
            let page = args.out.join("report.html");
            if args.no_html {
                return Ok(wiretrace::report::remove_stale(&page)?);
            }
            wiretrace::html::write_html(&page, &out, html_budget, 2000)
                .with_context(|| format!("writing {}", page.display()))
        },
    );
    term.stage_end(Stage::Reports);
    tables?;
    page?;
    if args.excel {
        for w in wiretrace::report::excel_row_warnings(&out) {
            eprintln!("warning: {w}");
        }
    }
    out.summary
        .timings
        .add_stage(Stage::Reports.as_str(), reporting);
    wiretrace::report::write_summary(&args.out, &out)
        .with_context(|| format!("writing reports to {}", args.out.display()))?;
    let text = wiretrace::report::render_summary(&out, &args.out);
    std::io::stdout().write_all(text.as_bytes())?;
    let code = if out.summary.records.skipped > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // Freeing a large scan's memory page by page takes time and changes
    // nothing: the process ends here. The texts go first: that deletes
    // the temporary file of texts, if the scan wrote one.
    drop(std::mem::take(&mut out.texts));
    std::mem::forget(out);
    Ok(code)
}

fn run_synth(args: &SynthArgs) -> anyhow::Result<ExitCode> {
    let cfg = args.config()?;
    let started = std::time::Instant::now();
    let stats = wiretrace::synth::Generator::new(cfg)?.run(&args.out)?;
    println!(
        "wrote {} articles ({} wire stories, {} follow-ups, {} unrelated; {:.1} MB) to {} and {} in {:.1} s",
        stats.docs,
        stats.stories,
        stats.followups,
        stats.unrelated,
        stats.bytes as f64 / 1e6,
        args.out.display(),
        wiretrace::synth::truth_path(&args.out).display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_eval(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    if wiretrace::eval::is_rewrite_table(&args.truth) {
        let eval = wiretrace::eval::evaluate_rewrites(&args.truth, &args.report)?;
        print!("{}", wiretrace::eval::render_rewrites(&eval));
        if let Some(path) = &args.json {
            wiretrace::report::write_atomic(path, |w| {
                serde_json::to_writer_pretty(&mut *w, &eval)?;
                w.write_all(b"\n")
            })?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let truth = wiretrace::eval::TruthSet::load(&args.truth)?;
    let eval = wiretrace::eval::evaluate(&truth, &args.report)?;
    print!("{}", wiretrace::eval::render(&eval));
    if let Some(path) = &args.json {
        wiretrace::report::write_atomic(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &eval)?;
            w.write_all(b"\n")
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

fn run_calibrate(args: &CalibrateArgs) -> anyhow::Result<ExitCode> {
    use wiretrace::calibrate;
    let cfg = wiretrace::config::RewordConfig {
        min_cosine: args.reword_cosine,
        min_dice: args.reword_dice,
        ..Default::default()
    };
    cfg.validate()?;
    let (pairs, bad) = calibrate::read_mrpc(&args.mrpc)?;
    for b in bad.iter().take(20) {
        eprintln!("warning: skipped {b}");
    }
    let c = calibrate::calibrate(&pairs, bad.len(), &cfg);
    let line = |name: &str, s: &calibrate::Scores| {
        format!(
            "{name}: precision {:.3}  recall {:.3}  F1 {:.3}  ({} pairs, {} paraphrases)",
            s.precision, s.recall, s.f1, s.pairs, s.positives
        )
    };
    println!(
        "{} lines read, {} pairs scored, {} skipped",
        c.lines,
        c.lines - c.skipped,
        c.skipped
    );
    println!(
        "sentence cosine ROC AUC: calibration {:.3}, held-out {:.3}",
        c.auc_calibration, c.auc_held_out
    );
    println!(
        "thresholds in use: cosine >= {:.2} and dice >= {:.2}",
        c.configured.0, c.configured.1
    );
    println!("  {}", line("calibration", &c.configured_calibration));
    println!("  {}", line("held-out   ", &c.configured_held_out));
    println!(
        "best F1 on calibration: cosine >= {:.2} and dice >= {:.2}",
        c.best_f1.0, c.best_f1.1
    );
    println!("  {}", line("held-out   ", &c.best_f1_held_out));
    if let Some(path) = &args.json {
        wiretrace::report::write_atomic(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &c)?;
            w.write_all(b"\n")
        })?;
    }
    Ok(if bad.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Finds the two articles: files when they exist and no --in is given,
/// else ids in the --in inputs.
fn load_pair(
    args: &CompareArgs,
    cfg: &wiretrace::config::ScanConfig,
) -> anyhow::Result<[wiretrace::document::Document; 2]> {
    use wiretrace::document::Document;
    use wiretrace::ingest::{self, Item};
    if args.inputs.is_empty() {
        let read = |p: &str| -> anyhow::Result<Document> {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {p}"))?;
            Ok(Document {
                id: std::path::Path::new(p)
                    .file_name()
                    .map_or_else(|| p.to_string(), |n| n.to_string_lossy().into_owned()),
                text,
                ..Document::default()
            })
        };
        return Ok([read(&args.a)?, read(&args.b)?]);
    }
    let sources = ingest::discover(&args.inputs, &cfg.ingest)?;
    let (mut a, mut b) = (None, None);
    ingest::read_sources(&sources, &cfg.ingest, None, &mut |item| {
        if let Item::Doc(d, _) = item {
            if d.id == args.a && a.is_none() {
                a = Some(d.clone());
            }
            if d.id == args.b && b.is_none() {
                b = Some(d);
            }
        }
        Ok(())
    })?;
    let missing = |id: &str| anyhow::anyhow!("no article with id '{id}' in {:?}", args.inputs);
    Ok([
        a.ok_or_else(|| missing(&args.a))?,
        b.ok_or_else(|| missing(&args.b))?,
    ])
}

fn run_compare(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    let cfg = args.config()?;
    let [a, b] = load_pair(args, &cfg)?;
    let c = wiretrace::compare::compare(&a, &b, &cfg);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let slice = |d: &wiretrace::document::Document, r: (u32, u32)| {
        d.text[r.0 as usize..r.1 as usize].to_string()
    };
    if args.csv {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(wiretrace::report::PASSAGES_HEADER)?;
        for p in &c.passages {
            w.write_record([
                a.id.clone(),
                b.id.clone(),
                p.a_chars.0.to_string(),
                p.a_chars.1.to_string(),
                p.b_chars.0.to_string(),
                p.b_chars.1.to_string(),
                p.kind.as_str().to_string(),
                wiretrace::report::fmt_share(p.similarity),
                slice(&a, p.a_bytes),
                slice(&b, p.b_bytes),
            ])?;
        }
        w.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    writeln!(out, "A {} ({} shingles)", paint("1", &a.id), c.shingles_a)?;
    writeln!(out, "B {} ({} shingles)", paint("1", &b.id), c.shingles_b)?;
    writeln!(
        out,
        "jaccard {:.4}  A in B {:.4}  B in A {:.4}  shared {}  reworded {:.4}  relation {}",
        c.jaccard,
        c.a_in_b,
        c.b_in_a,
        c.shared,
        c.reworded,
        c.relation.map_or("none", |r| r.as_str())
    )?;
    writeln!(out, "{} shared passages", c.passages.len())?;
    for (i, p) in c.passages.iter().enumerate() {
        let kind = match p.kind {
            PassageKind::Verbatim => paint("32", "verbatim"),
            PassageKind::Edited => paint("33", &format!("edited, similarity {:.4}", p.similarity)),
            PassageKind::Reworded => paint("34", &format!("reworded, cosine {:.4}", p.similarity)),
        };
        writeln!(
            out,
            "\n[{}] A {}..{}  B {}..{}  {}",
            i + 1,
            p.a_chars.0,
            p.a_chars.1,
            p.b_chars.0,
            p.b_chars.1,
            kind
        )?;
        writeln!(out, "  A: {}", paint("36", &slice(&a, p.a_bytes)))?;
        if !p.is_verbatim() {
            writeln!(out, "  B: {}", paint("35", &slice(&b, p.b_bytes)))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
