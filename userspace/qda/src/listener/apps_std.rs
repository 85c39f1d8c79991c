//! The `apps_std` reverse module: the C stdio calls a DSP process makes on
//! the apps side, chiefly to read its libraries (`fopen_with_env` on
//! `ADSP_LIBRARY_PATH`, then `flen`, `fread`, `fclose`).
//!
//! Method ids and marshalling follow the `apps_std` interface; ids from 31
//! up travel as method 31 with the real id in word 0 of primIn. Served:
//! fopen (0), fflush (2), fclose (3), fread (4), fwrite (5), ftell (8),
//! fseek (9), flen (10), rewind (11), fopen_with_env (19) and stat (31);
//! other methods answer `AEE_EUNSUPPORTED`.

use super::{
    aee,
    files::Files,
    skel::{method, Call},
};

/// Method ids.
mod id {
    pub const FOPEN: u32 = 0;
    pub const FFLUSH: u32 = 2;
    pub const FCLOSE: u32 = 3;
    pub const FREAD: u32 = 4;
    pub const FWRITE: u32 = 5;
    pub const FTELL: u32 = 8;
    pub const FSEEK: u32 = 9;
    pub const FLEN: u32 = 10;
    pub const REWIND: u32 = 11;
    pub const FOPEN_WITH_ENV: u32 = 19;
    /// Carrier of the extended ids (the real id is word 0 of primIn).
    pub const EXTENDED: u32 = 31;
    pub const STAT: u32 = 31;
}

/// Runs one `apps_std` call on `files`; returns the call's result (0, an
/// errno or an AEE code).
pub fn invoke(files: &mut Files, call: &mut Call<'_, '_>) -> i32 {
    match dispatch(files, call) {
        Ok(()) => 0,
        Err(e) => e,
    }
}

fn dispatch(files: &mut Files, c: &mut Call<'_, '_>) -> Result<(), i32> {
    match method(c.sc) {
        id::FOPEN => fopen(files, c),
        id::FFLUSH => file_op(c, |n| files.fflush(n)),
        id::FCLOSE => file_op(c, |n| files.fclose(n)),
        id::FREAD => fread(files, c),
        id::FWRITE => fwrite(files, c),
        id::FTELL => {
            c.expect(1, 1, 4, 4)?;
            let pos = files.ftell(c.word(0))?;
            c.put(0, &pos.to_le_bytes());
            Ok(())
        }
        id::FSEEK => {
            c.expect(1, 0, 12, 0)?;
            files.fseek(c.word(0), c.word(1) as i32, c.word(2))
        }
        id::FLEN => {
            c.expect(1, 1, 4, 8)?;
            let len = files.flen(c.word(0))?;
            c.put(0, &len.to_le_bytes());
            Ok(())
        }
        id::REWIND => file_op(c, |n| files.fseek(n, 0, 0)),
        id::FOPEN_WITH_ENV => fopen_with_env(files, c),
        id::EXTENDED => extended(files, c),
        _ => Err(aee::EUNSUPPORTED),
    }
}

/// The calls that take a FILE and return nothing (fflush, fclose, rewind).
fn file_op(c: &Call<'_, '_>, op: impl FnOnce(u32) -> Result<(), i32>) -> Result<(), i32> {
    c.expect(1, 0, 4, 0)?;
    op(c.word(0))
}

fn fopen(files: &mut Files, c: &mut Call<'_, '_>) -> Result<(), i32> {
    c.expect(3, 1, 8, 4)?;
    let name = c.string(1, c.word(0))?;
    let mode = c.string(2, c.word(1))?;
    let n = files.fopen(name, mode)?;
    c.put(0, &n.to_le_bytes());
    Ok(())
}

fn fopen_with_env(files: &mut Files, c: &mut Call<'_, '_>) -> Result<(), i32> {
    c.expect(5, 1, 16, 4)?;
    let env = c.string(1, c.word(0))?;
    let delim = c.string(2, c.word(1))?;
    let name = c.string(3, c.word(2))?;
    let mode = c.string(4, c.word(3))?;
    let n = files.fopen_with_env(env, delim, name, mode)?;
    c.put(0, &n.to_le_bytes());
    Ok(())
}

fn fread(files: &mut Files, c: &mut Call<'_, '_>) -> Result<(), i32> {
    c.expect(1, 2, 8, 8)?;
    let (n, len) = (c.word(0), c.word(1));
    let (got, eof) = files.fread(n, c.out(1, len)?)?;
    c.put(0, &got.to_le_bytes());
    c.put(4, &u32::from(eof).to_le_bytes());
    Ok(())
}

fn fwrite(files: &mut Files, c: &mut Call<'_, '_>) -> Result<(), i32> {
    c.expect(2, 1, 8, 8)?;
    let (n, len) = (c.word(0), c.word(1) as usize);
    let buf = c.ins[1].get(..len).ok_or(aee::EBADPARM)?;
    let put = files.fwrite(n, buf)?;
    c.put(0, &put.to_le_bytes());
    c.put(4, &0u32.to_le_bytes());
    Ok(())
}

fn extended(files: &mut Files, c: &mut Call<'_, '_>) -> Result<(), i32> {
    if c.ins.is_empty() || c.ins[0].len() < 4 {
        return Err(aee::EBADPARM);
    }
    match c.word(0) {
        id::STAT => {
            c.expect(2, 1, 8, 96)?;
            let st = files.stat(c.string(1, c.word(1))?)?;
            c.put(0, &st);
            Ok(())
        }
        _ => Err(aee::EUNSUPPORTED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listener::files::tests::TempDir;
    use crate::rpc::scalars;

    /// Calls method `m` with `ins` (input 0 built from `prim`) and outputs
    /// of `out_lens`.
    fn call(
        files: &mut Files,
        m: u32,
        prim: &[u32],
        strs: &[&[u8]],
        out_lens: &[usize],
    ) -> (i32, Vec<Vec<u8>>) {
        let prim: Vec<u8> = prim.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut ins: Vec<&[u8]> = vec![&prim];
        ins.extend_from_slice(strs);
        let mut outs: Vec<Vec<u8>> = out_lens.iter().map(|&n| vec![0; n]).collect();
        let sc = scalars(m, ins.len() as u32, outs.len() as u32);
        let r = invoke(
            files,
            &mut Call {
                sc,
                ins: &ins,
                outs: &mut outs,
            },
        );
        (r, outs)
    }

    fn word(b: &[u8], i: usize) -> u32 {
        u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap())
    }

    #[test]
    fn load_a_library_as_the_dsp_loader_does() {
        let t = TempDir::new("loader");
        let elf: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        t.write("dsp/libcalculator_skel.so", &elf);
        let path = format!("/nonexistent;{}", t.0.join("dsp").display());
        let mut f = Files::new(path.into(), "cdsp".into());
        let (env, delim, name, mode) = (
            &b"ADSP_LIBRARY_PATH\0"[..],
            &b";\0"[..],
            &b"libcalculator_skel.so\0"[..],
            &b"r\0"[..],
        );
        let lens = [env, delim, name, mode].map(|s| s.len() as u32);
        let (r, o) = call(&mut f, 19, &lens, &[env, delim, name, mode], &[4]);
        assert_eq!(r, 0);
        let file = word(&o[0], 0);
        assert_eq!(file, 100);

        let (r, o) = call(&mut f, 10, &[file], &[], &[8]);
        assert_eq!(r, 0);
        assert_eq!(u64::from_le_bytes(o[0][..8].try_into().unwrap()), 5000);

        let mut read = Vec::new();
        loop {
            let (r, o) = call(&mut f, 4, &[file, 4096], &[], &[8, 4096]);
            assert_eq!(r, 0);
            let (got, eof) = (word(&o[0], 0) as usize, word(&o[0], 1));
            read.extend_from_slice(&o[1][..got]);
            if eof != 0 {
                break;
            }
        }
        assert_eq!(read, elf);

        let (r, o) = call(&mut f, 8, &[file], &[], &[4]);
        assert_eq!((r, word(&o[0], 0)), (0, 5000));
        assert_eq!(call(&mut f, 9, &[file, 10, 0], &[], &[]).0, 0);
        let (_, o) = call(&mut f, 8, &[file], &[], &[4]);
        assert_eq!(word(&o[0], 0), 10);
        assert_eq!(call(&mut f, 11, &[file], &[], &[]).0, 0);
        let (_, o) = call(&mut f, 8, &[file], &[], &[4]);
        assert_eq!(word(&o[0], 0), 0);

        assert_eq!(call(&mut f, 3, &[file], &[], &[]).0, 0);
        assert_eq!(call(&mut f, 3, &[file], &[], &[]).0, libc::EBADF);
        assert_eq!(call(&mut f, 10, &[file], &[], &[8]).0, libc::EBADF);
        assert_eq!(f.count(), 0);
    }

    #[test]
    fn missing_library_is_enoent() {
        let t = TempDir::new("missing");
        let mut f = Files::new(t.0.clone().into_os_string(), "cdsp".into());
        let strs: [&[u8]; 4] = [b"ADSP_LIBRARY_PATH\0", b";\0", b"libnope_skel.so\0", b"r\0"];
        let lens = strs.map(|s| s.len() as u32);
        assert_eq!(call(&mut f, 19, &lens, &strs, &[4]).0, libc::ENOENT);
        let (r, _) = call(&mut f, 31, &[31, 16], &[b"libnope_skel.so\0"], &[96]);
        assert_eq!(r, libc::ENOENT);
    }

    #[test]
    fn stat_through_the_extended_id() {
        let t = TempDir::new("xstat");
        t.write("libq_skel.so", &[1u8; 321]);
        let mut f = Files::new(t.0.clone().into_os_string(), "adsp".into());
        let (r, o) = call(&mut f, 31, &[31, 13], &[b"libq_skel.so\0"], &[96]);
        assert_eq!(r, 0);
        assert_eq!(u64::from_le_bytes(o[0][40..48].try_into().unwrap()), 321);
        // Unknown extended ids and methods.
        assert_eq!(
            call(&mut f, 31, &[40, 13], &[b"libq_skel.so\0"], &[96]).0,
            aee::EUNSUPPORTED
        );
        assert_eq!(call(&mut f, 30, &[1], &[b"x\0"], &[]).0, aee::EUNSUPPORTED);
        // A primROut too small for the STAT.
        assert_eq!(
            call(&mut f, 31, &[31, 13], &[b"libq_skel.so\0"], &[95]).0,
            aee::EBADPARM
        );
        // No primIn at all.
        let mut outs = vec![vec![0u8; 96]];
        let sc = scalars(31, 0, 1);
        assert_eq!(
            invoke(
                &mut f,
                &mut Call {
                    sc,
                    ins: &[],
                    outs: &mut outs
                }
            ),
            aee::EBADPARM
        );
    }

    #[test]
    fn malformed_calls_are_ebadparm() {
        let t = TempDir::new("bad");
        let p = t.write("f", b"data");
        let mut name = p.as_os_str().as_encoded_bytes().to_vec();
        let len = name.len() as u32 + 1;
        name.push(0);
        let mut f = Files::new(t.0.clone().into_os_string(), "adsp".into());
        // Lengths that don't match the strings.
        assert_eq!(
            call(&mut f, 0, &[len + 1, 2], &[&name, b"r\0"], &[4]).0,
            aee::EBADPARM
        );
        assert_eq!(
            call(&mut f, 0, &[len, 1], &[&name, b"r\0"], &[4]).0,
            aee::EBADPARM
        );
        // Wrong buffer counts.
        assert_eq!(call(&mut f, 0, &[len, 2], &[&name], &[4]).0, aee::EBADPARM);
        let (r, o) = call(&mut f, 0, &[len, 2], &[&name, b"r\0"], &[4]);
        assert_eq!(r, 0);
        let file = word(&o[0], 0);
        // fread asking for more than its output buffer holds.
        assert_eq!(
            call(&mut f, 4, &[file, 100], &[], &[8, 10]).0,
            aee::EBADPARM
        );
        let (r, o) = call(&mut f, 4, &[file, 10], &[], &[8, 10]);
        assert_eq!((r, word(&o[0], 0), word(&o[0], 1)), (0, 4, 1));
        assert_eq!(&o[1][..4], b"data");
    }
}
