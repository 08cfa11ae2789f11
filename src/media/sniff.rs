//! The type of an upload from its first bytes; names and declared types are never trusted.

use super::{Format, MediaError};

/// Decides the type from the first bytes of a file (64 are plenty; fewer is fine).
///
/// Accepted types return their [`Format`]. Video containers are [`MediaError::Video`] so the
/// caller can say the server does not take video; other recognised types (SVG, HTML, PDF, and
/// image types the server cannot display everywhere) are [`MediaError::Unsupported`] naming
/// them; anything else is [`MediaError::NotAnImage`].
pub fn sniff(head: &[u8]) -> Result<Format, MediaError> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);

    // The third byte of a JPEG is the 0xFF of its first marker; requiring it rules out text
    // that happens to start with 0xFF 0xD8.
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if at(0, b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return Ok(Format::Gif);
    }
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return Ok(Format::Webp);
    }

    // WebM and Matroska share the EBML magic.
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) || (at(0, b"RIFF") && at(8, b"AVI ")) {
        return Err(MediaError::Video);
    }
    // ISO base media files (MP4, MOV, 3GP) and the still formats built on them (AVIF, HEIC)
    // all carry `ftyp` at offset 4; the major brand tells them apart.
    if at(4, b"ftyp") {
        let brand = head.get(8..12).unwrap_or_default();
        return match brand {
            b"avif" | b"avis" => Err(MediaError::Unsupported("AVIF")),
            b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                Err(MediaError::Unsupported("HEIC"))
            }
            _ => Err(MediaError::Video),
        };
    }

    if at(0, b"%PDF-") {
        return Err(MediaError::Unsupported("PDF"));
    }
    if at(0, b"II*\0") || at(0, b"MM\0*") {
        return Err(MediaError::Unsupported("TIFF"));
    }
    if at(0, b"BM") && head.len() >= 14 {
        return Err(MediaError::Unsupported("BMP"));
    }
    if at(0, b"8BPS") {
        return Err(MediaError::Unsupported("Photoshop"));
    }
    if at(0, &[0xFF, 0x0A]) || at(4, b"JXL ") {
        return Err(MediaError::Unsupported("JPEG XL"));
    }
    if let Some(kind) = markup(head) {
        return Err(MediaError::Unsupported(kind));
    }
    Err(MediaError::NotAnImage)
}

/// Recognises SVG, XML and HTML by their opening tag, after an optional byte-order mark and
/// white space, the way browsers sniff them (so these are exactly the files that would run
/// script if served under the wrong type).
fn markup(head: &[u8]) -> Option<&'static str> {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &text[start..];
    let starts =
        |tag: &[u8]| text.len() >= tag.len() && text[..tag.len()].eq_ignore_ascii_case(tag);
    if starts(b"<svg") {
        Some("SVG")
    } else if starts(b"<?xml") {
        // An SVG usually opens with the XML declaration; either way XML is refused.
        Some("SVG or XML")
    } else if [
        &b"<!doctype html"[..],
        b"<html",
        b"<head",
        b"<body",
        b"<script",
        b"<iframe",
        b"<!--",
    ]
    .iter()
    .any(|tag| starts(tag))
    {
        Some("HTML")
    } else {
        None
    }
}
