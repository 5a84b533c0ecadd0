//! Discovering a migration tree on disk.
//!
//! ```text
//! <tree>/
//!   strata.toml                    optional manifest
//!   common/ main/ state/ ...       multi-store form: each folder a store (common is shared)
//!     full_schemas/<N>/*.sql[.sqlite|.postgres]    snapshot of the whole store at version N
//!     delta/<N>/<name>.sql                          runs on every target engine
//!     delta/<N>/<name>.sql.sqlite | .sql.postgres   runs on that engine only
//!     delta/<N>/<name>.rs                           a code delta
//! ```
//!
//! A tree whose root holds `delta/` or `full_schemas/` is a single store (named `main`, or
//! `store` in the manifest). Problems are collected as diagnostics; the tree keeps every part
//! that could be read.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::lints::registry as lint;
use crate::manifest::Manifest;
use crate::position::{LineIndex, Position};

/// Index of a file in [`Tree::files`].
pub type FileId = usize;

/// The name of the shared pseudo-store.
pub const COMMON: &str = "common";

/// A file read from the tree.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the tree root, `/`-separated.
    pub path: String,
    /// Absolute path on disk (what the macro asks the compiler to watch).
    pub abs_path: PathBuf,
    /// Contents (a leading byte-order mark removed).
    pub text: String,
    /// Line index of `text`.
    pub index: LineIndex,
}

/// A named piece of SQL (or code) with one body per engine: a delta, or one file of a snapshot.
#[derive(Debug, Clone)]
pub struct Script {
    /// Store the script belongs to (`common` for shared scripts).
    pub store: String,
    /// Schema version.
    pub version: u32,
    /// File name without its suffixes (`01_users` for `01_users.sql.sqlite`).
    pub name: String,
    /// SQL bodies or a code delta.
    pub kind: ScriptKind,
}

/// What a script is made of.
#[derive(Debug, Clone)]
pub enum ScriptKind {
    /// SQL: one body per engine (a portable `.sql` file is the body of every target engine).
    Sql(BTreeMap<Engine, FileId>),
    /// A code delta (`.rs`), with the optional `.schema.sql` file declaring its effect on
    /// the schema (run by the checks in its place; never at run time).
    Code {
        /// The `.rs` file.
        file: FileId,
        /// The `<name>.schema.sql` companion.
        effect: Option<FileId>,
    },
}

impl Script {
    /// The file holding this script's body for `engine`, if it runs there.
    pub fn body(&self, engine: Engine) -> Option<FileId> {
        match &self.kind {
            ScriptKind::Sql(bodies) => bodies.get(&engine).copied(),
            ScriptKind::Code { .. } => None,
        }
    }

    /// The SQL the checks run for this script on `engine`: its body, or a code delta's
    /// `.schema.sql` effect.
    pub fn checked_file(&self, engine: Engine) -> Option<FileId> {
        match &self.kind {
            ScriptKind::Sql(bodies) => bodies.get(&engine).copied(),
            ScriptKind::Code { effect, .. } => *effect,
        }
    }

    /// Whether this is a code delta.
    pub fn is_code(&self) -> bool {
        matches!(self.kind, ScriptKind::Code { .. })
    }
}

/// A snapshot `full_schemas/<N>/` of one store.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Its version.
    pub version: u32,
    /// Its files in run order.
    pub scripts: Vec<Script>,
}

/// One store (or `common`).
#[derive(Debug, Clone, Default)]
pub struct Store {
    /// Name (`main`, `state`, `common`, ...).
    pub name: String,
    /// Snapshots by ascending version.
    pub snapshots: Vec<Snapshot>,
    /// Deltas by ascending (version, name).
    pub deltas: Vec<Script>,
}

/// A migration tree read from disk.
#[derive(Debug, Clone)]
pub struct Tree {
    /// The root directory.
    pub root: PathBuf,
    /// The manifest (defaults when `strata.toml` is absent or broken).
    pub manifest: Manifest,
    /// Every file read, in discovery order.
    pub files: Vec<SourceFile>,
    /// The stores, by name.
    pub stores: Vec<Store>,
    /// The shared `common` scripts, if the tree has them.
    pub common: Option<Store>,
    /// Problems found while reading the tree.
    pub diagnostics: Vec<Diagnostic>,
}

impl Tree {
    /// Reads the tree at `root`. Only an unreadable root is an `Err`; every other problem is
    /// a diagnostic in [`Tree::diagnostics`].
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::create_dir_all(dir.path().join("delta/1"))?;
    /// std::fs::write(dir.path().join("delta/1/01_users.sql"), "CREATE TABLE users (id INT);")?;
    /// let tree = strata_schema::tree::Tree::load(dir.path())?;
    /// assert_eq!(tree.stores[0].name, "main");
    /// assert_eq!(tree.stores[0].deltas[0].name, "01_users");
    /// # Ok(()) }
    /// ```
    pub fn load(root: &Path) -> Result<Tree> {
        let meta = fs::metadata(root).map_err(|source| Error::Io {
            path: root.to_path_buf(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(Error::NotADirectory(root.to_path_buf()));
        }
        let canonical_root = fs::canonicalize(root).map_err(|source| Error::Io {
            path: root.to_path_buf(),
            source,
        })?;
        let mut loader = Loader {
            root: canonical_root.clone(),
            tree: Tree {
                root: canonical_root,
                manifest: Manifest::default(),
                files: Vec::new(),
                stores: Vec::new(),
                common: None,
                diagnostics: Vec::new(),
            },
        };
        loader.load()?;
        Ok(loader.tree)
    }

    /// The file with relative path `path`.
    pub fn file(&self, path: &str) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The text of the file with relative path `path`.
    pub fn file_text(&self, path: &str) -> Option<&str> {
        self.file(path).map(|f| f.text.as_str())
    }

    /// Line `line` (1-based) of file `path`.
    pub fn source_line(&self, path: &str, line: usize) -> Option<&str> {
        self.file(path).map(|f| f.index.line_text(line))
    }

    /// The store called `name` (not `common`).
    pub fn store(&self, name: &str) -> Option<&Store> {
        self.stores.iter().find(|s| s.name == name)
    }

    /// The highest version any delta or snapshot of the tree has (the target version).
    pub fn target_version(&self) -> Option<u32> {
        self.stores
            .iter()
            .chain(self.common.as_ref())
            .flat_map(|s| {
                s.deltas
                    .iter()
                    .map(|d| d.version)
                    .chain(s.snapshots.iter().map(|sn| sn.version))
            })
            .max()
    }

    /// The compat version: the manifest's, or the target version.
    pub fn compat_version(&self) -> Option<u32> {
        self.manifest.compat_version.or(self.target_version())
    }
}

struct Loader {
    root: PathBuf,
    tree: Tree,
}

/// A directory entry, with the checks every entry needs.
struct Entry {
    name: String,
    path: PathBuf,
    is_dir: bool,
}

impl Loader {
    fn rel(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }

    fn diag(&mut self, d: Diagnostic) {
        self.tree.diagnostics.push(d);
    }

    fn at_file(&self, lint: &'static lint::LintInfo, path: &Path, msg: String) -> Diagnostic {
        Diagnostic::new(lint, msg).at(&self.rel(path), 0..0, Position { line: 1, column: 1 })
    }

    /// Lists a directory sorted by byte order of name; links leaving the tree are reported
    /// and skipped; dot-files are ignored.
    fn list(&mut self, dir: &Path) -> Result<Vec<Entry>> {
        let read = fs::read_dir(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut entries = Vec::new();
        for entry in read {
            let entry = entry.map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let link = fs::symlink_metadata(&path)
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            if link {
                match fs::canonicalize(&path) {
                    Ok(target) if target.starts_with(&self.root) => {}
                    Ok(target) => {
                        let d = self.at_file(
                            &lint::LINK_OUTSIDE_TREE,
                            &path,
                            format!(
                                "`{}` links to `{}`, outside the tree",
                                self.rel(&path),
                                target.display()
                            ),
                        );
                        self.diag(d);
                        continue;
                    }
                    Err(e) => {
                        let d = self.at_file(
                            &lint::LINK_OUTSIDE_TREE,
                            &path,
                            format!("`{}` is a broken link: {e}", self.rel(&path)),
                        );
                        self.diag(d);
                        continue;
                    }
                }
            }
            let is_dir = fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false);
            entries.push(Entry { name, path, is_dir });
        }
        entries.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        Ok(entries)
    }

    fn load(&mut self) -> Result<()> {
        let root = self.root.clone();
        let entries = self.list(&root)?;
        if let Some(manifest) = entries
            .iter()
            .find(|e| e.name == "strata.toml" && !e.is_dir)
        {
            self.load_manifest(&manifest.path.clone());
        }
        let single = entries
            .iter()
            .any(|e| e.is_dir && (e.name == "delta" || e.name == "full_schemas"));
        if single {
            let name = self.tree.manifest.store.clone();
            let store = self.load_store(&root, &name)?;
            self.tree.stores.push(store);
            for e in entries.iter().filter(|e| {
                !matches!(e.name.as_str(), "delta" | "full_schemas" | "strata.toml")
                    && !e.name.ends_with(".md")
            }) {
                let d = self.at_file(
                    &lint::UNEXPECTED_ENTRY,
                    &e.path,
                    format!(
                        "`{}` is ignored: a single-store tree holds only `delta/`, `full_schemas/` and `strata.toml`",
                        e.name
                    ),
                );
                self.diag(d);
            }
        } else {
            for e in &entries {
                if e.is_dir {
                    let store = self.load_store(&e.path, &e.name)?;
                    if e.name == COMMON {
                        self.tree.common = Some(store);
                    } else {
                        self.tree.stores.push(store);
                    }
                } else if e.name != "strata.toml" && !e.name.ends_with(".md") {
                    let d = self.at_file(
                        &lint::UNEXPECTED_ENTRY,
                        &e.path,
                        format!(
                            "`{}` is ignored: the tree root holds store folders and `strata.toml`",
                            e.name
                        ),
                    );
                    self.diag(d);
                }
            }
        }
        self.check_cross_store_names();
        self.check_common_snapshots();
        Ok(())
    }

    fn load_manifest(&mut self, path: &Path) {
        let Some(file) = self.read_file(path) else {
            return;
        };
        let text = self.tree.files[file].text.clone();
        match Manifest::parse(&text) {
            Ok(m) => self.tree.manifest = m,
            Err((msg, span)) => {
                let span = span.unwrap_or(0..0);
                let position = self.tree.files[file].index.position(span.start);
                let d = Diagnostic::new(&lint::BAD_MANIFEST, format!("strata.toml: {msg}")).at(
                    "strata.toml",
                    span,
                    position,
                );
                self.diag(d);
            }
        }
    }

    /// Reads a file as UTF-8, reporting non-UTF-8 content. Returns its id.
    fn read_file(&mut self, path: &Path) -> Option<FileId> {
        let rel = self.rel(path);
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                let d = self.at_file(
                    &lint::UNEXPECTED_ENTRY,
                    path,
                    format!("`{rel}` cannot be read: {e}"),
                );
                self.diag(d);
                return None;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
                let position = LineIndex::new(&prefix).position(prefix.len());
                let d = Diagnostic::new(
                    &lint::NOT_UTF8,
                    format!("`{rel}` is not valid UTF-8 (invalid byte at offset {valid})"),
                )
                .at(&rel, valid..valid, position);
                self.diag(d);
                return None;
            }
        };
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        self.tree.files.push(SourceFile {
            path: rel,
            abs_path: path.to_path_buf(),
            index: LineIndex::new(&text),
            text,
        });
        Some(self.tree.files.len() - 1)
    }

    fn load_store(&mut self, dir: &Path, name: &str) -> Result<Store> {
        let mut store = Store {
            name: name.to_string(),
            ..Store::default()
        };
        for e in self.list(dir)? {
            match (e.name.as_str(), e.is_dir) {
                ("delta", true) => {
                    for (version, vdir) in self.version_folders(&e.path)? {
                        let scripts = self.load_scripts(&vdir, name, version, true)?;
                        store.deltas.extend(scripts);
                    }
                }
                ("full_schemas", true) => {
                    for (version, vdir) in self.version_folders(&e.path)? {
                        let scripts = self.load_scripts(&vdir, name, version, false)?;
                        store.snapshots.push(Snapshot { version, scripts });
                    }
                }
                _ if dir == self.root => {} // single-store root: reported by the caller
                _ if e.name.ends_with(".md") => {}
                _ => {
                    let d = self.at_file(
                        &lint::UNEXPECTED_ENTRY,
                        &e.path,
                        format!(
                            "`{}` is ignored: a store folder holds `delta/` and `full_schemas/`",
                            self.rel(&e.path)
                        ),
                    );
                    self.diag(d);
                }
            }
        }
        Ok(store)
    }

    /// Version folders of `dir`, by ascending version.
    fn version_folders(&mut self, dir: &Path) -> Result<Vec<(u32, PathBuf)>> {
        let mut seen: BTreeMap<u32, (String, PathBuf)> = BTreeMap::new();
        for e in self.list(dir)? {
            if !e.is_dir {
                let d = self.at_file(
                    &lint::UNEXPECTED_ENTRY,
                    &e.path,
                    format!(
                        "`{}` is ignored: files belong inside a version folder",
                        self.rel(&e.path)
                    ),
                );
                self.diag(d);
                continue;
            }
            let version = match e.name.parse::<u32>() {
                Ok(v) if e.name.bytes().all(|b| b.is_ascii_digit()) => v,
                _ => {
                    let d = self.at_file(
                        &lint::BAD_VERSION_FOLDER,
                        &e.path,
                        format!("`{}` is not a version number", self.rel(&e.path)),
                    );
                    self.diag(d);
                    continue;
                }
            };
            if let Some((other, _)) = seen.get(&version) {
                let d = self
                    .at_file(
                        &lint::DUPLICATE_VERSION,
                        &e.path,
                        format!(
                            "`{}` and `{other}` are both version {version}",
                            self.rel(&e.path)
                        ),
                    )
                    .help(format!("merge them into one folder named `{version}`"));
                self.diag(d);
                continue;
            }
            if e.name != version.to_string() {
                let d = self
                    .at_file(
                        &lint::LEADING_ZERO_VERSION,
                        &e.path,
                        format!("version folder `{}` has leading zeros", self.rel(&e.path)),
                    )
                    .help(format!("rename it to `{version}`"));
                self.diag(d);
            }
            seen.insert(version, (self.rel(&e.path), e.path));
        }
        Ok(seen.into_iter().map(|(v, (_, p))| (v, p)).collect())
    }

    /// Reads the scripts of one version folder.
    fn load_scripts(
        &mut self,
        dir: &Path,
        store: &str,
        version: u32,
        is_delta: bool,
    ) -> Result<Vec<Script>> {
        // stem -> (portable, per-engine, code)
        #[derive(Default)]
        struct Parts {
            portable: Option<FileId>,
            engines: BTreeMap<Engine, FileId>,
            code: Option<FileId>,
            effect: Option<FileId>,
            first: Option<PathBuf>,
        }
        enum Kind {
            Portable,
            Engine(Engine),
            Code,
            Effect,
        }
        let mut parts: BTreeMap<String, Parts> = BTreeMap::new();
        for e in self.list(dir)? {
            if e.is_dir {
                let d = self.at_file(
                    &lint::UNEXPECTED_ENTRY,
                    &e.path,
                    format!(
                        "`{}` is ignored: version folders hold files, not folders",
                        self.rel(&e.path)
                    ),
                );
                self.diag(d);
                continue;
            }
            let (stem, kind) = if let Some(stem) =
                e.name.strip_suffix(".schema.sql").filter(|_| is_delta)
            {
                (stem, Kind::Effect)
            } else if let Some(stem) = e.name.strip_suffix(".sql") {
                (stem, Kind::Portable)
            } else if let Some(stem) = e.name.strip_suffix(".sql.sqlite") {
                (stem, Kind::Engine(Engine::Sqlite))
            } else if let Some(stem) = e.name.strip_suffix(".sql.postgres") {
                (stem, Kind::Engine(Engine::Postgres))
            } else if let Some(stem) = e.name.strip_suffix(".rs").filter(|_| is_delta) {
                (stem, Kind::Code)
            } else {
                let what = if is_delta { "delta" } else { "snapshot" };
                let help = if is_delta {
                    "name it `<name>.sql`, `<name>.sql.sqlite`, `<name>.sql.postgres` or `<name>.rs`"
                } else {
                    "snapshot files are `<name>.sql`, `<name>.sql.sqlite` or `<name>.sql.postgres`"
                };
                let d = self
                    .at_file(
                        &lint::UNKNOWN_SUFFIX,
                        &e.path,
                        format!("`{}` is not a {what} file strata knows", self.rel(&e.path)),
                    )
                    .help(help);
                self.diag(d);
                continue;
            };
            if stem.is_empty() {
                let d = self.at_file(
                    &lint::UNKNOWN_SUFFIX,
                    &e.path,
                    format!("`{}` has no name before its suffix", self.rel(&e.path)),
                );
                self.diag(d);
                continue;
            }
            if let Kind::Engine(engine) = kind
                && !self.tree.manifest.targets(engine)
            {
                let d = self.at_file(
                    &lint::ENGINE_NOT_TARGETED,
                    &e.path,
                    format!(
                        "`{}` is for {engine}, which strata.toml does not target: ignored",
                        self.rel(&e.path)
                    ),
                );
                self.diag(d);
                continue;
            }
            let Some(file) = self.read_file(&e.path) else {
                continue;
            };
            if self.tree.files[file].text.trim().is_empty() {
                let d = self.at_file(
                    &lint::EMPTY_FILE,
                    &e.path,
                    format!("`{}` is empty", self.rel(&e.path)),
                );
                self.diag(d);
                continue;
            }
            let p = parts.entry(stem.to_string()).or_default();
            p.first.get_or_insert(e.path.clone());
            match kind {
                Kind::Portable => p.portable = Some(file),
                Kind::Engine(engine) => {
                    p.engines.insert(engine, file);
                }
                Kind::Code => p.code = Some(file),
                Kind::Effect => p.effect = Some(file),
            }
        }
        let mut scripts = Vec::new();
        for (stem, p) in parts {
            let rel = |f: FileId| self.tree.files[f].path.clone();
            if let (Some(effect), None) = (p.effect, p.code) {
                let d = self.at_file(
                    &lint::ORPHAN_SCHEMA_EFFECT,
                    &self.tree.files[effect].abs_path.clone(),
                    format!(
                        "`{}` declares the schema effect of a code delta, but there is no `{stem}.rs`",
                        self.tree.files[effect].path
                    ),
                );
                self.diag(d);
                continue;
            }
            let kind = match (p.portable, p.engines.is_empty(), p.code) {
                (Some(portable), true, None) => ScriptKind::Sql(
                    self.tree
                        .manifest
                        .engines
                        .iter()
                        .map(|&e| (e, portable))
                        .collect(),
                ),
                (None, false, None) => ScriptKind::Sql(p.engines),
                (None, true, Some(code)) => ScriptKind::Code {
                    file: code,
                    effect: p.effect,
                },
                _ => {
                    let mut files: Vec<String> = p.portable.into_iter().map(rel).collect();
                    files.extend(p.engines.values().map(|&f| rel(f)));
                    files.extend(p.code.map(rel));
                    let first = p.first.clone().unwrap_or_else(|| dir.to_path_buf());
                    let d = self.at_file(
                        &lint::AMBIGUOUS_VARIANTS,
                        &first,
                        format!(
                            "`{stem}` is defined by several files: {}",
                            files
                                .iter()
                                .map(|f| format!("`{f}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    self.diag(d);
                    continue;
                }
            };
            scripts.push(Script {
                store: store.to_string(),
                version,
                name: stem,
                kind,
            });
        }
        Ok(scripts)
    }

    /// The same delta name in two stores (common included) of one version is an error.
    fn check_cross_store_names(&mut self) {
        let mut seen: HashMap<(u32, String), String> = HashMap::new();
        let mut found = Vec::new();
        for store in self.tree.common.iter().chain(&self.tree.stores) {
            for d in &store.deltas {
                match seen.get(&(d.version, d.name.clone())) {
                    Some(other) => found.push((d.clone(), other.clone())),
                    None => {
                        seen.insert((d.version, d.name.clone()), store.name.clone());
                    }
                }
            }
        }
        for (script, other) in found {
            let file = self.first_file(&script);
            let d = Diagnostic::new(
                &lint::DUPLICATE_DELTA,
                format!(
                    "delta `{}` of version {} exists in both `{other}` and `{}`",
                    script.name, script.version, script.store
                ),
            )
            .at(&file, 0..0, Position { line: 1, column: 1 });
            self.diag(d);
            // Keep only the first: the duplicate would run twice in one database.
            if let Some(store) = self
                .tree
                .stores
                .iter_mut()
                .chain(self.tree.common.as_mut())
                .find(|s| s.name == script.store)
            {
                store
                    .deltas
                    .retain(|d| !(d.version == script.version && d.name == script.name));
            }
        }
    }

    /// When common has snapshots, every store snapshot version needs a common one.
    fn check_common_snapshots(&mut self) {
        let Some(common) = &self.tree.common else {
            return;
        };
        if common.snapshots.is_empty() {
            return;
        }
        let have: Vec<u32> = common.snapshots.iter().map(|s| s.version).collect();
        let mut found = Vec::new();
        for store in &self.tree.stores {
            for snap in &store.snapshots {
                if !have.contains(&snap.version) {
                    found.push((store.name.clone(), snap.version));
                }
            }
        }
        for (store, version) in found {
            let d = Diagnostic::new(
                &lint::MISSING_SNAPSHOT_PART,
                format!(
                    "`{store}/full_schemas/{version}` has no `common/full_schemas/{version}` to go with it"
                ),
            )
            .at(
                &format!("{store}/full_schemas/{version}"),
                0..0,
                Position { line: 1, column: 1 },
            );
            self.diag(d);
        }
    }

    fn first_file(&self, script: &Script) -> String {
        match &script.kind {
            ScriptKind::Sql(b) => b
                .values()
                .next()
                .map(|&f| self.tree.files[f].path.clone())
                .unwrap_or_default(),
            ScriptKind::Code { file, .. } => self.tree.files[*file].path.clone(),
        }
    }
}
