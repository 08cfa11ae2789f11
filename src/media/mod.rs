//! Uploaded images: decides the type from the bytes, refuses what is not a safe still or
//! animated picture, strips metadata from the stored original and makes the thumbnail.
//!
//! Everything here is synchronous and CPU-bound: the upload handler runs it in `spawn_blocking`
//! behind a semaphore sized to the cores.
//!
//! # API
//!
//! - [`sniff`]`(head) -> Result<`[`Format`]`>`: the type from the first bytes (64 are plenty),
//!   never from the file name or the client's declared type. JPEG, PNG (and APNG), GIF and WebP
//!   are accepted; video magic is [`MediaError::Video`], SVG, HTML, PDF and other known types are
//!   [`MediaError::Unsupported`], anything else [`MediaError::NotAnImage`].
//! - [`prepare`]`(src, &`[`Limits`]`) -> Result<`[`Prepared`]`>`: reads the file, walks the
//!   container, rebuilds or drops each block and checks the declared size, all before any pixel
//!   buffer exists. [`Prepared::cost`] is the memory the rest will take, from the headers, so
//!   the caller can reserve it; [`Prepared::finish`] decodes every frame, writes the cleaned
//!   original and makes the thumbnail.
//! - [`ingest`]`(src, dst, &`[`Limits`]`) -> Result<`[`Probed`]`>`: the same without the
//!   thumbnail. [`Probed`] gives the upright size.
//! - [`thumbnail`]`(src, size) -> Result<`[`Thumbnail`]`>`: an upright lossy WebP whose longest
//!   side is `size` (never enlarged), first frame of animations, transparency kept; what
//!   `wani thumbnail IN OUT [--size N]` runs. It carries the perceptual hash of its pixels
//!   ([`phash`]), which file bans compare.
//!
//! Every failure is a [`MediaError`] with a stable snake_case [`MediaError::code`] and a message
//! for people through `Display`.
//!
//! # Validation, then the fast path
//!
//! Validation decodes untrusted bytes with memory-safe decoders only (jpeg-decoder, png, gif,
//! image-webp) and reads every compressed bit of every frame: PNG (APNG) and GIF row by row, so
//! their memory is a few rows whatever size they declare; JPEG at 1/8 DCT scale, which still
//! reads every entropy-coded bit; WebP whole, frame after frame. The thumbnail then takes
//! shortcuts that cannot change a small picture: JPEG decodes at a reduced DCT scale (a
//! progressive one without its AC scans at 1/8), a still WebP is shrunk by libwebp while it
//! decodes, PNG and GIF are box-filtered while they stream. fast_image_resize (SIMD Lanczos3)
//! makes the final size; libwebp encodes lossy WebP, which on the fixture photos is half the
//! size of JPEG at similar quality and a seventh of lossless WebP or PNG.
//!
//! # What is kept in the stored original
//!
//! Only what was validated, and only what changes how the picture looks: each kept block is
//! rebuilt from its parsed fields or is data the decoder read whole. JPEG: the JFIF APP0 and
//! Adobe APP14 rebuilt from their fields, the tables and frame and scan headers; every other
//! APPn (Exif, XMP, IPTC, ICC, MPF, vendor blocks), comments and anything after the end marker go.
//! PNG: the chunks a renderer uses (PLTE, tRNS, gAMA, cHRM, sRGB, cICP, mDCV, cLLI) and the APNG
//! chunks, CRCs checked and recomputed, the image data of each frame one run whose zlib stream
//! ends where the run does; iCCP, text, time, eXIf, pHYs and private chunks go. WebP: ICCP,
//! EXIF, XMP and unknown chunks go and VP8X is rebuilt. GIF: the header, graphic control blocks
//! and the NETSCAPE2.0/ANIMEXTS1.0 loop count are rebuilt; comments, plain text and other
//! application blocks go. Colour profiles go because they are opaque blobs (browsers assume
//! sRGB). An EXIF orientation other than "upright" survives as a minimal EXIF block holding that
//! one tag, so browsers (which honour it by default for JPEG) still show the photo upright.

mod decode;
mod exif;
mod gif;
mod jpeg;
mod libwebp;
pub mod phash;
mod png;
mod sniff;
mod stream;
mod thumb;
pub mod video;
mod webp;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;

pub use sniff::sniff;
pub use thumb::{QUALITY, SIZE_DEFAULT};

/// An accepted image type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl Format {
    /// The file extension the server stores it under.
    pub fn ext(&self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
        }
    }

    pub fn mime(&self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Gif => "GIF",
            Format::Webp => "WebP",
        })
    }
}

/// How big an accepted image may be, in upright pixels. The memory a decoder may take follows
/// from these (see [`Limits::max_alloc`]), so they are the only knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_width: u32,
    pub max_height: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_width: 10_000,
            max_height: 10_000,
        }
    }
}

impl Limits {
    /// What [`thumbnail`] accepts when no board limit applies (the command line, or a stored
    /// original): larger than any sensible board limit, small enough that a hostile file cannot
    /// make the process take more than a couple of GiB.
    pub const CEILING: Limits = Limits {
        max_width: 16_384,
        max_height: 16_384,
    };

    /// The most bytes a decoder may allocate: 8 bytes a pixel covers the widest decoded form
    /// (16-bit RGBA PNG) and a progressive JPEG's coefficients (2 bytes per sample, up to four
    /// full-resolution components), plus slack for tables and the compressed stream's buffers.
    pub fn max_alloc(&self) -> u64 {
        u64::from(self.max_width) * u64::from(self.max_height) * 8 + (16 << 20)
    }

    fn check(&self, width: u32, height: u32) -> Result<(), MediaError> {
        if width > self.max_width || height > self.max_height {
            return Err(MediaError::TooLarge { width, height });
        }
        Ok(())
    }

    fn decoder_limits(&self) -> image::Limits {
        // Orientation may swap the axes, so the decoder (which sees stored, not upright, axes)
        // gets the larger side for both; the upright check has already been done.
        let side = self.max_width.max(self.max_height);
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(side);
        limits.max_image_height = Some(side);
        limits.max_alloc = Some(self.max_alloc());
        limits
    }
}

/// Why a file was refused or could not be processed.
#[derive(Debug)]
pub enum MediaError {
    /// The bytes match no known type.
    NotAnImage,
    /// A video container (WebM/Matroska, MP4/QuickTime, AVI): not taken by this server yet.
    Video,
    /// A known type the server does not take; names it ("SVG", "PDF", "HTML", ...).
    Unsupported(&'static str),
    /// The file ends before the image does.
    Truncated,
    /// The file is damaged or breaks its format's rules; says what the parser found.
    Corrupt(String),
    /// A decoder (or ffmpeg) refused the data. The detail is the tool's own wording, for the
    /// log only: clients get a fixed sentence.
    Undecodable(String),
    /// The declared size is over the limits (this is also how decompression bombs end).
    TooLarge { width: u32, height: u32 },
    /// Within the board's limits, but decoding it would take more memory than the server's
    /// whole budget for image work.
    OverBudget { width: u32, height: u32 },
    /// A fault on the server's side, not the client's: reading the upload, writing the result,
    /// or the resizer or encoder failing.
    Io(std::io::Error),
}

impl MediaError {
    /// A stable snake_case code that API clients may match on.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::NotAnImage => "not_an_image",
            MediaError::Video => "video_not_supported",
            MediaError::Unsupported(_) => "unsupported_image_type",
            MediaError::Truncated => "image_truncated",
            MediaError::Corrupt(_) | MediaError::Undecodable(_) => "image_corrupt",
            MediaError::TooLarge { .. } | MediaError::OverBudget { .. } => "image_too_large",
            MediaError::Io(_) => "io_error",
        }
    }

    /// True when the fault is the server's (I/O), so the caller answers 5xx and logs it.
    pub fn is_internal(&self) -> bool {
        matches!(self, MediaError::Io(_))
    }
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const ACCEPTED: &str = "JPEG, PNG, GIF or WebP";
        match self {
            MediaError::NotAnImage => write!(f, "the file is not an image; post {ACCEPTED}"),
            MediaError::Video => write!(f, "this server does not take video; post {ACCEPTED}"),
            MediaError::Unsupported(what) => {
                write!(f, "{what} files are not accepted; post {ACCEPTED}")
            }
            MediaError::Truncated => write!(f, "the image is incomplete (cut off before its end)"),
            MediaError::Corrupt(why) => write!(f, "the image is damaged: {why}"),
            MediaError::Undecodable(_) => {
                write!(f, "the image is damaged: its picture data does not decode")
            }
            MediaError::TooLarge { width, height } => {
                write!(
                    f,
                    "the image is {width}x{height} pixels, over this board's limit"
                )
            }
            MediaError::OverBudget { width, height } => write!(
                f,
                "the image is {width}x{height} pixels; decoding it would take more memory than \
                 this server allows for one image"
            ),
            MediaError::Io(e) => write!(f, "processing the image failed on the server: {e}"),
        }
    }
}

impl std::error::Error for MediaError {}

impl MediaError {
    fn internal(why: String) -> Self {
        MediaError::Io(std::io::Error::other(why))
    }
}

impl From<std::io::Error> for MediaError {
    fn from(e: std::io::Error) -> Self {
        MediaError::Io(e)
    }
}

/// What [`ingest`] found in an accepted upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probed {
    pub format: Format,
    /// Upright size: after the EXIF orientation is applied, as a browser shows it.
    pub width: u32,
    pub height: u32,
    /// More than one frame (GIF, APNG, animated WebP).
    pub animated: bool,
    /// EXIF orientation, 1 (upright) to 8; 1 when the file has none.
    pub orientation: u8,
}

/// A thumbnail ready to store and serve.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// The perceptual hash of the thumbnail's pixels ([`phash::dhash`]), before encoding.
    pub dhash: u64,
}

/// A container after its metadata walk: the cleaned bytes and what the headers declare.
struct Cleaned {
    format: Format,
    bytes: Vec<u8>,
    /// Stored (not upright) size, from the container's own header.
    width: u32,
    height: u32,
    orientation: u8,
    animated: bool,
    /// The bytes its decoders hold at full resolution, whatever the output scale (the whole
    /// canvas for WebP, a progressive JPEG's coefficients, a few rows for PNG and GIF).
    decode_bytes: u64,
}

/// Room for what no header announces: decoder tables, the resizer and encoder, the thread.
const SLACK_BYTES: u64 = 8 << 20;

/// The memory an upload of `file_len` bytes takes before its header is read: the file, its
/// cleaned copy and slack.
pub fn reading_cost(file_len: u64) -> u64 {
    file_len * 3 + SLACK_BYTES
}

impl Cleaned {
    /// The most memory validating and thumbnailing this file takes, in bytes: the file and its
    /// cleaned copy, what the decoder keeps at full size, and the reduced picture (1/8 scale or
    /// twice the thumbnail, whichever is larger) with its conversions.
    fn cost(&self, file_len: u64, thumb_size: u32) -> u64 {
        let (w, h) = (u64::from(self.width), u64::from(self.height));
        let side = u64::from(thumb_size.clamp(1, 4096)) * 2 + 16;
        let reduced = (w.div_ceil(8) * h.div_ceil(8)).max(side * side).min(w * h);
        reading_cost(file_len) + self.decode_bytes + reduced * 16
    }

    fn upright(&self) -> (u32, u32) {
        if exif::swaps_axes(self.orientation) {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }

    fn probed(&self) -> Probed {
        let (width, height) = self.upright();
        Probed {
            format: self.format,
            width,
            height,
            animated: self.animated,
            orientation: self.orientation,
        }
    }
}

/// Sniffs, walks the container (structure, declared size, orientation, frames) and strips the
/// metadata, then checks the declared size: all before any pixel is decoded.
fn clean(data: &[u8], limits: &Limits) -> Result<Cleaned, MediaError> {
    let format = sniff(data)?;
    let cleaned = match format {
        Format::Jpeg => jpeg::clean(data)?,
        Format::Png => png::clean(data)?,
        Format::Gif => gif::clean(data)?,
        Format::Webp => webp::clean(data)?,
    };
    let (width, height) = cleaned.upright();
    limits.check(width, height)?;
    Ok(cleaned)
}

/// An upload read and cleaned, its declared size checked against the limits: nothing decoded
/// yet, so the caller can reserve [`Prepared::cost`] before any pixel work.
pub struct Prepared {
    cleaned: Cleaned,
    file_len: u64,
}

/// Reads `src`, walks its container and strips the metadata, and checks the declared size.
pub fn prepare(src: &Path, limits: &Limits) -> Result<Prepared, MediaError> {
    let data = std::fs::read(src)?;
    let cleaned = clean(&data, limits)?;
    Ok(Prepared {
        cleaned,
        file_len: data.len() as u64,
    })
}

impl Prepared {
    /// The most memory [`Prepared::finish`] takes with thumbnails of `thumb_size`.
    pub fn cost(&self, thumb_size: u32) -> u64 {
        self.cleaned.cost(self.file_len, thumb_size)
    }

    /// The upright size, from the headers.
    pub fn width_height(&self) -> (u32, u32) {
        self.cleaned.upright()
    }

    /// Decodes every frame (refusing truncated or corrupt files), writes the cleaned original to
    /// `dst` and makes its thumbnail.
    pub fn finish(
        self,
        dst: &Path,
        limits: &Limits,
        thumb_size: u32,
    ) -> Result<(Probed, Thumbnail), MediaError> {
        decode::validate(&self.cleaned, limits)?;
        write(dst, &self.cleaned.bytes)?;
        let thumbnail = thumb::make(&self.cleaned, limits, thumb_size)?;
        Ok((self.cleaned.probed(), thumbnail))
    }
}

/// Validates `src` fully, strips its metadata and writes the cleaned original to `dst`.
///
/// The declared size is checked against `limits` before any pixel buffer is allocated; then
/// every frame of the cleaned bytes is decoded, so truncated or corrupt files are refused and
/// what is stored displays.
pub fn ingest(src: &Path, dst: &Path, limits: &Limits) -> Result<Probed, MediaError> {
    let prepared = prepare(src, limits)?;
    decode::validate(&prepared.cleaned, limits)?;
    write(dst, &prepared.cleaned.bytes)?;
    Ok(prepared.cleaned.probed())
}

/// An upright WebP thumbnail of `src` (a cleaned original or any accepted image) whose longest
/// side is `size` pixels, or the image's own size if smaller. Files over [`Limits::CEILING`] are
/// refused.
pub fn thumbnail(src: &Path, size: u32) -> Result<Thumbnail, MediaError> {
    let data = std::fs::read(src)?;
    let cleaned = clean(&data, &Limits::CEILING)?;
    drop(data);
    thumb::make(&cleaned, &Limits::CEILING, size)
}

/// Writes `bytes` to `path`, leaving no partial file behind on failure.
fn write(path: &Path, bytes: &[u8]) -> Result<(), MediaError> {
    std::fs::write(path, bytes).map_err(|e| {
        let _ = std::fs::remove_file(path);
        MediaError::Io(e)
    })
}
