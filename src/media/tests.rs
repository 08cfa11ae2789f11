//! What a poster would notice: refused files, leaked metadata, sideways or blurry thumbnails.
//! Real photos come from `test/fixtures/images/`; every odd file is made here.

use std::path::{Path, PathBuf};

use image::{ImageDecoder, Rgba, RgbaImage};

use super::*;

mod generated;
mod hidden;
mod make;
mod metadata;
mod refused;
mod thumbnails;

/// A fixture photo's path; panics naming the path when the file is not there, so a broken
/// checkout says what it lacks instead of failing later with a bare "not found".
fn fixture(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test/fixtures/images")
        .join(name);
    assert!(path.is_file(), "test fixture missing: {}", path.display());
    path
}

/// Writes `bytes` to a file in `dir` and returns its path.
fn file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Decodes a thumbnail's WebP bytes back to RGBA with an independent decoder.
fn decode_webp(bytes: &[u8]) -> (RgbaImage, bool) {
    let decoder = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(bytes)).unwrap();
    let alpha = decoder.color_type().has_alpha();
    (
        image::DynamicImage::from_decoder(decoder)
            .unwrap()
            .into_rgba8(),
        alpha,
    )
}

/// The part of a JPEG from its first scan to its end: the compressed picture. Walks the
/// segments, since an Exif thumbnail holds a scan marker of its own.
fn entropy_coded(jpeg: &[u8]) -> &[u8] {
    let mut pos = 2;
    while jpeg[pos + 1] != 0xDA {
        pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
    }
    &jpeg[pos..]
}
