//! What must not leave the poster's device: metadata gone, pixels and orientation kept.

use super::*;

#[test]
fn gps_photo_loses_its_metadata_but_not_a_pixel_or_its_orientation() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("path-gps-rotated.jpg");
    let dst = dir.path().join("clean.jpg");
    let probed = ingest(&src, &dst, &Limits::default()).unwrap();
    assert_eq!(
        probed,
        Probed {
            format: Format::Jpeg,
            width: 1600,
            height: 2560,
            animated: false,
            orientation: 6,
        }
    );

    let before = std::fs::read(&src).unwrap();
    let after = std::fs::read(&dst).unwrap();
    for secret in [
        &b"TestCam"[..],
        b"Jane Doe",
        b"2024:05:01",
        b"OLYMPUS",
        b"T-100",
        b"GIMP",
        b"adobe",
    ] {
        assert!(contains(&before, secret), "fixture should hold {secret:?}");
        assert!(
            !contains(&after, secret),
            "{:?} survived",
            String::from_utf8_lossy(secret)
        );
    }
    let header = &after[..after.len() - entropy_coded(&after).len()];
    assert!(!contains(header, b"GPS"));
    // The only Exif left is the minimal block: "Exif\0\0" and one Orientation entry.
    let exif_at = header.windows(6).position(|w| w == b"Exif\0\0").unwrap();
    assert_eq!(
        &header[exif_at + 6..exif_at + 6 + 26],
        &exif::minimal_tiff(6)[..]
    );
    assert!(contains(&before, b"ICC_PROFILE\0"));
    assert!(
        !contains(header, b"ICC_PROFILE\0"),
        "colour profile dropped"
    );

    // No re-encode: the compressed picture is byte for byte the same, so are the pixels.
    assert!(entropy_coded(&before) == entropy_coded(&after));
    let pixels = |bytes: &[u8]| jpeg_decoder::Decoder::new(bytes).decode().unwrap();
    assert!(pixels(&before) == pixels(&after));

    let thumb = thumbnail(&dst, SIZE_DEFAULT).unwrap();
    assert_eq!((thumb.width, thumb.height), (156, 250), "upright portrait");
    let (image, _) = decode_webp(&thumb.bytes);
    assert_eq!(image.dimensions(), (156, 250));
}

#[test]
fn exiftool_finds_nothing_but_orientation_if_installed() {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("clean.jpg");
    ingest(&fixture("path-gps-rotated.jpg"), &dst, &Limits::default()).unwrap();
    let Ok(out) = std::process::Command::new("exiftool")
        .args(["-a", "-G1", "-s"])
        .arg(&dst)
        .output()
    else {
        return; // not installed: the byte checks above stand alone
    };
    let text = String::from_utf8_lossy(&out.stdout);
    for group in ["[GPS]", "[ExifIFD]", "[XMP", "[IFD1]", "[IPTC]"] {
        assert!(!text.contains(group), "{group} left:\n{text}");
    }
    assert!(text.contains("Rotate 90 CW"), "{text}");
}

#[test]
fn png_keeps_alpha_and_loses_text_time_and_exif() {
    let dir = tempfile::tempdir().unwrap();
    let image = make::gradient(400, 300, true);
    let tiff = make::tiff(6, "TestCam");
    let extra: &[(&[u8; 4], &[u8])] = &[
        (b"tEXt", b"Author\0Jane Doe"),
        (b"tIME", &[7, 232, 5, 1, 12, 0, 0]),
        (b"pHYs", &[0, 0, 11, 19, 0, 0, 11, 19, 1]),
        (b"eXIf", &tiff),
        (b"prVt", b"private"),
    ];
    let src = file(&dir, "a.png", &make::png(&image, extra));
    let dst = dir.path().join("clean.png");
    let probed = ingest(&src, &dst, &Limits::default()).unwrap();
    assert_eq!(
        (probed.width, probed.height, probed.orientation),
        (300, 400, 6)
    );
    let out = std::fs::read(&dst).unwrap();
    for gone in [
        &b"Jane Doe"[..],
        b"TestCam",
        b"tEXt",
        b"tIME",
        b"pHYs",
        b"prVt",
    ] {
        assert!(
            !contains(&out, gone),
            "{:?} survived",
            String::from_utf8_lossy(gone)
        );
    }
    assert!(contains(&out, &exif::minimal_tiff(6)));
    let decoded = image::load_from_memory(&out).unwrap().into_rgba8();
    assert!(decoded == image, "pixels unchanged");

    let thumb = thumbnail(&dst, SIZE_DEFAULT).unwrap();
    assert_eq!((thumb.width, thumb.height), (188, 250), "turned upright");
    let (pixels, alpha) = decode_webp(&thumb.bytes);
    assert!(alpha, "transparency kept");
    assert!(pixels.pixels().any(|p| p[3] < 64) && pixels.pixels().any(|p| p[3] > 192));
}

#[test]
fn webp_loses_exif_and_xmp_and_keeps_its_flags_truthful() {
    let dir = tempfile::tempdir().unwrap();
    let bytes =
        make::webp_with_metadata(&make::gradient(200, 100, false), &make::tiff(8, "TestCam"));
    let src = file(&dir, "m.webp", &bytes);
    let dst = dir.path().join("clean.webp");
    let probed = ingest(&src, &dst, &Limits::default()).unwrap();
    assert_eq!(
        (probed.width, probed.height, probed.orientation),
        (100, 200, 8)
    );
    let out = std::fs::read(&dst).unwrap();
    assert!(
        !contains(&out, b"TestCam") && !contains(&out, b"Jane Doe") && !contains(&out, b"XMP ")
    );
    assert_eq!(
        out[20] & 0x0C,
        0x08,
        "EXIF flag kept for the orientation, XMP flag cleared"
    );
    assert_eq!(
        u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize,
        out.len() - 8
    );
    assert!(image::load_from_memory(&out).is_ok());
    let thumb = thumbnail(&dst, SIZE_DEFAULT).unwrap();
    assert_eq!((thumb.width, thumb.height), (100, 200));
}
