// SPDX-License-Identifier: GPL-2.0

//! The simulated DSP ([`Dsp`]): it decodes each request
//! ([`Call`]), routes it by handle and answers, now or — for calls firmware
//! holds — later, when the event they wait for arrives.
//!
//! Static handles: 0 `remotectl` and 8 `remotectl1` ([`remotectl`]),
//! 1 process control and 2 capabilities ([`kernel_calls`]), 3
//! `adsp_listener` and 7 `adsp_listener1` ([`listener`]), 4
//! `adsp_current_process1` ([`current_process`]). Module handles are
//! large random values ([`modules`]).
//!
//! Every argument is read and written through the SMMU ([`Smmu`]) at the
//! addresses the metadata gives, checked against its page entry, exactly
//! as firmware would.

use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
};

use crate::{
    dsp::{
        call::Call,
        errors::{
            AEE_EBADSTATE,
            AEE_EINVHANDLE, //
        },
        kernel_calls,
        remotectl,
        reply::{
            Outcome,
            Reply, //
        },
        skel::Refusal,
        state::{
            State,
            EACCES_RV, //
        },
        trace::Trace, //
    },
    hw::{
        remoteproc::Remoteproc,
        smmu::Smmu, //
    },
    layout,
    pd::{
        audio_pd::AudioPd,
        current_process,
        modules::{
            self,
            Module, //
        },
        process::Effects, //
    },
    reverse::listener,
    scalars::Scalars,
    wire::{
        Msg,
        Rsp, //
    }, //
};

/// Return value of a call that faulted in the SMMU.
const EFAULT_RV: i32 = -14;

/// One simulated DSP.
#[pin_data]
pub(crate) struct Dsp {
    pub(crate) smmu: Smmu,
    /// The remoteproc's view of memory (the static PDs' heap), used
    /// without the state's lock.
    pub(crate) rproc: Remoteproc,
    /// What this channel received (kept across simulated crashes).
    trace: Arc<Mutex<Trace>>,
    #[pin]
    state: Mutex<State>,
}

impl Dsp {
    /// A DSP reaching memory through `smmu`, recording into `trace`.
    pub(crate) fn new(
        smmu: Smmu,
        rproc: Remoteproc,
        trace: Arc<Mutex<Trace>>,
    ) -> impl PinInit<Self> {
        pin_init!(Self {
            smmu,
            trace,
            rproc,
            state <- new_mutex!(State {
                audio: AudioPd::default(),
                sensors: None,
                sensors_last: None,
                procs: KVec::new(),
                open: KVec::new(),
                maps: KVec::new(),
                next_vaddr: 0x4000_0000,
            }),
        })
    }

    /// Runs `f` on the DSP's state (debugfs views and commands).
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock())
    }

    /// Handles one request.
    pub(crate) fn handle(&self, msg: &Msg) -> Outcome {
        let mut done = KVec::new();
        let read = Call::read(&self.smmu, msg);
        self.trace.lock().record(msg, read.as_ref().ok());
        let retval = match read {
            Ok(call) => self.run(&call, &mut done),
            Err(Refusal::Code(c)) => {
                pr_warn!(
                    "refused malformed metadata: handle {} sc {:#x} (payload {:#x}+{:#x})\n",
                    msg.handle,
                    msg.sc,
                    msg.addr,
                    msg.size
                );
                Some(c)
            }
            Err(Refusal::Kernel(e)) => Some(self.errno(e, msg)),
        };
        Outcome { retval, done }
    }

    fn run(&self, call: &Call, done: &mut KVec<Rsp>) -> Option<i32> {
        let mut outs = KVec::new();
        let r = self.dispatch(call, &mut outs, done);
        let r = match r {
            Ok(Reply::Held) => return None,
            Ok(Reply::Now(r)) => call.write(&self.smmu, &outs).map(|()| r),
            Err(Refusal::Code(c)) => Ok(c),
            Err(Refusal::Kernel(e)) => Err(e),
        };
        Some(r.unwrap_or_else(|e| {
            self.errno(
                e,
                &Msg {
                    handle: call.handle,
                    sc: call.sc.0,
                    ..Msg::default()
                },
            )
        }))
    }

    fn errno(&self, e: Error, msg: &Msg) -> i32 {
        if e == EFAULT {
            pr_warn!(
                "SMMU fault handling handle {} sc {:#x} (payload {:#x})\n",
                msg.handle,
                msg.sc,
                msg.addr
            );
            return EFAULT_RV;
        }
        e.to_errno()
    }

    /// Overwrites the metadata of `msg`'s payload (remote arguments, page
    /// table, fd and CRC lists) with `0xff` bytes, as broken firmware
    /// might after running a method. The driver must not trust any of it.
    pub(crate) fn scribble(&self, msg: &Msg) {
        let n = Scalars(msg.sc).len();
        if n == 0 {
            return;
        }
        let Ok(junk) = KVec::from_elem(0xffu8, layout::metalen(n), GFP_KERNEL) else {
            return;
        };
        if self.smmu.write(msg.addr, &junk).is_err() {
            pr_warn!("scribble: payload {:#x} not writable\n", msg.addr);
        }
    }

    fn dispatch(
        &self,
        call: &Call,
        outs: &mut KVec<KVec<u8>>,
        done: &mut KVec<Rsp>,
    ) -> Result<Reply, Refusal> {
        let mut st = self.state.lock();
        if modules::is_module_handle(call.handle) {
            let module = module_of(&st, call)?;
            if module.register_method() == Some(call.sc.method()) {
                // The registration is the process's: kept with the state.
                let r = module.call(call, outs)?;
                if let Some(p) = st.process(call.client_id) {
                    p.default_listener |= r == 0;
                }
                return Ok(Reply::Now(r));
            }
            // Module methods run unlocked, concurrently.
            drop(st);
            return module.call(call, outs).map(Reply::Now);
        }
        let mut fx = Effects {
            smmu: &self.smmu,
            rproc: &self.rproc,
            done,
            finished: KVec::new(),
        };
        if let Some(r) = kernel_calls::handle(&mut st, call, outs, &mut fx)? {
            return Ok(Reply::Now(r));
        }
        if st.process(call.client_id).is_none() {
            return Ok(Reply::Now(EACCES_RV));
        }
        let r = match call.handle {
            0 | 8 => remotectl::handle(&mut st, call, outs, &mut fx),
            3 | 7 => listener::handle(&mut st, call, outs, &mut fx),
            4 => current_process::handle(&mut st, call, outs, &mut fx),
            _ => Err(Refusal::Code(AEE_EINVHANDLE)),
        };
        // Opens whose skel load ended get their handles now.
        let finished = core::mem::take(&mut fx.finished);
        for f in finished {
            remotectl::finish_open(&mut st, f, &mut fx)?;
        }
        r
    }
}

/// The module a call's handle names, opened by the calling process.
fn module_of(st: &State, call: &Call) -> Result<Module, Refusal> {
    match st.procs.iter().find(|p| p.client_id == call.client_id) {
        None => return Err(Refusal::Code(EACCES_RV)),
        // The process has exited: its modules are gone.
        Some(p) if p.exiting() => return Err(Refusal::Code(AEE_EBADSTATE)),
        Some(_) => {}
    }
    st.open
        .iter()
        .find(|o| o.handle == call.handle && o.client_id == call.client_id)
        .map(|o| o.module)
        .ok_or(Refusal::Code(AEE_EINVHANDLE))
}
