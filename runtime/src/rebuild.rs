//! Rebuilding a SQLite table: how a column's type, constraint or default changes there.
//!
//! SQLite's `ALTER TABLE` cannot change a column (lint `S101` says so at build time). The
//! documented way is to rebuild the table (<https://sqlite.org/lang_altertable.html#otheralter>):
//! create the new table, copy the rows, drop the old one, rename the new one, recreate the
//! indexes and triggers, check the foreign keys. [`rebuild_sqlite_table`] does those steps
//! inside the caller's transaction, typically from a SQLite-only code delta (`delta/N/01_x.rs`
//! with its `.schema.sql` describing the new table).
//!
//! A table that other tables reference through foreign keys can only be dropped with
//! enforcement off (`PRAGMA foreign_keys`, which SQLite only changes outside a
//! transaction); with enforcement on, the helper refuses such a table before changing
//! anything, naming the referencing tables. Code deltas run with enforcement on, so they
//! can rebuild tables nothing references (the common case: the table whose column changes
//! is a child or stands alone).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use strata_runtime::rebuild::{rebuild_sqlite_table, Rebuild};
//! use strata_runtime::Transaction;
//! # let mut conn = rusqlite::Connection::open_in_memory()?;
//! # let mut db = strata_runtime::driver::sqlite::SqliteDriver::new(&mut conn)?;
//! db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", &[])?;
//! db.execute("INSERT INTO users (id, name) VALUES (1, NULL), (2, 'bo')", &[])?;
//! // `name` becomes NOT NULL with a default; existing NULLs get one on the way.
//! rebuild_sqlite_table(&mut db, &Rebuild {
//!     table: "users",
//!     columns: "id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT ''",
//!     copy: &[("id", "id"), ("name", "coalesce(name, '')")],
//! })?;
//! let rows = db.query("SELECT name FROM users ORDER BY id", &[])?;
//! assert_eq!(rows.len(), 2);
//! # Ok(()) }
//! ```

use crate::transaction::{CodeError, Transaction, Value};

/// What [`rebuild_sqlite_table`] does.
#[derive(Debug, Clone, Copy)]
pub struct Rebuild<'a> {
    /// The table.
    pub table: &'a str,
    /// The new definition: what goes between the parentheses of its `CREATE TABLE`
    /// (columns and table constraints).
    pub columns: &'a str,
    /// For each column of the new table, the expression over the old row that fills it
    /// (`("name", "coalesce(name, '')")`); new columns left out get their default.
    pub copy: &'a [(&'a str, &'a str)],
}

/// Rebuilds `r.table` with the new definition inside the current transaction: the rows are
/// copied through `r.copy`, then the table's indexes and triggers are recreated from their
/// original SQL, and `PRAGMA foreign_key_check` must find no violation (the whole
/// transaction fails otherwise, leaving the old table as it was).
pub fn rebuild_sqlite_table(tx: &mut dyn Transaction, r: &Rebuild<'_>) -> Result<(), CodeError> {
    let text = |v: &Value| match v {
        Value::Text(t) => t.clone(),
        _ => String::new(),
    };
    let exists = tx.query(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = $1",
        &[Value::Text(r.table.to_string())],
    )?;
    if exists.is_empty() {
        return Err(format!("no table `{}` to rebuild", r.table).into());
    }
    let enforced = tx.query("SELECT foreign_keys FROM pragma_foreign_keys", &[])?;
    if enforced.first().map(|r| &r[0]) == Some(&Value::Integer(1)) {
        let referencing: Vec<String> = tx
            .query(
                "SELECT DISTINCT m.name FROM sqlite_schema m, pragma_foreign_key_list(m.name) f \
                 WHERE m.type = 'table' AND f.\"table\" = $1 COLLATE NOCASE AND m.name <> $1 ORDER BY 1",
                &[Value::Text(r.table.to_string())],
            )?
            .iter()
            .map(|row| text(&row[0]))
            .collect();
        if !referencing.is_empty() {
            return Err(format!(
                "cannot rebuild `{}` with foreign keys enforced: {} refer{} to it, and dropping it would delete what they point at; run the rebuild with `PRAGMA foreign_keys = OFF` (set outside the transaction)",
                r.table,
                referencing.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "),
                if referencing.len() == 1 { "s" } else { "" }
            )
            .into());
        }
    }
    // 1. Its indexes and triggers, to recreate afterwards (automatic indexes have no SQL).
    let dependents: Vec<String> = tx
        .query(
            "SELECT sql FROM sqlite_schema WHERE tbl_name = $1 AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name",
            &[Value::Text(r.table.to_string())],
        )?
        .iter()
        .map(|row| text(&row[0]))
        .collect();
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let new = format!("{}__strata_rebuild", r.table);
    // 2. The new table, 3. the rows, 4. the old table gone, 5. the new one renamed.
    tx.execute(
        &format!("CREATE TABLE {} ({})", quote(&new), r.columns),
        &[],
    )?;
    let targets: Vec<String> = r.copy.iter().map(|(c, _)| quote(c)).collect();
    let sources: Vec<&str> = r.copy.iter().map(|(_, e)| *e).collect();
    tx.execute(
        &format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            quote(&new),
            targets.join(", "),
            sources.join(", "),
            quote(r.table)
        ),
        &[],
    )?;
    tx.execute(&format!("DROP TABLE {}", quote(r.table)), &[])?;
    tx.execute(
        &format!("ALTER TABLE {} RENAME TO {}", quote(&new), quote(r.table)),
        &[],
    )?;
    // 6. Indexes and triggers as they were.
    for sql in dependents {
        tx.execute(&sql, &[])
            .map_err(|e| format!("recreating `{sql}` after rebuilding `{}`: {e}", r.table))?;
    }
    // 7. Foreign keys still hold, in both directions.
    let violations = tx.query(
        "SELECT \"table\", rowid, parent FROM pragma_foreign_key_check",
        &[],
    )?;
    if let Some(v) = violations.first() {
        return Err(format!(
            "rebuilding `{}` breaks a foreign key: a row of `{}` refers to a missing row of `{}` ({} violation(s))",
            r.table,
            text(&v[0]),
            text(&v[2]),
            violations.len()
        )
        .into());
    }
    Ok(())
}
