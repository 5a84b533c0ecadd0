//! For build scripts: make cargo rebuild the crate when a file is added to or removed from
//! a tree. (`include_migrations!` already makes the compiler watch the files it read, so
//! edits need nothing.)
//!
//! In `build.rs`, with `strata-schema` under `[build-dependencies]`:
//!
//! ```text
//! fn main() {
//!     strata_schema::build::watch_tree("schema");
//! }
//! ```
//!
//! It is the one line `println!("cargo:rerun-if-changed=schema");`: cargo then scans the
//! whole directory for changes.

/// Prints the `cargo:rerun-if-changed` line for the tree at `dir` (relative to the crate).
pub fn watch_tree(dir: &str) {
    println!("cargo:rerun-if-changed={dir}");
}
