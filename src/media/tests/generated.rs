//! A generated test of the sanitizer: thousands of mutations of valid files of every format.
//! Whatever is accepted must be stored so that it re-parses, cleaning it again changes nothing
//! (so it holds no block that was not rebuilt), and the size its header declares is the size
//! an independent decoder finds.

use super::*;

/// A small deterministic generator (xorshift64*), so a failure names a reproducible case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One random change: flip bits, overwrite a run, insert or delete bytes, duplicate a slice,
/// cut the end, or append bytes.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let len = bytes.len();
    let at = rng.below(len);
    match rng.below(7) {
        0 => bytes[at] ^= 1 << rng.below(8),
        1 => {
            let n = rng.below(8).min(len - at);
            for b in &mut bytes[at..at + n] {
                *b = rng.next() as u8;
            }
        }
        2 => {
            let junk: Vec<u8> = (0..rng.below(16) + 1).map(|_| rng.next() as u8).collect();
            bytes.splice(at..at, junk);
        }
        3 => {
            let n = rng.below(16).min(len - at);
            bytes.drain(at..at + n);
        }
        4 => {
            let n = rng.below(64).min(len - at);
            let copy = bytes[at..at + n].to_vec();
            let to = rng.below(len);
            bytes.splice(to..to, copy);
        }
        5 => bytes.truncate(at.max(1)),
        _ => bytes.extend((0..rng.below(32)).map(|_| rng.next() as u8)),
    }
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let red = make::solid(24, 16, [255, 0, 0, 255]);
    let blue = make::solid(24, 16, [0, 0, 255, 128]);
    let rgb = image::DynamicImage::ImageRgba8(make::gradient(24, 16, false)).into_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&rgb)
        .unwrap();
    vec![
        ("jpeg", jpeg),
        (
            "png",
            make::png(
                &make::gradient(24, 16, true),
                &[(b"tEXt", b"a\0b"), (b"eXIf", &make::tiff(6, "Cam"))],
            ),
        ),
        ("apng", make::apng(&red, &blue)),
        (
            "gif",
            make::gif(&[red.clone(), blue.clone()], &[(0xFE, b"note")]),
        ),
        (
            "webp",
            make::webp_with_metadata(&make::gradient(24, 16, false), &make::tiff(3, "Cam")),
        ),
        ("animated webp", make::animated_webp(&[red, blue])),
    ]
}

/// The size an independent decoder (the image crate's) finds in `bytes`.
fn decoded_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let image = image::load_from_memory(bytes)
        .map_err(|e| eprintln!("independent decoder: {e}"))
        .ok()?;
    Some((image.width(), image.height()))
}

#[test]
fn accepted_mutations_are_stored_clean_and_true_to_their_size() {
    let limits = Limits {
        max_width: 512,
        max_height: 512,
    };
    let mut accepted = 0;
    for (name, seed) in seeds() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.len() as u64);
        for case in 0..400 {
            let mut bytes = seed.clone();
            for _ in 0..=rng.below(3) {
                mutate(&mut rng, &mut bytes);
            }
            let Ok(cleaned) = clean(&bytes, &limits) else {
                continue;
            };
            if decode::validate(&cleaned, &limits).is_err() {
                continue;
            }
            accepted += 1;
            let what = format!("{name} case {case}");
            let again = clean(&cleaned.bytes, &limits)
                .unwrap_or_else(|e| panic!("{what}: the stored file does not re-parse: {e}"));
            assert!(
                again.bytes == cleaned.bytes,
                "{what}: cleaning the stored file changed it"
            );
            decode::validate(&again, &limits)
                .unwrap_or_else(|e| panic!("{what}: the stored file does not decode: {e}"));
            assert_eq!(
                decoded_size(&cleaned.bytes),
                Some((cleaned.width, cleaned.height)),
                "{what}: declared and decoded sizes differ"
            );
        }
    }
    // Enough survive for the property to mean something.
    assert!(accepted > 200, "only {accepted} mutations accepted");
}
