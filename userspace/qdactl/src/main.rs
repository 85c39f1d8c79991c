//! `qdactl`: command-line view of the qda accel nodes.
//!
//! ```text
//! qdactl list                       one line per DSP: node, name, capabilities
//! qdactl info NAME                  one DSP: node, driver, sessions, memory
//! qdactl alloc NAME SIZE [BACKEND]  allocate, map and describe a buffer
//!                                (BACKEND: coherent, cma, carveout)
//! qdactl calc NAME sum|max N...     the calculator module on the DSP
//! qdactl invoke NAME URI METHOD [TEXT]
//!                                open a module and call a method with
//!                                TEXT as its one input buffer
//! qdactl bench [ITERATIONS]         buffer, PRIME and FastRPC rates
//! qdactl compare                 qda against drivers/misc/fastrpc.c
//!                                (needs fastrpc.ko on one channel)
//!                                (bench and compare: feature `bench`)
//! qdactl daemon audiopd|sensors [NAME]
//!                                create/attach the static PD on NAME
//!                                (default adsp) and serve it
//! ```

#[cfg(feature = "bench")]
mod bench;
#[cfg(feature = "bench")]
mod compare;
mod daemon;

use std::process::ExitCode;

use qda::{uapi, Bo};

fn list() -> std::io::Result<()> {
    let devs = qda::Device::all()?;
    if devs.is_empty() {
        println!("no qda accel nodes under {}", qda::ACCEL_DIR);
    }
    for d in devs {
        let info = d.query()?;
        println!(
            "{:<20} dsp={:<6} capabilities={:#010x}",
            d.path().display(),
            info.name(),
            info.capabilities()
        );
    }
    Ok(())
}

/// Prints a debugfs file of the DSP, indented, if debugfs is mounted.
fn show_debugfs(dsp: &str, file: &str) {
    let path = format!("/sys/kernel/debug/qda/{dsp}/{file}");
    if let Ok(text) = std::fs::read_to_string(&path) {
        println!("{file}:");
        for line in text.lines() {
            println!("  {line}");
        }
    }
}

fn info(name: &str) -> std::io::Result<()> {
    let d = qda::Device::by_name(name)?;
    let q = d.query()?;
    println!("node:         {}", d.path().display());
    println!("driver:       {}", d.driver_name()?);
    println!("dsp:          {}", q.name());
    println!("capabilities: {:#010x}", q.capabilities());
    show_debugfs(name, "sessions");
    show_debugfs(name, "memory");
    Ok(())
}

fn backend(name: Option<&str>) -> Option<u32> {
    Some(match name {
        None => 0,
        Some("coherent") => uapi::QDA_MEM_DMA_COHERENT,
        Some("cma") => uapi::QDA_MEM_CMA,
        Some("carveout") => uapi::QDA_MEM_CARVEOUT,
        Some(_) => return None,
    })
}

fn backend_name(b: u32) -> &'static str {
    match b {
        uapi::QDA_MEM_DMA_COHERENT => "dma-coherent",
        uapi::QDA_MEM_CMA => "cma",
        uapi::QDA_MEM_CARVEOUT => "carve-out",
        uapi::QDA_MEM_IMPORTED => "imported",
        _ => "?",
    }
}

fn alloc(name: &str, size: u64, backend: u32) -> std::io::Result<()> {
    let d = qda::Device::by_name(name)?;
    let bo = Bo::new_in(&d, size, backend)?;
    let info = bo.info()?;
    let mut m = bo.map()?;
    m.as_mut_slice().fill(0xa5);
    println!(
        "handle {} on {}: {} bytes, backend {}, DSP address {:#x} (SID {}, IOVA {:#x}), mapped and written",
        bo.handle(),
        name,
        info.size,
        backend_name(info.backend),
        info.dsp_addr,
        info.dsp_addr >> 32,
        info.dsp_addr & 0xffff_ffff
    );
    show_debugfs(name, "memory");
    Ok(())
}

const CALCULATOR: &str = "calculator";

/// Opens `name` and attaches this process to the DSP.
fn session(name: &str) -> std::io::Result<qda::Device> {
    let d = qda::Device::by_name(name)?;
    d.attach()?;
    Ok(d)
}

fn calc(name: &str, op: &str, nums: &[&str]) -> std::io::Result<()> {
    let v: Vec<i32> = nums
        .iter()
        .map(|n| {
            n.parse()
                .map_err(|_| std::io::Error::other(format!("not a number: {n}")))
        })
        .collect::<Result<_, _>>()?;
    let d = session(name)?;
    let h = d.open_module(CALCULATOR)?;
    match op {
        "sum" => println!("sum = {}", d.calculator_sum(h, &v)?),
        "max" => println!("max = {}", d.calculator_max(h, &v)?),
        _ => return Err(std::io::Error::other("op must be sum or max")),
    }
    d.close_module(h)
}

fn invoke(name: &str, uri: &str, method: &str, input: Option<&str>) -> std::io::Result<()> {
    let method: u32 = method
        .parse()
        .map_err(|_| std::io::Error::other("bad METHOD"))?;
    let d = session(name)?;
    let h = d.open_module(uri)?;
    let bytes = input.unwrap_or("").as_bytes();
    let mut args = vec![];
    if input.is_some() {
        args.push(qda::rpc::Arg::input(bytes));
    }
    let r = d.invoke(
        h,
        qda::rpc::scalars(method, args.len() as u32, 0),
        &mut args,
    )?;
    println!("handle {h:#x} method {method}: returned {r}");
    d.close_module(h)
}

/// What `qdactl` takes (bench and compare only with feature `bench`).
const USAGE: &str = if cfg!(feature = "bench") {
    "usage: qdactl [list | info NAME | alloc NAME SIZE [coherent|cma|carveout] | \
     calc NAME sum|max N... | invoke NAME URI METHOD [TEXT] | bench [N] | \
     daemon audiopd|sensors [NAME]]"
} else {
    "usage: qdactl [list | info NAME | alloc NAME SIZE [coherent|cma|carveout] | \
     calc NAME sum|max N... | invoke NAME URI METHOD [TEXT] | \
     daemon audiopd|sensors [NAME]]"
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = match args.as_slice() {
        [] | ["list"] => list(),
        ["info", name] => info(name),
        ["alloc", name, size, rest @ ..] if rest.len() <= 1 => {
            match (size.parse::<u64>(), backend(rest.first().copied())) {
                (Ok(size), Some(b)) => alloc(name, size, b),
                _ => Err(std::io::Error::other("bad SIZE or BACKEND")),
            }
        }
        ["calc", name, op, nums @ ..] => calc(name, op, nums),
        #[cfg(feature = "bench")]
        ["compare"] => compare::run(200),
        ["daemon", pd] => daemon::run(pd, "adsp"),
        ["daemon", pd, name] => daemon::run(pd, name),
        ["invoke", name, uri, method] => invoke(name, uri, method, None),
        ["invoke", name, uri, method, text] => invoke(name, uri, method, Some(text)),
        #[cfg(feature = "bench")]
        ["bench"] => bench::run(200).and_then(|()| bench::run_rpc(200)),
        #[cfg(feature = "bench")]
        ["bench", n] => match n.parse() {
            Ok(n) if n > 0 => bench::run(n).and_then(|()| bench::run_rpc(n)),
            _ => Err(std::io::Error::other("bad ITERATIONS")),
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qdactl: {e}");
            ExitCode::FAILURE
        }
    }
}
