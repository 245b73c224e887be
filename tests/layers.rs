//! The crate's layers point one way, read from the sources themselves: `core` (the pure
//! domain) imports neither `crm`, `capture`, `protocol` nor the shell; `crm` does not read the
//! panel's view model; `capture` knows no CRM; and no two modules import each other, directly
//! or through others (a module and its own parent excepted: `mod.rs` declares its children).
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`core::engine`) → the source of that module without its test module.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src is readable").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).expect("under src").with_extension("");
        let mut parts: Vec<String> =
            rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        if parts.first().is_some_and(|p| p == "bin") || parts.last().is_some_and(|p| p == "tests") {
            continue; // the command-line harness sits above every layer; test-only files
        }
        if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
            parts.pop();
        }
        let text = std::fs::read_to_string(&f).expect("readable source");
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("").to_string();
        out.insert(parts.join("::"), code);
    }
    out
}

/// The modules `code` (the module `name`) refers to, resolved to the known module names.
fn deps(name: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let parent: Vec<&str> = name.split("::").collect();
    let mut paths = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        paths.push(path_at(&code[i + "crate::".len()..]));
    }
    for (i, _) in code.match_indices("super::") {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // super::super:: is read from the first
        }
        let mut rest = &code[i..];
        let mut base = parent[..parent.len().saturating_sub(1)].to_vec();
        while let Some(r) = rest.strip_prefix("super::") {
            rest = r;
            if rest.starts_with("super::") {
                base.pop();
            }
        }
        let tail = path_at(rest);
        paths.push(if base.is_empty() { tail } else { format!("{}::{tail}", base.join("::")) });
    }
    let mut out = BTreeSet::new();
    for p in paths {
        let segs: Vec<&str> = p.split("::").collect();
        let found =
            (1..=segs.len()).rev().map(|n| segs[..n].join("::")).find(|c| known.contains(c));
        if let Some(m) = found.filter(|m| m != name) {
            out.insert(m);
        }
    }
    out
}

fn path_at(s: &str) -> String {
    s.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect::<String>()
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules();
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    mods.iter().map(|(m, code)| (m.clone(), deps(m, code, &known))).collect()
}

fn layer(m: &str) -> &str {
    m.split("::").next().unwrap_or("")
}

#[test]
fn layers_point_one_way() {
    let g = graph();
    assert!(g.contains_key("core::engine") && g.contains_key("crm::zoho"), "modules were read");
    let mut wrong = Vec::new();
    for (m, ds) in &g {
        for d in ds {
            let bad = match (layer(m), layer(d)) {
                ("core", "crm" | "capture" | "protocol" | "web") => true,
                ("crm", "capture" | "protocol" | "web") => true,
                ("crm", "core") => d == "core::view",
                ("capture", "crm" | "protocol" | "web") => true,
                ("protocol", "web") => true,
                _ => false,
            };
            if bad {
                wrong.push(format!("{m} -> {d}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers: {wrong:?}");
}

#[test]
fn no_import_cycles() {
    let g = graph();
    let related =
        |a: &str, b: &str| a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"));
    // Depth-first search for a path back to the start, parent/child edges left out.
    let mut cycles = Vec::new();
    for start in g.keys() {
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in g.get(&at).into_iter().flatten() {
                if related(&at, next) {
                    continue;
                }
                if next == start {
                    cycles.push(path.join(" -> ") + " -> " + start);
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:?}");
}

#[test]
fn the_reader_sees_edges_it_must_refuse() {
    // The checker itself: a core module naming crm is an edge it reports.
    let known: BTreeSet<String> =
        ["core::outbox", "crm::zoho", "crm"].iter().map(|s| s.to_string()).collect();
    let d = deps(
        "core::outbox",
        "use crate::crm::zoho::Zoho; fn f() { super::super::crm::x(); }",
        &known,
    );
    assert!(d.contains("crm::zoho"));
}
