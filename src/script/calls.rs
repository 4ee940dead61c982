//! What a script's syntax tree says about its calls, read before anything runs: each call
//! with its form, name, number of arguments and place; the functions the script defines;
//! the modules it imports; its variables; and the names its maps use as keys, because a
//! map holding a function pointer under a key answers a method call of that name.

use std::collections::BTreeSet;

use rhai::{AST, ASTNode, Dynamic, Expr, FnCallExpr, FnPtr, Position, Stmt};

use crate::script::callable::Arities;
use crate::script::catalogue::is_identifier;

/// How a call is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    /// `name(args)`.
    Function,
    /// `value.name(args)`.
    Method,
    /// `alias::name(args)`; `alias_at` is where the alias is written.
    Qualified { alias: String, alias_at: Position },
}

/// One call in the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// How it is written.
    pub form: Form,
    /// The function's name, without any module.
    pub name: String,
    /// The arguments written, not counting a method's receiver.
    pub args: usize,
    /// Where the name is written.
    pub position: Position,
    /// It runs only when a function is called: it is in a function's body, or in a
    /// closure made there (a closure the top level makes counts as top level).
    pub in_function: bool,
}

/// An `import "path" as alias;`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// The name calls qualify with.
    pub alias: String,
    /// The path, when it is a literal; a computed one is known only at run time.
    pub path: Option<String>,
}

/// Everything the check needs from one script or module.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Every call of a named function, in the order written (operators left out).
    pub calls: Vec<Call>,
    /// The functions it defines (closures left out).
    pub functions: Arities,
    /// Its imports that bind a name.
    pub imports: Vec<Import>,
    /// Map keys and property names it writes.
    pub keys: BTreeSet<String>,
    /// Variables and parameters it declares.
    pub variables: BTreeSet<String>,
    /// It stores a function pointer under a key computed at run time, so any method call
    /// may reach one.
    pub hidden_methods: bool,
    /// Its top level only imports, exports and declares constants: it is shaped like a
    /// module.
    pub module_shaped: bool,
}

/// Reads the facts of `ast`, its functions' bodies included.
pub fn facts(ast: &AST) -> Facts {
    let mut facts = Facts::default();
    for function in ast.iter_functions() {
        if is_identifier(function.name) {
            facts.functions.add(function.name, function.params.len());
        }
        facts
            .variables
            .extend(function.params.iter().map(|p| (*p).to_owned()));
    }
    facts.module_shaped = ast.statements().iter().all(|s| match s {
        Stmt::Import(..) | Stmt::Export(..) | Stmt::Noop(..) => true,
        Stmt::Var(var, ..) => var.1.is_constant(),
        _ => false,
    });
    // The top level, then the closures it makes (they mostly run at once: `retry(|| …)`),
    // then every other function.
    let bodies: Vec<(String, AST)> = ast
        .iter_fn_def()
        .map(|function| {
            let mut alone = rhai::Module::new();
            alone.set_script_fn(function.clone());
            (function.name.to_string(), AST::new([], alone))
        })
        .collect();
    let mut made = BTreeSet::new();
    facts.read(&ast.clone_statements_only(), false, &mut made);
    let mut top_level = BTreeSet::new();
    while let Some(closure) = made.pop_first() {
        if top_level.insert(closure.clone()) {
            for (_, body) in bodies.iter().filter(|(name, _)| *name == closure) {
                facts.read(body, false, &mut made);
            }
        }
    }
    for (_, body) in bodies.iter().filter(|(name, _)| !top_level.contains(name)) {
        facts.read(body, true, &mut BTreeSet::new());
    }
    facts
}

impl Facts {
    /// Adds what `earlier` (code that ran before, in the same scope) defines, imports and
    /// declares; its calls were checked with it.
    pub fn absorb(&mut self, earlier: &Self) {
        self.functions.extend(&earlier.functions);
        self.imports.extend(earlier.imports.iter().cloned());
        self.keys.extend(earlier.keys.iter().cloned());
        self.variables.extend(earlier.variables.iter().cloned());
        self.hidden_methods |= earlier.hidden_methods;
    }

    /// Reads the nodes of `part`; notes in `closures` the closures it makes.
    fn read(&mut self, part: &AST, in_function: bool, closures: &mut BTreeSet<String>) {
        part.walk(&mut |path: &[ASTNode]| {
            match path.last() {
                Some(ASTNode::Expr(expr)) => {
                    if let Expr::DynamicConstant(value, _) = expr {
                        if let Some(pointer) = value.read_lock::<FnPtr>() {
                            if pointer.is_anonymous() {
                                closures.insert(pointer.fn_name().to_owned());
                            }
                        }
                    }
                    self.expr(expr, in_function);
                }
                Some(ASTNode::Stmt(stmt)) => self.stmt(stmt, in_function),
                _ => {}
            }
            true
        });
    }

    fn expr(&mut self, expr: &Expr, in_function: bool) {
        match expr {
            Expr::FnCall(call, position) => self.call(call, *position, false, in_function),
            Expr::MethodCall(call, position) => self.call(call, *position, true, in_function),
            Expr::Map(map, _) => self
                .keys
                .extend(map.0.iter().map(|(key, _)| key.name.to_string())),
            Expr::DynamicConstant(value, _) => keys_in(value, &mut self.keys),
            Expr::Property(property, _) => {
                self.keys.insert(property.2.to_string());
            }
            Expr::Index(index, ..) => {
                if let Expr::StringConstant(key, _) = &index.rhs {
                    self.keys.insert(key.to_string());
                }
            }
            _ => {}
        }
    }

    fn stmt(&mut self, stmt: &Stmt, in_function: bool) {
        match stmt {
            Stmt::FnCall(call, position) => self.call(call, *position, false, in_function),
            Stmt::Var(var, ..) => {
                self.variables.insert(var.0.name.to_string());
            }
            Stmt::For(for_loop, _) => {
                self.variables.insert(for_loop.0.name.to_string());
                if let Some(counter) = &for_loop.1 {
                    self.variables.insert(counter.name.to_string());
                }
            }
            Stmt::Import(import, _) if !import.1.name.is_empty() => {
                let path = match &import.0 {
                    Expr::StringConstant(path, _) => Some(path.to_string()),
                    _ => None,
                };
                self.imports.push(Import {
                    alias: import.1.name.to_string(),
                    path,
                });
            }
            Stmt::Assignment(assignment) => {
                let (_, target) = &**assignment;
                if has_computed_key(&target.lhs) && is_function_pointer(&target.rhs) {
                    self.hidden_methods = true;
                }
            }
            _ => {}
        }
    }

    fn call(&mut self, call: &FnCallExpr, position: Position, method: bool, in_function: bool) {
        // Operators are calls too (`a + b`), answered by Rhai's built-ins.
        if call.is_operator_call() || !is_identifier(&call.name) {
            return;
        }
        let form = match call.namespace.path.as_slice() {
            [] if method => Form::Method,
            [] => Form::Function,
            [alias] => Form::Qualified {
                alias: alias.name.to_string(),
                alias_at: alias.pos,
            },
            // A module inside a module: its functions are known only at run time.
            _ => return,
        };
        self.calls.push(Call {
            form,
            name: call.name.to_string(),
            args: call.args.len(),
            position,
            in_function,
        });
    }
}

/// The keys of a map constant (the optimiser folds map literals into constants),
/// nested maps and arrays included.
fn keys_in(value: &Dynamic, keys: &mut BTreeSet<String>) {
    if let Some(map) = value.read_lock::<rhai::Map>() {
        for (key, inner) in map.iter() {
            keys.insert(key.to_string());
            keys_in(inner, keys);
        }
    } else if let Some(array) = value.read_lock::<rhai::Array>() {
        for inner in array.iter() {
            keys_in(inner, keys);
        }
    }
}

/// Whether an assignment target indexes with a key computed at run time (`m[name] = …`).
fn has_computed_key(target: &Expr) -> bool {
    match target {
        Expr::Index(index, ..) => {
            !matches!(
                index.rhs,
                Expr::StringConstant(..) | Expr::IntegerConstant(..)
            ) || has_computed_key(&index.lhs)
        }
        Expr::Dot(dot, ..) => has_computed_key(&dot.lhs) || has_computed_key(&dot.rhs),
        _ => false,
    }
}

/// Whether `value` is written as a function pointer: a closure, `Fn(…)` or a curry.
fn is_function_pointer(value: &Expr) -> bool {
    match value {
        Expr::DynamicConstant(value, _) => value.is_fnptr(),
        Expr::FnCall(call, _) | Expr::MethodCall(call, _) => {
            matches!(call.name.as_str(), "Fn" | "curry")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Facts {
        facts(&rhai::Engine::new().compile(text).unwrap())
    }

    #[test]
    fn calls_are_read_with_their_form_and_place() {
        let facts = read(
            "import \"cutover/powerstore\" as ps;\n\
             let array = powerstore(\"array1\");\n\
             let s = array.import_session(\"x\");\n\
             fn wave(a) { ps::wait_ready(a) }\n\
             let n = 1 + 2;\n",
        );
        type Seen<'a> = (Form, &'a str, usize, (usize, usize), bool);
        let calls: Vec<Seen> = facts
            .calls
            .iter()
            .map(|c| {
                let place = (c.position.line().unwrap(), c.position.position().unwrap());
                (
                    c.form.clone(),
                    c.name.as_str(),
                    c.args,
                    place,
                    c.in_function,
                )
            })
            .collect();
        assert_eq!(
            calls,
            [
                (Form::Function, "powerstore", 1, (2, 13), false),
                (Form::Method, "import_session", 1, (3, 15), false),
                (
                    Form::Qualified {
                        alias: "ps".into(),
                        alias_at: Position::new(4, 14)
                    },
                    "wait_ready",
                    1,
                    (4, 18),
                    true
                ),
            ]
        );
        assert_eq!(facts.functions.get("wave").unwrap().len(), 1);
        assert_eq!(
            facts.imports,
            [Import {
                alias: "ps".into(),
                path: Some("cutover/powerstore".into())
            }]
        );
        assert!(facts.variables.contains("array") && facts.variables.contains("a"));
        assert!(!facts.module_shaped);
        assert!(read("import \"x\" as x;\nconst A = 1;\nfn f() { g() }").module_shaped);
        assert!(!read("let s = powerstore(\"a\");\nfn f() { g() }").module_shaped);
    }

    #[test]
    fn closures_the_top_level_makes_are_top_level_and_those_functions_make_are_not() {
        let facts = read(
            "retry(|| first());
             fn later() { retry(|| second()); third() }
             let f = |x| { let g = || fourth(); g };",
        );
        let mut deferred: Vec<(&str, bool)> = facts
            .calls
            .iter()
            .filter(|c| c.name != "retry")
            .map(|c| (c.name.as_str(), c.in_function))
            .collect();
        deferred.sort();
        assert_eq!(
            deferred,
            [
                ("first", false),
                ("fourth", false),
                ("second", true),
                ("third", true)
            ]
        );
    }

    #[test]
    fn map_keys_and_properties_are_method_names_maps_may_answer() {
        let facts = read(
            "let m = #{ greet: |x| x, n: 1 };\nlet c = #{ fixed: 1 };\nm.other = 2;\nm[\"third\"] = 3;\nprint(m.n);",
        );
        for key in ["greet", "n", "fixed", "other", "third"] {
            assert!(facts.keys.contains(key), "{key}: {:?}", facts.keys);
        }
        assert!(!facts.hidden_methods);
        assert!(read("let m = #{}; let k = \"a\"; m[k] = |x| x;").hidden_methods);
        assert!(!read("let m = #{}; let k = \"a\"; m[k] = 1 + 2;").hidden_methods);
    }
}
