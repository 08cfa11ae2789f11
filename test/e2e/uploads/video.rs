//! Video through ffmpeg: WebM and MP4 are taken only when `ffmpeg_path` is set; they are
//! remuxed without their metadata, thumbnailed from their first frame, and refused when broken.
//! Needs ffmpeg installed (test/run installs it); the test videos are made by it, here.

use std::path::Path;
use std::process::Command;

use super::*;

/// Where ffmpeg is; a missing ffmpeg fails the test rather than skipping it.
fn ffmpeg() -> String {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("ffmpeg"))
        .find(|path| path.is_file());
    let path =
        found.expect("ffmpeg is not installed; test/run installs it (apt-get install ffmpeg)");
    path.to_string_lossy().into_owned()
}

/// A one-second 320x240 test pattern with a tone and identifying metadata, made by ffmpeg.
fn make_video(dir: &Path, name: &str, codec_args: &[&str]) -> Vec<u8> {
    let out = dir.join(name);
    let status = Command::new(ffmpeg())
        .args(["-v", "error", "-nostdin", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=10:duration=1",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=1"])
        .args([
            "-metadata",
            "title=SECRET-TITLE",
            "-metadata",
            "location=+48.8584+002.2945/",
        ])
        .args(["-metadata", "artist=Jane Doe"])
        .args(codec_args)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg could not make {name}");
    std::fs::read(out).unwrap()
}

fn with_ffmpeg(extra: &str) -> String {
    format!("ffmpeg_path = \"{}\"\n{extra}", ffmpeg())
}

fn position(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn webm_and_mp4_are_taken_without_their_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let webm = make_video(
        dir.path(),
        "a.webm",
        &["-c:v", "libvpx", "-b:v", "200k", "-c:a", "libopus"],
    );
    let mp4 = make_video(
        dir.path(),
        "a.mp4",
        &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    );
    for original in [&webm, &mp4] {
        assert!(
            contains(original, b"SECRET-TITLE"),
            "the test video carries its metadata"
        );
    }

    let s = Server::with_config(&with_ffmpeg("")).await;
    let board = s.get("/api/boards/b").await.json["board"].clone();
    assert_eq!(
        board["allowed_types"],
        json!(["jpeg", "png", "gif", "webp", "webm", "mp4"])
    );
    for (bytes, name, mime, magic) in [
        (
            &webm,
            "clip.webm",
            "video/webm",
            &[0x1A, 0x45, 0xDF, 0xA3][..],
        ),
        (&mp4, "clip.mp4", "video/mp4", &b"ftyp"[..]),
    ] {
        let (_, post) = upload(
            &s,
            &threads("b"),
            form(Some(name), vec![(bytes.clone(), name)]),
        )
        .await;
        let file = only_file(&post);
        assert_eq!(file["mime"], mime, "{file}");
        assert_eq!(
            (file["width"].as_u64(), file["height"].as_u64()),
            (Some(320), Some(240))
        );
        assert_eq!(file["name"], name);
        let (w, h) = expected_thumb(320, 240, 250);
        assert_eq!(
            (file["thumb_width"].as_u64(), file["thumb_height"].as_u64()),
            (Some(u64::from(w)), Some(u64::from(h))),
            "{file}"
        );

        let url = file["url"].as_str().unwrap();
        assert!(
            url.ends_with(&format!(".{}", name.rsplit('.').next().unwrap())),
            "{url}"
        );
        let (status, headers, served) = s.get_bytes(url, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-type"), mime);
        assert_eq!(file["size"].as_u64(), Some(served.len() as u64));
        assert_eq!(file["sha256"], sha256_hex(&served));
        assert!(
            position(&served, magic).is_some_and(|at| at <= 4),
            "{name} keeps its container"
        );
        for secret in [&b"SECRET-TITLE"[..], b"Jane Doe", b"48.8584"] {
            assert!(
                !contains(&served, secret),
                "{name} still carries {:?}",
                String::from_utf8_lossy(secret)
            );
        }
        if mime == "video/mp4" {
            let moov = position(&served, b"moov").expect("an mp4 has a moov box");
            let mdat = position(&served, b"mdat").expect("an mp4 has an mdat box");
            assert!(
                moov < mdat,
                "the index comes first, so playback starts before the download ends"
            );
        }

        let (status, headers, thumb) = s.get_bytes(file["thumb_url"].as_str().unwrap(), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-type"), "image/webp");
        let thumb = image::load_from_memory(&thumb).expect("the thumbnail decodes");
        assert_eq!((thumb.width(), thumb.height()), (w, h));

        // A range, as a player seeking asks for.
        let (status, headers, part) = s.get_bytes(url, &[("range", "bytes=100-199")]).await;
        assert_eq!(status, 206);
        assert_eq!(part, served[100..200]);
        assert_eq!(
            header(&headers, "content-range"),
            format!("bytes 100-199/{}", served.len())
        );
    }
    assert_tmp_empty(&s);
}

#[tokio::test]
async fn broken_or_unwanted_video_is_refused_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let webm = make_video(
        dir.path(),
        "b.webm",
        &["-c:v", "libvpx", "-b:v", "200k", "-c:a", "libopus"],
    );
    let s = Server::with_config(&with_ffmpeg(
        "[[boards]]\nslug = \"b\"\ntitle = \"B\"\n\
         [[boards]]\nslug = \"still\"\ntitle = \"Still\"\nallowed_types = [\"jpeg\", \"mp4\"]\n\
         [[boards]]\nslug = \"tiny\"\ntitle = \"Tiny\"\nmax_image_width = 100\n",
    ))
    .await;
    let t = s.thread("b", "first").await;

    let mut junk = vec![0x1A, 0x45, 0xDF, 0xA3];
    junk.extend((0..4096u32).map(|i| (i * 7 + 3) as u8));
    let mut avi = b"RIFF\x00\x10\x00\x00AVI LIST".to_vec();
    avi.extend(std::iter::repeat_n(0u8, 512));
    let cases: Vec<(String, Vec<u8>, &str, u16, &str)> = vec![
        (
            replies("b", t),
            webm[..webm.len() / 3].to_vec(),
            "cut.webm",
            400,
            "image_truncated",
        ),
        (replies("b", t), junk, "junk.webm", 400, "image_corrupt"),
        (
            replies("b", t),
            avi,
            "old.avi",
            415,
            "unsupported_image_type",
        ),
        (
            threads("still"),
            webm.clone(),
            "clip.webm",
            415,
            "file_type_not_allowed",
        ),
        (
            threads("tiny"),
            webm.clone(),
            "clip.webm",
            400,
            "image_too_large",
        ),
    ];
    let mut failures = Vec::new();
    for (path, bytes, name, status, code) in cases {
        let r = s
            .post_form(&path, form(Some("x"), vec![(bytes, name)]))
            .await;
        failures.extend(
            mismatch(&r, status, code, Some("file")).map(|m| format!("{name} to {path}: {m}")),
        );
        assert_files_settle(&s, &[], name);
    }
    assert_no_mismatches(&failures);
    assert_eq!(thread(&s, "b", t).await["replies"], 0);
}

#[tokio::test]
async fn without_ffmpeg_boards_do_not_list_video() {
    let s = Server::start().await;
    let board = s.get("/api/boards/b").await.json["board"].clone();
    assert_eq!(
        board["allowed_types"],
        json!(["jpeg", "png", "gif", "webp"])
    );
}

#[test]
fn an_ffmpeg_path_that_does_not_run_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "ffmpeg_path = \"/nonexistent/ffmpeg\"\n").unwrap();
    let (code, stderr) = crate::harness::run_wani(
        &[
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("ffmpeg_path"), "{stderr}");
}
