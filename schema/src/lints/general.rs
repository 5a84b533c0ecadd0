//! Rules for statements on every engine.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{self, AlterTableOperation, ObjectName, ObjectNamePart, ObjectType};
use sqlparser::keywords::Keyword;

use super::registry as lint;
use super::{StatementContext, is_kw};
use crate::diagnostic::Diagnostic;
use crate::model::{ident, object_name};
use crate::tree::COMMON;

pub(super) fn check(ctx: &StatementContext<'_>, out: &mut Vec<Diagnostic>) {
    transaction_control(ctx, out);
    let Some(stmt) = ctx.ast() else { return };
    drops(ctx, stmt, out);
    references(ctx, stmt, out);
    columns(ctx, stmt, out);
}

/// `BEGIN`, `COMMIT`, ... decided on the first token so that it also fires when sqlparser
/// cannot read the statement (`END TRANSACTION`, `BEGIN IMMEDIATE`).
fn transaction_control(ctx: &StatementContext<'_>, out: &mut Vec<Diagnostic>) {
    let Some(first) = ctx.tokens().next() else {
        return;
    };
    let control = [
        Keyword::BEGIN,
        Keyword::COMMIT,
        Keyword::ROLLBACK,
        Keyword::SAVEPOINT,
        Keyword::RELEASE,
        Keyword::END,
        Keyword::START,
    ];
    if let Some(kw) = control.iter().find(|&&kw| is_kw(&first.token, kw)) {
        // `START` only as `START TRANSACTION`.
        if *kw == Keyword::START
            && !ctx
                .tokens()
                .nth(1)
                .is_some_and(|t| is_kw(&t.token, Keyword::TRANSACTION))
        {
            return;
        }
        out.push(ctx.at_token(
            &lint::TRANSACTION_CONTROL,
            first,
            format!(
                "`{}` in a delta: strata manages transactions itself",
                first.token
            ),
        ));
    }
}

fn drops(ctx: &StatementContext<'_>, stmt: &ast::Statement, out: &mut Vec<Diagnostic>) {
    let compat_warning = |what: String| {
        let (Some(version), Some(compat)) = (ctx.version, ctx.compat_version) else {
            return None;
        };
        (compat < version).then(|| {
            ctx.at_statement(
                &lint::DROP_BEFORE_COMPAT,
                format!(
                    "{what} in version {version} while compat_version is {compat}: code of versions {compat}..{} may still use it",
                    version - 1
                ),
            )
        })
    };
    match stmt {
        ast::Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => {
            let dropped: Vec<String> = names.iter().map(object_name).collect();
            for name in &dropped {
                // In a SQLite rebuild (`foreign-keys-off`) dropping the old parent is the
                // recipe; `PRAGMA foreign_key_check` judges the result instead.
                let rebuild = ctx.foreign_keys_off && ctx.engine == crate::Engine::Sqlite;
                if let Some(model) = ctx.model.filter(|_| !rebuild) {
                    let children = model.referencing(name, &dropped);
                    if !children.is_empty() {
                        let list = children
                            .iter()
                            .map(|t| format!("`{}`", t.name))
                            .collect::<Vec<_>>()
                            .join(", ");
                        out.push(ctx.at_statement(
                            &lint::DROP_REFERENCED_TABLE,
                            format!("`DROP TABLE {name}` while {list} still references it"),
                        ));
                    }
                }
                out.extend(compat_warning(format!("table `{name}` dropped")));
            }
        }
        ast::Statement::AlterTable(at) => {
            let table = object_name(&at.name);
            for op in &at.operations {
                if let AlterTableOperation::DropColumn { column_names, .. } = op {
                    for c in column_names {
                        out.extend(compat_warning(format!(
                            "column `{table}.{}` dropped",
                            ident(c)
                        )));
                    }
                }
            }
        }
        _ => {}
    }
}

/// Names that are not tables of the tree: engine catalogs and table-valued functions.
fn is_builtin_relation(name: &ObjectName) -> bool {
    let first = match name.0.first() {
        Some(ObjectNamePart::Identifier(i)) => i.value.to_lowercase(),
        _ => return false,
    };
    if name.0.len() > 1 && matches!(first.as_str(), "information_schema" | "pg_catalog" | "temp") {
        return true;
    }
    let last = object_name(name);
    last.starts_with("sqlite_")
        || last.starts_with("pg_")
        || last.starts_with("pragma_")
        || matches!(
            last.as_str(),
            "json_each" | "json_tree" | "jsonb_each" | "generate_series" | "unnest" | "dual"
        )
}

/// Tables a statement names that must already exist.
fn referenced_tables(stmt: &ast::Statement) -> Vec<ObjectName> {
    let mut ctes = BTreeSet::new();
    let mut found = Vec::new();
    collect_ctes(stmt, &mut ctes);
    let _ = ast::visit_relations(stmt, |r: &ObjectName| {
        found.push(r.clone());
        ControlFlow::<()>::Continue(())
    });
    let created = match stmt {
        ast::Statement::CreateTable(ct) => Some(object_name(&ct.name)),
        ast::Statement::CreateView(cv) => Some(object_name(&cv.name)),
        _ => None,
    };
    found.retain(|r| {
        let n = object_name(r);
        Some(&n) != created.as_ref() && !ctes.contains(&n) && !is_builtin_relation(r)
    });
    found
}

fn collect_ctes(stmt: &ast::Statement, out: &mut BTreeSet<String>) {
    struct V<'a>(&'a mut BTreeSet<String>);
    impl ast::Visitor for V<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, q: &ast::Query) -> ControlFlow<()> {
            if let Some(with) = &q.with {
                for cte in &with.cte_tables {
                    self.0.insert(ident(&cte.alias.name));
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = ast::Visit::visit(stmt, &mut V(out));
}

fn references(ctx: &StatementContext<'_>, stmt: &ast::Statement, out: &mut Vec<Diagnostic>) {
    let Some(model) = ctx.model else { return };
    if model.uncertain {
        return;
    }
    let mut names = referenced_tables(stmt);
    // DROP TABLE/INDEX without IF EXISTS and ALTER TABLE name a table that must exist.
    match stmt {
        ast::Statement::Drop {
            object_type: ObjectType::Table,
            names: dropped,
            if_exists: false,
            ..
        } => names.extend(dropped.iter().cloned()),
        ast::Statement::AlterTable(at) if !at.if_exists => names.push(at.name.clone()),
        _ => {}
    }
    let mut seen = BTreeSet::new();
    for r in names {
        let name = object_name(&r);
        if !seen.insert(name.clone()) {
            continue;
        }
        if ctx
            .manifest
            .external_tables
            .iter()
            .any(|t| t.to_lowercase() == name)
        {
            continue;
        }
        let other_store = |name: &str| {
            ctx.store_tables
                .iter()
                .find(|(store, tables)| store.as_str() != ctx.store && tables.contains(name))
                .map(|(store, _)| store.clone())
        };
        match model.tables.get(&name) {
            Some(t) => {
                let allowed = t.owner == ctx.store
                    || t.owner == "strata"
                    || (t.owner == COMMON && ctx.store != COMMON);
                if !allowed {
                    out.push(wrong_store(ctx, &r, &name, &t.owner));
                }
            }
            None if model.views.contains_key(&name) => {}
            None => match other_store(&name) {
                Some(store) => out.push(wrong_store(ctx, &r, &name, &store)),
                None => out.push(at_name(
                    ctx,
                    &lint::UNKNOWN_TABLE,
                    &r,
                    format!(
                        "table `{name}` does not exist in store `{}` at this point",
                        ctx.store
                    ),
                )),
            },
        }
    }
}

fn wrong_store(ctx: &StatementContext<'_>, r: &ObjectName, name: &str, owner: &str) -> Diagnostic {
    let help = if ctx.store == COMMON {
        format!(
            "`common` deltas may only touch `common` tables: move this delta into `{owner}/delta/`"
        )
    } else {
        format!("move this delta into `{owner}/delta/<version>/`")
    };
    at_name(
        ctx,
        &lint::WRONG_STORE,
        r,
        format!(
            "table `{name}` belongs to store `{owner}`, but this delta is in `{}`",
            ctx.store
        ),
    )
    .help(help)
}

/// A diagnostic at the token spelling the object's name (falls back to the statement).
fn at_name(
    ctx: &StatementContext<'_>,
    l: &'static lint::LintInfo,
    name: &ObjectName,
    message: String,
) -> Diagnostic {
    let span = match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => i.span,
        _ => sqlparser::tokenizer::Span::empty(),
    };
    if span.start.line > 0 {
        let tok = sqlparser::tokenizer::TokenWithSpan {
            token: sqlparser::tokenizer::Token::EOF,
            span,
        };
        return ctx.at_token(l, &tok, message);
    }
    ctx.at_statement(l, message)
}

/// Columns named by INSERT column lists, CREATE INDEX, UPDATE SET and ALTER TABLE.
fn columns(ctx: &StatementContext<'_>, stmt: &ast::Statement, out: &mut Vec<Diagnostic>) {
    let Some(model) = ctx.model else { return };
    if model.uncertain {
        return;
    }
    let mut check = |table: &str, col: &ast::Ident| {
        let Some(t) = model.tables.get(table) else {
            return;
        };
        let name = ident(col);
        if t.column(&name).is_none() {
            let tok = sqlparser::tokenizer::TokenWithSpan {
                token: sqlparser::tokenizer::Token::EOF,
                span: col.span,
            };
            let msg = format!("table `{table}` has no column `{name}` at this point");
            out.push(if col.span.start.line > 0 {
                ctx.at_token(&lint::UNKNOWN_COLUMN, &tok, msg)
            } else {
                ctx.at_statement(&lint::UNKNOWN_COLUMN, msg)
            });
        }
    };
    match stmt {
        ast::Statement::Insert(ins) => {
            if let ast::TableObject::TableName(n) = &ins.table {
                let table = object_name(n);
                for c in &ins.columns {
                    if let Some(ObjectNamePart::Identifier(i)) = c.0.last() {
                        check(&table, i);
                    }
                }
            }
        }
        ast::Statement::CreateIndex(ci) => {
            let table = object_name(&ci.table_name);
            for c in &ci.columns {
                if let ast::Expr::Identifier(i) = &c.column.expr {
                    check(&table, i);
                }
            }
        }
        ast::Statement::Update(up) => {
            if let ast::TableFactor::Table {
                name, alias: None, ..
            } = &up.table.relation
                && up.table.joins.is_empty()
            {
                let table = object_name(name);
                for a in &up.assignments {
                    if let ast::AssignmentTarget::ColumnName(n) = &a.target
                        && n.0.len() == 1
                        && let Some(ObjectNamePart::Identifier(i)) = n.0.last()
                    {
                        check(&table, i);
                    }
                }
            }
        }
        ast::Statement::AlterTable(at) => {
            let table = object_name(&at.name);
            for op in &at.operations {
                match op {
                    AlterTableOperation::DropColumn {
                        column_names,
                        if_exists: false,
                        ..
                    } => column_names.iter().for_each(|c| check(&table, c)),
                    AlterTableOperation::RenameColumn {
                        old_column_name, ..
                    } => check(&table, old_column_name),
                    AlterTableOperation::AlterColumn { column_name, .. } => {
                        check(&table, column_name)
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}
