//! The `strata` command line: check, plan and apply SQL migration trees.
//!
//! Exit status: 0 success, 1 errors in the tree or a refused/failed migration, 2 unreadable
//! tree, unreachable database or bad arguments, 3 (`status` only) work is pending.

mod check;
mod commands;
mod db;
mod pg_check;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

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
    /// Show what `migrate` would do, with the full SQL of each step. Applies nothing.
    ///
    /// Without a database, plans a fresh database of `--engine`. `--sql` prints one script
    /// a DBA can run by hand; it records what it applies, so strata sees it as applied.
    #[command(
        after_help = "Examples:\n  strata plan schema --database sqlite:app.db\n  strata plan schema --sql --engine postgres > migrate.sql"
    )]
    Plan {
        #[command(flatten)]
        tree: TreeArg,
        #[command(flatten)]
        db: DbArgs,
        /// Print one SQL script instead of a description.
        #[arg(long)]
        sql: bool,
        /// Engine of the fresh database planned when no database is given.
        #[arg(long, value_enum)]
        engine: Option<SingleEngine>,
    },
    /// Apply every pending delta (up to `--to`).
    #[command(
        after_help = "Examples:\n  strata migrate schema --database sqlite:app.db\n  DATABASE_URL=postgres://app@db/app strata migrate schema\n  strata migrate schema --store-database main=sqlite:main.db --store-database state=sqlite:state.db"
    )]
    Migrate {
        #[command(flatten)]
        tree: TreeArg,
        #[command(flatten)]
        db: DbArgs,
        /// Stop at this version.
        #[arg(long, value_name = "N")]
        to: Option<u32>,
    },
    /// Per store: version, compat version, snapshot, applied and pending deltas, pending
    /// background updates.
    ///
    /// Exit status: 0 up to date, 3 pending work (deltas or background updates).
    #[command(
        after_help = "Examples:\n  strata status schema --database sqlite:app.db\n  strata status schema --database sqlite:app.db --format json"
    )]
    Status {
        #[command(flatten)]
        tree: TreeArg,
        #[command(flatten)]
        db: DbArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Create the next delta file in the current version's folder, with a header comment.
    #[command(
        after_help = "Examples:\n  strata new add_user_email schema\n  strata new rebuild_rooms schema --engine sqlite --store main"
    )]
    New {
        /// The delta's name (letters, digits, `_`).
        name: String,
        #[command(flatten)]
        tree: TreeArg,
        /// Create an engine-only file (`.sql.sqlite` / `.sql.postgres`).
        #[arg(long, value_enum)]
        engine: Option<SingleEngine>,
        /// The store (trees with several stores).
        #[arg(long)]
        store: Option<String>,
    },
    /// Background updates: `status` lists them, `run` runs the built-in ones to completion.
    #[command(subcommand)]
    Bg(BgCommand),
    /// Adopt an existing database whose schema is at version N: record every delta up to N
    /// as applied without running it.
    #[command(
        after_help = "Example:\n  strata baseline --version 12 schema --database sqlite:legacy.db"
    )]
    Baseline {
        #[command(flatten)]
        tree: TreeArg,
        #[command(flatten)]
        db: DbArgs,
        /// The version the database's schema is at.
        #[arg(long, value_name = "N")]
        version: u32,
    },
}

#[derive(Subcommand, Debug)]
enum BgCommand {
    /// Each update: ordering, dependency, progress, completed or not, built-in or needing an
    /// application handler. Exit status 3 while any is pending.
    #[command(after_help = "Example:\n  strata bg status schema --database sqlite:app.db")]
    Status {
        #[command(flatten)]
        tree: TreeArg,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Run the pending updates in order, one at a time, with progress. Stops before an update
    /// that needs an application handler, naming it and the delta that scheduled it.
    #[command(after_help = "Example:\n  strata bg run schema --database sqlite:app.db")]
    Run {
        #[command(flatten)]
        tree: TreeArg,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(clap::Args, Debug)]
struct TreeArg {
    /// The tree's root folder.
    #[arg(default_value = ".")]
    dir: PathBuf,
}

#[derive(clap::Args, Debug)]
struct DbArgs {
    /// Database of every store: `sqlite:PATH` or `postgres://USER@HOST/DB` [env: DATABASE_URL].
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
    /// Database of one store, `STORE=URL` (repeatable).
    #[arg(long = "store-database", value_name = "STORE=URL", value_parser = store_database)]
    store_database: Vec<(String, String)>,
}

impl DbArgs {
    fn targets(&self) -> db::Targets {
        db::Targets {
            default: self.database.clone(),
            per_store: self.store_database.iter().cloned().collect(),
        }
    }
}

fn store_database(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((store, url)) if !store.is_empty() && !url.is_empty() => {
            Ok((store.to_string(), url.to_string()))
        }
        _ => Err("expected STORE=URL, e.g. state=sqlite:state.db".to_string()),
    }
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
    #[arg(
        long,
        value_name = "URL",
        env = "STRATA_CHECK_POSTGRES",
        hide_env_values = true
    )]
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

#[derive(ValueEnum, Clone, Copy, Debug)]
enum SingleEngine {
    Sqlite,
    Postgres,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::check(args).map_err(|e| (ExitCode::from(2), e)),
        Command::Plan {
            tree,
            db,
            sql,
            engine,
        } => commands::plan(
            &tree.dir,
            &db.targets(),
            sql,
            engine.map(|e| match e {
                SingleEngine::Sqlite => strata_runtime::Engine::Sqlite,
                SingleEngine::Postgres => strata_runtime::Engine::Postgres,
            }),
        ),
        Command::Migrate { tree, db, to } => commands::migrate(&tree.dir, &db.targets(), to),
        Command::Status { tree, db, format } => {
            commands::status(&tree.dir, &db.targets(), format == Format::Json)
        }
        Command::New {
            name,
            tree,
            engine,
            store,
        } => commands::new_delta(
            &tree.dir,
            &name,
            engine.map(|e| match e {
                SingleEngine::Sqlite => strata_runtime::Engine::Sqlite,
                SingleEngine::Postgres => strata_runtime::Engine::Postgres,
            }),
            store.as_deref(),
        ),
        Command::Bg(BgCommand::Status { tree, db }) => {
            commands::bg_status(&tree.dir, &db.targets())
        }
        Command::Bg(BgCommand::Run { tree, db }) => commands::bg_run(&tree.dir, &db.targets()),
        Command::Baseline { tree, db, version } => {
            commands::baseline(&tree.dir, &db.targets(), version)
        }
    };
    match result {
        Ok(code) => code,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}
