//! `-- strata: <directive> [args]` markers.
//!
//! One grammar for all markers. A directive sits alone on its line. Written before a file's
//! first statement it applies to the whole file (the whole delta); written later it applies to
//! the next statement. Directives are part of a delta's checksum.
//!
//! | directive | where | meaning |
//! |---|---|---|
//! | `allow(<lint>, ...)` | file or statement | silence these lints (code or name) |
//! | `no-transaction` | file | run the delta outside a transaction (exactly one statement) |
//! | `foreign-keys-off` | file | SQLite: run with `PRAGMA foreign_keys` off, then `foreign_key_check` |
//! | `unchecked` | file or statement | do not parse or lint (for SQL sqlparser cannot read) |

use std::fmt;

/// One parsed directive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Directive {
    /// `allow(<lint>, ...)`: silence the named lints (by code or by name).
    Allow(Vec<String>),
    /// `no-transaction`: the delta runs outside a transaction (e.g. `CREATE INDEX CONCURRENTLY`).
    NoTransaction,
    /// `foreign-keys-off`: SQLite table rebuilds; foreign keys are switched off around the delta.
    ForeignKeysOff,
    /// `unchecked`: skip parsing and lints.
    Unchecked,
}

impl Directive {
    /// Whether this directive may only be written at the top of a file.
    pub fn is_file_only(&self) -> bool {
        matches!(self, Directive::NoTransaction | Directive::ForeignKeysOff)
    }
}

impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Directive::Allow(lints) => write!(f, "allow({})", lints.join(", ")),
            Directive::NoTransaction => f.write_str("no-transaction"),
            Directive::ForeignKeysOff => f.write_str("foreign-keys-off"),
            Directive::Unchecked => f.write_str("unchecked"),
        }
    }
}

/// A malformed directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

const KNOWN: &str = "allow(<lint>), no-transaction, foreign-keys-off, unchecked";

/// Parses the text of a `--` comment (without the `--`). Returns `None` when the comment is
/// not a strata directive at all.
///
/// ```
/// use strata_schema::directive::{parse_directive_comment, Directive};
/// assert_eq!(parse_directive_comment(" strata: no-transaction"), Some(Ok(Directive::NoTransaction)));
/// assert_eq!(parse_directive_comment(" just a comment"), None);
/// ```
pub fn parse_directive_comment(comment: &str) -> Option<Result<Directive, DirectiveError>> {
    let rest = comment.trim().strip_prefix("strata:")?.trim();
    let (name, args) = match rest.find('(') {
        Some(open) => {
            let Some(inner) = rest[open + 1..].strip_suffix(')') else {
                return Some(Err(DirectiveError {
                    message: format!("unclosed parenthesis in directive `{rest}`"),
                    help: "write it as `-- strata: allow(<lint>, <lint>)`".to_string(),
                }));
            };
            (rest[..open].trim(), Some(inner))
        }
        None => (rest, None),
    };
    let err = |message: String| {
        Some(Err(DirectiveError {
            message,
            help: format!("known directives: {KNOWN}"),
        }))
    };
    let directive = match (name, args) {
        ("allow", Some(args)) => {
            let lints: Vec<String> = args
                .split(',')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect();
            if lints.is_empty() {
                return err("`allow` needs at least one lint code or name".to_string());
            }
            Directive::Allow(lints)
        }
        ("allow", None) => return err("`allow` needs a list: `allow(<lint>)`".to_string()),
        ("no-transaction", None) => Directive::NoTransaction,
        ("foreign-keys-off", None) => Directive::ForeignKeysOff,
        ("unchecked", None) => Directive::Unchecked,
        ("no-transaction" | "foreign-keys-off" | "unchecked", Some(_)) => {
            return err(format!("directive `{name}` takes no arguments"));
        }
        ("", _) => return err("empty strata directive".to_string()),
        _ => return err(format!("unknown strata directive `{name}`")),
    };
    Some(Ok(directive))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_directive() {
        assert_eq!(
            parse_directive_comment("strata: allow(S107, postgres-blob)"),
            Some(Ok(Directive::Allow(vec![
                "S107".into(),
                "postgres-blob".into()
            ])))
        );
        assert_eq!(
            parse_directive_comment(" strata: foreign-keys-off "),
            Some(Ok(Directive::ForeignKeysOff))
        );
        assert_eq!(
            parse_directive_comment("strata:unchecked"),
            Some(Ok(Directive::Unchecked))
        );
    }

    #[test]
    fn rejects_malformed_directives() {
        for bad in [
            "strata: allow()",
            "strata: allow",
            "strata: allow(x",
            "strata: nope",
            "strata:",
            "strata: unchecked(x)",
        ] {
            assert!(
                matches!(parse_directive_comment(bad), Some(Err(_))),
                "{bad}"
            );
        }
    }
}
