//! The `strata` command line: check, plan and apply SQL migration trees ([`main`], the
//! generic binary), and the same commands embedded in an application's own binary over its
//! compiled-in plan and handlers ([`Embedded`], [`run`]).
//!
//! Exit status: 0 success; 1 errors in the tree, or `migrate`, `plan`, `baseline` or `bg run`
//! failed or was refused (an unreachable database included); 2 bad arguments, an unreadable
//! tree, or `status` / `bg status` unable to read a database; 3 (`status`, `bg status`) work
//! is pending.

mod check;
mod commands;
mod db;
mod dump;
mod pg_check;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use strata_runtime::Migrations;
use strata_runtime::background::Handlers;

use db::Targets;
pub use db::redact;

/// Versioned SQL schema migrations for SQLite and PostgreSQL, checked before they run.
#[derive(Parser, Debug)]
#[command(
    name = "strata",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  strata check examples/chat/schema\n  strata migrate examples/chat/schema --database sqlite:chat.db\n  strata status examples/chat/schema --database sqlite:chat.db\n\nExit status: 0 success, 1 errors or a failed command, 2 bad arguments or an unreadable tree, 3 pending work (status)."
)]
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
        args: PlanArgs,
    },
    /// Apply every pending delta (up to `--to`). Stops before a code delta (Rust), which only
    /// the application's embedded form can run.
    #[command(
        after_help = "Examples:\n  strata migrate schema --database sqlite:app.db\n  DATABASE_URL=postgres://app@db/app strata migrate schema\n  strata migrate schema --store-database main=sqlite:main.db --store-database state=sqlite:state.db"
    )]
    Migrate {
        #[command(flatten)]
        tree: TreeArg,
        #[command(flatten)]
        args: MigrateArgs,
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
        args: StatusArgs,
    },
    /// Write `full_schemas/<N>/` for each target engine from the replayed history (built-in
    /// background updates applied), normalised and byte-stable: snapshots are never written
    /// by hand.
    ///
    /// The SQLite snapshot comes from the in-memory replay; the PostgreSQL one needs a
    /// server (`--postgres`), where the history runs in a scratch database dropped afterwards.
    #[command(
        after_help = "Examples:\n  strata dump --version 14 examples/chat/schema --engine sqlite\n  strata dump --version 14 schema --postgres postgres://postgres@127.0.0.1:5432/postgres"
    )]
    Dump(dump::DumpArgs),
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
    #[command(
        subcommand,
        after_help = "Examples:\n  strata bg status schema --database sqlite:app.db\n  strata bg run schema --database sqlite:app.db"
    )]
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
        args: BaselineArgs,
    },
}

#[derive(clap::Args, Debug)]
struct PlanArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Print one SQL script instead of a description.
    #[arg(long)]
    sql: bool,
    /// Engine of the fresh database planned when no database is given.
    #[arg(long, value_enum)]
    engine: Option<SingleEngine>,
}

#[derive(clap::Args, Debug)]
struct MigrateArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Stop at this version.
    #[arg(long, value_name = "N")]
    to: Option<u32>,
}

#[derive(clap::Args, Debug)]
struct StatusArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(clap::Args, Debug)]
struct BaselineArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The version the database's schema is at.
    #[arg(long, value_name = "N")]
    version: u32,
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
    /// Run the pending updates in order, one at a time, with a progress bar per update.
    /// Stops before an update that needs an application handler, naming it and the delta
    /// that scheduled it.
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
    /// The databases named on the command line (or by `DATABASE_URL`); `defaults` when none.
    fn targets(&self, defaults: Option<&Targets>) -> Targets {
        match defaults {
            Some(d) if self.database.is_none() && self.store_database.is_empty() => d.clone(),
            _ => Targets {
                default: self.database.clone(),
                per_store: self.store_database.iter().cloned().collect(),
            },
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

/// `--postgres URL`: a server where `check` and `dump` replay the PostgreSQL history in a
/// scratch database of their own, dropped afterwards.
#[derive(clap::Args, Debug)]
struct ScratchServer {
    /// A PostgreSQL server to execute the PostgreSQL history on, in a scratch database
    /// created (and dropped) there.
    #[arg(
        long,
        value_name = "URL",
        env = "STRATA_CHECK_POSTGRES",
        hide_env_values = true
    )]
    postgres: Option<String>,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// The tree's root folder.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Engines to check (default: the manifest's `engines`).
    #[arg(long, value_enum)]
    engine: Option<EngineArg>,
    #[command(flatten)]
    server: ScratchServer,
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

/// The generic `strata` binary: parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::check(args).map_err(|e| (ExitCode::from(2), e)),
        Command::Dump(args) => dump::dump(&args),
        Command::New {
            name,
            tree,
            engine,
            store,
        } => commands::new_delta(
            &tree.dir,
            &name,
            engine.map(SingleEngine::engine),
            store.as_deref(),
        ),
        Command::Plan { tree, args } => {
            commands::load(&tree.dir).and_then(|plan| plan_command(&plan, args, &Context::GENERIC))
        }
        Command::Migrate { tree, args } => commands::load(&tree.dir)
            .and_then(|plan| commands::migrate(&plan, &args.db.targets(None), args.to)),
        Command::Status { tree, args } => commands::load(&tree.dir).and_then(|plan| {
            commands::status(&plan, &args.db.targets(None), args.format == Format::Json)
        }),
        Command::Bg(BgCommand::Status { tree, db }) => {
            commands::load(&tree.dir).and_then(|plan| commands::bg_status(&plan, &db.targets(None)))
        }
        Command::Bg(BgCommand::Run { tree, db }) => commands::load(&tree.dir).and_then(|plan| {
            commands::bg_run(
                &plan,
                &db.targets(None),
                &Handlers::new(),
                &Context::GENERIC,
            )
        }),
        Command::Baseline { tree, args } => commands::load(&tree.dir)
            .and_then(|plan| commands::baseline(&plan, &args.db.targets(None), args.version)),
    };
    finish(result)
}

fn plan_command(
    plan: &Migrations,
    args: PlanArgs,
    ctx: &Context<'_>,
) -> Result<ExitCode, (ExitCode, String)> {
    commands::plan(
        plan,
        &args.db.targets(ctx.defaults),
        args.sql,
        args.engine.map(SingleEngine::engine),
    )
}

fn finish(result: Result<ExitCode, (ExitCode, String)>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}

impl SingleEngine {
    fn engine(self) -> strata_runtime::Engine {
        match self {
            SingleEngine::Sqlite => strata_runtime::Engine::Sqlite,
            SingleEngine::Postgres => strata_runtime::Engine::Postgres,
        }
    }
}

/// Which binary runs a command: the generic one (plan from a tree on disk, no application
/// code) or an application's embedded form.
pub(crate) struct Context<'a> {
    /// The application's name, for messages (`None`: the generic binary).
    pub app: Option<&'a str>,
    /// Databases used when the command line and `DATABASE_URL` name none.
    pub defaults: Option<&'a Targets>,
}

impl Context<'_> {
    const GENERIC: Context<'static> = Context {
        app: None,
        defaults: None,
    };
}

// --- The embedded form -----------------------------------------------------------------------

/// The command line of an application's own binary: the same commands as the generic
/// `strata` over the plan compiled in with `include_migrations!` and the application's
/// background-update handlers, so code deltas and custom background updates run too.
///
/// ```no_run
/// # use strata_runtime as strata;
/// # static MIGRATIONS: strata::Migrations = strata::Migrations::EMPTY;
/// use strata_runtime::background::Handlers;
///
/// fn main() -> std::process::ExitCode {
///     let handlers = Handlers::new(); // .batch("my_backfill", ...)
///     strata_cli::Embedded::new("chat", &MIGRATIONS)
///         .handlers(handlers)
///         .default_store_database("main", "sqlite:chat-main.db")
///         .default_store_database("state", "sqlite:chat-state.db")
///         .run()
/// }
/// ```
pub struct Embedded<'p> {
    name: String,
    plan: &'p Migrations,
    handlers: Handlers,
    defaults: Targets,
}

/// The embedded command line, named after the application (`chat migrate`, `chat status`).
#[derive(Parser, Debug)]
#[command(
    version,
    about = "Schema migrations and background updates of this application (strata, embedded)",
    long_about = None
)]
struct EmbeddedCli {
    #[command(subcommand)]
    command: EmbeddedCommand,
}

#[derive(Subcommand, Debug)]
enum EmbeddedCommand {
    /// Show what `migrate` would do, with the full SQL of each step. Applies nothing.
    #[command(
        after_help = "Examples:\n  APP plan\n  APP plan --sql --engine postgres > migrate.sql"
    )]
    Plan(PlanArgs),
    /// Apply every pending delta (up to `--to`), code deltas included.
    #[command(
        after_help = "Examples:\n  APP migrate\n  APP migrate --to 14\n  DATABASE_URL=postgres://app@db/app APP migrate"
    )]
    Migrate(MigrateArgs),
    /// Per store: version, compat version, snapshot, applied and pending deltas, pending
    /// background updates. Exit status: 0 up to date, 3 pending work.
    #[command(after_help = "Examples:\n  APP status\n  APP status --format json")]
    Status(StatusArgs),
    /// Background updates: `status` lists them, `run` runs them all with the application's
    /// handlers.
    #[command(subcommand, after_help = "Examples:\n  APP bg status\n  APP bg run")]
    Bg(EmbeddedBg),
    /// Adopt an existing database whose schema is at version N.
    #[command(after_help = "Example:\n  APP baseline --version 12 --database sqlite:legacy.db")]
    Baseline(BaselineArgs),
}

#[derive(Subcommand, Debug)]
enum EmbeddedBg {
    /// Each update: ordering, dependency, progress, completed or not. Exit status 3 while any
    /// is pending.
    #[command(after_help = "Example:\n  APP bg status")]
    Status(DbArgs),
    /// Run the pending updates in order, one at a time, with a progress bar per update.
    #[command(after_help = "Example:\n  APP bg run")]
    Run(DbArgs),
}

impl<'p> Embedded<'p> {
    /// The command line of the application `name` over `plan`.
    pub fn new(name: &str, plan: &'p Migrations) -> Self {
        Embedded {
            name: name.to_string(),
            plan,
            handlers: Handlers::new(),
            defaults: Targets::default(),
        }
    }

    /// The application's background-update handlers.
    pub fn handlers(mut self, handlers: Handlers) -> Self {
        self.handlers = handlers;
        self
    }

    /// The database of every store when neither `--database`, `--store-database` nor
    /// `DATABASE_URL` names one.
    pub fn default_database(mut self, url: &str) -> Self {
        self.defaults.default = Some(url.to_string());
        self
    }

    /// The database of `store` when the command line and `DATABASE_URL` name none.
    pub fn default_store_database(mut self, store: &str, url: &str) -> Self {
        self.defaults
            .per_store
            .insert(store.to_string(), url.to_string());
        self
    }

    /// Parses the process arguments and runs the command.
    pub fn run(self) -> ExitCode {
        self.run_from(std::env::args_os())
    }

    /// Runs the command `args` (the first one is the program name).
    pub fn run_from<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let mut command = EmbeddedCli::command().name(self.name.clone());
        // The examples in `--help` name the application.
        let subs: Vec<String> = command
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        for sub in subs {
            let name = self.name.clone();
            command = command.mut_subcommand(sub, |c| {
                let help = c
                    .get_after_help()
                    .map(|h| h.to_string().replace("APP", &name));
                match help {
                    Some(h) => c.after_help(h),
                    None => c,
                }
            });
        }
        let cli = match command
            .try_get_matches_from(args)
            .and_then(|m| EmbeddedCli::from_arg_matches(&m))
        {
            Ok(cli) => cli,
            Err(e) => e.exit(),
        };
        let ctx = Context {
            app: Some(&self.name),
            defaults: Some(&self.defaults),
        };
        let plan = self.plan;
        let result = match cli.command {
            EmbeddedCommand::Plan(args) => plan_command(plan, args, &ctx),
            EmbeddedCommand::Migrate(args) => {
                commands::migrate(plan, &args.db.targets(ctx.defaults), args.to)
            }
            EmbeddedCommand::Status(args) => commands::status(
                plan,
                &args.db.targets(ctx.defaults),
                args.format == Format::Json,
            ),
            EmbeddedCommand::Bg(EmbeddedBg::Status(db)) => {
                commands::bg_status(plan, &db.targets(ctx.defaults))
            }
            EmbeddedCommand::Bg(EmbeddedBg::Run(db)) => {
                commands::bg_run(plan, &db.targets(ctx.defaults), &self.handlers, &ctx)
            }
            EmbeddedCommand::Baseline(args) => {
                commands::baseline(plan, &args.db.targets(ctx.defaults), args.version)
            }
        };
        finish(result)
    }
}

/// The embedded command line with no default database: `strata::cli::run(&MIGRATIONS,
/// handlers)`. The program's file name names it in `--help`.
pub fn run(plan: &Migrations, handlers: Handlers) -> ExitCode {
    let name = std::env::args()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "app".to_string());
    Embedded::new(&name, plan).handlers(handlers).run()
}
