//! Before a playbook runs, every target it names with a literal (`powerstore("array1")`)
//! is checked: it exists with that kind, its secret can be read, and its TLS settings
//! load. A typo in a target name then fails the run up front, as a configuration error,
//! instead of halfway through a migration.

use rhai::{AST, ASTNode, EvalAltResult, Expr, Position, Stmt};

use crate::api_error::{ApiError, ErrorKind};
use crate::config::{TargetKind, Targets};
use crate::http::client::HttpClient;
use crate::script::error_value::raise;

/// A target named by a literal in the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetUse {
    pub kind: TargetKind,
    pub name: String,
    pub position: Position,
}

/// Every `kind("name")` call with a literal name, in the script and its functions.
/// `kinds` are the target constructors' names (every kind of target).
pub fn target_uses(ast: &AST, kinds: &[TargetKind]) -> Vec<TargetUse> {
    let mut uses = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        let call = match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, position))) => Some((call, position)),
            Some(ASTNode::Stmt(Stmt::FnCall(call, position))) => Some((call, position)),
            _ => None,
        };
        if let Some((call, position)) = call {
            let kind = kinds
                .iter()
                .copied()
                .find(|k| k.as_str() == call.name.as_str());
            if let (Some(kind), [Expr::StringConstant(name, _)], false) =
                (kind, call.args.as_slice(), call.is_qualified())
            {
                uses.push(TargetUse {
                    kind,
                    name: name.to_string(),
                    position: *position,
                });
            }
        }
        true
    });
    uses
}

/// How far [`problems`] checks a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// The target file has it, with that kind (`cutover check`, which reaches nothing).
    Names,
    /// Also its secret can be read and its TLS settings load (before a run).
    Usable,
}

/// Every problem with the targets the script names, each pointing at the call that named
/// it: each call naming a target the file lacks, and each target that cannot be used
/// once (its secret or TLS settings are the same wherever it is named).
#[allow(
    clippy::vec_box,
    reason = "Rhai hands its errors out boxed; they stay as Rhai made them"
)]
pub fn problems(targets: &Targets, ast: &AST, depth: Depth) -> Vec<Box<EvalAltResult>> {
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut uses = target_uses(ast, targets.kinds());
    // The tree holds functions' bodies after the script's statements.
    uses.sort_by_key(|u| (u.position.line(), u.position.position()));
    for used in uses {
        let problem = match targets.get(used.kind, &used.name) {
            Err(err) => Some(ApiError::new(ErrorKind::Validation, err.to_string())),
            Ok(_) if depth == Depth::Names => None,
            Ok(_) if !seen.insert((used.kind, used.name.clone())) => None,
            Ok(target) => match target.password() {
                Err(err) => Some(ApiError::new(ErrorKind::Auth, err.to_string())),
                Ok(_) => HttpClient::new(target).err(),
            },
        };
        if let Some(err) = problem {
            let mut err = raise(err);
            err.set_position(used.position);
            problems.push(err);
        }
    }
    problems
}

/// Checks each target the script names before it runs; the errors point at the calls
/// that named them.
#[allow(
    clippy::vec_box,
    reason = "Rhai hands its errors out boxed; they stay as Rhai made them"
)]
pub fn check(targets: &Targets, ast: &AST) -> Result<(), Vec<Box<EvalAltResult>>> {
    let problems = problems(targets, ast, Depth::Usable);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::diagnostic::headline;

    #[test]
    fn literal_target_names_are_found_in_functions_too() {
        let engine = rhai::Engine::new();
        let ast = engine
            .compile(
                r#"
                let a = powerstore("array1");
                powerstore("array3");
                fn wave() { powerstore("array2").import_sessions() }
                let name = "dynamic";
                let c = powerstore(name);
                "#,
            )
            .unwrap();
        let mut names: Vec<String> = target_uses(&ast, &[TargetKind::new("powerstore")])
            .into_iter()
            .map(|u| u.name)
            .collect();
        names.sort();
        assert_eq!(names, ["array1", "array2", "array3"]);
    }

    #[test]
    fn every_problem_is_reported_and_names_alone_read_no_secret() {
        let targets = Targets::parse(
            "[targets.array1]\nkind = \"powerstore\"\nurl = \"https://array1.example.com\"\n\
             user = \"admin\"\npassword_env = \"CUTOVER_PREFLIGHT_TEST_UNSET\"\n",
            std::path::Path::new("cutover.toml"),
            &crate::lab::target_kinds(),
        )
        .unwrap();
        let ast = rhai::Engine::new()
            .compile(
                "fn later() { powerstore(\"array1\") }\n\
                 powerstore(\"aray1\");\nvcd(\"array1\");\npowerstore(\"array1\");\n",
            )
            .unwrap();
        let shown = |depth| -> Vec<String> {
            problems(&targets, &ast, depth)
                .iter()
                .map(|err| format!("{}: {}", err.position().line().unwrap(), headline(err)))
                .collect()
        };
        assert_eq!(
            shown(Depth::Names),
            [
                "2: no powerstore target `aray1` in `cutover.toml`; did you mean `array1`? (kind: validation)",
                "3: target `array1` is of kind powerstore, not vcd (kind: validation)",
            ]
        );
        let usable = shown(Depth::Usable);
        assert_eq!(usable.len(), 3, "{usable:?}");
        assert!(
            usable[0].starts_with("1: ") && usable[0].contains("CUTOVER_PREFLIGHT_TEST_UNSET"),
            "{usable:?}"
        );
    }
}
