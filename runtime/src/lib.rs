//! strata's runtime: applies migration plans to SQLite and PostgreSQL safely.
//!
//! A [`Migrations`] plan comes from `include_migrations!` (compiled in) or from
//! `strata-schema` loading a tree at run time; both build the same types. [`Migrator`]
//! applies it through a [`driver::Driver`]: [`driver::sqlite::SqliteDriver`] (feature
//! `sqlite`, default) or [`driver::postgres::PostgresDriver`] (feature `postgres`).
//!
//! strata is forward-only: there are no down migrations. Rolling back a *release* stays
//! possible through the compat version: old code refuses to start only when the database's
//! compat version is newer than itself.

pub mod background;
pub mod bookkeeping;
pub mod driver;
pub mod engine;
pub mod error;
pub mod migrate;
pub mod plan;
pub mod rebuild;
pub mod script;
#[doc(hidden)]
pub mod test_utils;
pub mod testing;
pub mod transaction;

pub use engine::Engine;
pub use error::{DriverError, Error, Result};
pub use migrate::{ChecksumPolicy, Event, Migrator, Options, Report, Status, Step, StoreStatus};
pub use plan::Migrations;
pub use transaction::{CodeError, Transaction, Value};
