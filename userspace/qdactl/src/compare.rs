//! `qdactl compare`: qda against `drivers/misc/fastrpc.c` on the same
//! simulated DSP, in the same boot (qda drives adsp, fastrpc.ko cdsp).
//! Compare the ratios, not the absolute figures.

use std::io;

use crate::bench::time;
use fastrpc_ko::Legacy;
use qda::{
    rpc::{open_module_with, scalars, Arg},
    Device,
};

const NULL_URI: &str = "null";
const COPY_URI: &str = "copy";

/// Something that can invoke remote methods.
trait Remote {
    fn call(&self, handle: u32, sc: u32, args: &mut [Arg]) -> io::Result<i32>;

    fn open(&self, uri: &str) -> io::Result<u32> {
        open_module_with(|h, sc, args| self.call(h, sc, args), uri)
    }
}

impl Remote for Legacy {
    fn call(&self, handle: u32, sc: u32, args: &mut [Arg]) -> io::Result<i32> {
        self.invoke(handle, sc, args)
    }
}

impl Remote for Device {
    fn call(&self, handle: u32, sc: u32, args: &mut [Arg]) -> io::Result<i32> {
        self.invoke(handle, sc, args)
    }
}

fn null_rate(r: &dyn Remote, n: u32) -> io::Result<f64> {
    let h = r.open(NULL_URI)?;
    let d = time(n, || r.call(h, scalars(2, 0, 0), &mut []).map(|_| ()))?;
    Ok(1.0 / d.as_secs_f64())
}

fn copy_mbs(r: &dyn Remote, size: usize, n: u32) -> io::Result<f64> {
    let h = r.open(COPY_URI)?;
    let src = vec![0x5au8; size];
    let mut dst = vec![0u8; size];
    let d = time(n, || {
        let mut args = [Arg::input(&src), Arg::output(&mut dst)];
        r.call(h, scalars(2, 1, 1), &mut args).map(|_| ())
    })?;
    Ok(size as f64 / d.as_secs_f64() / 1e6)
}

/// Prints the comparison table.
pub fn run(n: u32) -> io::Result<()> {
    let up = Legacy::open("cdsp")?;
    up.attach()?;
    let qda = Device::by_name("adsp")?;
    qda.attach()?;
    println!("qda vs drivers/misc/fastrpc.c on the same simulated DSP ({n} calls per row)");
    let row = |what: &str, a: f64, b: f64, unit: &str| {
        println!(
            "{what:<28} qda {a:>9.1} {unit:<6} fastrpc {b:>9.1} {unit:<6} qda/fastrpc {:>5.2}x",
            a / b
        );
    };
    row(
        "null invoke",
        null_rate(&qda, n)?,
        null_rate(&up, n)?,
        "ops/s",
    );
    for size in [4usize << 10, 64 << 10, 1 << 20] {
        let m = (n / (1 + (size as u32 >> 14))).max(4);
        row(
            &format!("copy {} KiB inline", size >> 10),
            copy_mbs(&qda, size, m)?,
            copy_mbs(&up, size, m)?,
            "MB/s",
        );
    }
    Ok(())
}
