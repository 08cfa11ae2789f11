//! JPEG: a segment walk that drops metadata while copying the compressed picture byte for byte.

use super::{exif, Cleaned, Format, MediaError};

/// Copies every segment that affects decoding (tables, frame and scan headers, the entropy-coded
/// data) and drops the rest: Exif, XMP, IPTC, ICC profiles, MPF, maker blocks, comments, reserved
/// markers, and whatever trails the end marker (phones append depth maps and second pictures
/// there, each with its own Exif). The JFIF APP0 and Adobe APP14 segments are rebuilt from their
/// fields (so no thumbnail or tail survives in them). The Exif orientation, read before the block
/// goes, comes back as a minimal APP1 holding only that tag.
pub(super) fn clean(data: &[u8]) -> Result<Cleaned, MediaError> {
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    // The Exif block goes right after SOI, or after APP0 JFIF when that comes first, as both
    // standards want to be first.
    let mut exif_at = out.len();
    let mut first_segment = true;
    let mut orientation = None;
    let mut size = None;
    let mut decode_bytes = 0;
    let mut seen_jfif = false;
    let mut seen_adobe = false;
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
        // A kept segment is either rebuilt from its parsed fields or one the decoder reads whole
        // (tables, frame and scan headers): nothing else reaches the stored file.
        let rebuilt = match marker {
            0xE0 if !seen_jfif && payload.len() >= 14 && payload.starts_with(b"JFIF\0") => {
                seen_jfif = true;
                // Version, units and densities; the thumbnail size is zeroed and its pixels go.
                let mut jfif = payload[..12].to_vec();
                jfif.extend_from_slice(&[0, 0]);
                Some(jfif)
            }
            0xE1 => {
                if orientation.is_none() && payload.starts_with(b"Exif\0\0") {
                    orientation = Some(exif::orientation(payload));
                }
                None
            }
            // Adobe's block says whether the three channels are YCbCr or RGB (or CMYK vs YCCK):
            // version, two flag words and the transform byte.
            0xEE if !seen_adobe && payload.len() >= 12 && payload.starts_with(b"Adobe") => {
                seen_adobe = true;
                Some(payload[..12].to_vec())
            }
            // SOF0..SOF15, less DHT (C4), JPG (C8) and DAC (CC) that share the range.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if size.is_none() {
                    let frame = frame_header(marker, payload)?;
                    size = Some((frame.0, frame.1));
                    decode_bytes = frame.2;
                }
                Some(payload.to_vec())
            }
            // Huffman and arithmetic tables, quantisation tables, restart interval, scan header:
            // each parsed whole, so no byte rides along unread.
            0xC4 | 0xCC | 0xDB | 0xDD | 0xDA => {
                check_tables(marker, payload)?;
                Some(payload.to_vec())
            }
            _ => None,
        };
        if let Some(payload) = rebuilt {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
            out.extend_from_slice(&payload);
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
        decode_bytes,
    })
}

/// Width and height from a frame header (precision, height, width, component count, then
/// id, sampling factors and table for each component), and the bytes the decoder keeps at full
/// resolution whatever the output scale: a progressive file's coefficients (2 bytes a sample,
/// padded to whole MCUs), or a lossless file's samples.
fn frame_header(marker: u8, payload: &[u8]) -> Result<(u32, u32, u64), MediaError> {
    if payload.len() < 6 {
        return Err(corrupt("short frame header".into()));
    }
    // Grey, YCbCr/RGB or CMYK/YCCK; other counts mean nothing to a viewer (and the decoder
    // would not know what colours to make of them).
    let count = usize::from(payload[5]);
    if !matches!(count, 1 | 3 | 4) {
        return Err(corrupt(format!("{count} colour components")));
    }
    if payload.len() != 6 + 3 * count {
        return Err(corrupt("frame header of the wrong length".into()));
    }
    let height = u32::from(u16::from_be_bytes([payload[1], payload[2]]));
    let width = u32::from(u16::from_be_bytes([payload[3], payload[4]]));
    if width == 0 || height == 0 {
        // A zero height means "given later by a DNL marker", which no browser supports.
        return Err(corrupt(format!("frame size {width}x{height}")));
    }
    let sampling: Vec<(u64, u64)> = payload[6..]
        .chunks_exact(3)
        .map(|c| (u64::from(c[1] >> 4).max(1), u64::from(c[1] & 15).max(1)))
        .collect();
    let h_max = sampling.iter().map(|s| s.0).max().unwrap_or(1);
    let v_max = sampling.iter().map(|s| s.1).max().unwrap_or(1);
    let mcus_x = u64::from(width).div_ceil(8 * h_max);
    let mcus_y = u64::from(height).div_ceil(8 * v_max);
    let samples: u64 = sampling
        .iter()
        .map(|(h, v)| mcus_x * h * 8 * mcus_y * v * 8)
        .sum();
    let full = match marker {
        // Progressive (Huffman or arithmetic): every coefficient is kept until the last scan.
        0xC2 | 0xC6 | 0xCA | 0xCE => samples * 2,
        // Lossless: decoded at full size, 16 bits a sample, then converted.
        0xC3 | 0xC7 | 0xCB | 0xCF => samples * 4,
        _ => 0,
    };
    Ok((width, height, full))
}

/// Checks that a table or scan segment is exactly its fields: Huffman tables whose code lengths
/// form a prefix code, quantisation tables of non-zero steps, a two-byte restart interval, a
/// scan header of its declared component count. A segment longer than its fields is refused.
fn check_tables(marker: u8, payload: &[u8]) -> Result<(), MediaError> {
    let bad = |what: &str| Err(corrupt(format!("malformed {what}")));
    match marker {
        0xC4 => {
            let mut rest = payload;
            while !rest.is_empty() {
                let (class_id, counts) = match rest {
                    [c, counts @ ..] if counts.len() >= 16 => (*c, &counts[..16]),
                    _ => return bad("Huffman table"),
                };
                let total: usize = counts.iter().map(|&n| usize::from(n)).sum();
                if class_id >> 4 > 1 || class_id & 15 > 3 || total > 256 || rest.len() < 17 + total
                {
                    return bad("Huffman table");
                }
                // Canonical codes: the codes of each length must fit in that many bits, and none
                // may be all ones (as libjpeg requires).
                let mut code = 0u32;
                for (bits, &n) in counts.iter().enumerate() {
                    code += u32::from(n);
                    if code >= 1 << (bits + 1) && n > 0 {
                        return bad("Huffman table");
                    }
                    code <<= 1;
                }
                // A DC difference has at most 15 bits (16 for lossless).
                let values = &rest[17..17 + total];
                if class_id >> 4 == 0 && values.iter().any(|&v| v > 16) {
                    return bad("Huffman table");
                }
                rest = &rest[17 + total..];
            }
            Ok(())
        }
        0xDB => {
            let mut rest = payload;
            while let [precision_id, tail @ ..] = rest {
                let size = if precision_id >> 4 == 0 { 64 } else { 128 };
                if precision_id >> 4 > 1 || precision_id & 15 > 3 || tail.len() < size {
                    return bad("quantisation table");
                }
                let steps = &tail[..size];
                let zero = if size == 64 {
                    steps.contains(&0)
                } else {
                    steps.chunks(2).any(|s| s == [0, 0])
                };
                if zero {
                    return bad("quantisation table");
                }
                rest = &tail[size..];
            }
            if payload.is_empty() {
                return bad("quantisation table");
            }
            Ok(())
        }
        0xDD if payload.len() != 2 => bad("restart interval"),
        0xDA => match payload.first() {
            Some(&n) if (1..=4).contains(&n) && payload.len() == 1 + 2 * usize::from(n) + 3 => {
                Ok(())
            }
            _ => bad("scan header"),
        },
        _ => Ok(()),
    }
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
