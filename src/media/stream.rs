//! Row-by-row decoding of PNG (APNG) and GIF: every frame is read, the first is shrunk while it
//! streams, and memory stays at a few rows whatever size the file declares.

use std::io::Cursor;

use super::decode::Pixels;
use super::MediaError;

/// What the PNG decoder may allocate for itself (rows, zlib window, palette): rows of the widest
/// allowed image are well under a MiB, so this only stops a decoder bug, never a real file.
const PNG_DECODER_BYTES: usize = 32 << 20;

/// A box filter that folds a `width`x`height` canvas into a small grid as rows arrive, with
/// alpha premultiplied so transparent pixels lend no colour. Memory is the grid and one entry
/// per source column, never the canvas. A huge canvas is sampled: every `step`-th row and column,
/// at least four a grid cell each way, which a thumbnail cannot tell from the full average.
pub(super) struct Shrink {
    height: u32,
    grid: (u32, u32),
    /// Keep every `step.0`-th column and `step.1`-th row.
    step: (u32, u32),
    /// The grid column of each source column, `u32::MAX` when it is not sampled.
    column: Vec<u32>,
    /// Per grid cell: sum of r·a, g·a, b·a and of a.
    sums: Vec<u64>,
}

impl Shrink {
    pub fn new(width: u32, height: u32, want: (u32, u32)) -> Shrink {
        let grid = (want.0.clamp(1, width), want.1.clamp(1, height));
        let step = (
            (width / (grid.0 * 4)).max(1),
            (height / (grid.1 * 4)).max(1),
        );
        let column = (0..width)
            .map(|x| {
                if x.is_multiple_of(step.0) {
                    (u64::from(x) * u64::from(grid.0) / u64::from(width)) as u32
                } else {
                    u32::MAX
                }
            })
            .collect();
        Shrink {
            height,
            grid,
            step,
            column,
            sums: vec![0; grid.0 as usize * grid.1 as usize * 4],
        }
    }

    /// Adds the pixels of `data` (`channels` bytes each: grey, grey and alpha, RGB or RGBA)
    /// found on line `y` at columns `x0`, `x0 + step`, ...; pixels outside the canvas are
    /// ignored (a frame may not reach there, but a bug must not panic).
    pub fn add(&mut self, y: u32, x0: u32, step: u32, data: &[u8], channels: usize) {
        if y >= self.height || !y.is_multiple_of(self.step.1) {
            return;
        }
        let gw = self.grid.0 as usize;
        let gy = (u64::from(y) * u64::from(self.grid.1) / u64::from(self.height)) as usize;
        let row = &mut self.sums[gy * gw * 4..(gy + 1) * gw * 4];
        for (i, p) in data.chunks_exact(channels).enumerate() {
            let x = (x0 + i as u32 * step) as usize;
            let Some(&gx) = self.column.get(x) else {
                break;
            };
            if gx == u32::MAX {
                continue;
            }
            let [r, g, b, a] = match *p {
                [l] => [l, l, l, 255],
                [l, a] => [l, l, l, a],
                [r, g, b] => [r, g, b, 255],
                [r, g, b, a] => [r, g, b, a],
                _ => return,
            };
            let a64 = u64::from(a);
            let cell = &mut row[gx as usize * 4..gx as usize * 4 + 4];
            cell[0] += u64::from(r) * a64;
            cell[1] += u64::from(g) * a64;
            cell[2] += u64::from(b) * a64;
            cell[3] += a64;
        }
    }

    /// The grid as pixels: RGB when every cell is opaque, else RGBA. Canvas pixels never added
    /// count as transparent.
    pub fn finish(self) -> Pixels {
        let (gw, gh) = (self.grid.0 as usize, self.grid.1 as usize);
        let mut columns = vec![0u64; gw];
        for &c in self.column.iter().filter(|&&c| c != u32::MAX) {
            columns[c as usize] += 1;
        }
        let mut rows = vec![0u64; gh];
        for y in (0..self.height).step_by(self.step.1 as usize) {
            rows[(u64::from(y) * gh as u64 / u64::from(self.height)) as usize] += 1;
        }
        let mut rgba = Vec::with_capacity(gw * gh * 4);
        let mut alpha = false;
        for (i, cell) in self.sums.chunks_exact(4).enumerate() {
            let area = (columns[i % gw] * rows[i / gw]).max(1);
            let a = cell[3];
            let colour = |sum: u64| sum.checked_div(a).unwrap_or(0) as u8;
            let mean = ((a + area / 2) / area).min(255) as u8;
            alpha |= mean != 255;
            rgba.extend_from_slice(&[colour(cell[0]), colour(cell[1]), colour(cell[2]), mean]);
        }
        let data = if alpha {
            rgba
        } else {
            rgba.chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect()
        };
        Pixels {
            data,
            width: self.grid.0,
            height: self.grid.1,
            alpha,
        }
    }
}

/// The Adam7 passes: first column, first row, column step, row step.
const ADAM7: [(u32, u32, u32, u32); 7] = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
];

/// Where each row of a frame lands, in the order the decoder yields them: (x0, y, x step).
fn row_positions(width: u32, height: u32, interlaced: bool) -> Vec<(u32, u32, u32)> {
    if !interlaced {
        return (0..height).map(|y| (0, y, 1)).collect();
    }
    let mut out = Vec::new();
    for (x0, y0, dx, dy) in ADAM7 {
        if width.saturating_sub(x0).div_ceil(dx) == 0 {
            continue;
        }
        let mut y = y0;
        while y < height {
            out.push((x0, y, dx));
            y += dy;
        }
    }
    out
}

/// Decodes every frame of a PNG or APNG row by row, and with `want` returns its first image
/// shrunk to at most that size. Each row is checked and dropped; CRCs and the end are checked.
pub(super) fn png(bytes: &[u8], want: Option<(u32, u32)>) -> Result<Option<Pixels>, MediaError> {
    use png::{ColorType, Transformations};
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: PNG_DECODER_BYTES,
        },
    );
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(from_png)?;
    let (width, height) = (reader.info().width, reader.info().height);
    let interlaced = reader.info().interlaced;
    let mut shrink = want.map(|want| Shrink::new(width, height, want));
    let mut first = true;
    loop {
        let (frame_w, frame_h, left, top) = match &reader.info().frame_control {
            Some(fc) if !first => (fc.width, fc.height, fc.x_offset, fc.y_offset),
            _ => (width, height, 0, 0),
        };
        let (colour, _) = reader.output_color_type();
        let positions = row_positions(frame_w, frame_h, interlaced);
        let mut rows = 0usize;
        while let Some(row) = reader.next_row().map_err(from_png)? {
            let &(x0, y, step) = positions
                .get(rows)
                .ok_or_else(|| corrupt("PNG: more rows than the frame has".into()))?;
            rows += 1;
            let Some(shrink) = shrink.as_mut().filter(|_| first) else {
                continue;
            };
            let channels = match colour {
                ColorType::Grayscale => 1,
                ColorType::GrayscaleAlpha => 2,
                ColorType::Rgb => 3,
                ColorType::Rgba => 4,
                ColorType::Indexed => return Err(corrupt("PNG: palette not expanded".into())),
            };
            shrink.add(top + y, left + x0, step, row.data(), channels);
        }
        if rows != positions.len() {
            return Err(MediaError::Truncated);
        }
        first = false;
        match reader.next_frame_info() {
            Ok(_) => {}
            // Polled past the last frame: the animation (or the still image) is complete.
            Err(png::DecodingError::Parameter(_)) => break,
            Err(e) => return Err(from_png(e)),
        }
    }
    reader.finish().map_err(from_png)?;
    Ok(shrink.map(Shrink::finish))
}

fn from_png(e: png::DecodingError) -> MediaError {
    match e {
        png::DecodingError::LimitsExceeded => {
            corrupt("PNG: the decoder needed more memory than any valid file does".into())
        }
        png::DecodingError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::Truncated
        }
        e => MediaError::Undecodable(format!("PNG: {e}")),
    }
}

/// Decodes every frame of a GIF line by line, and with `want` returns its first frame on the
/// logical screen (transparent around it), shrunk to at most that size.
pub(super) fn gif(bytes: &[u8], want: Option<(u32, u32)>) -> Result<Option<Pixels>, MediaError> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(Cursor::new(bytes)).map_err(from_gif)?;
    let (width, height) = (u32::from(decoder.width()), u32::from(decoder.height()));
    let mut shrink = want.map(|want| Shrink::new(width, height, want));
    let mut line = Vec::new();
    let mut first = true;
    while let Some(frame) = decoder.next_frame_info().map_err(from_gif)? {
        let (left, top) = (u32::from(frame.left), u32::from(frame.top));
        let (frame_w, frame_h) = (u32::from(frame.width), u32::from(frame.height));
        if left + frame_w > width || top + frame_h > height {
            return Err(corrupt(format!(
                "GIF: a {frame_w}x{frame_h} frame reaches outside the {width}x{height} picture"
            )));
        }
        let order = gif_rows(frame_h, frame.interlaced);
        line.resize(frame_w as usize * 4, 0);
        for y in order {
            if !decoder.fill_buffer(&mut line).map_err(from_gif)? {
                return Err(MediaError::Truncated);
            }
            if let Some(shrink) = shrink.as_mut().filter(|_| first) {
                shrink.add(top + y, left, 1, &line, 4);
            }
        }
        first = false;
    }
    if first {
        return Err(corrupt("GIF: no image in the file".into()));
    }
    Ok(shrink.map(Shrink::finish))
}

/// The rows of a GIF frame in stored order: top to bottom, or the four interlace passes.
fn gif_rows(height: u32, interlaced: bool) -> Vec<u32> {
    if !interlaced {
        return (0..height).collect();
    }
    [(0, 8), (4, 8), (2, 4), (1, 2)]
        .into_iter()
        .flat_map(|(start, step)| (start..height).step_by(step))
        .collect()
}

fn from_gif(e: gif::DecodingError) -> MediaError {
    match e {
        gif::DecodingError::UnexpectedEof => MediaError::Truncated,
        gif::DecodingError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::Truncated
        }
        e => MediaError::Undecodable(format!("GIF: {e}")),
    }
}

fn corrupt(why: String) -> MediaError {
    MediaError::Corrupt(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_averages_premultiplied() {
        // 4x2 canvas into 2x1: left cell opaque red and transparent, right cell two greys.
        let mut s = Shrink::new(4, 2, (2, 1));
        let row = [
            255, 0, 0, 255, 0, 255, 0, 0, 100, 100, 100, 255, 200, 200, 200, 255,
        ];
        s.add(0, 0, 1, &row, 4);
        s.add(1, 0, 1, &row, 4);
        let p = s.finish();
        assert_eq!((p.width, p.height, p.alpha), (2, 1, true));
        // The transparent green lends no colour; alpha is the mean.
        assert_eq!(&p.data[..4], &[255, 0, 0, 128]);
        assert_eq!(&p.data[4..], &[150, 150, 150, 255]);

        // Grey rows of a canvas large enough to be sampled average the same.
        let mut s = Shrink::new(1000, 1000, (10, 10));
        for y in 0..1000 {
            s.add(y, 0, 1, &[((y / 100) * 20) as u8; 1000], 1);
        }
        let p = s.finish();
        assert_eq!((p.width, p.height, p.alpha), (10, 10, false));
        for gy in 0..10 {
            assert_eq!(p.data[gy * 30], (gy * 20) as u8, "row {gy}");
        }
    }

    #[test]
    fn interlaced_rows_cover_every_pixel_once() {
        for (w, h) in [(1, 1), (3, 5), (8, 8), (13, 9)] {
            let mut seen = vec![0u8; (w * h) as usize];
            for (x0, y, step) in row_positions(w, h, true) {
                for x in (x0..w).step_by(step as usize) {
                    seen[(y * w + x) as usize] += 1;
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "{w}x{h}");
        }
        let mut rows = gif_rows(10, true);
        rows.sort();
        assert_eq!(rows, (0..10).collect::<Vec<_>>());
    }
}
