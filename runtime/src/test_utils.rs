//! Test helpers shared by strata's own tests: a [`Driver`] wrapper that sees every call,
//! to count reads or inject faults. Not part of the stable API.

use crate::driver::{AppliedRow, Driver, VersionRow};
use crate::engine::Engine;
use crate::error::DriverError;
use crate::transaction::{Transaction, Value};

/// A driver call, as seen by a [`Hooked`] driver's hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call<'a> {
    /// `execute(sql)`.
    Execute(&'a str),
    /// `begin()`.
    Begin,
    /// `commit()`.
    Commit,
    /// `rollback()`.
    Rollback,
    /// `version(store)`.
    Version,
    /// `applied(store)`.
    Applied,
    /// `is_applied(..)`.
    IsApplied,
    /// `put_applied(row)`: the bookkeeping insert of a delta.
    PutApplied,
    /// `put_version(row)`.
    PutVersion,
    /// Any other call.
    Other,
}

/// Wraps a driver; `hook` runs before every call and may fail it.
pub struct Hooked<'d, F> {
    /// The wrapped driver.
    pub inner: &'d mut dyn Driver,
    /// Called before each call.
    pub hook: F,
}

impl<F: FnMut(Call<'_>) -> Result<(), DriverError>> Hooked<'_, F> {
    fn h(&mut self, call: Call<'_>) -> Result<(), DriverError> {
        (self.hook)(call)
    }
}

impl<F: FnMut(Call<'_>) -> Result<(), DriverError>> Transaction for Hooked<'_, F> {
    fn engine(&self) -> Engine {
        self.inner.engine()
    }
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DriverError> {
        self.h(Call::Execute(sql))?;
        self.inner.execute(sql, params)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DriverError> {
        self.h(Call::Other)?;
        self.inner.query(sql, params)
    }
}

impl<F: FnMut(Call<'_>) -> Result<(), DriverError>> Driver for Hooked<'_, F> {
    fn execute_batch(&mut self, sql: &str) -> Result<(), DriverError> {
        self.h(Call::Execute(sql))?;
        self.inner.execute_batch(sql)
    }
    fn begin(&mut self) -> Result<(), DriverError> {
        self.h(Call::Begin)?;
        self.inner.begin()
    }
    fn commit(&mut self) -> Result<(), DriverError> {
        self.h(Call::Commit)?;
        self.inner.commit()
    }
    fn rollback(&mut self) -> Result<(), DriverError> {
        self.h(Call::Rollback)?;
        self.inner.rollback()
    }
    fn lock(&mut self) -> Result<(), DriverError> {
        self.h(Call::Other)?;
        self.inner.lock()
    }
    fn unlock(&mut self) -> Result<(), DriverError> {
        self.h(Call::Other)?;
        self.inner.unlock()
    }
    fn bookkeeping_exists(&mut self) -> Result<bool, DriverError> {
        self.h(Call::Other)?;
        self.inner.bookkeeping_exists()
    }
    fn meta(&mut self, key: &str) -> Result<Option<String>, DriverError> {
        self.h(Call::Other)?;
        self.inner.meta(key)
    }
    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), DriverError> {
        self.h(Call::Other)?;
        self.inner.set_meta(key, value)
    }
    fn version(&mut self, store: &str) -> Result<Option<VersionRow>, DriverError> {
        self.h(Call::Version)?;
        self.inner.version(store)
    }
    fn put_version(&mut self, row: &VersionRow) -> Result<(), DriverError> {
        self.h(Call::PutVersion)?;
        self.inner.put_version(row)
    }
    fn applied(&mut self, store: &str) -> Result<Vec<AppliedRow>, DriverError> {
        self.h(Call::Applied)?;
        self.inner.applied(store)
    }
    fn is_applied(&mut self, store: &str, version: u32, name: &str) -> Result<bool, DriverError> {
        self.h(Call::IsApplied)?;
        self.inner.is_applied(store, version, name)
    }
    fn put_applied(&mut self, row: &AppliedRow) -> Result<(), DriverError> {
        self.h(Call::PutApplied)?;
        self.inner.put_applied(row)
    }
    fn set_foreign_keys(&mut self, on: bool) -> Result<(), DriverError> {
        self.h(Call::Other)?;
        self.inner.set_foreign_keys(on)
    }
    fn foreign_key_violations(&mut self) -> Result<Vec<String>, DriverError> {
        self.h(Call::Other)?;
        self.inner.foreign_key_violations()
    }
    fn pending_background_updates(&mut self) -> Result<Vec<String>, DriverError> {
        self.h(Call::Other)?;
        self.inner.pending_background_updates()
    }
    fn drop_invalid_index(&mut self, index: &str) -> Result<bool, DriverError> {
        self.h(Call::Other)?;
        self.inner.drop_invalid_index(index)
    }
}
