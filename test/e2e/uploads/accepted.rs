//! Every accepted type posts, is stored once under its hash and is served with a WebP thumbnail.

use image::imageops::FilterType;
use image::AnimationDecoder;

use super::*;

/// Mean absolute difference per RGB channel (0 to 255) between `thumb` and `reference` scaled to
/// the thumbnail's size: small when the thumbnail shows the same picture.
pub fn difference(thumb: &DynamicImage, reference: &DynamicImage) -> f64 {
    let (w, h) = thumb.dimensions();
    let reference = reference.resize_exact(w, h, FilterType::Triangle).to_rgb8();
    let thumb = thumb.to_rgb8();
    let total: u64 = thumb
        .as_raw()
        .iter()
        .zip(reference.as_raw())
        .map(|(a, b)| u64::from(a.abs_diff(*b)))
        .sum();
    total as f64 / thumb.as_raw().len() as f64
}

#[tokio::test]
async fn jpeg_photos_post_and_serve_with_thumbnails() {
    let s = Server::start().await;
    let autumn = fixture("autumn-2560x1600.jpg");
    let cups = fixture("cups-2560x1600.jpg");
    let (t, op) = upload(
        &s,
        &threads("b"),
        form(
            Some("autumn"),
            vec![(autumn.clone(), "autumn-2560x1600.jpg")],
        ),
    )
    .await;
    assert_eq!(op["body"], "autumn");
    let file = only_file(&op);
    assert_eq!(file["name"], "autumn-2560x1600.jpg");
    assert_eq!(file.get("spoiler"), None, "not a spoiler: left out");
    assert_eq!(
        (&file["thumb_width"], &file["thumb_height"]),
        (&json!(250), &json!(156))
    );
    let served = check_file(&s, file, "image/jpeg", (2560, 1600), 250).await;
    let reference = image::load_from_memory(&autumn).unwrap();
    let d = difference(&served.thumb, &reference);
    assert!(d < 10.0, "the thumbnail does not look like the photo: {d}");

    let (_, reply) = upload(
        &s,
        &replies("b", t),
        form(None, vec![(cups.clone(), "cups-2560x1600.jpg")]),
    )
    .await;
    let file = only_file(&reply);
    assert_eq!(file["name"], "cups-2560x1600.jpg");
    let served = check_file(&s, file, "image/jpeg", (2560, 1600), 250).await;
    let cups_image = image::load_from_memory(&cups).unwrap();
    let d = difference(&served.thumb, &cups_image);
    assert!(d < 10.0, "the thumbnail does not look like the photo: {d}");
    assert!(
        difference(&served.thumb, &reference) > d + 10.0,
        "two different photos got look-alike thumbnails"
    );
    assert_eq!(s.stored_files().len(), 4, "{:?}", s.stored_files());
    assert_tmp_empty(&s);
}

#[tokio::test]
async fn webp_artwork_posts_and_serves() {
    let s = Server::start().await;
    let truchet = fixture("truchet.webp");
    let (_, op) = upload(
        &s,
        &threads("b"),
        form(Some("tiles"), vec![(truchet.clone(), "truchet.webp")]),
    )
    .await;
    let file = only_file(&op);
    assert_eq!(
        (&file["thumb_width"], &file["thumb_height"]),
        (&json!(250), &json!(250))
    );
    let served = check_file(&s, file, "image/webp", (4096, 4096), 250).await;
    let d = difference(&served.thumb, &image::load_from_memory(&truchet).unwrap());
    assert!(
        d < 10.0,
        "the thumbnail does not look like the artwork: {d}"
    );
}

#[tokio::test]
async fn transparent_png_keeps_its_pixels_and_its_alpha_in_the_thumbnail() {
    let s = Server::start().await;
    let (pixels, bytes) = png_half_transparent(600, 400);
    let (_, op) = upload(
        &s,
        &threads("b"),
        form(Some("alpha"), vec![(bytes, "alpha.png")]),
    )
    .await;
    let served = check_file(&s, only_file(&op), "image/png", (600, 400), 250).await;
    assert_eq!(
        image::load_from_memory(&served.original)
            .unwrap()
            .to_rgba8(),
        pixels,
        "the served PNG shows other pixels than were uploaded"
    );
    let thumb = served.thumb.to_rgba8();
    let (w, h) = thumb.dimensions();
    assert_eq!((w, h.abs_diff(167) <= 1), (250, true));
    let left = thumb.get_pixel(w / 8, h / 2);
    let right = thumb.get_pixel(w - w / 8, h / 2);
    assert!(
        left[3] < 16,
        "the transparent half is opaque in the thumbnail: {left:?}"
    );
    assert!(
        right[3] > 240,
        "the opaque half is transparent in the thumbnail: {right:?}"
    );
}

#[tokio::test]
async fn animated_gif_keeps_its_frames_and_the_thumbnail_is_the_first() {
    let s = Server::start().await;
    let frames = [[220, 20, 20], [20, 20, 220], [20, 220, 20]];
    let bytes = gif_animated(300, 200, &frames);
    let (_, op) = upload(
        &s,
        &threads("b"),
        form(Some("anim"), vec![(bytes, "anim.gif")]),
    )
    .await;
    let served = check_file(&s, only_file(&op), "image/gif", (300, 200), 250).await;
    let decoder = image::codecs::gif::GifDecoder::new(Cursor::new(&served.original)).unwrap();
    let decoded = decoder.into_frames().collect_frames().unwrap();
    assert_eq!(decoded.len(), 3, "the served GIF lost its animation");
    let second = decoded[1].buffer().get_pixel(150, 100);
    assert!(
        second[2] > 180 && second[0] < 70,
        "second frame: {second:?}"
    );
    let thumb = served.thumb.to_rgb8();
    let centre = thumb.get_pixel(thumb.width() / 2, thumb.height() / 2);
    assert!(
        centre[0] > 180 && centre[1] < 70 && centre[2] < 70,
        "the thumbnail is not the first (red) frame: {centre:?}"
    );
}

#[tokio::test]
async fn animated_png_keeps_its_frames() {
    let s = Server::start().await;
    let bytes = apng(64, 48, &[[30, 200, 30], [200, 30, 200]]);
    // The test's own APNG is sound: the image crate sees two frames.
    let check = image::codecs::png::PngDecoder::new(Cursor::new(&bytes)).unwrap();
    assert!(check.is_apng().unwrap());
    let (_, op) = upload(
        &s,
        &threads("b"),
        form(Some("apng"), vec![(bytes, "anim.png")]),
    )
    .await;
    let served = check_file(&s, only_file(&op), "image/png", (64, 48), 250).await;
    let decoder = image::codecs::png::PngDecoder::new(Cursor::new(&served.original)).unwrap();
    assert!(
        decoder.is_apng().unwrap(),
        "the served PNG lost its animation"
    );
    let frames = decoder
        .apng()
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), 2);
    let thumb = served.thumb.to_rgb8();
    assert_eq!(
        thumb.dimensions(),
        (64, 48),
        "a small image is not enlarged"
    );
    let centre = thumb.get_pixel(32, 24);
    assert!(
        centre[1] > 160 && centre[0] < 80,
        "the thumbnail is not the first (green) frame: {centre:?}"
    );
}

#[tokio::test]
async fn small_images_are_not_enlarged() {
    let s = Server::start().await;
    let t = s.thread("b", "small things").await;
    let cases = [
        (
            png(40, 30, [90, 160, 220]),
            "small.png",
            "image/png",
            (40, 30),
        ),
        (
            webp(20, 10, [200, 200, 90]),
            "tiny.webp",
            "image/webp",
            (20, 10),
        ),
        (
            jpeg(250, 100, [120, 220, 120]),
            "exact.jpg",
            "image/jpeg",
            (250, 100),
        ),
        (png(1, 1, [255, 255, 255]), "dot.png", "image/png", (1, 1)),
    ];
    for (bytes, name, mime, size) in cases {
        let (_, reply) = upload(&s, &replies("b", t), form(None, vec![(bytes, name)])).await;
        let file = only_file(&reply);
        assert_eq!(
            (&file["thumb_width"], &file["thumb_height"]),
            (&json!(size.0), &json!(size.1)),
            "{name}"
        );
        let served = check_file(&s, file, mime, size, 250).await;
        assert_eq!(served.thumb.dimensions(), size, "{name}");
    }
}

#[tokio::test]
async fn thumbnail_size_follows_the_config() {
    let s =
        Server::with_config("thumbnail_size = 100\n[[boards]]\nslug = \"b\"\ntitle = \"Random\"\n")
            .await;
    let (_, op) = upload(
        &s,
        &threads("b"),
        form(
            Some("wide"),
            vec![(png(400, 200, [40, 90, 200]), "wide.png")],
        ),
    )
    .await;
    let file = only_file(&op);
    assert_eq!(
        (&file["thumb_width"], &file["thumb_height"]),
        (&json!(100), &json!(50))
    );
    check_file(&s, file, "image/png", (400, 200), 100).await;
    let (_, op) = upload(
        &s,
        &threads("b"),
        form(Some("tall"), vec![(png(60, 90, [40, 200, 90]), "tall.png")]),
    )
    .await;
    check_file(&s, only_file(&op), "image/png", (60, 90), 100).await;
    assert_eq!(only_file(&op)["thumb_height"], 90, "never enlarged");
}
