//! Userspace tests of the context-bank bus and per-process sessions.

use std::{fs, path::Path};

use qda::Device;

use crate::ktap::{check, Outcome};

/// One line of `/sys/kernel/debug/qda/<dsp>/sessions`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    pub sid: u32,
    pub group: i32,
    pub owner: i32,
    pub files: usize,
}

pub fn slots(dsp: &str) -> Result<Vec<Slot>, String> {
    let path = format!("/sys/kernel/debug/qda/{dsp}/sessions");
    let text = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let mut v = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("{path}: bad line {line:?}");
        if f.len() != 6 {
            return Err(bad());
        }
        v.push(Slot {
            sid: f[1].parse().map_err(|_| bad())?,
            group: f[2].parse().map_err(|_| bad())?,
            owner: f[4].parse().map_err(|_| bad())?,
            files: f[5].parse().map_err(|_| bad())?,
        });
    }
    Ok(v)
}

pub fn owned_by(dsp: &str, pid: i32) -> Result<Vec<Slot>, String> {
    Ok(slots(dsp)?.into_iter().filter(|s| s.owner == pid).collect())
}

/// A forked child that holds `dsp` open until dropped.
pub struct Holder {
    pub pid: i32,
    release: i32,
    /// What the child's setup function reported.
    pub value: u64,
}

impl Holder {
    pub fn spawn(dsp: &'static str) -> Result<Self, String> {
        Self::spawn_with(dsp, |_| Some(0))
    }

    /// Forks a child that opens `dsp`, runs `setup` on it (keeping what it
    /// creates alive), reports the `u64` it returns and waits until the
    /// holder is dropped.
    pub fn spawn_with(
        dsp: &'static str,
        setup: fn(&Device) -> Option<u64>,
    ) -> Result<Self, String> {
        let (mut ready, mut release) = ([0i32; 2], [0i32; 2]);
        // SAFETY: plain pipe/fork; the child only opens, writes, reads and
        // exits with `_exit`.
        unsafe {
            if libc::pipe(ready.as_mut_ptr()) != 0 || libc::pipe(release.as_mut_ptr()) != 0 {
                return Err("pipe failed".into());
            }
            let pid = libc::fork();
            if pid < 0 {
                return Err("fork failed".into());
            }
            if pid == 0 {
                let dev = Device::by_name(dsp);
                let value = dev.as_ref().ok().and_then(setup);
                let ok: u8 = u8::from(value.is_some());
                let v = value.unwrap_or(0);
                libc::write(ready[1], (&raw const ok).cast(), 1);
                libc::write(ready[1], (&raw const v).cast(), 8);
                let mut b = 0u8;
                libc::read(release[0], (&raw mut b).cast(), 1);
                drop(dev);
                libc::_exit(0);
            }
            let mut ok = 0u8;
            let mut value = 0u64;
            libc::close(ready[1]);
            libc::read(ready[0], (&raw mut ok).cast(), 1);
            libc::read(ready[0], (&raw mut value).cast(), 8);
            libc::close(ready[0]);
            libc::close(release[0]);
            let h = Holder {
                pid,
                release: release[1],
                value,
            };
            if ok != 1 {
                return Err(format!("child {pid} could not open or set up {dsp}"));
            }
            Ok(h)
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        // SAFETY: wakes the child and reaps it.
        unsafe {
            libc::write(self.release, [1u8].as_ptr().cast(), 1);
            libc::close(self.release);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

pub fn me() -> i32 {
    // SAFETY: no preconditions.
    unsafe { libc::getpid() }
}

pub fn context_banks_are_bus_devices_with_own_iommu_groups() -> Outcome {
    let dir = "/sys/bus/qda-cb/devices";
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("{dir}: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let want = [
        "adsp-cb3",
        "adsp-cb4",
        "adsp-cb5",
        "cdsp-cb1",
        "cdsp-cb2",
        "cdsp-cb3",
        "gdsp0-cb1",
        "gdsp0-cb2",
        "gdsp0-cb3",
        "sdsp-cb1",
        "sdsp-cb2",
        "sdsp-cb3",
    ];
    check!(names == want, "CB devices {names:?}, want {want:?}");
    let mut groups = Vec::new();
    for n in &names {
        let g = fs::read_link(format!("{dir}/{n}/iommu_group"))
            .map_err(|e| format!("{n}: no iommu_group link: {e}"))?;
        groups.push(
            g.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        );
        check!(
            Path::new(&format!("{dir}/{n}/driver")).exists(),
            "{n} is not bound to the CB driver"
        );
    }
    let mut uniq = groups.clone();
    uniq.sort();
    uniq.dedup();
    check!(
        uniq.len() == groups.len(),
        "CBs share IOMMU groups: {groups:?}"
    );
    Ok(())
}

pub fn nsessions_is_honoured() -> Outcome {
    let s = slots("cdsp")?;
    let sids: Vec<u32> = s.iter().map(|s| s.sid).collect();
    check!(
        sids == [1, 2, 3, 3],
        "cdsp session SIDs {sids:?}, want [1, 2, 3, 3]"
    );
    check!(
        s[2].group == s[3].group,
        "two sessions of one CB in different groups: {s:?}"
    );
    check!(slots("adsp")?.len() == 3, "adsp should offer 3 sessions");
    Ok(())
}

pub fn opens_of_one_process_share_a_session() -> Outcome {
    let a = Device::by_name("cdsp").map_err(|e| e.to_string())?;
    // The second open comes from another thread of this process.
    let b = std::thread::spawn(|| Device::by_name("cdsp"))
        .join()
        .map_err(|_| "opening thread panicked".to_string())?
        .map_err(|e| e.to_string())?;
    let mine = owned_by("cdsp", me())?;
    check!(
        mine.len() == 1,
        "one process holds {} sessions: {mine:?}",
        mine.len()
    );
    check!(
        mine[0].files == 2,
        "session counts {} files, want 2",
        mine[0].files
    );
    drop(a);
    let mine = owned_by("cdsp", me())?;
    check!(
        mine.len() == 1 && mine[0].files == 1,
        "after one close: {mine:?}"
    );
    drop(b);
    let mine = owned_by("cdsp", me())?;
    check!(
        mine.is_empty(),
        "session still held after the last close: {mine:?}"
    );
    Ok(())
}

pub fn two_processes_get_different_context_banks() -> Outcome {
    let child = Holder::spawn("cdsp")?;
    let d = Device::by_name("cdsp").map_err(|e| e.to_string())?;
    let theirs = owned_by("cdsp", child.pid)?;
    let mine = owned_by("cdsp", me())?;
    check!(
        theirs.len() == 1 && mine.len() == 1,
        "sessions: child {theirs:?}, parent {mine:?}"
    );
    check!(
        theirs[0].sid != mine[0].sid,
        "both processes on SID {}",
        mine[0].sid
    );
    check!(
        theirs[0].group != mine[0].group,
        "both processes in IOMMU group {}",
        mine[0].group
    );
    drop(d);
    drop(child);
    check!(
        owned_by("cdsp", me())?.is_empty(),
        "parent's session not freed"
    );
    Ok(())
}

pub fn no_free_session_is_ebusy() -> Outcome {
    let path = Device::by_name("adsp")
        .map_err(|e| e.to_string())?
        .path()
        .to_path_buf();
    let total = slots("adsp")?.len();
    let mut kids = Vec::new();
    for _ in 0..total {
        kids.push(Holder::spawn("adsp")?);
    }
    let r = Device::open(&path);
    let err = crate::tests::expect_errno(r, libc::EBUSY, "open with every adsp session taken");
    drop(kids);
    err?;
    let busy: Vec<Slot> = slots("adsp")?
        .into_iter()
        .filter(|s| s.owner != -1)
        .collect();
    check!(
        busy.is_empty(),
        "sessions not freed after the holders exited: {busy:?}"
    );
    check!(
        Device::by_name("adsp").is_ok(),
        "adsp cannot be opened again"
    );
    Ok(())
}
