//! Files that must be refused, each with the reason a poster will be shown.

use super::*;

#[test]
fn sniff_decides_from_the_bytes() {
    let cases: &[(&[u8], Result<Format, &str>)] = &[
        (b"\xFF\xD8\xFF\xE0\0\x10JFIF", Ok(Format::Jpeg)),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Ok(Format::Png)),
        (b"GIF89a\x01\0\x01\0", Ok(Format::Gif)),
        (b"GIF87a\x01\0\x01\0", Ok(Format::Gif)),
        (b"RIFF\x24\0\0\0WEBPVP8 ", Ok(Format::Webp)),
        (
            b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81",
            Err("video_not_supported"),
        ),
        (b"\0\0\0\x20ftypisom\0\0\x02\0", Err("video_not_supported")),
        (b"\0\0\0\x18ftypqt  ", Err("video_not_supported")),
        (b"\0\0\0\x1cftypavif", Err("unsupported_image_type")),
        (b"\0\0\0\x18ftypheic", Err("unsupported_image_type")),
        (b"%PDF-1.7\n", Err("unsupported_image_type")),
        (
            b"<svg xmlns=\"http://www.w3.org/2000/svg\">",
            Err("unsupported_image_type"),
        ),
        (
            b"\xEF\xBB\xBF  <?xml version=\"1.0\"?><svg>",
            Err("unsupported_image_type"),
        ),
        (b"\n<!DOCTYPE html><html>", Err("unsupported_image_type")),
        (
            b"<HTML><script>alert(1)</script>",
            Err("unsupported_image_type"),
        ),
        (b"II*\0\x08\0\0\0", Err("unsupported_image_type")),
        (
            b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0",
            Err("unsupported_image_type"),
        ),
        (b"hello, this is text named photo.jpg", Err("not_an_image")),
        (b"\xFF\xD8", Err("not_an_image")),
        (b"", Err("not_an_image")),
    ];
    for (head, want) in cases {
        let got = sniff(head).map_err(|e| e.code());
        assert_eq!(&got, want, "{:?}", String::from_utf8_lossy(head));
    }
}

#[test]
fn error_codes_are_distinct_snake_case() {
    let errors = [
        MediaError::NotAnImage,
        MediaError::Video,
        MediaError::Unsupported("SVG"),
        MediaError::Truncated,
        MediaError::Corrupt("x".into()),
        MediaError::TooLarge {
            width: 1,
            height: 1,
        },
        MediaError::Io(std::io::Error::other("x")),
    ];
    let mut codes: Vec<_> = errors.iter().map(MediaError::code).collect();
    assert!(codes
        .iter()
        .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
    assert!(MediaError::Video
        .to_string()
        .contains("does not take video"));
}

#[test]
fn board_limits_refuse_large_images_and_bombs_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let small = Limits {
        max_width: 2000,
        max_height: 2000,
    };
    let dst = dir.path().join("out");
    let err = ingest(&fixture("cups-2560x1600.jpg"), &dst, &small).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::TooLarge {
                width: 2560,
                height: 1600
            }
        ),
        "{err:?}"
    );
    assert!(!dst.exists(), "nothing stored for a refused file");

    // Each declares 100000x100000 (or its format's maximum) in a few hundred bytes: refusing
    // them must not allocate, so this test stays fast and small.
    let started = std::time::Instant::now();
    let bombs = [
        ("bomb.png", make::png_bomb()),
        ("bomb.jpg", make::jpeg_bomb()),
        ("bomb.gif", make::gif_bomb()),
        ("bomb.webp", make::webp_bomb()),
    ];
    for (name, bytes) in bombs {
        let src = file(&dir, name, &bytes);
        let err = ingest(&src, &dst, &Limits::default()).unwrap_err();
        assert_eq!(err.code(), "image_too_large", "{name}: {err}");
        let err = thumbnail(&src, SIZE_DEFAULT).unwrap_err();
        assert_eq!(err.code(), "image_too_large", "{name}: {err}");
    }
    assert!(started.elapsed().as_secs() < 2);
}

#[test]
fn damaged_and_foreign_files_are_refused_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let photo = std::fs::read(fixture("path-2560x1600.jpg")).unwrap();
    let webp = std::fs::read(fixture("truchet.webp")).unwrap();
    let png = make::png(&make::gradient(64, 48, false), &[]);
    let gif = make::gif(&[make::solid(8, 8, [255, 0, 0, 255])], &[]);
    let mut bad_crc = png.clone();
    let idat = bad_crc.windows(4).position(|w| w == b"IDAT").unwrap();
    bad_crc[idat + 6] ^= 0xFF;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "half.jpg",
            photo[..photo.len() / 2].to_vec(),
            "image_truncated",
        ),
        (
            "no-eoi.jpg",
            photo[..photo.len() - 2].to_vec(),
            "image_truncated",
        ),
        (
            "half.webp",
            webp[..webp.len() / 2].to_vec(),
            "image_truncated",
        ),
        (
            "half.png",
            png[..png.len() - 20].to_vec(),
            "image_truncated",
        ),
        ("half.gif", gif[..gif.len() - 3].to_vec(), "image_truncated"),
        ("crc.png", bad_crc, "image_corrupt"),
        (
            "text.jpg",
            b"just some text, not a photo\n".to_vec(),
            "not_an_image",
        ),
        (
            "x.jpg",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>".to_vec(),
            "unsupported_image_type",
        ),
        (
            "x.png",
            b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj".to_vec(),
            "unsupported_image_type",
        ),
        (
            "x.gif",
            b"<!doctype html><html><body>hi</body></html>".to_vec(),
            "unsupported_image_type",
        ),
        (
            "x.webm",
            b"\x1A\x45\xDF\xA3\x01\0\0\0\0\0\0\x1F\x42\x86".to_vec(),
            "video_not_supported",
        ),
        (
            "x.mp4",
            b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec(),
            "video_not_supported",
        ),
    ];
    let dst = dir.path().join("out");
    for (name, bytes, code) in cases {
        let src = file(&dir, name, &bytes);
        let err = ingest(&src, &dst, &Limits::default()).unwrap_err();
        assert_eq!(err.code(), code, "{name}: {err}");
        assert!(!dst.exists(), "{name}: nothing stored");
    }
    let err = ingest(&dir.path().join("missing"), &dst, &Limits::default()).unwrap_err();
    assert!(err.is_internal() && err.code() == "io_error");
}
