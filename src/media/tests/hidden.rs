//! Payloads hidden where "metadata stripping" used to copy blocks verbatim: in the tails of kept
//! segments, in extra sub-blocks, after the image data, in later frames. Each must be gone from
//! the stored file, or the file refused.

use super::*;

/// A JPEG segment: marker, length, payload.
fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A small baseline JPEG (YCbCr) from the image crate's encoder.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let rgb = image::DynamicImage::ImageRgba8(make::gradient(width, height, false)).into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&rgb)
        .unwrap();
    out
}

/// Ingests `bytes` and returns the stored file, or the refusal.
fn stored(bytes: &[u8], name: &str) -> Result<Vec<u8>, MediaError> {
    let dir = tempfile::tempdir().unwrap();
    let src = file(&dir, name, bytes);
    let dst = dir.path().join("out");
    ingest(&src, &dst, &Limits::default())?;
    Ok(std::fs::read(dst).unwrap())
}

fn assert_no_hidden(out: &[u8], what: &str) {
    assert!(
        !contains(out, b"HIDDEN"),
        "{what}: a payload survived: {:?}",
        String::from_utf8_lossy(out)
    );
}

#[test]
fn jpeg_segments_are_rebuilt_from_their_fields_and_the_rest_dropped() {
    let plain = jpeg(64, 48);
    let mut jfif = b"JFIF\0\x01\x02\x01\x00\x48\x00\x48".to_vec();
    jfif.extend_from_slice(&[2, 1]); // a 2x1 thumbnail: 6 bytes of "pixels"
    jfif.extend_from_slice(b"HIDDEN");
    let mut adobe = b"Adobe\x00\x64\x00\x00\x00\x00\x01".to_vec();
    adobe.extend_from_slice(b"HIDDEN-ADOBE-TAIL");
    let mut bytes = plain[..2].to_vec();
    bytes.extend(segment(0xE0, &jfif));
    bytes.extend(segment(0xEE, &adobe));
    bytes.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x01HIDDEN-ICC"));
    bytes.extend(segment(0xFE, b"HIDDEN-COMMENT"));
    bytes.extend(segment(0xF0, b"HIDDEN-RESERVED"));
    bytes.extend_from_slice(&plain[2..]);
    bytes.extend_from_slice(b"HIDDEN-AFTER-EOI");

    let out = stored(&bytes, "a.jpg").unwrap();
    assert_no_hidden(&out, "JPEG");
    // JFIF: version, units and densities kept, thumbnail size zero, nothing after.
    assert_eq!(
        &out[2..20],
        &segment(0xE0, b"JFIF\0\x01\x02\x01\x00\x48\x00\x48\0\0")[..]
    );
    assert_eq!(
        &out[20..36],
        &segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01")[..]
    );
    assert!(out.ends_with(&[0xFF, 0xD9]), "nothing after the end marker");
    assert!(
        entropy_coded(&out) == entropy_coded(&plain),
        "pixels untouched"
    );

    // A JFIF or Adobe segment too short for its fields is dropped, not copied.
    let mut short = plain[..2].to_vec();
    short.extend(segment(0xEE, b"AdobeHIDDEN"));
    short.extend_from_slice(&plain[2..]);
    assert_no_hidden(&stored(&short, "s.jpg").unwrap(), "short Adobe");
}

#[test]
fn png_keeps_nothing_after_its_image_data_or_outside_its_fields() {
    let image = make::gradient(40, 30, true);
    let plain = make::png(&image, &[]);
    let iend = plain.len() - 12;
    let with = |extra: &[u8], at: usize| {
        let mut bytes = plain.clone();
        bytes.splice(at..at, extra.iter().copied());
        bytes
    };
    let ihdr_end = 8 + 25;
    let idat_end = iend; // the encoder writes IHDR, IDAT..., IEND

    // Dropped: a colour profile, text, anything after IEND.
    let dropped = [
        with(&png::chunk(b"iCCP", b"HIDDEN\0\0xx"), ihdr_end),
        with(&png::chunk(b"tEXt", b"Comment\0HIDDEN"), ihdr_end),
        [plain.clone(), b"HIDDEN-AFTER-IEND".to_vec()].concat(),
    ];
    for bytes in dropped {
        let out = stored(&bytes, "a.png").unwrap();
        assert_no_hidden(&out, "PNG");
        assert!(out.ends_with(&png::chunk(b"IEND", &[])));
    }

    // Refused: image data after the zlib stream ends, image data after another chunk, a
    // fixed-size chunk with a tail, a CRC that does not match.
    let mut bad_crc = plain.clone();
    let last = bad_crc.len() - 1;
    bad_crc[last] ^= 1;
    let refused = [
        with(&png::chunk(b"IDAT", b"HIDDEN"), idat_end),
        with(
            &[png::chunk(b"tEXt", b"a\0b"), png::chunk(b"IDAT", b"HIDDEN")].concat(),
            idat_end,
        ),
        with(&png::chunk(b"gAMA", b"\0\0\xB1\x8FHIDDEN"), ihdr_end),
        bad_crc,
    ];
    for (i, bytes) in refused.iter().enumerate() {
        let err = stored(bytes, "b.png").unwrap_err();
        assert_eq!(err.code(), "image_corrupt", "case {i}: {err}");
    }
}

/// The offsets of each image descriptor (0x2C) of a well-formed GIF.
fn gif_frames(gif: &[u8]) -> Vec<usize> {
    let table = |packed: u8| {
        if packed & 0x80 == 0 {
            0
        } else {
            3 << ((packed & 7) + 1)
        }
    };
    let skip = |mut pos: usize| {
        while gif[pos] != 0 {
            pos += 1 + usize::from(gif[pos]);
        }
        pos + 1
    };
    let mut pos = 13 + table(gif[10]);
    let mut frames = Vec::new();
    loop {
        match gif[pos] {
            0x2C => {
                frames.push(pos);
                pos = skip(pos + 10 + table(gif[pos + 9]) + 1);
            }
            0x21 => pos = skip(pos + 2),
            _ => return frames,
        }
    }
}

#[test]
fn gif_loop_count_is_rebuilt_and_frames_must_fit_the_screen() {
    let red = make::solid(20, 10, [255, 0, 0, 255]);
    let blue = make::solid(20, 10, [0, 0, 255, 255]);
    let plain = make::gif(&[red.clone(), blue.clone()], &[]);
    let first = gif_frames(&plain)[0];
    let with = |extra: &[u8]| {
        let mut bytes = plain.clone();
        bytes.splice(first..first, extra.iter().copied());
        bytes
    };
    // A loop block with a second sub-block, an ICC profile, a comment, bytes after the trailer.
    let mut netscape = b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x05\x00".to_vec();
    netscape.extend_from_slice(b"\x06HIDDEN\x00");
    for bytes in [
        with(&netscape),
        with(b"\x21\xFF\x0BICCRGBG1012\x06HIDDEN\x00"),
        with(b"\x21\xFE\x06HIDDEN\x00"),
        [plain.clone(), b"HIDDEN".to_vec()].concat(),
    ] {
        let out = stored(&bytes, "a.gif").unwrap();
        assert_no_hidden(&out, "GIF");
        assert!(out.ends_with(&[0x3B]));
    }
    let out = stored(&with(&netscape), "n.gif").unwrap();
    assert!(contains(
        &out,
        b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x05\x00\x00"
    ));

    // A 1x1 screen holding a 20x10 frame is refused, not reported as 1x1.
    let mut tiny_screen = plain.clone();
    tiny_screen[6..10].copy_from_slice(&[1, 0, 1, 0]);
    let err = stored(&tiny_screen, "t.gif").unwrap_err();
    assert_eq!(err.code(), "image_corrupt", "{err}");
    assert!(err.to_string().contains("outside"), "{err}");

    // A graphic control block with a tail is refused.
    let err = stored(&with(b"\x21\xF9\x05\x00\x00\x00\x00\x00\x00"), "g.gif").unwrap_err();
    assert_eq!(err.code(), "image_corrupt", "{err}");
}

#[test]
fn later_frames_of_animations_are_decoded() {
    // The second GIF frame's LZW code size is out of range: only decoding it tells.
    let two = make::gif(
        &[
            make::solid(20, 10, [255, 0, 0, 255]),
            make::solid(20, 10, [0, 0, 255, 255]),
        ],
        &[],
    );
    let second = gif_frames(&two)[1];
    let mut broken = two.clone();
    let code_size_at = second
        + 10
        + if two[second + 9] & 0x80 != 0 {
            3 << ((two[second + 9] & 7) + 1)
        } else {
            0
        };
    broken[code_size_at] = 0x0F;
    assert!(stored(&two, "ok.gif").is_ok());
    let err = stored(&broken, "b.gif").unwrap_err();
    assert!(
        matches!(err.code(), "image_corrupt" | "image_truncated"),
        "{err}"
    );

    // The second APNG frame's data holds half the rows its frame control declares.
    let red = make::solid(40, 30, [255, 0, 0, 255]);
    let half = make::solid(40, 15, [0, 0, 255, 255]);
    assert!(stored(&make::apng(&red, &red), "ok.png").is_ok());
    let err = stored(&make::apng(&red, &half), "b.png").unwrap_err();
    assert!(
        matches!(err.code(), "image_corrupt" | "image_truncated"),
        "{err}"
    );
}

#[test]
fn webp_drops_its_colour_profile_and_zeroes_reserved_bits() {
    let image = make::gradient(30, 20, false);
    let chunks = [
        make::riff_chunk(b"ICCP", b"HIDDEN-ICC"),
        make::vp8_chunk(&image),
    ];
    let mut bytes = make::webp(0x20 | 0xC1, (30, 20), &chunks);
    bytes[21..24].copy_from_slice(&[0xAA, 0xBB, 0xCC]); // the VP8X reserved bytes
    let out = stored(&bytes, "a.webp").unwrap();
    assert_no_hidden(&out, "WebP");
    assert_eq!(&out[12..16], b"VP8X");
    assert_eq!(&out[20..24], &[0, 0, 0, 0], "no flags left, reserved zero");

    // An animation frame carrying a chunk of its own: the frame is rebuilt without it.
    let mut anmf = vec![0; 6];
    anmf.extend_from_slice(&[29, 0, 0, 19, 0, 0, 100, 0, 0, 0]);
    anmf.extend(make::vp8_chunk(&image));
    anmf.extend(make::riff_chunk(b"HIDE", b"HIDDEN-IN-FRAME"));
    let chunks = [
        make::riff_chunk(b"ANIM", &[0; 6]),
        make::riff_chunk(b"ANMF", &anmf.clone()),
        make::riff_chunk(b"ANMF", &anmf),
    ];
    let out = stored(&make::webp(0x02, (30, 20), &chunks), "anim.webp").unwrap();
    assert_no_hidden(&out, "animated WebP");
    assert!(contains(&out, b"ANMF") && contains(&out, b"VP8 "));
}
