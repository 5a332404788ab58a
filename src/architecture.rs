//! The layering the code promises (docs/design.md), checked on the source: no module imports
//! one that imports it back — neither between two files nor between two top-level modules —
//! and the domain imports nothing of golive outside itself. A change that breaks it fails here
//! with the loop it made, instead of being found in review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every module of the crate by its path (`engine::writer`), with its source.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("src/ is readable").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut modules = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&root).expect("under src/").with_extension("");
        let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        if parts == ["lib"] || parts == ["main"] {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("a source file is readable");
        // A module's own unit tests may reach anywhere.
        let source = source.split("#[cfg(test)]").next().unwrap_or_default().to_string();
        modules.insert(parts.join("::"), source);
    }
    modules
}

/// The module a path names: its longest prefix that is a module.
fn resolve<'a>(modules: &'a BTreeMap<String, String>, path: &[&str]) -> Option<&'a String> {
    (1..=path.len()).rev().find_map(|n| modules.get_key_value(&path[..n].join("::")).map(|(k, _)| k))
}

/// Which module imports which, for the modules cut to their first `depth` segments.
fn imports(depth: usize) -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let cut = |m: &str| m.split("::").take(depth).collect::<Vec<_>>().join("::");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, source) in &modules {
        let parent: Vec<&str> = module.split("::").collect();
        let parent = &parent[..parent.len() - 1];
        let mut targets = Vec::new();
        for (prefix, base) in [("crate::", Vec::new()), ("super::", parent.to_vec())] {
            for (at, _) in source.match_indices(prefix) {
                let preceded = source[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
                if preceded {
                    continue;
                }
                let rest = &source[at + prefix.len()..];
                let path: Vec<&str> = rest
                    .split("::")
                    .map(|seg| seg.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or(""))
                    .take_while(|seg| {
                        !seg.is_empty() && seg.chars().all(|c| c.is_lowercase() || c.is_ascii_digit() || c == '_')
                    })
                    .collect();
                let full: Vec<&str> = base.iter().copied().chain(path).collect();
                if let Some(target) = resolve(&modules, &full) {
                    targets.push(target.clone());
                }
            }
        }
        let from = cut(module);
        for target in targets {
            let to = cut(&target);
            let nested = to.starts_with(&format!("{from}::")) || from.starts_with(&format!("{to}::"));
            if to != from && !nested {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    graph
}

/// A loop in the import graph, if there is one: the modules around it.
fn a_loop(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    let graph = imports(usize::MAX);
    assert!(graph.len() > 20, "the walk found the modules: {:?}", graph.keys().collect::<Vec<_>>());
    if let Some(cycle) = a_loop(&graph) {
        panic!("an import loop between files: {}", cycle.join(" → "));
    }
}

#[test]
fn no_top_level_module_imports_one_that_imports_it_back() {
    let graph = imports(1);
    assert!(graph.contains_key("engine") && graph["engine"].contains("store"), "{graph:?}");
    if let Some(cycle) = a_loop(&graph) {
        panic!("an import loop between layers: {}", cycle.join(" → "));
    }
}

#[test]
fn the_domain_imports_nothing_of_golive_outside_itself() {
    let graph = imports(1);
    assert_eq!(graph.get("domain"), None, "the domain must stay pure");
}

#[test]
fn a_loop_is_found_and_named() {
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")].into_iter().fold(BTreeMap::new(), |mut g, (from, to)| {
            g.entry(from.to_string()).or_insert_with(BTreeSet::new).insert(to.to_string());
            g
        });
    assert_eq!(a_loop(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a".to_string(), BTreeSet::from(["b".to_string()]))].into_iter().collect();
    assert_eq!(a_loop(&graph), None);
}
