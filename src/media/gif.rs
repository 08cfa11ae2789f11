//! GIF: a block walk that counts frames and drops comments and foreign application blocks.

use super::{Cleaned, Format, MediaError};

/// Application extensions that change what is shown: the loop count (Netscape's and its old
/// twin) and an ICC profile. Others (XMP, editors' private data) go.
const KEPT_APPLICATIONS: &[&[u8; 11]] = &[b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012"];

/// Copies the header, colour tables, graphic control blocks and image data unchanged; drops
/// comment (0xFE) and plain-text (0x01, which no browser draws) extensions and the application
/// blocks not listed above; stops at the trailer, dropping anything appended.
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
    out.extend_from_slice(data.get(..pos).ok_or(MediaError::Truncated)?);
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
                // The descriptor, its local colour table, then the LZW minimum code size byte.
                pos += 10 + colour_table_len(descriptor[8]) + 1;
                pos = skip_sub_blocks(data, pos)?;
                out.extend_from_slice(&data[start..pos]);
                frames += 1;
            }
            0x21 => {
                let label = *data.get(pos + 1).ok_or(MediaError::Truncated)?;
                let first_block = data.get(pos + 2..).unwrap_or_default();
                let keep = match label {
                    0xF9 => true,
                    0xFF => KEPT_APPLICATIONS.iter().any(|id| {
                        first_block.len() > 11 && first_block[0] == 11 && &first_block[1..12] == *id
                    }),
                    _ => false,
                };
                pos = skip_sub_blocks(data, pos + 2)?;
                if keep {
                    out.extend_from_slice(&data[start..pos]);
                }
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
