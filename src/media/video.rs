//! Video uploads (WebM, MP4) through an admin-provided `ffmpeg`: remuxed without their metadata,
//! never re-encoded, and thumbnailed from their first frame.
//!
//! ffmpeg parses untrusted bytes, so it is held on a short leash: the input format is forced to
//! the one sniffed (a file cannot pose as a playlist that makes ffmpeg open other files or
//! URLs), only the `file` protocol is allowed, the declared size is checked before any frame is
//! decoded at it, the decoder's frame size is capped, every run has a memory and CPU-time limit
//! ([`Leash`]) and is killed after [`TIMEOUT`]. What ffmpeg says goes to the log, never to the
//! client.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Limits, MediaError, Thumbnail};

/// What ffmpeg's demuxers say when the file ends before the video does.
const TRUNCATED: &[&str] = &[
    "ended prematurely",
    "partial file",
    "truncat",
    "corrupt input packet",
];

/// Longest an ffmpeg run may take before it is killed and the upload refused.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// An accepted video container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Video {
    Webm,
    Mp4,
}

impl Video {
    pub fn ext(self) -> &'static str {
        match self {
            Video::Webm => "webm",
            Video::Mp4 => "mp4",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Video::Webm => "video/webm",
            Video::Mp4 => "video/mp4",
        }
    }

    /// The board config's name for the type.
    pub fn type_name(self) -> &'static str {
        self.ext()
    }

    /// ffmpeg's demuxer for reading it, and muxer for writing it back.
    fn formats(self) -> (&'static str, &'static str) {
        match self {
            Video::Webm => ("matroska", "webm"),
            Video::Mp4 => ("mov", "mp4"),
        }
    }
}

/// WebM by its EBML magic, MP4 by `ftyp` at offset 4 with a video brand. (The still formats on
/// the same container, AVIF and HEIC, are refused by [`super::sniff`] before this is asked.)
pub fn sniff(head: &[u8]) -> Option<Video> {
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(Video::Webm);
    }
    if head.get(4..8) == Some(b"ftyp") {
        return Some(Video::Mp4);
    }
    None
}

/// What [`ingest`] found.
#[derive(Debug, Clone)]
pub struct Probed {
    pub width: u32,
    pub height: u32,
    pub thumbnail: Thumbnail,
}

/// What one ffmpeg run may take: `memory` bytes of heap (RLIMIT_DATA, which counts every private
/// writable mapping ffmpeg makes, unlike its shared libraries) and `cpu` seconds (RLIMIT_CPU).
#[derive(Debug, Clone, Copy)]
pub struct Leash {
    pub memory: u64,
    pub cpu: Duration,
}

impl Leash {
    /// ffmpeg's own needs (code, threads, demuxer and codec state) before any frame: measured at
    /// about 90 MiB for a small H.264 or VP9 file with one thread.
    const BASE: u64 = 96 << 20;

    /// Whether decoding frames of `width`x`height` fits: a few reference frames in YUV, the
    /// converted RGB frame and the scaler's buffers come to about 12 bytes a pixel.
    fn fits(&self, width: u32, height: u32) -> bool {
        Self::BASE + u64::from(width) * u64::from(height) * 12 <= self.memory
    }
}

/// Checks the video's declared size against the limits and the leash, remuxes `src` into `dst`
/// without metadata, chapters, subtitles or data streams (keeping the first video and first
/// audio stream, bytes untouched), then makes the thumbnail from the first frame of the result,
/// which also proves that it decodes. Every ffmpeg run is on `leash`.
pub fn ingest(
    ffmpeg: &Path,
    kind: Video,
    src: &Path,
    dst: &Path,
    limits: &Limits,
    thumb_size: u32,
    leash: Leash,
) -> Result<Probed, MediaError> {
    let (demuxer, muxer) = kind.formats();
    let max_pixels = u64::from(limits.max_width) * u64::from(limits.max_height);

    // The declared size, before anything decodes a frame at it.
    let mut probe = base(ffmpeg, leash, "info");
    probe
        .args(["-max_pixels", &max_pixels.to_string()])
        .args(["-f", demuxer, "-i"])
        .arg(src);
    let said = run(probe, true)?;
    let (width, height) = declared_size(&said).ok_or_else(|| {
        MediaError::Undecodable(format!("no video stream found: {}", last_line(&said)))
    })?;
    limits.check(width, height)?;
    if !leash.fits(width, height) {
        return Err(MediaError::OverBudget { width, height });
    }

    let mut remux = base(ffmpeg, leash, "warning");
    remux
        .args(["-f", demuxer, "-i"])
        .arg(src)
        .args(["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy"])
        .args(["-map_metadata", "-1", "-map_chapters", "-1", "-sn", "-dn"])
        .args(["-fflags", "+bitexact", "-flags:v", "+bitexact"]);
    if kind == Video::Mp4 {
        // The index first, so browsers can start playing before the whole file arrives.
        remux.args(["-movflags", "+faststart"]);
    }
    remux.args(["-f", muxer, "-y"]).arg(dst);
    let warnings = run(remux, false)?;
    // ffmpeg copies what it can of a cut-off file and only warns; a video is whole or refused.
    let lower = warnings.to_ascii_lowercase();
    if TRUNCATED.iter().any(|phrase| lower.contains(phrase)) {
        return Err(MediaError::Truncated);
    }

    let frame = tempfile::Builder::new()
        .suffix(".png")
        .tempfile_in(dst.parent().unwrap_or(Path::new(".")))?
        .into_temp_path();
    // Scaled by ffmpeg to what the thumbnail needs, so the frame file stays small whatever
    // the video's size.
    let side = thumb_size.clamp(1, 4096) * 2;
    let scale =
        format!("scale=w='min(iw,{side})':h='min(ih,{side})':force_original_aspect_ratio=decrease");
    let mut grab = base(ffmpeg, leash, "warning");
    grab.args(["-max_pixels", &max_pixels.to_string()])
        .args(["-f", muxer, "-i"])
        .arg(dst)
        .args(["-map", "0:v:0", "-frames:v", "1", "-vf", &scale])
        .args(["-update", "1", "-f", "image2", "-c:v", "png", "-y"])
        .arg(&frame);
    run(grab, false)?;
    let thumbnail = super::thumbnail(&frame, thumb_size)?;
    Ok(Probed {
        width,
        height,
        thumbnail,
    })
}

/// The first video stream's size in ffmpeg's stream listing
/// (`Stream #0:0: Video: h264 (...), yuv420p(progressive), 320x240 [SAR 1:1 DAR 4:3], ...`).
fn declared_size(said: &str) -> Option<(u32, u32)> {
    let line = said
        .lines()
        .find(|l| l.trim_start().starts_with("Stream #") && l.contains(": Video: "))?;
    line.split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|token| {
            let (w, h) = token.split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?))
        })
        .find(|&(w, h): &(u32, u32)| w > 0 && h > 0)
}

fn base(ffmpeg: &Path, leash: Leash, loglevel: &str) -> Command {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new(ffmpeg);
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", loglevel])
        .args(["-protocol_whitelist", "file", "-threads", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let memory = leash.memory as libc::rlim_t;
    let cpu = leash.cpu.as_secs().max(1) as libc::rlim_t;
    // SAFETY: runs in the child between fork and exec, and only calls setrlimit, which is
    // async-signal-safe; the limits hold for ffmpeg and cannot be raised by it.
    unsafe {
        cmd.pre_exec(move || {
            for (resource, value) in [(libc::RLIMIT_DATA, memory), (libc::RLIMIT_CPU, cpu)] {
                let limit = libc::rlimit {
                    rlim_cur: value,
                    rlim_max: value,
                };
                if libc::setrlimit(resource, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    cmd
}

fn last_line(said: &str) -> &str {
    said.lines().last().unwrap_or("").trim()
}

/// Runs ffmpeg to completion or [`TIMEOUT`] and returns what it said. A failure is the file's
/// fault, reported as [`MediaError::Undecodable`] with ffmpeg's words for the log only; not
/// being able to start ffmpeg is the server's. With `may_fail` (a probe, which has no output
/// and so always "fails"), only a timeout is an error.
fn run(mut cmd: Command, may_fail: bool) -> Result<String, MediaError> {
    let mut child = cmd
        .spawn()
        .map_err(|e| MediaError::internal(format!("cannot run {:?}: {e}", cmd.get_program())))?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    // Drain stderr on a thread so a chatty ffmpeg never blocks on a full pipe.
    let said = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = (&mut stderr).take(16 * 1024).read_to_string(&mut text);
        // Drain the rest unread, so ffmpeg never blocks writing to a full pipe.
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        text
    });
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let said = said.join().unwrap_or_default();
    match status {
        Some(status) if status.success() || may_fail => Ok(said),
        Some(status) => Err(MediaError::Undecodable(format!(
            "ffmpeg {status}: {}",
            last_line(&said)
        ))),
        None => Err(MediaError::Undecodable(format!(
            "ffmpeg ran over {} seconds",
            TIMEOUT.as_secs()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_containers() {
        assert_eq!(sniff(&[0x1A, 0x45, 0xDF, 0xA3, 0x01]), Some(Video::Webm));
        assert_eq!(sniff(b"\0\0\0\x20ftypisom"), Some(Video::Mp4));
        assert_eq!(sniff(b"\xFF\xD8\xFF"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn declared_sizes() {
        let cases: &[(&str, Option<(u32, u32)>)] = &[
            (
                "  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), \
                 yuv420p(progressive), 9984x9984 [SAR 1:1 DAR 1:1], 5 kb/s",
                Some((9984, 9984)),
            ),
            (
                "  Stream #0:0: Video: vp9 (Profile 1), gbrp(pc, gbr/unknown/unknown, \
                 progressive), 320x240, SAR 1:1 DAR 4:3, 10 fps",
                Some((320, 240)),
            ),
            ("  Stream #0:1: Audio: opus, 48000 Hz, stereo", None),
            ("Input #0, matroska,webm, from 'x':", None),
            ("", None),
        ];
        for (said, want) in cases {
            assert_eq!(declared_size(said), *want, "{said}");
        }
    }
}
