//! `qda_mode=demo`: the accel and legacy nodes, what QUERY says, and a
//! few `qdactl` commands, for a person watching the console.

use crate::suites::legacy;

/// Shows the nodes and runs the demo's `qdactl` commands.
pub fn run() {
    println!("== qda demo ==");
    match qda::Device::paths() {
        Ok(p) => {
            println!("$ ls {}", qda::ACCEL_DIR);
            for p in &p {
                println!("{}", p.display());
            }
        }
        Err(e) => println!("cannot list {}: {e}", qda::ACCEL_DIR),
    }
    // The legacy nodes of the same DSPs (the fastrpc.ko UAPI).
    println!("$ ls /dev/fastrpc-*");
    for n in legacy::nodes::node_names() {
        println!("/dev/{n}");
    }
    match qda::Device::all() {
        Ok(devs) => {
            for d in devs {
                match d.query() {
                    Ok(q) => println!(
                        "{}: QUERY -> dsp_name={:?} capabilities={:#x}",
                        d.path().display(),
                        q.name(),
                        q.capabilities()
                    ),
                    Err(e) => println!("{}: QUERY failed: {e}", d.path().display()),
                }
            }
        }
        Err(e) => println!("opening accel nodes failed: {e}"),
    }
    for args in [
        &["list"][..],
        &["info", "cdsp"][..],
        &["alloc", "adsp", "100000", "cma"][..],
        &["alloc", "cdsp", "8192", "carveout"][..],
        &["calc", "cdsp", "sum", "1", "2", "3", "4"][..],
        &["calc", "adsp", "max", "-7", "42", "5"][..],
        &["invoke", "cdsp", "null", "2"][..],
    ] {
        println!("$ qdactl {}", args.join(" "));
        if let Err(e) = std::process::Command::new("/bin/qdactl")
            .args(args)
            .status()
        {
            println!("running /bin/qdactl failed: {e}");
        }
    }
    println!("== end of demo ==");
}
