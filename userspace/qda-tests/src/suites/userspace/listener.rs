//! Guest tests of the library's listener ([`qda::Listener`]): a DSP
//! process loads its skels from the apps side through reverse calls.
//!
//! The skel files are stand-ins written by the test: Hexagon ELF32 headers
//! (`e_machine` 164) padded to some size; the simulated DSP checks the
//! header and binds the module it implements itself.

use std::{fs, path::PathBuf};

use qda::{
    listener::End,
    rpc::{scalars, Arg},
    Device,
};

use crate::fixtures::{
    ktap::{check, Outcome},
    wait::eventually,
};

const CALC: &str =
    "file:///libcalculator_skel.so?calculator_skel_handle_invoke&_modver=1.0&_dom=cdsp";
const MISSING: &str = "file:///libmissing_skel.so?missing_skel_handle_invoke&_modver=1.0&_dom=cdsp";

/// A stand-in skel: an ELF32 little-endian header for `machine`, `len`
/// bytes in all.
fn stand_in_elf(machine: u16, len: usize) -> Vec<u8> {
    let mut elf: Vec<u8> = (0..len).map(|i| (i % 241) as u8).collect();
    elf[..16].copy_from_slice(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
    elf[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
    elf[18..20].copy_from_slice(&machine.to_le_bytes());
    elf
}

/// A fresh library directory named after `tag`.
fn lib_dir(tag: &str) -> Result<PathBuf, String> {
    let d = std::env::temp_dir().join(format!("qda-listener-{tag}"));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    Ok(d)
}

/// A cdsp file with a user PD created on it.
fn process() -> Result<Device, String> {
    let d = Device::by_name("cdsp").map_err(|e| format!("open cdsp: {e}"))?;
    let shell: Vec<u8> = (0..16 * 1024).map(|i| (i % 251) as u8).collect();
    d.create(&shell, 0).map_err(|e| format!("create: {e}"))?;
    Ok(d)
}

/// `remotectl1` open1 (handle 8), as the FastRPC library opens a module:
/// (result, handle, dlErr, dlerror text).
fn open1(d: &Device, uri: &str) -> Result<(i32, u32, i32, String), String> {
    let mut name = uri.as_bytes().to_vec();
    name.push(0);
    let mut err = [0u8; 255];
    let prim: Vec<u8> = [name.len() as u32, err.len() as u32]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    let mut rout = [0u8; 8];
    let r = d
        .invoke(
            8,
            scalars(2, 2, 2),
            &mut [
                Arg::input(&prim),
                Arg::input(&name),
                Arg::output(&mut rout),
                Arg::output(&mut err),
            ],
        )
        .map_err(|e| format!("open1 {uri}: {e}"))?;
    let n = err.iter().position(|&c| c == 0).unwrap_or(err.len());
    Ok((
        r,
        u32::from_le_bytes(rout[..4].try_into().unwrap()),
        i32::from_le_bytes(rout[4..].try_into().unwrap()),
        String::from_utf8_lossy(&err[..n]).into_owned(),
    ))
}

/// Stops `l` and checks it ended as the DSP process exited, with
/// everything closed.
fn stopped(l: qda::Listener, min_served: u64) -> Outcome {
    let r = l.stop();
    println!(
        "# listener: {} reverse calls served, ended with {:?}",
        r.served, r.end
    );
    check!(
        matches!(r.end, End::ProcessExited),
        "listener ended with {:?}",
        r.end
    );
    check!(r.served >= min_served, "served {} reverse calls", r.served);
    check!(r.open_files == 0, "{} files left open", r.open_files);
    check!(matches!(r.exit, Ok(0)), "exit call answered {:?}", r.exit);
    Ok(())
}

pub fn a_skel_loads_from_the_library_path() -> Outcome {
    let dir = lib_dir("load")?;
    // 150 KB: more than one 64 KiB read.
    fs::write(
        dir.join("libcalculator_skel.so"),
        stand_in_elf(164, 150_000),
    )
    .map_err(|e| e.to_string())?;
    let d = process()?;
    let path = format!("{0}/none;{0}", dir.display());
    let l = d
        .start_listener(&path)
        .map_err(|e| format!("start_listener: {e}"))?;
    check!(
        l.interface_handle() == 7,
        "listener on handle {}",
        l.interface_handle()
    );
    let (r, h, dl, text) = open1(&d, CALC)?;
    check!(
        r == 0 && dl == 0 && h != 0,
        "open: result {r:#x} handle {h:#x} dlErr {dl:#x} {text:?}"
    );
    let v: Vec<i32> = (1..=100).collect();
    let sum = d.calculator_sum(h, &v).map_err(|e| e.to_string())?;
    check!(sum == 5050, "sum = {sum}");
    // A second module load reuses the apps_std handle and reads the file
    // again.
    let (r, h2, dl, text) = open1(&d, CALC)?;
    check!(r == 0 && dl == 0, "second open: {r:#x} {dl:#x} {text:?}");
    let max = d
        .calculator_max(h2, &[3, -9, 77, 12])
        .map_err(|e| e.to_string())?;
    check!(max == 77, "max = {max}");
    // open apps_std, then fopen_with_env, flen, 3 x fread, fclose per load.
    stopped(l, 1 + 2 * 6)?;
    // Firmware tears the process down on exit; whether a later call fails
    // is the simulator's business, not the listener's: only reported.
    if let Ok(s) = d.calculator_sum(h, &v) {
        println!("# note: the DSP process still answered a call after its exit (sum {s})");
    }
    Ok(())
}

pub fn a_missing_skel_fails_with_the_dlerror() -> Outcome {
    let dir = lib_dir("missing")?;
    fs::write(dir.join("libnull_skel.so"), stand_in_elf(62, 4096)).map_err(|e| e.to_string())?;
    let d = process()?;
    let l = d
        .start_listener(&dir)
        .map_err(|e| format!("start_listener: {e}"))?;
    let (r, h, dl, text) = open1(&d, MISSING)?;
    check!(
        r == 0 && dl != 0 && !text.is_empty(),
        "missing skel: result {r:#x} handle {h:#x} dlErr {dl:#x} {text:?}"
    );
    println!("# missing skel: dlErr {dl:#x}: {text}");
    // An x86-64 ELF is no Hexagon skel.
    let (r, _, dl, text) = open1(
        &d,
        "file:///libnull_skel.so?null_skel_handle_invoke&_modver=1.0",
    )?;
    check!(
        r == 0 && dl != 0 && !text.is_empty(),
        "x86-64 skel: result {r:#x} dlErr {dl:#x} {text:?}"
    );
    println!("# x86-64 skel: dlErr {dl:#x}: {text}");
    stopped(l, 2)
}

pub fn a_dsp_crash_ends_the_listener() -> Outcome {
    let dir = lib_dir("crash")?;
    fs::write(dir.join("libcalculator_skel.so"), stand_in_elf(164, 8192))
        .map_err(|e| e.to_string())?;
    let d = process()?;
    let l = d
        .start_listener(&dir)
        .map_err(|e| format!("start_listener: {e}"))?;
    let (r, h, dl, text) = open1(&d, CALC)?;
    check!(r == 0 && dl == 0, "open: {r:#x} {dl:#x} {text:?}");
    check!(
        d.calculator_sum(h, &[40, 2]).map_err(|e| e.to_string())? == 42,
        "sum before the crash"
    );
    let knob = "/sys/kernel/debug/qda_dsp_sim/cdsp";
    // Armed for the next call on a module handle: that call fails, the
    // DSP goes away with the listener's next2 pending.
    fs::write(knob, "crash").map_err(|e| format!("{knob}: {e}"))?;
    check!(
        d.calculator_sum(h, &[1]).is_err(),
        "the call that crashes the DSP succeeded"
    );
    check!(
        eventually(|| d.query().err().and_then(|e| e.raw_os_error()) == Some(libc::ENODEV)),
        "the node did not go away"
    );
    // The pending next2 failed with the crash: the thread ends by itself.
    check!(
        eventually(|| l.is_finished()),
        "the listener still waits on a crashed DSP"
    );
    let r = l.stop();
    println!("# listener after the crash: {:?}, exit {:?}", r.end, r.exit);
    check!(
        matches!(&r.end, End::Os(e) if matches!(e.raw_os_error(), Some(libc::EPIPE | libc::ENODEV))),
        "listener ended with {:?}",
        r.end
    );
    check!(
        r.exit.is_err(),
        "exit on a crashed DSP answered {:?}",
        r.exit
    );
    drop(d);
    check!(
        eventually(|| Device::by_name("cdsp").is_ok()),
        "cdsp did not come back"
    );
    Ok(())
}
