//! Random ioctls: forked children (attached to the cdsp, not attached,
//! attached to the adsp) issue thousands of driver, GEM and PRIME requests
//! with random sizes and contents (small numbers, -1, random words,
//! pointers to a scratch area holding random invoke arguments), and map and
//! touch the mmap offsets they are handed. The driver must answer each with
//! success or an errno the UAPI documents, every child must survive, and
//! once they have exited nothing may be left behind. Errnos that the simulated DSP
//! returns (`-EFAULT` for an SMMU fault, `-ENOENT`, `-EINVAL`, `-EIO`)
//! reach the caller as they are and are accepted too.
//!
//! [`boundary`] is the boundary-value fuzzer of both node kinds.

use std::{
    collections::{BTreeMap, VecDeque},
    io::Read,
    os::fd::{AsRawFd, FromRawFd},
};

use qda::{uapi, Device};

use crate::fixtures::{
    debugfs,
    ktap::{check, Outcome},
};

mod accel;
pub mod boundary;
mod dict;
mod env;
mod legacy;
mod ops;

use dict::Rng;

const ITERATIONS: usize = 4000;

/// The errnos the driver documents for bad requests.
const ALLOWED: &[i32] = &[
    libc::EINVAL,
    libc::EFAULT,
    libc::ENOENT,
    libc::EBADF,
    libc::ENOMEM,
    libc::EPERM,
    libc::ENOTTY,
    libc::EALREADY,
    libc::ENOTCONN,
    libc::EOVERFLOW,
    libc::ENODEV,
    libc::EOPNOTSUPP,
    libc::E2BIG,
    libc::EFBIG,
    libc::EIO,
];

/// Every request the fuzzer issues.
fn requests() -> Vec<u32> {
    use uapi::*;
    vec![
        DRM_IOCTL_QDA_QUERY,
        DRM_IOCTL_QDA_GEM_CREATE,
        DRM_IOCTL_QDA_GEM_MMAP_OFFSET,
        DRM_IOCTL_QDA_INIT_ATTACH,
        DRM_IOCTL_QDA_INIT_CREATE,
        DRM_IOCTL_QDA_MAP,
        DRM_IOCTL_QDA_MUNMAP,
        DRM_IOCTL_QDA_INVOKE,
        DRM_IOCTL_QDA_GEM_INFO,
        DRM_IOCTL_QDA_GEM_CREATE_EX,
        DRM_IOCTL_QDA_GET_ATTR,
        DRM_IOCTL_QDA_INIT_CREATE_STATIC,
        DRM_IOCTL_QDA_INIT_ATTACH_SNS,
        DRM_IOCTL_GEM_CLOSE,
        DRM_IOCTL_PRIME_HANDLE_TO_FD,
        DRM_IOCTL_PRIME_FD_TO_HANDLE,
    ]
}

/// One random 64-bit field.
fn word(rng: &mut Rng, scratch: &[u8]) -> u64 {
    match rng.below(6) {
        0 | 1 => rng.below(5),
        2 => u64::MAX,
        3 => rng.next(),
        4 => scratch.as_ptr() as u64 + rng.below(scratch.len() as u64 / 2),
        _ => (rng.below(1 << 20) << 32) | rng.below(5),
    }
}

/// Fills `scratch` with invoke arguments pointing back into it.
fn fill_scratch(rng: &mut Rng, scratch: &mut [u8]) {
    let base = scratch.as_ptr() as u64;
    let half = scratch.len() / 2;
    for i in 0..16 {
        let o = i * 24;
        let ptr = base + half as u64 + rng.below(half as u64 / 2);
        let len = match rng.below(4) {
            0 => rng.next(),
            _ => rng.below(half as u64 / 2),
        };
        let fd: i32 = if rng.below(4) == 0 {
            rng.below(8) as i32
        } else {
            -1
        };
        scratch[o..o + 8].copy_from_slice(&ptr.to_le_bytes());
        scratch[o + 8..o + 16].copy_from_slice(&len.to_le_bytes());
        scratch[o + 16..o + 20].copy_from_slice(&fd.to_le_bytes());
        scratch[o + 20..o + 24].copy_from_slice(&0u32.to_le_bytes());
    }
    for b in &mut scratch[half..] {
        *b = rng.next() as u8;
    }
}

const NR_GEM_CREATE: u32 = uapi::DRM_IOCTL_QDA_GEM_CREATE & 0xff;
const NR_GEM_CREATE_EX: u32 = uapi::DRM_IOCTL_QDA_GEM_CREATE_EX & 0xff;
const NR_MAP: u32 = uapi::DRM_IOCTL_QDA_MAP & 0xff;
const NR_MMAP_OFFSET: u32 = uapi::DRM_IOCTL_QDA_GEM_MMAP_OFFSET & 0xff;

/// Maps `pages` pages at a fake offset the driver handed out (with a
/// random page shift) and touches every byte of the mapping: the driver
/// either refuses the mmap or backs all of it; a SIGBUS kills the child.
fn map_and_touch(d: &Device, offset: u64, rng: &mut Rng) {
    let pages = 1 + rng.below(3) as usize;
    let offset = offset + rng.below(2) * 4096;
    // SAFETY: a fresh shared mapping of the accel fd, unmapped below.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            pages * 4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            d.fd().as_raw_fd(),
            offset as libc::off_t,
        );
        if p == libc::MAP_FAILED {
            return;
        }
        let b = p.cast::<u8>();
        for i in (0..pages * 4096).step_by(512) {
            b.add(i)
                .write_volatile(b.add(i).read_volatile().wrapping_add(1));
        }
        libc::munmap(p, pages * 4096);
    }
}

/// Frees what a successful allocating request made, so that memory does
/// not pile up over the run (the child's exit would free it anyway). The
/// last few buffers stay alive, so that later requests naming small
/// handles find them.
fn undo(d: &Device, nr: u32, arg: &[u64; 8], live: &mut VecDeque<u32>) {
    match nr {
        NR_GEM_CREATE | NR_GEM_CREATE_EX => {
            live.push_back(arg[1] as u32);
            if live.len() > 8 {
                if let Some(h) = live.pop_front() {
                    let _ = qda::bo::close_handle(d.fd(), h);
                }
            }
        }
        NR_MAP => {
            let mut u = uapi::Munmap {
                request: arg[0] as u32,
                fd: arg[1] as i32,
                vaddr: arg[3],
                vaddrout: arg[5],
                size: arg[4],
            };
            let _ = qda::ioctl::ioctl(d.fd(), uapi::req::MUNMAP, &mut u);
        }
        _ => {}
    }
}

/// The child: returns "errno count ..." of unexpected results, or "".
/// Attached first, or not (then INIT_CREATE gets random requests too).
fn child(dsp: &str, seed: u64, attach: bool) -> String {
    let Ok(d) = Device::by_name(dsp) else {
        return "open failed".into();
    };
    if attach && d.attach().is_err() {
        return "attach failed".into();
    }
    let reqs = requests();
    let mut rng = Rng(seed);
    let mut scratch = vec![0u8; 8192];
    let mut bad: BTreeMap<i32, usize> = BTreeMap::new();
    let mut live = VecDeque::new();
    for _ in 0..ITERATIONS {
        fill_scratch(&mut rng, &mut scratch);
        let mut req = reqs[rng.below(reqs.len() as u64) as usize];
        if rng.below(8) == 0 {
            // A wrong size in the request number.
            req = (req & !(0x3fff << 16)) | ((rng.below(64) as u32) << 16);
        }
        let mut arg = [0u64; 8];
        for w in &mut arg {
            *w = word(&mut rng, &scratch);
        }
        let nr = req & 0xff;
        // Sizes the driver accepts only exercise the machine's memory
        // (and the OOM killer): keep accepted allocations small.
        let size_word = match nr {
            NR_GEM_CREATE | NR_GEM_CREATE_EX => Some(0),
            NR_MAP => Some(4),
            _ => None,
        };
        if let Some(i) = size_word {
            if (64 << 10..=1 << 30).contains(&arg[i]) {
                arg[i] = 4096;
            }
        }
        // SAFETY: `arg` holds 64 bytes, as much as any request may declare
        // with the sizes used here (at most 63); pointers inside point to
        // `scratch` or nowhere, and the kernel must check them.
        let r = unsafe { qda::ioctl::ioctl_raw(d.fd(), req, arg.as_mut_ptr().cast()) };
        match r {
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(0);
                if !ALLOWED.contains(&errno) {
                    *bad.entry(errno).or_default() += 1;
                }
            }
            Ok(_) if nr == NR_MMAP_OFFSET => map_and_touch(&d, arg[1], &mut rng),
            Ok(_) => undo(&d, nr, &arg, &mut live),
        }
    }
    drop(d);
    bad.iter()
        .map(|(e, n)| format!("errno {e} x{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn random_ioctls_get_clean_errnos() -> Outcome {
    // cdsp: DMA-coherent and carve-out memory; adsp: DMA-coherent and CMA.
    run_child("cdsp", 0x9e37_79b9_7f4a_7c15, true)?;
    run_child("cdsp", 0x1234_5678_9abc_def1, false)?;
    run_child("adsp", 0x0f1e_2d3c_4b5a_6978, true)?;
    for dsp in ["adsp", "cdsp"] {
        let path = format!("/sys/kernel/debug/qda/{dsp}/memory");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        for line in text.lines().skip(1).filter(|l| !l.starts_with("pool ")) {
            check!(line.ends_with(" 0 0"), "{dsp}: still allocated: {line}");
        }
    }
    debugfs::nothing_leaked()
}

/// Runs [`child`] in a forked process and checks how it ended.
fn run_child(dsp: &str, seed: u64, attach: bool) -> Outcome {
    // The child reports through the pipe.
    let (pid, rd) = crate::fixtures::sys::fork_piped(|w| {
        let report = child(dsp, seed, attach);
        // SAFETY: writes the report from a live buffer to our pipe end.
        unsafe { libc::write(w, report.as_ptr().cast(), report.len()) };
        0
    })?;
    let mut report = String::new();
    // SAFETY: `rd` is the read end we own.
    let mut rd = unsafe { std::fs::File::from_raw_fd(rd) };
    let _ = rd.read_to_string(&mut report);
    let mut status = 0;
    // SAFETY: reaps our child.
    unsafe { libc::waitpid(pid, &raw mut status, 0) };
    check!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the fuzzing child died (status {status:#x}, {dsp}, attached: {attach})"
    );
    check!(
        report.is_empty(),
        "unexpected results ({dsp}, attached: {attach}): {report}"
    );
    check!(
        debugfs::calls(dsp, "in_flight")? == 0,
        "calls left in flight ({dsp}, attached: {attach})"
    );
    Ok(())
}
