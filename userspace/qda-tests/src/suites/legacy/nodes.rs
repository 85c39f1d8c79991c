//! The `qda_legacy` KTAP suite: qda's `/dev/fastrpc-*` nodes (the UAPI of
//! `drivers/misc/fastrpc.c`) and the access model on both node kinds.
//!
//! The test DT's channels are non-secure: adsp gets `fastrpc-adsp`, cdsp
//! both `fastrpc-cdsp` and `fastrpc-cdsp-secure` (as upstream names them).
//! The access cases run a child of this program (`qda_mode=unprivileged`)
//! as uid 1000 and check what it was refused and what it computed.

use std::{
    fs,
    os::{
        fd::{AsFd, AsRawFd},
        unix::{fs::FileTypeExt, fs::PermissionsExt, process::CommandExt},
    },
    path::Path,
    process::Command,
};

use fastrpc_ko::{
    Legacy, SetOption, ADSP_MMAP_ADD_PAGES, FASTRPC_IOCTL_FREE_DMA_BUFF, FASTRPC_MAP_FD,
    FASTRPC_MODE_UNSIGNED_MODULE, FASTRPC_POLL_MODE,
};
use qda::{
    rpc::{open_module_with, scalars, Arg},
    Device, Mapping,
};

use crate::fixtures::{
    errno::expect_errno,
    ktap::{check, Outcome},
    sessions, sys, MODULES, TEST_DSPS,
};

/// The calculator module of the simulated DSP.
const CALC: &str = "calculator";
/// The uid and gid the unprivileged child runs as.
pub const APP_UID: u32 = 1000;
/// The group given as `daemon_gid` in the group case.
const DAEMON_GID: u32 = 1001;
/// The static PD of the adsp (audio PD).
const AUDIO_PD: &str = "audiopd";

/// A stand-in shell image (the simulator checks nothing else of it).
pub fn shell() -> Vec<u8> {
    (0..16 * 1024).map(|i| (i % 251) as u8).collect()
}

/// `sum` of the calculator through `l`: the vector inline.
fn legacy_sum(l: &Legacy, h: u32, v: &[i32]) -> Result<i64, String> {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    let prim = (v.len() as u32).to_le_bytes();
    let mut out = [0u8; 8];
    let mut args = [Arg::input(&prim), Arg::input(&bytes), Arg::output(&mut out)];
    let r = l
        .invoke(h, scalars(2, 2, 1), &mut args)
        .map_err(|e| format!("sum: {e}"))?;
    check!(r == 0, "sum returned {r}");
    Ok(i64::from_le_bytes(out))
}

/// A user PD on `l` with the calculator open.
fn calculator(l: &Legacy) -> Result<u32, String> {
    l.create(None, &shell(), FASTRPC_MODE_UNSIGNED_MODULE)
        .map_err(|e| format!("create: {e}"))?;
    open_module_with(|h, sc, a| l.invoke(h, sc, a), CALC).map_err(|e| format!("open: {e}"))
}

pub fn nodes_are_named_as_upstream() -> Outcome {
    for (label, secure) in [("adsp", false), ("cdsp", false), ("cdsp", true)] {
        let p = Legacy::node(label, secure);
        let m = fs::metadata(&p).map_err(|e| format!("{p}: {e}"))?;
        check!(m.file_type().is_char_device(), "{p} is no char device");
    }
    // adsp runs no unsigned PDs: one node, secure only if the channel is.
    check!(
        !Path::new(&Legacy::node("adsp", true)).exists(),
        "a secure node for the non-secure adsp channel"
    );
    Ok(())
}

pub fn calculator_through_the_legacy_node() -> Outcome {
    let l = Legacy::open("cdsp").map_err(|e| e.to_string())?;
    let h = calculator(&l)?;
    let v: Vec<i32> = (1..=100).collect();
    let sum = legacy_sum(&l, h, &v)?;
    check!(sum == 5050, "sum(1..=100) = {sum}");
    // Zero copy: the vector in a buffer of ALLOC_DMA_BUFF.
    let fd = l.alloc_dma_buf(4096).map_err(|e| format!("alloc: {e}"))?;
    let mut m = Mapping::new(fd.as_fd(), 0, 4096).map_err(|e| format!("mmap: {e}"))?;
    for (i, c) in m.as_mut_slice()[..400].chunks_mut(4).enumerate() {
        c.copy_from_slice(&(i as i32 * 3).to_le_bytes());
    }
    let prim = 100u32.to_le_bytes();
    let mut out = [0u8; 8];
    let mut args = [
        Arg::input(&prim),
        Arg::dmabuf(fd.as_fd(), &m.as_slice()[..400]),
        Arg::output(&mut out),
    ];
    let r = l.invoke(h, scalars(2, 2, 1), &mut args);
    check!(matches!(r, Ok(0)), "zero-copy sum: {r:?}");
    let sum = i64::from_le_bytes(out);
    check!(sum == 3 * 4950, "zero-copy sum = {sum}");
    Ok(())
}

pub fn accel_and_legacy_files_share_the_context_bank() -> Outcome {
    let me = std::process::id() as i32;
    let before = sessions::owned_by("cdsp", me)?;
    let files = before.first().map_or(0, |s| s.files);
    let d = Device::by_name("cdsp").map_err(|e| e.to_string())?;
    let l = Legacy::open("cdsp").map_err(|e| e.to_string())?;
    let s = Legacy::open_node("cdsp", true).map_err(|e| e.to_string())?;
    let now = sessions::owned_by("cdsp", me)?;
    drop((d, l, s));
    check!(now.len() == 1, "slots of this process: {now:?}");
    check!(
        now[0].files == files + 3,
        "files {} (before {files})",
        now[0].files
    );
    Ok(())
}

pub fn dma_buffers_and_options_as_upstream() -> Outcome {
    let l = Legacy::open("cdsp").map_err(|e| e.to_string())?;
    let fd = l.alloc_dma_buf(8192).map_err(|e| format!("alloc: {e}"))?;
    let size = fs::File::from(fd.try_clone().map_err(|e| e.to_string())?)
        .metadata()
        .map(|m| m.len());
    check!(matches!(size, Ok(8192) | Ok(0)), "dma-buf size {size:?}");
    expect_errno(
        l.alloc_dma_buf(0),
        libc::EINVAL,
        "ALLOC_DMA_BUFF of 0 bytes",
    )?;
    let mut fdnum = 0u32;
    // SAFETY: FREE_DMA_BUFF would read a u32; upstream never implemented it.
    let r = unsafe {
        libc::ioctl(
            l.fd().as_raw_fd(),
            FASTRPC_IOCTL_FREE_DMA_BUFF as _,
            &mut fdnum,
        )
    };
    check!(
        r == -1 && errno() == libc::ENOTTY,
        "FREE_DMA_BUFF: {r}, errno {}",
        errno()
    );
    let opt = |request_id, value, r0| SetOption {
        request_id,
        value,
        reserved: [r0, 0, 0, 0, 0, 0],
    };
    expect_errno(
        l.set_option(opt(FASTRPC_POLL_MODE, 1, 1)),
        libc::EINVAL,
        "reserved set",
    )?;
    expect_errno(l.set_option(opt(2, 1, 0)), libc::EINVAL, "unknown option")?;
    expect_errno(
        l.set_option(opt(FASTRPC_POLL_MODE, 1, 0)),
        libc::EOPNOTSUPP,
        "poll mode",
    )?;
    let d = Device::by_name("cdsp").map_err(|e| e.to_string())?;
    for id in 1..8 {
        let (a, b) = (l.dsp_info(id), d.attribute(id));
        check!(
            a.as_ref().ok() == b.as_ref().ok(),
            "attribute {id}: legacy {a:?}, accel {b:?}"
        );
    }
    expect_errno(l.dsp_info(256), libc::EOVERFLOW, "attribute 256")
}

pub fn mappings_are_tracked_per_file() -> Outcome {
    let l = Legacy::open("cdsp").map_err(|e| e.to_string())?;
    calculator(&l)?;
    expect_errno(l.mmap(0, 65536), libc::EINVAL, "MMAP without ADD_PAGES")?;
    let va = l
        .mmap(ADSP_MMAP_ADD_PAGES, 65536)
        .map_err(|e| format!("mmap: {e}"))?;
    check!(va != 0, "MMAP returned DSP address 0");
    expect_errno(l.munmap(va, 4096), libc::EINVAL, "MUNMAP of the wrong size")?;
    l.munmap(va, 65536).map_err(|e| format!("munmap: {e}"))?;
    expect_errno(l.munmap(va, 65536), libc::EINVAL, "second MUNMAP")?;
    let fd = l.alloc_dma_buf(65536).map_err(|e| format!("alloc: {e}"))?;
    let m = Mapping::new(fd.as_fd(), 0, 65536).map_err(|e| format!("mmap: {e}"))?;
    let va = m.as_slice().as_ptr() as u64;
    let dva = l
        .mem_map(fd.as_fd(), FASTRPC_MAP_FD, va, 65536, 0)
        .map_err(|e| format!("mem_map: {e}"))?;
    l.mem_unmap(fd.as_fd(), dva, 65536)
        .map_err(|e| format!("mem_unmap: {e}"))?;
    expect_errno(
        l.mem_unmap(fd.as_fd(), dva, 65536),
        libc::EINVAL,
        "second MEM_UNMAP",
    )
}

/// The last OS error number.
fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Runs this program as uid [`APP_UID`] and gid `gid` in `qda_mode=mode`
/// and returns its report lines.
pub fn unprivileged_run(mode: &str, gid: u32) -> Result<Vec<String>, String> {
    let out = Command::new("/init")
        .env("qda_mode", mode)
        .uid(APP_UID)
        .gid(gid)
        .output()
        .map_err(|e| format!("running the child: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    for l in text.lines() {
        println!("    # child: {l}");
    }
    check!(out.status.success(), "child exited with {}", out.status);
    Ok(text.lines().map(str::to_string).collect())
}

/// Makes the nodes usable by anyone, as the documented udev rule does
/// (`fastrpc-*-secure` stays root's).
pub fn open_up_nodes() -> Result<(), String> {
    let mut nodes: Vec<String> = Device::paths()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    nodes.push(Legacy::node("adsp", false));
    nodes.push(Legacy::node("cdsp", false));
    for n in nodes {
        fs::set_permissions(&n, fs::Permissions::from_mode(0o666))
            .map_err(|e| format!("chmod {n}: {e}"))?;
    }
    Ok(())
}

pub fn unprivileged_apps_are_refused_daemon_operations() -> Outcome {
    open_up_nodes()?;
    let lines = unprivileged_run("unprivileged", APP_UID)?;
    let want = [
        "accel attach: 13",
        "accel attach_sns: 13",
        "accel create_static: 13",
        "accel sum: 5050",
        "legacy attach: 13",
        "legacy attach_sns: 13",
        "legacy create_static: 13",
        "legacy sum: 5050",
        "accel create privileged: 13",
        "legacy create privileged: 13",
        "secure node open: 13",
    ];
    check!(lines == want, "child reported {lines:?}, want {want:?}");
    // The same operations from a privileged file work.
    let l = Legacy::open("cdsp").map_err(|e| e.to_string())?;
    l.attach().map_err(|e| format!("root's attach: {e}"))
}

pub fn the_daemon_group_is_granted_daemon_operations() -> Outcome {
    reload_qda(&format!("daemon_gid={DAEMON_GID}"))?;
    let r = (|| {
        open_up_nodes()?;
        unprivileged_run("unprivileged", DAEMON_GID)
    })();
    reload_qda("")?;
    let lines = r?;
    for op in [
        "accel attach: 0",
        "accel attach_sns: 0",
        "legacy attach: 0",
        "legacy attach_sns: 0",
        "accel create privileged: 0",
        "legacy create privileged: 0",
    ] {
        check!(lines.iter().any(|l| l == op), "no {op:?} in {lines:?}");
    }
    Ok(())
}

/// With `file_buffers=8 file_mem_mib=4`: a file gets 8 buffers and
/// 4 MiB, on either node kind; freeing one makes room; another file of the
/// same process has limits of its own.
pub fn each_file_has_its_limits() -> Outcome {
    reload_qda("file_buffers=8 file_mem_mib=4")?;
    let r = file_limits();
    reload_qda("")?;
    r
}

fn file_limits() -> Outcome {
    let d = Device::by_name("cdsp").map_err(|e| e.to_string())?;
    let mut bos = Vec::new();
    for i in 0..8 {
        bos.push(qda::Bo::new(&d, 4096).map_err(|e| format!("buffer {i}: {e}"))?);
    }
    expect_errno(
        qda::Bo::new(&d, 4096).map(drop),
        libc::ENOSPC,
        "a 9th buffer",
    )?;
    bos.pop();
    qda::Bo::new(&d, 4096).map_err(|e| format!("after a free: {e}"))?;
    // The bytes: 4 MiB in all.
    let e = Device::by_name("cdsp").map_err(|e| e.to_string())?;
    let big: Vec<_> = (0..4)
        .map(|_| qda::Bo::new(&e, 1 << 20))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("1 MiB buffers: {e}"))?;
    expect_errno(qda::Bo::new(&e, 4096).map(drop), libc::ENOMEM, "past 4 MiB")?;
    drop(big);
    // A legacy file: ALLOC_DMA_BUFF is counted the same way.
    let l = Legacy::open("cdsp").map_err(|e| e.to_string())?;
    let fds: Vec<_> = (0..8)
        .map(|_| l.alloc_dma_buf(4096))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("legacy buffers: {e}"))?;
    expect_errno(
        l.alloc_dma_buf(4096).map(drop),
        libc::ENOSPC,
        "a 9th legacy buffer",
    )?;
    drop(fds);
    // Kernel pages of a legacy MMAP count like a buffer.
    let l = Legacy::open("cdsp").map_err(|e| e.to_string())?;
    calculator(&l)?;
    let va = l
        .mmap(ADSP_MMAP_ADD_PAGES, 4 << 20)
        .map_err(|e| format!("mmap of 4 MiB: {e}"))?;
    expect_errno(
        l.alloc_dma_buf(4096).map(drop),
        libc::ENOMEM,
        "a buffer past 4 MiB of MMAP",
    )?;
    l.munmap(va, 4 << 20).map_err(|e| format!("munmap: {e}"))?;
    l.alloc_dma_buf(4096)
        .map_err(|e| format!("after the munmap: {e}"))?;
    Ok(())
}

/// A foreign dma-buf (the system heap's) mapped ten times at once is
/// attached once: the DMA-API debug code, which warns from the 8th
/// mapping of one buffer to a device, stays quiet (the console check).
pub fn a_foreign_buffer_mapped_often_is_attached_once() -> Outcome {
    let l = Legacy::open("cdsp").map_err(|e| e.to_string())?;
    calculator(&l)?;
    let fd = qda::heap::alloc("system", 4096).map_err(|e| format!("system heap: {e}"))?;
    let m = Mapping::new(fd.as_fd(), 0, 4096).map_err(|e| format!("mmap: {e}"))?;
    let va = m.as_slice().as_ptr() as u64;
    let mut dvas = Vec::new();
    for i in 0..10 {
        let dva = l
            .mem_map(fd.as_fd(), FASTRPC_MAP_FD, va, 4096, 0)
            .map_err(|e| format!("mem_map {i}: {e}"))?;
        dvas.push(dva);
    }
    for (i, dva) in dvas.into_iter().enumerate() {
        l.mem_unmap(fd.as_fd(), dva, 4096)
            .map_err(|e| format!("mem_unmap {i}: {e}"))?;
    }
    Ok(())
}

/// A DSP process has at most 1024 mappings; unmapping one makes room.
pub fn a_process_has_at_most_1024_mappings() -> Outcome {
    let l = Legacy::open("cdsp").map_err(|e| e.to_string())?;
    calculator(&l)?;
    let fd = l.alloc_dma_buf(4096).map_err(|e| format!("alloc: {e}"))?;
    let m = Mapping::new(fd.as_fd(), 0, 4096).map_err(|e| format!("mmap: {e}"))?;
    let va = m.as_slice().as_ptr() as u64;
    let mut dvas = Vec::new();
    for i in 0..1024 {
        let dva = l
            .mem_map(fd.as_fd(), FASTRPC_MAP_FD, va, 4096, 0)
            .map_err(|e| format!("mem_map {i}: {e}"))?;
        dvas.push(dva);
    }
    expect_errno(
        l.mem_map(fd.as_fd(), FASTRPC_MAP_FD, va, 4096, 0).map(drop),
        libc::ENOSPC,
        "mapping 1025",
    )?;
    l.mem_unmap(fd.as_fd(), dvas[0], 4096)
        .map_err(|e| format!("mem_unmap: {e}"))?;
    l.mem_map(fd.as_fd(), FASTRPC_MAP_FD, va, 4096, 0)
        .map_err(|e| format!("a map after an unmap: {e}"))?;
    Ok(())
}

pub fn legacy_nodes_can_be_turned_off() -> Outcome {
    reload_qda("legacy_nodes=0")?;
    let left = Path::new(&Legacy::node("cdsp", false)).exists();
    let accel = Device::paths().map(|p| p.len());
    reload_qda("")?;
    check!(!left, "/dev/fastrpc-cdsp exists with legacy_nodes=0");
    check!(
        accel.as_ref().is_ok_and(|&n| n == TEST_DSPS.len()),
        "accel nodes with legacy_nodes=0: {accel:?}"
    );
    check!(
        Path::new(&Legacy::node("cdsp", false)).exists(),
        "/dev/fastrpc-cdsp did not come back"
    );
    Ok(())
}

/// Reloads qda (and the simulator) with module parameters `params`.
fn reload_qda(params: &str) -> Result<(), String> {
    for m in MODULES.iter().rev() {
        sys::unload_module(m).map_err(|e| format!("rmmod {m}: {e}"))?;
    }
    sys::load_module_with("qda", params).map_err(|e| format!("insmod qda {params}: {e}"))?;
    sys::load_module("qda_dsp_sim").map_err(|e| format!("insmod qda_dsp_sim: {e}"))?;
    // The nodes appear while the simulator's channels probe.
    for _ in 0..100 {
        if Device::paths().is_ok_and(|p| p.len() == TEST_DSPS.len()) {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err("accel nodes did not come back".into())
}

/// `qda_mode=unprivileged`: what an app (this process, uid 1000) is
/// allowed, one line per operation (`<what>: <errno or result>`).
pub fn unprivileged() {
    let code = |r: std::io::Result<()>| r.err().and_then(|e| e.raw_os_error()).unwrap_or(0);
    // One file per attach: a file starts one DSP process.
    if let Ok(d) = Device::by_name("cdsp") {
        println!("accel attach: {}", code(d.attach()));
    }
    if let Ok(d) = Device::by_name("cdsp") {
        println!("accel attach_sns: {}", code(d.attach_sensors()));
    }
    if let Ok(d) = Device::by_name("adsp") {
        println!("accel create_static: {}", code(d.create_static(AUDIO_PD)));
    }
    if let Ok(d) = Device::by_name("cdsp") {
        let sum = d
            .create(&shell(), FASTRPC_MODE_UNSIGNED_MODULE)
            .and_then(|()| d.open_module(CALC))
            .and_then(|h| d.calculator_sum(h, &(1..=100).collect::<Vec<_>>()));
        println!(
            "accel sum: {}",
            sum.map_or_else(|e| e.to_string(), |s| s.to_string())
        );
    }
    if let Ok(l) = Legacy::open("cdsp") {
        println!("legacy attach: {}", code(l.attach()));
    }
    if let Ok(l) = Legacy::open("cdsp") {
        println!("legacy attach_sns: {}", code(l.attach_sensors()));
    }
    if let Ok(l) = Legacy::open("adsp") {
        println!("legacy create_static: {}", code(l.create_static(AUDIO_PD)));
    }
    if let Ok(l) = Legacy::open("cdsp") {
        let sum = calculator(&l).and_then(|h| legacy_sum(&l, h, &(1..=100).collect::<Vec<_>>()));
        println!("legacy sum: {}", sum.map_or_else(|e| e, |s| s.to_string()));
    }
    // The kernel, not the app, grants FASTRPC_MODE_PRIVILEGED.
    let privileged = FASTRPC_MODE_UNSIGNED_MODULE | FASTRPC_MODE_PRIVILEGED;
    if let Ok(d) = Device::by_name("cdsp") {
        println!(
            "accel create privileged: {}",
            code(d.create(&shell(), privileged))
        );
    }
    if let Ok(l) = Legacy::open("cdsp") {
        println!(
            "legacy create privileged: {}",
            code(l.create(None, &shell(), privileged))
        );
    }
    let secure = Legacy::open_node("cdsp", true)
        .err()
        .and_then(|e| e.raw_os_error());
    println!("secure node open: {}", secure.unwrap_or(0));
}

/// `FASTRPC_MODE_PRIVILEGED`: the library leaves it to the kernel.
const FASTRPC_MODE_PRIVILEGED: u32 = 1 << 6;

/// A child of a probe boot, as uid 1000: the accel node's creates. An
/// unprivileged accel file gets upstream's answer for the non-secure node.
pub fn unprivileged_creates() {
    let code = |r: std::io::Result<()>| r.err().and_then(|e| e.raw_os_error()).unwrap_or(0);
    let cases = [
        ("adsp", FASTRPC_MODE_UNSIGNED_MODULE, "unsigned"),
        ("cdsp", 0, "signed"),
        ("cdsp", FASTRPC_MODE_UNSIGNED_MODULE, "unsigned"),
    ];
    for (dsp, attrs, what) in cases {
        if let Ok(d) = Device::by_name(dsp) {
            println!("{dsp} {what} {}", code(d.create(&shell(), attrs)));
        }
    }
}

/// Lets anyone open the accel nodes (probe boots).
fn open_up_accel_nodes() -> Result<(), String> {
    for p in Device::paths().map_err(|e| e.to_string())? {
        fs::set_permissions(&p, fs::Permissions::from_mode(0o666))
            .map_err(|e| format!("chmod {}: {e}", p.display()))?;
    }
    Ok(())
}

/// The names of the `/dev/fastrpc-*` nodes present, sorted.
pub fn node_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir("/dev")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("fastrpc-"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `qda_mode=probe` (broken-DT boots): which legacy nodes exist, and what
/// cdsp's non-secure node may create (`is_session_rejected`: on a secure
/// channel only unsigned PDs).
pub fn probe() {
    println!("qda-probe: legacy nodes: {}", node_names().join(" "));
    let errno = |r: std::io::Result<()>| match r {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("errno {}", e.raw_os_error().unwrap_or(0)),
    };
    if let (Ok(a), Ok(b)) = (Legacy::open("cdsp"), Legacy::open("cdsp")) {
        println!(
            "qda-probe: non-secure cdsp node: signed create {}, unsigned create {}",
            errno(a.create(None, &shell(), 0)),
            errno(b.create(None, &shell(), FASTRPC_MODE_UNSIGNED_MODULE))
        );
    }
    match open_up_accel_nodes().and_then(|()| unprivileged_run("unprivileged-creates", APP_UID)) {
        Ok(lines) => println!(
            "qda-probe: unprivileged accel creates: {}",
            lines.join(", ")
        ),
        Err(e) => println!("qda-probe: unprivileged accel creates failed: {e}"),
    }
}
