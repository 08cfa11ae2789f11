//! The floor under `test/bench/live.sh`'s delays: `live_floor PORT THREADS FRAME_BYTES` is a
//! server that does nothing for a live event but the one write per subscriber that any server
//! must do, so that the benchmark can show what the machine itself allows (`FLOOR=1 live.sh`).
//!
//! It speaks just enough HTTP/1.1 for the benchmark's clients: `GET /api/live…` gets the head
//! of a chunked `text/event-stream` and a `retry: 3000` chunk, as from wani; on any other
//! connection (the poster's, kept alive), a `GET` gets `{}` and a `POST` a 201 with
//! `{"no":N}`, and then the post's event, a chunk of
//! FRAME_BYTES carrying the `bench-post-K` of the request's body, is written to every
//! subscriber's socket with one `write` each, by THREADS threads taking a share each. No
//! runtime, no task to wake, no mailbox: blocking sockets, and the frame built once.
//! Nothing else is parsed or checked; it is a measuring stick, not a server.

#[path = "floor/http.rs"]
mod http;

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

/// One chunk of the stream: an SSE event of about `size` bytes naming `tag`.
fn frame(id: u64, tag: &str, size: usize) -> Vec<u8> {
    let start = format!(
        "id: {id}\nevent: post\ndata: {{\"event\":\"post\",\"board\":\"bench\",\"thread\":1,\
         \"post\":{{\"no\":{id},\"body\":\"{tag}\",\"pad\":\""
    );
    let end = "\"}}\n\n";
    let pad = size.saturating_sub(start.len() + end.len());
    let event = format!("{start}{}{end}", "x".repeat(pad));
    let mut chunk = format!("{:x}\r\n", event.len()).into_bytes();
    chunk.extend_from_slice(event.as_bytes());
    chunk.extend_from_slice(b"\r\n");
    chunk
}

/// Serves the poster's connection: each request is answered, and a post's event then fanned out.
fn poster(
    mut socket: TcpStream,
    mut buf: Vec<u8>,
    subscribers: &Mutex<Vec<TcpStream>>,
    threads: usize,
    size: usize,
) {
    let mut id = 1;
    while let Some(request) = http::read_request(&mut socket, &mut buf) {
        if !request.post {
            // Any other request (the poster opening its connection) gets an empty object.
            if !http::answer(&mut socket, "200 OK", "{}") {
                return;
            }
            continue;
        }
        let body = String::from_utf8_lossy(&request.body);
        let tag: String = body
            .find("bench-post-")
            .map(|at| {
                body[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect()
            })
            .unwrap_or_default();
        id += 1;
        if !http::answer(&mut socket, "201 Created", &format!("{{\"no\":{id}}}")) {
            return;
        }
        let chunk = frame(id, &tag, size);
        let list = subscribers.lock().unwrap();
        let share = list.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            for part in list.chunks(share) {
                let chunk = &chunk;
                scope.spawn(move || {
                    for mut socket in part {
                        let _ = socket.write_all(chunk);
                    }
                });
            }
        });
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, port, threads, size] = args.as_slice() else {
        eprintln!("usage: live_floor PORT THREADS FRAME_BYTES");
        std::process::exit(2);
    };
    let threads: usize = threads.parse().expect("THREADS");
    let size: usize = size.parse().expect("FRAME_BYTES");
    let listener = http::listen(port);
    let subscribers = Arc::new(Mutex::new(Vec::new()));
    let open = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n\
                 transfer-encoding: chunked\r\n\r\nd\r\nretry: 3000\n\n\r\n";
    for socket in listener.incoming() {
        let Ok(mut socket) = socket else { continue };
        let _ = socket.set_nodelay(true);
        let mut buf = Vec::new();
        if http::read_head(&mut socket, &mut buf).is_none() {
            continue;
        }
        if !http::is_get(&buf, "/api/live") {
            let subscribers = subscribers.clone();
            std::thread::spawn(move || poster(socket, buf, &subscribers, threads, size));
        } else if socket.write_all(open).is_ok() {
            subscribers.lock().unwrap().push(socket);
        }
    }
}
