//! A scripted DSP for host tests of the listener loop: it plays a list of
//! reverse calls through `next2`/`get_in_bufs2` as firmware would and
//! records what the listener answers.

use std::{cell::RefCell, collections::VecDeque, ffi::OsString, io, sync::atomic::AtomicBool};

use super::{
    aee,
    files::{tests::TempDir, Files},
    iface::{word, words, Channel, LISTENER1},
    modules::{Modules, HANDLE_BASE},
    packed::dsp_side::{pack_request, unpack_response},
    serve::{serve, End},
};
use crate::rpc::scalars;

/// One reverse call to play.
#[derive(Clone, Debug)]
struct Req {
    handle: u32,
    sc: u32,
    ins: Vec<Vec<u8>>,
    out_lens: Vec<u32>,
}

/// What the listener answered to one call.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    result: i32,
    outs: Option<Vec<Vec<u8>>>,
}

/// What one `next2` carried in.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    prev_ctx: u32,
    prev_result: i32,
    bufs_len: u32,
}

#[derive(Default)]
struct State {
    script: VecDeque<Req>,
    /// `next2` answers to give before serving the script (DSP codes, or
    /// `Err` errno).
    failures: VecDeque<Result<i32, i32>>,
    current: Option<(u32, Req, Vec<u8>)>,
    next_ctx: u32,
    answers: Vec<Answer>,
    seen: Vec<Seen>,
    get_in_bufs: Vec<(u32, u32)>,
}

#[derive(Default)]
struct FakeDsp(RefCell<State>);

impl FakeDsp {
    fn new(script: Vec<Req>) -> Self {
        Self(RefCell::new(State {
            script: script.into(),
            next_ctx: 0x100,
            ..Default::default()
        }))
    }

    fn next2(&self, ins: &[&[u8]], outs: &mut [&mut [u8]]) -> io::Result<i32> {
        let mut s = self.0.borrow_mut();
        let (prev_ctx, prev_result, prev_len) =
            (word(ins[0], 0), word(ins[0], 1) as i32, word(ins[0], 2));
        assert_eq!(prev_len as usize, ins[1].len());
        s.seen.push(Seen {
            prev_ctx,
            prev_result,
            bufs_len: outs[1].len() as u32,
        });
        if let Some(f) = s.failures.pop_front() {
            return f.map_err(io::Error::from_raw_os_error);
        }
        if let Some((ctx, req, _)) = s.current.take() {
            assert_eq!(prev_ctx, ctx);
            let outs = (prev_result == 0)
                .then(|| unpack_response(ins[1], &req.out_lens).expect("response format"));
            s.answers.push(Answer {
                result: prev_result,
                outs,
            });
        }
        let Some(req) = s.script.pop_front() else {
            return Ok(aee::DSP_EBADSTATE);
        };
        let ins: Vec<&[u8]> = req.ins.iter().map(|b| &b[..]).collect();
        let packed = pack_request(&ins, &req.out_lens);
        let n = packed.len().min(outs[1].len());
        outs[1][..n].copy_from_slice(&packed[..n]);
        let ctx = s.next_ctx;
        s.next_ctx += 1;
        outs[0].copy_from_slice(&words([ctx, req.handle, req.sc, packed.len() as u32]));
        s.current = Some((ctx, req, packed));
        Ok(0)
    }

    fn get_in_bufs2(&self, ins: &[&[u8]], outs: &mut [&mut [u8]]) -> io::Result<i32> {
        let mut s = self.0.borrow_mut();
        let (ctx, offset, len) = (word(ins[0], 0), word(ins[0], 1), word(ins[0], 2));
        assert_eq!(len as usize, outs[1].len());
        s.get_in_bufs.push((offset, len));
        let (cur, _, packed) = s.current.as_ref().expect("a call in progress");
        assert_eq!(ctx, *cur);
        let rest = packed.get(offset as usize..).unwrap_or_default();
        let n = rest.len().min(outs[1].len());
        outs[1][..n].copy_from_slice(&rest[..n]);
        outs[0].copy_from_slice(&(packed.len() as u32).to_le_bytes());
        Ok(0)
    }
}

impl Channel for FakeDsp {
    fn call(&self, handle: u32, sc: u32, ins: &[&[u8]], outs: &mut [&mut [u8]]) -> io::Result<i32> {
        assert_eq!(handle, 7);
        match sc {
            0x0602_0200 => self.next2(ins, outs),
            0x0701_0200 => self.get_in_bufs2(ins, outs),
            _ => panic!("unexpected call {sc:#x}"),
        }
    }
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// `apps_remotectl` open(name) with a 256-byte dlerror buffer.
fn open(name: &str) -> Req {
    let n = cstr(name);
    Req {
        handle: 0,
        sc: scalars(0, 2, 2),
        ins: vec![words([n.len() as u32, 256]), n],
        out_lens: vec![8, 256],
    }
}

/// An `apps_std` call on `h`: method `m`, primIn `prim`, `strs`, outputs.
fn std_call(h: u32, m: u32, prim: Vec<u8>, strs: &[&str], out_lens: &[u32]) -> Req {
    let mut ins = vec![prim];
    ins.extend(strs.iter().map(|s| cstr(s)));
    Req {
        handle: h,
        sc: scalars(m, ins.len() as u32, out_lens.len() as u32),
        ins,
        out_lens: out_lens.to_vec(),
    }
}

fn run(dsp: &FakeDsp, lib: OsString, exiting: bool) -> (u64, End) {
    let mut m = Modules::new(Files::new(lib, "cdsp".into()));
    serve(dsp, LISTENER1, &mut m, &AtomicBool::new(exiting))
}

fn out_word(a: &Answer, buf: usize, i: usize) -> u32 {
    word(&a.outs.as_ref().expect("outputs")[buf], i)
}

#[test]
fn a_skel_is_loaded_through_reverse_calls() {
    let t = TempDir::new("loop");
    let skel: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    t.write("libcalculator_skel.so", &skel);
    let h = HANDLE_BASE;
    let (env, delim, name) = ("ADSP_LIBRARY_PATH", ";", "libcalculator_skel.so");
    let lens = words([18, 2, 22, 2]);
    let script = vec![
        open("apps_std"),
        std_call(h, 19, lens, &[env, delim, name, "r"], &[4]),
        std_call(h, 10, words([100]), &[], &[8]),
        std_call(h, 4, words([100, 16384]), &[], &[8, 16384]),
        std_call(h, 3, words([100]), &[], &[]),
        std_call(h, 31, words([31, 22]), &[name], &[96]),
        std_call(
            h,
            19,
            words([18, 2, 16, 2]),
            &[env, delim, "libnone_skel.so", "r"],
            &[4],
        ),
        open("apps_mem"),
        Req {
            handle: 0,
            sc: scalars(1, 1, 2),
            ins: vec![words([h, 16])],
            out_lens: vec![4, 16],
        },
        std_call(h, 10, words([100]), &[], &[8]),
    ];
    let n = script.len() as u64;
    let dsp = FakeDsp::new(script);
    let (served, end) = run(&dsp, t.0.clone().into_os_string(), false);
    assert!(matches!(end, End::ProcessExited), "{end:?}");
    assert_eq!(served, n);
    let s = dsp.0.borrow();
    let a = &s.answers;
    assert_eq!(a.len() as u64, n);
    // open apps_std: handle, no dlErr.
    assert_eq!(
        (a[0].result, out_word(&a[0], 0, 0), out_word(&a[0], 0, 1)),
        (0, h, 0)
    );
    // fopen_with_env: FILE 100; flen; fread of everything with EOF.
    assert_eq!((a[1].result, out_word(&a[1], 0, 0)), (0, 100));
    assert_eq!(a[2].outs.as_ref().unwrap()[0], 10_000u64.to_le_bytes());
    assert_eq!((out_word(&a[3], 0, 0), out_word(&a[3], 0, 1)), (10_000, 1));
    assert_eq!(&a[3].outs.as_ref().unwrap()[1][..10_000], &skel[..]);
    assert_eq!(
        a[4],
        Answer {
            result: 0,
            outs: Some(vec![])
        }
    );
    // stat, a missing library, a refused module, close.
    assert_eq!(a[5].result, 0);
    assert_eq!(
        &a[5].outs.as_ref().unwrap()[0][40..48],
        &10_000u64.to_le_bytes()
    );
    assert_eq!(
        a[6],
        Answer {
            result: libc::ENOENT,
            outs: None
        }
    );
    assert_eq!(
        (a[7].result, out_word(&a[7], 0, 0), out_word(&a[7], 0, 1)),
        (0, 0, aee::EINVHANDLE as u32)
    );
    assert!(a[7].outs.as_ref().unwrap()[1].starts_with(b"apps_mem: "));
    assert_eq!(a[8].result, 0);
    assert_eq!(a[9].result, aee::ENOSUCHMOD);
    // The first next2 carries nothing; the request buffer then grows to
    // 4 KiB through get_in_bufs2 and stays.
    assert_eq!(
        s.seen[0],
        Seen {
            prev_ctx: 0,
            prev_result: -1,
            bufs_len: 0
        }
    );
    assert_eq!(s.get_in_bufs, vec![(0, 4096)]);
    assert!(s.seen[1..].iter().all(|x| x.bufs_len == 4096));
}

#[test]
fn a_request_larger_than_the_buffer_comes_in_two_parts() {
    let t = TempDir::new("big");
    let out = t.0.join("out");
    let data: Vec<u8> = (0..9000u32).map(|i| (i * 13) as u8).collect();
    let h = HANDLE_BASE;
    let path = out.to_str().unwrap();
    let mut write = std_call(h, 5, words([100, 9000]), &[], &[8]);
    write.ins.push(data.clone());
    write.sc = scalars(5, 2, 1);
    let script = vec![
        open("apps_std"),
        std_call(h, 0, words([path.len() as u32 + 1, 2]), &[path, "w"], &[4]),
        write,
        std_call(h, 3, words([100]), &[], &[]),
    ];
    let dsp = FakeDsp::new(script);
    let (served, end) = run(&dsp, OsString::new(), false);
    assert!(matches!(end, End::ProcessExited), "{end:?}");
    assert_eq!(served, 4);
    let s = dsp.0.borrow();
    assert_eq!(
        s.answers.iter().map(|a| a.result).collect::<Vec<_>>(),
        [0, 0, 0, 0]
    );
    assert_eq!(out_word(&s.answers[2], 0, 0), 9000);
    // The 9 KiB request: first 4 KiB in next2, the rest from offset 4096.
    assert_eq!(s.get_in_bufs, vec![(0, 4096), (4096, 8192)]);
    assert_eq!(std::fs::read(&out).unwrap(), data);
}

#[test]
fn next2_failures() {
    // AEE_EINTERRUPTED restarts from scratch; another code is reported
    // once and ends the loop if it comes back.
    let dsp = FakeDsp::new(vec![open("apps_std")]);
    let code = aee::dsp(aee::ERPC);
    dsp.0.borrow_mut().failures = [Ok(aee::EINTERRUPTED), Ok(code), Ok(code)].into();
    let (served, end) = run(&dsp, OsString::new(), false);
    assert!(matches!(end, End::Remote(c) if c == code), "{end:?}");
    assert_eq!(served, 0);
    let s = dsp.0.borrow();
    let seen: Vec<(u32, i32)> = s.seen.iter().map(|x| (x.prev_ctx, x.prev_result)).collect();
    assert_eq!(seen, [(0, -1), (0, -1), (0, code)]);
    drop(s);

    // One failure then a call: served; the exit code ends it.
    let dsp = FakeDsp::new(vec![open("apps_std")]);
    dsp.0.borrow_mut().failures = [Ok(code)].into();
    let (served, end) = run(&dsp, OsString::new(), false);
    assert!(matches!(end, End::ProcessExited), "{end:?}");
    assert_eq!(served, 1);

    // An errno (the DSP is gone) ends the loop at once.
    let dsp = FakeDsp::new(vec![open("apps_std")]);
    dsp.0.borrow_mut().failures = [Err(libc::ENODEV)].into();
    let (served, end) = run(&dsp, OsString::new(), false);
    assert!(
        matches!(&end, End::Os(e) if e.raw_os_error() == Some(libc::ENODEV)),
        "{end:?}"
    );
    assert_eq!(served, 0);
    assert_eq!(dsp.0.borrow().seen.len(), 1);
}

#[test]
fn bad_requests_get_error_results() {
    let mut with_handle = open("apps_std");
    with_handle.sc |= 0x10;
    let mut short = open("apps_std");
    short.ins[0] = vec![1, 2];
    let dsp = FakeDsp::new(vec![
        with_handle,
        short,
        std_call(0x1234, 10, words([100]), &[], &[8]),
        std_call(0, 7, words([0]), &[], &[]),
    ]);
    let (served, end) = run(&dsp, OsString::new(), false);
    assert!(matches!(end, End::ProcessExited));
    assert_eq!(served, 4);
    let r: Vec<i32> = dsp.0.borrow().answers.iter().map(|a| a.result).collect();
    assert_eq!(
        r,
        [
            aee::EBADPARM,
            aee::EBADPARM,
            aee::ENOSUCHMOD,
            aee::EUNSUPPORTED
        ]
    );
}

#[test]
fn failures_while_exiting_are_ebadstate() {
    let dsp = FakeDsp::new(vec![
        open("apps_std"),
        std_call(HANDLE_BASE, 10, words([100]), &[], &[8]),
    ]);
    let (_, end) = run(&dsp, OsString::new(), true);
    assert!(matches!(end, End::ProcessExited));
    let r: Vec<i32> = dsp.0.borrow().answers.iter().map(|a| a.result).collect();
    assert_eq!(r, [0, aee::EBADSTATE]);
}

/// The audio PD's way of growing its heap: open `apps_mem`, then
/// `request_map64` and `request_unmap64` through the packed format.
#[test]
fn apps_mem_grants_and_takes_back_through_the_loop() {
    use super::apps_mem::fake::FakeMemory;
    let h = HANDLE_BASE;
    let mut map64 = vec![0u8; 32];
    map64[0..4].copy_from_slice(&(-1i32).to_le_bytes());
    map64[8..12].copy_from_slice(&8u32.to_le_bytes());
    map64[24..32].copy_from_slice(&0x2_0000u64.to_le_bytes());
    let vadsp = 0x1100_0000u64;
    let unmap64 = [vadsp.to_le_bytes(), 0x2_0000u64.to_le_bytes()].concat();
    let dsp = FakeDsp::new(vec![
        open("apps_mem"),
        std_call(h, 2, map64, &[], &[16]),
        std_call(h, 3, unmap64.clone(), &[], &[]),
        std_call(h, 3, unmap64, &[], &[]),
    ]);
    let files = Files::new(OsString::new(), "adsp".into());
    let mut m = Modules::with_memory(files, Some(Box::new(FakeMemory::default())));
    let (served, end) = serve(&dsp, LISTENER1, &mut m, &AtomicBool::new(false));
    assert!(matches!(end, End::ProcessExited), "{end:?}");
    assert_eq!(served, 4);
    let s = dsp.0.borrow();
    let a = &s.answers;
    assert_eq!((a[0].result, out_word(&a[0], 0, 0)), (0, h));
    assert_eq!(a[1].result, 0);
    let rout = &a[1].outs.as_ref().unwrap()[0];
    assert_eq!(&rout[8..16], &vadsp.to_le_bytes());
    assert_eq!(a[2].result, 0);
    assert_eq!(a[3].result, super::apps_mem::ENOSUCHMAP);
    assert_eq!(m.grants(), 0);
}
