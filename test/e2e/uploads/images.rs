//! Images made by the tests: plain, transparent, animated, noisy, with metadata, hand-built
//! chunk by chunk (bombs, APNG, damaged files). All deterministic.

use std::io::Cursor;

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, DynamicImage, Frame, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), format)
        .expect("encoding a test image");
    out
}

/// A gradient in `colour`'s hue: distinct colours give distinct bytes.
pub fn gradient(width: u32, height: u32, colour: [u8; 3]) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let shade = ((x + y) % 64) as u8;
        Rgb([
            colour[0].saturating_sub(shade),
            colour[1].saturating_sub(shade),
            colour[2].saturating_sub(shade),
        ])
    })
}

/// An opaque PNG.
pub fn png(width: u32, height: u32, colour: [u8; 3]) -> Vec<u8> {
    encode(
        DynamicImage::ImageRgb8(gradient(width, height, colour)),
        ImageFormat::Png,
    )
}

/// An RGBA PNG whose left half is fully transparent and right half opaque.
pub fn png_half_transparent(width: u32, height: u32) -> (RgbaImage, Vec<u8>) {
    let pixels = RgbaImage::from_fn(width, height, |x, y| {
        if x < width / 2 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([200, (y % 200) as u8, 40, 255])
        }
    });
    let bytes = encode(DynamicImage::ImageRgba8(pixels.clone()), ImageFormat::Png);
    (pixels, bytes)
}

/// A baseline JPEG.
pub fn jpeg(width: u32, height: u32, colour: [u8; 3]) -> Vec<u8> {
    encode(
        DynamicImage::ImageRgb8(gradient(width, height, colour)),
        ImageFormat::Jpeg,
    )
}

/// A lossless WebP.
pub fn webp(width: u32, height: u32, colour: [u8; 3]) -> Vec<u8> {
    encode(
        DynamicImage::ImageRgb8(gradient(width, height, colour)),
        ImageFormat::WebP,
    )
}

/// An animated GIF with one solid frame per colour, looping forever.
pub fn gif_animated(width: u32, height: u32, colours: &[[u8; 3]]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(Repeat::Infinite).unwrap();
        let frames = colours.iter().map(|&[r, g, b]| {
            Frame::from_parts(
                RgbaImage::from_pixel(width, height, Rgba([r, g, b, 255])),
                0,
                0,
                Delay::from_numer_denom_ms(100, 1),
            )
        });
        encoder.encode_frames(frames).unwrap();
    }
    out
}

/// A fixed pseudo-random byte stream (xorshift), so noise is the same on every run.
pub fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.max(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

/// An RGB PNG of noise: it does not compress, so its size is about 3 x width x height bytes.
pub fn png_noise(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let pixels = noise((width * height * 3) as usize, seed);
    encode(
        DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, pixels).unwrap()),
        ImageFormat::Png,
    )
}

// ---------------------------------------------------------------------------------------------
// PNG chunk by chunk.

pub fn crc32(bytes: &[u8]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !bytes.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

pub const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// One PNG chunk with its length and a correct CRC.
pub fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[4..]);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// The chunks of a PNG, as (type, data).
pub fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    assert_eq!(&png[..8], PNG_SIGNATURE);
    let mut out = Vec::new();
    let mut at = 8;
    while at + 12 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = png[at + 4..at + 8].try_into().unwrap();
        out.push((kind, png[at + 8..at + 8 + len].to_vec()));
        at += 12 + len;
    }
    out
}

/// The concatenated IDAT data (the zlib stream) of a PNG.
pub fn idat(png: &[u8]) -> Vec<u8> {
    chunks(png)
        .into_iter()
        .filter(|(kind, _)| kind == b"IDAT")
        .flat_map(|(_, data)| data)
        .collect()
}

pub fn ihdr(width: u32, height: u32, bit_depth: u8, colour_type: u8) -> Vec<u8> {
    let mut data = width.to_be_bytes().to_vec();
    data.extend_from_slice(&height.to_be_bytes());
    data.extend_from_slice(&[bit_depth, colour_type, 0, 0, 0]);
    chunk(b"IHDR", &data)
}

/// A PNG that declares `width` x `height` RGB pixels but carries the tiny IDAT of a 1x1 image:
/// a decompression bomb's header, refused before any pixel buffer is made.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut out = PNG_SIGNATURE.to_vec();
    out.extend(ihdr(width, height, 8, 2));
    out.extend(chunk(b"IDAT", &idat(&png(1, 1, [0, 0, 0]))));
    out.extend(chunk(b"IEND", b""));
    out
}

/// A PNG whose header is sound but whose pixel data is garbage with a correct CRC.
pub fn png_garbage_pixels() -> Vec<u8> {
    let mut out = PNG_SIGNATURE.to_vec();
    out.extend(ihdr(64, 64, 8, 2));
    out.extend(chunk(
        b"IDAT",
        b"this is not a zlib stream, only junk bytes: \x00\xff\x13\x37",
    ));
    out.extend(chunk(b"IEND", b""));
    out
}

/// A PNG with an impossible header (bit depth 7) and correct CRCs.
pub fn png_bad_header() -> Vec<u8> {
    let good = png(8, 8, [10, 20, 30]);
    let mut out = PNG_SIGNATURE.to_vec();
    out.extend(ihdr(8, 8, 7, 2));
    out.extend(chunk(b"IDAT", &idat(&good)));
    out.extend(chunk(b"IEND", b""));
    out
}

/// `png` with `extra` chunks inserted right after its IHDR.
pub fn png_with_chunks(png: &[u8], extra: &[Vec<u8>]) -> Vec<u8> {
    let ihdr_end = 8 + 8 + 13 + 4;
    assert_eq!(&png[12..16], b"IHDR");
    let mut out = png[..ihdr_end].to_vec();
    for c in extra {
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

/// An animated PNG: one frame per colour (the first is also the default image), looping.
pub fn apng(width: u32, height: u32, colours: &[[u8; 3]]) -> Vec<u8> {
    let frames: Vec<Vec<u8>> = colours
        .iter()
        .map(|&c| {
            encode(
                DynamicImage::ImageRgb8(RgbImage::from_pixel(width, height, Rgb(c))),
                ImageFormat::Png,
            )
        })
        .collect();
    let mut seq = 0u32;
    let fctl = |seq: &mut u32| {
        let mut data = seq.to_be_bytes().to_vec();
        *seq += 1;
        for v in [width, height, 0, 0] {
            data.extend_from_slice(&v.to_be_bytes());
        }
        data.extend_from_slice(&10u16.to_be_bytes()); // delay 10/100 s
        data.extend_from_slice(&100u16.to_be_bytes());
        data.extend_from_slice(&[0, 0]); // dispose none, blend source
        chunk(b"fcTL", &data)
    };
    let mut out = PNG_SIGNATURE.to_vec();
    let (kind, header) = chunks(&frames[0]).remove(0);
    assert_eq!(&kind, b"IHDR");
    out.extend(chunk(b"IHDR", &header));
    let mut actl = (colours.len() as u32).to_be_bytes().to_vec();
    actl.extend_from_slice(&0u32.to_be_bytes());
    out.extend(chunk(b"acTL", &actl));
    for (i, frame) in frames.iter().enumerate() {
        out.extend(fctl(&mut seq));
        if i == 0 {
            out.extend(chunk(b"IDAT", &idat(frame)));
        } else {
            let mut data = seq.to_be_bytes().to_vec();
            seq += 1;
            data.extend(idat(frame));
            out.extend(chunk(b"fdAT", &data));
        }
    }
    out.extend(chunk(b"IEND", b""));
    out
}

#[test]
fn crc32_matches_the_png_specification() {
    // The CRC of an IEND chunk is fixed: AE 42 60 82.
    assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    assert_eq!(chunk(b"IEND", b""), b"\0\0\0\0IEND\xAE\x42\x60\x82");
}

/// `png` grown to exactly `len` bytes by a private ancillary chunk (which the server strips).
pub fn png_padded(png: &[u8], len: usize) -> Vec<u8> {
    let padding = len
        .checked_sub(png.len() + 12)
        .expect("the PNG is already longer");
    let out = png_with_chunks(png, &[chunk(b"prVt", &vec![b'p'; padding])]);
    assert_eq!(out.len(), len);
    out
}
