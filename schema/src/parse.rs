//! Splitting and parsing one file for one engine.

use sqlparser::ast;
use sqlparser::parser::{Parser, ParserError};

use crate::diagnostic::Diagnostic;
use crate::directive::Directive;
use crate::engine::Engine;
use crate::lints::registry as lint;
use crate::position::Position;
use crate::split::{self, SplitFile, Statement};
use crate::tree::SourceFile;

/// A statement with what the analysis knows about it.
#[derive(Debug, Clone)]
pub struct ParsedStatement {
    /// The statement's text and spans.
    pub statement: Statement,
    /// Its AST, when sqlparser could read it and it is not `unchecked`.
    pub ast: Option<ast::Statement>,
    /// Whether a `-- strata: unchecked` directive covers it.
    pub unchecked: bool,
    /// Lints silenced for it by `allow(...)` (file-level ones included).
    pub allowed: Vec<String>,
    /// Why sqlparser could not read it (`Q002 not-analysed` or `Q003 missing-semicolon`); the
    /// analysis decides whether the engine accepts it.
    pub parse_error: Option<Diagnostic>,
}

impl ParsedStatement {
    /// Whether `lint` is silenced for this statement.
    pub fn allows(&self, lint: &lint::LintInfo) -> bool {
        self.allowed
            .iter()
            .any(|a| a.eq_ignore_ascii_case(lint.code) || a == lint.name)
    }
}

/// A file split and parsed for one engine.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    /// The engine it was parsed for.
    pub engine: Engine,
    /// Statements in order.
    pub statements: Vec<ParsedStatement>,
    /// File-level directives.
    pub file_directives: Vec<Directive>,
    /// Problems found while splitting (tokenizer errors, malformed or misplaced directives).
    /// Per-statement parse failures are in [`ParsedStatement::parse_error`].
    pub diagnostics: Vec<Diagnostic>,
}

impl ParsedFile {
    /// Whether the file carries `directive` at its top.
    pub fn has(&self, directive: &Directive) -> bool {
        self.file_directives.contains(directive)
    }
}

/// Splits and parses `file` for `engine`. Statements sqlparser rejects keep `ast: None`; the
/// caller decides whether the engine accepts them (see [`crate::analysis`]).
pub fn parse_file(file: &SourceFile, engine: Engine) -> ParsedFile {
    let split: SplitFile = split::split_statements(&file.text, crate::engine::dialect(engine));
    let mut diagnostics = Vec::new();
    for p in &split.problems {
        let l = if p.is_directive {
            &lint::BAD_DIRECTIVE
        } else {
            &lint::SYNTAX_ERROR
        };
        diagnostics.push(
            Diagnostic::new(l, p.message.clone())
                .at(&file.path, p.span.clone(), p.position)
                .help(p.help.clone())
                .engine(engine),
        );
    }
    let file_directives: Vec<Directive> = split
        .file_directives
        .iter()
        .map(|d| d.directive.clone())
        .collect();
    let file_allows: Vec<String> = allows(&file_directives);
    let file_unchecked = file_directives.contains(&Directive::Unchecked);
    let mut statements = Vec::with_capacity(split.statements.len());
    for statement in split.statements {
        for d in statement.directives.iter().filter(|d| d.is_file_only()) {
            let pos = statement.start;
            diagnostics.push(
                Diagnostic::new(
                    &lint::BAD_DIRECTIVE,
                    format!("directive `{d}` applies to a whole delta but is written before a later statement"),
                )
                .at(&file.path, statement.sql_span.start..statement.sql_span.start, pos)
                .help("move it to the top of the file, before the first statement"),
            );
        }
        let unchecked = file_unchecked || statement.directives.contains(&Directive::Unchecked);
        let mut allowed = file_allows.clone();
        allowed.extend(allows(&statement.directives));
        let (ast, parse_error) = if unchecked {
            (None, None)
        } else {
            match parse_statement(&statement, engine) {
                Ok(ast) => (Some(ast), None),
                Err(err) => (
                    None,
                    Some(parse_error_diagnostic(file, &statement, engine, err)),
                ),
            }
        };
        statements.push(ParsedStatement {
            statement,
            ast,
            unchecked,
            allowed,
            parse_error,
        });
    }
    ParsedFile {
        engine,
        statements,
        file_directives,
        diagnostics,
    }
}

fn allows(directives: &[Directive]) -> Vec<String> {
    directives
        .iter()
        .filter_map(|d| match d {
            Directive::Allow(l) => Some(l.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// How a statement failed to parse.
#[derive(Debug)]
pub enum ParseFailure {
    /// Two statements with no `;` between them; the position is where the second starts.
    MissingSemicolon(Position),
    /// sqlparser cannot read it.
    Unreadable {
        /// sqlparser's message without its location suffix.
        message: String,
        /// Where it stopped.
        position: Option<Position>,
    },
}

/// Parses one split statement. Exactly one statement is expected.
pub fn parse_statement(stmt: &Statement, engine: Engine) -> Result<ast::Statement, ParseFailure> {
    let result = Parser::new(crate::engine::dialect(engine))
        .with_tokens_with_locations(stmt.tokens.clone())
        .parse_statements();
    match result {
        Ok(mut list) if list.len() == 1 => Ok(list.remove(0)),
        Ok(list) if list.is_empty() => Err(ParseFailure::Unreadable {
            message: "no statement found".to_string(),
            position: Some(stmt.start),
        }),
        Ok(_) => Err(ParseFailure::MissingSemicolon(stmt.start)),
        Err(ParserError::ParserError(msg) | ParserError::TokenizerError(msg)) => {
            let (message, position) = split_location(&msg);
            if message.starts_with("Expected: end of statement") {
                return Err(ParseFailure::MissingSemicolon(
                    position.unwrap_or(stmt.start),
                ));
            }
            Err(ParseFailure::Unreadable { message, position })
        }
        Err(ParserError::RecursionLimitExceeded) => Err(ParseFailure::Unreadable {
            message: "statement nests too deeply for sqlparser".to_string(),
            position: Some(stmt.start),
        }),
    }
}

/// sqlparser appends " at Line: L, Column: C" to its messages; take it apart.
fn split_location(msg: &str) -> (String, Option<Position>) {
    let msg = msg.trim();
    if let Some(at) = msg.rfind(" at Line: ") {
        let loc = &msg[at + " at Line: ".len()..];
        if let Some((line, column)) = loc.split_once(", Column: ")
            && let (Ok(line), Ok(column)) = (line.trim().parse(), column.trim().parse())
        {
            return (msg[..at].to_string(), Some(Position { line, column }));
        }
    }
    (msg.to_string(), None)
}

fn parse_error_diagnostic(
    file: &SourceFile,
    stmt: &Statement,
    engine: Engine,
    err: ParseFailure,
) -> Diagnostic {
    match err {
        ParseFailure::MissingSemicolon(pos) => {
            let offset = file.index.offset(pos).unwrap_or(stmt.sql_span.start);
            Diagnostic::new(
                &lint::MISSING_SEMICOLON,
                "a new statement starts here, but the previous one has no `;`",
            )
            .at(&file.path, offset..offset, pos)
            .help(format!(
                "add `;` at the end of the statement that starts on line {}",
                stmt.start.line
            ))
            .engine(engine)
        }
        ParseFailure::Unreadable { message, position } => {
            let pos = position.unwrap_or(stmt.start);
            let offset = file.index.offset(pos).unwrap_or(stmt.sql_span.start);
            Diagnostic::new(
                &lint::NOT_ANALYSED,
                format!("sqlparser cannot read this statement: {message}"),
            )
            .at(&file.path, offset..offset, pos)
            .engine(engine)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::position::LineIndex;

    fn file(text: &str) -> SourceFile {
        SourceFile {
            path: "delta/1/01_x.sql".into(),
            abs_path: "/dev/null".into(),
            text: text.into(),
            index: LineIndex::new(text),
        }
    }

    #[test]
    fn missing_semicolon_points_at_the_second_statement() {
        let f = file("CREATE TABLE a (x INT)\nCREATE TABLE b (y INT);");
        let parsed = parse_file(&f, Engine::Sqlite);
        let d = parsed.statements[0].parse_error.as_ref().unwrap();
        assert_eq!(d.lint.code, "Q003");
        assert_eq!(d.location.as_ref().unwrap().position.line, 2);
    }

    #[test]
    fn unreadable_statement_is_not_analysed_with_position() {
        let f = file("CREATE TABLE a (x INT);\nALTER SEQUENCE s OWNED BY a.x;");
        let parsed = parse_file(&f, Engine::Postgres);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert_eq!(
            parsed.statements[1].parse_error.as_ref().unwrap().lint.code,
            "Q002"
        );
        assert!(parsed.statements[1].ast.is_none());
        assert!(parsed.statements[0].ast.is_some());
    }

    #[test]
    fn unchecked_and_allow_directives_apply() {
        let f = file(
            "-- strata: allow(S107)\nSELECT 1;\n-- strata: unchecked\nALTER SEQUENCE s OWNED BY a.x;",
        );
        let parsed = parse_file(&f, Engine::Postgres);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert!(parsed.statements.iter().all(|s| s.parse_error.is_none()));
        assert!(parsed.statements[1].unchecked);
        assert!(parsed.statements[1].allows(&lint::SQLITE_TRUNCATE));
    }

    #[test]
    fn file_only_directive_later_is_an_error() {
        let f = file("SELECT 1;\n-- strata: no-transaction\nSELECT 2;");
        let parsed = parse_file(&f, Engine::Postgres);
        assert_eq!(parsed.diagnostics[0].lint.code, "T012");
    }
}
