//! Just enough HTTP/1.1 for the floor servers (`live_floor`, `post_floor`): a request read from
//! a blocking socket, and a JSON answer. Nothing is checked; they are measuring sticks. Each
//! server uses the part it needs.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

/// A request read off a keep-alive connection.
pub struct Request {
    pub post: bool,
    pub body: Vec<u8>,
}

/// Reads the next request from `socket`, keeping what came after it in `buf`; None once the
/// client hangs up.
pub fn read_request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        fill(socket, buf)?;
    };
    let length = content_length(&buf[..head]);
    while buf.len() < head + length {
        fill(socket, buf)?;
    }
    let post = buf.starts_with(b"POST ");
    let body = buf[head..head + length].to_vec();
    buf.drain(..head + length);
    Some(Request { post, body })
}

/// Whether the request at the start of `buf`, whose head is complete, is a GET of `path`.
pub fn is_get(buf: &[u8], path: &str) -> bool {
    buf.strip_prefix(b"GET ")
        .is_some_and(|rest| rest.starts_with(path.as_bytes()))
}

fn fill(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 4096];
    match socket.read(&mut chunk) {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

fn content_length(head: &[u8]) -> usize {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Answers with `status` (`201 Created`) and the JSON `body`; false once the client is gone.
pub fn answer(socket: &mut TcpStream, status: &str, body: &str) -> bool {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(response.as_bytes()).is_ok()
}

/// Waits for a head in `buf` (the accept loop's first look at a connection).
pub fn read_head(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        fill(socket, buf)?;
    }
    Some(())
}

/// Listens on 127.0.0.1:`port` and says so on stdout, the line the benchmarks wait for.
pub fn listen(port: &str) -> TcpListener {
    let port: u16 = port.parse().expect("PORT");
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("binding the port");
    println!(
        "listening on 127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    listener
}
