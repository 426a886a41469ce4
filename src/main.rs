//! The `wiretrace` binary: parses flags (see `cli`), builds the library's
//! configuration, runs a command, and maps the outcome to an exit code:
//! 0 all records used, 1 some records skipped, 2 fatal error.

mod cli;
mod progress;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use cli::{Cli, Command, EvalArgs, ScanArgs, SynthArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => run_scan(&args),
        Command::Synth(args) => run_synth(&args),
        Command::Eval(args) => run_eval(&args),
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
    let out = wiretrace::scan::scan(&args.input.inputs, &cfg, &term)?;
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
    wiretrace::report::write_reports(&args.out, &out)
        .with_context(|| format!("writing reports to {}", args.out.display()))?;
    let text = wiretrace::report::render_summary(&out, &args.out);
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(if out.summary.records.skipped > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
