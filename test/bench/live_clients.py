#!/usr/bin/env python3
"""The poster and the report for test/bench/live.sh, driving the subscriber processes.

The subscribers are examples/live_subscribers.rs (built by live.sh): WORKERS processes share
them, each one thread with raw non-blocking sockets and one epoll, which while the posts are
delivered does nothing per readable socket but read it and note the time (CLOCK_MONOTONIC, the
clock of time.monotonic_ns here); they parse the bytes afterwards. A Python client did the same
at about 14 us of CPU per read, which on a 2-core machine took CPU from the server it measured;
the compiled one costs a fraction of that. This process measures the server's RSS before and
after the connections, then posts the replies one at a time over one keep-alive connection,
noting when each 201 arrived. Python 3.11 standard library only.

Prints the report; exits 1 when a subscriber failed to connect or missed, repeated or reordered
any event.
"""

import argparse
import http.client
import json
import math
import os
import statistics
import subprocess
import sys
import time


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


def start_workers(args):
    """Starts the subscriber processes; returns them once every one has connected its share."""
    n = args.subscribers
    workers = []
    for i in range(args.workers):
        share = n // args.workers + (1 if i < n % args.workers else 0)
        cmd = [args.subscriber_bin, str(args.port), args.board, str(share), str(args.posts)]
        workers.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1))
    connected, failed, reasons = 0, 0, []
    for proc in workers:
        _, ok, bad, why = proc.stdout.readline().split(" ", 3)
        connected, failed = connected + int(ok), failed + int(bad)
        if int(bad):
            reasons.append(why.strip())
    return workers, connected, failed, reasons


def tell(workers, word):
    for proc in workers:
        proc.stdin.write(word + "\n")
        proc.stdin.flush()


def results(proc, posts):
    """One worker's report: arrivals per post, event ids, and its counters."""
    arrivals, ids = [[] for _ in range(posts)], [None] * posts
    out = {}
    for line in proc.stdout:
        word, _, rest = line.rstrip("\n").partition(" ")
        if word == "end":
            break
        if word == "post":
            k, event_id, *times = rest.split(" ")
            k = int(k)
            ids[k] = int(event_id) or None
            arrivals[k] = [int(t) for t in times]
        elif word == "bad":
            count, example = rest.split(" ", 1)
            out["bad"], out["example"] = int(count), example
        else:
            out[word] = float(rest)
    proc.wait(timeout=60)
    return arrivals, ids, out


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
    parser.add_argument("--subscriber-bin", required=True,
                        help="examples/live_subscribers, built")
    args = parser.parse_args()
    n, pid = args.subscribers, args.server_pid

    rss_before = server_rss_kib(pid)
    connect_started = time.monotonic()
    workers, connected, failed, reasons = start_workers(args)
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
    # The keep-alive connection is opened before the measured posts, with a read that sends the
    # subscribers nothing, so that the first post's 201 does not include connecting.
    conn.request("GET", f"/api/boards/{args.board}")
    conn.getresponse().read()
    sent, acked, numbers = [], [], []
    tell(workers, "go")
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
            for proc in workers:
                proc.kill()
            return 1
        numbers.append(json.loads(data)["no"])
    time.sleep(args.drain_s)
    server_cpu = server_cpu_seconds(pid) - server_cpu_before
    rss_end = server_rss_kib(pid)

    tell(workers, "finish")
    arrivals = [[] for _ in range(args.posts)]
    ids, bad, bad_examples, heartbeats, closed, client_cpu = None, 0, [], 0, 0, 0.0
    for proc in workers:
        worker_arrivals, worker_ids, out = results(proc, args.posts)
        for k in range(args.posts):
            arrivals[k] += worker_arrivals[k]
        ids = ids or worker_ids
        if out["bad"]:
            bad, bad_examples = bad + out["bad"], bad_examples + [out["example"]]
        heartbeats += int(out["heartbeats"])
        closed += int(out["closed"])
        client_cpu += out["cpu"]

    complete = sum(1 for k in range(args.posts) if len(arrivals[k]) == connected)
    post_ms = sorted(ms(a - s) for s, a in zip(sent, acked))
    print("the poster's 201s in posting order (ms): "
          + " ".join(f"{ms(a - s):.1f}" for s, a in zip(sent, acked)))
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
    deliveries = args.posts * max(connected, 1)
    print(f"server CPU per subscriber-event: {server_cpu * 1e6 / deliveries:.2f} us"
          f" (client: {client_cpu * 1e6 / deliveries:.2f} us)")
    print(f"heartbeats received: {heartbeats}; streams closed by the server: {closed}")
    ok = not failed and bad == 0 and complete == args.posts and connected == n and closed == 0
    if ok:
        print(f"check: all {connected} subscribers received all {args.posts} events, once each,"
              " in order: OK")
        return 0
    print(f"FAIL: {complete} of {args.posts} posts reached every subscriber; {bad} subscribers"
          f" saw a wrong sequence, e.g. {bad_examples[:2]}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
