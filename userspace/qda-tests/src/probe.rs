//! `qda_mode=probe`: which DSPs registered and what each computes, for the
//! device-tree tests that boot broken or unusual trees.

use crate::suites::legacy;

/// `qda_mode=probe`: which DSPs registered (for the broken-DT tests).
pub fn run() {
    let mut names = Vec::new();
    for d in qda::Device::all().unwrap_or_default() {
        if let Ok(q) = d.query() {
            names.push(q.name().to_string());
        }
    }
    names.sort();
    println!("qda-probe: dsps={}", names.join(","));
    legacy::nodes::probe();
    for d in qda::Device::all().unwrap_or_default() {
        let name = d.query().map(|q| q.name().to_string()).unwrap_or_default();
        match carveout_roundtrip(&d) {
            Ok(true) => println!("qda-probe: carveout {name} ok"),
            Ok(false) => {}
            Err(e) => println!("qda-probe: carveout {name} failed: {e}"),
        }
        println!("qda-probe: {name} windows {}", windows(&name));
        match sums(&d) {
            Ok((inline, zero_copy, at)) => println!(
                "qda-probe: {name} sum 1..=100 inline {inline} zero-copy {zero_copy} (buffer at {at:#x})"
            ),
            Err(e) => println!("qda-probe: {name} sum failed: {e}"),
        }
    }
}

/// `sid@window` of each session slot of `dsp` (qda's debugfs): where the
/// SoC's layout puts each context bank in the DSP's address space.
fn windows(dsp: &str) -> String {
    let path = format!("/sys/kernel/debug/qda/{dsp}/sessions");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let v: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 3).then(|| format!("{}@{}", f[1], f[3]))
        })
        .collect();
    v.join(" ")
}

/// The calculator's sum of 1..=100 on `d`'s root PD, passed inline and
/// zero copy: the DSP reaches the payload and the buffer at the addresses
/// qda built for it.
fn sums(d: &qda::Device) -> std::io::Result<(i64, i64, u64)> {
    let v: Vec<i32> = (1..=100).collect();
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    d.attach()?;
    let h = d.open_module("calculator")?;
    let inline = d.calculator_sum(h, &v)?;
    let bo = qda::Bo::new(d, 4096)?;
    let mut m = bo.map()?;
    m.as_mut_slice()[..bytes.len()].copy_from_slice(&bytes);
    let arg = qda::rpc::Arg::buffer(bo.handle(), &m.as_slice()[..bytes.len()]);
    let zero_copy = d.calculator_sum_arg(h, v.len(), arg)?;
    d.close_module(h)?;
    Ok((inline, zero_copy, bo.info()?.dsp_addr))
}

/// A carve-out buffer of `d` (`Ok(false)` if it has no carve-out): zeroed
/// when new, and what one mapping writes another reads back.
fn carveout_roundtrip(d: &qda::Device) -> Result<bool, String> {
    let bo = match qda::Bo::new_in(d, 3 * 4096, qda::uapi::QDA_MEM_CARVEOUT) {
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => return Ok(false),
        r => r.map_err(|e| format!("alloc: {e}"))?,
    };
    {
        let mut m = bo.map().map_err(|e| format!("mmap: {e}"))?;
        if m.as_slice().iter().any(|&b| b != 0) {
            return Err("new buffer not zeroed".into());
        }
        for (i, b) in m.as_mut_slice().iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
    }
    let m = bo.map().map_err(|e| format!("mmap: {e}"))?;
    let same = m
        .as_slice()
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (i % 251) as u8);
    same.then_some(true)
        .ok_or_else(|| "data differs after remapping".into())
}
