//! GIF: a block walk that checks frames, rebuilds control blocks and drops the rest.

use super::{Cleaned, Format, MediaError};

/// Application extensions that change what is shown: the loop count (Netscape's and its old
/// twin), rebuilt from the one sub-block they hold. Others (XMP, ICC profiles, editors' private
/// data) go.
const LOOP_APPLICATIONS: &[&[u8; 11]] = &[b"NETSCAPE2.0", b"ANIMEXTS1.0"];

/// Rebuilds the header (no pixel aspect ratio), graphic control blocks and loop count from their
/// fields and copies the colour tables and each frame's compressed data; drops comment (0xFE)
/// and plain-text (0x01, which no browser draws) extensions and other application blocks; stops
/// at the trailer, dropping anything appended. Every frame must lie within the logical screen,
/// which is the size reported.
pub(super) fn clean(data: &[u8]) -> Result<Cleaned, MediaError> {
    // Header (6) and logical screen descriptor (7).
    let screen = data.get(6..13).ok_or(MediaError::Truncated)?;
    let width = u32::from(u16::from_le_bytes([screen[0], screen[1]]));
    let height = u32::from(u16::from_le_bytes([screen[2], screen[3]]));
    if width == 0 || height == 0 {
        return Err(corrupt(format!("screen size {width}x{height}")));
    }
    let mut pos = 13 + colour_table_len(screen[4]);
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(b"GIF89a");
    out.extend_from_slice(&screen[..6]);
    out.push(0);
    out.extend_from_slice(data.get(13..pos).ok_or(MediaError::Truncated)?);
    let mut frames = 0u32;
    loop {
        let start = pos;
        match *data.get(pos).ok_or(MediaError::Truncated)? {
            0x3B => {
                out.push(0x3B);
                break;
            }
            0x2C => {
                let descriptor = data.get(pos + 1..pos + 10).ok_or(MediaError::Truncated)?;
                let field =
                    |i: usize| u32::from(u16::from_le_bytes([descriptor[i], descriptor[i + 1]]));
                let (left, top, frame_w, frame_h) = (field(0), field(2), field(4), field(6));
                if frame_w == 0 || frame_h == 0 {
                    return Err(corrupt(format!("a frame of {frame_w}x{frame_h}")));
                }
                if left + frame_w > width || top + frame_h > height {
                    return Err(corrupt(format!(
                        "a {frame_w}x{frame_h} frame reaches outside the {width}x{height} picture"
                    )));
                }
                // The descriptor, its local colour table, then the LZW minimum code size byte.
                pos += 10 + colour_table_len(descriptor[8]) + 1;
                pos = skip_sub_blocks(data, pos)?;
                out.extend_from_slice(&data[start..pos]);
                frames += 1;
            }
            0x21 => {
                let label = *data.get(pos + 1).ok_or(MediaError::Truncated)?;
                let end = skip_sub_blocks(data, pos + 2)?;
                let blocks = &data[pos + 2..end];
                match label {
                    // Graphic control: packed flags, delay, transparent index.
                    0xF9 if blocks.len() == 6 && blocks[0] == 4 => {
                        out.extend_from_slice(&[0x21, 0xF9, 4]);
                        out.extend_from_slice(&blocks[1..5]);
                        out.push(0);
                    }
                    0xF9 => {
                        return Err(corrupt("a graphic control block of the wrong size".into()))
                    }
                    // Loop count: the 11-byte name, then the sub-block [1, count]; any further
                    // sub-blocks go.
                    0xFF if blocks.len() >= 17
                        && blocks[0] == 11
                        && LOOP_APPLICATIONS.iter().any(|id| &blocks[1..12] == *id)
                        && blocks[12] == 3
                        && blocks[13] == 1 =>
                    {
                        out.extend_from_slice(&[0x21, 0xFF, 11]);
                        out.extend_from_slice(&blocks[1..12]);
                        out.extend_from_slice(&[3, 1, blocks[14], blocks[15], 0]);
                    }
                    _ => {}
                }
                pos = end;
            }
            other => {
                return Err(corrupt(format!(
                    "unknown block 0x{other:02X} at byte {pos}"
                )))
            }
        }
    }
    if frames == 0 {
        return Err(corrupt("no image in the file".into()));
    }
    Ok(Cleaned {
        format: Format::Gif,
        bytes: out,
        width,
        height,
        orientation: 1,
        animated: frames > 1,
        // Frames are decoded a line at a time, 4 bytes a pixel, plus the shrinking grid.
        decode_bytes: u64::from(width) * 16 + (1 << 20),
    })
}

/// The size of the colour table a packed field announces (0 when its top bit is clear).
fn colour_table_len(packed: u8) -> usize {
    if packed & 0x80 == 0 {
        0
    } else {
        3 << ((packed & 0x07) + 1)
    }
}

/// Skips a chain of length-prefixed sub-blocks ending with an empty one; returns the position
/// after the terminator.
fn skip_sub_blocks(data: &[u8], mut pos: usize) -> Result<usize, MediaError> {
    loop {
        let len = usize::from(*data.get(pos).ok_or(MediaError::Truncated)?);
        pos += 1 + len;
        if len == 0 {
            return Ok(pos);
        }
        if pos > data.len() {
            return Err(MediaError::Truncated);
        }
    }
}

fn corrupt(why: String) -> MediaError {
    MediaError::Corrupt(format!("GIF: {why}"))
}
