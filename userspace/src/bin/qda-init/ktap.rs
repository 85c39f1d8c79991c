//! A minimal KTAP writer for the userspace test-suite.
//!
//! Output is buffered and printed in one go at the end so that kernel
//! messages cannot interleave with it mid-line.

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

    /// Runs one case, recording a panic-free outcome.
    pub fn case(&mut self, name: &str, f: impl FnOnce() -> Outcome) {
        let r = f();
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
