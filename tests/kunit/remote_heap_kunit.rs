// SPDX-License-Identifier: GPL-2.0

//! KUnit: the remote heap's SCM assignment with a fake assigner (the test
//! kernel has no secure world): the calls in order with their permissions
//! and owner bitmaps, the give-back on every path, nothing given back
//! after a failed assignment, a failed give-back that leaks the heap's
//! memory instead of freeing it (also when a later give-back reports
//! nothing); and the heap claim of static-PD creates.

#[kernel::macros::kunit_tests(qda_remote_heap)]
mod tests {
    use crate::{
        ffi::{
            guarded::{
                DeviceMemory,
                Guarded, //
            },
            scm::*,
        },
        platform::remote_heap::HeapInfo, //
    };
    use core::cell::RefCell;
    use kernel::prelude::*;

    /// One `assign` call as the fake saw it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Call {
        base: u64,
        size: u64,
        src: u64,
        dst: [VmPerm; 2],
        ndst: usize,
    }

    /// Records every call; fails the call numbered `fail_at` (0-based).
    struct Fake<'a> {
        log: &'a RefCell<KVec<Call>>,
        fail_at: Option<usize>,
    }

    impl Assigner for Fake<'_> {
        unsafe fn assign(&self, base: u64, size: u64, src: u64, dst: &[VmPerm]) -> Result<u64> {
            let mut log = self.log.borrow_mut();
            let n = log.len();
            let mut d = [VmPerm::default(); 2];
            for (o, i) in d.iter_mut().zip(dst) {
                *o = *i;
            }
            log.push(
                Call {
                    base,
                    size,
                    src,
                    dst: d,
                    ndst: dst.len(),
                },
                GFP_KERNEL,
            )?;
            if self.fail_at == Some(n) {
                return Err(EIO);
            }
            Ok(dst.iter().fold(0, |m, p| m | (1u64 << p.vmid)))
        }
    }

    /// The heap's memory as the fake sees it: a range, and whether it
    /// was freed.
    struct FakeHeap<'a> {
        base: u64,
        size: u64,
        freed: Option<&'a RefCell<bool>>,
    }

    // SAFETY: handed only to the fake assigner, which gives no device or
    // VM anything: the range is never made reachable by anyone.
    unsafe impl DeviceMemory for FakeHeap<'_> {
        fn range(&self) -> (u64, u64) {
            (self.base, self.size)
        }
    }

    impl Drop for FakeHeap<'_> {
        fn drop(&mut self) {
            if let Some(freed) = self.freed {
                *freed.borrow_mut() = true;
            }
        }
    }

    /// A heap assigned with the fake, which never touches memory: any
    /// range may be "assigned".
    type FakeAssignment<'a> = Guarded<HeapAssignment<Fake<'a>>, FakeHeap<'a>>;

    fn fake_assignment<'a>(
        f: Fake<'a>,
        base: u64,
        size: u64,
        vmids: &[u32],
    ) -> Result<FakeAssignment<'a>> {
        let heap = FakeHeap {
            base,
            size,
            freed: None,
        };
        HeapAssignment::new(f, heap, vmids)
    }

    const BASE: u64 = 0x9400_0000;
    const SIZE: u64 = 0x80_0000;
    const LPASS: u32 = 0x16;
    const ADSP_HEAP: u32 = 0x25;

    fn rwx(vmid: u32) -> VmPerm {
        VmPerm {
            vmid,
            perm: PERM_RWX,
        }
    }

    #[test]
    fn assigned_at_probe_and_given_back_at_remove() -> Result {
        let log = RefCell::new(KVec::new());
        let a = fake_assignment(
            Fake {
                log: &log,
                fail_at: None,
            },
            BASE,
            SIZE,
            &[LPASS, ADSP_HEAP],
        )?;
        assert_eq!(log.borrow().len(), 1);
        let first = log.borrow()[0];
        assert_eq!((first.base, first.size), (BASE, SIZE));
        assert_eq!(first.src, 1 << VMID_HLOS);
        assert_eq!(first.ndst, 2);
        assert_eq!(first.dst, [rwx(LPASS), rwx(ADSP_HEAP)]);
        drop(a);
        assert_eq!(log.borrow().len(), 2);
        let back = log.borrow()[1];
        assert_eq!((back.base, back.size), (BASE, SIZE));
        assert_eq!(back.src, (1 << LPASS) | (1 << ADSP_HEAP));
        assert_eq!(back.ndst, 1);
        assert_eq!(back.dst[0], rwx(VMID_HLOS));
        Ok(())
    }

    #[test]
    fn a_failed_assignment_gives_nothing_back() {
        let log = RefCell::new(KVec::new());
        let fake = Fake {
            log: &log,
            fail_at: Some(0),
        };
        assert_eq!(fake_assignment(fake, BASE, SIZE, &[LPASS]).err(), Some(EIO));
        // No give-back after a failure.
        assert_eq!(log.borrow().len(), 1);
    }

    #[test]
    fn bad_vmids_are_refused_before_any_call() {
        let log = RefCell::new(KVec::new());
        let f = || Fake {
            log: &log,
            fail_at: None,
        };
        assert_eq!(fake_assignment(f(), BASE, SIZE, &[]).err(), Some(EINVAL));
        assert_eq!(fake_assignment(f(), BASE, SIZE, &[64]).err(), Some(EINVAL));
        assert_eq!(
            fake_assignment(f(), BASE, SIZE, &[1; 9]).err(),
            Some(EINVAL)
        );
        assert_eq!(log.borrow().len(), 0);
    }

    /// A heap assigned through `fake` (give-back failing if `fail_at` is
    /// `Some(1)`), dropped as `RemoteHeap` drops it; whether its memory
    /// was freed.
    fn drop_heap(fail_at: Option<usize>) -> Result<(usize, bool)> {
        let log = RefCell::new(KVec::new());
        let freed = RefCell::new(false);
        let fake = Fake { log: &log, fail_at };
        let heap = FakeHeap {
            base: BASE,
            size: SIZE,
            freed: Some(&freed),
        };
        drop(HeapAssignment::new(fake, heap, &[LPASS])?);
        let calls = log.borrow().len();
        let freed = *freed.borrow();
        Ok((calls, freed))
    }

    #[test]
    fn a_given_back_heap_is_freed() -> Result {
        assert_eq!(drop_heap(None)?, (2, true));
        Ok(())
    }

    #[test]
    fn a_failed_give_back_leaks_the_heap() -> Result {
        // The give-back was tried once, and the memory is not freed: a
        // DSP VM may still own it.
        assert_eq!(drop_heap(Some(1))?, (2, false));
        Ok(())
    }

    #[test]
    fn give_back_is_tried_once() -> Result {
        let log = RefCell::new(KVec::new());
        let fake = Fake {
            log: &log,
            fail_at: Some(1),
        };
        let mut a = fake_assignment(fake, BASE, SIZE, &[LPASS])?;
        assert_eq!(a.revoke().err(), Some(EIO));
        assert!(a.revoke().is_ok());
        drop(a);
        assert_eq!(log.borrow().len(), 2);
        Ok(())
    }

    #[test]
    fn a_failed_revoke_leaks_at_once_and_for_good() -> Result {
        let log = RefCell::new(KVec::new());
        let freed = RefCell::new(false);
        let fake = Fake {
            log: &log,
            fail_at: Some(1),
        };
        let heap = FakeHeap {
            base: BASE,
            size: SIZE,
            freed: Some(&freed),
        };
        let mut a = HeapAssignment::new(fake, heap, &[LPASS])?;
        assert_eq!(a.revoke().err(), Some(EIO));
        // The later revoke (on drop) is not tried again and reports
        // nothing: the memory must stay leaked all the same.
        drop(a);
        assert_eq!(log.borrow().len(), 2);
        assert!(!*freed.borrow());
        Ok(())
    }

    #[test]
    fn given_back_when_a_later_probe_step_fails() {
        let log = RefCell::new(KVec::new());
        let probe = || -> Result<FakeAssignment<'_>> {
            let a = fake_assignment(
                Fake {
                    log: &log,
                    fail_at: None,
                },
                BASE,
                SIZE,
                &[ADSP_HEAP],
            )?;
            // A later step of the probe fails: `a` is dropped.
            Err::<(), _>(ENOMEM)?;
            Ok(a)
        };
        assert_eq!(probe().err(), Some(ENOMEM));
        assert_eq!(log.borrow().len(), 2);
        assert_eq!(log.borrow()[1].dst[0], rwx(VMID_HLOS));
    }

    #[test]
    fn only_the_first_static_create_sends_the_heap() {
        let h = HeapInfo::new(BASE, SIZE);
        drop(h.claim());
        // A failed first create gives the heap back.
        assert!(!h.is_sent());
        let c = h.claim();
        assert!(c.is_some());
        assert!(h.claim().is_none());
        if let Some(c) = c {
            c.keep();
        }
        assert!(h.is_sent());
        assert!(h.claim().is_none());
    }
}
