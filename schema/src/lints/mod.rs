//! Lints: rules that read one statement (and the schema model before it).
//!
//! Rules are grouped by the engine that cannot run what they catch: [`sqlite`] rules look at
//! statements that run on SQLite, [`postgres`] rules at statements that run on PostgreSQL,
//! [`general`] rules at both. Each rule is a function over a [`StatementContext`].

pub mod registry;

mod general;
mod postgres;
mod sqlite;

use std::collections::{BTreeMap, BTreeSet};

use sqlparser::ast;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::manifest::Manifest;
use crate::model::Model;
use crate::parse::ParsedStatement;
use crate::position::Position;
use crate::tree::SourceFile;

pub use registry::LintInfo;

/// Everything a rule may look at for one statement.
pub struct StatementContext<'a> {
    /// The engine this body runs on.
    pub engine: Engine,
    /// The file the statement is in.
    pub file: &'a SourceFile,
    /// The statement.
    pub stmt: &'a ParsedStatement,
    /// The store the script belongs to (`common` for shared scripts).
    pub store: &'a str,
    /// The delta's version, or `None` inside a snapshot.
    pub version: Option<u32>,
    /// Whether the file carries `-- strata: no-transaction`.
    pub no_transaction: bool,
    /// Whether the file carries `-- strata: foreign-keys-off` (a SQLite table rebuild).
    pub foreign_keys_off: bool,
    /// The manifest.
    pub manifest: &'a Manifest,
    /// The tree's compat version.
    pub compat_version: Option<u32>,
    /// The schema before this statement; `None` where the history cannot be replayed
    /// (deltas below the oldest snapshot).
    pub model: Option<&'a Model>,
    /// Every table each store creates anywhere in the tree (for "wrong store").
    pub store_tables: &'a BTreeMap<String, BTreeSet<String>>,
}

impl StatementContext<'_> {
    /// A diagnostic of `lint` at the statement's first token.
    pub fn at_statement(&self, lint: &'static LintInfo, message: impl Into<String>) -> Diagnostic {
        let s = &self.stmt.statement;
        let end = s.tokens.first().map_or(s.sql_span.start, |t| {
            self.offset(t.span.end).unwrap_or(s.sql_span.start)
        });
        Diagnostic::new(lint, message)
            .at(&self.file.path, s.sql_span.start..end, s.start)
            .engine(self.engine)
    }

    /// A diagnostic of `lint` at `token`.
    pub fn at_token(
        &self,
        lint: &'static LintInfo,
        token: &TokenWithSpan,
        message: impl Into<String>,
    ) -> Diagnostic {
        let start = self.offset(token.span.start);
        let end = self.offset(token.span.end);
        match (start, end) {
            (Some(start), Some(end)) => Diagnostic::new(lint, message)
                .at(
                    &self.file.path,
                    start..end,
                    Position {
                        line: token.span.start.line as usize,
                        column: token.span.start.column as usize,
                    },
                )
                .engine(self.engine),
            _ => self.at_statement(lint, message),
        }
    }

    /// A diagnostic at the first token matching `pred`, or at the statement.
    pub fn at_first(
        &self,
        lint: &'static LintInfo,
        pred: impl Fn(&Token) -> bool,
        message: impl Into<String>,
    ) -> Diagnostic {
        match self.stmt.statement.tokens.iter().find(|t| pred(&t.token)) {
            Some(t) => self.at_token(lint, t, message),
            None => self.at_statement(lint, message),
        }
    }

    /// Significant tokens of the statement.
    pub fn tokens(&self) -> impl Iterator<Item = &TokenWithSpan> {
        self.stmt
            .statement
            .tokens
            .iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_)))
    }

    /// The statement's AST, when it was parsed.
    pub fn ast(&self) -> Option<&ast::Statement> {
        self.stmt.ast.as_ref()
    }

    fn offset(&self, loc: sqlparser::tokenizer::Location) -> Option<usize> {
        self.file.index.offset(Position {
            line: loc.line as usize,
            column: loc.column as usize,
        })
    }
}

/// Whether `t` is the unquoted keyword `kw`.
pub fn is_kw(t: &Token, kw: Keyword) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.keyword == kw)
}

/// Whether `t` is the unquoted word `word` (case-insensitive), keyword or not.
pub fn is_word(t: &Token, word: &str) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// Runs every rule that applies to `ctx.engine` and returns what fired (minus `allow`ed).
pub fn check_statement(ctx: &StatementContext<'_>) -> Vec<Diagnostic> {
    if ctx.stmt.unchecked {
        return Vec::new();
    }
    let mut out = Vec::new();
    general::check(ctx, &mut out);
    match ctx.engine {
        Engine::Sqlite => sqlite::check(ctx, &mut out),
        Engine::Postgres => postgres::check(ctx, &mut out),
    }
    out.retain(|d| !ctx.stmt.allows(d.lint));
    out
}

/// `CREATE [UNIQUE] INDEX CONCURRENTLY` or `DROP INDEX CONCURRENTLY` (sqlparser reads the
/// latter with `CONCURRENTLY` as the index name, so look at tokens).
pub(crate) fn concurrently_token<'a>(ctx: &'a StatementContext<'_>) -> Option<&'a TokenWithSpan> {
    let toks: Vec<&TokenWithSpan> = ctx.tokens().take(5).collect();
    let index_at = toks.iter().position(|t| is_kw(&t.token, Keyword::INDEX))?;
    let first = toks.first()?;
    if !(is_kw(&first.token, Keyword::CREATE) || is_kw(&first.token, Keyword::DROP)) {
        return None;
    }
    toks.get(index_at + 1)
        .copied()
        .filter(|t| is_kw(&t.token, Keyword::CONCURRENTLY))
}

/// Column definitions a statement adds: CREATE TABLE columns and ALTER TABLE ADD COLUMN.
pub(crate) fn new_columns(stmt: &ast::Statement) -> Vec<&ast::ColumnDef> {
    match stmt {
        ast::Statement::CreateTable(ct) => ct.columns.iter().collect(),
        ast::Statement::AlterTable(at) => at
            .operations
            .iter()
            .filter_map(|op| match op {
                ast::AlterTableOperation::AddColumn { column_def, .. } => Some(column_def),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The first word of a declared type, uppercased (`BIGINT`, `SERIAL`, `BLOB`, ...).
pub(crate) fn type_word(dt: &ast::DataType) -> String {
    dt.to_string()
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .next()
        .unwrap_or_default()
        .to_uppercase()
}
