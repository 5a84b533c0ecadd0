//! Database URLs: `sqlite:PATH` or `postgres://...`, one for all stores or one per store.

use std::collections::BTreeMap;

use strata_runtime::driver::Driver;
use strata_runtime::driver::postgres::PostgresDriver;
use strata_runtime::driver::sqlite::SqliteDriver;
use strata_runtime::{DriverError, Migrations};

/// Where the stores live, from `--database` / `DATABASE_URL` and `--store-database`.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// The URL of every store without its own.
    pub default: Option<String>,
    /// Per-store URLs.
    pub per_store: BTreeMap<String, String>,
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Url {
    /// `sqlite:PATH` or `sqlite://PATH`.
    Sqlite(String),
    /// `postgres://...` or `postgresql://...`.
    Postgres(String),
}

impl Url {
    pub fn parse(url: &str) -> Result<Url, String> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("`sqlite:` needs a file path, e.g. `sqlite:chat.db`".to_string());
            }
            Ok(Url::Sqlite(path.to_string()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Url::Postgres(url.to_string()))
        } else {
            Err(format!(
                "unsupported database URL `{}`: use `sqlite:PATH` or `postgres://USER@HOST/DB`",
                redact(url)
            ))
        }
    }
}

/// The URL with any password replaced by `***`: passwords never reach output or logs.
///
/// ```
/// assert_eq!(
///     strata_cli::redact("postgres://app:hunter2@db/chat"),
///     "postgres://app:***@db/chat"
/// );
/// ```
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let mut out = url.to_string();
    if let Some(at) = authority.rfind('@')
        && let Some(colon) = authority[..at].find(':')
    {
        let start = scheme_end + 3 + colon + 1;
        let end = scheme_end + 3 + at;
        out.replace_range(start..end, "***");
    }
    // `password=` in a query string.
    if let Some(q) = out.find("password=") {
        let end = out[q..].find('&').map_or(out.len(), |e| q + e);
        out.replace_range(q + "password=".len()..end, "***");
    }
    out
}

impl Targets {
    /// Groups the plan's stores by database: (url, stores). Errors name a store without one.
    pub fn group(&self, plan: &Migrations) -> Result<Vec<(String, Vec<String>)>, String> {
        for store in self.per_store.keys() {
            if !plan.stores.iter().any(|s| s.name == store.as_str()) {
                return Err(format!(
                    "--store-database names store `{store}`, which the tree does not have (stores: {})",
                    plan.stores
                        .iter()
                        .map(|s| s.name.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for store in plan.stores.iter() {
            let url = match self.per_store.get(store.name).or(self.default.as_ref()) {
                Some(u) => u.clone(),
                None => {
                    return Err(format!(
                        "no database for store `{}`: pass --database URL (or set DATABASE_URL), or --store-database {}=URL",
                        store.name, store.name
                    ));
                }
            };
            match groups.iter_mut().find(|(u, _)| *u == url) {
                Some((_, stores)) => stores.push(store.name.to_string()),
                None => groups.push((url, vec![store.name.to_string()])),
            }
        }
        Ok(groups)
    }
}

/// An open connection of either engine.
pub enum Connection {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

impl Connection {
    pub fn open(url: &str) -> Result<Connection, String> {
        match Url::parse(url)? {
            Url::Sqlite(path) => rusqlite::Connection::open(&path)
                .map(Connection::Sqlite)
                .map_err(|e| format!("cannot open SQLite database `{path}`: {e}")),
            Url::Postgres(u) => postgres::Client::connect(&u, postgres::NoTls)
                .map(|c| Connection::Postgres(Box::new(c)))
                .map_err(|e| format!("cannot connect to `{}`: {e}", redact(url))),
        }
    }

    /// Runs `f` with a driver over this connection.
    pub fn with_driver<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Driver) -> T,
    ) -> Result<T, DriverError> {
        match self {
            Connection::Sqlite(c) => {
                let mut d = SqliteDriver::new(c)?;
                Ok(f(&mut d))
            }
            Connection::Postgres(c) => {
                let mut d = PostgresDriver::new(c);
                Ok(f(&mut d))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:s3cret@db.example:5432/chat"),
            "postgres://app:***@db.example:5432/chat"
        );
        assert_eq!(redact("postgres://app@db/chat"), "postgres://app@db/chat");
        assert_eq!(
            redact("postgres://db/chat?user=a&password=x&sslmode=require"),
            "postgres://db/chat?user=a&password=***&sslmode=require"
        );
    }

    #[test]
    fn urls_parse() {
        assert_eq!(
            Url::parse("sqlite:chat.db"),
            Ok(Url::Sqlite("chat.db".into()))
        );
        assert_eq!(
            Url::parse("sqlite:///tmp/x.db"),
            Ok(Url::Sqlite("/tmp/x.db".into()))
        );
        assert!(matches!(
            Url::parse("postgresql://a@b/c"),
            Ok(Url::Postgres(_))
        ));
        let err = Url::parse("mysql://root:pw@x/db").unwrap_err();
        assert!(!err.contains("pw"), "{err}");
    }
}
