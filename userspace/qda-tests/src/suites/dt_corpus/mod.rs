//! The `qda_dt_corpus` KTAP suite (`qda_mode=corpus`): every FastRPC node
//! of Linux 7.3's qcom trees probed and exercised through qda and through
//! fastrpc.ko ([`corpus`]), one case per node of each SoC.

mod corpus;

use std::path::Path;

use crate::fixtures::{
    ktap::Suite,
    upstream::{load, unload_sim},
};

/// One SoC, one case per node. Without a copy for fastrpc.ko, both
/// drivers run the nodes as they are and everything is compared; with one
/// (nodes with `qcom,vmids`), both drivers' probes of the nodes as they
/// are are compared (which legacy nodes each makes), then everything on
/// the copy.
fn soc(s: &mut Suite, g: &corpus::Group, copy: Option<&corpus::Group>) {
    let q = corpus::side(g, false, copy.is_none());
    let u = corpus::side(g, true, copy.is_none());
    let (cq, cu) = match copy {
        Some(c) => (corpus::side(c, false, true), corpus::side(c, true, true)),
        None => (Vec::new(), Vec::new()),
    };
    for (i, n) in g.nodes.iter().enumerate() {
        let name = format!("{}_{}", g.soc, n.label);
        let (qp, qs) = &q[i];
        let (_, us) = &u[i];
        let on_copy = copy.and_then(|c| c.nodes.iter().position(|m| m.label == n.label));
        s.case(&name, || match (copy, on_copy) {
            (None, _) => corpus::verdict(qp.clone(), qs, us),
            (Some(_), None) => Err(format!("{} is not in the copy for fastrpc.ko", n.path)),
            (Some(_), Some(j)) => {
                let same_nodes = if qs.nodes == us.nodes {
                    Ok(())
                } else if let Some(why) = corpus::probe_divergence(n, qs, us) {
                    println!("    # {name}: {why}");
                    Ok(())
                } else {
                    Err(format!(
                        "as in the board's tree: legacy nodes differ: qda {:?}, fastrpc.ko {:?}",
                        qs.nodes, us.nodes
                    ))
                };
                let copy = corpus::verdict(cq[j].0.clone(), &cq[j].1, &cu[j].1)
                    .map_err(|e| format!("without qcom,vmids: {e}"));
                match (same_nodes, copy) {
                    (Ok(()), Ok(())) => Ok(()),
                    (a, b) => Err([a.err(), b.err()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join("\n")),
                }
            }
        });
    }
}

/// Runs the corpus suite and prints it as KTAP.
pub fn run() {
    let mut s = Suite::new("qda_dt_corpus");
    let all = corpus::groups(Path::new(corpus::DT));
    for m in corpus::UPSTREAM_MODULES {
        if let Err(e) = load(m, "") {
            println!("qda-corpus: {e}");
        }
    }
    let qda_groups: Vec<&corpus::Group> = all.iter().filter(|g| !g.upstream).collect();
    if qda_groups.is_empty() {
        s.case("corpus_nodes_in_the_tree", || {
            Err("no qda,corpus-group node in the device tree".into())
        });
    }
    for g in qda_groups {
        println!(
            "qda-corpus: soc {} board {} nodes {}",
            g.soc,
            g.board,
            g.nodes
                .iter()
                .map(|n| n.label.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        let copy = all.iter().find(|u| u.upstream && u.soc == g.soc);
        soc(&mut s, g, copy);
    }
    let _ = unload_sim();
    print!("{}", s.render());
}
