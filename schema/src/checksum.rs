//! Delta checksums, computed in one place for the macro, the CLI and the runtime.
//!
//! The checksum of a (delta, engine) is SHA-256 over a normalised form strata owns: the
//! file's directives and each statement's directives and tokens, with whitespace and
//! comments removed. CRLF line ends, a byte-order mark, re-indentation and comments do not
//! change it; a changed string literal, identifier or directive does.

use sha2::{Digest, Sha256};
use sqlparser::tokenizer::Token;

use crate::parse::ParsedFile;
use crate::split;

/// Version tag of the normalised form; bump it only with a migration story for recorded
/// checksums.
const FORMAT: &str = "strata-checksum-v1";

/// The checksum of a parsed body, as lowercase hex.
///
/// ```
/// use strata_schema::{checksum::checksum_of_text, engine::Engine};
/// let a = checksum_of_text("CREATE TABLE t (a INT); -- note", Engine::Sqlite);
/// let b = checksum_of_text("\u{feff}CREATE  TABLE t\r\n  (a INT);", Engine::Sqlite);
/// assert_eq!(a, b);
/// assert_ne!(a, checksum_of_text("CREATE TABLE t (b INT);", Engine::Sqlite));
/// ```
pub fn checksum(parsed: &ParsedFile) -> String {
    let mut h = Sha256::new();
    h.update(FORMAT.as_bytes());
    h.update(b"\n");
    for d in &parsed.file_directives {
        h.update(format!("-- strata: {d}\n").as_bytes());
    }
    for s in &parsed.statements {
        feed_statement(&mut h, &s.statement);
    }
    hex(&h.finalize())
}

/// The checksum of SQL text for `engine` (splits and normalises it first).
pub fn checksum_of_text(text: &str, engine: crate::engine::Engine) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let file = crate::tree::SourceFile {
        path: String::new(),
        abs_path: Default::default(),
        index: crate::position::LineIndex::new(text),
        text: text.to_string(),
    };
    checksum(&crate::parse::parse_file(&file, engine))
}

fn feed_statement(h: &mut Sha256, s: &split::Statement) {
    for d in &s.directives {
        h.update(format!("-- strata: {d}\n").as_bytes());
    }
    let mut first = true;
    for t in &s.tokens {
        if matches!(t.token, Token::Whitespace(_)) {
            continue;
        }
        if !first {
            h.update(b" ");
        }
        first = false;
        h.update(t.token.to_string().as_bytes());
    }
    h.update(b"\n;\n");
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    #[test]
    fn golden_values_are_pinned() {
        // If these change, every recorded checksum in every database changes: don't.
        assert_eq!(
            checksum_of_text(
                "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT);",
                Engine::Sqlite
            ),
            "391d067dd847529b706d6c47030717ece73f6bc43f4ef3d6bfadd9f8189c02ba"
        );
        // Several statements, comments and a string literal with `;`.
        assert_eq!(
            checksum_of_text(
                "-- seed\nCREATE TABLE s (k TEXT PRIMARY KEY, v TEXT);\n/* one */ INSERT INTO s VALUES ('a;b', 'c');",
                Engine::Sqlite
            ),
            "19e504cde02345ba9e2e2c49609cab7b5b9591e81e8e759c9f72a835ce81f6ab"
        );
        // A PostgreSQL function: the dollar-quoted body is one token, hashed as written.
        assert_eq!(
            checksum_of_text(
                "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN NULL;\nEND;\n$$;",
                Engine::Postgres
            ),
            "c652a6878ab02a393ca6466e92db0337eed20f46df137537016f179664c6221d"
        );
        // A directive is part of what is hashed.
        assert_eq!(
            checksum_of_text(
                "-- strata: no-transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);",
                Engine::Postgres
            ),
            "6cafdf166ef5ab8f8d2f6d567f6f8dd0aca93879331c78e4b2943078f209b0d2"
        );
    }

    #[test]
    fn insensitive_to_layout_sensitive_to_content() {
        let base = checksum_of_text("INSERT INTO t VALUES ('a b');\nSELECT 1;", Engine::Postgres);
        for same in [
            "INSERT INTO t VALUES ('a b');\r\nSELECT 1;",
            "\u{feff}INSERT   INTO t\n VALUES ('a b'); -- c\n/* x */ SELECT 1",
            "  INSERT INTO t VALUES ('a b') ;\n\n\nSELECT\t1;",
        ] {
            assert_eq!(checksum_of_text(same, Engine::Postgres), base, "{same:?}");
        }
        for different in [
            "INSERT INTO t VALUES ('a  b');\nSELECT 1;",
            "INSERT INTO t VALUES ('a b');\nSELECT 2;",
            "-- strata: allow(G301)\nINSERT INTO t VALUES ('a b');\nSELECT 1;",
            "INSERT INTO t VALUES ('a b');\n-- strata: unchecked\nSELECT 1;",
        ] {
            assert_ne!(
                checksum_of_text(different, Engine::Postgres),
                base,
                "{different:?}"
            );
        }
    }
}
