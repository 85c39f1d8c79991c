// SPDX-License-Identifier: GPL-2.0

//! KUnit: the FastRPC encoders and decoders, with known answers from the
//! protocol reference (scalars of the handle-1 methods, the 40-byte
//! request, the 16-byte reply, ctx ids, metadata offsets, overlaps,
//! a payload plan refused).

#[kernel::macros::kunit_tests(qda_fastrpc)]
mod tests {
    use crate::fastrpc::{
        layout::*,
        plan::*,
        scalars::Scalars,
        wire::*, //
    };

    #[test]
    fn scalars_of_the_process_control_methods() {
        assert_eq!(Scalars::new(0, 1, 0).0, 0x0001_0000);
        assert_eq!(Scalars::new(1, 1, 0).0, 0x0101_0000);
        assert_eq!(Scalars::new(4, 2, 1).0, 0x0402_0100);
        assert_eq!(Scalars::new(6, 4, 0).0, 0x0604_0000);
        assert_eq!(Scalars::new(10, 3, 1).0, 0x0a03_0100);
        let s = Scalars::build(1, 3, 2, 1, 1, 2);
        assert_eq!(s.method(), 3);
        assert_eq!(s.len(), 6);
        assert_eq!(Scalars::build(0, 0, 255, 255, 15, 15).len(), 540);
    }

    #[test]
    fn request_and_reply_bytes() {
        let m = Msg {
            client_id: 2,
            tid: 77,
            ctx: ctx_encode(5, 9, USER_PD),
            handle: 0x101,
            sc: 0x0202_0100,
            addr: 0x3_ffff_0000,
            size: 0x1000,
        };
        let b = m.encode();
        assert_eq!(&b[8..16], &0x0009_0501u64.to_le_bytes());
        assert_eq!(&b[16..20], &0x101u32.to_le_bytes());
        assert_eq!(Msg::decode(&b), Some(m));
        let r = Rsp {
            ctx: m.ctx,
            retval: -22,
        };
        assert_eq!(Rsp::decode(&r.encode()), Some(r));
        assert_eq!(Rsp::decode(&[0u8; 15]), None);
        assert_eq!(ctx_decode(m.ctx), (5, 9));
    }

    #[test]
    fn metadata_offsets() {
        assert_eq!(metalen(0), 388);
        assert_eq!(metalen(4), 548);
        assert_eq!(list_off(4, 1), 72);
        assert_eq!(page_off(4, 1), 112);
        assert_eq!(fdlist_off(4), 160);
        assert_eq!(poll_off(4), 544);
    }

    #[test]
    fn overlapping_inline_buffers() {
        let user = |ptr, len| Span::User { ptr, len };
        let spans = [user(0x100, 0x100), user(0x140, 0x40), user(0x1c0, 0x80)];
        let (mut order, mut out) = ([0usize; 3], [Placed::default(); 3]);
        let size = plan(&spans, &mut order, &mut out);
        assert_eq!(out[0].pos, 512);
        assert_eq!(out[1].pos, 512 + 0x40);
        assert_eq!(out[2].pos, 512 + 0xc0);
        assert_eq!(size, Ok(512 + 0x140));
    }

    #[test]
    fn a_range_past_the_top_is_refused() {
        let spans = [Span::User {
            ptr: 0xffff_ffff_ffff_f000,
            len: u64::MAX,
        }];
        let (mut order, mut out) = ([0usize; 1], [Placed::default(); 1]);
        assert_eq!(plan(&spans, &mut order, &mut out), Err(PlanError::Wraps));
        assert_eq!(page_span(0xffff_ffff_ffff_f000, u64::MAX), None);
    }

    /// Maps and unmaps of one process interleaved (as concurrent threads
    /// of one file do): every record finds room reserved before its
    /// request was sent, so storing it after the DSP's answer never
    /// allocates.
    #[test]
    fn map_records_always_have_room() {
        use crate::fastrpc::process::{
            Process,
            RemoteMap, //
        };
        let mut p = Process::for_test(USER_PD);
        let fits = |p: &Process| {
            let (cap, len, in_flight) = p.room();
            cap >= len + in_flight
        };
        // Two maps sent before either is answered.
        assert!(p.reserve_record().is_ok());
        assert!(p.reserve_record().is_ok());
        assert!(fits(&p));
        let (cap, _, _) = p.room();
        for v in [0x1000, 0x2000] {
            let Ok(m) = RemoteMap::for_test(v) else {
                return;
            };
            p.track(m);
        }
        assert_eq!(p.room(), (cap, 2, 0));
        // An unmap on its way while a third map is sent: the unmap's
        // record goes back (refused) and the map's is stored.
        let m = p.take_record(|m| m.vaddrout == 0x1000);
        assert!(m.is_ok());
        let Ok(m) = m else {
            return;
        };
        assert!(p.reserve_record().is_ok());
        assert!(fits(&p));
        let (cap, _, _) = p.room();
        let Ok(third) = RemoteMap::for_test(0x3000) else {
            return;
        };
        p.track(third);
        p.track(m);
        assert_eq!(p.room(), (cap, 3, 0));
        // Only answered records can be named.
        assert!(p.take_record(|m| m.vaddrout == 0x4000).is_err());
    }
}
