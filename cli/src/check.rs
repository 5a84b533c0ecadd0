//! `strata check`.

use std::process::ExitCode;

use strata_schema::{CheckOptions, Engine, Severity};

use crate::{CheckArgs, EngineArg, Format, pg_check};

pub fn check(args: CheckArgs) -> Result<ExitCode, String> {
    let engines = match args.engine {
        None => None,
        Some(EngineArg::All) => Some(Engine::ALL.to_vec()),
        Some(EngineArg::Sqlite) => Some(vec![Engine::Sqlite]),
        Some(EngineArg::Postgres) => Some(vec![Engine::Postgres]),
    };
    let options = CheckOptions {
        engines: engines.clone(),
        execute: true,
        capture: None,
    };
    let mut report = strata_schema::check(&args.dir, &options).map_err(|e| e.to_string())?;
    let wants_pg = engines
        .as_ref()
        .is_none_or(|e| e.contains(&Engine::Postgres))
        && report.tree.manifest.targets(Engine::Postgres);
    if let Some(url) = &args.server.postgres
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
