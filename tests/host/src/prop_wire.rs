//! Properties of the wire formats and value decoders on hostile input
//! (`scalars.rs`, `codec.rs` through every structure it declares,
//! `wire.rs`, `proc_msgs.rs`, `retval.rs`): decoding any bytes never
//! panics, accepts exactly the long-enough ones and re-encodes to them;
//! field packing keeps each field to its bits.

use crate::{
    gen::{cases, Gen},
    proc_msgs::*,
    retval::{user_result, EIO, MAX_USER_ERRNO},
    scalars::Scalars,
    wire::*,
};

#[test]
fn scalars_pack_and_unpack_every_word() {
    cases("scalars", |g| {
        let w = g.u32();
        let s = Scalars(w);
        let f = (
            s.method(),
            s.inbufs(),
            s.outbufs(),
            s.in_handles(),
            s.out_handles(),
        );
        assert_eq!(s.len(), f.1 + f.2 + f.3 + f.4);
        assert!(s.len() <= 540 && s.buffers() == f.1 + f.2);
        let again = Scalars::build(w >> 29, f.0, f.1 as u32, f.2 as u32, f.3 as u32, f.4 as u32);
        assert_eq!(again, s, "{w:#x}");
        let (m, i, o) = (g.u32(), g.u32(), g.u32());
        let n = Scalars::new(m, i, o);
        assert_eq!(
            (n.method(), n.inbufs(), n.outbufs()),
            (m & 0x1f, (i & 0xff) as usize, (o & 0xff) as usize)
        );
        assert_eq!(n.in_handles() + n.out_handles(), 0);
    });
}

/// Checks that `decode` accepts exactly slices of at least `size` bytes
/// and that `encode` gives those bytes back.
fn round_trip<T>(
    g: &mut Gen,
    size: usize,
    decode: fn(&[u8]) -> Option<T>,
    encode: fn(&T) -> Vec<u8>,
) {
    let len = match g.below(3) {
        0 => size,
        _ => g.below(2 * size as u64 + 2) as usize,
    };
    let b = g.bytes(len);
    match decode(&b) {
        Some(v) => {
            assert!(len >= size);
            assert_eq!(encode(&v), b[..size].to_vec());
        }
        None => assert!(len < size, "{len} bytes refused"),
    }
}

macro_rules! structs_round_trip {
    ($g:expr, $($t:ident),*) => {
        $(round_trip($g, $t::SIZE, $t::decode, |v| v.encode().to_vec());)*
    };
}

#[test]
fn every_structure_decodes_any_bytes() {
    cases("structs", |g| {
        structs_round_trip!(
            g,
            Msg,
            ClientReq,
            CreateStaticReq,
            CreateReq,
            PhyPage,
            MmapReq,
            MunmapReq,
            MemMapReq,
            MemUnmapReq,
            MapRsp,
            CapsReq
        );
    });
}

#[test]
fn responses_decode_any_bytes() {
    cases("rsp", |g| {
        let n = g.below(40) as usize;
        let b = g.bytes(n);
        match Rsp::decode(&b) {
            Some(r) => {
                assert!(b.len() >= RSP_SIZE);
                assert_eq!(r.encode()[..12], b[..12]);
                assert_eq!(r.encode()[12..], [0; 4]);
            }
            None => assert!(b.len() < RSP_SIZE),
        }
        let r = Rsp {
            ctx: g.u64(),
            retval: g.i32(),
        };
        assert_eq!(Rsp::decode(&r.encode()), Some(r));
    });
}

#[test]
fn ctx_ids_keep_index_and_sequence() {
    cases("ctx", |g| {
        let (index, seq, pd) = (g.u32(), g.u64(), g.u32());
        let ctx = ctx_encode(index, seq, pd);
        assert_eq!(ctx_decode(ctx), (index & 0xff, seq_wrap(seq)));
        assert_eq!(ctx & 0xf, u64::from(pd & 0xf));
        assert!(seq_wrap(g.u64()) < 1 << 48);
    });
}

#[test]
fn capability_answers_are_whole_words() {
    cases("caps", |g| {
        let r = CapsReq { count: g.u32() };
        assert_eq!(r.answer_len() as u64, u64::from(r.count) * 4);
        let n = g.below(64) as usize;
        let b = g.bytes(n);
        let words: Vec<u32> = caps_attrs(&b).collect();
        assert_eq!(words.len(), b.len() / 4);
        for (i, w) in words.iter().enumerate() {
            assert_eq!(w.to_le_bytes(), b[4 * i..4 * i + 4]);
        }
    });
}

/// `user_result` of `r`, checked against its documented meaning.
fn check_retval(r: i32) {
    match user_result(r) {
        Err(e) if (-MAX_USER_ERRNO..=-1).contains(&r) => assert_eq!(e, -r),
        Err(e) => {
            assert_eq!(e, EIO, "{r}");
            assert!((-4095..=-1).contains(&r), "{r} taken for an error");
        }
        Ok(v) => {
            assert_eq!(v as i32, r);
            assert!(!(-4095..=-1).contains(&r), "{r} passed as a value");
        }
    }
}

#[test]
fn return_values_are_errnos_or_the_dsps() {
    for r in -5000..5000 {
        check_retval(r);
    }
    for r in [i32::MIN, i32::MIN + 1, i32::MAX, -512, -531, -4095, -4096] {
        check_retval(r);
    }
    cases("retval", |g| check_retval(g.i32()));
}
