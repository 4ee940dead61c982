//! The script reference `cutover doc` prints: every host function with its signature
//! and doc comment (from Rhai's metadata), the properties of each handle, the stdlib
//! modules' functions, and editor definition files.

use std::fmt::Write as _;
use std::path::Path;

use rhai::Engine;
use serde::Deserialize;

use crate::script::modules;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    functions: Vec<Function>,
}

/// A host function as Rhai's metadata describes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Function {
    /// The name scripts call; properties are `get$name`.
    pub name: String,
    /// `name(param: Type, …) -> Type`.
    pub signature: String,
    /// The parameters; a method's first one is its receiver.
    #[serde(default)]
    pub params: Vec<Param>,
    /// The type it returns, as registered (`ImportSession`, `Map`, …); empty for `()`.
    #[serde(default)]
    pub return_type: String,
    /// Its doc comment blocks, `///` included.
    #[serde(default)]
    pub doc_comments: Vec<String>,
}

/// One parameter of a host function.
#[derive(Debug, Deserialize)]
pub struct Param {
    /// Its type, e.g. `ImportSession`, or `&mut ImportSession` for a property's owner.
    #[serde(rename = "type", default)]
    pub ty: Option<String>,
}

/// Every host function with its signature and doc comment, from Rhai's metadata.
pub fn functions(engine: &Engine) -> Result<Vec<Function>, String> {
    let json = engine
        .gen_fn_metadata_to_json(false)
        .map_err(|err| format!("cannot read function metadata: {err}"))?;
    let metadata: Metadata = serde_json::from_str(&json)
        .map_err(|err| format!("cannot read function metadata: {err}"))?;
    Ok(metadata.functions)
}

/// Writes Rhai definition files for editors (the language server) into `dir` and
/// returns their names.
pub fn write_definitions(engine: &Engine, dir: &Path) -> std::io::Result<Vec<String>> {
    #[allow(
        clippy::disallowed_methods,
        reason = "writing editor files the operator asked for"
    )]
    std::fs::create_dir_all(dir)?;
    let definitions = engine.definitions().include_standard_packages(false);
    definitions.write_to_dir(dir)?;
    let mut names: Vec<String> = definitions.iter_files().map(|(name, _)| name).collect();
    names.sort();
    Ok(names)
}

/// The whole reference: host functions, properties, then each stdlib module.
pub fn reference(engine: &Engine) -> Result<String, String> {
    let all = functions(engine)?;
    let mut out = String::from("# Script functions\n");
    let (properties, functions): (Vec<_>, Vec<_>) =
        all.iter().partition(|f| f.name.starts_with("get$"));
    for function in functions {
        entry(&mut out, &function.signature, &function.doc_comments);
    }
    out.push_str("\n# Read-only properties\n");
    for property in properties {
        let _ = writeln!(out, "{}", property_name(&property.signature));
    }
    for (name, source) in modules::STDLIB {
        let _ = writeln!(out, "\n# import \"{}{name}\"", modules::STDLIB_PREFIX);
        let ast = engine
            .compile(source)
            .map_err(|err| format!("stdlib module `{name}` does not compile: {err}"))?;
        let mut functions: Vec<_> = ast
            .iter_functions()
            .filter(|f| !f.name.starts_with("anon$"))
            .collect();
        functions.sort_by_key(|f| (f.name, f.params.len()));
        for function in functions {
            let signature = format!("{}({})", function.name, function.params.join(", "));
            let comments: Vec<String> = function.comments.iter().map(ToString::to_string).collect();
            entry(&mut out, &signature, &comments);
        }
    }
    Ok(out)
}

/// `get$state(_: &mut ImportSession) -> …` as `ImportSession.state`.
fn property_name(signature: &str) -> String {
    let name = signature
        .trim_start_matches("get$")
        .split('(')
        .next()
        .unwrap_or_default();
    let owner = signature
        .split("&mut ")
        .nth(1)
        .and_then(|rest| rest.split([')', ',']).next())
        .unwrap_or_default();
    format!("{owner}.{name}")
}

/// Writes one function: its signature, then its doc comment indented below it.
pub(crate) fn entry(out: &mut String, signature: &str, comments: &[String]) {
    let _ = writeln!(out, "\n{signature}");
    for block in comments {
        for line in block.lines() {
            let line = line
                .trim_start()
                .trim_start_matches("///")
                .trim_start_matches("//");
            let _ = writeln!(out, "    {}", line.trim_start());
        }
    }
}
