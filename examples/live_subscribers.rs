//! Live subscribers for `test/bench/live.sh`: `live_subscribers PORT BOARD COUNT POSTS` opens
//! COUNT `GET /api/live?board=BOARD` streams to 127.0.0.1:PORT and records when each event
//! arrives, at a small fraction of the CPU a Python client costs, so that the benchmark's
//! figures measure the server on a machine the two share.
//!
//! One thread, non-blocking sockets and one epoll. While the posts are delivered it does
//! nothing per readable socket but read it into that stream's buffer and note the time
//! (CLOCK_MONOTONIC, the clock of Python's `time.monotonic_ns` in the driving script); the
//! bytes are parsed afterwards. Talks to the driver over stdin and stdout, one line each:
//!
//! ```text
//! connected <ok> <failed> <first failure, or ->    once every stream has its `retry: 3000`
//!                                                  (then it waits for a line on stdin)
//! cpu <seconds>       its CPU time from that line on stdin to the next
//! closed <n>          streams the server ended
//! heartbeats <n>
//! bad <n> <example>   streams that did not get posts 0..POSTS once each, in order
//! post <k> <id> <ns> <ns>...   per post: its event id and every arrival time
//! end
//! ```
//! Posts are recognised by the text `bench-post-<k>` in their event's data.

use std::io::{BufRead, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

/// Connections being opened at once (the server listens with a backlog of 1024).
const IN_FLIGHT: usize = 128;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(300);

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

struct Epoll(RawFd);

impl Epoll {
    fn new() -> Epoll {
        // SAFETY: plain syscall.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(
            fd >= 0,
            "epoll_create1: {}",
            std::io::Error::last_os_error()
        );
        Epoll(fd)
    }

    fn ctl(&self, op: i32, fd: RawFd, events: u32, token: u64) {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: a valid epoll fd and event.
        let r = unsafe { libc::epoll_ctl(self.0, op, fd, &mut event) };
        assert!(r == 0, "epoll_ctl: {}", std::io::Error::last_os_error());
    }

    fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> usize {
        // SAFETY: the buffer is valid for its length.
        let n = unsafe {
            libc::epoll_wait(self.0, events.as_mut_ptr(), events.len() as i32, timeout_ms)
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            assert!(
                e.kind() == std::io::ErrorKind::Interrupted,
                "epoll_wait: {e}"
            );
            return 0;
        }
        n as usize
    }
}

/// Reads what the socket has into `buf`'s spare room: the bytes read, 0 at the end, or an error
/// (`WouldBlock` when there was nothing).
fn read_into(fd: RawFd, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    buf.reserve(16 * 1024);
    let spare = buf.spare_capacity_mut();
    // SAFETY: the pointer and length describe `buf`'s spare capacity.
    let n = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), spare.len()) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel wrote `n` bytes there.
    unsafe { buf.set_len(buf.len() + n as usize) };
    Ok(n as usize)
}

#[derive(PartialEq)]
enum Phase {
    Head,
    Live,
    Closed,
}

struct Stream {
    socket: TcpStream,
    phase: Phase,
    buf: Vec<u8>,
    /// (length of `buf` after a read, when the read returned), from the measured phase on.
    reads: Vec<(usize, u64)>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn connect(fd_count: usize, port: u16, board: &str, epoll: &Epoll) -> (Vec<Stream>, Vec<String>) {
    let request = format!(
        "GET /api/live?board={board} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Accept: text/event-stream\r\n\r\n"
    );
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    let mut streams: Vec<Stream> = Vec::with_capacity(fd_count);
    let mut failures = Vec::new();
    let (mut attempted, mut in_flight, mut live) = (0usize, 0usize, 0usize);
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    let started = Instant::now();
    while live + failures.len() < fd_count {
        while attempted < fd_count && in_flight < IN_FLIGHT {
            attempted += 1;
            // A blocking connect on loopback completes at once while the backlog has room.
            let socket = match TcpStream::connect(addr) {
                Ok(socket) => socket,
                Err(e) => {
                    failures.push(format!("connect: {e}"));
                    continue;
                }
            };
            socket.set_nonblocking(true).unwrap();
            let _ = socket.set_nodelay(true);
            let token = streams.len() as u64;
            epoll.ctl(
                libc::EPOLL_CTL_ADD,
                socket.as_raw_fd(),
                libc::EPOLLIN as u32,
                token,
            );
            (&socket)
                .write_all(request.as_bytes())
                .expect("the request fits in the socket's buffer");
            streams.push(Stream {
                socket,
                phase: Phase::Head,
                buf: Vec::new(),
                reads: Vec::new(),
            });
            in_flight += 1;
        }
        if started.elapsed() > CONNECT_TIMEOUT {
            let left = fd_count - live - failures.len();
            failures.extend(std::iter::repeat_n(
                "not connected in time".to_owned(),
                left,
            ));
            break;
        }
        let ready = epoll.wait(&mut events, 1000);
        for e in &events[..ready] {
            let s = &mut streams[e.u64 as usize];
            if s.phase != Phase::Head {
                continue;
            }
            let fd = s.socket.as_raw_fd();
            match read_into(fd, &mut s.buf) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Ok(0) | Err(_) => {
                    failures.push("closed by the server during the head".into());
                    s.phase = Phase::Closed;
                    epoll.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
                    in_flight -= 1;
                    continue;
                }
                Ok(_) => {}
            }
            let Some(end) = find(&s.buf, b"\r\n\r\n") else {
                continue;
            };
            if !s.buf.starts_with(b"HTTP/1.1 200") {
                let line = s.buf.split(|b| *b == b'\r').next().unwrap_or_default();
                failures.push(String::from_utf8_lossy(line).into_owned());
                s.phase = Phase::Closed;
                epoll.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
                in_flight -= 1;
            } else if find(&s.buf[end..], b"retry: 3000\n\n").is_some() {
                s.phase = Phase::Live;
                s.buf.drain(..end + 4);
                live += 1;
                in_flight -= 1;
            }
        }
    }
    (streams, failures)
}

/// When the read that brought byte `end` of the stream returned.
fn arrival(s: &Stream, end: usize) -> u64 {
    let i = s.reads.partition_point(|(len, _)| *len < end);
    s.reads.get(i).map_or(0, |r| r.1)
}

/// Where the next blank line (`\n\n`) starts.
fn blank_line(hay: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = hay[from..].iter().position(|b| *b == b'\n') {
        let at = from + i;
        if hay.get(at + 1) == Some(&b'\n') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// An event as received: (id, name, post index, arrival time).
type Seen = (u64, String, Option<usize>, u64);

/// One stream's events and its heartbeats. Messages
/// end at a blank line; chunk-size lines (`\r\n<hex>\r\n`) sit before them and are skipped.
fn parse(s: &Stream) -> (Vec<Seen>, usize) {
    let (mut out, mut heartbeats, mut start) = (Vec::new(), 0, 0);
    while let Some(rel) = blank_line(&s.buf[start..]) {
        let end = start + rel;
        let block = &s.buf[start..end];
        start = end + 2;
        let Some(i) = find(block, b"id: ") else {
            heartbeats += usize::from(find(block, b": heartbeat").is_some());
            continue;
        };
        let text = String::from_utf8_lossy(&block[i..]);
        let mut lines = text.split('\n');
        let id = lines.next().and_then(|l| l[4..].parse().ok()).unwrap_or(0);
        let name = lines
            .next()
            .and_then(|l| l.strip_prefix("event: "))
            .unwrap_or("?");
        let post = lines.next().and_then(|data| {
            let at = data.find("bench-post-")? + "bench-post-".len();
            let digits: String = data[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        });
        out.push((id, name.to_owned(), post, arrival(s, start)));
    }
    (out, heartbeats)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, port, board, count, posts] = args.as_slice() else {
        eprintln!("usage: live_subscribers PORT BOARD COUNT POSTS");
        std::process::exit(2);
    };
    let port: u16 = port.parse().expect("PORT");
    let count: usize = count.parse().expect("COUNT");
    let posts: usize = posts.parse().expect("POSTS");

    let epoll = Epoll::new();
    let (mut streams, failures) = connect(count, port, board, &epoll);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "connected {} {} {}",
        count - failures.len(),
        failures.len(),
        failures.first().map_or("-", String::as_str)
    )
    .unwrap();
    out.flush().unwrap();

    // Wait for the driver's word, then record until the next one.
    let mut line = String::new();
    let stdin = std::io::stdin();
    stdin.lock().read_line(&mut line).unwrap();
    let stdin_token = u64::MAX;
    epoll.ctl(libc::EPOLL_CTL_ADD, 0, libc::EPOLLIN as u32, stdin_token);
    let cpu_before = cpu_seconds();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    let mut closed = 0;
    'measure: loop {
        let n = epoll.wait(&mut events, -1);
        let t = now_ns();
        for e in &events[..n] {
            if e.u64 == stdin_token {
                break 'measure;
            }
            let s = &mut streams[e.u64 as usize];
            let fd = s.socket.as_raw_fd();
            match read_into(fd, &mut s.buf) {
                Ok(n) if n > 0 => s.reads.push((s.buf.len(), t)),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                _ => {
                    s.phase = Phase::Closed;
                    epoll.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
                    closed += 1;
                }
            }
        }
    }
    let cpu = cpu_seconds() - cpu_before;
    stdin.lock().read_line(&mut line).unwrap();

    let mut arrivals: Vec<Vec<u64>> = vec![Vec::new(); posts];
    let mut ids: Vec<Option<u64>> = vec![None; posts];
    let (mut bad, mut example, mut heartbeats) = (0, String::from("-"), 0);
    for s in streams
        .iter()
        .filter(|s| s.phase != Phase::Closed || !s.reads.is_empty())
    {
        let (seen, beats) = parse(s);
        heartbeats += beats;
        let in_order = seen.len() == posts
            && seen
                .iter()
                .enumerate()
                .all(|(k, (_, name, post, _))| *post == Some(k) && name == "post");
        let consistent = seen.iter().all(|(id, _, post, _)| {
            post.is_none_or(|k| k >= posts || ids[k].is_none_or(|i| i == *id))
        });
        if !in_order || !consistent {
            bad += 1;
            if bad == 1 {
                example = format!(
                    "{:?}",
                    seen.iter()
                        .take(10)
                        .map(|(id, name, post, _)| (id, name, post))
                        .collect::<Vec<_>>()
                )
                .replace(' ', "");
            }
            continue;
        }
        for (id, _, post, t) in seen {
            let k = post.expect("checked above");
            ids[k] = Some(id);
            arrivals[k].push(t);
        }
    }
    writeln!(out, "cpu {cpu:.3}").unwrap();
    writeln!(out, "closed {closed}").unwrap();
    writeln!(out, "heartbeats {heartbeats}").unwrap();
    writeln!(out, "bad {bad} {example}").unwrap();
    for (k, times) in arrivals.iter().enumerate() {
        write!(out, "post {k} {}", ids[k].unwrap_or(0)).unwrap();
        for t in times {
            write!(out, " {t}").unwrap();
        }
        writeln!(out).unwrap();
    }
    writeln!(out, "end").unwrap();
    out.flush().unwrap();
}
