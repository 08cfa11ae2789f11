#!/usr/bin/env python3
"""Subscribers and the poster for test/bench/live.sh, with the Python 3.11 standard library only.

WORKERS processes share the subscribers: each opens its share of `GET /api/live?board=B`
connections over raw non-blocking sockets and one epoll, and while the posts are delivered does
nothing per readable socket but read it and note the time (CLOCK_MONOTONIC, the same clock in
every process of the machine). The bytes are parsed only after the measurement. The parent
process measures the server's RSS before and after the connections, then posts the replies one
at a time over one keep-alive connection, noting when each 201 arrived.

Prints the report; exits 1 when a subscriber failed to connect or missed, repeated or reordered
any event.
"""

import argparse
import errno
import http.client
import json
import math
import multiprocessing
import os
import re
import resource
import select
import socket
import statistics
import sys
import time

CONNECTS_IN_FLIGHT = 128  # per worker; wani listens with a backlog of 1024
EVENT = re.compile(rb"id: (\d+)\nevent: (\w+)\ndata: ([^\n]*)\n\n")
MARK = re.compile(rb"bench-post-(\d+)\b")
HEARTBEAT = b": heartbeat\n\n"


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def server_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def subscribe(count, args, pipe):
    """One worker: connects `count` subscribers, records arrivals until told to finish."""
    request = (
        f"GET /api/live?board={args.board} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()
    ep = select.epoll()
    socks, state, heads, records = {}, {}, {}, {}
    failures = []
    waiting, in_flight, connected = count, 0, 0
    started = time.monotonic()

    def fail(fd, why):
        nonlocal in_flight
        failures.append(why)
        in_flight -= 1
        ep.unregister(fd)
        socks.pop(fd).close()
        state.pop(fd, None)
        heads.pop(fd, None)

    while connected + len(failures) < count:
        while waiting and in_flight < CONNECTS_IN_FLIGHT:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex(("127.0.0.1", args.port))
            waiting -= 1
            if err not in (0, errno.EINPROGRESS):
                failures.append(f"connect: {os.strerror(err)}")
                s.close()
                continue
            fd = s.fileno()
            socks[fd], state[fd] = s, "connecting"
            in_flight += 1
            ep.register(fd, select.EPOLLOUT)
        if time.monotonic() - started > args.connect_timeout_s:
            failures.extend(["not connected in time"] * (count - connected - len(failures)))
            break
        for fd, _ in ep.poll(1.0):
            if state[fd] == "connecting":
                err = socks[fd].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(fd, f"connect: {os.strerror(err)}")
                    continue
                socks[fd].send(request)
                state[fd], heads[fd] = "head", bytearray()
                ep.modify(fd, select.EPOLLIN)
                continue
            try:
                data = os.read(fd, 65536)
            except OSError as e:
                data, why = b"", str(e)
            else:
                why = "closed by the server"
            if state[fd] == "live":
                records[fd].append((time.monotonic_ns(), data))
                continue
            if not data:
                fail(fd, why)
                continue
            head = heads[fd]
            head += data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                continue
            if not head.startswith(b"HTTP/1.1 200"):
                fail(fd, head[: head.find(b"\r\n")].decode(errors="replace"))
            elif b"retry: 3000\n\n" in head[end:]:
                state[fd] = "live"
                records[fd] = [(time.monotonic_ns(), bytes(head[end + 4 :]))]
                del heads[fd]
                connected += 1
                in_flight -= 1

    pipe.send(("connected", connected, len(failures), failures[:5]))
    # Measured phase: read and note the time, nothing else.
    pipe_fd = pipe.fileno()
    ep.register(pipe_fd, select.EPOLLIN)
    cpu_before = cpu_seconds()
    read, now, poll = os.read, time.monotonic_ns, ep.poll
    finished = False
    closed = 0
    while not finished:
        for fd, _ in poll():
            if fd == pipe_fd:
                finished = True
                continue
            try:
                data = read(fd, 65536)
            except OSError:
                data = b""
            records[fd].append((now(), data))
            if not data:
                ep.unregister(fd)
                closed += 1
    pipe.recv()
    cpu_delivery = cpu_seconds() - cpu_before

    # Parse: each event's arrival is the time of the read that completed it.
    posts = args.posts
    arrivals = [[] for _ in range(posts)]
    ids = [None] * posts
    bad = []
    heartbeats = 0
    for fd, recs in records.items():
        buf, pos, seen = bytearray(), 0, []
        for t, data in recs:
            buf += data
            while (m := EVENT.search(buf, pos)) is not None:
                mark = MARK.search(m.group(3))
                seen.append((int(m.group(1)), m.group(2), int(mark.group(1)) if mark else -1, t))
                pos = m.end()
        heartbeats += buf.count(HEARTBEAT)
        if [s[2] for s in seen] != list(range(posts)) or any(s[1] != b"post" for s in seen):
            bad.append([(s[0], s[1].decode(), s[2]) for s in seen][:30])
            continue
        for event_id, _, k, t in seen:
            if ids[k] is None:
                ids[k] = event_id
            if ids[k] != event_id:
                bad.append(f"post {k} as event {event_id}, elsewhere {ids[k]}")
            arrivals[k].append(t)
    pipe.send(("done", arrivals, ids, len(bad), bad[:3], heartbeats, closed, cpu_delivery))


def nearest_rank(sorted_values, p):
    return sorted_values[max(0, math.ceil(p * len(sorted_values)) - 1)]


def ms(ns):
    return ns / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--board", default="bench")
    parser.add_argument("--thread", type=int, required=True)
    parser.add_argument("--subscribers", type=int, default=20000)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--spacing-ms", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--settle-s", type=float, default=2.0)
    parser.add_argument("--drain-s", type=float, default=5.0)
    parser.add_argument("--connect-timeout-s", type=float, default=300.0)
    args = parser.parse_args()
    n, pid = args.subscribers, args.server_pid

    rss_before = server_rss_kib(pid)
    ctx = multiprocessing.get_context("fork")
    workers = []
    for i in range(args.workers):
        share = n // args.workers + (1 if i < n % args.workers else 0)
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=subscribe, args=(share, args, child), daemon=True)
        workers.append((proc, parent))
    connect_started = time.monotonic()
    for proc, _ in workers:
        proc.start()
    connected, failed, reasons = 0, 0, []
    for _, pipe in workers:
        _, c, f, why = pipe.recv()
        connected, failed = connected + c, failed + f
        reasons += why
    connect_s = time.monotonic() - connect_started
    print(f"subscribers connected: {connected} of {n} in {connect_s:.1f} s"
          f" ({args.workers} client processes)")
    if failed:
        print(f"FAIL: {failed} subscribers did not connect, e.g. {reasons[:5]}")
    time.sleep(args.settle_s)
    rss_after = server_rss_kib(pid)
    per_sub = (rss_after - rss_before) * 1024 / max(connected, 1)
    print(f"server RSS: {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB with"
          f" {connected} subscribers: {per_sub / 1024:.1f} KiB per subscriber")

    # The poster: one reply at a time, on a fixed schedule.
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    path = f"/api/boards/{args.board}/threads/{args.thread}/posts"
    sent, acked, numbers = [], [], []
    server_cpu_before = server_cpu_seconds(pid)
    start = time.monotonic_ns() + 100_000_000
    for k in range(args.posts):
        slot = start + k * args.spacing_ms * 1_000_000
        pause = slot - time.monotonic_ns()
        if pause > 0:
            time.sleep(pause / 1e9)
        body = json.dumps({"body": f"bench-post-{k}"})
        sent.append(time.monotonic_ns())
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        acked.append(time.monotonic_ns())
        if resp.status != 201:
            print(f"FAIL: post {k} answered {resp.status}: {data[:200]!r}")
            return finish(workers, 1)
        numbers.append(json.loads(data)["no"])
    time.sleep(args.drain_s)
    server_cpu = server_cpu_seconds(pid) - server_cpu_before
    rss_end = server_rss_kib(pid)

    results = finish(workers, None)
    arrivals = [[] for _ in range(args.posts)]
    ids, bad, bad_examples, heartbeats, closed, client_cpu = None, 0, [], 0, 0, 0.0
    for _, worker_arrivals, worker_ids, b, examples, hb, cl, cpu in results:
        for k in range(args.posts):
            arrivals[k] += worker_arrivals[k]
        ids = ids or worker_ids
        bad, bad_examples = bad + b, bad_examples + examples
        heartbeats, closed, client_cpu = heartbeats + hb, closed + cl, client_cpu + cpu

    complete = sum(1 for k in range(args.posts) if len(arrivals[k]) == connected)
    post_ms = sorted(ms(a - s) for s, a in zip(sent, acked))
    def delays(origin):
        last, median, every = [], [], []
        for k in range(args.posts):
            times = sorted(arrivals[k])
            if times:
                last.append(ms(times[-1] - origin[k]))
                median.append(ms(statistics.median(times) - origin[k]))
                every += [ms(t - origin[k]) for t in times]
        return last, median, every

    print(f"posts: {args.posts}, one every {args.spacing_ms} ms (post numbers {numbers[0]}..{numbers[-1]},"
          f" event ids {ids[0] if ids else '?'}..{ids[-1] if ids else '?'})")
    print(f"the poster's 201 (POST sent to 201 received): {statistics.median(post_ms):.2f} ms median,"
          f" {nearest_rank(post_ms, 0.99):.2f} ms p99, {post_ms[-1]:.2f} ms max")
    print(f"server RSS after the posts: {rss_end / 1024:.1f} MiB")
    row = "  {:<44} {:>9} {:>9} {:>9}"
    for title, origin in [
        ("delay from the poster receiving the 201 to the event arriving"
         " (ms; negative: before the 201)", acked),
        ("delay from the poster sending the POST to the event arriving (ms)", sent),
    ]:
        last, median, every = delays(origin)
        print()
        print(title)
        print(row.format("", "median", "p99", "max"))
        for label, values in [
            ("to the last of the subscribers, per post", last),
            ("to the median subscriber, per post", median),
            (f"every delivery ({len(every)})", every),
        ]:
            v = sorted(values)
            if v:
                print(row.format(label, f"{statistics.median(v):.2f}",
                                 f"{nearest_rank(v, 0.99):.2f}", f"{v[-1]:.2f}"))
    print(f"  (p99 is by nearest rank: over {args.posts} posts it is the largest)")
    print()
    print(f"CPU during the posts and their delivery ({args.posts} posts): server {server_cpu:.2f} s"
          f" ({server_cpu * 1000 / args.posts:.1f} ms per post), client processes {client_cpu:.2f} s"
          f" ({client_cpu * 1000 / args.posts:.1f} ms per post)")
    print(f"heartbeats received: {heartbeats}; streams closed by the server: {closed}")
    ok = not failed and bad == 0 and complete == args.posts and connected == n and closed == 0
    if ok:
        print(f"check: all {connected} subscribers received all {args.posts} events, once each,"
              " in order: OK")
        return 0
    print(f"FAIL: {complete} of {args.posts} posts reached every subscriber; {bad} subscribers"
          f" saw a wrong sequence, e.g. {bad_examples[:2]}")
    return 1


def finish(workers, code):
    """Tells every worker to stop recording; returns their results (or `code`)."""
    for _, pipe in workers:
        pipe.send("finish")
    results = []
    for proc, pipe in workers:
        if code is None:
            results.append(pipe.recv())
        proc.join(timeout=60)
    return results if code is None else code


if __name__ == "__main__":
    sys.exit(main())
