//! Version 15: display names are shown on one line. Collapse every run of whitespace
//! (Unicode spaces and line breaks included) into one space and trim the ends. Neither
//! engine has a portable way to do this in SQL (SQLite has no `regexp_replace`), hence a
//! code delta. It changes no schema, so it has no `.schema.sql` companion.
//!
//! It runs inside the delta's transaction, on SQLite and PostgreSQL alike, and only from
//! the application's own binary (`include_migrations!`): the generic `strata` binary stops
//! before it.

use strata::{CodeError, Transaction, Value};

pub fn migrate(tx: &mut dyn Transaction) -> Result<(), CodeError> {
    let rows = tx.query(
        "SELECT name, displayname FROM users WHERE displayname IS NOT NULL ORDER BY name",
        &[],
    )?;
    for row in rows {
        let [Value::Text(name), Value::Text(displayname)] = row.as_slice() else {
            return Err(format!("unexpected users row {row:?}").into());
        };
        let clean = displayname.split_whitespace().collect::<Vec<_>>().join(" ");
        if &clean != displayname {
            tx.execute(
                "UPDATE users SET displayname = $1 WHERE name = $2",
                &[Value::Text(clean), Value::Text(name.clone())],
            )?;
        }
    }
    Ok(())
}
