//! The files `apps_std` opens for the DSP: the FILE numbers it hands out,
//! the library search path and the C `fopen` modes.
//!
//! Errors are plain errno values (as the FastRPC library's `apps_std`
//! returns them), except a search with no directory list, which is
//! `AEE_EBADPARM`.

use std::{
    collections::BTreeMap,
    ffi::{OsStr, OsString},
    fs::{File, Metadata, OpenOptions},
    io::{self, Read, Seek, SeekFrom, Write},
    os::unix::{
        ffi::OsStrExt,
        fs::{MetadataExt, OpenOptionsExt},
    },
    path::PathBuf,
};

use super::aee;

/// The first FILE number handed out.
pub const FILE_BASE: u32 = 100;

/// Environment variable names (prefixes) that mean "the library path".
const LIBRARY_PATH_VARS: [&[u8]; 2] = [b"ADSP_LIBRARY_PATH", b"DSP_LIBRARY_PATH"];

/// The errno of `e` (EIO if it has none).
fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// `OpenOptions` for a C `fopen` mode: `r`, `w` or `a`, then modifiers
/// (`+` adds the other direction, `x` makes creation exclusive; others,
/// such as `b` or `e`, are ignored as glibc does); `EINVAL` if the mode
/// does not start with one of `rwa`.
pub fn open_options(mode: &[u8]) -> Result<OpenOptions, i32> {
    let (&first, rest) = mode.split_first().ok_or(libc::EINVAL)?;
    let plus = rest.contains(&b'+');
    let mut o = OpenOptions::new();
    match first {
        b'r' => o.read(true).write(plus),
        b'w' => o.write(true).read(plus).create(true).truncate(true),
        b'a' => o.append(true).read(plus).create(true),
        _ => return Err(libc::EINVAL),
    };
    if first != b'r' && rest.contains(&b'x') {
        o.custom_flags(libc::O_EXCL);
    }
    Ok(o)
}

/// The paths tried for `name` in the `delim`-separated directory list
/// `dirs`, in order: `<dir>/<subsys>/<name>` then `<dir>/<name>` for each
/// entry; an empty entry means `name` itself. An empty `delim` makes the
/// list one entry.
pub fn candidates(dirs: &[u8], delim: &[u8], subsys: &str, name: &[u8]) -> Vec<PathBuf> {
    let mut entries = Vec::new();
    let mut rest = dirs;
    while !delim.is_empty() {
        match rest.windows(delim.len()).position(|w| w == delim) {
            Some(i) => {
                entries.push(&rest[..i]);
                rest = &rest[i + delim.len()..];
            }
            None => break,
        }
    }
    entries.push(rest);
    let path = |parts: &[&[u8]]| PathBuf::from(OsStr::from_bytes(&parts.join(&b'/')));
    let mut v = Vec::new();
    for dir in entries {
        if dir.is_empty() {
            v.push(path(&[name]));
        } else {
            v.push(path(&[dir, subsys.as_bytes(), name]));
            v.push(path(&[dir, name]));
        }
    }
    v
}

/// `struct apps_std_STAT` (96 bytes) for `m`.
pub fn encode_stat(m: &Metadata) -> [u8; 96] {
    let mut s = [0u8; 96];
    let mut put = |off: usize, b: &[u8]| s[off..off + b.len()].copy_from_slice(b);
    // tsz (offset 0) stays 0, as the library leaves it.
    put(8, &m.dev().to_le_bytes());
    put(16, &m.ino().to_le_bytes());
    put(24, &m.mode().to_le_bytes());
    put(28, &(m.nlink() as u32).to_le_bytes());
    put(32, &m.rdev().to_le_bytes());
    put(40, &m.size().to_le_bytes());
    put(48, &m.atime().to_le_bytes());
    put(56, &m.atime_nsec().to_le_bytes());
    put(64, &m.mtime().to_le_bytes());
    put(72, &m.mtime_nsec().to_le_bytes());
    put(80, &m.ctime().to_le_bytes());
    put(88, &m.ctime_nsec().to_le_bytes());
    s
}

/// The open FILEs of one DSP process and where to look for libraries.
#[derive(Debug)]
pub struct Files {
    open: BTreeMap<u32, File>,
    library_path: OsString,
    subsystem: String,
}

impl Files {
    /// No file open yet; `library_path` (`;`-separated) answers requests
    /// for `ADSP_LIBRARY_PATH`/`DSP_LIBRARY_PATH`; `subsystem` names the
    /// DSP ("adsp", "cdsp", ...) for the `<dir>/<subsystem>/` lookups.
    pub fn new(library_path: OsString, subsystem: String) -> Self {
        Self {
            open: BTreeMap::new(),
            library_path,
            subsystem,
        }
    }

    /// How many FILEs are open.
    pub fn count(&self) -> usize {
        self.open.len()
    }

    fn insert(&mut self, f: File) -> u32 {
        let mut n = FILE_BASE;
        while self.open.contains_key(&n) {
            n += 1;
        }
        self.open.insert(n, f);
        n
    }

    fn get(&mut self, n: u32) -> Result<&mut File, i32> {
        self.open.get_mut(&n).ok_or(libc::EBADF)
    }

    /// `fopen(name, mode)`: a new FILE number.
    pub fn fopen(&mut self, name: &[u8], mode: &[u8]) -> Result<u32, i32> {
        let f = open_options(mode)?
            .open(OsStr::from_bytes(name))
            .map_err(|e| errno(&e))?;
        Ok(self.insert(f))
    }

    /// The directory list variable `env` stands for: the configured library
    /// path for the library path variables, else the process environment.
    fn dir_list(&self, env: &[u8]) -> Result<OsString, i32> {
        let list = if LIBRARY_PATH_VARS.iter().any(|v| env.starts_with(v)) {
            self.library_path.clone()
        } else {
            std::env::var_os(OsStr::from_bytes(env)).unwrap_or_default()
        };
        if list.is_empty() {
            Err(aee::EBADPARM)
        } else {
            Ok(list)
        }
    }

    /// Opens `name` from the directory list of `env`: the first candidate
    /// that opens wins; else the errno of the last attempt.
    fn search(&self, env: &[u8], delim: &[u8], name: &[u8], mode: &[u8]) -> Result<File, i32> {
        let opts = open_options(mode)?;
        let dirs = self.dir_list(env)?;
        let mut err = libc::ENOENT;
        for p in candidates(dirs.as_bytes(), delim, &self.subsystem, name) {
            match opts.open(&p) {
                Ok(f) => return Ok(f),
                Err(e) => err = errno(&e),
            }
        }
        Err(err)
    }

    /// `fopen_with_env(env, delim, name, mode)`: a new FILE number.
    pub fn fopen_with_env(
        &mut self,
        env: &[u8],
        delim: &[u8],
        name: &[u8],
        mode: &[u8],
    ) -> Result<u32, i32> {
        let f = self.search(env, delim, name, mode)?;
        Ok(self.insert(f))
    }

    /// `fclose(n)`.
    pub fn fclose(&mut self, n: u32) -> Result<(), i32> {
        self.open.remove(&n).map(drop).ok_or(libc::EBADF)
    }

    /// `fread(buf)`: bytes read and whether the end of the file was hit.
    pub fn fread(&mut self, n: u32, buf: &mut [u8]) -> Result<(u32, bool), i32> {
        let f = self.get(n)?;
        let mut got = 0;
        while got < buf.len() {
            match f.read(&mut buf[got..]) {
                Ok(0) => return Ok((got as u32, true)),
                Ok(k) => got += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if got == 0 => return Err(errno(&e)),
                Err(_) => break,
            }
        }
        Ok((got as u32, false))
    }

    /// `fflush(n)` (files are unbuffered: checks `n`).
    pub fn fflush(&mut self, n: u32) -> Result<(), i32> {
        self.get(n)?.flush().map_err(|e| errno(&e))
    }

    /// `fwrite(buf)`: bytes written.
    pub fn fwrite(&mut self, n: u32, buf: &[u8]) -> Result<u32, i32> {
        let f = self.get(n)?;
        match f.write_all(buf) {
            Ok(()) => Ok(buf.len() as u32),
            Err(e) => Err(errno(&e)),
        }
    }

    /// `ftell(n)`; `EOVERFLOW` past what an `int` holds.
    pub fn ftell(&mut self, n: u32) -> Result<i32, i32> {
        let pos = self.get(n)?.stream_position().map_err(|e| errno(&e))?;
        i32::try_from(pos).map_err(|_| libc::EOVERFLOW)
    }

    /// `fseek(n, offset, whence)` (0 SET, 1 CUR, 2 END).
    pub fn fseek(&mut self, n: u32, offset: i32, whence: u32) -> Result<(), i32> {
        let to = match whence {
            0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| libc::EINVAL)?),
            1 => SeekFrom::Current(offset.into()),
            2 => SeekFrom::End(offset.into()),
            _ => return Err(libc::EINVAL),
        };
        self.get(n)?.seek(to).map(drop).map_err(|e| errno(&e))
    }

    /// `flen(n)`: the file's size.
    pub fn flen(&mut self, n: u32) -> Result<u64, i32> {
        Ok(self.get(n)?.metadata().map_err(|e| errno(&e))?.len())
    }

    /// `stat(name)`: `name` is looked up like a library (`;`-separated
    /// library path).
    pub fn stat(&mut self, name: &[u8]) -> Result<[u8; 96], i32> {
        let f = self.search(b"ADSP_LIBRARY_PATH", b";", name, b"r")?;
        Ok(encode_stat(&f.metadata().map_err(|e| errno(&e))?))
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::path::Path;

    /// A fresh directory under the system temp dir, removed on drop.
    pub struct TempDir(pub PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> Self {
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let p =
                std::env::temp_dir().join(format!("qda-listener-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }

        pub fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
            let p = self.0.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, data).unwrap();
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn s(p: &Path) -> &[u8] {
        p.as_os_str().as_bytes()
    }

    #[test]
    fn candidates_follow_the_library_order() {
        let c = candidates(b"/a;;/b/", b";", "cdsp", b"x.so");
        let want = [
            "/a/cdsp/x.so",
            "/a/x.so",
            "x.so",
            "/b//cdsp/x.so",
            "/b//x.so",
        ];
        assert_eq!(c, want.map(PathBuf::from));
        // Multi-byte delimiters and an empty one.
        assert_eq!(candidates(b"/a::/b", b"::", "adsp", b"y").len(), 4);
        assert_eq!(
            candidates(b"/a;/b", b"", "adsp", b"y"),
            ["/a;/b/adsp/y", "/a;/b/y"].map(PathBuf::from)
        );
    }

    #[test]
    fn modes() {
        for good in ["r", "rb", "r+", "w", "wb+", "a", "a+", "re", "wx", "rz"] {
            assert!(open_options(good.as_bytes()).is_ok(), "{good}");
        }
        for bad in ["", "q", "+r"] {
            assert_eq!(
                open_options(bad.as_bytes()).err(),
                Some(libc::EINVAL),
                "{bad}"
            );
        }
    }

    #[test]
    fn library_search_finds_the_subsystem_dir_first() {
        let t = TempDir::new("search");
        t.write("one/libx_skel.so", b"plain");
        t.write("two/cdsp/libx_skel.so", b"subsys");
        t.write("two/libx_skel.so", b"shadowed");
        let path = format!(
            "{}/none;{}/two;{}/one",
            t.0.display(),
            t.0.display(),
            t.0.display()
        );
        let mut f = Files::new(path.into(), "cdsp".into());
        let n = f
            .fopen_with_env(b"ADSP_LIBRARY_PATH", b";", b"libx_skel.so", b"r")
            .unwrap();
        assert_eq!(n, FILE_BASE);
        let mut buf = [0u8; 16];
        assert_eq!(f.fread(n, &mut buf), Ok((6, true)));
        assert_eq!(&buf[..6], b"subsys");
        assert_eq!(
            f.fopen_with_env(b"ADSP_LIBRARY_PATH", b";", b"liby_skel.so", b"r"),
            Err(libc::ENOENT)
        );
        // Other variables come from the environment; unset is EBADPARM.
        assert_eq!(
            f.fopen_with_env(b"QDA_LISTENER_TEST_UNSET", b";", b"libx_skel.so", b"r"),
            Err(aee::EBADPARM)
        );
        let mut empty = Files::new(OsString::new(), "cdsp".into());
        assert_eq!(
            empty.fopen_with_env(b"DSP_LIBRARY_PATH", b";", b"libx_skel.so", b"r"),
            Err(aee::EBADPARM)
        );
    }

    #[test]
    fn file_numbers_reuse_the_lowest_free() {
        let t = TempDir::new("numbers");
        let p = t.write("f", b"0123456789");
        let mut f = Files::new(OsString::new(), "adsp".into());
        let a = f.fopen(s(&p), b"r").unwrap();
        let b = f.fopen(s(&p), b"r").unwrap();
        let c = f.fopen(s(&p), b"r").unwrap();
        assert_eq!((a, b, c), (100, 101, 102));
        f.fclose(b).unwrap();
        assert_eq!(f.fclose(b), Err(libc::EBADF));
        assert_eq!(f.fopen(s(&p), b"r"), Ok(101));
        assert_eq!(f.count(), 3);
        assert_eq!(f.fopen(s(&t.0.join("missing")), b"r"), Err(libc::ENOENT));
        assert_eq!(f.fopen(s(&p), b"?"), Err(libc::EINVAL));
    }

    #[test]
    fn read_seek_tell_len() {
        let t = TempDir::new("rw");
        let p = t.write("f", b"0123456789");
        let mut f = Files::new(OsString::new(), "adsp".into());
        let n = f.fopen(s(&p), b"rb").unwrap();
        assert_eq!(f.flen(n), Ok(10));
        let mut buf = [0u8; 4];
        assert_eq!(f.fread(n, &mut buf), Ok((4, false)));
        assert_eq!(&buf, b"0123");
        assert_eq!(f.ftell(n), Ok(4));
        f.fseek(n, -3, 2).unwrap();
        assert_eq!(f.fread(n, &mut buf), Ok((3, true)));
        assert_eq!(&buf[..3], b"789");
        f.fseek(n, 2, 0).unwrap();
        f.fseek(n, 1, 1).unwrap();
        assert_eq!(f.ftell(n), Ok(3));
        assert_eq!(f.fseek(n, -1, 0), Err(libc::EINVAL));
        assert_eq!(f.fseek(n, -100, 1), Err(libc::EINVAL));
        assert_eq!(f.fseek(n, 0, 7), Err(libc::EINVAL));
        assert_eq!(f.fread(n, &mut []), Ok((0, false)));
        assert_eq!(f.flen(999), Err(libc::EBADF));
        assert_eq!(f.ftell(999), Err(libc::EBADF));
        let mut w = Files::new(OsString::new(), "adsp".into());
        let o = w.fopen(s(&t.0.join("out")), b"w").unwrap();
        assert_eq!(w.fwrite(o, b"abc"), Ok(3));
        assert_eq!(w.fread(o, &mut buf), Err(libc::EBADF));
        assert_eq!(std::fs::read(t.0.join("out")).unwrap(), b"abc");
    }

    #[test]
    fn stat_resolves_library_names() {
        let t = TempDir::new("stat");
        let p = t.write("lib/libs_skel.so", &[7u8; 1234]);
        let mut f = Files::new(t.0.join("lib").into_os_string(), "cdsp".into());
        let st = f.stat(b"libs_skel.so").unwrap();
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!(&st[0..8], &[0; 8]);
        assert_eq!(u64::from_le_bytes(st[16..24].try_into().unwrap()), m.ino());
        assert_eq!(u32::from_le_bytes(st[24..28].try_into().unwrap()), m.mode());
        assert_eq!(u64::from_le_bytes(st[40..48].try_into().unwrap()), 1234);
        assert_eq!(
            i64::from_le_bytes(st[80..88].try_into().unwrap()),
            m.ctime()
        );
        assert_eq!(f.stat(b"nope.so"), Err(libc::ENOENT));
        assert_eq!(f.count(), 0);
    }
}
