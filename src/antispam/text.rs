//! The text captcha's picture: random characters of a built-in 5×7 bitmap font, each scaled,
//! turned and placed at random, the whole warped by two waves and crossed by noise, as a PNG.

use image::{GrayImage, ImageEncoder, Luma};

/// The characters drawn: capitals and digits that no distortion turns into another
/// (no B/8, O/0/Q/D, I/1/L, S/5, Z/2, G/6).
pub const ALPHABET: &[u8] = b"ACEFHJKMNPRTUVWXY3479";

/// Each glyph: 7 rows of 5 columns, `#` inked.
fn glyph(c: u8) -> [&'static str; 7] {
    match c {
        b'A' => [
            ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#",
        ],
        b'C' => [
            ".###.", "#...#", "#....", "#....", "#....", "#...#", ".###.",
        ],
        b'E' => [
            "#####", "#....", "#....", "####.", "#....", "#....", "#####",
        ],
        b'F' => [
            "#####", "#....", "#....", "####.", "#....", "#....", "#....",
        ],
        b'H' => [
            "#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#",
        ],
        b'J' => [
            "..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##..",
        ],
        b'K' => [
            "#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#",
        ],
        b'M' => [
            "#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#",
        ],
        b'N' => [
            "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#",
        ],
        b'P' => [
            "####.", "#...#", "#...#", "####.", "#....", "#....", "#....",
        ],
        b'R' => [
            "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#",
        ],
        b'T' => [
            "#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#..",
        ],
        b'U' => [
            "#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.",
        ],
        b'V' => [
            "#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#..",
        ],
        b'W' => [
            "#...#", "#...#", "#...#", "#.#.#", "#.#.#", "##.##", "#...#",
        ],
        b'X' => [
            "#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#",
        ],
        b'Y' => [
            "#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#..",
        ],
        b'3' => [
            "####.", "....#", "....#", ".###.", "....#", "....#", "####.",
        ],
        b'4' => [
            "...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#.",
        ],
        b'7' => [
            "#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#...",
        ],
        b'9' => [
            ".###.", "#...#", "#...#", ".####", "....#", "....#", ".###.",
        ],
        _ => [
            "#####", "#...#", "#...#", "#...#", "#...#", "#...#", "#####",
        ],
    }
}

/// A small PRNG (xorshift64*), seeded from the OS: enough to vary pictures, which need no
/// cryptographic strength (the answer itself comes from the OS's random source).
pub struct Rng(u64);

impl Rng {
    pub fn from_os() -> Rng {
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).expect("the OS random source works");
        Rng(u64::from_le_bytes(seed) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A float in `[lo, hi)`.
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (self.next() >> 40) as f32 / (1u64 << 24) as f32 * (hi - lo)
    }
}

/// `n` characters of [`ALPHABET`] from the OS's random source.
pub fn answer(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    // 256 is not a multiple of the alphabet's size; the bias this leaves (under 1 in 12) does
    // not help a guesser enough to matter against one guess per challenge.
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// One placed character: its glyph, centre, scale (pixels per font cell) and turn.
struct Placed {
    rows: [&'static str; 7],
    cx: f32,
    cy: f32,
    scale: f32,
    sin: f32,
    cos: f32,
}

impl Placed {
    /// Whether the picture point (x, y) falls on ink.
    fn inked(&self, x: f32, y: f32) -> bool {
        let (dx, dy) = (x - self.cx, y - self.cy);
        // Turn the point back into the glyph's frame.
        let u = (dx * self.cos + dy * self.sin) / self.scale + 2.5;
        let v = (-dx * self.sin + dy * self.cos) / self.scale + 3.5;
        if !(0.0..5.0).contains(&u) || !(0.0..7.0).contains(&v) {
            return false;
        }
        self.rows[v as usize].as_bytes()[u as usize] == b'#'
    }
}

/// Draws `text` on a `width` × `height` picture and encodes it as PNG.
pub fn draw(text: &str, width: u32, height: u32, rng: &mut Rng) -> Vec<u8> {
    let (w, h) = (width as f32, height as f32);
    let n = text.len().max(1) as f32;
    let slot = w / (n + 0.6);
    let placed: Vec<Placed> = text
        .bytes()
        .enumerate()
        .map(|(i, c)| {
            let scale = (h / 10.0).min(slot / 6.0) * rng.range(0.85, 1.15);
            let turn = rng.range(-0.35, 0.35);
            Placed {
                rows: glyph(c),
                cx: slot * (i as f32 + 0.8) + rng.range(-0.12, 0.12) * slot,
                cy: h / 2.0 + rng.range(-0.12, 0.12) * h,
                scale,
                sin: turn.sin(),
                cos: turn.cos(),
            }
        })
        .collect();
    let waves = [
        (
            rng.range(2.0, 4.0),
            rng.range(0.04, 0.09),
            rng.range(0.0, 6.3),
        ),
        (
            rng.range(2.0, 4.0),
            rng.range(0.03, 0.07),
            rng.range(0.0, 6.3),
        ),
    ];
    let mut img = GrayImage::new(width, height);
    for (x, y, px) in img.enumerate_pixels_mut() {
        let (xf, yf) = (x as f32, y as f32);
        let sx = xf + waves[0].0 * (yf * waves[0].1 + waves[0].2).sin();
        let sy = yf + waves[1].0 * (xf * waves[1].1 + waves[1].2).sin();
        let ink = placed.iter().any(|p| p.inked(sx, sy));
        let base = if ink { 40.0 } else { 225.0 };
        *px = Luma([(base + rng.range(-25.0, 25.0)) as u8]);
    }
    // Lines across the text, as dark as the ink, so no threshold separates them.
    for _ in 0..4 {
        let (mut x, mut y) = (rng.range(0.0, w * 0.3), rng.range(0.0, h));
        let (x1, y1) = (rng.range(w * 0.7, w), rng.range(0.0, h));
        let steps = (x1 - x).max(1.0) as usize;
        let dy = (y1 - y) / steps as f32;
        for _ in 0..steps {
            for t in 0..2 {
                let (px, py) = (x as u32, y as u32 + t);
                if px < width && py < height {
                    img.put_pixel(px, py, Luma([50]));
                }
            }
            x += 1.0;
            y += dy;
        }
    }
    let mut png = Vec::with_capacity((width * height) as usize / 2);
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::L8)
        .expect("encoding a picture in memory works");
    png
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_has_its_own_glyph() {
        let fallback = glyph(b'?');
        let mut seen = Vec::new();
        for &c in ALPHABET {
            let g = glyph(c);
            assert_ne!(g, fallback, "{}", c as char);
            assert!(g.iter().all(|row| row.len() == 5), "{}", c as char);
            assert!(!seen.contains(&g), "{} repeats a glyph", c as char);
            seen.push(g);
        }
    }

    #[test]
    fn answers_use_the_alphabet() {
        for n in [4, 6, 10] {
            let a = answer(n);
            assert_eq!(a.len(), n);
            assert!(a.bytes().all(|b| ALPHABET.contains(&b)), "{a}");
        }
        assert_ne!(answer(10), answer(10));
    }

    #[test]
    fn the_picture_is_a_png_of_the_size_asked_with_ink_on_it() {
        let mut rng = Rng::from_os();
        let png = draw("ACE349", 240, 80, &mut rng);
        let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .unwrap()
            .to_luma8();
        assert_eq!(img.dimensions(), (240, 80));
        let dark = img.pixels().filter(|p| p.0[0] < 100).count();
        // Six glyphs at this size ink several percent of the picture, lines included; a blank
        // or black picture would fail either bound.
        assert!((800..9600).contains(&dark), "{dark} dark pixels");
        // The same text twice gives two different pictures.
        assert_ne!(png, draw("ACE349", 240, 80, &mut rng));
    }

    #[test]
    fn each_character_inks_its_own_place() {
        // Undistorted sampling of a placed glyph: its centre column of `T` is ink, a corner of
        // `U` is not.
        let t = Placed {
            rows: glyph(b'T'),
            cx: 50.0,
            cy: 50.0,
            scale: 4.0,
            sin: 0.0,
            cos: 1.0,
        };
        assert!(t.inked(50.0, 50.0));
        assert!(!t.inked(42.0, 58.0));
        assert!(!t.inked(80.0, 50.0), "outside the glyph");
    }
}
