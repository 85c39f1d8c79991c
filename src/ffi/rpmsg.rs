// SPDX-License-Identifier: GPL-2.0

//! A minimal safe rpmsg driver abstraction (7.3 has none).
//!
//! C header: [`include/linux/rpmsg.h`](srctree/include/linux/rpmsg.h)

use core::{
    ffi::{
        c_int,
        c_void, //
    },
    marker::PhantomData,
    ptr, //
};
use kernel::{
    bindings,
    device,
    error::to_result,
    new_condvar,
    new_mutex,
    prelude::*,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Release, //
        },
        Arc,
        CondVar,
        Mutex, //
    },
    types::Opaque, //
};

use super::sys;

/// An rpmsg channel device.
///
/// # Invariants
///
/// Wraps a valid, bound `struct rpmsg_device`.
#[repr(transparent)]
pub(crate) struct Device(Opaque<sys::rpmsg_device>);

impl Device {
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct rpmsg_device` that stays valid
    /// for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut sys::rpmsg_device) -> &'a Self {
        // SAFETY: `Device` is a transparent wrapper; validity is guaranteed
        // by the caller.
        unsafe { &*ptr.cast() }
    }

    fn as_raw(&self) -> *mut sys::rpmsg_device {
        self.0.get()
    }
}

/// Whether a bound device's endpoint may still be used, and the sends in
/// progress.
struct GateState {
    /// Probe has published the driver's data: answers can be delivered.
    open: bool,
    revoked: bool,
    active: usize,
}

/// The endpoint of a bound device and its revocation: [`Endpoint`]s hold
/// it; before the endpoint is destroyed at unbind, the device's remove
/// callback revokes it (new sends fail with `-ENODEV`) and waits for the
/// sends in progress.
///
/// # Invariants
///
/// `ept` is valid while `revoked` is false, and while `active` is
/// non-zero.
#[pin_data]
struct EndpointGate {
    ept: *mut sys::rpmsg_endpoint,
    #[pin]
    state: Mutex<GateState>,
    /// Signalled when the last send of a revoked gate ends.
    #[pin]
    idle: CondVar,
}

// SAFETY: `ept` is only used under the gate's rules, from any thread.
unsafe impl Send for EndpointGate {}
// SAFETY: see `Send`; the state is behind a mutex.
unsafe impl Sync for EndpointGate {}

impl EndpointGate {
    /// A gate over the endpoint of bound device `rpdev`.
    ///
    /// # Safety
    ///
    /// `rpdev` must be a device being probed; the gate must be revoked
    /// before its endpoint is destroyed.
    unsafe fn new(rpdev: *mut sys::rpmsg_device) -> Result<Arc<Self>> {
        // SAFETY: valid per the caller; the core sets `ept` before probe.
        let ept = unsafe { (*rpdev).ept };
        if ept.is_null() {
            return Err(ENODEV);
        }
        Arc::pin_init(
            pin_init!(Self {
                ept,
                state <- new_mutex!(GateState {
                    open: false,
                    revoked: false,
                    active: 0,
                }),
                idle <- new_condvar!(),
            }),
            GFP_KERNEL,
        )
    }

    /// Lets sends through: the receive callback can now deliver answers.
    fn open(&self) {
        self.state.lock().open = true;
        self.idle.notify_all();
    }

    /// Refuses new sends (and those waiting for [`Self::open`]) and waits
    /// for those in progress.
    fn revoke(&self) {
        let mut s = self.state.lock();
        s.revoked = true;
        self.idle.notify_all();
        while s.active > 0 {
            self.idle.wait(&mut s);
        }
    }
}

/// The sending side of a bound device's endpoint, usable from any thread
/// for as long as anyone holds it: once the device is unbound, `send`
/// fails with `-ENODEV`.
#[derive(Clone)]
pub(crate) struct Endpoint(Arc<EndpointGate>);

impl Endpoint {
    /// Sends `data` (may sleep); `-ENODEV` once the device is unbound.
    ///
    /// A send before the driver's probe has returned (from a node the
    /// probe already registered) waits until it has: until then the
    /// receive callback has no data to deliver the answer to. So a probe
    /// must never send and wait for the DSP itself.
    pub(crate) fn send(&self, data: &[u8]) -> Result {
        let len = i32::try_from(data.len()).map_err(|_| EINVAL)?;
        let g = &self.0;
        {
            let mut s = g.state.lock();
            while !s.open && !s.revoked {
                g.idle.wait(&mut s);
            }
            if s.revoked {
                return Err(ENODEV);
            }
            s.active += 1;
        }
        // SAFETY: by the gate's invariant the endpoint is valid while this
        // send is counted in `active`; `data` is valid for the call.
        let r = to_result(unsafe { sys::rpmsg_send(g.ept, data.as_ptr().cast_mut().cast(), len) });
        let mut s = g.state.lock();
        s.active -= 1;
        if s.revoked && s.active == 0 {
            g.idle.notify_all();
        }
        r
    }
}

/// What a bound device keeps: the driver's data and the endpoint's gate.
struct Bound<D> {
    gate: Arc<EndpointGate>,
    data: KBox<D>,
}

impl AsRef<device::Device> for Device {
    fn as_ref(&self) -> &device::Device {
        // SAFETY: By the type invariant the rpmsg device, and so its embedded
        // `struct device`, is valid for the lifetime of `self`.
        unsafe { device::Device::from_raw(&raw mut (*self.as_raw()).dev) }
    }
}

/// An rpmsg driver.
pub(crate) trait Driver: 'static {
    /// What a bound device owns; dropped when the device goes away.
    type Data: Send + Sync;
    /// State shared by every device of the driver, owned by the
    /// [`Registration`].
    type Context: Send + Sync;
    /// Driver name (also what `driver_override` matches).
    const NAME: &'static CStr;
    /// rpmsg channel name matched by the id table.
    const CHANNEL: &'static CStr;
    /// Device-tree compatibles matched by the OF table (at most
    /// [`MAX_COMPATIBLES`]).
    const COMPATIBLES: &'static [&'static CStr];

    /// Binds a channel; `ept` sends on it until the device is unbound.
    fn probe(dev: &Device, ept: Endpoint, ctx: &Self::Context) -> Result<KBox<Self::Data>>;

    /// Handles one message from the remote side. Runs in the transport's
    /// receive context: must not sleep.
    fn receive(data: &Self::Data, msg: &[u8]);

    /// The device is going away (its endpoint already refuses sends).
    /// Called before the endpoint is destroyed and the data dropped.
    fn unbind(data: &Self::Data);
}

/// A driver's match tables laid out as modpost reads them from the module
/// object, to write the `alias:` lines of its modinfo (by which udev and
/// modprobe load the module for a device). See [`module_aliases!`].
#[repr(transparent)]
pub(crate) struct AliasTable<T, const N: usize>([T; N]);

// SAFETY: the tables are built at compile time and never written; the only
// non-`Sync` field is `of_device_id::data`, which is always null.
unsafe impl<T, const N: usize> Sync for AliasTable<T, N> {}

/// Copies `s` into a NUL-padded C char array at compile time (truncating).
const fn const_name<const N: usize>(s: &CStr) -> [u8; N] {
    let src = s.to_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < src.len() && i + 1 < N {
        out[i] = src[i];
        i += 1;
    }
    out
}

impl AliasTable<sys::rpmsg_device_id, 2> {
    /// The rpmsg id table of [`Driver::CHANNEL`] (`rpmsg:<channel>`).
    pub(crate) const fn rpmsg<T: Driver>() -> Self {
        let end = sys::rpmsg_device_id {
            name: [0; 32],
            driver_data: 0,
        };
        let id = sys::rpmsg_device_id {
            name: const_name(T::CHANNEL),
            driver_data: 0,
        };
        Self([id, end])
    }
}

/// Most compatibles a driver's OF table holds.
pub(crate) const MAX_COMPATIBLES: usize = 2;

/// Entries of an OF table: the compatibles and the terminator.
pub(crate) const OF_TABLE_LEN: usize = MAX_COMPATIBLES + 1;

impl AliasTable<bindings::of_device_id, OF_TABLE_LEN> {
    /// The OF table of [`Driver::COMPATIBLES`] (`of:N*T*C<compatible>`
    /// each); a driver with more than [`MAX_COMPATIBLES`] does not build.
    pub(crate) const fn of<T: Driver>() -> Self {
        assert!(T::COMPATIBLES.len() <= MAX_COMPATIBLES);
        let end = bindings::of_device_id {
            name: [0; 32],
            type_: [0; 32],
            compatible: [0; 128],
            data: ptr::null(),
        };
        let mut table = [end; OF_TABLE_LEN];
        let mut i = 0;
        while i < T::COMPATIBLES.len() {
            table[i].compatible = const_name(T::COMPATIBLES[i]);
            i += 1;
        }
        Self(table)
    }
}

/// Emits the module aliases of rpmsg driver `$driver` of module `$module`:
/// `rpmsg:<channel>` and the OF aliases of its compatible (an rpmsg device
/// with a DT node reports the OF form in its uevent). Use once per module.
#[macro_export]
macro_rules! rpmsg_module_aliases {
    ($driver:ty, $module:literal) => {
        #[export_name = concat!("__mod_device_table__kmod_", $module, "__rpmsg__rpmsg_ids")]
        static RPMSG_ALIASES: $crate::ffi::rpmsg::AliasTable<$crate::ffi::sys::rpmsg_device_id, 2> =
            $crate::ffi::rpmsg::AliasTable::rpmsg::<$driver>();
        #[export_name = concat!("__mod_device_table__kmod_", $module, "__of__of_ids")]
        static OF_ALIASES: $crate::ffi::rpmsg::AliasTable<
            ::kernel::bindings::of_device_id,
            { $crate::ffi::rpmsg::OF_TABLE_LEN },
        > = $crate::ffi::rpmsg::AliasTable::of::<$driver>();
    };
}

/// The C driver structure with the match tables it points to and the
/// driver's context; `drv` must stay first.
#[repr(C)]
struct DriverStorage<C> {
    drv: sys::rpmsg_driver,
    ids: [sys::rpmsg_device_id; 2],
    of_ids: [bindings::of_device_id; OF_TABLE_LEN],
    ctx: C,
}

/// A registered rpmsg driver; unregistered on drop.
pub(crate) struct Registration<T: Driver> {
    storage: Pin<KBox<Opaque<DriverStorage<T::Context>>>>,
    /// Whether `__register_rpmsg_driver` succeeded (then `drop` unregisters).
    registered: bool,
    _t: PhantomData<T>,
}

// SAFETY: the registration only holds a pointer the driver core owns while
// registered; it may be dropped from any thread.
unsafe impl<T: Driver> Send for Registration<T> {}
// SAFETY: no methods take `&self`.
unsafe impl<T: Driver> Sync for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// Registers the driver with the rpmsg bus.
    pub(crate) fn new(module: &'static ThisModule, ctx: T::Context) -> Result<Self> {
        let storage = KBox::pin(Opaque::<DriverStorage<T::Context>>::zeroed(), GFP_KERNEL)?;
        let s = storage.get();
        // SAFETY: `s` points to zeroed, exclusively owned, pinned memory.
        // All-zero is a valid value for the plain C structures; `ctx` is
        // written without reading the zeroed bytes.
        unsafe {
            (&raw mut (*s).ctx).write(ctx);
            (*s).ids = AliasTable::rpmsg::<T>().0;
            (*s).of_ids = AliasTable::of::<T>().0;
            let drv = &mut (*s).drv;
            drv.drv.name = T::NAME.as_char_ptr();
            drv.drv.of_match_table = (&raw const (*s).of_ids).cast();
            drv.id_table = (&raw const (*s).ids).cast();
            drv.probe = Some(probe_callback::<T>);
            drv.remove = Some(remove_callback::<T>);
            drv.callback = Some(rx_callback::<T>);
        }
        let mut reg = Self {
            storage,
            registered: false,
            _t: PhantomData,
        };
        // SAFETY: the driver structure is fully initialised and pinned; it
        // stays registered until `drop`, which unregisters it first.
        to_result(unsafe { sys::__register_rpmsg_driver(&raw mut (*s).drv, module.as_ptr()) })?;
        reg.registered = true;
        Ok(reg)
    }
}

impl<T: Driver> Drop for Registration<T> {
    fn drop(&mut self) {
        let s = self.storage.get();
        // SAFETY: `drv` is registered if `registered`; unregistering
        // unbinds every device, after which nothing refers to `ctx`,
        // written in `new`.
        unsafe {
            if self.registered {
                sys::unregister_rpmsg_driver(&raw mut (*s).drv);
            }
            core::ptr::drop_in_place(&raw mut (*s).ctx);
        }
    }
}

/// Reads the driver data a successful probe stored.
///
/// # Safety
///
/// `rpdev` must be a valid rpmsg device bound to a `T` driver.
unsafe fn drvdata<T: Driver>(rpdev: *mut sys::rpmsg_device) -> *mut Bound<T::Data> {
    // SAFETY: valid per the caller.
    unsafe { drvdata_slot(rpdev) }.load(Acquire).cast()
}

/// The device's driver-data pointer, as an atomic: the receive callback
/// can run (on the endpoint probe's caller created) while probe publishes
/// the data, so the data is published with release and read with acquire.
///
/// # Safety
///
/// `rpdev` must be a valid rpmsg device; the slot is only used while it is.
unsafe fn drvdata_slot<'a>(rpdev: *mut sys::rpmsg_device) -> &'a Atomic<*mut c_void> {
    // SAFETY: `driver_data` is a properly aligned pointer-sized field of a
    // valid device; the driver core reads it with plain loads only when no
    // callback of ours runs (before probe, after remove).
    unsafe { Atomic::from_ptr(&raw mut (*rpdev).dev.driver_data) }
}

/// # Safety
///
/// Called by the rpmsg core only, for a device of this driver.
unsafe extern "C" fn probe_callback<T: Driver>(rpdev: *mut sys::rpmsg_device) -> c_int {
    // SAFETY: the rpmsg core passes a valid device that outlives the probe,
    // bound to our `rpmsg_driver`, the first field of a `DriverStorage`
    // whose `ctx` lives as long as the driver is registered.
    let (dev, ctx) = unsafe {
        let storage = (*rpdev).dev.driver.cast::<DriverStorage<T::Context>>();
        (Device::from_raw(rpdev), &(*storage).ctx)
    };
    // SAFETY: `rpdev` is being probed; remove revokes the gate before it
    // destroys the endpoint, and a failed probe revokes it below.
    let gate = match unsafe { EndpointGate::new(rpdev) } {
        Ok(g) => g,
        Err(e) => return e.to_errno(),
    };
    let bound = T::probe(dev, Endpoint(gate.clone()), ctx).and_then(|data| {
        KBox::new(
            Bound {
                gate: gate.clone(),
                data,
            },
            GFP_KERNEL,
        )
        .map_err(Error::from)
    });
    match bound {
        Ok(b) => {
            // SAFETY: `rpdev` is valid; the pointer is reclaimed in remove.
            unsafe { drvdata_slot(rpdev) }.store(KBox::into_raw(b).cast(), Release);
            gate.open();
            0
        }
        Err(e) => {
            // The driver may still hold endpoints: they must not send on
            // an endpoint the core is about to destroy.
            gate.revoke();
            e.to_errno()
        }
    }
}

/// # Safety
///
/// Called by the rpmsg core only, for a device of this driver.
unsafe extern "C" fn remove_callback<T: Driver>(rpdev: *mut sys::rpmsg_device) {
    // SAFETY: the rpmsg core passes the device probe succeeded on.
    let bound = unsafe { drvdata::<T>(rpdev) };
    if !bound.is_null() {
        // SAFETY: set by probe, freed only below.
        let bound = unsafe { &*bound };
        bound.gate.revoke();
        T::unbind(&bound.data);
    }
    // SAFETY: as above. The endpoint is destroyed next (which waits for a
    // running receive callback), so no callback can see the data after it
    // is freed; the core skips its own destroy since `ept` is then NULL.
    unsafe {
        let ept = (*rpdev).ept;
        if !ept.is_null() {
            sys::rpmsg_destroy_ept(ept);
            (*rpdev).ept = ptr::null_mut();
        }
    }
    // SAFETY: `rpdev` is valid (see above).
    let data = unsafe { drvdata::<T>(rpdev) };
    // SAFETY: as above.
    unsafe { drvdata_slot(rpdev) }.store(ptr::null_mut(), Release);
    if !data.is_null() {
        // SAFETY: `data` came from `KBox::into_raw` in probe and nothing
        // else refers to it any more.
        drop(unsafe { KBox::from_raw(data) });
    }
}

/// # Safety
///
/// Called by the rpmsg core only, for a device of this driver.
unsafe extern "C" fn rx_callback<T: Driver>(
    rpdev: *mut sys::rpmsg_device,
    msg: *mut c_void,
    len: c_int,
    _priv: *mut c_void,
    _src: u32,
) -> c_int {
    // SAFETY: the transport passes the bound device.
    let data = unsafe { drvdata::<T>(rpdev) };
    let Ok(len) = usize::try_from(len) else {
        return 0;
    };
    if data.is_null() || msg.is_null() {
        // A message before probe finished publishing its data (sends wait
        // for that), or after remove started: nobody can be waiting for
        // it.
        return 0;
    }
    // SAFETY: the transport guarantees `msg` is readable for `len` bytes
    // for the duration of the callback.
    let bytes = unsafe { core::slice::from_raw_parts(msg.cast::<u8>(), len) };
    // SAFETY: `data` stays valid until remove, which destroys the endpoint
    // (waiting for this callback) before freeing it.
    T::receive(unsafe { &(*data).data }, bytes);
    0
}
