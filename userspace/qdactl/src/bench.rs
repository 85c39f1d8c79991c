//! `qdactl bench`: buffer-object and PRIME rates per memory backend.
//!
//! Figures are operations per second measured in this run; compare the
//! ratios between rows, not absolute numbers across machines.

use std::{
    io,
    os::fd::AsFd,
    time::{Duration, Instant},
};

use qda::{heap, uapi, Bo, Device};

/// Runs `op` `n` times and returns the mean time per call.
pub fn time(n: u32, mut op: impl FnMut() -> io::Result<()>) -> io::Result<Duration> {
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
    let imported = Bo::import(to, fd.as_fd())?;
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
            Bo::import(&cdsp, fd.as_fd())?.info().map(|_| ())
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
            let again = Bo::import(&cdsp2, fd.as_fd())?;
            again.close()
        }),
        None,
    );
    Ok(())
}

/// Null-invoke and copy throughput rows (FastRPC).
pub fn run_rpc(iterations: u32) -> io::Result<()> {
    use qda::rpc::{scalars, Arg};
    let d = Device::by_name("cdsp")?;
    d.attach()?;
    println!("-- FastRPC (cdsp, simulated DSP answering from a worker)");
    let null = d.open_module("null")?;
    let single = time(iterations, || {
        d.invoke(null, scalars(2, 0, 0), &mut []).map(|_| ())
    });
    let base = single.as_ref().ok().copied();
    row("null invoke round trip", single, None);
    // Four threads of one process calling at once: aggregate rate.
    let threads = 4u32;
    let per_thread = (iterations / threads).max(1);
    let t = Instant::now();
    let all = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..per_thread {
                        d.invoke(null, scalars(2, 0, 0), &mut [])?;
                    }
                    Ok::<(), io::Error>(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or_else(|_| Err(io::Error::other("panic"))))
    });
    row(
        "null invoke, 4 threads (aggregate)",
        all.map(|()| t.elapsed() / (per_thread * threads)),
        base,
    );
    let copy = d.open_module("copy")?;
    println!("-- copy in -> out, MB/s of input (inline: copied through the payload; zero copy: dma-bufs)");
    for size in [4usize << 10, 64 << 10, 1 << 20, 4 << 20] {
        let n = (iterations / (1 + (size as u32 >> 16))).max(4);
        let src = vec![0x5au8; size];
        let mut dst = vec![0u8; size];
        let inline = time(n, || {
            let mut args = [Arg::input(&src), Arg::output(&mut dst)];
            d.invoke(copy, scalars(2, 1, 1), &mut args).map(|_| ())
        });
        let bin = Bo::new(&d, size as u64)?;
        let bout = Bo::new(&d, size as u64)?;
        let (min, mout) = (bin.map()?, bout.map()?);
        let zero = time(n, || {
            let mut args = [
                Arg::buffer(bin.handle(), min.as_slice()),
                Arg::buffer(bout.handle(), mout.as_slice()),
            ];
            d.invoke(copy, scalars(2, 1, 1), &mut args).map(|_| ())
        });
        let mbs = |t: &io::Result<Duration>| {
            t.as_ref()
                .map_or(0.0, |d| size as f64 / d.as_secs_f64() / 1e6)
        };
        println!(
            "{:>5} KiB: inline {:>8.1} MB/s   zero copy {:>8.1} MB/s   zero copy / inline {:>5.2}x",
            size >> 10,
            mbs(&inline),
            mbs(&zero),
            mbs(&zero) / mbs(&inline).max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}
