//! The EXIF orientation: read from a metadata block before it is dropped, and written back as a
//! block that holds nothing else.

use image::metadata::Orientation;

/// The orientation (1..=8) in a TIFF-structured EXIF block, with or without the `Exif\0\0`
/// prefix some writers put before it; 1 when absent or out of range.
pub(super) fn orientation(block: &[u8]) -> u8 {
    let tiff = block.strip_prefix(b"Exif\0\0").unwrap_or(block);
    Orientation::from_exif_chunk(tiff).map_or(1, Orientation::to_exif)
}

/// Orientations 5 to 8 turn the picture a quarter, so its upright width is its stored height.
pub(super) fn swaps_axes(orientation: u8) -> bool {
    matches!(orientation, 5..=8)
}

/// A 26-byte big-endian TIFF block whose first and only IFD holds one entry: Orientation.
/// No camera, date, position or thumbnail can survive in it.
pub(super) fn minimal_tiff(orientation: u8) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0\x2A"); // big-endian TIFF
    tiff.extend_from_slice(&8u32.to_be_bytes()); // IFD0 right after the header
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // tag: Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // type: SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&u16::from(orientation).to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // the value field is 4 bytes; a SHORT fills the first two
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_block_round_trips_every_orientation() {
        for o in 1..=8 {
            let tiff = minimal_tiff(o);
            assert_eq!(tiff.len(), 26);
            assert_eq!(orientation(&tiff), o);
        }
        assert_eq!(orientation(b"not exif"), 1);
    }
}
