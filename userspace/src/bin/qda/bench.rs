//! `qda bench`: buffer-object and PRIME rates per memory backend.
//!
//! Figures are operations per second measured in this run; compare the
//! ratios between rows, not absolute numbers across machines.

use std::{
    io,
    os::fd::AsRawFd,
    time::{Duration, Instant},
};

use qda::{heap, uapi, Bo, Device};

/// Runs `op` `n` times and returns the mean time per call.
fn time(n: u32, mut op: impl FnMut() -> io::Result<()>) -> io::Result<Duration> {
    let t = Instant::now();
    for _ in 0..n {
        op()?;
    }
    Ok(t.elapsed() / n)
}

fn row(what: &str, per_op: io::Result<Duration>, base: Option<Duration>) {
    match per_op {
        Ok(d) => {
            let rate = 1.0 / d.as_secs_f64();
            let ratio = base.map_or(String::from("1.00x"), |b| {
                format!("{:.2}x", b.as_secs_f64() / d.as_secs_f64())
            });
            println!(
                "{what:<44} {rate:>10.0} ops/s {:>9.1} us/op  {ratio:>6} vs first row",
                d.as_secs_f64() * 1e6
            );
        }
        Err(e) => println!("{what:<44} {:>10} ({e})", "n/a"),
    }
}

/// create + mmap + touch every page + close, `size` bytes.
fn create_map_close(d: &Device, size: u64, backend: u32) -> io::Result<()> {
    let bo = Bo::new_in(d, size, backend)?;
    let mut m = bo.map()?;
    for p in m.as_mut_slice().chunks_mut(4096) {
        p[0] = 1;
    }
    Ok(())
}

/// export from `from`, import into `to`, close both.
fn export_import(from: &Device, to: &Device, size: u64, backend: u32) -> io::Result<()> {
    let bo = Bo::new_in(from, size, backend)?;
    let fd = bo.export()?;
    let imported = Bo::import(to, fd.as_raw_fd())?;
    imported.info()?;
    Ok(())
}

/// Prints the benchmark table.
pub fn run(iterations: u32) -> io::Result<()> {
    let adsp = Device::by_name("adsp")?;
    let cdsp = Device::by_name("cdsp")?;
    let size = 64 * 1024;
    println!(
        "qda benchmark: {iterations} iterations per row, {} KiB buffers",
        size / 1024
    );
    println!("-- GEM create + mmap + touch + close");
    let base = time(iterations, || {
        create_map_close(&cdsp, size, uapi::QDA_MEM_DMA_COHERENT)
    })
    .ok();
    row(
        "dma-coherent (cdsp)",
        base.ok_or_else(|| io::Error::other("failed")),
        None,
    );
    row(
        "cma (adsp)",
        time(iterations, || {
            create_map_close(&adsp, size, uapi::QDA_MEM_CMA)
        }),
        base,
    );
    row(
        "carve-out (cdsp)",
        time(iterations, || {
            create_map_close(&cdsp, size, uapi::QDA_MEM_CARVEOUT)
        }),
        base,
    );
    println!("-- PRIME export + import + close (cdsp -> adsp: a new mapping)");
    let base = time(iterations, || {
        export_import(&cdsp, &adsp, size, uapi::QDA_MEM_DMA_COHERENT)
    })
    .ok();
    row(
        "dma-coherent",
        base.ok_or_else(|| io::Error::other("failed")),
        None,
    );
    row(
        "cma (adsp -> cdsp)",
        time(iterations, || {
            export_import(&adsp, &cdsp, size, uapi::QDA_MEM_CMA)
        }),
        base,
    );
    row(
        "carve-out (not exportable)",
        time(1, || {
            export_import(&cdsp, &adsp, size, uapi::QDA_MEM_CARVEOUT)
        }),
        base,
    );
    row(
        "system heap dma-buf -> cdsp",
        time(iterations, || {
            let fd = heap::alloc("system", size)?;
            Bo::import(&cdsp, fd.as_raw_fd())?.info().map(|_| ())
        }),
        base,
    );
    println!("-- PRIME self-import (same process, second fd: the same object)");
    let cdsp2 = Device::by_name("cdsp")?;
    let bo = Bo::new(&cdsp, size)?;
    let fd = bo.export()?;
    row(
        "dma-coherent",
        time(iterations, || {
            let again = Bo::import(&cdsp2, fd.as_raw_fd())?;
            again.close()
        }),
        None,
    );
    Ok(())
}
