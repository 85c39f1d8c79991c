//! Userspace tests of the FastRPC engine against the simulated DSP.

use std::os::fd::{AsFd, AsRawFd};

use qda::{
    heap,
    ioctl::{ioctl_indirect, IndirectIoctl},
    rpc::{scalars, Arg},
    uapi, Bo, Device,
};

use crate::fixtures::{
    debugfs::calls,
    errno::expect_errno,
    ktap::{check, Outcome},
    sessions,
};

/// `struct drm_qda_invoke` and the 8 bytes more the library's encoding
/// declares, which the kernel must not touch.
#[repr(C)]
struct LibInvoke {
    inv: uapi::Invoke,
    tail: [u8; 8],
}

/// INVOKE as the FastRPC library encodes it (with the size of one
/// argument); the driver accepts both.
const INVOKE_LIB: IndirectIoctl<LibInvoke> = IndirectIoctl::new(uapi::drm_iowr(
    uapi::DRM_COMMAND_BASE + uapi::sys::DRM_QDA_INVOKE,
    size_of::<uapi::InvokeArg>(),
));

/// [`Device::invoke`] through [`INVOKE_LIB`]; fails if the kernel wrote
/// past the 16-byte structure.
fn invoke_lib(d: &Device, handle: u32, sc: u32, args: &mut [Arg<'_>]) -> Result<i32, String> {
    let (r, tail) = qda::rpc::kernel_view(sc, args, |args| {
        let mut p = LibInvoke {
            inv: uapi::Invoke {
                handle,
                sc,
                args: args.as_mut_ptr() as u64,
            },
            tail: [0x5a; 8],
        };
        // SAFETY: INVOKE reads `sc`'s count of arguments from
        // `p.inv.args`, i.e. from `args` (an `Arg` is a `struct
        // drm_qda_invoke_arg`), which `kernel_view` checked suit `sc`;
        // `args` is borrowed until we return, as are the buffers the
        // arguments name (exclusively for outputs).
        let r = unsafe { ioctl_indirect(d.fd(), INVOKE_LIB, &mut p) }?;
        Ok((r, p.tail))
    })
    .map_err(|e| format!("24-byte INVOKE: {e}"))?;
    check!(
        tail == [0x5a; 8],
        "24-byte INVOKE: the kernel wrote past struct drm_qda_invoke"
    );
    Ok(r)
}

/// The simulated DSP's built-in calculator (no listener needed).
const CALC: &str = "calculator";

fn open(dsp: &str) -> Result<Device, String> {
    Device::by_name(dsp).map_err(|e| format!("open {dsp}: {e}"))
}

pub fn invoke_on_handle_1_is_refused() -> Outcome {
    let d = open("cdsp")?;
    d.attach().map_err(|e| format!("attach: {e}"))?;
    let id = 1u32.to_le_bytes();
    let mut args = [Arg::input(&id)];
    expect_errno(
        d.invoke(1, scalars(0, 1, 0), &mut args),
        libc::EPERM,
        "INVOKE on handle 1",
    )
}

pub fn invoke_before_attach_fails() -> Outcome {
    let d = open("cdsp")?;
    expect_errno(
        d.open_module(CALC),
        libc::ENOTCONN,
        "INVOKE with no DSP process",
    )
}

pub fn attach_and_call_the_calculator() -> Outcome {
    let d = open("cdsp")?;
    d.attach().map_err(|e| format!("attach: {e}"))?;
    expect_errno(d.attach(), libc::EALREADY, "second attach")?;
    let h = d
        .open_module(CALC)
        .map_err(|e| format!("open calculator: {e}"))?;
    check!(h > 20, "module handle {h} is not dynamic");
    let v: Vec<i32> = (1..=100).collect();
    let sum = d.calculator_sum(h, &v).map_err(|e| format!("sum: {e}"))?;
    check!(sum == 5050, "sum(1..=100) = {sum}");
    let max = d
        .calculator_max(h, &[-5, 42, 7, i32::MIN])
        .map_err(|e| format!("max: {e}"))?;
    check!(max == 42, "max = {max}");
    // The library's 24-byte encoding of INVOKE works and the kernel
    // touches only the 16-byte struct (checked inside invoke_lib).
    let prim = 3u32.to_le_bytes();
    let vec: Vec<u8> = [10i32, 20, 30]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let mut out = [0u8; 8];
    let mut args = [Arg::input(&prim), Arg::input(&vec), Arg::output(&mut out)];
    let r = invoke_lib(&d, h, scalars(2, 2, 1), &mut args)?;
    check!(
        r == 0 && i64::from_le_bytes(out) == 60,
        "24-byte INVOKE: r {r}, sum {}",
        i64::from_le_bytes(out)
    );
    d.close_module(h).map_err(|e| format!("close: {e}"))?;
    check!(
        d.calculator_sum(h, &v).is_err(),
        "closed handle still answers"
    );
    check!(d.open_module("nope").is_err(), "unknown module opened");
    Ok(())
}

pub fn create_a_user_pd_from_a_shell() -> Outcome {
    let d = open("adsp")?;
    let shell: Vec<u8> = (0..64 * 1024).map(|i| (i % 253) as u8).collect();
    expect_errno(d.create(&vec![0u8; 3 << 20], 0), libc::EFBIG, "3 MiB shell")?;
    d.create(&shell, 0).map_err(|e| format!("create: {e}"))?;
    expect_errno(d.create(&shell, 0), libc::EALREADY, "second create")?;
    let h = d.open_module(CALC).map_err(|e| format!("open: {e}"))?;
    let sum = d.calculator_sum(h, &[7, 8]).map_err(|e| e.to_string())?;
    check!(sum == 15, "sum = {sum}");
    Ok(())
}

pub fn create_with_the_shell_in_a_buffer() -> Outcome {
    let d = open("adsp")?;
    let bo = Bo::new(&d, 128 * 1024).map_err(|e| e.to_string())?;
    bo.map().map_err(|e| e.to_string())?.as_mut_slice()[..4].copy_from_slice(b"\x7fELF");
    // The UAPI names buffers by GEM handle: a dma-buf fd is not one.
    let fd = bo.export().map_err(|e| e.to_string())?;
    let stray = fd.as_raw_fd() as u32 + 100;
    expect_errno(
        d.create_from_buffer(stray, 4096, 0),
        libc::EBADF,
        "shell by a number that is no buffer",
    )?;
    expect_errno(
        d.create_from_buffer(bo.handle(), 256 * 1024, 0),
        libc::EINVAL,
        "shell longer than its buffer",
    )?;
    d.create_from_buffer(bo.handle(), 128 * 1024, 1)
        .map_err(|e| format!("create from a buffer handle: {e}"))?;
    let h = d.open_module(CALC).map_err(|e| e.to_string())?;
    check!(
        d.calculator_sum(h, &[1, 2]).map_err(|e| e.to_string())? == 3,
        "call in the created PD"
    );
    Ok(())
}

pub fn zero_copy_arguments() -> Outcome {
    let d = open("cdsp")?;
    d.attach().map_err(|e| format!("attach: {e}"))?;
    let h = d.open_module(CALC).map_err(|e| e.to_string())?;
    let n = 4096usize;
    // A qda buffer, passed by handle with a pointer into its mapping.
    let bo = Bo::new(&d, (n * 4) as u64).map_err(|e| e.to_string())?;
    let mut m = bo.map().map_err(|e| e.to_string())?;
    for (i, c) in m.as_mut_slice().chunks_exact_mut(4).enumerate() {
        c.copy_from_slice(&(i as i32).to_le_bytes());
    }
    let sum = d
        .calculator_sum_arg(h, n, Arg::buffer(bo.handle(), m.as_slice()))
        .map_err(|e| format!("zero-copy sum (qda buffer): {e}"))?;
    check!(sum == (n * (n - 1) / 2) as i64, "zero-copy sum = {sum}");
    // A system-heap dma-buf: imported first, then passed by handle.
    let hfd = heap::alloc("system", 4096).map_err(|e| e.to_string())?;
    let mut hm = qda::Mapping::new(hfd.as_fd(), 0, 4096).map_err(|e| e.to_string())?;
    for (i, c) in hm.as_mut_slice()[..40].chunks_exact_mut(4).enumerate() {
        c.copy_from_slice(&(i as i32 * 3).to_le_bytes());
    }
    let hbo = Bo::import(&d, hfd.as_fd()).map_err(|e| format!("import: {e}"))?;
    let sum = d
        .calculator_sum_arg(h, 10, Arg::buffer(hbo.handle(), &hm.as_slice()[..40]))
        .map_err(|e| format!("zero-copy sum (heap buffer): {e}"))?;
    check!(sum == 135, "heap zero-copy sum = {sum}");
    // The same heap buffer by its dma-buf fd, as drivers/misc/fastrpc.c
    // and the FastRPC library pass it (attached to the CB for the call).
    let sum = d
        .calculator_sum_arg(h, 10, Arg::dmabuf(hfd.as_fd(), &hm.as_slice()[..40]))
        .map_err(|e| format!("zero-copy sum (heap dma-buf fd): {e}"))?;
    check!(sum == 135, "heap dma-buf zero-copy sum = {sum}");
    // A number that names no buffer.
    expect_errno(
        d.calculator_sum_arg(h, 10, Arg::buffer(hbo.handle() + 100, &hm.as_slice()[..40])),
        libc::EBADF,
        "a number that is neither a handle nor a dma-buf fd",
    )?;
    // A pointer outside the referenced buffer's mapping is refused, be
    // the reference a handle or a dma-buf fd.
    let stray = vec![0u8; 64];
    expect_errno(
        d.calculator_sum_arg(h, 16, Arg::buffer(bo.handle(), &stray)),
        libc::EBADF,
        "pointer outside the handle's buffer",
    )?;
    expect_errno(
        d.calculator_sum_arg(h, 16, Arg::dmabuf(hfd.as_fd(), &stray)),
        libc::EBADF,
        "pointer outside the dma-buf",
    )?;
    Ok(())
}

/// Page `k` of a three-page buffer holds 1024 words of value `k + 1`, so
/// a sum over one page tells which page the DSP read.
fn pages_1_2_3(bo: &Bo) -> Outcome {
    let mut m = bo.map().map_err(|e| e.to_string())?;
    for (i, c) in m.as_mut_slice().chunks_exact_mut(4).enumerate() {
        c.copy_from_slice(&((i / 1024 + 1) as i32).to_le_bytes());
    }
    Ok(())
}

/// The sum the DSP computes over the page `arg` passes zero copy.
fn page_sum(d: &qda::Device, h: u32, arg: Arg, what: &str) -> Result<i64, String> {
    let sum = d
        .calculator_sum_arg(h, 1024, arg)
        .map_err(|e| format!("{what}: sum: {e}"))?;
    println!("    # {what}: the DSP summed {sum}");
    Ok(sum)
}

pub fn zero_copy_offsets_follow_the_mapping() -> Outcome {
    let d = open("cdsp")?;
    d.attach().map_err(|e| format!("attach: {e}"))?;
    let h = d.open_module(CALC).map_err(|e| e.to_string())?;
    let bo = Bo::new(&d, 3 * 4096).map_err(|e| e.to_string())?;
    pages_1_2_3(&bo)?;
    // (DRM maps a GEM object only whole: no mmap at a page offset.)
    // A whole mapping whose first page was unmapped: its start moved.
    let m = bo.map().map_err(|e| e.to_string())?;
    // SAFETY: unmaps the first page of a mapping this test owns; the
    // slice below starts after it.
    unsafe { libc::munmap(m.as_slice().as_ptr() as *mut libc::c_void, 4096) };
    let arg = Arg::buffer(bo.handle(), &m.as_slice()[4096..8192]);
    let sum = page_sum(&d, h, arg, "mapping without its first page")?;
    check!(sum == 2048, "want 2048");
    // The dma-buf mapped at page 2 through its own fd.
    let fd = bo.export().map_err(|e| e.to_string())?;
    let dm = qda::Mapping::new(fd.as_fd(), 2 * 4096, 4096)
        .map_err(|e| format!("dma-buf mmap at page 2: {e}"))?;
    let sum = page_sum(
        &d,
        h,
        Arg::dmabuf(fd.as_fd(), dm.as_slice()),
        "dma-buf at page 2",
    )?;
    check!(sum == 3072, "want 3072");
    Ok(())
}

pub fn the_librarys_buffers_pass_zero_copy() -> Outcome {
    // The FastRPC library allocates on a file of its own on the first
    // node (adsp here), maps the buffer through that file, and passes the
    // dma-buf it exported in calls on another node's file (cdsp).
    let alloc = open("adsp")?;
    let d = open("cdsp")?;
    d.attach().map_err(|e| e.to_string())?;
    let h = d.open_module(CALC).map_err(|e| e.to_string())?;
    let n = 1000usize;
    let bo = Bo::new(&alloc, (n * 4) as u64).map_err(|e| e.to_string())?;
    let mut m = bo.map().map_err(|e| e.to_string())?;
    for (i, c) in m.as_mut_slice().chunks_exact_mut(4).enumerate() {
        c.copy_from_slice(&(i as i32).to_le_bytes());
    }
    let fd = bo.export().map_err(|e| e.to_string())?;
    let sum = d
        .calculator_sum_arg(h, n, Arg::dmabuf(fd.as_fd(), &m.as_slice()[..n * 4]))
        .map_err(|e| format!("zero-copy sum of another node's export: {e}"))?;
    check!(sum == 499_500, "sum = {sum}");
    // The shell the library passes: a handle of its allocation file,
    // which the calling file cannot resolve, plus a pointer: copied.
    let shell_bo = Bo::new(&alloc, 64 * 1024).map_err(|e| e.to_string())?;
    let mut sm = shell_bo.map().map_err(|e| e.to_string())?;
    sm.as_mut_slice()[..4].copy_from_slice(b"\x7fELF");
    let e = open("cdsp")?;
    e.create_with(shell_bo.handle() as i32, sm.as_slice(), 0)
        .map_err(|e| format!("create with another file's handle: {e}"))?;
    let h = e.open_module(CALC).map_err(|e| e.to_string())?;
    check!(
        e.calculator_sum(h, &[4, 5]).map_err(|e| e.to_string())? == 9,
        "call in the PD created from the library's shell"
    );
    Ok(())
}

pub fn two_processes_call_concurrently() -> Outcome {
    // SAFETY: the child calls the DSP and exits with `_exit`.
    let pid = unsafe { libc::fork() };
    let work = || -> Result<(), String> {
        let d = open("cdsp")?;
        d.attach().map_err(|e| e.to_string())?;
        let h = d.open_module(CALC).map_err(|e| e.to_string())?;
        for k in 0..100i32 {
            let s = d.calculator_sum(h, &[k, k, 1]).map_err(|e| e.to_string())?;
            if s != i64::from(2 * k + 1) {
                return Err(format!("sum {s} for k {k}"));
            }
        }
        Ok(())
    };
    if pid == 0 {
        let ok = work().is_ok();
        // SAFETY: leave without the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mine = work();
    let mut status = 0;
    // SAFETY: reaps the child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    mine?;
    check!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child's calls failed"
    );
    Ok(())
}

pub fn no_call_left_in_flight() -> Outcome {
    for dsp in ["adsp", "cdsp"] {
        let n = calls(dsp, "in_flight")?;
        check!(n == 0, "{dsp}: {n} calls still in flight");
    }
    Ok(())
}

pub fn every_map_flavour_is_tracked() -> Outcome {
    use qda::rpc::{RemoteMapping, MAP_ATTR, MAP_LEGACY};
    let d = open("cdsp")?;
    expect_errno(
        d.map(MAP_LEGACY, -1, 0, 65536),
        libc::ENOTCONN,
        "map before attach",
    )?;
    d.attach().map_err(|e| e.to_string())?;
    // Legacy maps only add pages to the process's heap: heap-address
    // flags (4: physical heap, 8: remote heap) are refused, as upstream.
    for flags in [4u32, 8, 0] {
        let mut a = qda::uapi::Map {
            request: MAP_LEGACY,
            fd: -1,
            size: 65536,
            flags,
            ..Default::default()
        };
        let r = qda::ioctl::ioctl(d.fd(), qda::uapi::req::MAP, &mut a);
        expect_errno(
            r,
            libc::EINVAL,
            &format!("legacy map with flags {flags:#x}"),
        )?;
    }
    // Legacy, kernel pages.
    let k = d
        .map(MAP_LEGACY, -1, 0, 65536)
        .map_err(|e| format!("legacy map: {e}"))?;
    check!(k.vaddrout != 0, "no DSP address");
    let wrong = RemoteMapping { size: 4096, ..k };
    expect_errno(d.unmap(&wrong), libc::EINVAL, "unmap with the wrong size")?;
    d.unmap(&k).map_err(|e| format!("legacy unmap: {e}"))?;
    expect_errno(d.unmap(&k), libc::EINVAL, "second unmap")?;
    // Legacy and attribute maps of a buffer, by handle.
    let bo = Bo::new(&d, 1 << 20).map_err(|e| e.to_string())?;
    let m = bo.map().map_err(|e| e.to_string())?;
    let h = bo.handle() as i32;
    let l = d
        .map(MAP_LEGACY, h, 0, 1 << 20)
        .map_err(|e| format!("legacy buffer map: {e}"))?;
    let va = m.as_slice().as_ptr() as u64;
    let a = d
        .map(MAP_ATTR, h, va, 1 << 20)
        .map_err(|e| format!("attr map: {e}"))?;
    check!(a.vaddrout != l.vaddrout, "two mappings at one DSP address");
    expect_errno(
        d.map(MAP_ATTR, -1, va, 4096),
        libc::EBADF,
        "attr map without a buffer",
    )?;
    expect_errno(
        d.map(MAP_ATTR, h + 100, va, 4096),
        libc::EBADF,
        "attr map of a number that is no buffer",
    )?;
    expect_errno(
        d.map(MAP_ATTR, h, va, 2 << 20),
        libc::EINVAL,
        "attr map past the buffer",
    )?;
    // Attribute mappings are named by their DSP address.
    let other = RemoteMapping {
        vaddrout: a.vaddrout + 4096,
        ..a
    };
    expect_errno(
        d.unmap(&other),
        libc::EINVAL,
        "attr unmap of another DSP address",
    )?;
    d.unmap(&a).map_err(|e| format!("attr unmap: {e}"))?;
    d.unmap(&l)
        .map_err(|e| format!("legacy dma-buf unmap: {e}"))?;
    // Left mapped: released with the process.
    d.map(MAP_LEGACY, -1, 0, 8192).map_err(|e| e.to_string())?;
    Ok(())
}

pub fn capabilities_come_from_the_dsp() -> Outcome {
    let d = open("cdsp")?;
    let caps = d.query().map_err(|e| e.to_string())?.capabilities();
    // The simulator reports attributes [0, 1, 1, 0, 1, 2, 4, 1, 0...].
    check!(caps == 0xf6, "capabilities {caps:#x}, want 0xf6");
    check!(
        d.attribute(5).map_err(|e| e.to_string())? == 2,
        "attribute 5"
    );
    check!(
        d.attribute(0).map_err(|e| e.to_string())? == 0,
        "attribute 0"
    );
    check!(
        d.attribute(255).map_err(|e| e.to_string())? == 0,
        "attribute 255"
    );
    expect_errno(d.attribute(256), libc::EOVERFLOW, "attribute 256")
}

pub fn handles_reach_the_dsp() -> Outcome {
    let d = open("cdsp")?;
    d.attach().map_err(|e| e.to_string())?;
    let copy = d.open_module("copy").map_err(|e| e.to_string())?;
    let bo = Bo::new(&d, 4096).map_err(|e| e.to_string())?;
    let mut m = bo.map().map_err(|e| e.to_string())?;
    for (i, b) in m.as_mut_slice().iter_mut().enumerate() {
        *b = (i % 7) as u8;
    }
    let want: u32 = m.as_slice()[16..116].iter().map(|&b| u32::from(b)).sum();
    let mut out = [0u8; 4];
    let mut args = [Arg::output(&mut out), Arg::handle(bo.handle(), 16, 100)];
    let r = d
        .invoke(copy, qda::rpc::build_scalars(0, 4, 0, 1, 1, 0), &mut args)
        .map_err(|e| format!("invoke with a handle: {e}"))?;
    check!(r == 0, "remote {r}");
    check!(
        u32::from_le_bytes(out) == want,
        "checksum {} want {want}",
        u32::from_le_bytes(out)
    );
    // No buffer (fd -1, no bytes) is a valid handle argument, as upstream:
    // the DSP gets an empty range.
    let mut out0 = [0xffu8; 4];
    let mut args = [Arg::output(&mut out0), Arg::handle(u32::MAX, 0, 0)];
    let r = d
        .invoke(copy, qda::rpc::build_scalars(0, 4, 0, 1, 1, 0), &mut args)
        .map_err(|e| format!("invoke with an empty handle: {e}"))?;
    check!(r == 0 && out0 == [0; 4], "empty handle: r {r}, {out0:?}");
    // A range past the buffer's end is refused.
    let mut args = [Arg::output(&mut out0), Arg::handle(bo.handle(), 4000, 200)];
    expect_errno(
        d.invoke(copy, qda::rpc::build_scalars(0, 4, 0, 1, 1, 0), &mut args),
        libc::EINVAL,
        "handle range past the buffer",
    )?;
    // The same buffer passed zero copy.
    let mut out2 = [0u8; 4];
    let mut args = [
        Arg::buffer(bo.handle(), &m.as_slice()[16..116]),
        Arg::output(&mut out2),
    ];
    d.invoke(copy, scalars(3, 1, 1), &mut args)
        .map_err(|e| e.to_string())?;
    check!(
        u32::from_le_bytes(out2) == want,
        "zero-copy checksum {}",
        u32::from_le_bytes(out2)
    );
    Ok(())
}

pub fn each_file_is_a_dsp_process_of_its_own() -> Outcome {
    // Two files of one process (the library's sessions): two DSP
    // processes, one context bank.
    let a = open("cdsp")?;
    let b = open("cdsp")?;
    a.attach()
        .map_err(|e| format!("attach on the first file: {e}"))?;
    let shell: Vec<u8> = (0..16 * 1024).map(|i| (i % 251) as u8).collect();
    b.create(&shell, 0)
        .map_err(|e| format!("create on the second file: {e}"))?;
    let ha = a.open_module(CALC).map_err(|e| e.to_string())?;
    let hb = b.open_module(CALC).map_err(|e| e.to_string())?;
    let sa = a
        .calculator_sum(ha, &[1, 2, 3])
        .map_err(|e| e.to_string())?;
    let sb = b.calculator_sum(hb, &[10, 20]).map_err(|e| e.to_string())?;
    check!(sa == 6 && sb == 30, "sums {sa} and {sb}");
    // A module opened by one DSP process is unknown to the other.
    if ha != hb {
        check!(
            b.calculator_sum(ha, &[1]).is_err(),
            "the second DSP process used the first one's module"
        );
    }
    let me = std::process::id() as i32;
    let mine = sessions::owned_by("cdsp", me)?;
    check!(
        mine.len() == 1 && mine[0].files == 2,
        "two files of one process should share one session: {mine:?}"
    );
    // A buffer of one file is not a handle of the other; shared through
    // PRIME it is the same memory in the same context bank.
    let bo = Bo::new(&a, 4096).map_err(|e| e.to_string())?;
    let fd = bo.export().map_err(|e| e.to_string())?;
    let again = Bo::import(&b, fd.as_fd()).map_err(|e| e.to_string())?;
    let (ia, ib) = (
        bo.info().map_err(|e| e.to_string())?,
        again.info().map_err(|e| e.to_string())?,
    );
    check!(
        ia.dsp_addr == ib.dsp_addr,
        "shared buffer at {:#x} and {:#x}",
        ia.dsp_addr,
        ib.dsp_addr
    );
    drop((again, bo));
    drop(a);
    let sb = b.calculator_sum(hb, &[5, 5]).map_err(|e| e.to_string())?;
    check!(sb == 10, "second DSP process after the first closed: {sb}");
    Ok(())
}
