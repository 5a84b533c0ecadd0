//! PostgreSQL through the `postgres` crate.
//!
//! `postgres::Client` is blocking and panics when used inside a tokio runtime: in an async
//! application run the migration in `tokio::task::spawn_blocking`.

use std::time::Duration;

use postgres::Client;

use super::{AppliedRow, Conn, Driver, VersionRow};
use crate::engine::Engine;
use crate::error::DriverError;
use crate::transaction::{Transaction, Value};
use postgres::types::ToSql;

/// How [`connect`] secures the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tls {
    /// No TLS (`sslmode` in the URL is ignored).
    #[default]
    Off,
    /// TLS with the server's certificate verified against the system's roots (feature
    /// `tls`). The URL's `sslmode` decides whether TLS is required (`require`), tried
    /// (`prefer`, the default) or not used (`disable`).
    #[cfg(feature = "tls")]
    Verify,
    /// TLS without verifying the certificate (self-signed test servers; libpq's
    /// `sslmode=require` behaves so). Feature `tls`.
    #[cfg(feature = "tls")]
    AcceptInvalidCertificates,
}

/// Connects to `url` (`postgres://user@host/db?sslmode=...`) with the chosen TLS. Errors
/// never contain the password.
pub fn connect(url: &str, tls: Tls) -> Result<Client, DriverError> {
    let config: postgres::Config = url.parse().map_err(err)?;
    match tls {
        Tls::Off => config.connect(postgres::NoTls).map_err(err),
        #[cfg(feature = "tls")]
        Tls::Verify | Tls::AcceptInvalidCertificates => {
            let connector = native_tls::TlsConnector::builder()
                .danger_accept_invalid_certs(tls == Tls::AcceptInvalidCertificates)
                .danger_accept_invalid_hostnames(tls == Tls::AcceptInvalidCertificates)
                .build()
                .map_err(|e| DriverError {
                    message: format!("cannot set up TLS: {e}"),
                    code: None,
                    source: Some(Box::new(e)),
                })?;
            config
                .connect(postgres_native_tls::MakeTlsConnector::new(connector))
                .map_err(err)
        }
    }
}

/// The advisory-lock key strata takes while migrating (ASCII "strata" + 1).
pub const LOCK_KEY: i64 = 0x7374_7261_7461_0001;
/// The advisory-lock key one-shot background updates run under (ASCII "strata" + 2).
pub const BACKGROUND_LOCK_KEY: i64 = 0x7374_7261_7461_0002;

/// A [`Driver`] over a `postgres::Client`.
pub struct PostgresDriver<'c> {
    client: Conn<'c, Client>,
    lock_timeout: Option<Duration>,
    statement_timeout: Option<Duration>,
}

impl<'c> PostgresDriver<'c> {
    /// Wraps `client`. No lock or statement timeout is set unless asked for.
    pub fn new(client: &'c mut Client) -> Self {
        PostgresDriver {
            client: Conn::Borrowed(client),
            lock_timeout: None,
            statement_timeout: None,
        }
    }

    /// Takes ownership of `client`, for a driver that moves to another thread, such as a
    /// [`BackgroundWorker`](crate::background::BackgroundWorker)'s.
    pub fn owned(client: Client) -> PostgresDriver<'static> {
        PostgresDriver {
            client: Conn::Owned(Box::new(client)),
            lock_timeout: None,
            statement_timeout: None,
        }
    }

    /// How long to wait for the migration lock (and any table lock a delta needs) before
    /// failing (`lock_timeout`).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// `statement_timeout` for the statements of deltas.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }
}

fn err(e: postgres::Error) -> DriverError {
    let (message, code) = match e.as_db_error() {
        Some(db) => (
            match db.detail() {
                Some(detail) => format!("{} ({detail})", db.message()),
                None => db.message().to_string(),
            },
            Some(db.code().code().to_string()),
        ),
        None => (e.to_string(), None),
    };
    DriverError {
        message,
        code,
        source: Some(Box::new(e)),
    }
}

fn version_row(r: &postgres::Row) -> VersionRow {
    VersionRow {
        store: r.get(0),
        version: r.get::<_, i64>(1) as u32,
        upgraded: r.get(2),
        snapshot_version: r.get::<_, Option<i64>>(3).map(|v| v as u32),
        compat_version: r.get::<_, i64>(4) as u32,
        plan_digest: r.get(5),
        tree_fingerprint: r.get(6),
    }
}

fn params(values: &[Value]) -> Vec<Box<dyn ToSql + Sync>> {
    values
        .iter()
        .map(|v| -> Box<dyn ToSql + Sync> {
            match v {
                Value::Null => Box::new(Option::<String>::None),
                Value::Integer(i) => Box::new(*i),
                Value::Real(f) => Box::new(*f),
                Value::Text(t) => Box::new(t.clone()),
                Value::Blob(b) => Box::new(b.clone()),
            }
        })
        .collect()
}

fn column(row: &postgres::Row, i: usize) -> Value {
    use postgres::types::Type;
    let ty = row.columns()[i].type_();
    let got = match *ty {
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)
            .map(|v| v.map(|v| Value::Integer(v.into()))),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)
            .map(|v| v.map(|v| Value::Integer(v.into()))),
        Type::INT8 => row
            .try_get::<_, Option<i64>>(i)
            .map(|v| v.map(Value::Integer)),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)
            .map(|v| v.map(|b| Value::Integer(b.into()))),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)
            .map(|v| v.map(|f| Value::Real(f.into()))),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map(|v| v.map(Value::Real)),
        Type::BYTEA => row
            .try_get::<_, Option<Vec<u8>>>(i)
            .map(|v| v.map(Value::Blob)),
        _ => row
            .try_get::<_, Option<String>>(i)
            .map(|v| v.map(Value::Text)),
    };
    got.ok().flatten().unwrap_or(Value::Null)
}

impl Transaction for PostgresDriver<'_> {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, DriverError> {
        let owned = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        self.client.execute(sql, &refs).map_err(err)
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Value>>, DriverError> {
        let owned = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        let rows = self.client.query(sql, &refs).map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| (0..r.len()).map(|i| column(r, i)).collect())
            .collect())
    }
}

impl Driver for PostgresDriver<'_> {
    fn execute_batch(&mut self, sql: &str) -> Result<(), DriverError> {
        self.client.batch_execute(sql).map_err(err)
    }

    fn begin(&mut self) -> Result<(), DriverError> {
        self.execute_batch("BEGIN")
    }

    fn lock(&mut self) -> Result<(), DriverError> {
        if let Some(t) = self.lock_timeout {
            self.execute_batch(&format!("SET lock_timeout = {}", t.as_millis()))?;
        }
        if let Some(t) = self.statement_timeout {
            self.execute_batch(&format!("SET statement_timeout = {}", t.as_millis()))?;
        }
        self.client
            .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
            .map(|_| ())
            .map_err(err)
    }

    fn unlock(&mut self) -> Result<(), DriverError> {
        self.client
            .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
            .map(|_| ())
            .map_err(err)
    }

    fn bookkeeping_exists(&mut self) -> Result<bool, DriverError> {
        self.client
            .query_one(
                "SELECT to_regclass('strata_schema_version') IS NOT NULL",
                &[],
            )
            .map(|r| r.get(0))
            .map_err(err)
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>, DriverError> {
        self.client
            .query_opt("SELECT value FROM strata_meta WHERE key = $1", &[&key])
            .map(|r| r.map(|r| r.get(0)))
            .map_err(err)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), DriverError> {
        self.client
            .execute(
                "INSERT INTO strata_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )
            .map(|_| ())
            .map_err(err)
    }

    fn version(&mut self, store: &str) -> Result<Option<VersionRow>, DriverError> {
        self.client
            .query_opt(
                "SELECT store, version, upgraded, snapshot_version, compat_version, plan_digest, tree_fingerprint FROM strata_schema_version WHERE store = $1",
                &[&store],
            )
            .map(|r| r.as_ref().map(version_row))
            .map_err(err)
    }

    fn put_version(&mut self, row: &VersionRow) -> Result<(), DriverError> {
        self.client
            .execute(
                "INSERT INTO strata_schema_version (store, version, upgraded, snapshot_version, compat_version, plan_digest, tree_fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (store) DO UPDATE SET version = excluded.version, upgraded = excluded.upgraded, snapshot_version = excluded.snapshot_version, compat_version = excluded.compat_version, plan_digest = excluded.plan_digest, tree_fingerprint = excluded.tree_fingerprint",
                &[
                    &row.store,
                    &i64::from(row.version),
                    &row.upgraded,
                    &row.snapshot_version.map(i64::from),
                    &i64::from(row.compat_version),
                    &row.plan_digest,
                    &row.tree_fingerprint,
                ],
            )
            .map(|_| ())
            .map_err(err)
    }

    fn applied(&mut self, store: &str) -> Result<Vec<AppliedRow>, DriverError> {
        let rows = self
            .client
            .query(
                "SELECT store, version, name, engine, checksum, applied_at, duration_ms FROM strata_applied_deltas WHERE store = $1 ORDER BY version, name",
                &[&store],
            )
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| AppliedRow {
                store: r.get(0),
                version: r.get::<_, i64>(1) as u32,
                name: r.get(2),
                engine: r.get(3),
                checksum: r.get(4),
                applied_at: r.get(5),
                duration_ms: r.get(6),
            })
            .collect())
    }

    fn is_applied(&mut self, store: &str, version: u32, name: &str) -> Result<bool, DriverError> {
        self.client
            .query_one(
                "SELECT count(*) FROM strata_applied_deltas WHERE store = $1 AND version = $2 AND name = $3",
                &[&store, &i64::from(version), &name],
            )
            .map(|r| r.get::<_, i64>(0) > 0)
            .map_err(err)
    }

    fn put_applied(&mut self, row: &AppliedRow) -> Result<(), DriverError> {
        self.client
            .execute(
                "INSERT INTO strata_applied_deltas (store, version, name, engine, checksum, applied_at, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &row.store,
                    &i64::from(row.version),
                    &row.name,
                    &row.engine,
                    &row.checksum,
                    &row.applied_at,
                    &row.duration_ms,
                ],
            )
            .map(|_| ())
            .map_err(err)
    }

    fn pending_background_updates(&mut self) -> Result<Vec<String>, DriverError> {
        self.client
            .query(
                "SELECT update_name FROM strata_background_updates WHERE completed_at IS NULL ORDER BY ordering, update_name",
                &[],
            )
            .map(|rows| rows.iter().map(|r| r.get(0)).collect())
            .map_err(err)
    }

    fn set_foreign_keys(&mut self, _on: bool) -> Result<(), DriverError> {
        // PostgreSQL enforces foreign keys at all times; `foreign-keys-off` is for SQLite
        // table rebuilds, which PostgreSQL does not need.
        Ok(())
    }

    fn foreign_key_violations(&mut self) -> Result<Vec<String>, DriverError> {
        Ok(Vec::new())
    }

    fn lock_background_update(&mut self, name: &str) -> Result<(), DriverError> {
        self.client
            .query(
                "SELECT 1 FROM strata_background_updates WHERE update_name = $1 FOR UPDATE",
                &[&name],
            )
            .map(|_| ())
            .map_err(err)
    }

    fn try_lock_background(&mut self) -> Result<bool, DriverError> {
        self.client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&BACKGROUND_LOCK_KEY])
            .map(|r| r.get(0))
            .map_err(err)
    }

    fn unlock_background(&mut self) -> Result<(), DriverError> {
        self.client
            .execute("SELECT pg_advisory_unlock($1)", &[&BACKGROUND_LOCK_KEY])
            .map(|_| ())
            .map_err(err)
    }

    fn supports_concurrent_index(&self) -> bool {
        true
    }

    fn drop_invalid_index(&mut self, index: &str) -> Result<bool, DriverError> {
        let invalid = self
            .client
            .query_opt(
                "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND NOT i.indisvalid",
                &[&index],
            )
            .map_err(err)?
            .is_some();
        if invalid {
            self.execute_batch(&format!(
                "DROP INDEX CONCURRENTLY IF EXISTS \"{}\"",
                index.replace('"', "\"\"")
            ))?;
        }
        Ok(invalid)
    }
}
