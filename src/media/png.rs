//! PNG and APNG: a chunk walk that keeps what a renderer uses and drops the rest.

use super::{exif, Cleaned, Format, MediaError};

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Chunks that change what is drawn: the critical ones, transparency, colour (gamma,
/// chromaticities, sRGB intent, ICC profile, the HDR chunks) and the APNG animation. Everything
/// else goes: eXIf, tEXt, zTXt, iTXt (where XMP and "Raw profile" Exif live), tIME, pHYs (a
/// print resolution browsers ignore), bKGD, sBIT, sPLT, hIST and private chunks.
const KEPT: &[&[u8; 4]] = &[
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP",
    b"mDCV", b"cLLI", b"acTL", b"fcTL", b"fdAT",
];

/// Copies the kept chunks unchanged (CRCs included) and stops at IEND, so bytes appended after
/// the image (a zip, a second file) are dropped too. An eXIf orientation other than 1 comes back
/// as an eXIf chunk holding only that tag.
pub(super) fn clean(data: &[u8]) -> Result<Cleaned, MediaError> {
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(SIGNATURE);
    let mut pos = SIGNATURE.len();
    let mut size = None;
    let mut orientation = 1;
    let mut frames = 0u32;
    loop {
        let header = data.get(pos..pos + 8).ok_or(MediaError::Truncated)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        if len > i32::MAX as u32 {
            return Err(corrupt(format!("chunk length {len}")));
        }
        let kind: [u8; 4] = [header[4], header[5], header[6], header[7]];
        let end = pos + 8 + len as usize + 4;
        let chunk = data.get(pos..end).ok_or(MediaError::Truncated)?;
        let body = &chunk[8..chunk.len() - 4];
        if size.is_none() && &kind != b"IHDR" {
            return Err(corrupt("IHDR is not the first chunk".into()));
        }
        match &kind {
            b"IHDR" => size = Some(header_size(body)?),
            b"acTL" if body.len() >= 4 => {
                frames = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
            }
            b"eXIf" => orientation = exif::orientation(body),
            _ => {}
        }
        if KEPT.contains(&&kind) {
            out.extend_from_slice(chunk);
        } else if kind[0].is_ascii_uppercase() {
            // A critical chunk this list does not know: a decoder must refuse the file.
            return Err(corrupt(format!(
                "unknown critical chunk {}",
                String::from_utf8_lossy(&kind)
            )));
        }
        pos = end;
        if &kind == b"IEND" {
            break;
        }
    }
    let (width, height) = size.ok_or_else(|| corrupt("no IHDR".into()))?;
    if orientation != 1 {
        // Right after IHDR: the one place every PNG reader has read before the image data.
        let ihdr_end = SIGNATURE.len() + 8 + 13 + 4;
        out.splice(
            ihdr_end..ihdr_end,
            chunk(b"eXIf", &exif::minimal_tiff(orientation)),
        );
    }
    Ok(Cleaned {
        format: Format::Png,
        bytes: out,
        width,
        height,
        orientation,
        animated: frames > 1,
    })
}

fn header_size(body: &[u8]) -> Result<(u32, u32), MediaError> {
    if body.len() != 13 {
        return Err(corrupt(format!("IHDR of {} bytes", body.len())));
    }
    let width = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
    let height = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
    if width == 0 || height == 0 {
        return Err(corrupt(format!("image size {width}x{height}")));
    }
    Ok((width, height))
}

/// A complete chunk: length, type, data, CRC of type and data.
pub(super) fn chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut chunk = Vec::with_capacity(body.len() + 12);
    chunk.extend_from_slice(&(body.len() as u32).to_be_bytes());
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(body);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(body);
    chunk.extend_from_slice(&crc.finalize().to_be_bytes());
    chunk
}

fn corrupt(why: String) -> MediaError {
    MediaError::Corrupt(format!("PNG: {why}"))
}
