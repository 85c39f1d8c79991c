//! The declared divergences of the `qda_differential` suite, and the
//! comparison of the two drivers' DSP traces.
//!
//! A trace line is what the simulated DSP recorded of one message: a
//! header of space-separated fields (`h<N>` is the handle called), then
//! one ` | `-separated part per argument, of `key=value` fields. qda
//! deliberately differs from `drivers/misc/fastrpc.c` in a few ways the
//! DSP can see; each such way is declared here with a rule that rewrites
//! the lines of both drivers alike, so that what remains must be equal.
//! A rule that resolves no actual difference is stale and fails the
//! suite, so the table cannot outlive the behaviour it describes.

/// One deliberate difference from fastrpc.ko.
pub struct Divergence {
    /// Short name, reported when the rule is stale.
    pub id: &'static str,
    /// What fastrpc.c does and why qda does otherwise.
    pub reason: &'static str,
    /// How both drivers' traces are rewritten; pure.
    pub rule: Rule,
}

/// A rewrite of a trace.
pub enum Rule {
    /// Of each line on its own.
    Line(fn(&str) -> String),
    /// Of a step's whole trace (messages added or removed).
    Trace(fn(&[String]) -> Vec<String>),
}

impl Rule {
    fn apply(&self, lines: &[String]) -> Vec<String> {
        match self {
            Self::Line(f) => lines.iter().map(|l| f(l)).collect(),
            Self::Trace(f) => f(lines),
        }
    }
}

/// The table, applied in order to the traces of both drivers.
pub const DIVERGENCES: &[Divergence] = &[
    Divergence {
        id: "kernel_call_inline_placement",
        reason: "the inline buffers of kernel calls (process control, handle 1; capability \
                 query, handle 2) are placed in argument order, while fastrpc.c sorts them by \
                 the kernel addresses of its stack and slab objects; lengths, page sizes and \
                 the bytes the DSP reads are identical",
        rule: Rule::Line(kernel_call_placement),
    },
    Divergence {
        id: "inline_pv_is_dsp_address",
        reason: "qda writes the DSP address of an inline buffer's first byte into its remote \
                 arg's pv, fastrpc.c a kernel virtual address the DSP cannot use; firmware \
                 finds the bytes from the page entry and pv's offset in the page (at=), which \
                 are compared",
        rule: Rule::Line(mask_pv),
    },
    Divergence {
        id: "interrupted_call_not_restarted",
        reason: "fastrpc.c returns -ERESTARTSYS when a signal interrupts the wait for the \
                 DSP, so with SA_RESTART the syscall restarts and the DSP receives the same \
                 call again and runs the method twice; qda fails the call with EINTR and sends \
                 it once",
        rule: Rule::Trace(drop_restarted),
    },
];

/// Separator of a line's header and its arguments.
const SEP: &str = " | ";

/// Whether the header of `line` has field `field` (e.g. `h1`).
fn has_header_field(line: &str, field: &str) -> bool {
    let header = line.split(SEP).next().unwrap_or_default();
    header.split(' ').any(|f| f == field)
}

/// `line` with the values of the argument fields named in `keys`
/// replaced by `*`.
fn mask_arg_fields(line: &str, keys: &[&str]) -> String {
    let mut parts = line.split(SEP);
    let mut out = parts.next().unwrap_or_default().to_string();
    for part in parts {
        out.push_str(SEP);
        let fields: Vec<String> = part
            .split(' ')
            .map(|f| match f.split_once('=') {
                Some((k, _)) if keys.contains(&k) => format!("{k}=*"),
                _ => f.to_string(),
            })
            .collect();
        out.push_str(&fields.join(" "));
    }
    out
}

/// `kernel_call_inline_placement`: on kernel-call lines (`h1`, `h2`), the
/// placement of the arguments is not compared: `pg=` keeps only its page
/// size, `at=` is masked.
fn kernel_call_placement(line: &str) -> String {
    if has_header_field(line, "h1") || has_header_field(line, "h2") {
        mask_arg_fields(line, &["pg", "at"])
    } else {
        line.to_string()
    }
}

/// `line` with the value of `pv=` masked.
fn mask_pv(line: &str) -> String {
    mask_arg_fields(line, &["pv"])
}

/// `line`'s header without its context token (`x<N>`).
fn without_ctx(line: &str) -> String {
    let (header, args) = line.split_once(SEP).unwrap_or((line, ""));
    let header: Vec<&str> = header.split(' ').filter(|f| !is_ctx_token(f)).collect();
    format!("{}{SEP}{args}", header.join(" "))
}

fn is_ctx_token(f: &str) -> bool {
    f.strip_prefix('x')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `lines` with their context tokens numbered again by first appearance.
fn renumber_ctx(lines: &[String]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    lines
        .iter()
        .map(|l| {
            let (header, args) = l
                .split_once(SEP)
                .map_or((l.as_str(), None), |(h, a)| (h, Some(a)));
            let header: Vec<String> = header
                .split(' ')
                .map(|f| {
                    if !is_ctx_token(f) {
                        return f.to_string();
                    }
                    let n = seen.iter().position(|s| s == f).unwrap_or_else(|| {
                        seen.push(f.to_string());
                        seen.len() - 1
                    });
                    format!("x{n}")
                })
                .collect();
            match args {
                Some(a) => format!("{}{SEP}{a}", header.join(" ")),
                None => header.join(" "),
            }
        })
        .collect()
}

/// `interrupted_call_not_restarted`: a message that repeats the one
/// before it but for its context is dropped (a restarted call), and the
/// context tokens are numbered again.
fn drop_restarted(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        if out.last().is_some_and(|p| without_ctx(p) == without_ctx(l)) {
            continue;
        }
        out.push(l.clone());
    }
    if out.len() == lines.len() {
        return out;
    }
    renumber_ctx(&out)
}

/// `lines` with every rule of `table` applied.
pub fn normalise(lines: &[String], table: &[Divergence]) -> Vec<String> {
    table.iter().fold(lines.to_vec(), |l, d| d.rule.apply(&l))
}

/// Marks in `used` the rules needed to explain a difference: line rules
/// that rewrite a message whose raw lines differ between the drivers,
/// trace rules that rewrite a trace that differs.
fn mark_needed(qda: &[String], upstream: &[String], table: &[Divergence], used: &mut [bool]) {
    if qda == upstream {
        return;
    }
    for (d, used) in table.iter().zip(used.iter_mut()) {
        let changes = |v: &[String]| d.rule.apply(v) != v;
        *used |= match d.rule {
            Rule::Line(f) => qda
                .iter()
                .zip(upstream)
                .any(|(q, u)| q != u && (f(q) != *q || f(u) != *u)),
            Rule::Trace(_) => changes(qda) || changes(upstream),
        };
    }
}

/// Compares the traces of one step after normalisation: `Err` with both
/// sides' lines when they differ or a trace overflowed.
pub fn compare(
    qda: &[String],
    upstream: &[String],
    table: &[Divergence],
    used: &mut [bool],
) -> Result<(), String> {
    mark_needed(qda, upstream, table, used);
    let q = normalise(qda, table);
    let u = normalise(upstream, table);
    let overflow = |v: &[String]| v.iter().any(|l| l.starts_with("overflow"));
    let why = if overflow(&q) || overflow(&u) {
        "a trace overflowed".to_string()
    } else if q == u {
        return Ok(());
    } else {
        let at = q.iter().zip(&u).position(|(a, b)| a != b);
        match at {
            Some(i) => format!("the traces differ at message {i}"),
            None => format!("qda sent {} messages, fastrpc.ko {}", q.len(), u.len()),
        }
    };
    let mut s = format!("{why} (after the declared divergences)");
    for (side, v) in [("qda", &q), ("fastrpc.ko", &u)] {
        s.push_str(&format!("\n{side}: {} lines", v.len()));
        for l in v.iter() {
            s.push_str(&format!("\n{side}> {l}"));
        }
    }
    Err(s)
}

/// `Err` naming the rules of `table` that no difference needed.
pub fn stale(table: &[Divergence], used: &[bool]) -> Result<(), String> {
    let stale: Vec<String> = table
        .iter()
        .zip(used)
        .filter(|(_, &u)| !u)
        .map(|(d, _)| format!("{}: {}", d.id, d.reason))
        .collect();
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "declared divergences that no difference needed (remove them):\n{}",
            stale.join("\n")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    const H1_QDA: &str = "c1 t0 x3 pd0 h1 sc02010000 sz8192 | in len=100 pg=p+1000/4096 at=p+1080 d=#0123 | out len=100 pg=p+1000/4096 at=p+10e4";
    const H1_UP: &str = "c1 t0 x3 pd0 h1 sc02010000 sz8192 | in len=100 pg=p+2000/4096 at=p+2100 d=#0123 | out len=100 pg=p+2000/4096 at=p+2000";

    #[test]
    fn placement_is_masked_on_kernel_call_lines_only() {
        assert_eq!(
            kernel_call_placement(H1_QDA),
            "c1 t0 x3 pd0 h1 sc02010000 sz8192 | in len=100 pg=* at=* d=#0123 | out len=100 pg=* at=*"
        );
        let caps = "c0 t0 x0 pd0 h2 sc00010100 sz1000 | in len=4 pg=p+0/1000 at=+600 d={count=ff}";
        assert_eq!(
            kernel_call_placement(caps),
            "c0 t0 x0 pd0 h2 sc00010100 sz1000 | in len=4 pg=* at=* d={count=ff}"
        );
        let user = "c1 t0 x3 pd0 h21 sc02010000 sz8192 | in len=100 pg=p+1000/4096 at=p+1080";
        assert_eq!(kernel_call_placement(user), user);
        // `h1` must be the whole field, and only header fields count.
        let h12 = "c0 t0 x0 pd0 h12 sc00000000 sz0 | in len=4 pg=p+0/4096 at=p+0 d=h1";
        assert_eq!(kernel_call_placement(h12), h12);
        assert_eq!(kernel_call_placement("overflow 3"), "overflow 3");
    }

    #[test]
    fn equal_after_the_rules_passes_and_marks_the_rule_used() {
        let mut used = [false; 3];
        assert_eq!(
            compare(&v(&[H1_QDA]), &v(&[H1_UP]), DIVERGENCES, &mut used),
            Ok(())
        );
        assert_eq!(used, [true, false, false]);
        let e = stale(DIVERGENCES, &used).unwrap_err();
        assert!(!e.contains("kernel_call_inline_placement"), "{e}");
        assert!(e.contains("inline_pv_is_dsp_address"), "{e}");
    }

    #[test]
    fn a_rule_that_only_rewrites_equal_lines_is_stale() {
        let mut used = [false; 3];
        let same = v(&[H1_QDA]);
        assert_eq!(compare(&same, &same, DIVERGENCES, &mut used), Ok(()));
        assert_eq!(used, [false; 3]);
        assert!(stale(DIVERGENCES, &used).is_err());
    }

    #[test]
    fn a_remaining_difference_fails_with_both_sides() {
        let mut used = [false; 3];
        let q = v(&["c0 t0 x0 pd0 h21 sc02000000 sz0"]);
        let u = v(&["c0 t0 x0 pd0 h21 sc02000000 sz4096"]);
        let e = compare(&q, &u, DIVERGENCES, &mut used).unwrap_err();
        assert!(e.starts_with("the traces differ at message 0"), "{e}");
        assert!(e.contains("\nqda> c0 t0 x0 pd0 h21 sc02000000 sz0"), "{e}");
        assert!(
            e.contains("\nfastrpc.ko> c0 t0 x0 pd0 h21 sc02000000 sz4096"),
            "{e}"
        );
        assert_eq!(used, [false; 3]);
        let e = stale(DIVERGENCES, &used).unwrap_err();
        assert!(e.contains("kernel_call_inline_placement"), "{e}");
    }

    #[test]
    fn missing_messages_and_overflow_fail() {
        let mut used = [false; 3];
        let e = compare(&v(&["a", "b"]), &v(&["a"]), DIVERGENCES, &mut used).unwrap_err();
        assert!(e.starts_with("qda sent 2 messages, fastrpc.ko 1"), "{e}");
        let o = v(&["a", "overflow 2"]);
        let e = compare(&o, &o, DIVERGENCES, &mut used).unwrap_err();
        assert!(e.starts_with("a trace overflowed"), "{e}");
        assert_eq!(compare(&[], &[], DIVERGENCES, &mut used), Ok(()));
    }

    #[test]
    fn every_divergence_is_explained() {
        for d in DIVERGENCES {
            assert!(!d.id.is_empty() && d.reason.len() > 40, "{}", d.id);
            assert!(d.reason.contains("fastrpc.c"), "{}", d.id);
        }
    }

    #[test]
    fn pv_is_masked_everywhere() {
        let q = "c0 t0 x0 pd0 hm0 sc02010100 sz1000 | in len=1 pg=p+0/1000 at=+200 pv=dsp d=x00";
        let u = "c0 t0 x0 pd0 hm0 sc02010100 sz1000 | in len=1 pg=p+0/1000 at=+200 pv=other d=x00";
        assert_eq!(mask_pv(q), mask_pv(u));
        let mut used = [false; 3];
        assert_eq!(compare(&v(&[q]), &v(&[u]), DIVERGENCES, &mut used), Ok(()));
        assert_eq!(used, [false, true, false]);
    }

    #[test]
    fn a_restarted_call_is_dropped_and_contexts_renumbered() {
        let open = "c0 t0 x0 pd0 h0 sc00020200 sz1000";
        let call = |x: u32| format!("c0 t0 x{x} pd0 hm0 sc02010100 sz1000 | in len=1 d=x00");
        let close = |x: u32| format!("c0 t0 x{x} pd0 h0 sc01010200 sz1000");
        let qda = v(&[open, &call(1), &close(2)]);
        let up = v(&[open, &call(1), &call(2), &close(3)]);
        assert_eq!(drop_restarted(&up), qda);
        assert_eq!(drop_restarted(&qda), qda);
        let mut used = [false; 3];
        assert_eq!(compare(&qda, &up, DIVERGENCES, &mut used), Ok(()));
        assert_eq!(used, [false, false, true]);
        // A repeated call with other bytes is a difference.
        let other = "c0 t0 x2 pd0 hm0 sc02010100 sz1000 | in len=1 d=x01";
        let up = v(&[open, &call(1), other, &close(3)]);
        assert!(compare(&qda, &up, DIVERGENCES, &mut used).is_err());
    }
}
