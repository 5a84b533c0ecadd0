//! `strata dump --version N`: writes `full_schemas/<N>/` from the replayed history.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use strata_schema::snapshot::{self, SnapshotFile};
use strata_schema::{CheckOptions, Engine, Tree};

use crate::{SingleEngine, pg_check};

/// Arguments of `strata dump`.
#[derive(clap::Args, Debug)]
pub struct DumpArgs {
    /// The version to write the snapshot of.
    #[arg(long, value_name = "N")]
    version: u32,
    /// The tree's root folder.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Only this engine (default: every engine the tree targets; PostgreSQL needs
    /// `--postgres`).
    #[arg(long, value_enum)]
    engine: Option<SingleEngine>,
    #[command(flatten)]
    server: crate::ScratchServer,
    /// Replace the files of an existing snapshot at that version.
    #[arg(long)]
    force: bool,
    /// Print the files instead of writing them.
    #[arg(long)]
    stdout: bool,
}

type Failure = (ExitCode, String);

pub fn dump(args: &DumpArgs) -> Result<ExitCode, Failure> {
    let fail = |m: String| (ExitCode::from(1), m);
    let tree = Tree::load(&args.dir).map_err(|e| (ExitCode::from(2), e.to_string()))?;
    let engines: Vec<Engine> = match args.engine {
        Some(e) => vec![e.engine()],
        None => tree.manifest.engines.clone(),
    };
    for e in &engines {
        if !tree.manifest.targets(*e) {
            return Err((
                ExitCode::from(2),
                format!("this tree does not target {e} (strata.toml `engines`)"),
            ));
        }
    }
    if engines.contains(&Engine::Postgres) && args.server.postgres.is_none() {
        return Err((
            ExitCode::from(2),
            "the PostgreSQL snapshot is dumped from a real server: pass --postgres URL (a scratch database is created there and dropped), or --engine sqlite".to_string(),
        ));
    }
    let options = CheckOptions {
        engines: Some(vec![Engine::Sqlite]),
        execute: true,
        capture: Some(args.version),
    };
    let analysis = strata_schema::analysis::analyse(&tree, &options)
        .map_err(|e| (ExitCode::from(2), e.to_string()))?;
    if analysis.has_errors() {
        eprint!(
            "{}",
            strata_schema::diagnostic::render(&analysis.diagnostics, Some(&tree))
        );
        return Err(fail(format!(
            "the tree has {} error(s): fix them before dumping a snapshot (run `strata check`)",
            analysis.counts().0
        )));
    }
    let mut files = Vec::new();
    if engines.contains(&Engine::Sqlite) {
        files.extend(snapshot::sqlite_files(&tree, &analysis, args.version).map_err(fail)?);
    }
    if engines.contains(&Engine::Postgres) {
        let url = args.server.postgres.as_deref().expect("checked above");
        files.extend(
            pg_check::dump_snapshot(&tree, &analysis, url, args.version)
                .map_err(|e| fail(e.to_string()))?,
        );
    }
    if args.stdout {
        for f in &files {
            println!("==> {} <==", f.path.display());
            print!("{}", f.text);
        }
        return Ok(ExitCode::SUCCESS);
    }
    write(&args.dir, &files, &engines, args.force)?;
    for f in &files {
        println!("wrote {}", args.dir.join(&f.path).display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `files`, refusing to overwrite a snapshot unless `force`; with `force`, the
/// snapshot's other files for the engines written go (a generic `.sql` only when every
/// engine is written).
fn write(
    root: &Path,
    files: &[SnapshotFile],
    engines: &[Engine],
    force: bool,
) -> Result<(), Failure> {
    let fail = |m: String| (ExitCode::from(2), m);
    let mut folders: Vec<PathBuf> = files
        .iter()
        .filter_map(|f| f.path.parent().map(|p| root.join(p)))
        .collect();
    folders.dedup();
    for folder in &folders {
        let Ok(entries) = std::fs::read_dir(folder) else {
            continue;
        };
        let mut existing: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        existing.sort();
        if existing.is_empty() {
            continue;
        }
        if !force {
            return Err(fail(format!(
                "`{}` already exists ({}); pass --force to replace its files",
                folder.display(),
                existing
                    .iter()
                    .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for path in existing {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let engine_only = engines
                .iter()
                .any(|e| name.ends_with(&format!(".sql.{}", e.name())));
            let generic = name.ends_with(".sql");
            if generic && engines.len() < 2 {
                return Err(fail(format!(
                    "`{}` applies to every engine: dump every engine at once (no --engine) to replace it",
                    path.display()
                )));
            }
            if engine_only || generic {
                std::fs::remove_file(&path)
                    .map_err(|e| fail(format!("cannot remove `{}`: {e}", path.display())))?;
            }
        }
    }
    for f in files {
        let path = root.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| fail(format!("cannot create `{}`: {e}", parent.display())))?;
        }
        std::fs::write(&path, &f.text)
            .map_err(|e| fail(format!("cannot write `{}`: {e}", path.display())))?;
    }
    Ok(())
}
