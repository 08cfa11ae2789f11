//! PNG and APNG: a chunk walk that rebuilds what a renderer uses and drops the rest.

use super::{exif, Cleaned, Format, MediaError};

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Chunks that change what is drawn, with the length their fields take (`None`: checked
/// elsewhere). Everything else goes: iCCP (a profile is an opaque blob, and browsers fall back to
/// sRGB), eXIf, tEXt, zTXt, iTXt (where XMP and "Raw profile" Exif live), tIME, pHYs (a print
/// resolution browsers ignore), bKGD, sBIT, sPLT, hIST and private chunks.
const KEPT: &[(&[u8; 4], Option<usize>)] = &[
    (b"IHDR", Some(13)),
    (b"PLTE", None),
    (b"IDAT", None),
    (b"IEND", Some(0)),
    (b"tRNS", None),
    (b"gAMA", Some(4)),
    (b"cHRM", Some(32)),
    (b"sRGB", Some(1)),
    (b"cICP", Some(4)),
    (b"mDCV", Some(24)),
    (b"cLLI", Some(8)),
    (b"acTL", Some(8)),
    (b"fcTL", Some(26)),
    (b"fdAT", None),
];

/// Rebuilds each kept chunk from its checked body (fixed-size chunks must have exactly their
/// fields' length, the CRC must match) and stops at IEND, so bytes appended after the image
/// (a zip, a second file) are dropped too. The image data of each frame is one run of IDAT (or
/// fdAT) chunks whose zlib stream ends exactly where the run does: nothing hides after the
/// compressed pixels, and no image data may follow once the run is over. An eXIf orientation
/// other than 1 comes back as an eXIf chunk holding only that tag.
pub(super) fn clean(data: &[u8]) -> Result<Cleaned, MediaError> {
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(SIGNATURE);
    let mut pos = SIGNATURE.len();
    let mut size = None;
    let mut orientation = 1;
    let mut frames = 0u32;
    // The compressed data of the run of IDAT or fdAT chunks being read, and whether the IDAT
    // run is over.
    let mut run: Option<([u8; 4], Vec<u8>)> = None;
    let mut idat_done = false;
    loop {
        let header = data.get(pos..pos + 8).ok_or(MediaError::Truncated)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        if len > i32::MAX as u32 {
            return Err(corrupt(format!("chunk length {len}")));
        }
        let kind: [u8; 4] = [header[4], header[5], header[6], header[7]];
        let end = pos + 8 + len as usize + 4;
        let chunk_bytes = data.get(pos..end).ok_or(MediaError::Truncated)?;
        let body = &chunk_bytes[8..chunk_bytes.len() - 4];
        let crc = &chunk_bytes[chunk_bytes.len() - 4..];
        if size.is_none() && &kind != b"IHDR" {
            return Err(corrupt("IHDR is not the first chunk".into()));
        }
        if crc32(&kind, body).to_be_bytes() != crc {
            return Err(corrupt(format!("bad CRC in {}", name(&kind))));
        }
        let continues = run.as_ref().is_some_and(|(k, _)| *k == kind);
        if !continues {
            if let Some((run_kind, compressed)) = run.take() {
                if &run_kind == b"IDAT" {
                    idat_done = true;
                }
                zlib_ends_exactly(&compressed)?;
            }
        }
        match &kind {
            b"IHDR" => size = Some(header_size(body)?),
            b"acTL" if body.len() == 8 => {
                frames = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
            }
            b"eXIf" => orientation = exif::orientation(body),
            b"PLTE" if body.len() % 3 != 0 || body.len() > 768 => {
                return Err(corrupt(format!("palette of {} bytes", body.len())));
            }
            b"tRNS" if body.len() > 256 => {
                return Err(corrupt(format!("transparency of {} bytes", body.len())));
            }
            b"IDAT" if idat_done => {
                return Err(corrupt("image data after the end of the image".into()));
            }
            b"IDAT" | b"fdAT" => {
                // fdAT starts with its sequence number; the zlib stream follows.
                let skip = if &kind == b"fdAT" { 4 } else { 0 };
                let compressed = body
                    .get(skip..)
                    .ok_or_else(|| corrupt("short fdAT".into()))?;
                run.get_or_insert_with(|| (kind, Vec::new()))
                    .1
                    .extend_from_slice(compressed);
            }
            _ => {}
        }
        match KEPT.iter().find(|(k, _)| **k == kind) {
            Some((_, Some(want))) if body.len() != *want => {
                return Err(corrupt(format!(
                    "{} of {} bytes instead of {want}",
                    name(&kind),
                    body.len()
                )));
            }
            Some(_) => out.extend_from_slice(&chunk(&kind, body)),
            None if kind[0].is_ascii_uppercase() => {
                // A critical chunk this list does not know: a decoder must refuse the file.
                return Err(corrupt(format!("unknown critical chunk {}", name(&kind))));
            }
            None => {}
        }
        pos = end;
        if &kind == b"IEND" {
            break;
        }
    }
    if !idat_done {
        return Err(corrupt("no image data".into()));
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
        // Rows are decoded one at a time: a few rows of 8 bytes a pixel at most.
        decode_bytes: u64::from(width) * 64,
    })
}

/// Inflates `compressed` into a small scratch buffer and checks that the zlib stream ends
/// exactly at its last byte (a decoder would silently skip what follows).
fn zlib_ends_exactly(compressed: &[u8]) -> Result<(), MediaError> {
    let mut inflate = flate2::Decompress::new(true);
    let mut scratch = vec![0u8; 64 * 1024];
    loop {
        let before = inflate.total_in() as usize;
        let written = inflate.total_out();
        let status = inflate
            .decompress(
                &compressed[before..],
                &mut scratch,
                flate2::FlushDecompress::None,
            )
            .map_err(|_| corrupt("the image data does not inflate".into()))?;
        match status {
            flate2::Status::StreamEnd => break,
            _ if inflate.total_in() as usize == before && inflate.total_out() == written => {
                return Err(if before == compressed.len() {
                    MediaError::Truncated
                } else {
                    corrupt("the image data does not inflate".into())
                });
            }
            _ => {}
        }
    }
    if inflate.total_in() as usize != compressed.len() {
        return Err(corrupt("bytes after the end of the image data".into()));
    }
    Ok(())
}

fn crc32(kind: &[u8; 4], body: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(body);
    crc.finalize()
}

fn name(kind: &[u8; 4]) -> String {
    String::from_utf8_lossy(kind).into_owned()
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
    chunk.extend_from_slice(&crc32(kind, body).to_be_bytes());
    chunk
}

fn corrupt(why: String) -> MediaError {
    MediaError::Corrupt(format!("PNG: {why}"))
}
