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
