//! Userspace tests of the context-bank bus and per-process sessions.

use std::{fs, path::Path};

use qda::Device;

use crate::fixtures::{
    errno::expect_errno,
    ktap::{check, Outcome},
    sessions::{me, owned_by, slots, Holder, Slot},
};

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
    let err = expect_errno(r, libc::EBUSY, "open with every adsp session taken");
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
