//! The perceptual hash: a 64-bit difference hash (dHash) of the thumbnail's pixels, so that a
//! picture re-encoded, resized, recompressed or touched up in a few pixels hashes within a few
//! bits of the original.
//!
//! The thumbnail is already decoded small and upright; shrinking it to 9x8 grey cells by area
//! averaging and keeping one bit per horizontally adjacent pair ("left is brighter") costs a
//! few microseconds on top, and needs no second decode.

/// Grey cells across and down: 8 comparisons on each of 8 rows.
const COLS: usize = 9;
const ROWS: usize = 8;

/// The dHash of `data`, `width`x`height` pixels of 8-bit RGB, or RGBA when `alpha` (composed
/// over white, as a browser shows it on a light page). Bit `8 * row + col` (from the most
/// significant) is set when cell `col` of `row` is brighter than cell `col + 1`.
pub fn dhash(data: &[u8], width: u32, height: u32, alpha: bool) -> u64 {
    let (w, h) = (width as usize, height as usize);
    let channels = if alpha { 4 } else { 3 };
    if w == 0 || h == 0 || data.len() < w * h * channels {
        return 0;
    }
    let mut sums = [[0u64; COLS]; ROWS];
    let mut counts = [[0u64; COLS]; ROWS];
    // The cell column of each pixel column, computed once rather than divided per pixel.
    let cols: Vec<usize> = (0..w).map(|x| x * COLS / w).collect();
    for y in 0..h {
        let row = y * ROWS / h;
        let line = &data[y * w * channels..(y + 1) * w * channels];
        for (px, &col) in line.chunks_exact(channels).zip(&cols) {
            // ITU-R BT.601 luma in fixed point (weights sum to 1024).
            let luma = 306 * u64::from(px[0]) + 601 * u64::from(px[1]) + 117 * u64::from(px[2]);
            let luma = if alpha {
                let a = u64::from(px[3]);
                (luma * a + 255 * 1024 * (255 - a)) / 255
            } else {
                luma
            };
            sums[row][col] += luma;
            counts[row][col] += 1;
        }
    }
    // A picture narrower than 9 pixels (or shorter than 8) leaves some cells empty: they take
    // the nearest filled cell to their left or above, so they add no false gradient.
    let mut cells = [[0u64; COLS]; ROWS];
    for r in 0..ROWS {
        for c in 0..COLS {
            cells[r][c] = match sums[r][c].checked_div(counts[r][c]) {
                Some(mean) => mean,
                None if c > 0 => cells[r][c - 1],
                None if r > 0 => cells[r - 1][c],
                None => 0,
            };
        }
    }
    let mut hash = 0u64;
    for row in &cells {
        for pair in row.windows(2) {
            hash = (hash << 1) | u64::from(pair[0] > pair[1]);
        }
    }
    hash
}

/// The number of bits in which two hashes differ.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Whether a hash says enough about its picture to ban by likeness: a flat or nearly flat
/// picture (a plain colour, a smooth gradient) has almost every bit the same, and banning it
/// would ban every other flat picture too.
pub fn distinctive(hash: u64) -> bool {
    let ones = hash.count_ones();
    (MIN_BITS..=64 - MIN_BITS).contains(&ones)
}

/// Fewest bits set (and unset) in a hash that may be banned by likeness.
const MIN_BITS: u32 = 6;

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(width: u32, height: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let mut out = Vec::new();
        for y in 0..height {
            for x in 0..width {
                out.extend_from_slice(&f(x, y));
            }
        }
        out
    }

    #[test]
    fn fixed_inputs_hash_to_fixed_values() {
        let cases: &[(&str, Vec<u8>, u32, u32, u64)] = &[
            ("flat", rgb(32, 32, |_, _| [90, 90, 90]), 32, 32, 0),
            // Darker to the right: every left cell is brighter.
            (
                "falling",
                rgb(90, 40, |x, _| [255 - x as u8 * 2; 3]),
                90,
                40,
                u64::MAX,
            ),
            ("rising", rgb(90, 40, |x, _| [x as u8 * 2; 3]), 90, 40, 0),
            // Top half falling, bottom half rising.
            (
                "halves",
                rgb(90, 40, |x, y| {
                    let v = if y < 20 {
                        255 - x as u8 * 2
                    } else {
                        x as u8 * 2
                    };
                    [v; 3]
                }),
                90,
                40,
                0xFFFF_FFFF_0000_0000,
            ),
            ("tiny", rgb(1, 1, |_, _| [1, 2, 3]), 1, 1, 0),
            ("empty", Vec::new(), 0, 0, 0),
            ("short buffer", vec![0; 5], 4, 4, 0),
        ];
        for (name, data, w, h, expected) in cases {
            assert_eq!(dhash(data, *w, *h, false), *expected, "{name}");
        }
    }

    #[test]
    fn transparency_is_composed_over_white() {
        // Opaque black on the left, fully transparent on the right: left is darker than the
        // white the right shows, so no bit is set where they meet.
        let mut data = Vec::new();
        for _ in 0..8 {
            for x in 0..18u32 {
                data.extend_from_slice(&[0, 0, 0, if x < 9 { 255 } else { 0 }]);
            }
        }
        assert_eq!(dhash(&data, 18, 8, true), 0);
    }

    /// The fixture photos against re-encoded copies of themselves: a copy stays within the
    /// default ban distance, another photo lies far outside it.
    #[test]
    fn variants_of_a_photo_stay_close_and_other_photos_far() {
        use image::codecs::jpeg::JpegEncoder;
        use image::imageops::FilterType;
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/test/fixtures/images/");
        let dir = tempfile::tempdir().unwrap();
        let hash_of = |path: &std::path::Path| {
            crate::media::thumbnail(path, crate::media::SIZE_DEFAULT)
                .unwrap()
                .dhash
        };
        let threshold = crate::config::Config::default().file_ban_distance;
        let cups = std::path::PathBuf::from(format!("{fixtures}cups-2560x1600.jpg"));
        let original = hash_of(&cups);
        let img = image::open(&cups).unwrap();
        let variants: &[(&str, u32, u8)] = &[
            ("full size, JPEG 50", 2560, 50),
            ("half size, JPEG 80", 1280, 80),
            ("a fifth, JPEG 30", 512, 30),
        ];
        for (name, width, quality) in variants {
            let resized = img.resize(*width, *width, FilterType::Triangle);
            let mut bytes = Vec::new();
            JpegEncoder::new_with_quality(&mut bytes, *quality)
                .encode_image(&resized.to_rgb8())
                .unwrap();
            let path = dir.path().join("v.jpg");
            std::fs::write(&path, bytes).unwrap();
            let d = distance(original, hash_of(&path));
            assert!(d <= threshold / 2, "{name}: {d} bits");
        }
        for other in ["autumn-2560x1600.jpg", "path-2560x1600.jpg"] {
            let d = distance(
                original,
                hash_of(&std::path::PathBuf::from(format!("{fixtures}{other}"))),
            );
            assert!(d > threshold * 2, "{other}: {d} bits");
        }
    }

    #[test]
    fn distance_and_distinctiveness() {
        let cases: &[(u64, u64, u32)] = &[
            (0, 0, 0),
            (0, u64::MAX, 64),
            (0b1011, 0b0001, 2),
            (0xFFFF_0000_0000_0000, 0x0000_0000_0000_FFFF, 32),
        ];
        for (a, b, d) in cases {
            assert_eq!(distance(*a, *b), *d, "{a:x} {b:x}");
        }
        let distinct: &[(u64, bool)] = &[
            (0, false),
            (u64::MAX, false),
            (0b11111, false),
            (0b111111, true),
            (0xF0F0_F0F0_F0F0_F0F0, true),
            (!0b11111, false),
        ];
        for (hash, expected) in distinct {
            assert_eq!(distinctive(*hash), *expected, "{hash:x}");
        }
    }
}
