//! The example chat tree: clean under `check`, and a corpus for the splitter.

use std::path::PathBuf;

use sqlparser::parser::Parser;
use strata_schema::engine::Engine;
use strata_schema::split::split_statements;
use strata_schema::{CheckOptions, Tree};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/schema")
}

#[test]
fn example_tree_is_clean() {
    let report = strata_schema::check(&example(), &CheckOptions::default()).unwrap();
    assert!(
        report.analysis.diagnostics.is_empty(),
        "{}",
        report.render()
    );
    assert_eq!(report.tree.stores.len(), 2);
    assert!(report.tree.common.is_some());
    let names: Vec<_> = report
        .analysis
        .scheduled_updates
        .iter()
        .map(|u| (u.name.as_str(), u.depends_on.as_deref(), u.ordering))
        .collect();
    assert_eq!(
        names,
        vec![
            ("events_origin_ts_idx", None, Some(1201)),
            (
                "rooms_last_activity_ts_backfill",
                Some("events_origin_ts_idx"),
                Some(1301)
            ),
            ("event_reports_unique_idx", None, Some(1501)),
        ]
    );
}

/// On every file sqlparser parses whole, the splitter yields the same number of statements
/// and each chunk parses to the same AST.
#[test]
fn splitter_agrees_with_sqlparser_on_the_example_tree() {
    let tree = Tree::load(&example()).unwrap();
    let mut compared = 0;
    for file in &tree.files {
        if !file.path.contains(".sql") {
            continue;
        }
        for engine in Engine::ALL {
            if file.path.ends_with(&format!(".sql.{}", other(engine))) {
                continue;
            }
            let dialect = strata_schema::engine::dialect(engine);
            let Ok(whole) = Parser::parse_sql(dialect, &file.text) else {
                continue;
            };
            let split = split_statements(&file.text, dialect);
            assert!(
                split.problems.is_empty(),
                "{}: {:?}",
                file.path,
                split.problems
            );
            assert_eq!(
                split.statements.len(),
                whole.len(),
                "{} ({engine})",
                file.path
            );
            for (stmt, expected) in split.statements.iter().zip(&whole) {
                let chunk = Parser::new(dialect)
                    .with_tokens_with_locations(stmt.tokens.clone())
                    .parse_statements()
                    .unwrap();
                assert_eq!(chunk.len(), 1);
                assert_eq!(&chunk[0], expected, "{} ({engine})", file.path);
            }
            compared += 1;
        }
    }
    assert!(compared >= 25, "only {compared} file bodies compared");
}

fn other(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "postgres",
        Engine::Postgres => "sqlite",
    }
}
