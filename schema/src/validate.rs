//! Validation by execution on an in-memory SQLite, and schema dumps for drift checks.
//!
//! This is the only database the schema crate touches. Like the runtime, it uses the
//! bundled SQLite with foreign keys ON (the bundled build's default), creates strata's
//! bookkeeping tables first, and runs `foreign-keys-off` deltas with foreign keys switched
//! off and `PRAGMA foreign_key_check` afterwards.

use std::collections::BTreeMap;

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::bookkeeping;
use crate::engine::Engine;
use crate::error::{Error, Result};

/// An in-memory SQLite database the history is executed on.
pub struct SqliteValidator {
    conn: Connection,
}

/// Why a statement failed to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecError {
    /// SQLite's message.
    pub message: String,
    /// Byte offset inside the statement where SQLite located a syntax error.
    pub offset: Option<usize>,
    /// Whether SQLite rejected the syntax (as opposed to a missing table, a constraint...).
    pub syntax: bool,
}

impl SqliteValidator {
    /// A fresh in-memory database holding strata's bookkeeping tables, foreign keys on.
    pub fn new() -> Result<Self> {
        let conn = Connection::open_in_memory().map_err(Error::Validation)?;
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(Error::Validation)?;
        for sql in bookkeeping::create_statements(Engine::Sqlite) {
            conn.execute_batch(sql).map_err(Error::Validation)?;
        }
        Ok(SqliteValidator { conn })
    }

    /// Executes one statement.
    pub fn execute(&self, sql: &str) -> Result<(), ExecError> {
        self.conn.execute_batch(sql).map_err(exec_error)
    }

    /// Checks a statement's syntax without running it, on an empty database: `Err` only for
    /// syntax errors (a missing table is not one).
    pub fn syntax_check(sql: &str) -> Result<(), ExecError> {
        let conn = Connection::open_in_memory().map_err(exec_error)?;
        match conn.prepare(sql) {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = exec_error(e);
                if e.syntax { Err(e) } else { Ok(()) }
            }
        }
    }

    /// Switches foreign-key enforcement.
    pub fn set_foreign_keys(&self, on: bool) -> Result<()> {
        self.conn
            .execute_batch(if on {
                "PRAGMA foreign_keys = ON"
            } else {
                "PRAGMA foreign_keys = OFF"
            })
            .map_err(Error::Validation)
    }

    /// `PRAGMA foreign_key_check`: one line per violation (`table rowid -> parent`).
    pub fn foreign_key_violations(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA foreign_key_check")
            .map_err(Error::Validation)?;
        let rows = stmt
            .query_map([], |r| {
                let table: String = r.get(0)?;
                let rowid: Option<i64> = r.get(1)?;
                let parent: String = r.get(2)?;
                Ok(match rowid {
                    Some(id) => {
                        format!("row {id} of `{table}` references a missing `{parent}` row")
                    }
                    None => format!("a row of `{table}` references a missing `{parent}` row"),
                })
            })
            .map_err(Error::Validation)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(Error::Validation)
    }

    /// A normalised description of the schema and the rows of non-strata tables, for drift
    /// comparison: object -> facts.
    pub fn dump(&self) -> Result<SchemaDump> {
        dump(&self.conn).map_err(Error::Validation)
    }

    /// The schema objects and rows as they stand (strata's own left out), with the owner of
    /// each from `model`: what `strata dump` writes.
    pub fn capture(&self, model: &crate::model::Model) -> Result<Captured> {
        capture(&self.conn, model).map_err(Error::Validation)
    }
}

/// A schema object of a replayed database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlObject {
    /// `table`, `index`, `view` or `trigger`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// The store whose scripts created it (`common` for shared objects).
    pub owner: String,
    /// Its `CREATE` statement as SQLite keeps it.
    pub sql: String,
}

/// The schema and rows of a replayed database at one version (see [`SqliteValidator::capture`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// Objects in creation order.
    pub objects: Vec<SqlObject>,
    /// Rows of each table that has any, as `INSERT` statements in a stable order.
    pub rows: BTreeMap<String, Vec<String>>,
    /// The drift-comparison dump of the same database.
    pub dump: SchemaDump,
}

fn capture(conn: &Connection, model: &crate::model::Model) -> rusqlite::Result<Captured> {
    let owner_of_table = |t: &str| model.tables.get(&t.to_lowercase()).map(|t| t.owner.clone());
    let raw: Vec<(String, String, String, Option<String>)> = conn
        .prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema \
             WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE 'strata_%' ORDER BY rowid",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut objects = Vec::new();
    let mut rows = BTreeMap::new();
    for (kind, name, table, sql) in raw {
        // Automatic indexes of UNIQUE / PRIMARY KEY constraints have no SQL.
        let Some(sql) = sql else { continue };
        let owner = match kind.as_str() {
            "view" => model
                .views
                .get(&name.to_lowercase())
                .and_then(|v| {
                    v.identifiers
                        .iter()
                        .find_map(|i| owner_of_table(i).filter(|o| o != "strata"))
                })
                .unwrap_or_default(),
            _ => owner_of_table(&table).unwrap_or_default(),
        };
        if kind == "table" {
            let inserts = table_rows(conn, &name)?;
            if !inserts.is_empty() {
                rows.insert(name.clone(), inserts);
            }
        }
        objects.push(SqlObject {
            kind,
            name,
            owner,
            sql,
        });
    }
    Ok(Captured {
        objects,
        rows,
        dump: dump(conn)?,
    })
}

/// The rows of `table` as `INSERT` statements, ordered by every column (stable whatever the
/// insertion order), values written by SQLite's own `quote()`.
fn table_rows(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let quoted = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
    let columns: Vec<String> = conn
        .prepare(&format!(
            "SELECT name FROM pragma_table_info('{}') ORDER BY cid",
            table.replace('\'', "''")
        ))?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let values = columns
        .iter()
        .map(|c| format!("quote({})", quoted(c)))
        .collect::<Vec<_>>()
        .join(" || ', ' || ");
    let order = columns
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ");
    let names = columns.join(", ");
    let sql = format!("SELECT {values} FROM {} ORDER BY {order}", quoted(table));
    let mut stmt = conn.prepare(&sql)?;
    stmt.query_map([], |r| r.get::<_, String>(0))?
        .map(|v| v.map(|v| format!("INSERT INTO {table} ({names}) VALUES ({v});")))
        .collect()
}

fn exec_error(e: rusqlite::Error) -> ExecError {
    match &e {
        rusqlite::Error::SqlInputError { msg, offset, .. } => ExecError {
            message: msg.clone(),
            offset: usize::try_from(*offset).ok(),
            syntax: true,
        },
        other => {
            let message = match other {
                rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
                o => o.to_string(),
            };
            let syntax = message.contains("syntax error") || message.contains("incomplete input");
            ExecError {
                message,
                offset: None,
                syntax,
            }
        }
    }
}

/// Schema objects (`table users`, `index users_name`, `rows users`, ...) and their facts.
pub type SchemaDump = BTreeMap<String, Vec<String>>;

fn normalise_sql(sql: &str) -> String {
    use sqlparser::parser::Parser;
    match Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, sql) {
        Ok(stmts) => stmts
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("; "),
        Err(_) => sql.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// A column default as compared: keyword literals in one case (`false` = `FALSE`).
fn normalise_default(d: &str) -> String {
    const KEYWORDS: [&str; 6] = [
        "TRUE",
        "FALSE",
        "NULL",
        "CURRENT_TIMESTAMP",
        "CURRENT_DATE",
        "CURRENT_TIME",
    ];
    match KEYWORDS.iter().find(|k| k.eq_ignore_ascii_case(d.trim())) {
        Some(k) => k.to_string(),
        None => d.to_string(),
    }
}

fn dump(conn: &Connection) -> rusqlite::Result<SchemaDump> {
    let mut out = SchemaDump::new();
    let objects: Vec<(String, String, String, Option<String>)> = conn
        .prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema \
             WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE 'strata_%' ORDER BY type, name",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, name, table, sql) in objects {
        let key = format!("{kind} {name}");
        match kind.as_str() {
            "table" => {
                let mut facts = Vec::new();
                let mut cols = conn.prepare(&format!(
                    "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo('{}') ORDER BY name",
                    name.replace('\'', "''")
                ))?;
                let rows = cols.query_map([], |r| {
                    let n: String = r.get(0)?;
                    let t: String = r.get(1)?;
                    let nn: i64 = r.get(2)?;
                    let d: Option<String> = r.get(3)?;
                    let pk: i64 = r.get(4)?;
                    let hidden: i64 = r.get(5)?;
                    Ok(format!(
                        "column {n} {}{}{}{}{}",
                        t.to_uppercase(),
                        if nn != 0 { " NOT NULL" } else { "" },
                        d.map(|d| format!(" DEFAULT {}", normalise_default(&d)))
                            .unwrap_or_default(),
                        if pk != 0 {
                            format!(" PRIMARY KEY #{pk}")
                        } else {
                            String::new()
                        },
                        if hidden != 0 { " GENERATED" } else { "" }
                    ))
                })?;
                for r in rows {
                    facts.push(r?);
                }
                let mut fks = conn.prepare(&format!(
                    "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list('{}') ORDER BY id, seq",
                    name.replace('\'', "''")
                ))?;
                let mut by_id: BTreeMap<i64, (String, Vec<String>, Vec<String>, String)> =
                    BTreeMap::new();
                let rows = fks.query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                    ))
                })?;
                for r in rows {
                    let (id, parent, from, to, upd, del) = r?;
                    let e = by_id.entry(id).or_insert_with(|| {
                        (
                            parent.to_lowercase(),
                            vec![],
                            vec![],
                            format!("ON UPDATE {upd} ON DELETE {del}"),
                        )
                    });
                    e.1.push(from.to_lowercase());
                    e.2.push(to.unwrap_or_default().to_lowercase());
                }
                let mut fk_facts: Vec<String> = by_id
                    .into_values()
                    .map(|(p, f, t, a)| {
                        format!(
                            "foreign key ({}) -> {p} ({}) {a}",
                            f.join(", "),
                            t.join(", ")
                        )
                    })
                    .collect();
                fk_facts.sort();
                facts.extend(fk_facts);
                if let Some(sql) = &sql {
                    facts.extend(check_constraints(sql));
                    if sql.to_uppercase().contains("WITHOUT ROWID") {
                        facts.push("WITHOUT ROWID".to_string());
                    }
                }
                let mut idx = conn.prepare(&format!(
                    "SELECT name, \"unique\", origin, partial FROM pragma_index_list('{}') WHERE origin <> 'c' ORDER BY name",
                    name.replace('\'', "''")
                ))?;
                let autos: Vec<(String, i64, String)> = idx
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                let mut auto_facts = Vec::new();
                for (iname, unique, origin) in autos {
                    let cols = index_columns(conn, &iname)?;
                    auto_facts.push(format!(
                        "{}{} ({})",
                        if unique != 0 { "unique " } else { "" },
                        if origin == "pk" {
                            "primary key"
                        } else {
                            "constraint"
                        },
                        cols.join(", ")
                    ));
                }
                auto_facts.sort();
                facts.extend(auto_facts);
                out.insert(key, facts);
                // Seed rows.
                let mut q =
                    conn.prepare(&format!("SELECT * FROM \"{}\"", name.replace('"', "\"\"")))?;
                let n = q.column_count();
                let mut rows: Vec<String> = q
                    .query_map([], |r| {
                        let mut vals = Vec::with_capacity(n);
                        for i in 0..n {
                            vals.push(match r.get_ref(i)? {
                                ValueRef::Null => "NULL".to_string(),
                                ValueRef::Integer(v) => v.to_string(),
                                ValueRef::Real(v) => v.to_string(),
                                ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t)),
                                ValueRef::Blob(b) => format!(
                                    "x'{}'",
                                    b.iter().map(|b| format!("{b:02x}")).collect::<String>()
                                ),
                            });
                        }
                        Ok(format!("({})", vals.join(", ")))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                rows.sort();
                if !rows.is_empty() {
                    out.insert(format!("rows {name}"), rows);
                }
            }
            "index" => {
                let unique: i64 = conn.query_row(
                    "SELECT \"unique\" FROM pragma_index_list(?1) WHERE name = ?2",
                    [&table, &name],
                    |r| r.get(0),
                )?;
                let cols = index_columns(conn, &name)?;
                let mut fact = format!(
                    "{}index on {table} ({})",
                    if unique != 0 { "unique " } else { "" },
                    cols.join(", ")
                );
                if let Some(sql) = &sql
                    && let Some(w) = partial_where(sql)
                {
                    fact.push_str(&format!(" WHERE {w}"));
                }
                out.insert(key, vec![fact]);
            }
            _ => {
                out.insert(
                    key,
                    vec![sql.as_deref().map(normalise_sql).unwrap_or_default()],
                );
            }
        }
    }
    Ok(out)
}

fn index_columns(conn: &Connection, index: &str) -> rusqlite::Result<Vec<String>> {
    let mut s = conn.prepare(
        "SELECT name, \"desc\" FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno",
    )?;
    s.query_map([index], |r| {
        let n: Option<String> = r.get(0)?;
        let desc: i64 = r.get(1)?;
        Ok(format!(
            "{}{}",
            n.map(|n| n.to_lowercase())
                .unwrap_or_else(|| "<expr>".into()),
            if desc != 0 { " DESC" } else { "" }
        ))
    })?
    .collect()
}

fn partial_where(sql: &str) -> Option<String> {
    use sqlparser::parser::Parser;
    let stmts = Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, sql).ok()?;
    match stmts.first()? {
        sqlparser::ast::Statement::CreateIndex(ci) => ci.predicate.as_ref().map(|p| p.to_string()),
        _ => None,
    }
}

fn check_constraints(sql: &str) -> Vec<String> {
    use sqlparser::ast::{ColumnOption, Statement, TableConstraint};
    use sqlparser::parser::Parser;
    let Ok(stmts) = Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, sql) else {
        return vec![format!(
            "sql {}",
            sql.split_whitespace().collect::<Vec<_>>().join(" ")
        )];
    };
    let Some(Statement::CreateTable(ct)) = stmts.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in &ct.columns {
        for o in &c.options {
            if let ColumnOption::Check(ch) = &o.option {
                out.push(format!("check {}", ch.expr));
            }
        }
    }
    for tc in &ct.constraints {
        if let TableConstraint::Check(ch) = tc {
            out.push(format!("check {}", ch.expr));
        }
    }
    out.sort();
    out
}

/// Compares two dumps and returns readable lines, e.g. `index t_a: only in the deltas` or
/// ``table t: the snapshot has `column a INT` `` (`left`/`right` name the two sides).
pub fn diff(
    left: &SchemaDump,
    right: &SchemaDump,
    left_name: &str,
    right_name: &str,
) -> Vec<String> {
    let mut lines = Vec::new();
    let keys: std::collections::BTreeSet<&String> = left.keys().chain(right.keys()).collect();
    for key in keys {
        match (left.get(key), right.get(key)) {
            (Some(_), None) => lines.push(format!("{key}: only in {left_name}")),
            (None, Some(_)) => lines.push(format!("{key}: only in {right_name}")),
            (Some(a), Some(b)) if a != b => {
                for f in a.iter().filter(|f| !b.contains(f)) {
                    lines.push(format!("{key}: only {left_name} has `{f}`"));
                }
                for f in b.iter().filter(|f| !a.contains(f)) {
                    lines.push(format!("{key}: only {right_name} have `{f}`"));
                }
            }
            _ => {}
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_keys_are_on_and_bookkeeping_exists() {
        let v = SqliteValidator::new().unwrap();
        v.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
            .unwrap();
        v.execute("CREATE TABLE c (p INTEGER REFERENCES p (id))")
            .unwrap();
        let err = v.execute("INSERT INTO c VALUES (1)").unwrap_err();
        assert!(err.message.contains("FOREIGN KEY"), "{err:?}");
        v.execute("INSERT INTO strata_background_updates (update_name) VALUES ('x')")
            .unwrap();
    }

    #[test]
    fn syntax_check_separates_syntax_from_missing_tables() {
        assert!(SqliteValidator::syntax_check("SELECT * FROM nowhere").is_ok());
        let e = SqliteValidator::syntax_check("SELEC 1").unwrap_err();
        assert!(e.syntax);
    }

    #[test]
    fn dumps_compare_schema_and_rows() {
        let a = SqliteValidator::new().unwrap();
        let b = SqliteValidator::new().unwrap();
        for v in [&a, &b] {
            v.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, ts BIGINT NOT NULL DEFAULT 0)")
                .unwrap();
            v.execute("INSERT INTO t VALUES (1, 5)").unwrap();
        }
        a.execute("CREATE INDEX t_ts ON t (ts) WHERE ts > 0")
            .unwrap();
        b.execute("CREATE INDEX t_ts ON t (ts)").unwrap();
        b.execute("INSERT INTO t VALUES (2, 6)").unwrap();
        let d = diff(
            &a.dump().unwrap(),
            &b.dump().unwrap(),
            "the snapshot",
            "the deltas",
        );
        assert_eq!(d.len(), 3, "{d:#?}");
        assert!(d[0].contains("WHERE ts > 0"), "{d:#?}");
        assert!(
            d.iter()
                .any(|l| l.contains("rows t: only the deltas have `(2, 6)`")),
            "{d:#?}"
        );
    }
}
