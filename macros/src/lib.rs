//! `include_migrations!`: reads a migration tree while the crate compiles, checks it with
//! `strata-schema` (lints, execution on an in-memory SQLite, snapshot drift) and expands to
//! the `strata::Migrations` plan. Use it through the `strata` crate:
//!
//! ```ignore
//! static MIGRATIONS: strata::Migrations = strata::include_migrations!("schema");
//! ```
//!
//! This crate is glue: only [`include_migrations`] touches `proc_macro`; `input` reads the
//! call, `expand` turns the plan into tokens. Everything else is `strata-schema`, the code the
//! CLI runs too.

mod expand;
mod input;

use proc_macro::TokenStream;

/// Checks the tree at the given path (relative to the crate's `Cargo.toml`) and expands to
/// its `strata::Migrations`. Errors are compile errors on the path literal naming
/// `file:line:col` in the tree; warnings are compiler warnings (`deny_warnings` turns them
/// into errors):
///
/// ```ignore
/// static MIGRATIONS: strata::Migrations =
///     strata::include_migrations!("schema", deny_warnings);
/// ```
#[proc_macro]
pub fn include_migrations(input: TokenStream) -> TokenStream {
    match syn::parse::<input::Input>(input) {
        Ok(input) => expand::expand(&input).into(),
        Err(e) => e.to_compile_error().into(),
    }
}
