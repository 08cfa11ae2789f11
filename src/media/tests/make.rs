//! Odd files made on the spot: alpha, animation, metadata blocks, bombs.

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, ExtendedColorType, Frame, ImageEncoder, Rgba, RgbaImage};

use super::super::{decode::Pixels, libwebp, png::chunk};

pub fn solid(width: u32, height: u32, rgba: [u8; 4]) -> RgbaImage {
    RgbaImage::from_pixel(width, height, Rgba(rgba))
}

/// A colour ramp; with `alpha`, transparency runs from clear on the left to opaque on the right.
pub fn gradient(width: u32, height: u32, alpha: bool) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| {
        let a = if alpha {
            (x * 255 / (width - 1)) as u8
        } else {
            255
        };
        Rgba([(x * 255 / width) as u8, (y * 255 / height) as u8, 128, a])
    })
}

/// A PNG of `image` (RGB when fully opaque, else RGBA) with `extra` chunks after IHDR.
pub fn png(image: &RgbaImage, extra: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut out);
    let (w, h) = image.dimensions();
    if image.pixels().all(|p| p[3] == 255) {
        let rgb = image::DynamicImage::ImageRgba8(image.clone()).into_rgb8();
        encoder
            .write_image(&rgb, w, h, ExtendedColorType::Rgb8)
            .unwrap();
    } else {
        encoder
            .write_image(image, w, h, ExtendedColorType::Rgba8)
            .unwrap();
    }
    let ihdr_end = 8 + 8 + 13 + 4;
    let inserted: Vec<u8> = extra
        .iter()
        .flat_map(|(kind, body)| chunk(kind, body))
        .collect();
    out.splice(ihdr_end..ihdr_end, inserted);
    out
}

/// The chunks of a PNG, as (type, body) pairs.
fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut pos = 8;
    let mut out = Vec::new();
    while pos < png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = png[pos + 4..pos + 8].try_into().unwrap();
        out.push((kind, png[pos + 8..pos + 8 + len].to_vec()));
        pos += 12 + len;
    }
    out
}

/// A two-frame APNG whose default image is the first frame.
pub fn apng(first: &RgbaImage, second: &RgbaImage) -> Vec<u8> {
    let (a, b) = (chunks(&png(first, &[])), chunks(&png(second, &[])));
    let idat = |c: &[([u8; 4], Vec<u8>)]| c.iter().find(|(k, _)| k == b"IDAT").unwrap().1.clone();
    let (w, h) = first.dimensions();
    let fctl = |seq: u32| {
        let mut body = Vec::new();
        for v in [seq, w, h, 0, 0] {
            body.extend_from_slice(&v.to_be_bytes());
        }
        body.extend_from_slice(&[0, 10, 0, 100, 0, 0]); // 10/100 s, no dispose, source blend
        body
    };
    let mut fdat = 2u32.to_be_bytes().to_vec();
    fdat.extend_from_slice(&idat(&b));
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &a[0].1));
    out.extend(chunk(b"acTL", &[0, 0, 0, 2, 0, 0, 0, 0]));
    out.extend(chunk(b"fcTL", &fctl(0)));
    out.extend(chunk(b"IDAT", &idat(&a)));
    out.extend(chunk(b"fcTL", &fctl(1)));
    out.extend(chunk(b"fdAT", &fdat));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// A big-endian TIFF (EXIF) block with an Orientation and a Make entry.
pub fn tiff(orientation: u16, make: &str) -> Vec<u8> {
    let mut t = b"MM\0\x2A\0\0\0\x08\0\x02".to_vec();
    let make_at = 8 + 2 + 2 * 12 + 4;
    t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    t.extend_from_slice(&[(orientation >> 8) as u8, orientation as u8, 0, 0]);
    t.extend_from_slice(&[0x01, 0x0F, 0, 2]);
    t.extend_from_slice(&(make.len() as u32 + 1).to_be_bytes());
    t.extend_from_slice(&(make_at as u32).to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(make.as_bytes());
    t.push(0);
    t
}

/// A looping GIF of `frames` with extension blocks (label, data) inserted before the first
/// image; application data starts with its 11-byte identifier.
pub fn gif(frames: &[RgbaImage], extensions: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(Repeat::Infinite).unwrap();
        let frames = frames
            .iter()
            .map(|f| Frame::from_parts(f.clone(), 0, 0, Delay::from_numer_denom_ms(100, 1)));
        encoder.encode_frames(frames).unwrap();
    }
    let packed = out[10];
    let mut at = 13
        + if packed & 0x80 != 0 {
            3 << ((packed & 7) + 1)
        } else {
            0
        };
    for &(label, data) in extensions {
        let mut block = vec![0x21, label];
        let (first, rest) = if label == 0xFF {
            data.split_at(11)
        } else {
            (&data[..0], data)
        };
        if !first.is_empty() {
            block.push(11);
            block.extend_from_slice(first);
        }
        for piece in rest.chunks(255) {
            block.push(piece.len() as u8);
            block.extend_from_slice(piece);
        }
        block.push(0);
        let len = block.len();
        out.splice(at..at, block);
        at += len;
    }
    out
}

/// The "VP8 " chunk of a lossy WebP of `image` (opaque).
pub fn vp8_chunk(image: &RgbaImage) -> Vec<u8> {
    let rgb = image::DynamicImage::ImageRgba8(image.clone()).into_rgb8();
    let (width, height) = rgb.dimensions();
    let pixels = Pixels {
        data: rgb.into_raw(),
        width,
        height,
        alpha: false,
    };
    let simple = libwebp::encode(&pixels, 90.0).unwrap();
    assert_eq!(&simple[12..16], b"VP8 ");
    simple[12..].to_vec()
}

pub fn riff_chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = kind.to_vec();
    c.extend_from_slice(&(body.len() as u32).to_le_bytes());
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

fn u24(v: u32) -> [u8; 3] {
    let b = v.to_le_bytes();
    [b[0], b[1], b[2]]
}

/// A RIFF WebP of the given flags, canvas and chunks.
pub fn webp(flags: u8, (w, h): (u32, u32), chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut vp8x = vec![flags, 0, 0, 0];
    vp8x.extend_from_slice(&u24(w - 1));
    vp8x.extend_from_slice(&u24(h - 1));
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    chunks.iter().for_each(|c| body.extend_from_slice(c));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// An extended-format lossy WebP of `image` with an EXIF chunk and an XMP chunk naming a person.
pub fn webp_with_metadata(image: &RgbaImage, tiff: &[u8]) -> Vec<u8> {
    let xmp = b"<x:xmpmeta><dc:creator>Jane Doe</dc:creator></x:xmpmeta>";
    let chunks = [
        vp8_chunk(image),
        riff_chunk(b"EXIF", tiff),
        riff_chunk(b"XMP ", xmp),
    ];
    webp(0x08 | 0x04, image.dimensions(), &chunks)
}

/// An animated WebP with one full-canvas frame per image and an XMP chunk naming a person.
pub fn animated_webp(frames: &[RgbaImage]) -> Vec<u8> {
    let (w, h) = frames[0].dimensions();
    let mut chunks = vec![riff_chunk(b"ANIM", &[0, 0, 0, 0, 0, 0])];
    for frame in frames {
        let mut anmf = [u24(0), u24(0), u24(w - 1), u24(h - 1), u24(100)].concat();
        anmf.push(0);
        anmf.extend(vp8_chunk(frame));
        chunks.push(riff_chunk(b"ANMF", &anmf));
    }
    chunks.push(riff_chunk(b"XMP ", b"<x>Jane Doe</x>"));
    webp(0x02 | 0x04, (w, h), &chunks)
}

/// A PNG that declares 100000x100000 RGBA pixels (40 GB decoded) in under 100 bytes.
pub fn png_bomb() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// A JPEG frame header of 60000x60000 followed by a token scan.
pub fn jpeg_bomb() -> Vec<u8> {
    let mut out = vec![
        0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0xEA, 0x60, 0xEA, 0x60, 1, 1, 0x11, 0,
    ];
    out.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0, 0x12, 0x34, 0xFF, 0xD9]);
    out
}

/// A GIF whose screen and frame are 65535x65535.
pub fn gif_bomb() -> Vec<u8> {
    let mut out = b"GIF89a\xFF\xFF\xFF\xFF\0\0\0".to_vec();
    out.extend_from_slice(&[
        0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 2, 2, 0x4C, 0x01, 0, 0x3B,
    ]);
    out
}

/// An extended WebP whose canvas is 100000x100000.
pub fn webp_bomb() -> Vec<u8> {
    let mut vp8x = vec![0, 0, 0, 0];
    vp8x.extend_from_slice(&99_999u32.to_le_bytes()[..3]);
    vp8x.extend_from_slice(&99_999u32.to_le_bytes()[..3]);
    let mut out = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0".to_vec();
    out.extend(vp8x);
    out.extend_from_slice(b"VP8L\x05\0\0\0\x2F\0\0\0\0\0");
    let size = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    out
}
