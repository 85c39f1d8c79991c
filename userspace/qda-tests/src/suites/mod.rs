//! The guest's KTAP suites, one folder each with its registry of cases in
//! `mod.rs`. A suite imports [`crate::fixtures`] and [`crate::fuzz`], never
//! another suite.

pub mod board;
pub mod differential;
pub mod dt_corpus;
pub mod fuzz;
pub mod legacy;
pub mod legacy_library;
pub mod library;
pub mod static_pd;
pub mod userspace;

#[cfg(test)]
mod tests {
    use std::{fs, path::Path};

    /// The `.rs` files under `dir`, recursively.
    fn sources(dir: &Path) -> Vec<(String, String)> {
        let mut v = Vec::new();
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                v.extend(sources(&p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                v.push((p.display().to_string(), fs::read_to_string(&p).unwrap()));
            }
        }
        v
    }

    /// The paths a file's code names that lead into `suites` from inside a
    /// suite's folder (comments aside): another suite's module, or out of
    /// the suite's own folder with `super::super`.
    fn suite_imports(text: &str) -> Vec<String> {
        text.lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .filter(|l| l.contains("crate::suites") || l.contains("super::super"))
            .map(|l| l.trim().to_string())
            .collect()
    }

    #[test]
    fn suites_import_no_other_suite() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        // Each suite's folder, and what suites may import (this file,
        // the list of suites, is neither).
        let mut dirs = vec![root.join("fixtures"), root.join("fuzz")];
        for e in fs::read_dir(root.join("suites")).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            }
        }
        assert!(dirs.len() > 2, "no suite folder under {}", root.display());
        let mut found = Vec::new();
        for dir in dirs {
            for (path, text) in sources(&dir) {
                for l in suite_imports(&text) {
                    found.push(format!("{path}: {l}"));
                }
            }
        }
        assert!(found.is_empty(), "imports across suites: {found:#?}");
    }

    #[test]
    fn a_use_of_another_suite_is_found() {
        assert_eq!(
            suite_imports("use crate::suites::legacy::nodes; // x\n// crate::suites\n"),
            ["use crate::suites::legacy::nodes;"]
        );
        assert_eq!(
            suite_imports("use super::super::legacy;"),
            ["use super::super::legacy;"]
        );
        assert!(suite_imports("use crate::fixtures::ktap;").is_empty());
    }
}
