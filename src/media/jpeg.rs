//! JPEG: a segment walk that drops metadata while copying the compressed picture byte for byte.

use super::{exif, Cleaned, Format, MediaError};

/// Copies every segment that affects decoding (tables, frame and scan headers, the entropy-coded
/// data, JFIF, Adobe and ICC) and drops the rest: Exif, XMP, IPTC, MPF, maker blocks, comments,
/// and whatever trails the end marker (phones append depth maps and second pictures there, each
/// with its own Exif). The Exif orientation, read before the block goes, comes back as a minimal
/// APP1 holding only that tag.
pub(super) fn clean(data: &[u8]) -> Result<Cleaned, MediaError> {
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    // The Exif block goes right after SOI, or after APP0 JFIF when that comes first, as both
    // standards want to be first.
    let mut exif_at = out.len();
    let mut first_segment = true;
    let mut orientation = None;
    let mut size = None;
    let mut pos = 2;
    loop {
        match data.get(pos) {
            None => return Err(MediaError::Truncated),
            Some(0xFF) => {}
            Some(_) => return Err(corrupt(format!("no marker at byte {pos}"))),
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *data.get(pos).ok_or(MediaError::Truncated)?;
        pos += 1;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                break;
            }
            // Markers without a length: restart markers and TEM.
            0xD0..=0xD7 | 0x01 => {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            0x00 | 0xD8 => return Err(corrupt(format!("stray marker 0x{marker:02X}"))),
            _ => {}
        }
        let len = data
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or(MediaError::Truncated)?;
        if len < 2 {
            return Err(corrupt(format!("segment length {len}")));
        }
        let end = pos + len;
        let payload = data.get(pos + 2..end).ok_or(MediaError::Truncated)?;
        let keep = match marker {
            0xE0 => payload.starts_with(b"JFIF\0"),
            0xE1 => {
                if orientation.is_none() && payload.starts_with(b"Exif\0\0") {
                    orientation = Some(exif::orientation(payload));
                }
                false
            }
            // ICC_PROFILE changes the colours shown; MPF and FlashPix blocks do not.
            0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
            // Adobe's block says whether the three channels are YCbCr or RGB (or CMYK vs YCCK).
            0xEE => payload.starts_with(b"Adobe"),
            0xE3..=0xED | 0xEF | 0xFE => false,
            // SOF0..SOF15, less DHT (C4), JPG (C8) and DAC (CC) that share the range.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if size.is_none() {
                    size = Some(frame_size(payload)?);
                }
                true
            }
            _ => true,
        };
        if keep {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(&data[pos..end]);
            if first_segment && marker == 0xE0 {
                exif_at = out.len();
            }
        }
        first_segment = false;
        pos = end;
        if marker == 0xDA {
            if size.is_none() {
                return Err(corrupt("a scan comes before the frame header".into()));
            }
            let scan_end = entropy_coded_end(data, pos)?;
            out.extend_from_slice(&data[pos..scan_end]);
            pos = scan_end;
        }
    }
    let (width, height) = size.ok_or_else(|| corrupt("no frame header".into()))?;
    let orientation = orientation.unwrap_or(1);
    if orientation != 1 {
        let tiff = exif::minimal_tiff(orientation);
        let len = (2 + 6 + tiff.len()) as u16;
        let mut segment = vec![0xFF, 0xE1];
        segment.extend_from_slice(&len.to_be_bytes());
        segment.extend_from_slice(b"Exif\0\0");
        segment.extend_from_slice(&tiff);
        out.splice(exif_at..exif_at, segment);
    }
    Ok(Cleaned {
        format: Format::Jpeg,
        bytes: out,
        width,
        height,
        orientation,
        animated: false,
    })
}

/// Width and height from a frame header: precision (1 byte), height, width (2 bytes each),
/// component count (1 byte).
fn frame_size(payload: &[u8]) -> Result<(u32, u32), MediaError> {
    if payload.len() < 6 {
        return Err(corrupt("short frame header".into()));
    }
    // Grey, YCbCr/RGB or CMYK/YCCK; other counts mean nothing to a viewer (and the decoder
    // would not know what colours to make of them).
    if !matches!(payload[5], 1 | 3 | 4) {
        return Err(corrupt(format!("{} colour components", payload[5])));
    }
    let height = u32::from(u16::from_be_bytes([payload[1], payload[2]]));
    let width = u32::from(u16::from_be_bytes([payload[3], payload[4]]));
    if width == 0 || height == 0 {
        // A zero height means "given later by a DNL marker", which no browser supports.
        return Err(corrupt(format!("frame size {width}x{height}")));
    }
    Ok((width, height))
}

/// Where the entropy-coded data starting at `pos` ends: at the first 0xFF that is neither a
/// stuffed 0xFF00 nor a restart marker.
fn entropy_coded_end(data: &[u8], mut pos: usize) -> Result<usize, MediaError> {
    loop {
        let ff = data[pos..]
            .iter()
            .position(|&b| b == 0xFF)
            .ok_or(MediaError::Truncated)?
            + pos;
        match data.get(ff + 1) {
            None => return Err(MediaError::Truncated),
            Some(0x00 | 0xD0..=0xD7) => pos = ff + 2,
            Some(_) => return Ok(ff),
        }
    }
}

/// For a progressive JPEG, the same file without its AC scans; `None` for any other kind.
///
/// Decoding at 1/8 scale turns each 8x8 block into one pixel from its DC coefficient alone, so
/// the AC scans (most of a progressive file, and most of its decoding time) cannot change the
/// result. Only for images already validated: the dropped scans are not checked.
pub(super) fn without_ac_scans(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 4);
    out.extend_from_slice(data.get(..2)?);
    let mut pos = 2;
    let mut progressive = false;
    loop {
        // `data` is the output of `clean`: one 0xFF before each marker, every length valid.
        let marker = *data.get(pos + 1)?;
        if marker == 0xD9 {
            out.extend_from_slice(&[0xFF, 0xD9]);
            break;
        }
        if matches!(marker, 0xD0..=0xD7 | 0x01) {
            pos += 2;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([
            *data.get(pos + 2)?,
            *data.get(pos + 3)?,
        ]));
        let mut end = pos + 2 + len;
        progressive |= marker == 0xC2;
        let mut keep = true;
        if marker == 0xDA {
            // Scan header: Ns, Ns component selectors of 2 bytes, then Ss (spectral start).
            let ns = usize::from(*data.get(pos + 4)?);
            keep = *data.get(pos + 5 + 2 * ns)? == 0;
            end = entropy_coded_end(data, end).ok()?;
        }
        if keep {
            out.extend_from_slice(data.get(pos..end)?);
        }
        pos = end;
    }
    progressive.then_some(out)
}

fn corrupt(why: String) -> MediaError {
    MediaError::Corrupt(format!("JPEG: {why}"))
}
