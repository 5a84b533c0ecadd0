//! Fresh migrated databases for tests: users test their own trees on both engines.
//!
//! ```
//! # fn plan() -> strata_runtime::Migrations { strata_runtime::plan::Migrations {
//! #   engines: Default::default(), stores: Default::default(), common: None, target_version: 0,
//! #   compat_version: 0, fingerprint: "".into(), background_updates: Default::default() } }
//! // In a test: a private in-memory SQLite database, migrated.
//! let conn = strata_runtime::testing::sqlite(&plan()).unwrap();
//! # let _ = conn;
//! ```
//!
//! PostgreSQL tests connect to `STRATA_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), create a database of their own and drop it
//! when the [`PostgresTestDb`] is dropped. Without a reachable server they are skipped with
//! a `SKIPPED` line on stderr, unless `STRATA_REQUIRE_POSTGRES=1`, which makes them fail.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::{error::Result, migrate::Migrator, plan::Migrations};

/// A private in-memory SQLite database migrated to the plan's target.
#[cfg(feature = "sqlite")]
pub fn sqlite(plan: &Migrations) -> Result<rusqlite::Connection> {
    let mut conn = rusqlite::Connection::open_in_memory()
        .map_err(|e| crate::DriverError::msg(e.to_string()))?;
    {
        let mut db = crate::driver::sqlite::SqliteDriver::new(&mut conn)?;
        Migrator::new(plan).apply(&mut db)?;
    }
    Ok(conn)
}

#[cfg(feature = "postgres")]
pub use pg::*;

#[cfg(feature = "postgres")]
mod pg {
    use super::*;

    /// The server URL PostgreSQL tests use, or `None` after printing why the test named
    /// `test` is skipped. Panics when `STRATA_REQUIRE_POSTGRES=1` and no server answers.
    pub fn postgres_url(test: &str) -> Option<String> {
        let url = std::env::var("STRATA_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        match postgres::Client::connect(&url, postgres::NoTls) {
            Ok(_) => Some(url),
            Err(e) if std::env::var("STRATA_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
                panic!("PostgreSQL is required (STRATA_REQUIRE_POSTGRES=1) but unreachable: {e}")
            }
            Err(e) => {
                eprintln!(
                    "SKIPPED {test}: no PostgreSQL reachable ({e}); set STRATA_TEST_POSTGRES_URL"
                );
                None
            }
        }
    }

    /// A database of its own on the test server, dropped (with its connections) on drop.
    pub struct PostgresTestDb {
        admin_url: String,
        /// The database name.
        pub name: String,
        /// A URL connecting to it.
        pub url: String,
    }

    impl PostgresTestDb {
        /// Creates an empty database named after `test`, or `None` when skipped (see
        /// [`postgres_url`]).
        pub fn empty(test: &str) -> Option<PostgresTestDb> {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let admin_url = postgres_url(test)?;
            let safe: String = test
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .take(30)
                .collect();
            let name = format!(
                "strata_test_{safe}_{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            );
            let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)
                .expect("server answered a moment ago");
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                .expect("drop a stale test database");
            admin
                .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .expect("create the test database");
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(b, _)| b);
            Some(PostgresTestDb {
                url: format!("{base}/{name}"),
                admin_url,
                name,
            })
        }

        /// A new connection to the database.
        pub fn client(&self) -> postgres::Client {
            postgres::Client::connect(&self.url, postgres::NoTls)
                .expect("connect to the test database")
        }
    }

    impl Drop for PostgresTestDb {
        fn drop(&mut self) {
            if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
                let _ = admin.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                ));
            }
        }
    }

    /// A database of its own migrated to the plan's target, or `None` when skipped.
    pub fn postgres(plan: &Migrations, test: &str) -> Result<Option<PostgresTestDb>> {
        let Some(db) = PostgresTestDb::empty(test) else {
            return Ok(None);
        };
        let mut client = db.client();
        let mut driver = crate::driver::postgres::PostgresDriver::new(&mut client);
        Migrator::new(plan).apply(&mut driver)?;
        Ok(Some(db))
    }
}
