//! A minimal KTAP writer for the userspace test-suite.
//!
//! Output is buffered and printed in one go at the end so that kernel
//! messages cannot interleave with it mid-line. A case or a whole suite
//! that panics is reported as failing with the panic's message, and the
//! run goes on: this is PID 1, whose death would lose the report.

use std::{
    any::Any,
    panic::{self, AssertUnwindSafe},
};

/// Result of one test case.
pub type Outcome = Result<(), String>;

/// Fails the case with a message unless `cond` holds.
macro_rules! check {
    ($cond:expr, $($fmt:tt)*) => {
        if !$cond {
            return Err(format!($($fmt)*));
        }
    };
}
pub(crate) use check;

/// A KTAP suite being collected.
pub struct Suite {
    name: &'static str,
    /// Name and outcome; `Ok(Some(why))` is a skip.
    cases: Vec<(String, Result<Option<String>, String>)>,
}

impl Suite {
    /// A new, empty suite.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            cases: Vec::new(),
        }
    }

    /// Runs one case and records its outcome; a panic fails the case.
    pub fn case(&mut self, name: &str, f: impl FnOnce() -> Outcome) {
        let r = catch(f).and_then(|r| r);
        self.cases.push((name.to_string(), r.map(|()| None)));
    }

    /// Records a case that was not run, and why.
    pub fn skip(&mut self, name: &str, why: &str) {
        self.cases
            .push((name.to_string(), Ok(Some(why.to_string()))));
    }

    /// The suite as a KTAP document with one top-level test.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("KTAP version 1\n1..1\n");
        s.push_str(&format!(
            "    KTAP version 1\n    # Subtest: {}\n",
            self.name
        ));
        s.push_str(&format!("    1..{}\n", self.cases.len()));
        let mut ok_all = true;
        for (i, (n, r)) in self.cases.iter().enumerate() {
            match r {
                Ok(None) => s.push_str(&format!("    ok {} {}\n", i + 1, n)),
                Ok(Some(why)) => s.push_str(&format!("    ok {} {} # SKIP {why}\n", i + 1, n)),
                Err(e) => {
                    ok_all = false;
                    for line in e.lines() {
                        s.push_str(&format!("    # {n}: {line}\n"));
                    }
                    s.push_str(&format!("    not ok {} {}\n", i + 1, n));
                }
            }
        }
        s.push_str(&format!(
            "{} 1 {}\n",
            if ok_all { "ok" } else { "not ok" },
            self.name
        ));
        s
    }
}

/// Runs `f`, turning a panic into `Err("panicked: <message>")`.
///
/// `f` is asserted unwind safe: after a panic nothing it touched is used
/// again but the report, which only records the failure.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| format!("panicked: {}", message(&*p)))
}

/// The text of a panic payload.
fn message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Runs suite `name` (`f` prints its KTAP); if it panics outside its
/// cases, prints a failing KTAP document for it instead.
pub fn run_suite(name: &str, f: impl FnOnce()) {
    if let Err(e) = catch(f) {
        print!("{}", failed_suite(name, &e));
    }
}

/// A KTAP document of suite `name` failing with `why`.
fn failed_suite(name: &str, why: &str) -> String {
    let mut s = String::from("KTAP version 1\n1..1\n");
    for line in why.lines() {
        s.push_str(&format!("# {name}: {line}\n"));
    }
    s.push_str(&format!("not ok 1 {name}\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_case_is_not_ok_and_the_next_case_runs() {
        let mut s = Suite::new("demo");
        s.case("boom", || panic!("kaboom {}", 7));
        let mut ran = false;
        s.case("after", || {
            ran = true;
            Ok(())
        });
        assert!(ran);
        let r = s.render();
        assert!(r.contains("    # boom: panicked: kaboom 7\n"), "{r}");
        assert!(r.contains("    not ok 1 boom\n"), "{r}");
        assert!(r.contains("    ok 2 after\n"), "{r}");
        assert!(r.ends_with("\nnot ok 1 demo\n"), "{r}");
    }

    #[test]
    fn a_panicking_suite_prints_a_failing_line() {
        assert_eq!(catch(|| 5), Ok(5));
        assert_eq!(
            catch(|| panic!("static")),
            Err::<(), _>("panicked: static".into())
        );
        let e = catch(|| std::panic::panic_any(3u8)).unwrap_err();
        assert_eq!(e, "panicked: (no message)");
        assert_eq!(
            failed_suite("qda_x", "panicked: a\nb"),
            "KTAP version 1\n1..1\n# qda_x: panicked: a\n# qda_x: b\nnot ok 1 qda_x\n"
        );
        // The suite after a panicking one still runs.
        run_suite("first", || panic!("gone"));
        let mut ran = false;
        run_suite("second", || ran = true);
        assert!(ran);
    }
}
