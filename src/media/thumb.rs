//! The thumbnail: decode small, resize with SIMD, turn upright, encode lossy WebP.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{PixelType, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, RgbImage, RgbaImage};

use super::{decode, exif, libwebp, Cleaned, Format, Limits, MediaError, Thumbnail};

/// The longest side of a thumbnail unless configured otherwise.
pub const SIZE_DEFAULT: u32 = 250;

/// libwebp's lossy quality. On the fixture photos at 250 px it gives 3-10 KB with no visible
/// blocking, half the size of JPEG at 85 and a seventh of lossless WebP or PNG; alpha is
/// compressed losslessly whatever this is.
pub const QUALITY: f32 = 80.0;

/// WebP cannot hold more than 16383 pixels a side; no thumbnail needs more than this.
const SIZE_MAX: u32 = 4096;

/// Makes the thumbnail of a cleaned image: first frame, longest upright side `size` (clamped to
/// 1..=4096) or the image's own if smaller, upright, transparency kept.
pub(super) fn make(image: &Cleaned, limits: &Limits, size: u32) -> Result<Thumbnail, MediaError> {
    let (upright_w, upright_h) = image.upright();
    let (w, h) = fit(upright_w, upright_h, size.clamp(1, SIZE_MAX));
    // Work in stored orientation until the picture is small; rotating 250 px is free.
    let stored = if exif::swaps_axes(image.orientation) {
        (h, w)
    } else {
        (w, h)
    };
    let pixels = decode::first_frame(image, limits, stored)?;
    let pixels = resize(pixels, stored)?;
    let pixels = upright(pixels, image.orientation)?;
    let (width, height) = (pixels.width, pixels.height);
    let dhash = super::phash::dhash(&pixels.data, width, height, pixels.alpha);
    let bytes = libwebp::encode(&pixels, QUALITY)?;
    Ok(Thumbnail {
        bytes,
        format: Format::Webp,
        width,
        height,
        dhash,
    })
}

/// The size that fits `width`x`height` in a `size` square keeping the aspect ratio, never
/// larger than the original and never zero.
fn fit(width: u32, height: u32, size: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= size {
        return (width, height);
    }
    let scale = |v: u32| {
        ((u64::from(v) * u64::from(size) + u64::from(longest) / 2) / u64::from(longest)).max(1)
            as u32
    };
    (scale(width), scale(height))
}

/// Resizes to exactly `to` with fast_image_resize's default filter (Lanczos3 convolution);
/// RGBA is premultiplied on the way so transparent pixels do not bleed their colour.
fn resize(pixels: decode::Pixels, to: (u32, u32)) -> Result<decode::Pixels, MediaError> {
    if (pixels.width, pixels.height) == to {
        return Ok(pixels);
    }
    let kind = if pixels.alpha {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    };
    let internal = |e: &dyn std::fmt::Debug| MediaError::internal(format!("resize: {e:?}"));
    let src =
        ImageRef::new(pixels.width, pixels.height, &pixels.data, kind).map_err(|e| internal(&e))?;
    let mut dst = Image::new(to.0, to.1, kind);
    Resizer::new()
        .resize(&src, &mut dst, &ResizeOptions::new())
        .map_err(|e| internal(&e))?;
    Ok(decode::Pixels {
        data: dst.into_vec(),
        width: to.0,
        height: to.1,
        alpha: pixels.alpha,
    })
}

/// Applies the EXIF orientation to the (small) pixels.
fn upright(pixels: decode::Pixels, orientation: u8) -> Result<decode::Pixels, MediaError> {
    let (w, h, alpha) = (pixels.width, pixels.height, pixels.alpha);
    let transform = match Orientation::from_exif(orientation) {
        Some(Orientation::NoTransforms) | None => return Ok(pixels),
        Some(transform) => transform,
    };
    let short = || MediaError::internal("decoded buffer too short".into());
    let mut image = if alpha {
        DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, pixels.data).ok_or_else(short)?)
    } else {
        DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels.data).ok_or_else(short)?)
    };
    image.apply_orientation(transform);
    Ok(decode::Pixels {
        width: image.width(),
        height: image.height(),
        data: image.into_bytes(),
        alpha,
    })
}
