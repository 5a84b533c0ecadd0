//! The `strata` command line.

mod pg_check;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use strata_schema::{CheckOptions, Engine, Severity};

/// Versioned SQL schema migrations for SQLite and PostgreSQL, checked before they run.
#[derive(Parser, Debug)]
#[command(name = "strata", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a migration tree: lints, execution on an in-memory SQLite, snapshot drift.
    ///
    /// Exit status: 0 when no error was found (warnings allowed), 1 when at least one
    /// error was found, 2 when the tree or a database could not be read.
    #[command(
        after_help = "Examples:\n  strata check examples/chat/schema\n  strata check schema --engine sqlite --format json\n  strata check schema --postgres postgres://postgres@127.0.0.1:5432/postgres"
    )]
    Check(CheckArgs),
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// The tree's root folder.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Engines to check (default: the manifest's `engines`).
    #[arg(long, value_enum)]
    engine: Option<EngineArg>,
    /// Also execute the PostgreSQL history in a scratch database created (and dropped) on
    /// this server.
    #[arg(long, value_name = "URL", env = "STRATA_CHECK_POSTGRES")]
    postgres: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum EngineArg {
    Sqlite,
    Postgres,
    All,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => match check(args) {
            Ok(code) => code,
            Err(msg) => {
                eprintln!("error: {msg}");
                ExitCode::from(2)
            }
        },
    }
}

fn check(args: CheckArgs) -> Result<ExitCode, String> {
    let engines = match args.engine {
        None => None,
        Some(EngineArg::All) => Some(Engine::ALL.to_vec()),
        Some(EngineArg::Sqlite) => Some(vec![Engine::Sqlite]),
        Some(EngineArg::Postgres) => Some(vec![Engine::Postgres]),
    };
    let options = CheckOptions {
        engines: engines.clone(),
        execute: true,
    };
    let mut report = strata_schema::check(&args.dir, &options).map_err(|e| e.to_string())?;
    let wants_pg = engines
        .as_ref()
        .is_none_or(|e| e.contains(&Engine::Postgres))
        && report.tree.manifest.targets(Engine::Postgres);
    if let Some(url) = &args.postgres
        && wants_pg
    {
        let found = pg_check::execute_history(&report.tree, &report.analysis, url)
            .map_err(|e| e.to_string())?;
        report.analysis.diagnostics.extend(found);
        report
            .analysis
            .diagnostics
            .sort_by_cached_key(|d| d.sort_key());
    }
    let diags = &report.analysis.diagnostics;
    match args.format {
        Format::Json => {
            let json: Vec<_> = diags.iter().map(|d| d.to_json()).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json).expect("JSON of plain values")
            );
        }
        Format::Human => {
            print!("{}", report.render());
            let (errors, warnings) = report.analysis.counts();
            let files = report.tree.files.len();
            eprintln!(
                "strata check: {errors} error{}, {warnings} warning{} in {files} file{}",
                plural(errors),
                plural(warnings),
                plural(files)
            );
        }
    }
    Ok(if diags.iter().any(|d| d.severity == Severity::Error) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
