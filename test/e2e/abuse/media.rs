//! Decompression bombs, lying headers and hidden payloads in images and videos.
//!
//! Each bomb is built here and posted as a client would. What must hold: the refusal and its
//! code (or acceptance with the true size), other clients still answered meanwhile, nothing
//! left in `tmp/`, and the server's peak memory (`VmHWM`) under [`PEAK_MIB`].

use std::io::Write as _;
use std::sync::OnceLock;

use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::harness::*;
use crate::uploads::{assert_tmp_empty, file_part, replies, threads};

/// The bound on the server's peak resident memory under any of these attacks.
const PEAK_MIB: u64 = 512;

/// The server's peak resident memory so far, from `/proc/<pid>/status`.
fn peak_mib(s: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid())).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/<pid>/status");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib / 1024
}

fn png_chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(body);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out
}

/// A 10000x10000 16-bit RGBA PNG of transparent black: 800 MB of pixels in about 1 MB, a valid
/// file within the default board limits. Built once; it takes a second.
fn png16_bomb() -> Vec<u8> {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let side = 10_000u32;
        let mut ihdr = side.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&side.to_be_bytes());
        ihdr.extend_from_slice(&[16, 6, 0, 0, 0]);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let row = vec![0u8; 1 + side as usize * 8];
        for _ in 0..side {
            z.write_all(&row).unwrap();
        }
        let idat = z.finish().unwrap();
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(png_chunk(b"IHDR", &ihdr));
        for piece in idat.chunks(1 << 20) {
            out.extend(png_chunk(b"IDAT", piece));
        }
        out.extend(png_chunk(b"IEND", &[]));
        out
    })
    .clone()
}

/// A lossless WebP declaring 10000x10000 in 40 bytes: decoding it whole would take 400 MB for
/// the canvas alone.
fn webp_bomb() -> Vec<u8> {
    let bits: u32 = 9_999 | (9_999 << 14);
    let mut vp8l = vec![0x2F];
    vp8l.extend_from_slice(&bits.to_le_bytes());
    vp8l.extend_from_slice(&[0; 11]);
    let mut out = b"RIFF\0\0\0\0WEBPVP8L".to_vec();
    out.extend_from_slice(&(vp8l.len() as u32).to_le_bytes());
    out.extend(vp8l);
    let size = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    out
}

/// A progressive JPEG declaring 10000x10000 with three full-resolution components: its
/// coefficients alone would take 600 MB.
fn jpeg_bomb() -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xC2, 0, 17, 8, 0x27, 0x10, 0x27, 0x10, 3];
    out.extend_from_slice(&[1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]);
    out.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0, 0, 0x12, 0x34, 0xFF, 0xD9]);
    out
}

/// A GIF with a 1x1 logical screen and a 10000x10000 frame.
fn gif_bomb() -> Vec<u8> {
    let mut out = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
    out.extend_from_slice(&[0, 0, 0, 255, 255, 255]); // a two-colour global table
    out.extend_from_slice(&[0x2C, 0, 0, 0, 0, 0x10, 0x27, 0x10, 0x27, 0]);
    out.extend_from_slice(&[2, 2, 0x4C, 0x01, 0, 0x3B]);
    out
}

async fn get_healthz(s: &Server) -> u16 {
    s.get("/healthz").await.status.as_u16()
}

#[tokio::test]
async fn bombs_over_the_budget_or_lying_about_their_size_are_refused_before_decoding() {
    let s = Server::start().await;
    let cases: [(Vec<u8>, &str, &str, &str); 3] = [
        (webp_bomb(), "bomb.webp", "image_too_large", "10000x10000"),
        (jpeg_bomb(), "bomb.jpg", "image_too_large", "10000x10000"),
        (gif_bomb(), "bomb.gif", "image_corrupt", "outside"),
    ];
    for (bytes, name, code, says) in cases {
        let form = Form::new()
            .text("body", "bomb")
            .part("file", file_part(bytes, name));
        let r = s.post_form(&threads("b"), form).await;
        r.assert_error(400, code);
        let message = r.json["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{name}: {message}");
        assert_eq!(r.field(), "file");
    }
    assert_tmp_empty(&s);
    assert!(s.stored_files().is_empty());
    assert!(peak_mib(&s) < 128, "peak {} MiB", peak_mib(&s));
}

#[tokio::test]
async fn a_reply_to_a_missing_thread_is_refused_before_any_file_is_decoded() {
    let s = Server::start().await;
    let bomb = png16_bomb();
    let mut form = Form::new().text("body", "four bombs");
    for i in 0..4 {
        form = form.part("file", file_part(bomb.clone(), &format!("{i}.png")));
    }
    let r = s.post_form(&replies("b", 999), form).await;
    r.assert_error(404, "thread_not_found");
    assert_tmp_empty(&s);
    // Draining 3 MB of upload costs nothing like decoding 3.2 GB of pixels.
    assert!(peak_mib(&s) < 128, "peak {} MiB", peak_mib(&s));

    let thread = s.thread("b", "op").await;
    let form = Form::new()
        .text("body", "bomb")
        .part("file", file_part(png16_bomb(), "a.png"));
    let r = s.post_form(&replies("b", thread + 1), form).await;
    r.assert_error(404, "thread_not_found");
}

#[tokio::test]
async fn huge_valid_pngs_are_taken_at_their_true_size_within_the_memory_bound() {
    let bomb = png16_bomb();
    let s = Server::start().await;
    let thread = s.thread("b", "op").await;
    let path = replies("b", thread);
    let post = |files: usize| {
        let mut form = Form::new().text("body", "big");
        for i in 0..files {
            form = form.part("file", file_part(bomb.clone(), &format!("{i}.png")));
        }
        s.post_form(&path, form)
    };
    // Two posts at once (four files and one), and a reader meanwhile.
    let (four, one, health) = tokio::join!(post(4), post(1), async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        get_healthz(&s).await
    });
    assert_eq!(health, 200);
    for r in [&four, &one] {
        if r.status == 503 {
            r.assert_error(503, "busy");
            assert!(r.header("retry-after").parse::<u64>().is_ok());
            continue;
        }
        assert_eq!(r.status, 201, "{}", r.json);
        let no = r.json["no"].as_u64().unwrap();
        let p = s.get(&format!("/api/boards/b/posts/{no}")).await;
        for file in p.json["post"]["files"].as_array().unwrap() {
            assert_eq!(
                (file["width"].as_u64(), file["height"].as_u64()),
                (Some(10_000), Some(10_000))
            );
            assert_eq!(file["thumb_width"], 250);
        }
    }
    assert_tmp_empty(&s);
    let peak = peak_mib(&s);
    assert!(peak < PEAK_MIB, "peak {peak} MiB");
}

#[tokio::test]
async fn a_post_cannot_hold_more_parts_than_its_fields_and_files() {
    let s = Server::start().await;
    let mut body = Vec::new();
    for _ in 0..1000 {
        body.extend_from_slice(
            b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\n\r\n",
        );
    }
    body.extend_from_slice(b"--x--\r\n");
    let r = s
        .post_raw(&threads("b"), Some("multipart/form-data; boundary=x"), body)
        .await;
    r.assert_error(400, "invalid_multipart");
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("parts"));
    assert_tmp_empty(&s);

    // A browser form with every input left empty is still fine.
    let mut form = Form::new().text("body", "text only");
    for _ in 0..4 {
        form = form.part("file", Part::bytes(Vec::new()).file_name(""));
    }
    let r = s.post_form(&threads("b"), form).await;
    assert_eq!(r.status, 201, "{}", r.json);
}

fn ffmpeg() -> String {
    ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .expect("ffmpeg is not installed; test/run installs it (apt-get install ffmpeg)")
        .to_owned()
}

/// A short test-pattern video made by ffmpeg.
fn video(dir: &std::path::Path, name: &str, size: &str, codec: &[&str]) -> Vec<u8> {
    let out = dir.join(name);
    let status = std::process::Command::new(ffmpeg())
        .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size={size}:rate=10:duration=1"))
        .args(codec)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg could not make {name}");
    std::fs::read(out).unwrap()
}

#[tokio::test]
async fn broken_files_get_a_sentence_without_paths_or_tool_output() {
    // The videos are made before the server starts, as every slow fixture is (see
    // `a_valid_lossless_webp_over_the_media_budget_is_refused_and_one_within_is_taken`).
    let dir = tempfile::tempdir().unwrap();
    let webm = video(dir.path(), "a.webm", "64x48", &["-c:v", "libvpx-vp9"]);
    let mp4 = video(dir.path(), "a.mp4", "64x48", &["-c:v", "libx264"]);
    let wide = video(dir.path(), "w.mp4", "320x240", &["-c:v", "libx264"]);
    let s = Server::with_config(&format!(
        "ffmpeg_path = \"{}\"\n[[boards]]\nslug = \"b\"\ntitle = \"B\"\nmax_image_width = 200\n",
        ffmpeg()
    ))
    .await;
    // An 8x8 PNG whose image data inflates to too few rows, and one whose data is no zlib.
    let png = |idat: &[u8]| {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(png_chunk(b"IHDR", &[0, 0, 0, 8, 0, 0, 0, 8, 8, 2, 0, 0, 0]));
        out.extend(png_chunk(b"IDAT", idat));
        out.extend(png_chunk(b"IEND", &[]));
        out
    };
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&[0; 10]).unwrap();
    let short_rows = png(&z.finish().unwrap());
    let not_zlib = png(&[0x55; 40]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (webm[..webm.len() / 2].to_vec(), "cut.webm"),
        ([&webm[..64], &[0x55; 2000][..]].concat(), "garbage.webm"),
        (mp4[..mp4.len() / 2].to_vec(), "cut.mp4"),
        ([&mp4[..32], &[0xAA; 2000][..]].concat(), "garbage.mp4"),
        (b"\x1A\x45\xDF\xA3".to_vec(), "magic.webm"),
        (wide, "wide.mp4"),
        (short_rows, "rows.png"),
        (not_zlib, "zlib.png"),
        (b"\x89PNG\r\n\x1a\n".to_vec(), "short.png"),
        (b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec(), "short.jpg"),
        (
            [&b"\xFF\xD8\xFF\xDB\x00\x43\x00"[..], &[1; 64], b"\xFF\xC0\x00\x0B\x08\x00\x08\x00\x08\x01\x01\x11\x00\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00\xFF\xFF\xFF\xD9"].concat(),
            "tables.jpg",
        ),
        (b"GIF89a\x08\x00\x08\x00\x00\x00\x00\x2C\0\0\0\0\x08\0\x08\0\0\x02\x03\xFF\xFF\xFF\x00\x3B".to_vec(), "lzw.gif"),
        (b"RIFF\x0e\0\0\0WEBPVP8 \x02\0\0\0\x00\x00".to_vec(), "vp8.webp"),
        (
            b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2F\x07\xC0\x01\x00\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF".to_vec(),
            "vp8l.webp",
        ),
    ];
    for (bytes, name) in cases {
        let form = Form::new().part("file", file_part(bytes, name));
        let r = s.post_form(&threads("b"), form).await;
        assert_eq!(r.status.as_u16(), 400, "{name}: {}", r.json);
        let code = r.code();
        assert!(
            ["image_corrupt", "image_truncated", "image_too_large"].contains(&code),
            "{name}: {}",
            r.json
        );
        let message = r.json["error"]["message"].as_str().unwrap().to_owned();
        let lower = message.to_lowercase();
        for leak in [
            "/",
            "tmp",
            "ffmpeg",
            "invalid data",
            "stream",
            "@",
            "libwebp",
            "error",
        ] {
            assert!(!lower.contains(leak), "{name}: `{leak}` in {message:?}");
        }
        if name == "wide.mp4" {
            assert!(message.contains("320x240"), "{message}");
        }
    }
    assert_tmp_empty(&s);
    assert!(s.stored_files().is_empty(), "{:?}", s.stored_files());
    // The details went to the log instead.
    assert!(
        s.log_count("upload_undecodable", 1).await >= 1,
        "no notice logged"
    );
}

#[tokio::test]
async fn a_valid_video_still_goes_through_its_leash() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = video(dir.path(), "a.mp4", "320x240", &["-c:v", "libx264"]);
    let s = Server::with_config(&format!(
        "ffmpeg_path = \"{}\"\n[[boards]]\nslug = \"b\"\ntitle = \"B\"\n",
        ffmpeg()
    ))
    .await;
    let form = Form::new().part(
        "file",
        Part::bytes(mp4)
            .file_name("a.mp4")
            .mime_str("video/mp4")
            .unwrap(),
    );
    let r = s.post_form(&threads("b"), form).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let no = r.json["no"].as_u64().unwrap();
    let p = s.get(&format!("/api/boards/b/posts/{no}")).await;
    let file = &p.json["post"]["files"][0];
    assert_eq!(file["width"], json!(320));
    assert_eq!(file["height"], json!(240));
    assert_eq!(file["thumb_width"], json!(250));
    assert_tmp_empty(&s);
}

/// A valid lossless WebP of `side`x`side` (one colour, so it is small).
fn lossless_webp(side: u32) -> Vec<u8> {
    let pixels = vec![90u8; side as usize * side as usize * 3];
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .encode(&pixels, side, side, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// No decoder at hand decodes a lossless WebP in strips (libwebp and image-webp both hold the
/// whole ARGB canvas), so a valid one whose canvas does not fit the media budget is refused
/// from its header, with a sentence saying why; one that fits is taken at its true size.
#[tokio::test]
async fn a_valid_lossless_webp_over_the_media_budget_is_refused_and_one_within_is_taken() {
    // 64 MiB: a lossless WebP costs 8 bytes a pixel and some slack, so 2000x2000 fits and
    // 3000x3000 does not.
    // Encoded before the server starts: on a loaded machine encoding takes seconds, and a
    // keep-alive connection left idle past the server's header timeout meanwhile may be closed
    // just as the next request goes out on it.
    let (over, within) = (lossless_webp(3000), lossless_webp(2000));
    let s = Server::with_config("media_memory_bytes = 67108864\n").await;
    let thread = s.thread("b", "op").await;
    let path = replies("b", thread);
    let post = |file: &Vec<u8>| {
        let form = Form::new()
            .text("body", "lossless")
            .part("file", file_part(file.clone(), "big.webp"));
        s.post_form(&path, form)
    };

    let r = post(&over).await;
    r.assert_error(400, "image_too_large");
    assert_eq!(
        r.json["error"]["message"],
        "The image is 3000x3000 pixels; decoding it would take more memory than this server \
         allows for one image."
    );
    assert_eq!(r.field(), "file");

    let r = post(&within).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let no = r.json["no"].as_u64().unwrap();
    let p = s.get(&format!("/api/boards/b/posts/{no}")).await;
    let file = &p.json["post"]["files"][0];
    assert_eq!(
        (file["width"].as_u64(), file["height"].as_u64()),
        (Some(2000), Some(2000))
    );
    assert_eq!(file["thumb_width"], 250);
    assert_tmp_empty(&s);
}
