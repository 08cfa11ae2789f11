//! The two calls into libwebp: lossy encoding of thumbnails, and decoding a still WebP straight
//! to a reduced size for its thumbnail.
//!
//! libwebp is C, so in the server it only decodes WebP files that [`super::ingest`] has already
//! decoded in full with the memory-safe image-webp decoder (the `wani thumbnail` command trusts
//! the file its operator gives it). It is here because it is three times faster on large WebPs
//! and shrinks while decoding; encoding only ever sees pixels made here.

use std::ffi::c_int;

use libwebp_sys as ffi;

use super::decode::Pixels;
use super::MediaError;

/// Encodes 8-bit RGB or RGBA pixels as lossy WebP (alpha, if any pixel is not opaque, is kept
/// and compressed losslessly; an all-opaque alpha channel is left out by libwebp itself).
pub(super) fn encode(pixels: &Pixels, quality: f32) -> Result<Vec<u8>, MediaError> {
    let channels = if pixels.alpha { 4 } else { 3 };
    let (width, height) = (dimension(pixels.width)?, dimension(pixels.height)?);
    let stride = width * channels;
    if pixels.data.len() < stride as usize * height as usize {
        return Err(MediaError::internal(
            "WebP encode: pixel buffer too short".into(),
        ));
    }
    let mut output: *mut u8 = std::ptr::null_mut();
    // SAFETY: the input holds `stride * height` bytes (checked above) and is only read;
    // libwebp allocates `output`, which is copied and then freed with its own allocator.
    let len = unsafe {
        if pixels.alpha {
            ffi::WebPEncodeRGBA(
                pixels.data.as_ptr(),
                width,
                height,
                stride,
                quality,
                &mut output,
            )
        } else {
            ffi::WebPEncodeRGB(
                pixels.data.as_ptr(),
                width,
                height,
                stride,
                quality,
                &mut output,
            )
        }
    };
    if output.is_null() {
        return Err(MediaError::internal("WebP encode: out of memory".into()));
    }
    // SAFETY: libwebp returned `len` bytes at `output`, or 0 on failure.
    let bytes = unsafe { std::slice::from_raw_parts(output, len) }.to_vec();
    // SAFETY: `output` came from libwebp's allocator and is not used after this.
    unsafe { ffi::WebPFree(output.cast()) };
    if len == 0 {
        return Err(MediaError::internal(
            "WebP encode: the encoder failed".into(),
        ));
    }
    Ok(bytes)
}

/// Decodes a still (not animated) WebP into RGB or RGBA, shrunk while decoding to the smallest
/// size no smaller than twice `want` (the final resize then has room to filter). `None` for an
/// animated file, which the caller decodes another way.
pub(super) fn decode_still(bytes: &[u8], want: (u32, u32)) -> Result<Option<Pixels>, MediaError> {
    let mut config = ffi::WebPDecoderConfig::new()
        .map_err(|()| MediaError::internal("libwebp: ABI mismatch".into()))?;
    // SAFETY: reads `bytes` only; fills `config.input`.
    let status = unsafe { ffi::WebPGetFeatures(bytes.as_ptr(), bytes.len(), &mut config.input) };
    if status != ffi::VP8StatusCode::VP8_STATUS_OK {
        return Err(status_error(status));
    }
    if config.input.has_animation != 0 {
        return Ok(None);
    }
    let (full_w, full_h) = (config.input.width as u32, config.input.height as u32);
    let (width, height) = if full_w >= want.0 * 2 && full_h >= want.1 * 2 {
        (want.0 * 2, want.1 * 2)
    } else {
        (full_w, full_h)
    };
    let alpha = config.input.has_alpha != 0;
    let channels: usize = if alpha { 4 } else { 3 };
    let stride = width as usize * channels;
    let mut data = vec![0u8; stride * height as usize];

    let options = &mut config.options;
    if (width, height) != (full_w, full_h) {
        options.use_scaling = 1;
        options.scaled_width = dimension(width)?;
        options.scaled_height = dimension(height)?;
    }
    let output = &mut config.output;
    output.colorspace = if alpha {
        ffi::WEBP_CSP_MODE::MODE_RGBA
    } else {
        ffi::WEBP_CSP_MODE::MODE_RGB
    };
    // Decode straight into our buffer: no second copy, and its size is known before decoding.
    output.is_external_memory = 1;
    output.u.RGBA = ffi::WebPRGBABuffer {
        rgba: data.as_mut_ptr(),
        stride: stride as c_int,
        size: data.len(),
    };
    // SAFETY: `bytes` is only read; the output buffer is `data`, whose length and stride are
    // given above and which outlives the call. With external memory nothing is left to free.
    let status = unsafe { ffi::WebPDecode(bytes.as_ptr(), bytes.len(), &mut config) };
    if status != ffi::VP8StatusCode::VP8_STATUS_OK {
        return Err(status_error(status));
    }
    Ok(Some(Pixels {
        data,
        width,
        height,
        alpha,
    }))
}

fn dimension(v: u32) -> Result<c_int, MediaError> {
    c_int::try_from(v)
        .map_err(|_| MediaError::internal(format!("libwebp: {v} pixels out of range")))
}

fn status_error(status: ffi::VP8StatusCode) -> MediaError {
    use ffi::VP8StatusCode as S;
    match status {
        S::VP8_STATUS_NOT_ENOUGH_DATA => MediaError::Truncated,
        other => MediaError::Undecodable(format!("WebP: libwebp says {other:?}")),
    }
}
