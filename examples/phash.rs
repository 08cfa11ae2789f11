//! Measures the perceptual hash that file bans compare (`test/bench/phash.sh` runs it with
//! `--release`): the distance between every pair of distinct fixture photos, the distance of
//! generated variations of each (resized, recompressed, cropped, converted, touched up) from
//! the original, the cost of the hash on a thumbnail, and of checking an upload against many
//! bans. Prints a report; asserts nothing.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat};
use wani::media::{phash, thumbnail, SIZE_DEFAULT};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test/fixtures/images/");
/// The distinct photos (path-gps-rotated is path turned a quarter, reported apart).
const PHOTOS: &[&str] = &[
    "autumn-2560x1600.jpg",
    "cups-2560x1600.jpg",
    "path-2560x1600.jpg",
    "flow-5120x2880.jpg",
    "truchet.webp",
];

fn hash_file(path: &Path) -> u64 {
    thumbnail(path, SIZE_DEFAULT)
        .expect("a fixture thumbnails")
        .dhash
}

fn hash_bytes(dir: &Path, name: &str, bytes: &[u8]) -> u64 {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    hash_file(&path)
}

fn jpeg(img: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let rgb = img.to_rgb8();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .unwrap();
    out
}

fn encoded(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.to_rgb8().write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// The variations a re-poster might make, by name.
fn variations(img: &DynamicImage) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let (w, h) = (img.width(), img.height());
    let half = img.resize_exact(w / 2, h / 2, FilterType::Triangle);
    let small = img.resize_exact(w / 5, h / 5, FilterType::Triangle);
    let crop = |px: u32| img.crop_imm(px, px, w - 2 * px, h - 2 * px);
    let mut touched = img.to_rgb8();
    // A 40x40 red square in a corner region, and a scatter of 200 pixels set to white.
    for y in 100..140 {
        for x in 100..140 {
            touched.put_pixel(x, y, image::Rgb([255, 0, 0]));
        }
    }
    for i in 0..200u32 {
        let (x, y) = ((i * 7919) % w, (i * 104_729) % h);
        touched.put_pixel(x, y, image::Rgb([255, 255, 255]));
    }
    let touched = DynamicImage::ImageRgb8(touched);
    vec![
        ("jpeg q95", jpeg(img, 95), "jpg"),
        ("jpeg q75", jpeg(img, 75), "jpg"),
        ("jpeg q50", jpeg(img, 50), "jpg"),
        ("jpeg q20", jpeg(img, 20), "jpg"),
        ("resized 50% q85", jpeg(&half, 85), "jpg"),
        ("resized 20% q85", jpeg(&small, 85), "jpg"),
        ("cropped 4px q90", jpeg(&crop(4), 90), "jpg"),
        ("cropped 16px q90", jpeg(&crop(16), 90), "jpg"),
        ("png", encoded(&half, ImageFormat::Png), "png"),
        ("webp (lossless)", encoded(&half, ImageFormat::WebP), "webp"),
        ("touched up q90", jpeg(&touched, 90), "jpg"),
    ]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| PathBuf::from(format!("{FIXTURES}{name}"));
    let hashes: Vec<(&str, u64)> = PHOTOS.iter().map(|p| (*p, hash_file(&path(p)))).collect();
    println!("# dHash of each fixture (thumbnail {SIZE_DEFAULT} px)");
    for (name, hash) in &hashes {
        println!("{name:24} {hash:016x}  ({} bits set)", hash.count_ones());
    }

    println!("\n# distinct photos: distance of every pair");
    let mut pairs = Vec::new();
    for (i, (a, ha)) in hashes.iter().enumerate() {
        for (b, hb) in &hashes[i + 1..] {
            let d = phash::distance(*ha, *hb);
            println!("{a:24} {b:24} {d:2}");
            pairs.push(d);
        }
    }
    pairs.sort_unstable();
    let rotated = hash_file(&path("path-gps-rotated.jpg"));
    println!(
        "min {} / median {} / max {} of {} pairs; path vs path-gps-rotated (turned 90 degrees): {}",
        pairs[0],
        pairs[pairs.len() / 2],
        pairs[pairs.len() - 1],
        pairs.len(),
        phash::distance(hashes[2].1, rotated)
    );

    println!("\n# variations: distance from the original's hash");
    let mut worst = 0;
    let mut all = Vec::new();
    for (name, original) in &hashes {
        let img = image::open(path(name)).expect("fixture decodes");
        let mut line = format!("{name:24}");
        for (what, bytes, ext) in variations(&img) {
            let d = phash::distance(
                *original,
                hash_bytes(dir.path(), &format!("v.{ext}"), &bytes),
            );
            line.push_str(&format!(" {what}={d}"));
            worst = worst.max(d);
            all.push((what, d));
        }
        println!("{line}");
    }
    println!("largest distance of any variation: {worst}");
    for threshold in [4, 6, 8, 10, 12, 14] {
        let caught = all.iter().filter(|(_, d)| *d <= threshold).count();
        let false_hits = pairs.iter().filter(|d| **d <= threshold).count();
        println!(
            "threshold {threshold:2}: variations caught {caught}/{} ({:.0} %), distinct pairs within it {false_hits}/{}",
            all.len(),
            100.0 * caught as f64 / all.len() as f64,
            pairs.len()
        );
    }

    println!("\n# cost");
    let thumb: Vec<u8> = (0..SIZE_DEFAULT * 156 * 3)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    let rounds = 20_000;
    let start = Instant::now();
    let mut sink = 0u64;
    for i in 0..rounds {
        sink ^= phash::dhash(&thumb, SIZE_DEFAULT, 156, false).rotate_left(i % 64);
    }
    let per = start.elapsed() / rounds;
    println!(
        "dhash of a {SIZE_DEFAULT}x156 RGB thumbnail: {per:?} (sink {:x})",
        sink & 1
    );
    for bans in [1_000u64, 10_000, 100_000] {
        let hashes: Vec<u64> = (0..bans)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let rounds = 2_000;
        let start = Instant::now();
        let mut hits = 0;
        for r in 0..rounds {
            let probe = (r as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
            hits += hashes
                .iter()
                .filter(|h| phash::distance(**h, probe) <= 10)
                .count();
        }
        let per = start.elapsed() / rounds;
        println!("linear scan of {bans} banned hashes: {per:?} per upload (hits {hits})");
    }
}
