//! Video uploads (WebM, MP4) through an admin-provided `ffmpeg`: remuxed without their metadata,
//! never re-encoded, and thumbnailed from their first frame.
//!
//! ffmpeg parses untrusted bytes, so it is held on a short leash: the input format is forced to
//! the one sniffed (a file cannot pose as a playlist that makes ffmpeg open other files or
//! URLs), only the `file` protocol is allowed, the decoder's frame size is capped, and every run
//! is killed after [`TIMEOUT`].

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

/// Remuxes `src` into `dst` without metadata, chapters, subtitles or data streams (keeping the
/// first video and first audio stream, bytes untouched), then makes the thumbnail from the first
/// frame of the result, which also proves that it decodes.
pub fn ingest(
    ffmpeg: &Path,
    kind: Video,
    src: &Path,
    dst: &Path,
    limits: &Limits,
    thumb_size: u32,
) -> Result<Probed, MediaError> {
    let (demuxer, muxer) = kind.formats();
    let max_pixels = u64::from(limits.max_width) * u64::from(limits.max_height);
    let mut remux = base(ffmpeg);
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
    let warnings = run(remux, "the video could not be read")?;
    // ffmpeg copies what it can of a cut-off file and only warns; a video is whole or refused.
    let lower = warnings.to_ascii_lowercase();
    if TRUNCATED.iter().any(|phrase| lower.contains(phrase)) {
        return Err(MediaError::Truncated);
    }

    let frame = tempfile::Builder::new()
        .suffix(".png")
        .tempfile_in(dst.parent().unwrap_or(Path::new(".")))?
        .into_temp_path();
    let mut grab = base(ffmpeg);
    grab.args(["-max_pixels", &max_pixels.to_string()])
        .args(["-f", muxer, "-i"])
        .arg(dst)
        .args([
            "-map",
            "0:v:0",
            "-frames:v",
            "1",
            "-f",
            "image2",
            "-c:v",
            "png",
            "-y",
        ])
        .arg(&frame);
    run(grab, "the video has no frame that decodes")?;

    let head = std::fs::read(&frame)?;
    let (width, height) = png_size(&head)
        .ok_or_else(|| MediaError::Corrupt("the video has no frame that decodes".into()))?;
    limits.check(width, height)?;
    let thumbnail = super::thumbnail(&frame, thumb_size)?;
    Ok(Probed {
        width,
        height,
        thumbnail,
    })
}

fn base(ffmpeg: &Path) -> Command {
    let mut cmd = Command::new(ffmpeg);
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "warning"])
        .args(["-protocol_whitelist", "file"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Runs ffmpeg to completion or [`TIMEOUT`] and returns what it said (warnings). A failure is
/// the file's fault (ffmpeg says why on stderr); not being able to start ffmpeg is the server's.
fn run(mut cmd: Command, refusal: &str) -> Result<String, MediaError> {
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
        Some(status) if status.success() => Ok(said),
        Some(_) => {
            let why = said.lines().last().unwrap_or("").trim();
            Err(MediaError::Corrupt(if why.is_empty() {
                refusal.to_owned()
            } else {
                format!("{refusal} ({why})")
            }))
        }
        None => Err(MediaError::Corrupt(format!(
            "{refusal}: processing took over {} seconds",
            TIMEOUT.as_secs()
        ))),
    }
}

/// Width and height from a PNG's IHDR.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.get(..8)? != b"\x89PNG\r\n\x1a\n" || png.get(12..16)? != b"IHDR" {
        return None;
    }
    let word = |at: usize| Some(u32::from_be_bytes(png.get(at..at + 4)?.try_into().ok()?));
    Some((word(16)?, word(20)?))
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
    fn png_sizes() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(png_size(&png), Some((640, 480)));
        assert_eq!(png_size(b"nope"), None);
    }
}
