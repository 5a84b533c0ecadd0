//! SQLite through rusqlite.

use rusqlite::{Connection, OptionalExtension, params};

use super::{AppliedRow, Conn, Driver, VersionRow};
use crate::engine::Engine;
use crate::error::DriverError;
use crate::transaction::{Transaction, Value};

/// A [`Driver`] over a rusqlite connection.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut conn = rusqlite::Connection::open_in_memory()?;
/// let mut driver = strata_runtime::driver::sqlite::SqliteDriver::new(&mut conn)?;
/// # let _ = &mut driver;
/// # Ok(()) }
/// ```
pub struct SqliteDriver<'c> {
    conn: Conn<'c, Connection>,
}

impl<'c> SqliteDriver<'c> {
    /// Wraps `conn`, setting a 5 s busy timeout so that concurrent migrators wait for the
    /// write lock instead of failing.
    pub fn new(conn: &'c mut Connection) -> Result<Self, DriverError> {
        Self::with_busy_timeout(conn, std::time::Duration::from_secs(5))
    }

    /// Takes ownership of `conn` (5 s busy timeout), for a driver that moves to another
    /// thread, such as a [`BackgroundWorker`](crate::background::BackgroundWorker)'s.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let conn = rusqlite::Connection::open_in_memory()?;
    /// let driver: strata_runtime::driver::sqlite::SqliteDriver<'static> =
    ///     strata_runtime::driver::sqlite::SqliteDriver::owned(conn)?;
    /// # drop(driver);
    /// # Ok(()) }
    /// ```
    pub fn owned(conn: Connection) -> Result<SqliteDriver<'static>, DriverError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        Ok(SqliteDriver {
            conn: Conn::Owned(Box::new(conn)),
        })
    }

    /// Wraps `conn`, waiting up to `timeout` for the write lock held by another migrator.
    pub fn with_busy_timeout(
        conn: &'c mut Connection,
        timeout: std::time::Duration,
    ) -> Result<Self, DriverError> {
        conn.busy_timeout(timeout).map_err(err)?;
        Ok(SqliteDriver {
            conn: Conn::Borrowed(conn),
        })
    }
}

fn err(e: rusqlite::Error) -> DriverError {
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) => Some(format!("{:?}", f.code)),
        _ => None,
    };
    DriverError {
        message: match &e {
            rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
            other => other.to_string(),
        },
        code,
        source: Some(Box::new(e)),
    }
}

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VersionRow> {
    Ok(VersionRow {
        store: r.get(0)?,
        version: r.get(1)?,
        upgraded: r.get(2)?,
        snapshot_version: r.get(3)?,
        compat_version: r.get(4)?,
        plan_digest: r.get(5)?,
        tree_fingerprint: r.get(6)?,
    })
}

fn to_sql(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        Value::Null => V::Null,
        Value::Integer(i) => V::Integer(*i),
        Value::Real(f) => V::Real(*f),
        Value::Text(t) => V::Text(t.clone()),
        Value::Blob(b) => V::Blob(b.clone()),
    }
}

impl Transaction for SqliteDriver<'_> {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DriverError> {
        let params: Vec<rusqlite::types::Value> = params.iter().map(to_sql).collect();
        self.conn
            .execute(sql, rusqlite::params_from_iter(params))
            .map(|n| n as u64)
            .map_err(err)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DriverError> {
        use rusqlite::types::ValueRef;
        let params: Vec<rusqlite::types::Value> = params.iter().map(to_sql).collect();
        let mut stmt = self.conn.prepare(sql).map_err(err)?;
        let n = stmt.column_count();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), |r| {
                (0..n)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(v) => Value::Integer(v),
                            ValueRef::Real(v) => Value::Real(v),
                            ValueRef::Text(t) => {
                                Value::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                        })
                    })
                    .collect()
            })
            .map_err(err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(err)
    }
}

impl Driver for SqliteDriver<'_> {
    fn execute_batch(&mut self, sql: &str) -> Result<(), DriverError> {
        self.conn.execute_batch(sql).map_err(err)
    }

    fn begin(&mut self) -> Result<(), DriverError> {
        self.execute_batch("BEGIN IMMEDIATE")
    }

    fn lock(&mut self) -> Result<(), DriverError> {
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), DriverError> {
        Ok(())
    }

    fn bookkeeping_exists(&mut self) -> Result<bool, DriverError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'strata_schema_version'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(err)
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>, DriverError> {
        self.conn
            .query_row("SELECT value FROM strata_meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), DriverError> {
        self.conn
            .execute(
                "INSERT INTO strata_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(|_| ())
            .map_err(err)
    }

    fn version(&mut self, store: &str) -> Result<Option<VersionRow>, DriverError> {
        self.conn
            .query_row(
                "SELECT store, version, upgraded, snapshot_version, compat_version, plan_digest, tree_fingerprint FROM strata_schema_version WHERE store = ?1",
                [store],
                version_row,
            )
            .optional()
            .map_err(err)
    }

    fn put_version(&mut self, row: &VersionRow) -> Result<(), DriverError> {
        self.conn
            .execute(
                "INSERT INTO strata_schema_version (store, version, upgraded, snapshot_version, compat_version, plan_digest, tree_fingerprint) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (store) DO UPDATE SET version = excluded.version, upgraded = excluded.upgraded, snapshot_version = excluded.snapshot_version, compat_version = excluded.compat_version, plan_digest = excluded.plan_digest, tree_fingerprint = excluded.tree_fingerprint",
                params![
                    row.store,
                    row.version,
                    row.upgraded,
                    row.snapshot_version,
                    row.compat_version,
                    row.plan_digest,
                    row.tree_fingerprint
                ],
            )
            .map(|_| ())
            .map_err(err)
    }

    fn applied(&mut self, store: &str) -> Result<Vec<AppliedRow>, DriverError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT store, version, name, engine, checksum, applied_at, duration_ms FROM strata_applied_deltas WHERE store = ?1 ORDER BY version, name",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([store], |r| {
                Ok(AppliedRow {
                    store: r.get(0)?,
                    version: r.get(1)?,
                    name: r.get(2)?,
                    engine: r.get(3)?,
                    checksum: r.get(4)?,
                    applied_at: r.get(5)?,
                    duration_ms: r.get(6)?,
                })
            })
            .map_err(err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(err)
    }

    fn is_applied(&mut self, store: &str, version: u32, name: &str) -> Result<bool, DriverError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM strata_applied_deltas WHERE store = ?1 AND version = ?2 AND name = ?3",
                params![store, version, name],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(err)
    }

    fn put_applied(&mut self, row: &AppliedRow) -> Result<(), DriverError> {
        self.conn
            .execute(
                "INSERT INTO strata_applied_deltas (store, version, name, engine, checksum, applied_at, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    row.store,
                    row.version,
                    row.name,
                    row.engine,
                    row.checksum,
                    row.applied_at,
                    row.duration_ms
                ],
            )
            .map(|_| ())
            .map_err(err)
    }

    fn pending_background_updates(&mut self) -> Result<Vec<String>, DriverError> {
        let mut stmt = self
            .conn
            .prepare("SELECT update_name FROM strata_background_updates WHERE completed_at IS NULL ORDER BY ordering, update_name")
            .map_err(err)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(err)
    }

    fn set_foreign_keys(&mut self, on: bool) -> Result<(), DriverError> {
        self.execute_batch(if on {
            "PRAGMA foreign_keys = ON"
        } else {
            "PRAGMA foreign_keys = OFF"
        })
    }

    fn foreign_key_violations(&mut self) -> Result<Vec<String>, DriverError> {
        let mut stmt = self.conn.prepare("PRAGMA foreign_key_check").map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                let table: String = r.get(0)?;
                let rowid: Option<i64> = r.get(1)?;
                let parent: String = r.get(2)?;
                Ok(format!(
                    "row {} of `{table}` references a missing `{parent}` row",
                    rowid.map_or_else(|| "?".to_string(), |r| r.to_string())
                ))
            })
            .map_err(err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(err)
    }
}
