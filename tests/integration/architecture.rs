//! The module-dependency check: reads `src/**/*.rs`, collects every `crate::<module>`
//! reference (grouped `use crate::{a, b}` and paths in code alike, and `super::` paths
//! that climb to the crate root), and fails naming the cycle if the top-level modules
//! depend on each other in a circle. It also holds the layout's one-way rules: the
//! script toolkit knows no vendor and no watcher, a vendor's client and wire types know
//! no script, and the small shared modules import nothing above them.
//!
//! Test code (`#[cfg(test)]` items, and files declared as `#[cfg(test)] mod`) may reach
//! upward, to build a whole engine or start the lab, so it is left out of the cycle
//! check; the toolkit and client rules hold for it too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The small shared modules: they may use each other and nothing else of the crate.
const SHARED: &[&str] = &["api_error", "file_gate", "suggest", "terminal_text"];

#[test]
fn top_level_modules_form_no_cycle() {
    let sources = read_sources();
    let graph = graph(&sources, false);
    if let Some(cycle) = find_cycle(&graph) {
        panic!("{}", describe_cycle(&graph, &cycle));
    }
}

#[test]
fn the_script_toolkit_knows_no_vendor_and_no_watcher() {
    let found = references(&read_sources(), |file| file.starts_with("script/"))
        .filter(|(_, module)| ["vendors", "watch"].contains(&module.as_str()))
        .map(|(file, module)| format!("src/{file} uses crate::{module}"))
        .collect::<Vec<_>>();
    assert_eq!(
        found,
        Vec::<String>::new(),
        "src/script/ is below the vendors and the watcher"
    );
}

#[test]
fn clients_and_wire_types_know_no_script() {
    let found = references(&read_sources(), is_client_or_wire)
        .filter(|(_, module)| module == "script")
        .map(|(file, module)| format!("src/{file} uses crate::{module}"))
        .collect::<Vec<_>>();
    assert_eq!(
        found,
        Vec::<String>::new(),
        "clients and wire types sit below the script layer"
    );
}

#[test]
fn shared_modules_import_nothing_above_them() {
    let graph = graph(&read_sources(), true);
    let mut found = Vec::new();
    for shared in SHARED {
        for (to, files) in graph.get(*shared).into_iter().flatten() {
            if !SHARED.contains(&to.as_str()) {
                found.push(format!("{shared} uses {to} (in src/{})", files[0]));
            }
        }
    }
    assert_eq!(
        found,
        Vec::<String>::new(),
        "the shared modules are the bottom layer"
    );
}

#[test]
fn the_check_finds_a_cycle_and_names_it() {
    let file = |text: &str| Source {
        path: "x.rs".into(),
        top: text.into(),
        code: String::new(),
        test_code: String::new(),
    };
    let mut a = file("a");
    a.code = "use crate::{b::Thing, c};".into();
    let mut b = file("b");
    b.code = "fn f() { crate::c::go() }".into();
    let mut c = file("c");
    c.code = "use crate::a::Other;".into();
    let graph = graph(&[a, b, c], false);
    let cycle = find_cycle(&graph).expect("a → b → c → a is a cycle");
    assert_eq!(
        describe_cycle(&graph, &cycle),
        "cycle between top-level modules: a → b → c → a\n  \
         a → b: src/x.rs\n  b → c: src/x.rs\n  c → a: src/x.rs"
    );
}

#[test]
fn test_code_and_comments_are_told_apart() {
    let text = "//! see crate::zeta\nuse crate::alpha;\nconst S: &str = \"crate::beta\";\n\
                #[cfg(test)]\nmod tests {\n    use crate::gamma;\n    fn f() { let c = '{'; }\n}\n\
                #[cfg(test)]\n#[path = \"x_tests.rs\"]\nmod x_tests;\nfn g() { crate::delta::h() }\n";
    let (code, test_code, test_files) = split(text);
    assert_eq!(names(&code), ["alpha", "delta"]);
    assert_eq!(names(&test_code), ["gamma"]);
    assert_eq!(
        test_files,
        [("x_tests".to_owned(), Some("x_tests.rs".to_owned()))]
    );
}

/// One source file: its path under `src/`, its top-level module, and its code with
/// comments and string contents blanked, split into code and test code.
struct Source {
    path: String,
    top: String,
    code: String,
    test_code: String,
}

/// Module name → (module it uses → the files that use it).
type Graph = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn read_sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut texts = BTreeMap::new();
    let mut test_only = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let (code, test_code, declared) = split(&text);
        for (name, path) in declared {
            let declared = module_file(file, &name, path.as_deref());
            // `#[path]` may climb with `..`; files are keyed by their canonical path.
            test_only.insert(std::fs::canonicalize(&declared).unwrap_or(declared));
        }
        texts.insert(
            std::fs::canonicalize(file).unwrap_or_else(|_| file.clone()),
            (code, test_code),
        );
    }
    // A file declared only under `#[cfg(test)]` is test code from top to bottom.
    for file in &test_only {
        assert!(
            texts.contains_key(file),
            "missing test module {}",
            file.display()
        );
    }
    texts
        .into_iter()
        .filter_map(|(file, (code, test_code))| {
            let path = file
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let top = path
                .split('/')
                .next()
                .unwrap()
                .trim_end_matches(".rs")
                .to_owned();
            if top == "lib" || top == "main" {
                return None;
            }
            let (code, test_code) = if test_only.contains(&file) {
                (String::new(), format!("{code}\n{test_code}"))
            } else {
                (code, test_code)
            };
            Some(Source {
                path,
                top,
                code,
                test_code,
            })
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file `mod name;` in `file` (with `#[path = …]` if given) is read from.
fn module_file(file: &Path, name: &str, path: Option<&str>) -> PathBuf {
    let dir = file.parent().unwrap();
    if let Some(path) = path {
        return dir.join(path);
    }
    let stem = file.file_stem().unwrap().to_string_lossy();
    let dir = if ["mod", "lib", "main"].contains(&stem.as_ref()) {
        dir.to_path_buf()
    } else {
        dir.join(&*stem)
    };
    let flat = dir.join(format!("{name}.rs"));
    if flat.exists() {
        flat
    } else {
        dir.join(name).join("mod.rs")
    }
}

/// Whether `file` (under `src/`) is a vendor's client or wire types.
fn is_client_or_wire(file: &str) -> bool {
    let Some(rest) = file.strip_prefix("vendors/") else {
        return false;
    };
    if rest.contains("/lab/") {
        return false;
    }
    let name = rest.rsplit('/').next().unwrap_or(rest);
    name == "client.rs"
        || name.ends_with("_client.rs")
        || name == "ovf_push.rs"
        || name == "wire.rs"
        || name.ends_with("_wire.rs")
}

/// Every (file, top-level module) reference in the files `pick` chooses, test code
/// included, in file order.
fn references<'a>(
    sources: &'a [Source],
    pick: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = (String, String)> + 'a {
    sources.iter().filter(move |s| pick(&s.path)).flat_map(|s| {
        let mut found = names(&s.code);
        found.extend(names(&s.test_code));
        found.sort();
        found.dedup();
        found.into_iter().map(|m| (s.path.clone(), m))
    })
}

fn graph(sources: &[Source], with_tests: bool) -> Graph {
    let modules: BTreeSet<&str> = sources.iter().map(|s| s.top.as_str()).collect();
    let mut graph = Graph::new();
    for source in sources {
        let mut used = names(&source.code);
        used.extend(super_names(&source.path, &source.code));
        if with_tests {
            used.extend(names(&source.test_code));
        }
        let edges = graph.entry(source.top.clone()).or_default();
        for module in used {
            if module != source.top && modules.contains(module.as_str()) {
                let files = edges.entry(module).or_default();
                if !files.contains(&source.path) {
                    files.push(source.path.clone());
                }
            }
        }
    }
    graph
}

/// The first cycle a depth-first walk meets, as the modules along it.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        graph: &Graph,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            if let Some(cycle) = visit(graph, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}

fn describe_cycle(graph: &Graph, cycle: &[String]) -> String {
    let mut text = format!("cycle between top-level modules: {}", cycle.join(" → "));
    for pair in cycle.windows(2) {
        let files = &graph[&pair[0]][&pair[1]];
        let files: Vec<String> = files.iter().map(|f| format!("src/{f}")).collect();
        text.push_str(&format!(
            "\n  {} → {}: {}",
            pair[0],
            pair[1],
            files.join(", ")
        ));
    }
    text
}

/// The module names after each `crate::` in `code`, including each member of a group
/// `crate::{a, b::c}`.
fn names(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        // `$crate::` in a macro, or a name ending in `crate`, is not the crate root.
        if before.is_some_and(|c| c == '$' || c == '_' || c.is_alphanumeric()) {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = closing(group);
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group[..end].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.extend(ident(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            found.extend(ident(&group[start..end]));
        } else {
            found.extend(ident(rest));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The top-level modules reached by `super::` paths that climb to the crate root from
/// the file at `path` (under `src/`).
fn super_names(path: &str, code: &str) -> Vec<String> {
    let mut parts: Vec<&str> = path.trim_end_matches(".rs").split('/').collect();
    if parts.last() == Some(&"mod") {
        parts.pop();
    }
    let depth = parts.len();
    let climb = "super::".repeat(depth);
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(&climb) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + climb.len()..];
        if before.is_some_and(|c| c == ':' || c == '_' || c.is_alphanumeric()) {
            continue;
        }
        if !rest.starts_with("super::") {
            found.extend(ident(rest));
        }
    }
    found
}

/// The identifier at the start of `text`, after blanks.
fn ident(text: &str) -> Option<String> {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(text.len());
    (end > 0 && text != "self").then(|| text[..end].to_owned())
}

/// Where the brace closing an opened one lies in `text` (or its end).
fn closing(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

/// Splits a file into its code and its `#[cfg(test)]` items, both with comments and
/// the contents of string and character literals blanked, and lists the modules it
/// declares under `#[cfg(test)]` (name, `#[path]`).
fn split(text: &str) -> (String, String, Vec<(String, Option<String>)>) {
    let blank = blank(text);
    let mut code = String::new();
    let mut tests = String::new();
    let mut declared = Vec::new();
    let mut rest = 0;
    while let Some(found) = blank[rest..].find("#[cfg(test)]") {
        let start = rest + found;
        code.push_str(&blank[rest..start]);
        let item = start + "#[cfg(test)]".len();
        // The item ends at its `;` (a `mod name;` declaration) or its closing brace.
        let semi = blank[item..].find(';').map(|i| item + i);
        let brace = blank[item..].find('{').map(|i| item + i);
        let end = match (semi, brace) {
            (Some(semi), brace) if brace.is_none_or(|b| semi < b) => {
                let declaration = &blank[item..semi];
                if let Some(name) = declaration.trim_end().rsplit(' ').next() {
                    if declaration.contains("mod ") {
                        let path = text[item..semi]
                            .split("#[path = \"")
                            .nth(1)
                            .and_then(|p| p.split('"').next())
                            .map(str::to_owned);
                        declared.push((name.to_owned(), path));
                    }
                }
                semi + 1
            }
            (_, Some(brace)) => brace + 1 + closing(&blank[brace + 1..]) + 1,
            _ => blank.len(),
        };
        let end = end.min(blank.len());
        tests.push_str(&blank[start..end]);
        tests.push('\n');
        rest = end;
    }
    code.push_str(&blank[rest..]);
    (code, tests, declared)
}

/// `text` with comments and the insides of string and character literals turned into
/// spaces (line breaks kept), so neither braces nor `crate::` in them count.
fn blank(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    // Each blanked character keeps its length in bytes, so offsets into `text` and into
    // the result agree.
    let keep = |c: char| {
        if c == '\n' {
            "\n".to_owned()
        } else {
            " ".repeat(c.len_utf8())
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push_str(&keep(chars[i]));
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push_str(&keep(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !chars[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…", r#"…"#, and so on.
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push('r');
            out.extend(std::iter::repeat_n('#', hashes));
            out.push('"');
            i += 2 + hashes;
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while i < chars.len()
                && !chars[i..]
                    .iter()
                    .take(close.len())
                    .copied()
                    .eq(close.chars())
            {
                out.push_str(&keep(chars[i]));
                i += 1;
            }
            out.push_str(&close);
            i += close.len();
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push_str(&keep(chars[i]));
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), or else a lifetime.
            let literal_end = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|c| *c == '\'')
                    .map(|p| i + 2 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match literal_end {
                Some(end) => {
                    out.push('\'');
                    chars[i + 1..end]
                        .iter()
                        .for_each(|c| out.push_str(&keep(*c)));
                    out.push('\'');
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}
