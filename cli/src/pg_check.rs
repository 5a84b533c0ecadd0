//! `strata check --postgres`: executes each store's PostgreSQL history in a scratch database.

use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use postgres::error::ErrorPosition;
use postgres::{Client, Config, NoTls};
use strata_schema::diagnostic::Diagnostic;
use strata_schema::lints::registry as lint;
use strata_schema::position::Position;
use strata_schema::{Analysis, Engine, Tree, bookkeeping, history};

/// Why the PostgreSQL check could not run (not a finding about the tree).
#[derive(Debug, thiserror::Error)]
pub enum PgCheckError {
    /// The URL is not a valid connection string.
    #[error("invalid PostgreSQL URL: {0}")]
    Url(#[source] postgres::Error),
    /// The server could not be reached or refused the scratch database.
    #[error(
        "PostgreSQL check failed: {0} (is the server running and may this user create databases?)"
    )]
    Server(#[source] postgres::Error),
}

/// Runs the replayable history of every store on a fresh scratch database and returns
/// execution errors as diagnostics. The scratch databases are dropped afterwards.
pub fn execute_history(
    tree: &Tree,
    analysis: &Analysis,
    url: &str,
) -> Result<Vec<Diagnostic>, PgCheckError> {
    let config = Config::from_str(url).map_err(PgCheckError::Url)?;
    let mut admin = config.connect(NoTls).map_err(PgCheckError::Server)?;
    let mut out = Vec::new();
    for store in history::stores(tree) {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("strata_check_{}_{}_{nanos}", std::process::id(), store.name);
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .map_err(PgCheckError::Server)?;
        let result = (|| {
            let mut cfg = config.clone();
            cfg.dbname(&name);
            let mut client = cfg.connect(NoTls).map_err(PgCheckError::Server)?;
            for sql in bookkeeping::create_statements(Engine::Postgres) {
                client.batch_execute(sql).map_err(PgCheckError::Server)?;
            }
            let h = history::history(tree, store);
            let mut scripts = Vec::new();
            if let Some(v) = h.start {
                scripts.extend(history::snapshot_scripts(tree, store, v));
            }
            scripts.extend(h.replay);
            for script in scripts {
                run_script(&mut client, tree, analysis, script, &mut out);
            }
            Ok(())
        })();
        let dropped = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""));
        result?;
        dropped.map_err(PgCheckError::Server)?;
    }
    Ok(out)
}

fn run_script(
    client: &mut Client,
    tree: &Tree,
    analysis: &Analysis,
    script: &strata_schema::tree::Script,
    out: &mut Vec<Diagnostic>,
) {
    let Some(file) = script.body(Engine::Postgres) else {
        return;
    };
    let Some(parsed) = analysis.parsed.get(&(file, Engine::Postgres)) else {
        return;
    };
    let source = &tree.files[file];
    for s in &parsed.statements {
        let sql = s.statement.sql(&source.text);
        if let Err(e) = client.batch_execute(sql) {
            let (message, position) = match e.as_db_error() {
                Some(db) => {
                    let pos = match db.position() {
                        Some(ErrorPosition::Original(p)) => {
                            // 1-based character position inside the statement.
                            let chars = (*p as usize).saturating_sub(1);
                            let byte = sql.char_indices().nth(chars).map_or(sql.len(), |(i, _)| i);
                            Some(source.index.position(s.statement.sql_span.start + byte))
                        }
                        _ => None,
                    };
                    (format!("{} ({})", db.message(), db.code().code()), pos)
                }
                None => (e.to_string(), None),
            };
            let position: Position = position.unwrap_or(s.statement.start);
            let offset = source
                .index
                .offset(position)
                .unwrap_or(s.statement.sql_span.start);
            out.push(
                Diagnostic::new(
                    &lint::EXECUTION_ERROR,
                    format!("PostgreSQL fails to run this statement: {message}"),
                )
                .at(&source.path, offset..offset, position)
                .engine(Engine::Postgres)
                .help("fix the statement so that it runs on PostgreSQL after everything before it in the history"),
            );
        }
    }
}

/// Why a PostgreSQL snapshot could not be dumped.
#[derive(Debug, thiserror::Error)]
pub enum PgDumpError {
    /// The server could not be used.
    #[error(transparent)]
    Server(#[from] PgCheckError),
    /// A statement of the history failed on PostgreSQL.
    #[error(
        "the PostgreSQL history fails at {file}: {message} (run `strata check --postgres URL` for details)"
    )]
    History {
        /// The tree file.
        file: String,
        /// PostgreSQL's message.
        message: String,
    },
    /// The version cannot be rebuilt on PostgreSQL.
    #[error("{0}")]
    Version(String),
    /// `pg_dump` could not run.
    #[error(
        "pg_dump failed: {0} (the PostgreSQL client tools must be installed and match the server's major version)"
    )]
    PgDump(String),
}

/// A scratch database on the server of `config`, dropped by [`Scratch::drop_now`].
struct Scratch {
    name: String,
    config: Config,
}

impl Scratch {
    fn create(admin: &mut Client, config: &Config, what: &str) -> Result<Scratch, PgCheckError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("strata_dump_{}_{what}_{nanos}", std::process::id());
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .map_err(PgCheckError::Server)?;
        let mut config = config.clone();
        config.dbname(&name);
        Ok(Scratch { name, config })
    }

    fn drop_now(self, admin: &mut Client) -> Result<(), PgCheckError> {
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\"", self.name))
            .map_err(PgCheckError::Server)
    }
}

/// The PostgreSQL snapshot files at `version`: each store's history (and `common`'s alone)
/// runs in a scratch database, built-in background updates applied as they are scheduled,
/// then `pg_dump` writes the schema and rows (strata's tables left out), normalised:
/// comments, `SET` lines and the `public.` schema go, so the text is byte-stable.
pub fn dump_snapshot(
    tree: &Tree,
    analysis: &Analysis,
    url: &str,
    version: u32,
) -> Result<Vec<strata_schema::snapshot::SnapshotFile>, PgDumpError> {
    let config = Config::from_str(url).map_err(PgCheckError::Url)?;
    let mut admin = config.connect(NoTls).map_err(PgCheckError::Server)?;
    let name = strata_schema::snapshot::file_name(tree, Engine::Postgres);
    let mut files = Vec::new();
    let common = tree.common.as_ref();
    let mut stores: Vec<&strata_schema::tree::Store> = history::stores(tree);
    if let Some(c) = common
        && !stores.iter().any(|s| s.name == c.name)
    {
        stores.insert(0, c);
    }
    let common_tables: Vec<String> = common
        .map(|c| {
            analysis
                .final_models
                .values()
                .flat_map(|m| m.tables.values())
                .filter(|t| t.owner == c.name)
                .map(|t| t.name.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect()
        })
        .unwrap_or_default();
    for store in stores {
        let scratch = Scratch::create(&mut admin, &config, &store.name)?;
        let result = (|| -> Result<String, PgDumpError> {
            let mut client = scratch
                .config
                .connect(NoTls)
                .map_err(PgCheckError::Server)?;
            replay_to(&mut client, tree, store, version)?;
            drop(client);
            let is_common = common.is_some_and(|c| c.name == store.name);
            let exclude: &[String] = if is_common { &[] } else { &common_tables };
            let raw = pg_dump(&scratch.config, &scratch.name, exclude)?;
            Ok(normalise_pg_dump(&raw, &store.name, version))
        })();
        scratch.drop_now(&mut admin)?;
        files.push(strata_schema::snapshot::SnapshotFile {
            path: strata_schema::snapshot::store_dir(tree, &store.name)
                .join("full_schemas")
                .join(version.to_string())
                .join(&name),
            text: result?,
        });
    }
    // The snapshot must load: each store's file after common's, on a fresh database.
    let common_text = common.and_then(|c| {
        files
            .iter()
            .find(|f| f.path.starts_with(&c.name))
            .map(|f| f.text.clone())
    });
    for f in &files {
        let is_common = common.is_some_and(|c| f.path.starts_with(&c.name));
        let scratch = Scratch::create(&mut admin, &config, "load")?;
        let loaded = (|| -> Result<(), PgDumpError> {
            let mut client = scratch
                .config
                .connect(NoTls)
                .map_err(PgCheckError::Server)?;
            let texts = common_text
                .iter()
                .filter(|_| !is_common)
                .chain(std::iter::once(&f.text));
            for t in texts {
                client.batch_execute(t).map_err(|e| {
                    PgDumpError::PgDump(format!(
                        "the dumped `{}` does not load on a fresh database: {}",
                        f.path.display(),
                        e.as_db_error()
                            .map_or_else(|| e.to_string(), |d| d.message().to_string())
                    ))
                })?;
            }
            Ok(())
        })();
        scratch.drop_now(&mut admin)?;
        loaded?;
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Runs `store`'s PostgreSQL history up to `version` on `client`.
fn replay_to(
    client: &mut Client,
    tree: &Tree,
    store: &strata_schema::tree::Store,
    version: u32,
) -> Result<(), PgDumpError> {
    for sql in bookkeeping::create_statements(Engine::Postgres) {
        client.batch_execute(sql).map_err(PgCheckError::Server)?;
    }
    let h = history::history(tree, store);
    let mut scripts = Vec::new();
    if let Some(v) = h.start {
        if version < v {
            return Err(PgDumpError::Version(format!(
                "version {version} is older than `{}`'s oldest snapshot ({v}), where the PostgreSQL replay starts",
                store.name
            )));
        }
        scripts.extend(history::snapshot_scripts(tree, store, v));
    }
    scripts.extend(h.replay.into_iter().filter(|s| s.version <= version));
    for script in scripts {
        let Some(file) = script.checked_file(Engine::Postgres) else {
            continue;
        };
        let source = &tree.files[file];
        client
            .batch_execute(&source.text)
            .map_err(|e| PgDumpError::History {
                file: source.path.clone(),
                message: e
                    .as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_string()),
            })?;
        apply_builtins(client).map_err(|e| PgDumpError::History {
            file: source.path.clone(),
            message: e,
        })?;
    }
    Ok(())
}

/// Applies the built-in background updates scheduled so far (a snapshot includes them),
/// and records them as completed.
fn apply_builtins(client: &mut Client) -> Result<(), String> {
    use strata_runtime::background::Builtin;
    let rows = client
        .query(
            "SELECT update_name, progress_json FROM strata_background_updates WHERE completed_at IS NULL ORDER BY ordering, update_name",
            &[],
        )
        .map_err(|e| e.to_string())?;
    for row in rows {
        let name: String = row.get(0);
        let progress: String = row.get(1);
        let json: serde_json::Value = serde_json::from_str(&progress).unwrap_or_default();
        match Builtin::from_json(&json) {
            Some(Ok(Builtin::Index(index))) => client
                .batch_execute(&index.create_sql())
                .map_err(|e| format!("built-in update `{name}`: {e}"))?,
            Some(Ok(Builtin::Noop)) => {}
            Some(Err(e)) => return Err(format!("built-in update `{name}`: {e}")),
            None => continue,
        }
        client
            .execute(
                "UPDATE strata_background_updates SET completed_at = 0 WHERE update_name = $1",
                &[&name],
            )
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs `pg_dump` on the scratch database (the password, if any, goes by environment).
fn pg_dump(config: &Config, db: &str, exclude: &[String]) -> Result<String, PgDumpError> {
    let mut cmd = std::process::Command::new("pg_dump");
    cmd.args([
        "--no-owner",
        "--no-privileges",
        "--no-comments",
        "--no-tablespaces",
        "--inserts",
        "--column-inserts",
        "--exclude-table=strata_*",
    ]);
    for t in exclude {
        cmd.arg(format!("--exclude-table={t}"));
    }
    if let Some(host) = config.get_hosts().first() {
        match host {
            postgres::config::Host::Tcp(h) => {
                cmd.args(["--host", h]);
            }
            postgres::config::Host::Unix(p) => {
                cmd.arg("--host").arg(p);
            }
        }
    }
    if let Some(port) = config.get_ports().first() {
        cmd.args(["--port", &port.to_string()]);
    }
    if let Some(user) = config.get_user() {
        cmd.args(["--username", user]);
    }
    if let Some(pw) = config.get_password() {
        cmd.env("PGPASSWORD", String::from_utf8_lossy(pw).into_owned());
    }
    cmd.args(["--dbname", db]);
    let out = cmd
        .output()
        .map_err(|e| PgDumpError::PgDump(format!("cannot run pg_dump: {e}")))?;
    if !out.status.success() {
        return Err(PgDumpError::PgDump(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| PgDumpError::PgDump(e.to_string()))
}

/// pg_dump's output without what changes between runs or servers: comments, session
/// settings, `\restrict` keys, the `public.` schema prefix, runs of blank lines.
pub fn normalise_pg_dump(raw: &str, store: &str, version: u32) -> String {
    let mut out = format!(
        "-- {store} store, full schema at version {version} (PostgreSQL).\n\
         -- Written by `strata dump --version {version}` (pg_dump of the replayed history): do not\n\
         -- edit; dump again instead.\n"
    );
    let mut blank = false;
    for line in raw.lines() {
        let skip = line.starts_with("--")
            || line.starts_with("SET ")
            || line.starts_with("SELECT pg_catalog.set_config(")
            || line.starts_with("\\restrict")
            || line.starts_with("\\unrestrict");
        if skip {
            continue;
        }
        if line.trim().is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
            continue;
        }
        blank = false;
        if line.starts_with("ALTER SEQUENCE ") {
            // sqlparser cannot read it; PostgreSQL runs it (`strata check --postgres`).
            out.push_str("-- strata: unchecked\n");
        }
        let line = if line.starts_with("INSERT INTO public.") {
            line.replacen("INSERT INTO public.", "INSERT INTO ", 1)
        } else {
            line.replace("public.", "")
        };
        out.push_str(&line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
