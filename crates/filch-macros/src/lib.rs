//! `#[filch::main]` and `#[filch::test]`: turn an `async fn` into a plain
//! function that builds a filch runtime and blocks on the body.
//!
//! Owns only the syntax transformation and its error messages; the runtime
//! is built through `::filch::__private::Builder` (or the path given with
//! `crate = "..."`). Invalid input is a compile error that points at the
//! offending token.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, MetaNameValue, Path, Token};

/// Runs an `async fn main` on a filch multi-thread runtime.
///
/// Options: `worker_threads = N` (default: one per CPU), `start_paused =
/// true`, `crate = "path"` (if the `filch` crate is renamed).
///
/// ```ignore
/// #[filch::main(worker_threads = 4)]
/// async fn main() {
///     println!("Hello");
///     filch::time::sleep(std::time::Duration::from_secs(1)).await;
///     println!("world");
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Main)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// Runs an `async fn` test on a fresh filch runtime.
///
/// Options: `worker_threads = N` (default 2), `start_paused = true`
/// (virtual time: sleeps complete as soon as every task waits), `crate =
/// "path"`.
///
/// ```ignore
/// #[filch::test(start_paused = true)]
/// async fn backs_off() {
///     filch::time::sleep(std::time::Duration::from_secs(3600)).await;
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Test)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "#[filch::main]",
            Kind::Test => "#[filch::test]",
        }
    }
}

struct Options {
    worker_threads: Option<(usize, Span)>,
    start_paused: Option<bool>,
    krate: Path,
}

fn parse_options(args: TokenStream2, kind: Kind) -> syn::Result<Options> {
    let mut opts = Options {
        worker_threads: None,
        start_paused: None,
        krate: syn::parse_quote!(::filch),
    };
    let args = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(args)?;
    for arg in args {
        let name = arg
            .path
            .get_ident()
            .map(|i| i.to_string())
            .ok_or_else(|| syn::Error::new(arg.path.span(), "expected an option name"))?;
        match name.as_str() {
            "worker_threads" => {
                let n: usize = int_lit(&arg.value)?;
                if n == 0 {
                    return Err(syn::Error::new(
                        arg.value.span(),
                        "worker_threads must be at least 1",
                    ));
                }
                opts.worker_threads = Some((n, arg.value.span()));
            }
            "start_paused" => opts.start_paused = Some(bool_lit(&arg.value)?),
            "crate" => {
                let s = str_lit(&arg.value)?;
                opts.krate =
                    syn::parse_str(&s).map_err(|e| syn::Error::new(arg.value.span(), e))?;
            }
            other => {
                return Err(syn::Error::new(
                    arg.path.span(),
                    format!(
                        "unknown {} option `{other}`; expected `worker_threads`, `start_paused` or `crate`",
                        kind.name()
                    ),
                ));
            }
        }
    }
    Ok(opts)
}

fn int_lit(e: &Expr) -> syn::Result<usize> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse(),
        _ => Err(syn::Error::new(e.span(), "expected an integer literal")),
    }
}

fn bool_lit(e: &Expr) -> syn::Result<bool> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        _ => Err(syn::Error::new(e.span(), "expected `true` or `false`")),
    }
}

fn str_lit(e: &Expr) -> syn::Result<String> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.value()),
        _ => Err(syn::Error::new(e.span(), "expected a string literal")),
    }
}

fn expand(args: TokenStream2, item: TokenStream2, kind: Kind) -> syn::Result<TokenStream2> {
    let opts = parse_options(args, kind)?;
    let mut func: ItemFn = syn::parse2(item)?;
    let sig = &mut func.sig;
    if sig.asyncness.take().is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!("the function under {} must be `async fn`", kind.name()),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!("the function under {} cannot take arguments", kind.name()),
        ));
    }
    let krate = &opts.krate;
    let workers = match (opts.worker_threads, kind) {
        (Some((n, span)), _) => quote_spanned!(span=> builder.worker_threads(#n);),
        (None, Kind::Test) => quote!(builder.worker_threads(2);),
        (None, Kind::Main) => quote!(),
    };
    let paused = match opts.start_paused {
        Some(true) => quote!(builder.start_paused(true);),
        _ => quote!(),
    };
    let body = &func.block;
    let attrs = &func.attrs;
    let vis = &func.vis;
    let output = &sig.output;
    let test_attr = if kind == Kind::Test {
        quote!(#[::core::prelude::v1::test])
    } else {
        quote!()
    };
    let ident = &sig.ident;
    let generics = &sig.generics;
    let where_clause = &sig.generics.where_clause;
    Ok(quote! {
        #test_attr
        #(#attrs)*
        #vis fn #ident #generics () #output #where_clause {
            let body = async #body;
            let mut builder = #krate::__private::Builder::new();
            #workers
            #paused
            builder
                .build()
                .expect("failed to build the filch runtime")
                .block_on(body)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(args: &str, item: &str, kind: Kind) -> String {
        let args: TokenStream2 = args.parse().unwrap();
        let item: TokenStream2 = item.parse().unwrap();
        match expand(args, item, kind) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[::core::prelude::v1::test]
    fn rejects_non_async_functions() {
        let e = error("", "fn main() {}", Kind::Main);
        assert_eq!(e, "the function under #[filch::main] must be `async fn`");
    }

    #[::core::prelude::v1::test]
    fn rejects_arguments() {
        let e = error("", "async fn t(x: u32) {}", Kind::Test);
        assert!(e.contains("cannot take arguments"), "{e}");
    }

    #[::core::prelude::v1::test]
    fn rejects_zero_and_unknown_options() {
        assert_eq!(
            error("worker_threads = 0", "async fn main() {}", Kind::Main),
            "worker_threads must be at least 1"
        );
        let e = error("flavor = \"x\"", "async fn main() {}", Kind::Main);
        assert!(e.contains("unknown #[filch::main] option `flavor`"), "{e}");
        let e = error("start_paused = 1", "async fn t() {}", Kind::Test);
        assert!(e.contains("expected `true` or `false`"), "{e}");
    }

    #[::core::prelude::v1::test]
    fn expands_with_options() {
        let args: TokenStream2 = "worker_threads = 4, start_paused = true".parse().unwrap();
        let item: TokenStream2 = "async fn t() -> u8 { 1 }".parse().unwrap();
        let out = expand(args, item, Kind::Test).unwrap().to_string();
        assert!(out.contains("worker_threads (4usize)"), "{out}");
        assert!(out.contains("start_paused (true)"), "{out}");
        assert!(out.contains("test"), "{out}");
    }
}
