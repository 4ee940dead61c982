//! Before a playbook runs, every target it names with a literal (`powerstore("array1")`)
//! is checked: it exists with that kind, its secret can be read, and its TLS settings
//! load. A typo in a target name then fails the run up front, as a configuration error,
//! instead of halfway through a migration.

use rhai::{AST, ASTNode, EvalAltResult, Expr, Position, Stmt};

use crate::config::{TargetKind, Targets};
use crate::http::client::HttpClient;
use crate::http::error::{ApiError, ErrorKind};
use crate::script::error_value::raise;

/// A target named by a literal in the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetUse {
    pub kind: TargetKind,
    pub name: String,
    pub position: Position,
}

/// Every `kind("name")` call with a literal name, in the script and its functions.
pub fn target_uses(ast: &AST) -> Vec<TargetUse> {
    let mut uses = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        let call = match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, position))) => Some((call, position)),
            Some(ASTNode::Stmt(Stmt::FnCall(call, position))) => Some((call, position)),
            _ => None,
        };
        if let Some((call, position)) = call {
            let kind = TargetKind::ALL
                .into_iter()
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

/// Checks each target the script names; the error points at the call that named it.
pub fn check(targets: &Targets, ast: &AST) -> Result<(), Box<EvalAltResult>> {
    for used in target_uses(ast) {
        let problem = match targets.get(used.kind, &used.name) {
            Err(err) => Some(ApiError::new(ErrorKind::Validation, err.to_string())),
            Ok(target) => match target.password() {
                Err(err) => Some(ApiError::new(ErrorKind::Auth, err.to_string())),
                Ok(_) => HttpClient::new(target).err(),
            },
        };
        if let Some(err) = problem {
            let mut err = raise(err);
            err.set_position(used.position);
            return Err(err);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut names: Vec<String> = target_uses(&ast).into_iter().map(|u| u.name).collect();
        names.sort();
        assert_eq!(names, ["array1", "array2", "array3"]);
    }
}
