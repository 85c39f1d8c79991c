//! `qda`: command-line view of the qda accel nodes.
//!
//! ```text
//! qda list            one line per DSP: node, name, capabilities
//! qda info NAME       details of one DSP (by DT label, e.g. cdsp)
//! ```

use std::process::ExitCode;

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

fn info(name: &str) -> std::io::Result<()> {
    let d = qda::Device::by_name(name)?;
    let q = d.query()?;
    println!("node:         {}", d.path().display());
    println!("driver:       {}", d.driver_name()?);
    println!("dsp:          {}", q.name());
    println!("capabilities: {:#010x}", q.capabilities());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["list"] => list(),
        ["info", name] => info(name),
        _ => {
            eprintln!("usage: qda [list | info NAME]");
            return ExitCode::from(2);
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qda: {e}");
            ExitCode::FAILURE
        }
    }
}
