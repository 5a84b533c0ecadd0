//! Rules for statements that run on SQLite.

use sqlparser::ast::{
    self, AlterColumnOperation, AlterTableOperation, ColumnOption, Expr, GeneratedExpressionMode,
    TableConstraint,
};
use sqlparser::tokenizer::Token;

use super::registry as lint;
use super::{StatementContext, concurrently_token, new_columns, type_word};
use crate::diagnostic::Diagnostic;
use crate::manifest::SqliteVersion;
use crate::model::{ident, object_name};

pub(super) fn check(ctx: &StatementContext<'_>, out: &mut Vec<Diagnostic>) {
    if let Some(t) = concurrently_token(ctx) {
        out.push(ctx.at_token(
            &lint::SQLITE_CONCURRENTLY,
            t,
            "`CONCURRENTLY` does not exist in SQLite",
        ));
    }
    if let Some(t) = ctx.tokens().find(|t| t.token == Token::DoubleColon) {
        out.push(ctx.at_token(
            &lint::SQLITE_CAST_OPERATOR,
            t,
            "`::` cast does not exist in SQLite",
        ));
    }
    let Some(stmt) = ctx.ast() else { return };
    for col in new_columns(stmt) {
        let ty = type_word(&col.data_type);
        if matches!(ty.as_str(), "SERIAL" | "BIGSERIAL" | "SMALLSERIAL") {
            out.push(ctx.at_first(
                &lint::SQLITE_SERIAL,
                |t| super::is_word(t, &ty),
                format!(
                    "column `{}` is `{ty}`: SQLite accepts the word but does not auto-increment it",
                    ident(&col.name)
                ),
            ));
        }
    }
    match stmt {
        ast::Statement::Truncate(_) => out.push(ctx.at_statement(
            &lint::SQLITE_TRUNCATE,
            "`TRUNCATE` does not exist in SQLite",
        )),
        ast::Statement::CreateSequence { name, .. } => out.push(ctx.at_statement(
            &lint::SQLITE_SEQUENCE,
            format!("`CREATE SEQUENCE {name}`: SQLite has no sequences"),
        )),
        ast::Statement::AlterTable(at) => alter_table(ctx, at, out),
        _ => {}
    }
}

fn alter_table(ctx: &StatementContext<'_>, at: &ast::AlterTable, out: &mut Vec<Diagnostic>) {
    let table = object_name(&at.name);
    let new_forms = ctx.manifest.min_sqlite >= SqliteVersion::ALTER_CONSTRAINTS;
    if at.operations.len() > 1 {
        out.push(ctx.at_statement(
            &lint::SQLITE_MULTIPLE_ALTER,
            format!(
                "`ALTER TABLE {table}` has {} operations; SQLite runs one per statement",
                at.operations.len()
            ),
        ));
    }
    if at.if_exists {
        out.push(
            ctx.at_statement(
                &lint::SQLITE_MULTIPLE_ALTER,
                format!("`ALTER TABLE IF EXISTS {table}` does not exist in SQLite"),
            )
            .help("remove `IF EXISTS`: the table is known to exist at this point of the history"),
        );
    }
    for op in &at.operations {
        match op {
            AlterTableOperation::AlterColumn { column_name, op } => {
                let col = ident(column_name);
                let (form, ok) = match op {
                    AlterColumnOperation::SetNotNull => ("SET NOT NULL", new_forms),
                    AlterColumnOperation::DropNotNull => ("DROP NOT NULL", new_forms),
                    AlterColumnOperation::SetDefault { .. } => ("SET DEFAULT", false),
                    AlterColumnOperation::DropDefault => ("DROP DEFAULT", false),
                    AlterColumnOperation::SetDataType { .. } => ("TYPE", false),
                    AlterColumnOperation::AddGenerated { .. } => ("ADD GENERATED", false),
                    AlterColumnOperation::GenericOptions { .. } => ("OPTIONS", false),
                };
                if !ok {
                    let why = if matches!(
                        op,
                        AlterColumnOperation::SetNotNull | AlterColumnOperation::DropNotNull
                    ) {
                        format!(
                            "SQLite supports it from {} but the oldest supported SQLite is {}",
                            SqliteVersion::ALTER_CONSTRAINTS,
                            ctx.manifest.min_sqlite
                        )
                    } else {
                        "no SQLite release supports it".to_string()
                    };
                    out.push(ctx.at_statement(
                        &lint::SQLITE_ALTER_COLUMN,
                        format!("`ALTER COLUMN {col} {form}` on `{table}`: {why}"),
                    ));
                }
            }
            AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
                TableConstraint::Check(_) if new_forms => {}
                TableConstraint::Check(_) => out.push(ctx.at_statement(
                    &lint::SQLITE_ADD_CONSTRAINT,
                    format!(
                        "`ADD CONSTRAINT ... CHECK` on `{table}` needs SQLite {} (oldest supported: {})",
                        SqliteVersion::ALTER_CONSTRAINTS,
                        ctx.manifest.min_sqlite
                    ),
                )),
                other => {
                    let kind = match other {
                        TableConstraint::PrimaryKey(_) => "PRIMARY KEY",
                        TableConstraint::Unique(_) => "UNIQUE",
                        TableConstraint::ForeignKey(_) => "FOREIGN KEY",
                        _ => "this constraint",
                    };
                    out.push(ctx.at_statement(
                        &lint::SQLITE_ALTER_ADD_KEY,
                        format!("SQLite cannot add {kind} to existing table `{table}`"),
                    ));
                }
            },
            AlterTableOperation::DropConstraint { name, .. } if !new_forms => {
                out.push(ctx.at_statement(
                    &lint::SQLITE_ADD_CONSTRAINT,
                    format!(
                        "`DROP CONSTRAINT {}` on `{table}` needs SQLite {} (oldest supported: {})",
                        ident(name),
                        SqliteVersion::ALTER_CONSTRAINTS,
                        ctx.manifest.min_sqlite
                    ),
                ));
            }
            AlterTableOperation::DropPrimaryKey { .. }
            | AlterTableOperation::DropForeignKey { .. } => out.push(ctx.at_statement(
                &lint::SQLITE_ADD_CONSTRAINT,
                format!("SQLite cannot drop keys of `{table}` in place"),
            )),
            AlterTableOperation::AddColumn { column_def, .. } => {
                add_column(ctx, &table, column_def, out)
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                for c in column_names {
                    drop_column(ctx, &table, &ident(c), out);
                }
            }
            _ => {}
        }
    }
}

fn is_constant(e: &Expr) -> bool {
    match e {
        Expr::Value(_) => true,
        Expr::UnaryOp { expr, .. } => matches!(**expr, Expr::Value(_)),
        Expr::Nested(inner) => matches!(**inner, Expr::Value(_)),
        _ => false,
    }
}

fn is_null(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if v.value == ast::Value::Null)
}

fn add_column(
    ctx: &StatementContext<'_>,
    table: &str,
    col: &ast::ColumnDef,
    out: &mut Vec<Diagnostic>,
) {
    let name = ident(&col.name);
    let default = col.options.iter().find_map(|o| match &o.option {
        ColumnOption::Default(e) => Some(e),
        _ => None,
    });
    let mut problems = Vec::new();
    for opt in &col.options {
        match &opt.option {
            ColumnOption::PrimaryKey(_) => problems.push("PRIMARY KEY".to_string()),
            ColumnOption::Unique(_) => problems.push("UNIQUE".to_string()),
            ColumnOption::ForeignKey(_) if default.is_some_and(|d| !is_null(d)) => {
                problems.push("REFERENCES with a non-NULL default".to_string())
            }
            ColumnOption::Generated {
                generation_expr_mode: Some(GeneratedExpressionMode::Stored),
                ..
            } => problems.push("GENERATED ... STORED".to_string()),
            ColumnOption::NotNull if default.is_none() => {
                problems.push("NOT NULL without a default".to_string())
            }
            _ => {}
        }
    }
    if let Some(d) = default
        && !is_constant(d)
    {
        problems.push(format!("non-constant default `{d}`"));
    }
    for p in problems {
        out.push(ctx.at_statement(
            &lint::SQLITE_ADD_COLUMN,
            format!("SQLite cannot `ADD COLUMN {name}` to `{table}` with {p}"),
        ));
    }
}

fn drop_column(ctx: &StatementContext<'_>, table: &str, col: &str, out: &mut Vec<Diagnostic>) {
    let Some(model) = ctx.model else { return };
    let Some(t) = model.tables.get(table) else {
        return;
    };
    let mut users = Vec::new();
    if let Some(c) = t.column(col) {
        if c.primary_key {
            users.push("the PRIMARY KEY".to_string());
        }
        if c.unique {
            users.push("a UNIQUE constraint".to_string());
        }
    }
    if t.key_columns.iter().any(|k| k == col) {
        users.push("a table-level key".to_string());
    }
    if t.check_identifiers.iter().any(|k| k == col) {
        users.push("a CHECK constraint".to_string());
    }
    if t.foreign_keys
        .iter()
        .any(|fk| fk.table_level && fk.columns.iter().any(|c| c == col))
    {
        users.push("a table-level FOREIGN KEY".to_string());
    }
    for idx in model.indexes.values() {
        if idx.table == table && idx.identifiers.iter().any(|i| i == col) {
            users.push(format!("index `{}`", idx.name));
        }
    }
    let mentions = |ids: &[String]| ids.iter().any(|i| i == col) && ids.iter().any(|i| i == table);
    for v in model.views.values() {
        if mentions(&v.identifiers) {
            users.push(format!("view `{}`", v.name));
        }
    }
    for tr in model.triggers.values() {
        let on_table = tr.table.as_deref() == Some(table);
        if (on_table && tr.identifiers.iter().any(|i| i == col)) || mentions(&tr.identifiers) {
            users.push(format!("trigger `{}`", tr.name));
        }
    }
    if !users.is_empty() {
        out.push(ctx.at_statement(
            &lint::SQLITE_DROP_COLUMN_IN_USE,
            format!(
                "SQLite cannot drop `{table}.{col}`: it is used by {}",
                users.join(", ")
            ),
        ));
    }
}
