//! The module layering `docs/architecture.md` draws holds in the code: every top-level module
//! of `src/` imports only modules of lower layers, so no two of them import each other.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, top first, as the `text` block after the `layers` marker in the document lists
/// them: one line per layer, module names separated by spaces.
fn layers() -> Vec<Vec<String>> {
    let doc = fs::read_to_string("docs/architecture.md").expect("docs/architecture.md");
    let after = doc
        .split_once("<!-- layers -->")
        .expect("docs/architecture.md marks its layer list with <!-- layers -->")
        .1;
    let block = after
        .split_once("```text\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a ```text block follows the marker")
        .0;
    block
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|l| !l.is_empty())
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate modules a source text names: `crate::x` and each `x` of `crate::{x, y::z}`.
/// Comments are left out, so a doc link is not a dependency.
fn imports(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Only the first segment of each item counts; nested groups are skipped.
            let mut depth = 0;
            let mut item_start = true;
            let inner = group;
            for (j, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && depth == 0 && !c.is_whitespace() => {
                        found.insert(ident(&inner[j..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found.remove("");
    found
}

/// Each top-level module of `src/` and the crate modules it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix("src").expect("under src");
        let first = relative.components().next().expect("a component");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = fs::read_to_string(&file).expect("read source");
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(imports(&text).into_iter().filter(|m| *m != module));
    }
    graph
}

#[test]
fn every_module_imports_only_modules_of_lower_layers() {
    let layers = layers();
    let layer_of = |module: &str| layers.iter().position(|l| l.iter().any(|m| m == module));
    let mut problems = Vec::new();
    for (module, imported) in graph() {
        let Some(own) = layer_of(&module) else {
            problems.push(format!("{module} is in no layer of docs/architecture.md"));
            continue;
        };
        for other in imported {
            match layer_of(&other) {
                Some(layer) if layer > own => {}
                Some(_) => problems.push(format!(
                    "{module} imports {other}, which is not in a lower layer"
                )),
                None => problems.push(format!(
                    "{module} imports {other}, which is in no layer of docs/architecture.md"
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_import_reader_sees_grouped_and_nested_imports_but_not_comments() {
    let found = imports(
        "use crate::{api::state::AppState, store::{self, Store}, ids};\n\
         let x = crate::journal::Entry::new(); // crate::config\n\
         /// [`crate::notify`]\n",
    );
    let expected: BTreeSet<String> = ["api", "store", "ids", "journal"].map(String::from).into();
    assert_eq!(found, expected);
}

/// The "Adding an API" checklist of docs/architecture.md, up to the next section.
fn checklist() -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"))
            .expect("docs/architecture.md");
    let start = doc
        .find("## Adding an API")
        .expect("an \"Adding an API\" section");
    let rest = &doc[start + 3..];
    rest[..rest.find("\n## ").unwrap_or(rest.len())].to_owned()
}

#[test]
fn the_add_an_api_checklist_names_only_files_and_folders_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let checklist = checklist();
    let named: Vec<&str> = checklist
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            (s.starts_with("src/")
                || s.starts_with("tests/")
                || s.starts_with("migrations/")
                || s.starts_with("docs/"))
                && !s.contains('<')
                && !s.contains('{')
        })
        .collect();
    assert!(named.len() >= 8, "the checklist names its files: {named:?}");
    let missing: Vec<&&str> = named.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "the checklist names what does not exist: {missing:?}"
    );
}

#[test]
fn every_api_has_its_module_named_after_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for endpoint in alipay_gateway::protocol::Endpoint::ALL {
        let mut module = String::new();
        for c in endpoint.name().chars() {
            if c.is_ascii_uppercase() {
                module.push('_');
            }
            module.push(c.to_ascii_lowercase());
        }
        let path = root.join(format!("src/api/{module}.rs"));
        assert!(path.exists(), "{endpoint} is served by {}", path.display());
        assert_eq!(alipay_gateway::api::api(endpoint).spec.endpoint, endpoint);
    }
}
