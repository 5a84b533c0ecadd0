//! Turning a checked tree into tokens: `::strata::plan::*` literals, compile errors and
//! warnings, and `include_bytes!` of every file read so that edits trigger a rebuild.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use strata_runtime::Engine;
use strata_runtime::plan::{Migrations, ScheduledUpdate, Scripts, Snapshot, Store, Table};
use strata_schema::{Report, Severity};

use crate::input::Input;

pub fn expand(input: &Input) -> TokenStream {
    let span = input.path.span();
    let root = match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => PathBuf::from(dir).join(input.path.value()),
        None => PathBuf::from(input.path.value()),
    };
    let (report, plan) = match strata_schema::load_plan(&root, &Default::default()) {
        Ok(r) => r,
        Err(e) => {
            let msg = format!("strata: {e}");
            return quote_spanned! {span=> { ::core::compile_error!(#msg); ::strata::plan::Migrations::EMPTY } };
        }
    };
    let watch = watch_files(&report);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for (i, d) in report.analysis.diagnostics.iter().enumerate() {
        if d.severity == Severity::Error || input.deny_warnings {
            let text = d.to_compile_error(Some(&report.tree));
            errors.push(quote_spanned! {span=> ::core::compile_error!(#text); });
        } else {
            let text = d.to_plain(Some(&report.tree));
            // Stable Rust has no warning API for proc-macros: using a deprecated item spanned
            // on the literal makes rustc print the note as a warning there.
            let name = format_ident!("strata_warning_{}", i, span = span);
            warnings.push(quote_spanned! {span=>
                #[deprecated(note = #text)]
                #[allow(non_upper_case_globals)]
                const #name: () = ();
                #name;
            });
        }
    }
    if let Some(plan) = &plan {
        for msg in check_code_deltas(plan, &report) {
            errors.push(quote_spanned! {span=> ::core::compile_error!(#msg); });
        }
    }
    let ok = errors.is_empty() && plan.is_some();
    let mut items = Vec::new();
    let (value, code_modules) = match &plan {
        Some(plan) if ok => (
            migrations(plan, &mut items),
            code_modules(plan, &report.tree.root),
        ),
        // Still an expression of the right type: no cascade of secondary errors.
        _ => (quote! { ::strata::plan::Migrations::EMPTY }, quote! {}),
    };
    let value = quote_spanned! {span=>
        {
            #watch
            #code_modules
            #(#errors)*
            #(#warnings)*
            #(#items)*
            #value
        }
    };
    match &input.module {
        None => value,
        Some((vis, name)) => {
            let tables = if ok {
                strata_schema::plan::table_consts(&report.analysis)
            } else {
                Vec::new()
            };
            let tables = tables.iter().map(table_module);
            let doc = format!(
                "The migration tree `{}`: its plan and the names of its tables and columns.",
                input.path.value()
            );
            quote! {
                #[doc = #doc]
                #vis mod #name {
                    /// The plan of the tree, checked at compile time.
                    pub static MIGRATIONS: ::strata::Migrations = #value;
                    #(#tables)*
                }
            }
        }
    }
}

/// A Rust identifier for a SQL name: keywords become raw identifiers (`r#type`), other
/// characters `_`.
fn rust_ident(name: &str, upper: bool) -> proc_macro2::Ident {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if upper {
        s = s.to_uppercase();
    } else {
        s = s.to_lowercase();
    }
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    match s.as_str() {
        // Not allowed even as raw identifiers.
        "self" | "super" | "crate" | "Self" | "_" => format_ident!("{}_", s),
        _ if syn::parse_str::<syn::Ident>(&s).is_err() => {
            proc_macro2::Ident::new_raw(&s, proc_macro2::Span::call_site())
        }
        _ => format_ident!("{}", s),
    }
}

/// `pub mod <table> { pub const TABLE: &str; pub const <COLUMN>: &str; ... }`.
fn table_module(t: &strata_schema::plan::TableConsts) -> TokenStream {
    let module = rust_ident(&t.name, false);
    let table = &t.name;
    let stores = &t.stores;
    let doc = format!(
        "Table `{}` (store{} {}).",
        t.name,
        if stores.len() == 1 { "" } else { "s" },
        stores.join(", ")
    );
    let columns = t.columns.iter().map(|(c, engines)| {
        let mut ident = rust_ident(c, true);
        if ident == "TABLE" || ident == "STORES" {
            ident = format_ident!("{}_COLUMN", ident);
        }
        let doc = if engines.len() == 1 {
            format!("Column `{c}` ({} only).", engines[0])
        } else {
            format!("Column `{c}`.")
        };
        quote! {
            #[doc = #doc]
            pub const #ident: &str = #c;
        }
    });
    quote! {
        #[doc = #doc]
        #[allow(non_snake_case)]
        pub mod #module {
            /// The table's name.
            pub const TABLE: &str = #table;
            /// The stores that have this table.
            pub const STORES: &[&str] = &[#(#stores),*];
            #(#columns)*
        }
    }
}

/// `include_bytes!` of every file of the tree: the compiler then rebuilds the crate when one
/// of them changes. (New files are not seen this way: see the README's build-script line.)
fn watch_files(report: &Report) -> TokenStream {
    let paths = report
        .tree
        .files
        .iter()
        .map(|f| f.abs_path.to_string_lossy().into_owned());
    quote! { const _: () = { #( let _ = ::core::include_bytes!(#paths); )* }; }
}

const SIGNATURE: &str =
    "pub fn migrate(tx: &mut dyn strata::Transaction) -> Result<(), strata::CodeError>";

/// Each code delta must define `pub fn migrate` taking the transaction: say so with the
/// file and line rather than leave rustc to report a type mismatch on the macro call.
fn check_code_deltas(plan: &Migrations, report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for code in plan
        .stores
        .iter()
        .chain(plan.common.as_ref())
        .flat_map(|s| s.deltas.iter())
        .filter_map(|d| d.code)
    {
        let Some(text) = report.tree.file_text(code.file) else {
            continue;
        };
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map_or(1, |i| i + 1)
        };
        let problem = match syn::parse_file(text) {
            Err(e) => Some((1, format!("the file does not parse as Rust: {e}"))),
            Ok(file) => {
                let migrate = file.items.iter().find_map(|item| match item {
                    syn::Item::Fn(f) if f.sig.ident == "migrate" => Some(f),
                    _ => None,
                });
                match migrate {
                    None => Some((1, "it defines no `migrate` function".to_string())),
                    Some(f) if !matches!(f.vis, syn::Visibility::Public(_)) => {
                        Some((line_of("fn migrate"), "`migrate` is not `pub`".to_string()))
                    }
                    Some(f) if f.sig.inputs.len() != 1 => Some((
                        line_of("fn migrate"),
                        format!(
                            "`migrate` takes {} parameter(s); it takes the transaction only",
                            f.sig.inputs.len()
                        ),
                    )),
                    Some(_) => None,
                }
            }
        };
        if let Some((line, why)) = problem {
            out.push(format!(
                "strata[code-delta]: {why}\n  --> {}:{line}:1\n  = help: a code delta defines `{SIGNATURE}`",
                code.file
            ));
        }
    }
    out
}

/// The module a code delta's file is compiled into.
fn code_module_ident(file: &str) -> proc_macro2::Ident {
    let safe: String = file
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format_ident!("__strata_code_{}", safe)
}

/// `#[path = "<tree>/delta/12/01_fix.rs"] mod __strata_code_...;` for every code delta: the
/// files compile into the crate with their own spans, so a wrong signature points there.
/// A crate may expand the same tree more than once (say, the expression form and the item
/// form), which includes each file again: clippy's `duplicate_mod` is allowed for that.
fn code_modules(plan: &Migrations, root: &std::path::Path) -> TokenStream {
    let modules = plan
        .stores
        .iter()
        .chain(plan.common.as_ref())
        .flat_map(|s| s.deltas.iter())
        .filter_map(|d| d.code)
        .map(|code| {
            let ident = code_module_ident(code.file);
            let path = root.join(code.file).to_string_lossy().into_owned();
            quote! {
                #[path = #path]
                #[allow(non_snake_case, clippy::duplicate_mod)]
                mod #ident;
            }
        });
    quote! { #(#modules)* }
}

fn str_lit(s: &str) -> TokenStream {
    quote! { #s }
}

fn list(items: Vec<TokenStream>) -> TokenStream {
    quote! { &[#(#items),*] }
}

fn engine(e: Engine) -> TokenStream {
    match e {
        Engine::Sqlite => quote! { ::strata::Engine::Sqlite },
        Engine::Postgres => quote! { ::strata::Engine::Postgres },
    }
}

fn opt_str(s: &Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote! { ::core::option::Option::Some(#s) },
        None => quote! { ::core::option::Option::None },
    }
}

/// The plan's value. The deltas go into one packed table (`strata::plan::Table`): a string
/// array and two integer arrays, each a `static` in `items`; stores and snapshots are ranges
/// of it. rustc type-checks array elements far faster than struct literals (see
/// BENCHMARKS.md), so a tree of thousands of deltas costs little more to compile than
/// `include_str!` of its files.
fn migrations(m: &Migrations, items: &mut Vec<TokenStream>) -> TokenStream {
    // Every store of a plan built by `strata_schema` shares one table.
    if let Some(s) = m.stores.iter().chain(m.common.as_ref()).next() {
        items.push(table(s.deltas.raw().0));
    }
    let engines = list(m.engines.iter().map(|&e| engine(e)).collect());
    let stores = list(m.stores.iter().map(store).collect());
    let common = match &m.common {
        Some(c) => {
            let c = store(c);
            quote! { ::core::option::Option::Some(#c) }
        }
        None => quote! { ::core::option::Option::None },
    };
    let target = m.target_version;
    let compat = m.compat_version;
    let fingerprint = str_lit(m.fingerprint);
    let updates = list(m.background_updates.iter().map(update).collect());
    quote! {
        ::strata::plan::Migrations {
            engines: #engines,
            stores: #stores,
            common: #common,
            target_version: #target,
            compat_version: #compat,
            fingerprint: #fingerprint,
            background_updates: #updates,
        }
    }
}

/// `static __STRATA_TABLE: Table = ...;` with its arrays, and the code deltas' functions in
/// the order the table numbers them.
fn table(t: &'static Table) -> TokenStream {
    let (strs, deltas, bodies) = t.parts();
    let (ns, nd, nb) = (strs.len(), deltas.len(), bodies.len());
    let word = |w: &u32| proc_macro2::Literal::u32_unsuffixed(*w);
    let deltas = deltas.iter().map(word);
    let bodies = bodies.iter().map(word);
    let code: Vec<TokenStream> = t
        .all()
        .iter()
        .filter_map(|d| d.code)
        .map(|c| {
            let module = code_module_ident(c.file);
            quote! { #module::migrate }
        })
        .collect();
    let nc = code.len();
    quote! {
        static __STRATA_STRS: [&str; #ns] = [#(#strs),*];
        static __STRATA_DELTAS: [u32; #nd] = [#(#deltas),*];
        static __STRATA_BODIES: [u32; #nb] = [#(#bodies),*];
        static __STRATA_CODE: [::strata::plan::CodeFn; #nc] = [#(#code),*];
        static __STRATA_TABLE: ::strata::plan::Table = ::strata::plan::Table::from_parts(
            &__STRATA_STRS, &__STRATA_DELTAS, &__STRATA_BODIES, &__STRATA_CODE,
        );
    }
}

fn scripts(s: &Scripts) -> TokenStream {
    let (_, start, len) = s.raw();
    quote! { ::strata::plan::Scripts::new(&__STRATA_TABLE, #start, #len) }
}

fn store(s: &Store) -> TokenStream {
    let name = str_lit(s.name);
    let snapshots = list(s.snapshots.iter().map(snapshot).collect());
    let deltas = scripts(&s.deltas);
    let digest = str_lit(s.digest);
    quote! {
        ::strata::plan::Store { name: #name, snapshots: #snapshots, deltas: #deltas, digest: #digest }
    }
}

fn snapshot(s: &Snapshot) -> TokenStream {
    let version = s.version;
    let scripts = scripts(&s.scripts);
    quote! { ::strata::plan::Snapshot { version: #version, scripts: #scripts } }
}

fn update(u: &ScheduledUpdate) -> TokenStream {
    let store = str_lit(u.store);
    let version = u.version;
    let delta = str_lit(u.delta);
    let name = str_lit(u.name);
    let depends_on = opt_str(&u.depends_on);
    let ordering = match u.ordering {
        Some(o) => quote! { ::core::option::Option::Some(#o) },
        None => quote! { ::core::option::Option::None },
    };
    quote! {
        ::strata::plan::ScheduledUpdate {
            store: #store,
            version: #version,
            delta: #delta,
            name: #name,
            depends_on: #depends_on,
            ordering: #ordering,
        }
    }
}
