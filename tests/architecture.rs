//! The import graph of every module folder of `src/` is a layered order: no file of a folder
//! imports, directly or through other files of the folder, a file that imports it back
//! (`docs/architecture.md`). Each folder's graph is built from the paths its files name
//! (`use super::x`, `crate::<folder>::x`, `self::x` in `mod.rs`, in `use` lines and in code);
//! comments and `#[cfg(test)]` modules are left out. A name the folder's `mod.rs` re-exports
//! counts as the file it comes from; an item defined in `mod.rs` itself as `mod.rs`. The crate
//! root (`src/`) is a folder too, its files being the top-level modules.
//!
//! `cargo test --test architecture` names every circle found.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Circles known today in folders outside the claims' restructure, each `folder: a -> b -> a`
/// (a mod file that dispatches to its children while they use items it defines counts). Their
/// owners remove them; a circle not listed here, or one listed that is gone, fails the test.
const KNOWN: &[&str] = &[];

/// A module folder: its directory, its module path (`["claims"]`; empty for a crate root) and its
/// mod file (`mod.rs`, the folder's `<name>.rs` beside it, `lib.rs` or `main.rs`).
struct Folder {
    dir: PathBuf,
    path: Vec<String>,
    mod_file: Option<PathBuf>,
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("a folder of src/") {
        let p = e.expect("an entry").path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The module folders: `src/` (the library root), every folder below it, and the binary's.
fn folders() -> Vec<Folder> {
    let mut out = Vec::new();
    let mut stack = vec![(PathBuf::from("src"), Vec::<String>::new())];
    while let Some((dir, path)) = stack.pop() {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mod_file = if path.is_empty() && dir == Path::new("src") {
            Some(dir.join("lib.rs"))
        } else if dir.join("mod.rs").exists() {
            Some(dir.join("mod.rs"))
        } else if dir.join("main.rs").exists() {
            Some(dir.join("main.rs"))
        } else {
            Some(dir.with_file_name(format!("{name}.rs"))).filter(|p| p.exists())
        };
        for e in std::fs::read_dir(&dir).expect("folder") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                let child = p.file_name().expect("name").to_string_lossy().into_owned();
                // `src/bin/<name>/` is a crate of its own: its module paths start again.
                let sub = match (path.is_empty() && dir == Path::new("src") && child == "bin", dir.ends_with("bin")) {
                    (true, _) => None,
                    (_, true) => Some(Vec::new()),
                    _ => Some([path.clone(), vec![child]].concat()),
                };
                match sub {
                    Some(sub) => stack.push((p, sub)),
                    None => {
                        for b in std::fs::read_dir(&p).expect("src/bin").map(|e| e.expect("entry").path()) {
                            if b.is_dir() {
                                stack.push((b, Vec::new()));
                            }
                        }
                    }
                }
            }
        }
        out.push(Folder { dir, path, mod_file });
    }
    out.sort_by(|a, b| a.dir.cmp(&b.dir));
    out
}

/// The code of a file without comments and without `#[cfg(test)]` modules.
fn code(text: &str) -> String {
    let mut kept = String::new();
    for line in text.lines() {
        let line = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        kept.push_str(line);
        kept.push('\n');
    }
    let mut out = String::new();
    let mut rest = kept.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(open) = after.find('{') else { break };
        let header = &after[..open];
        if !header.contains("mod ") {
            out.push_str("#[cfg(test)]");
            rest = &after["#[cfg(test)]".len()..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = after.len();
        for (k, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths of a `use` tree or an inline path starting at `s` (after its first `::`), each a
/// list of segments; returns them and the bytes read.
fn parse_tree(s: &str) -> (Vec<Vec<String>>, usize) {
    let mut at = 0;
    let bytes: Vec<char> = s.chars().collect();
    let skip_ws = |at: &mut usize| {
        while *at < bytes.len() && bytes[*at].is_whitespace() {
            *at += 1;
        }
    };
    fn tree(b: &[char], at: &mut usize) -> Vec<Vec<String>> {
        let ws = |at: &mut usize| {
            while *at < b.len() && b[*at].is_whitespace() {
                *at += 1;
            }
        };
        ws(at);
        if *at < b.len() && b[*at] == '{' {
            *at += 1;
            let mut all = Vec::new();
            loop {
                ws(at);
                if *at >= b.len() {
                    return all;
                }
                if b[*at] == '}' {
                    *at += 1;
                    return all;
                }
                if b[*at] == ',' {
                    *at += 1;
                    continue;
                }
                let before = *at;
                all.extend(tree(b, at));
                if *at == before {
                    *at += 1;
                }
            }
        }
        let start = *at;
        while *at < b.len() && (is_ident(b[*at]) || b[*at] == '*') {
            *at += 1;
        }
        let seg: String = b[start..*at].iter().collect();
        if seg.is_empty() {
            return Vec::new();
        }
        let mut look = *at;
        ws(&mut look);
        if look + 1 < b.len() && b[look] == ':' && b[look + 1] == ':' {
            *at = look + 2;
            let rest = tree(b, at);
            if rest.is_empty() {
                return vec![vec![seg]];
            }
            return rest.into_iter().map(|r| [vec![seg.clone()], r].concat()).collect();
        }
        vec![vec![seg]]
    }
    skip_ws(&mut at);
    let paths = tree(&bytes, &mut at);
    (paths, bytes[..at.min(bytes.len())].iter().collect::<String>().len())
}

/// The absolute module paths (`crate::`-relative segments) a file at module path `me` names.
fn references(text: &str, me: &[String], is_mod_file: bool) -> Vec<Vec<String>> {
    let code = code(text);
    let mut out = Vec::new();
    let mut rest = code.as_str();
    let mut offset_base = 0usize;
    let full = code.as_str();
    while let Some(found) = ["crate::", "super::", "self::"]
        .iter()
        .filter_map(|p| rest.find(p).map(|at| (at, *p)))
        .min_by_key(|(at, _)| *at)
    {
        let (at, prefix) = found;
        let abs = offset_base + at;
        let before = full[..abs].chars().next_back();
        let after_prefix = &rest[at + prefix.len()..];
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            rest = after_prefix;
            offset_base = abs + prefix.len();
            continue;
        }
        // A re-export or declaration in a mod file is the folder's facade, not a use of a child.
        let line_start = full[..abs].rfind('\n').map_or(0, |k| k + 1);
        let line = full[line_start..abs].trim();
        let facade = is_mod_file && (line.starts_with("pub use") || line.starts_with("pub(crate) use"));
        let (paths, read) = parse_tree(after_prefix);
        if !facade {
            for p in paths {
                let mut base: Vec<String> = match prefix {
                    "crate::" => Vec::new(),
                    "self::" => me.to_vec(),
                    _ => {
                        // `super::` of a mod file is the parent of its folder; of a file, its folder.
                        let mut b = me.to_vec();
                        b.pop();
                        b
                    }
                };
                let mut segs = p.into_iter().peekable();
                while segs.peek().is_some_and(|s| s == "super") {
                    segs.next();
                    base.pop();
                }
                base.extend(segs);
                out.push(base);
            }
        }
        rest = &after_prefix[read.min(after_prefix.len())..];
        offset_base = abs + prefix.len() + read.min(after_prefix.len());
    }
    out
}

/// `pub use child::{A, B}` lines of a mod file: re-exported name -> the child it comes from.
fn reexports(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for stmt in code(text).split(';') {
        let s = stmt.trim();
        let Some(tree) = s.strip_prefix("pub use ").or_else(|| s.strip_prefix("pub(crate) use ")) else { continue };
        let (paths, _) = parse_tree(tree);
        for p in paths {
            if p.len() >= 2 && !["crate", "super", "self"].contains(&p[0].as_str()) {
                out.insert(p.last().expect("a name").clone(), p[0].clone());
            }
        }
    }
    out
}

/// The graph of one folder: node -> the nodes it names.
fn graph(f: &Folder) -> BTreeMap<String, BTreeSet<String>> {
    let mut nodes: BTreeMap<String, Vec<(PathBuf, Vec<String>, bool)>> = BTreeMap::new();
    for e in std::fs::read_dir(&f.dir).expect("folder") {
        let p = e.expect("entry").path();
        let stem = p.file_stem().expect("name").to_string_lossy().into_owned();
        let skipped = Some(&p) == f.mod_file.as_ref()
            || (["mod", "lib", "main"].contains(&stem.as_str()) && p.is_file())
            || (f.dir == Path::new("src") && stem == "bin");
        if skipped {
            continue;
        }
        if p.is_dir() {
            let files = rust_files(&p);
            let entry = nodes.entry(stem.clone()).or_default();
            for file in files {
                let rel: Vec<String> = file
                    .strip_prefix(&f.dir)
                    .expect("inside")
                    .with_extension("")
                    .iter()
                    .map(|s| s.to_string_lossy().into_owned())
                    .collect();
                let is_mod = rel.last().is_some_and(|s| s == "mod");
                let mut me: Vec<String> = f.path.iter().cloned().chain(rel).collect();
                if is_mod {
                    me.pop();
                }
                entry.push((file, me, is_mod));
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            let me: Vec<String> = f.path.iter().cloned().chain([stem.clone()]).collect();
            nodes.entry(stem).or_default().push((p, me, false));
        }
    }
    let mod_text = f.mod_file.as_ref().map(|m| std::fs::read_to_string(m).expect("mod file")).unwrap_or_default();
    let re = reexports(&mod_text);
    let names: BTreeSet<String> = nodes.keys().cloned().collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = names.iter().map(|n| (n.clone(), BTreeSet::new())).collect();
    let mod_node =
        f.mod_file.as_ref().and_then(|m| m.file_name()).map_or("mod.rs".into(), |n| n.to_string_lossy().into_owned());
    let resolve = |abs: &[String]| -> Option<String> {
        let rest = abs.strip_prefix(f.path.as_slice())?;
        let first = rest.first()?;
        if names.contains(first) {
            return Some(first.clone());
        }
        if let Some(child) = re.get(first) {
            return names.contains(child).then(|| child.clone());
        }
        (f.mod_file.is_some() && first.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && first != "*")
            .then(|| mod_node.clone())
    };
    for (node, files) in &nodes {
        for (file, me, is_mod) in files {
            let text = std::fs::read_to_string(file).expect("source");
            for abs in references(&text, me, *is_mod) {
                if let Some(to) = resolve(&abs)
                    && &to != node
                {
                    g.get_mut(node).expect("node").insert(to);
                }
            }
        }
    }
    if f.mod_file.is_some() {
        // A mod file's module path is the folder's (`src/train.rs` beside `src/train/` too).
        let me = f.path.clone();
        let mut edges: BTreeSet<String> =
            references(&mod_text, &me, true).iter().filter_map(|a| resolve(a)).filter(|t| *t != mod_node).collect();
        // A mod file also names its children without a prefix (`convex::main(a)`).
        for line in code(&mod_text).lines().map(str::trim) {
            if line.starts_with("pub use") || line.starts_with("pub(crate) use") {
                continue;
            }
            for child in &names {
                let pat = format!("{child}::");
                let bare = line
                    .match_indices(&pat)
                    .any(|(at, _)| !line[..at].chars().next_back().is_some_and(|c| is_ident(c) || c == ':'));
                if bare {
                    edges.insert(child.clone());
                }
            }
        }
        let uses_mod = g.values().any(|s| s.contains(&mod_node));
        if uses_mod || !edges.is_empty() {
            g.insert(mod_node, edges);
        }
    }
    g
}

/// Every circle of a graph: its strongly connected components of more than one node, each as a
/// path `a -> b -> ... -> a` through the component.
fn circles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    // Tarjan's algorithm.
    struct State<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        sccs: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let k = s.index.len();
        s.index.insert(v, k);
        s.low.insert(v, k);
        s.stack.push(v);
        s.on.insert(v);
        for w in s.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.g.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                visit(s, w);
                let l = s.low[w].min(s.low[v]);
                s.low.insert(v, l);
            } else if s.on.contains(w) {
                let l = s.index[w].min(s.low[v]);
                s.low.insert(v, l);
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                scc.push(w);
                if w == v {
                    break;
                }
            }
            s.sccs.push(scc);
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        sccs: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    let mut out = Vec::new();
    for scc in s.sccs.into_iter().filter(|c| c.len() > 1) {
        let members: BTreeSet<&str> = scc.iter().copied().collect();
        // A shortest circle through the smallest member, by breadth-first search inside the component.
        let start = *members.iter().next().expect("non-empty");
        let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut end = None;
        while let Some(v) = queue.pop_front() {
            for w in g[v].iter().map(String::as_str).filter(|w| members.contains(w)) {
                if w == start {
                    end = Some(v);
                    break;
                }
                if !prev.contains_key(w) {
                    prev.insert(w, v);
                    queue.push_back(w);
                }
            }
            if end.is_some() {
                break;
            }
        }
        let mut path = vec![start];
        let mut v = end.expect("a circle");
        while v != start {
            path.push(v);
            v = prev[v];
        }
        path[1..].reverse();
        path.push(start);
        let others: Vec<&str> = members.iter().copied().filter(|m| !path.contains(m)).collect();
        let mut line = path.join(" -> ");
        if !others.is_empty() {
            line.push_str(&format!(" (with {} in the same circle)", others.join(", ")));
        }
        out.push(line);
    }
    out.sort();
    out
}

#[test]
fn no_module_folder_has_an_import_circle() {
    let mut found = Vec::new();
    for f in folders() {
        for c in circles(&graph(&f)) {
            found.push(format!("{}: {c}", f.dir.display()));
        }
    }
    let known: Vec<String> = KNOWN.iter().map(|s| s.to_string()).collect();
    let new: Vec<&String> = found.iter().filter(|c| !known.contains(c)).collect();
    let gone: Vec<&String> = known.iter().filter(|c| !found.contains(c)).collect();
    assert!(new.is_empty(), "import circles (a file imports, through the others, a file that imports it):\n{}", {
        new.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n")
    });
    assert!(gone.is_empty(), "known circles no longer found (remove them from KNOWN): {gone:?}");
}

/// The parser on hand-written code: grouped `use` trees, inline paths, `super::super`, paths in
/// comments and test modules left out, re-exports of a mod file.
#[test]
fn references_are_read_from_use_trees_and_code() {
    let text = "use super::{a::X, b};\nuse crate::claims::c::{self, D};\n// super::e::f\nfn g() { super::h::i(); }\n\
                #[cfg(test)]\nmod tests {\n    use super::z::*;\n}\n";
    let me = vec!["claims".to_string(), "k".to_string()];
    let refs = references(text, &me, false);
    let firsts: Vec<String> = refs.iter().map(|r| r.join("::")).collect();
    assert_eq!(firsts, ["claims::a::X", "claims::b", "claims::c::self", "claims::c::D", "claims::h::i"], "{refs:?}");
    let deep = references("use super::super::verdict::Verdict;", &me, false);
    assert_eq!(deep, [vec!["verdict".to_string(), "Verdict".to_string()]]);
    let re = reexports("pub mod a;\npub use a::{X, Y};\npub use crate::verdict::Verdict;\n");
    assert_eq!(re, BTreeMap::from([("X".to_string(), "a".to_string()), ("Y".to_string(), "a".to_string())]));
    let g = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
        ("d".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(circles(&g), ["a -> b -> c -> a"]);
}

/// The README's layout table names every top-level module of `src/` (a file `x.rs` or a folder
/// `x/`, the binary's folder `src/bin/adamgap/` included), so a newcomer's map is complete.
#[test]
fn the_readme_layout_names_every_top_level_module() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let layout = readme.split("## Layout").nth(1).expect("a Layout section");
    let mut missing = Vec::new();
    for e in std::fs::read_dir("src").expect("src") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        let named = match (p.is_dir(), name.as_str()) {
            (true, "bin") => "`src/bin/adamgap/".to_string(),
            // A folder is named by itself or by a file in it (`src/train/lazy.rs`).
            (true, _) => format!("`src/{name}/"),
            (false, "lib.rs") => continue,
            (false, _) if name.ends_with(".rs") => format!("`src/{name}`"),
            _ => continue,
        };
        if !layout.contains(&named) {
            missing.push(named);
        }
    }
    missing.sort();
    assert!(missing.is_empty(), "README.md's layout table does not name {missing:?}");
}
