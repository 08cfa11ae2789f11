//! WebP: a RIFF chunk walk that drops EXIF and XMP and keeps the VP8X flags truthful.

use super::{exif, Cleaned, Format, MediaError};

// VP8X flag bits (first byte of its payload).
const FLAG_EXIF: u8 = 0x08;
/// The flags a reader uses: alpha (0x10) and animation (0x02).
const FLAGS_KEPT: u8 = 0x12;

/// Chunks that draw the picture: the extended header, animation, alpha and the two bitstreams
/// (animation frames are rebuilt in [`frame`]). ICC profiles (an opaque blob; browsers fall back
/// to sRGB), EXIF, XMP and unknown chunks go.
const KEPT: &[&[u8; 4]] = &[b"VP8X", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"];

/// Copies the kept chunks, stops at the end the RIFF header declares (dropping anything
/// appended), rewrites the RIFF size and rebuilds the VP8X header from its flags (only alpha and
/// animation) and canvas size, with the reserved bytes zero. An orientation other than 1 comes
/// back as an EXIF chunk holding only that tag, at the end as the format asks.
pub(super) fn clean(data: &[u8]) -> Result<Cleaned, MediaError> {
    let riff_size = data
        .get(4..8)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or(MediaError::Truncated)?;
    let riff_end = riff_size.checked_add(8).ok_or(MediaError::Truncated)?;
    if riff_size < 4 {
        return Err(corrupt(format!("RIFF size {riff_size}")));
    }
    if riff_end > data.len() {
        return Err(MediaError::Truncated);
    }
    let data = &data[..riff_end];
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&data[..12]);
    let mut pos = 12;
    let mut size = None;
    let mut vp8x_at = None;
    let mut orientation = 1;
    let mut frames = 0u32;
    let mut lossless = false;
    while pos < data.len() {
        let header = data.get(pos..pos + 8).ok_or(MediaError::Truncated)?;
        let kind: [u8; 4] = [header[0], header[1], header[2], header[3]];
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let body = data
            .get(pos + 8..pos + 8 + len)
            .ok_or(MediaError::Truncated)?;
        // Chunks are padded to an even length; a missing pad byte on the last is tolerated.
        let end = (pos + 8 + len + (len & 1)).min(data.len());
        if size.is_none() {
            size = Some(first_chunk_size(&kind, body)?);
        }
        match &kind {
            b"VP8X" if len != 10 => return Err(corrupt(format!("VP8X of {len} bytes"))),
            b"ANIM" if len != 6 => return Err(corrupt(format!("ANIM of {len} bytes"))),
            b"VP8X" => vp8x_at = Some(out.len()),
            b"ANMF" => frames += 1,
            b"VP8L" => lossless = true,
            b"EXIF" => orientation = exif::orientation(body),
            _ => {}
        }
        if &kind == b"ANMF" {
            out.extend(riff_chunk(b"ANMF", &frame(body)?));
        } else if KEPT.contains(&&kind) {
            out.extend(riff_chunk(&kind, body));
        }
        pos = end;
    }
    let (width, height) = size.ok_or(MediaError::Truncated)?;
    if let Some(at) = vp8x_at {
        out[at + 8] &= FLAGS_KEPT;
        out[at + 9..at + 12].fill(0);
        if orientation != 1 {
            out[at + 8] |= FLAG_EXIF;
            let tiff = exif::minimal_tiff(orientation);
            out.extend_from_slice(b"EXIF");
            out.extend_from_slice(&(tiff.len() as u32).to_le_bytes());
            out.extend_from_slice(&tiff);
        }
    } else {
        // EXIF is only allowed in the extended format; a simple file's orientation is moot.
        orientation = 1;
    }
    let riff_size = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    Ok(Cleaned {
        format: Format::Webp,
        bytes: out,
        width,
        height,
        orientation,
        animated: frames > 1,
        // The pure-Rust decoder holds the whole canvas: RGBA output plus the YUV planes of a
        // lossy picture, the ARGB image and transforms of a lossless one, and for an animation
        // the canvas, the frame being drawn and the copy handed out.
        decode_bytes: u64::from(width)
            * u64::from(height)
            * match (frames > 0, lossless) {
                (true, _) => 16,
                (false, true) => 8,
                (false, false) => 7,
            },
    })
}

/// An animation frame rebuilt: its 16-byte header (position, size, duration, flags), then only
/// the chunks that draw it (ALPH, VP8, VP8L); unknown chunks inside the frame go.
fn frame(body: &[u8]) -> Result<Vec<u8>, MediaError> {
    let header = body
        .get(..16)
        .ok_or_else(|| corrupt("short animation frame".into()))?;
    let mut out = header.to_vec();
    let mut pos = 16;
    while pos < body.len() {
        let head = body.get(pos..pos + 8).ok_or(MediaError::Truncated)?;
        let kind: [u8; 4] = [head[0], head[1], head[2], head[3]];
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let inner = body
            .get(pos + 8..pos + 8 + len)
            .ok_or(MediaError::Truncated)?;
        if matches!(&kind, b"ALPH" | b"VP8 " | b"VP8L") {
            out.extend(riff_chunk(&kind, inner));
        }
        pos = (pos + 8 + len + (len & 1)).min(body.len());
    }
    Ok(out)
}

/// A RIFF chunk: type, little-endian length, body, a pad byte to an even length.
fn riff_chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 9);
    out.extend_from_slice(kind);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// The canvas size from the first chunk, which must be VP8X, VP8 or VP8L.
fn first_chunk_size(kind: &[u8; 4], body: &[u8]) -> Result<(u32, u32), MediaError> {
    let u24 = |b: &[u8]| u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
    let (width, height) = match kind {
        b"VP8X" if body.len() >= 10 => (u24(&body[4..7]) + 1, u24(&body[7..10]) + 1),
        // Key frame: 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height.
        b"VP8 " if body.len() >= 10 && body[3..6] == [0x9D, 0x01, 0x2A] => (
            u32::from(u16::from_le_bytes([body[6], body[7]]) & 0x3FFF),
            u32::from(u16::from_le_bytes([body[8], body[9]]) & 0x3FFF),
        ),
        // Signature 0x2F, then 14 bits of width-1 and 14 of height-1.
        b"VP8L" if body.len() >= 5 && body[0] == 0x2F => {
            let bits = u32::from_le_bytes([body[1], body[2], body[3], body[4]]);
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        _ => {
            return Err(corrupt(format!(
                "first chunk {} is not an image header",
                String::from_utf8_lossy(kind)
            )))
        }
    };
    if width == 0 || height == 0 {
        return Err(corrupt(format!("image size {width}x{height}")));
    }
    Ok((width, height))
}

fn corrupt(why: String) -> MediaError {
    MediaError::Corrupt(format!("WebP: {why}"))
}
