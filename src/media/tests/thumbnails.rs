//! Thumbnails a poster would judge: upright, sharp-edged boxes, first frames, alpha kept.

use super::*;

#[test]
fn every_fixture_thumbnails_within_the_box_keeping_its_shape() {
    let dir = tempfile::tempdir().unwrap();
    for (name, w, h) in [
        ("autumn-2560x1600.jpg", 250, 156),
        ("cups-2560x1600.jpg", 250, 156),
        ("path-2560x1600.jpg", 250, 156),
        ("flow-5120x2880.jpg", 250, 141),
        ("truchet.webp", 250, 250),
    ] {
        let dst = dir.path().join(name);
        let probed = ingest(&fixture(name), &dst, &Limits::default()).unwrap();
        assert!(!probed.animated && probed.orientation == 1, "{name}");
        let thumb = thumbnail(&dst, SIZE_DEFAULT).unwrap();
        assert_eq!(
            (thumb.width, thumb.height, thumb.format),
            (w, h, Format::Webp),
            "{name}"
        );
        assert!(
            thumb.bytes.len() < 20_000,
            "{name}: {} bytes",
            thumb.bytes.len()
        );
        let (image, _) = decode_webp(&thumb.bytes);
        assert_eq!(image.dimensions(), (w, h));
    }
}

#[test]
fn progressive_jpeg_thumbnail_skips_ac_scans_without_changing_a_pixel() {
    for name in ["autumn-2560x1600.jpg", "flow-5120x2880.jpg"] {
        let data = std::fs::read(fixture(name)).unwrap();
        let cleaned = clean(&data, &Limits::CEILING).unwrap();
        let short = jpeg::without_ac_scans(&cleaned.bytes).unwrap();
        assert!(short.len() < cleaned.bytes.len() / 2, "{name}");
        let full = decode::jpeg(
            &cleaned,
            &Limits::CEILING,
            (1, 1),
            decode::Purpose::Validate,
        );
        let fast = decode::jpeg(
            &cleaned,
            &Limits::CEILING,
            (1, 1),
            decode::Purpose::Thumbnail,
        );
        let (full, fast) = (full.unwrap(), fast.unwrap());
        assert_eq!(
            (fast.width, fast.height),
            (cleaned.width.div_ceil(8), cleaned.height.div_ceil(8))
        );
        assert!(full.data == fast.data, "{name}");
    }
    let baseline = std::fs::read(fixture("path-2560x1600.jpg")).unwrap();
    assert!(jpeg::without_ac_scans(&baseline).is_none());
}

#[test]
fn small_images_are_not_enlarged() {
    let dir = tempfile::tempdir().unwrap();
    let src = file(
        &dir,
        "small.png",
        &make::png(&make::gradient(100, 80, false), &[]),
    );
    let thumb = thumbnail(&src, SIZE_DEFAULT).unwrap();
    assert_eq!((thumb.width, thumb.height), (100, 80));
    let (_, alpha) = decode_webp(&thumb.bytes);
    assert!(!alpha, "an opaque source makes an opaque thumbnail");
}

#[test]
fn animations_are_detected_and_thumbnailed_from_their_first_frame() {
    let dir = tempfile::tempdir().unwrap();
    let red = make::solid(120, 90, [255, 0, 0, 255]);
    let blue = make::solid(120, 90, [0, 0, 255, 255]);
    let gif = make::gif(
        &[red.clone(), blue.clone()],
        &[(0xFE, b"Jane Doe"), (0xFF, b"XMP DataXMP<x:xmpmeta/>")],
    );
    let apng = make::apng(&red, &blue);
    let webp = make::animated_webp(&[red.clone(), blue.clone()]);
    let files = [
        ("a.gif", gif, Format::Gif),
        ("a.png", apng, Format::Png),
        ("a.webp", webp, Format::Webp),
    ];
    for (name, bytes, format) in files {
        let src = file(&dir, name, &bytes);
        let dst = dir.path().join(format!("clean-{name}"));
        let probed = ingest(&src, &dst, &Limits::default()).unwrap();
        assert_eq!((probed.format, probed.animated), (format, true), "{name}");
        assert_eq!((probed.width, probed.height), (120, 90));
        let out = std::fs::read(&dst).unwrap();
        assert!(
            !contains(&out, b"Jane Doe") && !contains(&out, b"XMP Data"),
            "{name}"
        );
        if format == Format::Gif {
            assert!(contains(&out, b"NETSCAPE2.0"), "the loop count stays");
        }
        let thumb = thumbnail(&dst, 60).unwrap();
        assert_eq!((thumb.width, thumb.height), (60, 45));
        let (pixels, _) = decode_webp(&thumb.bytes);
        let Rgba([r, _, b, _]) = *pixels.get_pixel(30, 22);
        assert!(r > 200 && b < 60, "{name}: first frame is red, got {r},{b}");
    }
    let still = file(&dir, "still.gif", &make::gif(&[red], &[]));
    assert!(
        !ingest(&still, &dir.path().join("s"), &Limits::default())
            .unwrap()
            .animated
    );
}
