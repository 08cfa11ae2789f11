//! Decoding: every frame to validate an upload, and the first frame into 8-bit RGB or RGBA, as
//! small as a thumbnail allows, within the limits.

use std::io::Cursor;
use std::panic::AssertUnwindSafe;

use image::codecs::webp::WebPDecoder;
use image::{DynamicImage, ImageDecoder, ImageError};

use super::{jpeg, libwebp, Cleaned, Format, Limits, MediaError};

/// Decoded pixels in stored (not upright) orientation: RGB when `alpha` is false, else RGBA.
pub(super) struct Pixels {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub alpha: bool,
}

/// Why a frame is decoded, which decides how much work may be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// Proving an upload displays: every compressed bit is read, by memory-safe decoders only.
    Validate,
    /// Making a thumbnail of a validated file: skip what cannot change a small picture.
    Thumbnail,
}

/// Proves that every frame of `image`'s cleaned bytes decodes, with memory-safe decoders only and
/// without holding more than [`Cleaned::decode_bytes`]: PNG and GIF row by row, JPEG at 1/8
/// scale (which still reads every entropy-coded bit), WebP whole, frame after frame.
pub(super) fn validate(image: &Cleaned, limits: &Limits) -> Result<(), MediaError> {
    guarded(image, || match image.format {
        Format::Png => super::stream::png(&image.bytes, None).map(drop),
        Format::Gif => super::stream::gif(&image.bytes, None).map(drop),
        Format::Jpeg => jpeg(image, limits, (1, 1), Purpose::Validate).map(drop),
        Format::Webp if image.animated => webp_frames(image, limits),
        Format::Webp => webp(&image.bytes, limits)
            .map(drop)
            .map_err(|e| from_image(e, image.format, || bomb(image))),
    })
}

/// Decodes the first frame of a validated `image` as small as a thumbnail of stored-orientation
/// size `want` allows: JPEG at the smallest DCT scale that still covers it (a progressive one
/// without its AC scans at 1/8), a still WebP shrunk by libwebp while decoding, PNG and GIF
/// shrunk while they stream to twice `want` (the final resize then has room to filter).
pub(super) fn first_frame(
    image: &Cleaned,
    limits: &Limits,
    want: (u32, u32),
) -> Result<Pixels, MediaError> {
    let twice = (want.0.saturating_mul(2), want.1.saturating_mul(2));
    guarded(image, || {
        let decoded = match image.format {
            Format::Jpeg => return jpeg(image, limits, want, Purpose::Thumbnail),
            Format::Png => return streamed(super::stream::png(&image.bytes, Some(twice))),
            Format::Gif => return streamed(super::stream::gif(&image.bytes, Some(twice))),
            Format::Webp => match libwebp::decode_still(&image.bytes, want)? {
                Some(pixels) => return Ok(pixels),
                None => webp(&image.bytes, limits),
            },
        }
        .map_err(|e| from_image(e, image.format, || bomb(image)))?;
        let (width, height) = (decoded.width(), decoded.height());
        let alpha = decoded.color().has_alpha();
        let data = if alpha {
            decoded.into_rgba8().into_raw()
        } else {
            decoded.into_rgb8().into_raw()
        };
        Ok(Pixels {
            data,
            width,
            height,
            alpha,
        })
    })
}

fn streamed(result: Result<Option<Pixels>, MediaError>) -> Result<Pixels, MediaError> {
    result?.ok_or_else(|| MediaError::internal("a shrinking decode returned no pixels".into()))
}

fn bomb(image: &Cleaned) -> MediaError {
    MediaError::TooLarge {
        width: image.width,
        height: image.height,
    }
}

/// A decoder bug met by a hostile file must refuse that file, not end the process (the command
/// line) or surface as a failed task (the server).
fn guarded<T>(
    image: &Cleaned,
    work: impl FnOnce() -> Result<T, MediaError>,
) -> Result<T, MediaError> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
        Err(MediaError::Corrupt(format!(
            "{}: the decoder gave up",
            image.format
        )))
    })
}

/// Every frame of an animated WebP, composed on its canvas one after the other and dropped.
fn webp_frames(image: &Cleaned, limits: &Limits) -> Result<(), MediaError> {
    use image::AnimationDecoder;
    let fail = |e| from_image(e, image.format, || bomb(image));
    let mut decoder = WebPDecoder::new(Cursor::new(&image.bytes)).map_err(fail)?;
    decoder.set_limits(limits.decoder_limits()).map_err(fail)?;
    for frame in decoder.into_frames() {
        drop(frame.map_err(fail)?);
    }
    Ok(())
}

/// The first frame of a WebP (an animation's first frame too) with the pure-Rust decoder.
fn webp(bytes: &[u8], limits: &Limits) -> image::ImageResult<DynamicImage> {
    let mut decoder = WebPDecoder::new(Cursor::new(bytes))?;
    decoder.set_limits(limits.decoder_limits())?;
    DynamicImage::from_decoder(decoder)
}

pub(super) fn jpeg(
    image: &Cleaned,
    limits: &Limits,
    want: (u32, u32),
    purpose: Purpose,
) -> Result<Pixels, MediaError> {
    use jpeg_decoder::{Decoder, Error, PixelFormat};

    // jpeg-decoder picks 1/8 when an eighth still covers `want` on either axis.
    let eighth = image.width.div_ceil(8) >= want.0 || image.height.div_ceil(8) >= want.1;
    let dc_only = match purpose {
        Purpose::Thumbnail if eighth => jpeg::without_ac_scans(&image.bytes),
        _ => None,
    };
    let mut decoder = Decoder::new(dc_only.as_deref().unwrap_or(&image.bytes));
    let from_jpeg = |e: Error| match e {
        Error::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => MediaError::Truncated,
        Error::Unsupported(what) => MediaError::Undecodable(format!("JPEG: unsupported {what:?}")),
        e => MediaError::Undecodable(format!("JPEG: {e}")),
    };
    decoder.read_info().map_err(from_jpeg)?;
    let info = decoder.info().ok_or(MediaError::Truncated)?;
    let side = limits.max_width.max(limits.max_height);
    if u32::from(info.width) > side || u32::from(info.height) > side {
        return Err(MediaError::TooLarge {
            width: info.width.into(),
            height: info.height.into(),
        });
    }
    // Bounds the output buffer; the progressive coefficient buffers are bounded by the frame
    // size checked above.
    decoder.set_max_decoding_buffer_size(usize::try_from(limits.max_alloc()).unwrap_or(usize::MAX));
    let clamp = |v: u32| u16::try_from(v.max(1)).unwrap_or(u16::MAX);
    let (width, height) = decoder
        .scale(clamp(want.0), clamp(want.1))
        .map_err(from_jpeg)?;
    let raw = decoder.decode().map_err(from_jpeg)?;
    let pixels = usize::from(width) * usize::from(height);
    let format = decoder.info().map(|i| i.pixel_format);
    let data = match format {
        Some(PixelFormat::RGB24) => raw,
        Some(PixelFormat::L8) => raw.iter().flat_map(|&l| [l, l, l]).collect(),
        // 12-bit and 16-bit lossless greyscale, big-endian: keep the high byte.
        Some(PixelFormat::L16) => raw
            .chunks_exact(2)
            .flat_map(|l| [l[0], l[0], l[0]])
            .collect(),
        // Photoshop writes CMYK inverted (Adobe APP14), which is nearly every CMYK JPEG in the
        // wild; jpeg-decoder has already undone YCCK, so multiply out.
        Some(PixelFormat::CMYK32) => raw
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(p[3]);
                [0, 1, 2].map(|i| ((u16::from(p[i]) * k) / 255) as u8)
            })
            .collect(),
        None => return Err(MediaError::Truncated),
    };
    if data.len() != pixels * 3 {
        return Err(MediaError::Corrupt("JPEG: decoded size mismatch".into()));
    }
    Ok(Pixels {
        data,
        width: width.into(),
        height: height.into(),
        alpha: false,
    })
}

/// Maps the image crate's errors: limits are bombs, an early end of data is truncation,
/// everything else is damage (the message says which).
fn from_image(e: ImageError, format: Format, bomb: impl Fn() -> MediaError) -> MediaError {
    match e {
        ImageError::Limits(_) => bomb(),
        ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::Truncated
        }
        e => MediaError::Undecodable(format!("{format}: {e}")),
    }
}
