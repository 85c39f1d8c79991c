// SPDX-License-Identifier: GPL-2.0

//! The rpmsg driver: one DRM accel device per FastRPC channel, with the
//! channel's context banks and sessions.

use kernel::{
    debugfs,
    device::property::FwNode,
    prelude::*,
    str::CString,
    sync::{
        Arc,
        SetOnce, //
    },
};

use crate::{
    debugfs::DspDebugfs,
    dsp::Dsp,
    fastrpc::{
        channel::Channel,
        transport::{
            rpmsg::RpmsgTransport,
            Transport, //
        },
    },
    ffi::{
        accel,
        bus::{
            self,
            CbDevice, //
        },
        rpmsg, //
    },
    legacy::LegacyNodes,
    memory::MemoryManager,
    platform::{
        context_bank::ContextBank,
        domain::Domain,
        dt,
        rebind::Rebinder,
        remote_heap::RemoteHeap,
        session::Sessions,
        soc, //
    },
};

/// State shared by all channels: the debugfs root (`/sys/kernel/debug/qda`).
pub(crate) struct DriverContext {
    debugfs: debugfs::Dir,
    /// Channels waiting for an earlier instance's context banks to go.
    rebinder: Arc<Rebinder>,
}

impl DriverContext {
    /// Creates the shared state.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            debugfs: debugfs::Dir::new(c"qda"),
            rebinder: Rebinder::new()?,
        })
    }
}

impl Drop for DriverContext {
    fn drop(&mut self) {
        // Every device is unbound by now; a rebind still queued runs
        // before the driver's code may go.
        self.rebinder.drain();
    }
}

/// The DSP named by the node's `label`.
fn read_domain(dev: &kernel::device::Device, node: &FwNode) -> Result<Domain> {
    let label: CString = node.property_read(c"label").required_by(dev)?;
    Domain::from_label(label.to_bytes()).ok_or_else(|| {
        dev_err!(
            dev,
            "{}: unknown DSP label {:?}\n",
            node.display_name(),
            label
        );
        EINVAL
    })
}

/// The device names of the channel's context banks (`<dsp>-cb<sid>`).
fn cb_names(domain: Domain, cfg: &dt::ChannelConfig) -> Result<KVec<CString>> {
    let mut names = KVec::new();
    for (_, spec) in &cfg.cbs {
        names.push(
            CString::try_from_fmt(fmt!("{}-cb{}", domain.label(), spec.sid))?,
            GFP_KERNEL,
        )?;
    }
    Ok(names)
}

/// Registers the channel's context-bank devices (whose deletion may let a
/// waiting channel bind), with their session counts.
fn context_banks(
    ctx: &DriverContext,
    node: &FwNode,
    cfg: &dt::ChannelConfig,
    names: KVec<CString>,
) -> Result<KVec<(Arc<ContextBank>, u32)>> {
    let mut cbs = KVec::new();
    for ((child, spec), name) in cfg.cbs.iter().zip(names) {
        let mut cb = CbDevice::new(child, name, cfg.layout.iova_bits(), spec.smmu)?;
        if !spec.smmu {
            dev_warn!(
                cb.as_ref(),
                "{}: context bank without `iommus`: no SMMU isolation, the DSP gets physical addresses (SID {}); unsigned PDs refused on it\n",
                child.display_name(),
                spec.sid
            );
        }
        let rebinder = ctx.rebinder.clone();
        cb.on_deleted(KBox::new(move || rebinder.kick(), GFP_KERNEL)?);
        if let Some(index) = cfg.memory.apps_cma_index {
            // Contiguous allocations on this CB come from the apps' pool.
            cb.assign_reserved_mem(node, index)?;
        }
        cbs.push(
            (ContextBank::new(cb, spec.sid, cfg.layout)?, spec.nsessions),
            GFP_KERNEL,
        )?;
    }
    Ok(cbs)
}

/// The line saying what registered.
fn log_registered(
    dev: &kernel::device::Device,
    domain: Domain,
    cfg: &dt::ChannelConfig,
    index: i32,
) {
    dev_info!(
        dev,
        "{} DSP registered as /dev/accel/accel{}: {} (SID at bit {}, {}-bit DMA{}), {} context banks, {} sessions{}, {} vmids, memory-region: {}\n",
        domain.label(),
        index,
        cfg.soc.compatible,
        cfg.layout.sid_shift(),
        cfg.layout.iova_bits(),
        if cfg.poll_mode { ", poll mode" } else { "" },
        cfg.cbs.len(),
        cfg.sessions,
        if cfg.non_secure { ", non-secure" } else { "" },
        cfg.vmids.len(),
        match (&cfg.memory.apps_cma, &cfg.memory.apps_carveout) {
            (Some(_), Some(_)) => "apps CMA + carve-out",
            (Some(_), None) => "apps CMA",
            (None, Some(_)) => "apps carve-out",
            (None, None) => "no apps pool",
        }
    );
}

/// Builds the DSP service of a channel: its sessions on context banks
/// `cbs`, its memory manager and the FastRPC channel over `ept`.
fn service(
    dev: &kernel::device::Device,
    (domain, cfg): (Domain, &dt::ChannelConfig),
    cbs: KVec<(Arc<ContextBank>, u32)>,
    ept: rpmsg::Endpoint,
    heap: Option<&RemoteHeap>,
) -> Result<Arc<Dsp>> {
    let memory = MemoryManager::new(
        cfg.memory.apps_cma.as_ref().map(|e| e.region),
        cfg.memory.apps_carveout.as_ref().and_then(|e| e.nomap),
    )?;
    let memory = Arc::new(memory, GFP_KERNEL)?;
    let transport: KBox<dyn Transport> = KBox::new(RpmsgTransport::new(ept), GFP_KERNEL)?;
    let channel = Channel::new(transport, dev.into())?;
    let sessions = Sessions::new(cbs)?;
    Arc::pin_init(
        pin_init!(Dsp {
            domain,
            secure: !cfg.non_secure,
            sessions,
            memory,
            channel,
            heap: heap.map(|h| h.info().clone()),
            attributes: SetOnce::new(),
        }),
        GFP_KERNEL,
    )
}

/// Registers the frontends of `dsp` (its accel node and legacy nodes) and
/// its debugfs directory.
fn frontends(
    ctx: &DriverContext,
    dev: &kernel::device::Device,
    dsp: &Arc<Dsp>,
    heap: Option<RemoteHeap>,
) -> Result<BoundDsp> {
    let accel = crate::accel::register(dev, dsp.clone())?;
    let legacy = LegacyNodes::register(dsp, &accel.device_ref())?;
    let name = CString::try_from_fmt(fmt!("{}", dsp.domain.label()))?;
    let debugfs = DspDebugfs::new(
        &ctx.debugfs,
        &name,
        (&dsp.sessions, &dsp.memory, &dsp.channel),
        heap.as_ref().map(|h| (h.info().clone(), h.access())),
    )?;
    Ok(BoundDsp {
        channel: dsp.channel.clone(),
        _legacy: legacy,
        _debugfs: debugfs,
        _accel: accel,
        _heap: heap,
    })
}

/// The rpmsg driver for FastRPC channels.
pub(crate) struct QdaDriver;

/// What a bound channel owns. Fields drop in order: debugfs first, the
/// accel device, then the remote heap (the channel is shut down by then:
/// nothing can hand the heap to the DSP any more).
pub(crate) struct BoundDsp {
    channel: Arc<Channel>,
    /// Deregistered first: no new legacy files while the rest goes.
    _legacy: LegacyNodes,
    _debugfs: DspDebugfs,
    _accel: accel::Registration<Dsp>,
    _heap: Option<RemoteHeap>,
}

crate::rpmsg_module_aliases!(QdaDriver, "qda");

impl rpmsg::Driver for QdaDriver {
    type Data = BoundDsp;
    type Context = DriverContext;
    const NAME: &'static CStr = c"qda";
    const CHANNEL: &'static CStr = c"fastrpcglink-apps-dsp";
    const COMPATIBLES: &'static [&'static CStr] =
        &[soc::KAANAPALI.compatible, soc::DEFAULT.compatible];

    fn probe(
        rpdev: &rpmsg::Device,
        ept: rpmsg::Endpoint,
        ctx: &DriverContext,
    ) -> Result<KBox<BoundDsp>> {
        let dev = rpdev.as_ref();
        let node = dev.fwnode().ok_or_else(|| {
            dev_err!(dev, "no device-tree node for this FastRPC channel\n");
            ENODEV
        })?;
        let domain = read_domain(dev, node)?;
        let cfg = dt::read_channel(dev, node, domain)?;
        let names = cb_names(domain, &cfg)?;
        if names.iter().any(|n| bus::name_in_use(n)) {
            // A previous incarnation of this DSP (before a subsystem
            // restart) still has open files: its context banks hold the
            // same SMMU streams. Bind once they are all gone.
            dev_info!(
                dev,
                "{}: previous DSP instance still in use; binding when its files are closed\n",
                domain.label()
            );
            ctx.rebinder.wait_for(dev, names)?;
            return Err(EPROBE_DEFER);
        }
        let heap = RemoteHeap::new(dev, &cfg)?;
        let cbs = context_banks(ctx, node, &cfg, names)?;
        let dsp = service(dev, (domain, &cfg), cbs, ept, heap.as_ref())?;
        let bound = frontends(ctx, dev, &dsp, heap)?;
        log_registered(dev, domain, &cfg, bound._accel.index());
        if let Some(h) = &bound._heap {
            dev_info!(
                dev,
                "{}: remote heap {:#x}+{:#x}, {}\n",
                domain.label(),
                h.info().base,
                h.info().size,
                h.access()
            );
        }
        Ok(KBox::new(bound, GFP_KERNEL)?)
    }

    fn receive(data: &BoundDsp, msg: &[u8]) {
        data.channel.receive(msg);
    }

    fn unbind(data: &BoundDsp) {
        // Before the endpoint goes: no more sends, every waiting call
        // fails, orphans are reaped.
        data.channel.shutdown();
    }
}
