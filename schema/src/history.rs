//! The order scripts run in: one function, used by the analysis, the CLI's PostgreSQL check
//! and (later) the planner.
//!
//! For a store: deltas at or below its oldest snapshot are the *old* part (only linted); the
//! replay starts at the oldest snapshot (or from nothing) and runs every later delta. Within a
//! version `common`'s deltas come first, then the store's, each in byte order of file name;
//! a snapshot loads `common`'s files first.

use crate::tree::{Script, Store, Tree};

/// The history of one store (with `common`).
#[derive(Debug)]
pub struct History<'t> {
    /// Deltas at or below the oldest snapshot, in order (not replayable: lint only).
    pub old: Vec<&'t Script>,
    /// The oldest snapshot's version, where the replay starts; `None` = an empty database.
    pub start: Option<u32>,
    /// Deltas after `start`, in order.
    pub replay: Vec<&'t Script>,
    /// Versions of the store's other snapshots, ascending.
    pub later_snapshots: Vec<u32>,
}

/// The history of `store` in `tree`.
pub fn history<'t>(tree: &'t Tree, store: &'t Store) -> History<'t> {
    let common = tree.common.as_ref().filter(|c| c.name != store.name);
    let start = store.snapshots.first().map(|s| s.version);
    let mut deltas: Vec<(u32, bool, &Script)> = store
        .deltas
        .iter()
        .map(|d| (d.version, false, d))
        .chain(
            common
                .iter()
                .flat_map(|c| c.deltas.iter().map(|d| (d.version, true, d))),
        )
        .collect();
    // common first within a version, then byte order of name.
    deltas.sort_by(|a, b| (a.0, !a.1, a.2.name.as_bytes()).cmp(&(b.0, !b.1, b.2.name.as_bytes())));
    let (old, replay): (Vec<_>, Vec<_>) = deltas
        .into_iter()
        .map(|(_, _, s)| s)
        .partition(|s| start.is_some_and(|v| s.version <= v));
    History {
        old,
        start,
        replay,
        later_snapshots: store
            .snapshots
            .iter()
            .map(|s| s.version)
            .filter(|v| Some(*v) != start)
            .collect(),
    }
}

/// The scripts of the snapshot at `version` for `store`: `common`'s first.
pub fn snapshot_scripts<'t>(tree: &'t Tree, store: &'t Store, version: u32) -> Vec<&'t Script> {
    let common = tree
        .common
        .as_ref()
        .filter(|c| c.name != store.name)
        .and_then(|c| c.snapshots.iter().find(|s| s.version == version));
    let own = store.snapshots.iter().find(|s| s.version == version);
    common
        .into_iter()
        .chain(own)
        .flat_map(|s| s.scripts.iter())
        .collect()
}

/// The stores to walk: the tree's stores, or `common` alone when it is all there is.
pub fn stores(tree: &Tree) -> Vec<&Store> {
    if tree.stores.is_empty() {
        tree.common.iter().collect()
    } else {
        tree.stores.iter().collect()
    }
}
