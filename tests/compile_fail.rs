//! Compile errors of `include_migrations!`: one case per diagnostic kind, each `.stderr`
//! showing the error on the path literal with `file:line:col` inside the tree.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
