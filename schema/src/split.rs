//! Splitting a SQL file into statements with exact spans.
//!
//! The file is tokenized with sqlparser's tokenizer in the dialect of the engine it runs on,
//! so quotes, `--` and nested `/* */` comments and `$tag$` dollar quoting are handled exactly
//! as the parser will see them. The token stream is then cut at top-level `;`. Inside
//! `CREATE TRIGGER` (and `CREATE FUNCTION`/`PROCEDURE` with a `BEGIN ATOMIC` body) a `;`
//! between `BEGIN` and its `END` does not end the statement; nested `CASE ... END` is counted.
//! A trailing statement without `;` is kept.
//!
//! The chunks tile the input: every byte belongs to exactly one statement's
//! [`Statement::span`] or to [`SplitFile::trailing`].

use std::ops::Range;

use sqlparser::dialect::Dialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};

use crate::directive::{Directive, DirectiveError, parse_directive_comment};
use crate::position::{LineIndex, Position};

/// One statement of a file, with its spans.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The whole chunk: leading whitespace and comments, the statement and its `;`.
    pub span: Range<usize>,
    /// The statement itself: first token to last token before the `;` (comments inside kept).
    pub sql_span: Range<usize>,
    /// Position of the statement's first token.
    pub start: Position,
    /// Whether the statement ended with `;` (the last one of a file may not).
    pub terminated: bool,
    /// Directives written on their own line just before this statement.
    pub directives: Vec<Directive>,
    /// Tokens of the statement (no `;`), with file-relative locations, ready for the parser.
    pub tokens: Vec<TokenWithSpan>,
}

impl Statement {
    /// The statement's SQL text (without the terminating `;`).
    pub fn sql<'a>(&self, text: &'a str) -> &'a str {
        &text[self.sql_span.clone()]
    }
}

/// A directive found while splitting, with where it was written.
#[derive(Debug, Clone)]
pub struct PlacedDirective {
    /// The directive.
    pub directive: Directive,
    /// Byte range of its comment.
    pub span: Range<usize>,
    /// Position of its comment.
    pub position: Position,
}

/// A problem found while splitting (the file cannot be tokenized, or a directive is malformed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitProblem {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// Byte range in the file.
    pub span: Range<usize>,
    /// Where it starts.
    pub position: Position,
    /// `true` for a malformed directive, `false` for a tokenizer error.
    pub is_directive: bool,
}

/// A file cut into statements.
#[derive(Debug, Clone, Default)]
pub struct SplitFile {
    /// Directives written before the first statement: they apply to the whole file.
    pub file_directives: Vec<PlacedDirective>,
    /// The statements, in order.
    pub statements: Vec<Statement>,
    /// Whitespace and comments after the last statement.
    pub trailing: Range<usize>,
    /// Problems found (a tokenizer error stops splitting: `statements` is then empty).
    pub problems: Vec<SplitProblem>,
}

/// Splits `text` into statements, tokenizing it in `dialect`.
///
/// ```
/// use sqlparser::dialect::SQLiteDialect;
/// let sql = "CREATE TABLE t (a TEXT DEFAULT 'x;y'); -- c\nINSERT INTO t VALUES ('a')";
/// let split = strata_schema::split::split_statements(sql, &SQLiteDialect {});
/// assert_eq!(split.statements.len(), 2);
/// assert_eq!(split.statements[1].sql(sql), "INSERT INTO t VALUES ('a')");
/// assert!(!split.statements[1].terminated);
/// ```
pub fn split_statements(text: &str, dialect: &dyn Dialect) -> SplitFile {
    let index = LineIndex::new(text);
    let tokens = match Tokenizer::new(dialect, text).tokenize_with_location() {
        Ok(tokens) => tokens,
        Err(err) => {
            let position = Position {
                line: err.location.line as usize,
                column: err.location.column as usize,
            };
            let offset = index.offset(position).unwrap_or(text.len());
            return SplitFile {
                trailing: 0..text.len(),
                problems: vec![SplitProblem {
                    message: err.message.clone(),
                    help: "close the string, quoted identifier or comment that starts here"
                        .to_string(),
                    span: offset..text.len().min(offset + 1).max(offset),
                    position,
                    is_directive: false,
                }],
                ..SplitFile::default()
            };
        }
    };
    Splitter {
        text,
        index: &index,
        out: SplitFile::default(),
        chunk_start: 0,
        pending: Vec::new(),
    }
    .run(tokens)
}

struct Splitter<'a> {
    text: &'a str,
    index: &'a LineIndex,
    out: SplitFile,
    chunk_start: usize,
    pending: Vec<PlacedDirective>,
}

/// What kind of block-bodied statement we are in, decided from its leading keywords.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    /// Not decided yet (still reading leading keywords).
    Unknown,
    /// `CREATE TRIGGER`: `BEGIN ... END` bodies.
    Trigger,
    /// `CREATE FUNCTION/PROCEDURE`: only `BEGIN ATOMIC ... END` bodies.
    Routine,
    /// Anything else: the first top-level `;` ends it.
    Plain,
}

impl Splitter<'_> {
    fn offset(&self, line: u64, column: u64) -> usize {
        self.index
            .offset(Position {
                line: line as usize,
                column: column as usize,
            })
            .unwrap_or(self.text.len())
    }

    fn run(mut self, tokens: Vec<TokenWithSpan>) -> SplitFile {
        let mut current: Vec<TokenWithSpan> = Vec::new();
        let mut leading_words: Vec<Keyword> = Vec::new();
        let mut kind = BodyKind::Unknown;
        let mut depth: usize = 0;
        let mut previous_keyword: Option<Keyword> = None;

        for tok in tokens {
            match &tok.token {
                Token::Whitespace(Whitespace::SingleLineComment { comment, prefix })
                    if prefix == "--" =>
                {
                    let start = self.offset(tok.span.start.line, tok.span.start.column);
                    let end = start + prefix.len() + comment.len();
                    self.comment(comment, start..end, current.is_empty());
                    continue;
                }
                Token::Whitespace(_) => continue,
                Token::EOF => break,
                Token::SemiColon if depth == 0 => {
                    let semi_end = self.offset(tok.span.end.line, tok.span.end.column);
                    if current.is_empty() {
                        // An empty statement (`;;`): fold it into the next chunk's leading trivia.
                        continue;
                    }
                    self.finish(std::mem::take(&mut current), semi_end, true);
                    leading_words.clear();
                    kind = BodyKind::Unknown;
                    previous_keyword = None;
                    continue;
                }
                _ => {}
            }
            let keyword = match &tok.token {
                Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
                _ => None,
            };
            if kind == BodyKind::Unknown {
                match keyword {
                    Some(Keyword::TRIGGER) => kind = BodyKind::Trigger,
                    Some(Keyword::FUNCTION | Keyword::PROCEDURE) => kind = BodyKind::Routine,
                    Some(
                        kw @ (Keyword::CREATE
                        | Keyword::OR
                        | Keyword::REPLACE
                        | Keyword::TEMP
                        | Keyword::TEMPORARY
                        | Keyword::CONSTRAINT),
                    ) if leading_words.is_empty() == (kw == Keyword::CREATE) => {
                        leading_words.push(kw)
                    }
                    _ => kind = BodyKind::Plain,
                }
            }
            match (kind, keyword) {
                (BodyKind::Trigger, Some(Keyword::BEGIN)) => depth += 1,
                (BodyKind::Routine, Some(Keyword::ATOMIC))
                    if previous_keyword == Some(Keyword::BEGIN) =>
                {
                    depth += 1
                }
                (BodyKind::Trigger | BodyKind::Routine, Some(Keyword::CASE)) if depth > 0 => {
                    depth += 1
                }
                (BodyKind::Trigger | BodyKind::Routine, Some(Keyword::END)) if depth > 0 => {
                    depth -= 1
                }
                _ => {}
            }
            previous_keyword = keyword;
            current.push(tok);
        }
        if !current.is_empty() {
            let last = current.last().expect("non-empty");
            let end = self.offset(last.span.end.line, last.span.end.column);
            self.finish(current, end, false);
        }
        let trailing = self.chunk_start..self.text.len();
        self.out.trailing = trailing;
        // Directives after the last statement apply to nothing.
        for d in std::mem::take(&mut self.pending) {
            self.out.problems.push(SplitProblem {
                message: format!("directive `{}` is not followed by a statement", d.directive),
                help: "put the directive on the line just before the statement it applies to"
                    .to_string(),
                span: d.span,
                position: d.position,
                is_directive: true,
            });
        }
        self.out
    }

    fn comment(&mut self, comment: &str, span: Range<usize>, between_statements: bool) {
        let position = self.index.position(span.start);
        let on_own_line = self.text[self.index.line_start(span.start)..span.start]
            .chars()
            .all(char::is_whitespace);
        match parse_directive_comment(comment) {
            None => {}
            Some(Err(DirectiveError { message, help })) => {
                self.out.problems.push(SplitProblem {
                    message,
                    help,
                    span,
                    position,
                    is_directive: true,
                });
            }
            Some(Ok(directive)) => {
                if !on_own_line || !between_statements {
                    self.out.problems.push(SplitProblem {
                        message: format!("directive `{directive}` must be on its own line"),
                        help: "write `-- strata: ...` alone on the line before the statement it applies to"
                            .to_string(),
                        span,
                        position,
                        is_directive: true,
                    });
                    return;
                }
                let placed = PlacedDirective {
                    directive,
                    span,
                    position,
                };
                if self.out.statements.is_empty() {
                    self.out.file_directives.push(placed);
                } else {
                    self.pending.push(placed);
                }
            }
        }
    }

    fn finish(&mut self, tokens: Vec<TokenWithSpan>, end: usize, terminated: bool) {
        let first = &tokens[0];
        let last = tokens.last().expect("non-empty statement");
        let sql_start = self.offset(first.span.start.line, first.span.start.column);
        let sql_end = self.offset(last.span.end.line, last.span.end.column);
        let statement = Statement {
            span: self.chunk_start..end,
            sql_span: sql_start..sql_end,
            start: Position {
                line: first.span.start.line as usize,
                column: first.span.start.column as usize,
            },
            terminated,
            directives: std::mem::take(&mut self.pending)
                .into_iter()
                .map(|d| d.directive)
                .collect(),
            tokens,
        };
        self.chunk_start = end;
        self.out.statements.push(statement);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};
    use sqlparser::parser::Parser;

    fn sqls(text: &str, dialect: &dyn Dialect) -> Vec<String> {
        let split = split_statements(text, dialect);
        assert!(split.problems.is_empty(), "{:?}", split.problems);
        split
            .statements
            .iter()
            .map(|s| s.sql(text).to_string())
            .collect()
    }

    #[test]
    fn quotes_and_comments_do_not_split() {
        let text = "INSERT INTO t VALUES ('http://x;y -- z'); /* a; b; */ SELECT 1;\n-- c;\nSELECT \"a;b\" FROM t";
        assert_eq!(
            sqls(text, &SQLiteDialect {}),
            vec![
                "INSERT INTO t VALUES ('http://x;y -- z')",
                "SELECT 1",
                "SELECT \"a;b\" FROM t"
            ]
        );
    }

    #[test]
    fn nested_comments_follow_the_engine() {
        // PostgreSQL nests block comments; SQLite ends the comment at the first `*/`.
        let text = "SELECT 1; /* a; /* nested; */ b; */ SELECT 2;";
        assert_eq!(
            sqls(text, &PostgreSqlDialect {}),
            vec!["SELECT 1", "SELECT 2"]
        );
        assert_eq!(sqls(text, &SQLiteDialect {}).len(), 3);
    }

    #[test]
    fn trigger_bodies_with_case_stay_whole() {
        let text = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET a = CASE WHEN 1 THEN 2 ELSE 3 END;\n  DELETE FROM u;\nEND;\nSELECT 1;";
        let parts = sqls(text, &SQLiteDialect {});
        assert_eq!(parts.len(), 2);
        assert!(parts[0].ends_with("END"));
        assert_eq!(parts[1], "SELECT 1");
    }

    #[test]
    fn dollar_quoted_function_bodies_stay_whole() {
        let text = "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN NEW.a := 1; RETURN NEW; END; $body$ LANGUAGE plpgsql;\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();";
        let parts = sqls(text, &PostgreSqlDialect {});
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts[1].starts_with("CREATE TRIGGER"));
    }

    #[test]
    fn begin_atomic_routine_bodies_stay_whole() {
        let text = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3";
        let parts = sqls(text, &PostgreSqlDialect {});
        assert_eq!(parts.len(), 2, "{parts:?}");
    }

    #[test]
    fn transaction_begin_is_its_own_statement() {
        let text = "BEGIN; CREATE TABLE t (a INT); COMMIT;";
        assert_eq!(sqls(text, &SQLiteDialect {}).len(), 3);
    }

    #[test]
    fn spans_tile_the_input_and_positions_are_one_based() {
        let text = "\n\n  SELECT 1;\r\n-- x\nSELECT 2 ;  \n";
        let split = split_statements(text, &SQLiteDialect {});
        assert_eq!(split.statements[0].span, 0..13);
        assert_eq!(split.statements[0].start, Position { line: 3, column: 3 });
        assert_eq!(split.statements[1].start, Position { line: 5, column: 1 });
        assert_eq!(split.statements[1].span.end, split.trailing.start);
        assert_eq!(split.trailing.end, text.len());
    }

    #[test]
    fn non_ascii_text_keeps_byte_spans() {
        let text = "INSERT INTO t VALUES ('héllo wörld'); SELECT 'ü';";
        let parts = sqls(text, &SQLiteDialect {});
        assert_eq!(
            parts,
            vec!["INSERT INTO t VALUES ('héllo wörld')", "SELECT 'ü'"]
        );
    }

    #[test]
    fn unterminated_string_is_a_problem_with_a_position() {
        let text = "SELECT 1;\nSELECT 'abc";
        let split = split_statements(text, &SQLiteDialect {});
        assert_eq!(split.problems.len(), 1);
        assert_eq!(split.problems[0].position.line, 2);
    }

    #[test]
    fn directives_attach_to_file_and_statements() {
        let text = "-- strata: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- strata: allow(sqlite-truncate)\nTRUNCATE t;";
        let split = split_statements(text, &PostgreSqlDialect {});
        assert!(split.problems.is_empty(), "{:?}", split.problems);
        assert_eq!(split.file_directives.len(), 1);
        assert_eq!(split.file_directives[0].directive, Directive::NoTransaction);
        assert_eq!(
            split.statements[1].directives,
            vec![Directive::Allow(vec!["sqlite-truncate".into()])]
        );
    }

    #[test]
    fn directive_inside_a_statement_is_a_problem() {
        let text = "SELECT\n-- strata: unchecked\n1;";
        let split = split_statements(text, &SQLiteDialect {});
        assert_eq!(split.problems.len(), 1);
        assert!(split.problems[0].message.contains("own line"));
    }

    #[test]
    fn chunks_parse_like_the_whole_file() {
        let text =
            "CREATE TABLE a (x INT); INSERT INTO a VALUES (1); CREATE VIEW v AS SELECT x FROM a";
        let dialect = SQLiteDialect {};
        let whole = Parser::parse_sql(&dialect, text).unwrap();
        let split = split_statements(text, &dialect);
        assert_eq!(split.statements.len(), whole.len());
        for (stmt, expected) in split.statements.iter().zip(&whole) {
            let parsed = Parser::new(&dialect)
                .with_tokens_with_locations(stmt.tokens.clone())
                .parse_statements()
                .unwrap();
            assert_eq!(&parsed[0], expected);
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_tiles(text in "[a-zA-Z0-9 ;'\"\n\r$/*\\-éü()]{0,80}") {
            for dialect in [&SQLiteDialect {} as &dyn Dialect, &PostgreSqlDialect {}] {
                let split = split_statements(&text, dialect);
                let mut at = 0;
                for s in &split.statements {
                    proptest::prop_assert_eq!(s.span.start, at);
                    proptest::prop_assert!(s.sql_span.start >= s.span.start && s.sql_span.end <= s.span.end);
                    at = s.span.end;
                }
                proptest::prop_assert_eq!(split.trailing.start, at);
                proptest::prop_assert_eq!(split.trailing.end, text.len());
            }
        }
    }
}
