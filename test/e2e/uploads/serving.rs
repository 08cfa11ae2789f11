//! Serving stored files: safe and immutable headers, revalidation, ranges, HEAD, and every
//! path that must not reach a file.

use super::*;

/// Posts one PNG and one JPEG; returns their file JSON.
async fn two_files(s: &Server) -> (Value, Value) {
    let (_, op) = upload(
        s,
        &threads("b"),
        form(
            Some("two"),
            vec![
                (png(300, 200, [30, 140, 220]), "a.png"),
                (jpeg(300, 200, [220, 140, 30]), "b.jpg"),
            ],
        ),
    )
    .await;
    let files = op["files"].as_array().unwrap();
    (files[0].clone(), files[1].clone())
}

#[tokio::test]
async fn files_are_served_with_safe_immutable_headers() {
    let s = Server::start().await;
    let (png_file, jpeg_file) = two_files(&s).await;
    for (file, mime) in [(&png_file, "image/png"), (&jpeg_file, "image/jpeg")] {
        let sha = file["sha256"].as_str().unwrap();
        for (url, mime, etag) in [
            (file["url"].as_str().unwrap(), mime, format!("\"{sha}\"")),
            (
                file["thumb_url"].as_str().unwrap(),
                "image/webp",
                format!("\"{sha}-thumb\""),
            ),
        ] {
            let (status, h, body) = s.get_bytes(url, &[]).await;
            assert_eq!(status, 200, "{url}");
            assert_eq!(header(&h, "content-type"), mime, "{url}");
            assert_eq!(header(&h, "etag"), etag, "{url}");
            assert_eq!(
                header(&h, "cache-control"),
                "public, max-age=31536000, immutable",
                "{url}"
            );
            assert_eq!(header(&h, "x-content-type-options"), "nosniff", "{url}");
            let csp = header(&h, "content-security-policy");
            assert!(
                csp.contains("default-src 'none'") && csp.contains("sandbox"),
                "{url}: {csp:?}"
            );
            assert_eq!(header(&h, "accept-ranges"), "bytes", "{url}");
            assert_eq!(
                header(&h, "content-length"),
                body.len().to_string(),
                "{url}"
            );

            // Revalidation: the ETag, alone or in a list.
            for inm in [etag.clone(), format!("\"nope\", {etag}")] {
                let (status, h, body) = s.get_bytes(url, &[("if-none-match", &inm)]).await;
                assert_eq!(status, 304, "{url} with If-None-Match {inm}");
                assert!(body.is_empty());
                assert_eq!(header(&h, "etag"), etag);
            }
            let (status, _, again) = s.get_bytes(url, &[("if-none-match", "\"other\"")]).await;
            assert_eq!(status, 200, "{url} with a stale ETag");
            assert_eq!(again, body);

            // HEAD: the same headers, no body.
            let (status, h, empty) = s.request_bytes("HEAD", url, &[]).await;
            assert_eq!(status, 200, "HEAD {url}");
            assert!(empty.is_empty());
            assert_eq!(header(&h, "content-type"), mime);
            assert_eq!(header(&h, "etag"), etag);
        }
    }
}

#[tokio::test]
async fn ranges_of_a_file() {
    let s = Server::start().await;
    let (png_file, _) = two_files(&s).await;
    let url = png_file["url"].as_str().unwrap();
    let (_, _, whole) = s.get_bytes(url, &[]).await;
    let size = whole.len();
    assert!(size > 200, "{size}");

    let (status, h, body) = s.get_bytes(url, &[("range", "bytes=0-99")]).await;
    assert_eq!(status, 206);
    assert_eq!(body, whole[..100]);
    assert_eq!(header(&h, "content-range"), format!("bytes 0-99/{size}"));
    assert_eq!(header(&h, "content-length"), "100");
    assert_eq!(header(&h, "content-type"), "image/png");

    let (status, h, body) = s.get_bytes(url, &[("range", "bytes=-10")]).await;
    assert_eq!(status, 206);
    assert_eq!(body, whole[size - 10..]);
    assert_eq!(
        header(&h, "content-range"),
        format!("bytes {}-{}/{size}", size - 10, size - 1)
    );

    let (status, h, body) = s.get_bytes(url, &[("range", "bytes=100-")]).await;
    assert_eq!(status, 206);
    assert_eq!(body, whole[100..]);
    assert_eq!(
        header(&h, "content-range"),
        format!("bytes 100-{}/{size}", size - 1)
    );

    // A range running past the end is cut at the end.
    let range = format!("bytes={}-{}", size - 5, size + 1000);
    let (status, _, body) = s.get_bytes(url, &[("range", &range)]).await;
    assert_eq!(status, 206);
    assert_eq!(body, whole[size - 5..]);

    let range = format!("bytes={size}-");
    let (status, h, _) = s.get_bytes(url, &[("range", &range)]).await;
    assert_eq!(status, 416, "{range}");
    assert_eq!(header(&h, "content-range"), format!("bytes */{size}"));

    // The thumbnail takes ranges too.
    let thumb = png_file["thumb_url"].as_str().unwrap();
    let (_, _, whole_thumb) = s.get_bytes(thumb, &[]).await;
    let (status, _, body) = s.get_bytes(thumb, &[("range", "bytes=0-11")]).await;
    assert_eq!(status, 206);
    assert_eq!(body, whole_thumb[..12]);
    assert_eq!(&body[8..12], b"WEBP");
}

/// A 404 for a file path: `file_not_found`, or `route_not_found` for paths that are not file
/// paths at all.
#[track_caller]
fn assert_not_found(status: u16, body: &[u8], what: &str) {
    assert_eq!(status, 404, "{what}: {}", String::from_utf8_lossy(body));
    let json: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{what}: 404 body is not JSON ({e})"));
    let code = json["error"]["code"].as_str().unwrap_or("");
    assert!(
        code == "file_not_found" || code == "route_not_found",
        "{what}: {json}"
    );
}

#[tokio::test]
async fn paths_that_name_no_stored_file_are_404() {
    let s = Server::start().await;
    let (png_file, _) = two_files(&s).await;
    let sha = png_file["sha256"].as_str().unwrap().to_owned();
    assert!(!sha.starts_with("0000"));
    let (ab, cd) = (&sha[..2], &sha[2..4]);
    let unknown = "ab12".to_owned() + &"0".repeat(60);
    let paths = [
        format!("/files/ab/12/{unknown}.png"),
        format!("/thumbs/ab/12/{unknown}.webp"),
        format!("/files/00/00/{sha}.png"),
        format!("/files/{cd}/{ab}/{sha}.png"),
        format!("/files/{ab}/{sha}.png"),
        format!("/files/{sha}.png"),
        format!("/thumbs/00/00/{sha}.webp"),
        format!("/files/{ab}/{cd}/{sha}.jpg"),
        format!("/files/{ab}/{cd}/{sha}.gif"),
        format!("/files/{ab}/{cd}/{sha}.exe"),
        format!("/files/{ab}/{cd}/{sha}"),
        format!("/files/{ab}/{cd}/{sha}.png.txt"),
        format!("/files/{ab}/{cd}/{sha}.PNG"),
        format!("/files/{ab}/{cd}/{}.png", sha.to_uppercase()),
        format!("/files/{ab}/{cd}/{}.png", &sha[..63]),
        format!("/files/{ab}/{cd}/{sha}0.png"),
        format!("/files/{ab}/{cd}/{sha}.png/x"),
        format!("/thumbs/{ab}/{cd}/{sha}.png"),
        format!("/thumbs/{ab}/{cd}/{sha}-thumb.webp"),
        format!("/files/{ab}/{cd}/..%2f..%2fwani.redb"),
        format!("/files/{ab}/{cd}/%2e%2e%2f%2e%2e%2fwani.redb"),
        "/files/%2e%2e/wani.redb".to_owned(),
        "/files/..%2fwani.redb".to_owned(),
        "/files/".to_owned(),
        "/files".to_owned(),
        "/thumbs/".to_owned(),
        "/files/ab/cd/".to_owned(),
    ];
    for path in &paths {
        let (status, _, body) = s.get_bytes(path, &[]).await;
        assert_not_found(status.as_u16(), &body, path);
    }
    // Dot segments, sent as they are (a client library would resolve them first).
    for path in [
        "/files/../wani.redb".to_owned(),
        "/files/../../etc/passwd".to_owned(),
        format!("/files/{ab}/{cd}/../../../wani.redb"),
        format!("/files/./{ab}/{cd}/{sha}.png"),
        format!("/files/{ab}//{cd}/{sha}.png"),
        "/thumbs/../tmp".to_owned(),
    ] {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let r = exchange(s.addr, request.as_bytes()).await;
        assert_not_found(r.status.unwrap_or(0), &r.body, &path);
    }
    // The real file is still there.
    let (status, _, _) = s.get_bytes(png_file["url"].as_str().unwrap(), &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn files_cannot_be_written_through_their_urls() {
    let s = Server::start().await;
    let (png_file, _) = two_files(&s).await;
    let url = png_file["url"].as_str().unwrap();
    let thumb = png_file["thumb_url"].as_str().unwrap();
    let (_, _, before) = s.get_bytes(url, &[]).await;
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        for path in [url, thumb] {
            let r = s
                .send(
                    s.client
                        .request(
                            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                            s.url(path),
                        )
                        .body("replacement"),
                )
                .await;
            r.assert_error(405, "method_not_allowed");
            assert!(
                r.header("allow").contains("GET"),
                "{method} {path}: {:?}",
                r.headers
            );
        }
    }
    let (status, _, after) = s.get_bytes(url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(after, before);
    assert_eq!(s.stored_files().len(), 4);
}
