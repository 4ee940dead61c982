//! `cutover doc`: every script function with its signature and doc comment (from Rhai's
//! metadata), the stdlib modules' functions, and editor definition files on request.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::{DocArgs, fail, runtime};
use crate::clock::Clock;
use crate::config::Targets;
use crate::exit_code::ExitCode;
use crate::script::{self, Host, Limits, modules};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    functions: Vec<Function>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Function {
    name: String,
    signature: String,
    #[serde(default)]
    doc_comments: Vec<String>,
}

pub(super) fn run(args: &DocArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(err) => {
            return fail(
                ExitCode::Failure,
                format!("cannot start the runtime: {err}"),
            );
        }
    };
    let host = Arc::new(Host::new(
        runtime.handle().clone(),
        Clock::wall(),
        CancellationToken::new(),
        Targets::default(),
    ));
    let engine = script::engine(&host, Limits::default(), ".".into());
    if let Some(dir) = &args.definitions {
        if let Err(err) = write_definitions(&engine, dir) {
            return fail(
                ExitCode::Failure,
                format!("cannot write definitions to `{}`: {err}", dir.display()),
            );
        }
        eprintln!("definitions written to {}", dir.display());
    }
    match reference(&engine) {
        Ok(text) => {
            print!("{text}");
            ExitCode::Success
        }
        Err(err) => fail(ExitCode::Failure, err),
    }
}

fn write_definitions(engine: &rhai::Engine, dir: &Path) -> std::io::Result<()> {
    #[allow(
        clippy::disallowed_methods,
        reason = "writing editor files the operator asked for"
    )]
    std::fs::create_dir_all(dir)?;
    engine
        .definitions()
        .include_standard_packages(false)
        .write_to_dir(dir)
}

/// The whole reference: host functions grouped by name, then each stdlib module.
fn reference(engine: &rhai::Engine) -> Result<String, String> {
    let json = engine
        .gen_fn_metadata_to_json(false)
        .map_err(|err| format!("cannot read function metadata: {err}"))?;
    let metadata: Metadata = serde_json::from_str(&json)
        .map_err(|err| format!("cannot read function metadata: {err}"))?;
    let mut out = String::from("# Script functions\n");
    let (properties, functions): (Vec<_>, Vec<_>) = metadata
        .functions
        .iter()
        .partition(|f| f.name.starts_with("get$"));
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

fn entry(out: &mut String, signature: &str, comments: &[String]) {
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
