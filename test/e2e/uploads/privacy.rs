//! Metadata stripping and orientation: what a camera or an editor wrote about the poster must
//! not be served, and a rotated photo must show upright.

use image::ImageDecoder;

use super::accepted::difference;
use super::*;

/// The `YYYY:MM:DD HH:MM:SS` date strings in `bytes` (EXIF's date format).
fn exif_dates(bytes: &[u8]) -> Vec<Vec<u8>> {
    let shape = b"dddd:dd:dd dd:dd:dd";
    let mut out: Vec<Vec<u8>> = bytes
        .windows(shape.len())
        .filter(|w| {
            w.iter().zip(shape).all(|(&c, &s)| {
                if s == b'd' {
                    c.is_ascii_digit()
                } else {
                    c == s
                }
            })
        })
        .map(<[u8]>::to_vec)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The IFD0 tags of every Exif APP1 segment of a JPEG.
fn exif_tags(jpeg: &[u8]) -> Vec<u16> {
    let mut tags = Vec::new();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        if marker == 0xDA {
            break; // start of scan: no more metadata segments
        }
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        let data = &jpeg[at + 4..(at + 2 + len).min(jpeg.len())];
        if marker == 0xE1 && data.starts_with(b"Exif\0\0") {
            let tiff = &data[6..];
            let big = tiff.starts_with(b"MM");
            let u16_at = |i: usize| {
                let b = [tiff[i], tiff[i + 1]];
                if big {
                    u16::from_be_bytes(b)
                } else {
                    u16::from_le_bytes(b)
                }
            };
            let u32_at = |i: usize| {
                let b = [tiff[i], tiff[i + 1], tiff[i + 2], tiff[i + 3]];
                if big {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                }
            };
            let ifd = u32_at(4) as usize;
            for entry in 0..usize::from(u16_at(ifd)) {
                tags.push(u16_at(ifd + 2 + entry * 12));
            }
        }
        at += 2 + len;
    }
    tags
}

#[tokio::test]
async fn a_phone_photo_loses_its_metadata_and_shows_upright() {
    let s = Server::start().await;
    let photo = fixture("path-gps-rotated.jpg");
    // What the fixture gives away, so the test can show it is gone.
    let dates = exif_dates(&photo);
    assert!(
        dates.contains(&b"2024:05:01 12:00:00".to_vec()),
        "{dates:?}"
    );
    let secrets: Vec<&[u8]> = vec![b"TestCam", b"Jane Doe", b"OLYMPUS", b"GIMP"];
    for secret in &secrets {
        assert!(contains(&photo, secret));
    }
    let tags = exif_tags(&photo);
    assert!(tags.contains(&0x8825), "the fixture has GPS: {tags:x?}");

    let (_, op) = upload(
        &s,
        &threads("b"),
        form(Some("my walk"), vec![(photo.clone(), "IMG_0001.jpg")]),
    )
    .await;
    let file = only_file(&op);
    assert_eq!(
        (&file["width"], &file["height"]),
        (&json!(1600), &json!(2560))
    );
    assert_eq!(
        (&file["thumb_width"], &file["thumb_height"]),
        (&json!(156), &json!(250))
    );
    let served = check_file(&s, file, "image/jpeg", (1600, 2560), 250).await;
    let original = &served.original;
    assert!(original.len() < photo.len(), "nothing was stripped");
    for secret in &secrets {
        assert!(
            !contains(original, secret),
            "the served photo still holds {:?}",
            String::from_utf8_lossy(secret)
        );
    }
    assert!(!contains(original, b"GPS"));
    for date in &dates {
        assert!(
            !contains(original, date),
            "the served photo still holds the date {:?}",
            String::from_utf8_lossy(date)
        );
    }
    // At most an orientation survives: no GPS, Exif, Make, Model, Artist, Software, DateTime or
    // ImageDescription tag.
    let left = exif_tags(original);
    for tag in [
        0x8825, 0x8769, 0x010F, 0x0110, 0x013B, 0x0131, 0x0132, 0x010E,
    ] {
        assert!(!left.contains(&tag), "tag {tag:#06x} survived: {left:x?}");
    }

    // The fixture's pixels are stored sideways; upright is a quarter turn clockwise.
    let stored_sideways = image::load_from_memory(&photo).unwrap();
    assert_eq!(stored_sideways.dimensions(), (2560, 1600));
    let upright = stored_sideways.rotate90();
    let wrong = stored_sideways.rotate270();
    let d = difference(&served.thumb, &upright);
    assert!(d < 10.0, "the thumbnail is not the upright photo: {d}");
    assert!(
        difference(&served.thumb, &wrong) > d + 8.0,
        "the thumbnail is upside down"
    );
    // A browser shows the served original upright too, whether its pixels were turned or its
    // orientation tag kept.
    let mut decoder = image::ImageReader::new(Cursor::new(original))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    let orientation = decoder.orientation().unwrap();
    let mut shown = DynamicImage::from_decoder(decoder).unwrap();
    shown.apply_orientation(orientation);
    assert_eq!(shown.dimensions(), (1600, 2560));
    let shown = shown.thumbnail_exact(156, 250);
    let d = difference(&shown, &upright);
    assert!(d < 10.0, "the served original does not show upright: {d}");
}

#[tokio::test]
async fn png_text_chunks_are_stripped() {
    let s = Server::start().await;
    let plain = png(64, 48, [30, 60, 90]);
    let secret = b"Secret: Jane Doe, 12 Rue Example, Paris";
    let mut itxt = b"Description\0\0\0\0\0".to_vec();
    itxt.extend_from_slice(b"iTXt says where I live");
    let bytes = png_with_chunks(
        &plain,
        &[
            chunk(b"tEXt", &[&b"Comment\0"[..], &secret[..]].concat()),
            chunk(b"iTXt", &itxt),
            chunk(b"tIME", &[0x07, 0xE8, 5, 1, 12, 0, 0]),
        ],
    );
    // The test's PNG is sound and carries the secrets.
    assert_eq!(
        image::load_from_memory(&bytes).unwrap().dimensions(),
        (64, 48)
    );
    assert!(contains(&bytes, secret));

    let (_, op) = upload(
        &s,
        &threads("b"),
        form(Some("text"), vec![(bytes, "text.png")]),
    )
    .await;
    let served = check_file(&s, only_file(&op), "image/png", (64, 48), 250).await;
    for gone in [
        &secret[..],
        b"Jane Doe",
        b"iTXt says",
        b"tEXt",
        b"iTXt",
        b"tIME",
    ] {
        assert!(
            !contains(&served.original, gone),
            "the served PNG still holds {:?}",
            String::from_utf8_lossy(gone)
        );
    }
    assert_eq!(
        image::load_from_memory(&served.original).unwrap().to_rgb8(),
        image::load_from_memory(&plain).unwrap().to_rgb8(),
        "stripping changed the pixels"
    );
}
