//! Decompression bombs, lying headers and hidden payloads in images and videos.
