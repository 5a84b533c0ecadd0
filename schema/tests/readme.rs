//! The README's lint list stays true: every lint of the registry is listed with its code,
//! name and severity.

use strata_schema::lints::registry::ALL;

#[test]
fn readme_lists_every_lint() {
    let readme = include_str!("../../README.md");
    for lint in ALL {
        let severity = match lint.severity {
            strata_schema::Severity::Error => "error",
            strata_schema::Severity::Warning => "warning",
        };
        let row = format!("| {} | `{}` | {severity} |", lint.code, lint.name);
        assert!(readme.contains(&row), "README is missing the row `{row}`");
    }
}
