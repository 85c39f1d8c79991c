//! The simulator's debugfs view of the static PDs
//! (`/sys/kernel/debug/qda_dsp_sim/{audiopd,sensors,listeners,remoteproc}-<dsp>`):
//! parsing what they show and writing their commands.

use std::{fs, io};

const DIR: &str = "/sys/kernel/debug/qda_dsp_sim";

/// `audiopd-<dsp>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AudioPd {
    /// Remote heap the PD received: (base, size).
    pub heap: Option<(u64, u64)>,
    /// Heap bytes in use by audio allocations.
    pub used: u64,
    /// `apps_mem` buffers held.
    pub grants: u64,
    /// Successful CREATE_STATIC so far.
    pub creates: u64,
    /// Whether the audio PD process exists.
    pub up: bool,
    /// Result of the last `alloc`: "ok" or an errno.
    pub last: String,
}

/// `sensors-<dsp>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SensorsPd {
    /// The last read: `read <path> <len> <fnv>`, `error <errno>` or `none`.
    pub last: Vec<String>,
    /// Whether the sensors PD process exists.
    pub up: bool,
}

/// One line of `listeners-<dsp>`: a process on the DSP.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listener {
    /// The PD it runs in: `rootpd`, `sensorspd`, `audiopd` or `userpd`.
    pub pd: String,
    /// The apps side registered its default listener there.
    pub registered: bool,
    /// Its listener's `next2` is held, waiting for a reverse call.
    pub next2: bool,
}

/// `remoteproc-<dsp>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Remoteproc {
    /// IOMMU domain type of the remoteproc device.
    pub domain: String,
    /// Pages of the remote heap translating IOVA == PA.
    pub mapped: u64,
    /// Pages of the remote heap.
    pub total: u64,
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

fn num(s: Option<&&str>, line: &str) -> Result<u64, String> {
    s.and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("bad line {line:?}"))
}

/// Parses `audiopd-<dsp>`.
pub fn parse_audio(text: &str) -> Result<AudioPd, String> {
    let mut a = AudioPd::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            Some("heap") if f.get(1) == Some(&"none") => a.heap = None,
            Some("heap") => {
                let (b, s) = (f.get(1).and_then(|v| hex(v)), f.get(2).and_then(|v| hex(v)));
                a.heap = Some((b.zip(s)).ok_or_else(|| format!("bad line {line:?}"))?);
            }
            Some("used") => a.used = num(f.get(1), line)?,
            Some("grants") => a.grants = num(f.get(1), line)?,
            Some("creates") => a.creates = num(f.get(1), line)?,
            Some("up") => a.up = num(f.get(1), line)? == 1,
            Some("last") => a.last = f.get(1).unwrap_or(&"").to_string(),
            _ => {}
        }
    }
    Ok(a)
}

/// Parses `sensors-<dsp>`.
pub fn parse_sensors(text: &str) -> Result<SensorsPd, String> {
    let mut s = SensorsPd::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            Some("read" | "error" | "none") => {
                s.last = f.iter().map(|w| w.to_string()).collect();
            }
            Some("up") => s.up = num(f.get(1), line)? == 1,
            _ => {}
        }
    }
    Ok(s)
}

/// Parses `listeners-<dsp>` (`<pd> registered <0|1> next2 <0|1>` lines).
pub fn parse_listeners(text: &str) -> Result<Vec<Listener>, String> {
    let mut v = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && l.trim() != "down")
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 5 || f[1] != "registered" || f[3] != "next2" {
            return Err(format!("bad line {line:?}"));
        }
        v.push(Listener {
            pd: f[0].to_string(),
            registered: num(f.get(2), line)? == 1,
            next2: num(f.get(4), line)? == 1,
        });
    }
    Ok(v)
}

/// Parses `remoteproc-<dsp>`.
pub fn parse_remoteproc(text: &str) -> Result<Remoteproc, String> {
    let mut r = Remoteproc::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            Some("domain") => r.domain = f.get(1).unwrap_or(&"").to_string(),
            Some("mapped") => {
                r.mapped = num(f.get(1), line)?;
                r.total = num(f.get(2), line)?;
            }
            _ => {}
        }
    }
    Ok(r)
}

fn read(file: &str) -> Result<String, String> {
    let p = format!("{DIR}/{file}");
    fs::read_to_string(&p).map_err(|e| format!("{p}: {e}"))
}

/// The audio PD of `dsp` as the simulator shows it.
pub fn audio(dsp: &str) -> Result<AudioPd, String> {
    parse_audio(&read(&format!("audiopd-{dsp}"))?)
}

/// The sensors PD of `dsp` as the simulator shows it.
pub fn sensors(dsp: &str) -> Result<SensorsPd, String> {
    parse_sensors(&read(&format!("sensors-{dsp}"))?)
}

/// The processes of `dsp` and their listeners as the simulator shows them.
pub fn listeners(dsp: &str) -> Result<Vec<Listener>, String> {
    parse_listeners(&read(&format!("listeners-{dsp}"))?)
}

/// The remote heap's mapping in `dsp`'s remoteproc IOMMU domain.
pub fn remoteproc(dsp: &str) -> Result<Remoteproc, String> {
    parse_remoteproc(&read(&format!("remoteproc-{dsp}"))?)
}

/// Writes `cmd` to `<file>`; the write's own result (the simulator
/// answers a failed command with its errno).
pub fn command(file: &str, cmd: &str) -> io::Result<()> {
    fs::write(format!("{DIR}/{file}"), cmd)
}

/// `alloc <bytes>` on the audio PD of `dsp`.
pub fn alloc(dsp: &str, bytes: u64) -> io::Result<()> {
    command(&format!("audiopd-{dsp}"), &format!("alloc {bytes}"))
}

/// `free` on the audio PD of `dsp`.
pub fn free(dsp: &str) -> io::Result<()> {
    command(&format!("audiopd-{dsp}"), "free")
}

/// Requests to handle 1 (process control) with scalars `sc` in a
/// channel's trace (`trace-<dsp>`): the PD bits of each one's context and
/// the text of its first input (`d=...`).
pub fn init_requests(trace: &str, sc: u32) -> Vec<(u32, String)> {
    let key = format!(" h1 sc{sc:08x} ");
    let mut v = Vec::new();
    for line in trace.lines().filter(|l| l.contains(&key)) {
        let pd = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("pd").and_then(|n| n.parse().ok()));
        let d = line
            .split(" | ")
            .nth(1)
            .and_then(|a| a.split(" d=").nth(1))
            .unwrap_or("");
        if let Some(pd) = pd {
            v.push((pd, d.to_string()));
        }
    }
    v
}

/// `pageslen` of a CREATE_STATIC request's first input (`{client_id,
/// namelen, pageslen}`) as a trace shows it: decoded (`pageslen=<hex>`)
/// or as words (`w<client>.<namelen>.<pageslen>`).
pub fn pageslen(d: &str) -> Option<u32> {
    if let Some(rest) = d.split("pageslen=").nth(1) {
        let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
        return u32::from_str_radix(&hex, 16).ok();
    }
    let words: Vec<&str> = d.strip_prefix('w')?.split('.').collect();
    (words.len() == 3)
        .then(|| u32::from_str_radix(words[2], 16).ok())
        .flatten()
}

/// The trace of `dsp`'s channel.
pub fn trace(dsp: &str) -> Result<String, String> {
    read(&format!("trace-{dsp}"))
}

/// Empties the trace of `dsp`'s channel.
pub fn clear_trace(dsp: &str) -> Result<(), String> {
    command(&format!("trace-{dsp}"), "clear").map_err(|e| format!("trace-{dsp}: {e}"))
}

/// FNV-1a, 64 bits.
pub fn fnv1a64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_pd_lines() {
        let a = parse_audio(
            "heap 0x8e000000 0x800000\nused 4096\ngrants 2\ncreates 3\nup 1\nlast ok\n",
        )
        .unwrap();
        assert_eq!(
            a,
            AudioPd {
                heap: Some((0x8e00_0000, 0x80_0000)),
                used: 4096,
                grants: 2,
                creates: 3,
                up: true,
                last: "ok".into()
            }
        );
        let a = parse_audio("heap none\nused 0\ngrants 0\ncreates 0\nup 0\nlast 12\n").unwrap();
        assert_eq!((a.heap, a.up, a.last.as_str()), (None, false, "12"));
        assert!(parse_audio("heap 0x10\n").is_err());
        assert!(parse_audio("used lots\n").is_err());
    }

    #[test]
    fn listener_lines() {
        let v =
            parse_listeners("rootpd registered 1 next2 1\nuserpd registered 0 next2 0\n").unwrap();
        assert_eq!(
            v,
            [
                Listener {
                    pd: "rootpd".into(),
                    registered: true,
                    next2: true
                },
                Listener {
                    pd: "userpd".into(),
                    registered: false,
                    next2: false
                }
            ]
        );
        assert!(parse_listeners("").unwrap().is_empty());
        assert!(parse_listeners("down\n").unwrap().is_empty());
        assert!(parse_listeners("rootpd registered x next2 1\n").is_err());
        assert!(parse_listeners("rootpd 1 1\n").is_err());
    }

    #[test]
    fn sensors_and_remoteproc_lines() {
        let s = parse_sensors("read /tmp/x 5 a430d84680aabd0b\nup 1\n").unwrap();
        assert_eq!(s.last, ["read", "/tmp/x", "5", "a430d84680aabd0b"]);
        assert!(s.up);
        let s = parse_sensors("error 2\nup 0\n").unwrap();
        assert_eq!((s.last.join(" "), s.up), ("error 2".into(), false));
        let r = parse_remoteproc("domain identity\nmapped 2048 2048\n").unwrap();
        assert_eq!(
            (r.domain.as_str(), r.mapped, r.total),
            ("identity", 2048, 2048)
        );
        assert!(parse_remoteproc("mapped 1\n").is_err());
    }

    #[test]
    fn process_control_requests_in_a_trace() {
        let t = "c0 t0 x0 pd0 h1 sc00010000 sz0 | in len=4 pg=p+0/4 at=+0 d={c0}\n\
                 c1 t0 x1 pd1 h1 sc08030000 sz40 | in len=c pg=p+0/c at=+0 d=w3.8.1 \
                 | in len=8 pg=p+10/8 at=+10 d=x617564696f706400 | in len=10 d=w0.8e000000.800000.0\n\
                 c2 t0 x2 pd1 h1 sc08030000 sz40 | in len=c d={c2 namelen=8 pageslen=0}\n\
                 c3 t1 x3 pd2 h1 sc00010000 sz0 | in len=4 d={c3}\n";
        let creates = init_requests(t, 0x0803_0000);
        assert_eq!(creates.len(), 2);
        assert_eq!(creates[0].0, 1);
        assert_eq!(pageslen(&creates[0].1), Some(1));
        assert_eq!(pageslen(&creates[1].1), Some(0));
        let attaches = init_requests(t, 0x0001_0000);
        assert_eq!(attaches.iter().map(|a| a.0).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(pageslen("w3.8"), None);
        assert_eq!(pageslen("#0123456789abcdef"), None);
    }

    #[test]
    fn fnv1a64_matches_the_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"hello"), 0xa430_d846_80aa_bd0b);
    }
}
