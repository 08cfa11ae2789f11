//! Fuzzes post markup: any UTF-8 body must render to HTML that `check_well_formed` accepts, and
//! to 4chan-style HTML (the `com` field) that `check_dialect` accepts.
//!
//! Run from `test/fuzz` (cargo-fuzz: `cargo install cargo-fuzz`). `--fuzz-dir .` is needed
//! because cargo-fuzz otherwise looks for a `fuzz/` folder beside the nearest package:
//!
//! ```text
//! cargo +nightly fuzz run --fuzz-dir . markup -- -max_total_time=60
//! # without a nightly toolchain, and without the address sanitizer:
//! RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . markup --sanitizer none -- -max_total_time=60
//! ```
//!
//! A failure leaves the input in `artifacts/markup/`; `cargo +nightly fuzz run --fuzz-dir .
//! markup <file>` replays it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wani::markup::{check_dialect, check_well_formed, render, render_dialect, Dialect, Resolve};

/// Every even post number exists (every fourth one an OP, so both link forms are drawn), and
/// every board with an even-length slug, so live and dead links of each kind are exercised.
struct Evens;

impl Resolve for Evens {
    fn post_thread(&self, _board: &str, no: u64) -> Option<u64> {
        (no % 2 == 0).then(|| no - no % 4)
    }

    fn board_exists(&self, board: &str) -> bool {
        board.len() % 2 == 0
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let rendered = render(body, "b", &Evens);
    if let Err(e) = check_well_formed(&rendered.html) {
        panic!("{body:?} rendered as {:?}: {e}", rendered.html);
    }
    // Thread 4 exists under `Evens`, so links into it and elsewhere are both drawn.
    let dialect = Dialect::FourChan { thread: 4 };
    let com = render_dialect(body, "b", &Evens, dialect);
    if let Err(e) = check_dialect(&com.html, dialect) {
        panic!("{body:?} rendered for 4chan clients as {:?}: {e}", com.html);
    }
    let mut seen = std::collections::HashSet::new();
    for quote in &rendered.quotes {
        assert!(seen.insert(quote), "{body:?}: {quote:?} recorded twice");
    }
});
