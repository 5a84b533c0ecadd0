//! strata's own tables: defined once, in the runtime (`strata_runtime::bookkeeping`), which
//! creates them. The analysis model and the validation database start with the very same
//! statements, so a delta may `INSERT INTO strata_background_updates ...`.

pub use strata_runtime::bookkeeping::{FORMAT_VERSION, create_statements, is_bookkeeping};
