//! Reading the macro call: `"path"` (an expression) or `pub mod db = "path"` (an item), then
//! optional flags.

use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token, Visibility};

/// A parsed `include_migrations!(...)` call.
pub struct Input {
    /// `Some((visibility, name))` for the item form `vis mod name = "path"`.
    pub module: Option<(Visibility, Ident)>,
    /// The tree path literal (errors are anchored on it).
    pub path: LitStr,
    /// `deny_warnings`: warnings become errors.
    pub deny_warnings: bool,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let module = if input.peek(LitStr) {
            None
        } else {
            let vis: Visibility = input.parse()?;
            input.parse::<Token![mod]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the tree's path (include_migrations!(\"schema\")) or a module (include_migrations!(pub mod db = \"schema\"))",
                )
            })?;
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Some((vis, name))
        };
        let path: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the tree's path as a string literal: include_migrations!(\"schema\")",
            )
        })?;
        let mut deny_warnings = false;
        while input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let flag: Ident = input.parse()?;
            match flag.to_string().as_str() {
                "deny_warnings" => deny_warnings = true,
                other => {
                    return Err(syn::Error::new(
                        flag.span(),
                        format!("unknown option `{other}`: the only option is `deny_warnings`"),
                    ));
                }
            }
        }
        Ok(Input {
            module,
            path,
            deny_warnings,
        })
    }
}
