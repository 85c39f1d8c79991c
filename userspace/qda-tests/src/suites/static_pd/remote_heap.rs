//! The remote heap's identity mapping follows qda's binding
//! (`qda_static_pd`): unmapped from the remoteproc's IOMMU domain when qda
//! lets go of the ADSP channel, mapped again when it binds anew.

use qda::Device;

use crate::fixtures::{
    ktap::{check, Outcome},
    sim_static::remoteproc,
    static_pd::{heap, heap_fully_mapped, open, DSP, PAGE},
    sys::{rpmsg_name, write_sysfs},
    wait::eventually,
};

pub fn unmapped_while_qda_is_unbound() -> Outcome {
    let (_, size) = heap()?;
    heap_fully_mapped(size)?;
    let rpdev = rpmsg_name(open(DSP)?.path())?;
    write_sysfs("/sys/bus/rpmsg/drivers/qda/unbind", &rpdev)?;
    let unbound = remoteproc(DSP);
    write_sysfs("/sys/bus/rpmsg/drivers/qda/bind", &rpdev)?;
    let r = unbound?;
    check!(
        r.mapped == 0 && r.total == size / PAGE,
        "remote heap with qda unbound: {} of {} pages mapped",
        r.mapped,
        r.total
    );
    check!(
        eventually(|| Device::by_name(DSP).is_ok()),
        "{DSP} did not come back after the rebind"
    );
    heap_fully_mapped(size)
}
