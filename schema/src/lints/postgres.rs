//! Rules for statements that run on PostgreSQL.

use sqlparser::ast::{
    self, AlterColumnOperation, AlterTableOperation, SqliteOnConflict, TableConstraint,
};
use sqlparser::keywords::Keyword;

use super::registry as lint;
use super::{StatementContext, concurrently_token, is_kw, is_word, new_columns, type_word};
use crate::diagnostic::Diagnostic;
use crate::model::{ident, object_name};

pub(super) fn check(ctx: &StatementContext<'_>, out: &mut Vec<Diagnostic>) {
    token_rules(ctx, out);
    let Some(stmt) = ctx.ast() else { return };
    for col in new_columns(stmt) {
        let ty = type_word(&col.data_type);
        let name = ident(&col.name);
        if ty == "BLOB" {
            out.push(ctx.at_first(
                &lint::POSTGRES_BLOB,
                |t| is_word(t, "BLOB"),
                format!("column `{name}` is `BLOB`, which PostgreSQL does not have"),
            ));
        }
        int_timestamp(ctx, &name, &ty, out);
    }
    match stmt {
        ast::Statement::Insert(ins) => {
            if let Some(or) = &ins.or {
                let form = match or {
                    SqliteOnConflict::Ignore => "INSERT OR IGNORE",
                    SqliteOnConflict::Replace => "INSERT OR REPLACE",
                    SqliteOnConflict::Rollback => "INSERT OR ROLLBACK",
                    SqliteOnConflict::Abort => "INSERT OR ABORT",
                    SqliteOnConflict::Fail => "INSERT OR FAIL",
                };
                out.push(ctx.at_statement(
                    &lint::POSTGRES_INSERT_OR,
                    format!("`{form}` does not exist in PostgreSQL"),
                ));
            }
        }
        ast::Statement::CreateIndex(ci) if ci.concurrently || ctx.no_transaction => {}
        ast::Statement::CreateIndex(ci) => blocking_index(ctx, ci, out),
        ast::Statement::AlterTable(at) => {
            let table = object_name(&at.name);
            for op in &at.operations {
                match op {
                    AlterTableOperation::AlterColumn {
                        column_name,
                        op: AlterColumnOperation::SetDataType { data_type, .. },
                    } => {
                        let col = ident(column_name);
                        out.push(ctx.at_statement(
                            &lint::POSTGRES_ALTER_TYPE,
                            format!(
                                "`ALTER COLUMN {col} TYPE {data_type}` rewrites `{table}` under an exclusive lock"
                            ),
                        ));
                        int_timestamp(ctx, &col, &type_word(data_type), out);
                    }
                    AlterTableOperation::AddConstraint {
                        constraint: TableConstraint::ForeignKey(fk),
                        not_valid: false,
                    } if table_is_old(ctx, &table) => out.push(ctx.at_statement(
                        &lint::POSTGRES_FK_NOT_VALID,
                        format!(
                            "foreign key from existing table `{table}` to `{}` without `NOT VALID` checks every row under lock",
                            object_name(&fk.foreign_table)
                        ),
                    )),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// Rules that work on tokens, so they also fire on statements sqlparser cannot read
/// (`PRAGMA table_info(t)`, for example).
fn token_rules(ctx: &StatementContext<'_>, out: &mut Vec<Diagnostic>) {
    let toks: Vec<_> = ctx.tokens().collect();
    if let Some(first) = toks.first()
        && is_kw(&first.token, Keyword::PRAGMA)
    {
        out.push(ctx.at_token(
            &lint::POSTGRES_PRAGMA,
            first,
            "`PRAGMA` does not exist in PostgreSQL",
        ));
    }
    if let [first, second, ..] = toks.as_slice()
        && is_kw(&first.token, Keyword::REPLACE)
        && is_kw(&second.token, Keyword::INTO)
    {
        out.push(ctx.at_token(
            &lint::POSTGRES_REPLACE_INTO,
            first,
            "`REPLACE INTO` does not exist in PostgreSQL",
        ));
    }
    if let Some(t) = toks.iter().find(|t| is_word(&t.token, "AUTOINCREMENT")) {
        out.push(ctx.at_token(
            &lint::POSTGRES_AUTOINCREMENT,
            t,
            "`AUTOINCREMENT` does not exist in PostgreSQL",
        ));
    }
    if let Some(w) = toks
        .windows(2)
        .find(|w| is_kw(&w[0].token, Keyword::WITHOUT) && is_word(&w[1].token, "ROWID"))
    {
        out.push(ctx.at_token(
            &lint::POSTGRES_WITHOUT_ROWID,
            w[0],
            "`WITHOUT ROWID` does not exist in PostgreSQL",
        ));
    }
    too_new(ctx, &toks, out);
    if let Some(t) = concurrently_token(ctx)
        && !ctx.no_transaction
    {
        out.push(ctx.at_token(
            &lint::POSTGRES_CONCURRENTLY_IN_TRANSACTION,
            t,
            "`CONCURRENTLY` cannot run inside the transaction strata wraps around each delta",
        ));
    }
}

/// Syntax and the PostgreSQL major version that introduced it, as word sequences.
const NEW_SYNTAX: &[(&[&str], u32, &str)] = &[
    (&["NULLS", "NOT", "DISTINCT"], 15, "`NULLS NOT DISTINCT`"),
    (&["MERGE", "INTO"], 15, "`MERGE`"),
    (
        &["CREATE", "OR", "REPLACE", "TRIGGER"],
        14,
        "`CREATE OR REPLACE TRIGGER`",
    ),
    (&["BEGIN", "ATOMIC"], 14, "`BEGIN ATOMIC` routine bodies"),
    (&["STORED"], 12, "stored generated columns"),
    (
        &["EXECUTE", "FUNCTION"],
        11,
        "`EXECUTE FUNCTION` in triggers",
    ),
];

fn too_new(
    ctx: &StatementContext<'_>,
    toks: &[&sqlparser::tokenizer::TokenWithSpan],
    out: &mut Vec<Diagnostic>,
) {
    for (words, major, what) in NEW_SYNTAX {
        if ctx.manifest.min_postgres >= *major {
            continue;
        }
        if let Some(w) = toks.windows(words.len()).find(|w| {
            w.iter()
                .zip(words.iter())
                .all(|(t, word)| is_word(&t.token, word))
        }) {
            out.push(ctx.at_token(
                &lint::POSTGRES_TOO_NEW,
                w[0],
                format!(
                    "{what} needs PostgreSQL {major}, but the oldest supported is {}",
                    ctx.manifest.min_postgres
                ),
            ));
        }
    }
}

fn int_timestamp(ctx: &StatementContext<'_>, col: &str, ty: &str, out: &mut Vec<Diagnostic>) {
    let timestampish = col.ends_with("_ts") || col.ends_with("_ms") || col == "ts";
    if timestampish
        && matches!(
            ty,
            "INT" | "INTEGER" | "INT4" | "SMALLINT" | "INT2" | "SERIAL"
        )
    {
        out.push(ctx.at_first(
            &lint::POSTGRES_INT_TIMESTAMP,
            |t| is_word(t, col),
            format!("column `{col}` is `{ty}` (32-bit on PostgreSQL) but its name says milliseconds or a timestamp"),
        ));
    }
}

/// Whether `table` existed before the current delta's version.
fn table_is_old(ctx: &StatementContext<'_>, table: &str) -> bool {
    let (Some(model), Some(version)) = (ctx.model, ctx.version) else {
        return false;
    };
    model
        .tables
        .get(table)
        .is_some_and(|t| t.created_in != Some(version) && t.owner != "strata")
}

fn blocking_index(ctx: &StatementContext<'_>, ci: &ast::CreateIndex, out: &mut Vec<Diagnostic>) {
    let table = object_name(&ci.table_name);
    if table_is_old(ctx, &table) {
        let name = ci.name.as_ref().map(object_name).unwrap_or_default();
        out.push(ctx.at_statement(
            &lint::POSTGRES_BLOCKING_INDEX,
            format!("`CREATE INDEX {name}` on `{table}`, which existed before this version, blocks writes to it while it builds"),
        ));
    }
}
