//! Diagnostics: what the analysis found, where, and how to fix it; rendered like rustc.

use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};
use serde::Serialize;

use crate::engine::Engine;
use crate::lints::LintInfo;
use crate::position::Position;
use crate::tree::Tree;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look; does not fail `strata check`.
    Warning,
    /// The tree cannot be applied safely; fails `strata check` and the build.
    Error,
}

/// Where a diagnostic points inside the tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// File path relative to the tree root, `/`-separated.
    pub file: String,
    /// Byte range inside the file (may be empty).
    pub span: Range<usize>,
    /// 1-based line and column of the start of `span`.
    pub position: Position,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// The lint that produced it (code, name, documentation).
    pub lint: &'static LintInfo,
    /// Severity (the lint's default unless a rule raises or lowers it).
    pub severity: Severity,
    /// What is wrong, one line, lowercase, quoting the offending construct.
    pub message: String,
    /// Where, when it is about a file.
    pub location: Option<Location>,
    /// How to fix it.
    pub help: Option<String>,
    /// Extra lines (for example a schema diff).
    pub notes: Vec<String>,
    /// The engine it concerns, when it concerns only one.
    pub engine: Option<Engine>,
}

impl Diagnostic {
    /// A diagnostic of `lint` at its default severity.
    pub fn new(lint: &'static LintInfo, message: impl Into<String>) -> Self {
        Diagnostic {
            lint,
            severity: lint.severity,
            message: message.into(),
            location: None,
            help: lint.help.map(str::to_string),
            notes: Vec::new(),
            engine: None,
        }
    }

    /// Sets where it points.
    pub fn at(mut self, file: &str, span: Range<usize>, position: Position) -> Self {
        self.location = Some(Location {
            file: file.to_string(),
            span,
            position,
        });
        self
    }

    /// Replaces the help text.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a note line.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Sets the engine.
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Overrides the severity.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The order diagnostics are reported in: file, line, column, code, message.
    pub fn sort_key(&self) -> (String, usize, usize, &'static str, String) {
        let (file, line, col) = match &self.location {
            Some(l) => (l.file.clone(), l.position.line, l.position.column),
            None => (String::new(), 0, 0),
        };
        (file, line, col, self.lint.code, self.message.clone())
    }

    /// `file:line:col` (or just the file, or nothing).
    pub fn location_string(&self) -> String {
        match &self.location {
            Some(l) => format!("{}:{}:{}", l.file, l.position.line, l.position.column),
            None => String::new(),
        }
    }

    /// A one-paragraph plain-text form: `error[S107 sqlite-truncate]: msg` + location, the
    /// source line and the help. This is what the macro puts in a compile error.
    pub fn to_plain(&self, tree: Option<&Tree>) -> String {
        self.plain_with_head(self.severity_word(), tree)
    }

    /// The plain form headed `strata[S107 sqlite-truncate]`: what `include_migrations!`
    /// puts in a compile error (rustc already prints `error:` before it).
    pub fn to_compile_error(&self, tree: Option<&Tree>) -> String {
        let mut text = self.plain_with_head("strata", tree);
        if self.severity == Severity::Warning {
            text.push_str("\n  = note: a warning, denied by `deny_warnings`");
        }
        text
    }

    fn plain_with_head(&self, head: &str, tree: Option<&Tree>) -> String {
        let mut out = format!(
            "{head}[{} {}]: {}",
            self.lint.code, self.lint.name, self.message
        );
        if let Some(engine) = self.engine {
            out.push_str(&format!(" ({engine})"));
        }
        if let Some(loc) = &self.location {
            out.push_str(&format!("\n  --> {}", self.location_string()));
            if let Some(line) = tree.and_then(|t| t.source_line(&loc.file, loc.position.line)) {
                out.push_str(&format!("\n   | {line}"));
            }
        }
        for note in &self.notes {
            out.push_str(&format!("\n  = note: {note}"));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("\n  = help: {help}"));
        }
        out
    }

    fn severity_word(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// The JSON object `strata check --format json` prints for this diagnostic.
    pub fn to_json(&self) -> serde_json::Value {
        let (file, line, column) = match &self.location {
            Some(l) => (
                serde_json::Value::from(l.file.clone()),
                serde_json::Value::from(l.position.line),
                serde_json::Value::from(l.position.column),
            ),
            None => (
                serde_json::Value::Null,
                serde_json::Value::Null,
                serde_json::Value::Null,
            ),
        };
        serde_json::json!({
            "code": self.lint.code,
            "name": self.lint.name,
            "severity": self.severity,
            "file": file,
            "line": line,
            "column": column,
            "message": self.message,
            "help": self.help,
            "notes": self.notes,
            "engine": self.engine.map(|e| e.name()),
        })
    }
}

/// Renders diagnostics like rustc (code, message, `file:line:col`, the source line with a
/// caret, help), as plain text.
pub fn render(diagnostics: &[Diagnostic], tree: Option<&Tree>) -> String {
    let mut files = SimpleFiles::new();
    let mut ids = std::collections::HashMap::new();
    let mut out = String::new();
    let config = Config::default();
    for d in diagnostics {
        let mut cs = match d.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        }
        .with_code(format!("{} {}", d.lint.code, d.lint.name))
        .with_message(match d.engine {
            Some(e) => format!("{} ({e})", d.message),
            None => d.message.clone(),
        });
        let mut notes = d.notes.clone();
        if let Some(loc) = &d.location {
            match tree.and_then(|t| t.file_text(&loc.file)) {
                Some(text) => {
                    let id = *ids
                        .entry(loc.file.clone())
                        .or_insert_with(|| files.add(loc.file.clone(), text.to_string()));
                    let end = loc.span.end.min(text.len()).max(loc.span.start);
                    cs = cs.with_labels(vec![Label::primary(id, loc.span.start..end)]);
                }
                None => notes.insert(0, format!("in {}", d.location_string())),
            }
        }
        if let Some(help) = &d.help {
            notes.push(format!("help: {help}"));
        }
        cs = cs.with_notes(notes);
        // Rendering into an in-memory buffer cannot fail for files we just added.
        term::emit_to_string(&mut out, &config, &files, &cs)
            .expect("rendering a diagnostic into memory");
    }
    out
}
