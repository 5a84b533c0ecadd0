//! The schema model: what a store looks like after each statement.
//!
//! Updated statement by statement from parsed ASTs, per store and engine. Names are
//! normalised like the engines do: unquoted identifiers compare case-insensitively.

use std::collections::BTreeMap;

use sqlparser::ast::{
    self, AlterTableOperation, ColumnOption, Expr, ObjectName, ObjectNamePart, ObjectType,
    RenameTableNameKind, TableConstraint,
};

/// Normalises an identifier: unquoted ones are case-insensitive.
pub fn ident(i: &ast::Ident) -> String {
    match i.quote_style {
        Some(_) => i.value.clone(),
        None => i.value.to_lowercase(),
    }
}

/// The object's own name (last part), normalised; schema qualifiers are ignored.
pub fn object_name(n: &ObjectName) -> String {
    match n.0.last() {
        Some(ObjectNamePart::Identifier(i)) => ident(i),
        Some(other) => other.to_string().to_lowercase(),
        None => String::new(),
    }
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Normalised name.
    pub name: String,
    /// Declared type as written (uppercased), e.g. `BIGINT`.
    pub data_type: String,
    /// `NOT NULL` declared.
    pub not_null: bool,
    /// Default expression as SQL text.
    pub default: Option<String>,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Has a column-level UNIQUE.
    pub unique: bool,
}

/// A foreign key from a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Referenced table.
    pub foreign_table: String,
    /// Declared at table level (`FOREIGN KEY (...) REFERENCES`), not on a column.
    pub table_level: bool,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Normalised name.
    pub name: String,
    /// The store whose script created it (`common` for shared tables, `strata` for strata's own).
    pub owner: String,
    /// Version of the delta that created it; `None` when it came from a snapshot or strata.
    pub created_in: Option<u32>,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Columns in table-level UNIQUE / PRIMARY KEY constraints.
    pub key_columns: Vec<String>,
    /// Identifiers used in CHECK constraints.
    pub check_identifiers: Vec<String>,
}

impl Table {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Normalised name.
    pub name: String,
    /// Indexed table.
    pub table: String,
    /// Identifiers in its columns and partial `WHERE`.
    pub identifiers: Vec<String>,
}

/// A view or trigger: what it depends on, coarsely (identifiers it mentions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependent {
    /// Normalised name.
    pub name: String,
    /// For triggers, the table it is on.
    pub table: Option<String>,
    /// Every identifier in its definition, normalised.
    pub identifiers: Vec<String>,
}

/// The schema of one store on one engine at one point of its history.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
    /// Indexes by name.
    pub indexes: BTreeMap<String, Index>,
    /// Views by name.
    pub views: BTreeMap<String, Dependent>,
    /// Triggers by name.
    pub triggers: BTreeMap<String, Dependent>,
    /// Set once a statement the model could not follow (unparsed, unchecked, code delta) has
    /// run: reference lints then stay silent rather than guess.
    pub uncertain: bool,
}

/// Every identifier mentioned in a piece of SQL (a coarse dependency set).
pub fn identifiers_in<T: ast::Visit>(node: &T) -> Vec<String> {
    let mut out = Vec::new();
    let _ = ast::visit_expressions(node, |e: &Expr| {
        match e {
            Expr::Identifier(i) => out.push(ident(i)),
            Expr::CompoundIdentifier(parts) => out.extend(parts.iter().map(ident)),
            _ => {}
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    let _ = ast::visit_relations(node, |r: &ObjectName| {
        out.push(object_name(r));
        std::ops::ControlFlow::<()>::Continue(())
    });
    out.sort();
    out.dedup();
    out
}

impl Model {
    /// A model holding strata's bookkeeping tables, as every store has at the start
    /// (built from the very statements the runtime creates them with).
    pub fn with_bookkeeping() -> Model {
        let mut m = Model::default();
        for sql in crate::bookkeeping::create_statements(crate::engine::Engine::Sqlite) {
            let stmts =
                sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, sql)
                    .expect("bookkeeping DDL parses");
            for s in &stmts {
                m.apply(s, "strata", None);
            }
        }
        m
    }

    /// Tables (other than `except`) with a foreign key to `table`.
    pub fn referencing(&self, table: &str, except: &[String]) -> Vec<&Table> {
        self.tables
            .values()
            .filter(|t| t.name != table && !except.contains(&t.name))
            .filter(|t| t.foreign_keys.iter().any(|fk| fk.foreign_table == table))
            .collect()
    }

    /// Applies one statement. `owner` is the store of the script, `version` its version
    /// (`None` inside a snapshot).
    pub fn apply(&mut self, stmt: &ast::Statement, owner: &str, version: Option<u32>) {
        match stmt {
            ast::Statement::CreateTable(ct) => {
                let name = object_name(&ct.name);
                if ct.if_not_exists && self.tables.contains_key(&name) {
                    return;
                }
                let mut table = Table {
                    name: name.clone(),
                    owner: owner.to_string(),
                    created_in: version,
                    columns: Vec::new(),
                    foreign_keys: Vec::new(),
                    key_columns: Vec::new(),
                    check_identifiers: Vec::new(),
                };
                for c in &ct.columns {
                    table.add_column(c);
                }
                for tc in &ct.constraints {
                    table.add_constraint(tc);
                }
                if ct.columns.is_empty() && ct.query.is_some() {
                    // CREATE TABLE ... AS SELECT: columns unknown to the model.
                    self.uncertain = true;
                }
                self.tables.insert(name, table);
            }
            ast::Statement::AlterTable(at) => {
                let mut name = object_name(&at.name);
                for op in &at.operations {
                    let Some(table) = self.tables.get_mut(&name) else {
                        return;
                    };
                    match op {
                        AlterTableOperation::AddColumn { column_def, .. }
                            if table.column(&ident(&column_def.name)).is_none() =>
                        {
                            table.add_column(column_def);
                        }
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            let drop: Vec<String> = column_names.iter().map(ident).collect();
                            table.columns.retain(|c| !drop.contains(&c.name));
                        }
                        AlterTableOperation::RenameColumn {
                            old_column_name,
                            new_column_name,
                        } => {
                            let old = ident(old_column_name);
                            let new = ident(new_column_name);
                            if let Some(c) = table.columns.iter_mut().find(|c| c.name == old) {
                                c.name = new.clone();
                            }
                            for fk in &mut table.foreign_keys {
                                for c in &mut fk.columns {
                                    if *c == old {
                                        *c = new.clone();
                                    }
                                }
                            }
                        }
                        AlterTableOperation::RenameTable { table_name } => {
                            let new = match table_name {
                                RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => {
                                    object_name(n)
                                }
                            };
                            let mut t = self.tables.remove(&name).expect("checked above");
                            t.name = new.clone();
                            for other in self.tables.values_mut() {
                                for fk in &mut other.foreign_keys {
                                    if fk.foreign_table == name {
                                        fk.foreign_table = new.clone();
                                    }
                                }
                            }
                            for idx in self.indexes.values_mut() {
                                if idx.table == name {
                                    idx.table = new.clone();
                                }
                            }
                            self.tables.insert(new.clone(), t);
                            name = new;
                        }
                        AlterTableOperation::AddConstraint { constraint, .. } => {
                            table.add_constraint(constraint);
                        }
                        AlterTableOperation::AlterColumn { column_name, op } => {
                            let col = ident(column_name);
                            if let Some(c) = table.columns.iter_mut().find(|c| c.name == col) {
                                match op {
                                    ast::AlterColumnOperation::SetNotNull => c.not_null = true,
                                    ast::AlterColumnOperation::DropNotNull => c.not_null = false,
                                    ast::AlterColumnOperation::SetDefault { value } => {
                                        c.default = Some(value.to_string())
                                    }
                                    ast::AlterColumnOperation::DropDefault => c.default = None,
                                    ast::AlterColumnOperation::SetDataType {
                                        data_type, ..
                                    } => c.data_type = data_type.to_string().to_uppercase(),
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            ast::Statement::Drop {
                object_type, names, ..
            } => {
                for n in names {
                    let n = object_name(n);
                    match object_type {
                        ObjectType::Table => {
                            self.tables.remove(&n);
                            self.indexes.retain(|_, i| i.table != n);
                            self.triggers.retain(|_, t| t.table.as_deref() != Some(&n));
                        }
                        ObjectType::Index => {
                            self.indexes.remove(&n);
                        }
                        ObjectType::View | ObjectType::MaterializedView => {
                            self.views.remove(&n);
                        }
                        _ => {}
                    }
                }
            }
            ast::Statement::CreateIndex(ci) => {
                let Some(name) = ci.name.as_ref().map(object_name) else {
                    return;
                };
                let mut identifiers = identifiers_in(&ci.columns);
                if let Some(p) = &ci.predicate {
                    identifiers.extend(identifiers_in(p));
                    identifiers.sort();
                    identifiers.dedup();
                }
                self.indexes.insert(
                    name.clone(),
                    Index {
                        name,
                        table: object_name(&ci.table_name),
                        identifiers,
                    },
                );
            }
            ast::Statement::CreateView(cv) => {
                let name = object_name(&cv.name);
                self.views.insert(
                    name.clone(),
                    Dependent {
                        name,
                        table: None,
                        identifiers: identifiers_in(&cv.query),
                    },
                );
            }
            ast::Statement::CreateTrigger(ct) => {
                let name = object_name(&ct.name);
                self.triggers.insert(
                    name.clone(),
                    Dependent {
                        name,
                        table: Some(object_name(&ct.table_name)),
                        identifiers: identifiers_in(stmt),
                    },
                );
            }
            ast::Statement::DropTrigger(dt) => {
                self.triggers.remove(&object_name(&dt.trigger_name));
            }
            _ => {}
        }
    }
}

impl Table {
    fn add_column(&mut self, c: &ast::ColumnDef) {
        let mut col = Column {
            name: ident(&c.name),
            data_type: c.data_type.to_string().to_uppercase(),
            not_null: false,
            default: None,
            primary_key: false,
            unique: false,
        };
        for opt in &c.options {
            match &opt.option {
                ColumnOption::NotNull => col.not_null = true,
                ColumnOption::Default(e) => col.default = Some(e.to_string()),
                ColumnOption::PrimaryKey(_) => col.primary_key = true,
                ColumnOption::Unique(_) => col.unique = true,
                ColumnOption::ForeignKey(fk) => self.foreign_keys.push(ForeignKey {
                    columns: vec![col.name.clone()],
                    foreign_table: object_name(&fk.foreign_table),
                    table_level: false,
                }),
                ColumnOption::Check(ch) => {
                    self.check_identifiers.extend(identifiers_in(&ch.expr));
                }
                _ => {}
            }
        }
        self.columns.push(col);
    }

    fn add_constraint(&mut self, tc: &TableConstraint) {
        match tc {
            TableConstraint::PrimaryKey(pk) => {
                let cols = identifiers_in(&pk.columns);
                for c in &mut self.columns {
                    if cols.contains(&c.name) {
                        c.primary_key = true;
                    }
                }
                self.key_columns.extend(cols);
            }
            TableConstraint::Unique(u) => self.key_columns.extend(identifiers_in(&u.columns)),
            TableConstraint::ForeignKey(fk) => self.foreign_keys.push(ForeignKey {
                columns: fk.columns.iter().map(ident).collect(),
                foreign_table: object_name(&fk.foreign_table),
                table_level: true,
            }),
            TableConstraint::Check(ch) => {
                self.check_identifiers.extend(identifiers_in(&ch.expr));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::SQLiteDialect;
    use sqlparser::parser::Parser;

    fn model(sql: &str) -> Model {
        let mut m = Model::with_bookkeeping();
        for s in Parser::parse_sql(&SQLiteDialect {}, sql).unwrap() {
            m.apply(&s, "main", Some(1));
        }
        m
    }

    #[test]
    fn follows_create_alter_rename_and_drop() {
        let m = model(
            "CREATE TABLE rooms (id TEXT PRIMARY KEY, creator TEXT NOT NULL DEFAULT 'x');
             CREATE TABLE members (room_id TEXT REFERENCES rooms (id), user_id TEXT, UNIQUE (room_id, user_id));
             ALTER TABLE members ADD COLUMN joined_ts BIGINT;
             ALTER TABLE members RENAME COLUMN user_id TO member_id;
             CREATE INDEX members_ts ON members (joined_ts) WHERE joined_ts > 0;
             ALTER TABLE rooms RENAME TO chat_rooms;
             CREATE TABLE gone (a INT);
             DROP TABLE gone;",
        );
        let members = &m.tables["members"];
        assert_eq!(
            members
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["room_id", "member_id", "joined_ts"]
        );
        assert_eq!(members.foreign_keys[0].foreign_table, "chat_rooms");
        assert_eq!(
            m.tables["chat_rooms"].columns[1].default.as_deref(),
            Some("'x'")
        );
        assert!(m.tables["chat_rooms"].columns[1].not_null);
        assert!(m.tables["chat_rooms"].columns[0].primary_key);
        assert!(!m.tables.contains_key("gone"));
        assert_eq!(m.indexes["members_ts"].identifiers, vec!["joined_ts"]);
        assert_eq!(m.referencing("chat_rooms", &[]).len(), 1);
        assert!(m.tables.contains_key("strata_background_updates"));
    }

    #[test]
    fn names_are_case_insensitive_unless_quoted() {
        let m = model("CREATE TABLE Users (ID INT); CREATE TABLE \"Mixed\" (a INT);");
        assert!(m.tables.contains_key("users"));
        assert_eq!(m.tables["users"].columns[0].name, "id");
        assert!(m.tables.contains_key("Mixed"));
    }
}
