//! The schema crate's error type: only what stops analysis altogether. Everything found
//! *in* a tree is a [`Diagnostic`](crate::diagnostic::Diagnostic), not an error.

use std::path::PathBuf;

/// A failure that prevents reading or analysing a tree.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory of the tree could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The tree root is not a directory.
    #[error("`{}` is not a directory: pass the folder holding `strata.toml`, `delta/` or the store folders", .0.display())]
    NotADirectory(PathBuf),
    /// The in-memory SQLite used for validation failed outside any statement of the tree.
    #[error("in-memory SQLite validation failed: {0}")]
    Validation(#[source] rusqlite::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
