//! The floor under `test/bench/post_rate.sh`'s ratio: `post_floor PORT FILE PAGES` is a server
//! that does nothing for a `POST` but what any durable post must: it writes PAGES pages of
//! 4 KiB in place in FILE (spread over the file, as a B-tree commit's pages are), calls
//! `fdatasync`, and answers 201. Run by `FLOOR=1 post_rate.sh` with the same `wrk -c1`
//! poster, it shows the rate this machine allows one connection whatever the server does
//! (with `PAGES=1`, the fsync probe's own write behind an HTTP round trip).
//!
//! It speaks just enough HTTP/1.1 for wrk: a request head, a `Content-Length` body, a 201 with
//! a small JSON answer, keep-alive. A thread per connection, blocking sockets. It is a
//! measuring stick, not a server.

#[path = "floor/http.rs"]
mod http;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};

const PAGE: usize = 4096;
/// Pages in the file: the writes land in a spread of places, none twice in a row.
const FILE_PAGES: u64 = 256;

/// One connection: for each request, the durable write, then the answer.
fn serve(mut socket: TcpStream, file: &Mutex<(File, u64)>, pages: u64) {
    let page = [b'x'; PAGE];
    let mut buf = Vec::new();
    while http::read_request(&mut socket, &mut buf).is_some() {
        let no = {
            let mut guard = file.lock().unwrap();
            let (file, count) = &mut *guard;
            for i in 0..pages {
                let at = (*count * pages + i) * 37 % FILE_PAGES;
                file.write_all_at(&page, at * PAGE as u64)
                    .expect("writing a page");
            }
            file.sync_data().expect("fdatasync");
            *count += 1;
            *count
        };
        if !http::answer(&mut socket, "201 Created", &format!("{{\"no\":{no}}}")) {
            return;
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, port, path, pages] = args.as_slice() else {
        eprintln!("usage: post_floor PORT FILE PAGES");
        std::process::exit(2);
    };
    let pages: u64 = pages.parse().expect("PAGES");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .expect("opening the file");
    // Written out, not a sparse length: an overwrite must not allocate blocks.
    let zeros = vec![0u8; FILE_PAGES as usize * PAGE];
    (&file).write_all(&zeros).expect("filling the file");
    file.sync_all().unwrap();
    let file = Arc::new(Mutex::new((file, 0u64)));
    let listener = http::listen(port);
    for socket in listener.incoming() {
        let Ok(socket) = socket else { continue };
        let _ = socket.set_nodelay(true);
        let file = file.clone();
        std::thread::spawn(move || serve(socket, &file, pages));
    }
}
