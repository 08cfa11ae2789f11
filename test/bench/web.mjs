// Web client benchmark (run by test/bench/web.sh): bytes before first paint, everything the
// app can load (gzip), and timings in headless Chromium on loopback with a cold cache.
//
// Timings come from the app's User Timing entries: `wani:thread-json` (the thread's JSON has
// arrived), `wani:thread-first-painted` (a frame after the first screenful of posts is in the
// DOM), `wani:thread-painted` / `wani:catalog-painted` (a frame after all the posts or cards
// are in the DOM), and `wani:live-append` (from an SSE event's arrival to the frame showing it).
// Nothing runs in the page while it loads (see `visit`): the marks are read once it is done.
// WANI_BIN may name an older build; a mark it does not make is reported as n/a. PROFILE=1
// prints where the main thread's time goes instead of the timings.

import { gzipSync, deflateSync } from "node:zlib";
import { loadavg, cpus, tmpdir } from "node:os";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startServer, launch, openPage } from "../browser/harness.mjs";

const RUNS = Number(process.env.RUNS || 7);
// Flood control and the request budget are off: seeding posts faster than a person may.
const CONFIG = `
flood_control = false
request_budget_per_minute = 0
request_budget_burst = 0

[[boards]]
slug = "bench"
title = "Bench"
bump_limit = 2000
max_replies = 2000
thread_limit = 150
`;

/** A small solid-colour PNG, different for each `i`, so each thread has its own thumbnail. */
function png(i) {
  const w = 64,
    h = 48;
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, "ascii");
    data.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) row.set([(i * 37) & 255, (i * 91) & 255, (x * 4) & 255], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const LOREM =
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.";

async function post(base, path, fields, file) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append("file", new Blob([file], { type: "image/png" }), "p.png");
  const r = await fetch(base + path, { method: "POST", body: form, headers: { "X-Forwarded-For": "10.9.8.7" } });
  if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

async function thread(base, replies) {
  const t = await post(base, "/api/boards/bench/threads", { subject: `${replies} replies`, body: LOREM }, png(replies));
  for (let i = 1; i <= replies; i++) {
    const quote = i > 1 ? `>>${t.no + i - 1}\n` : "";
    await post(
      base,
      `/api/boards/bench/threads/${t.no}/posts`,
      { body: `${quote}Reply ${i}. ${LOREM}` },
      i % 10 === 0 ? png(10000 + i) : undefined,
    );
  }
  return t.no;
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** The middle half of the loads, "p25–p75 ms": on a shared machine single loads vary by ±40 ms. */
const quartiles = (/** @type {number[]} */ xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  return `${s[Math.floor((s.length - 1) / 4)].toFixed(0)}–${s[Math.ceil(((s.length - 1) * 3) / 4)].toFixed(0)} ms`;
};

/** How long a load is left alone before its marks are read: several times its longest load. */
const QUIET_MS = 1500;

/** The machine's busy CPU time so far, in ms summed over its CPUs (Linux's /proc/stat, USER_HZ 100). */
function busyMs() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + steal) * 10;
}

/** How long the machine must stay idle before a load starts, and how long that is waited for. */
const REST_MS = 200;
const REST_AT_MOST_MS = 5000;
/** Loads that started without the machine at rest (printed at the end; none is expected). */
let restless = 0;

/**
 * Waits until the machine is at rest: REST_MS in which all its CPUs together were busy for
 * less than a tenth of one. The whole browser builds a window for each new context, and keeps
 * both CPUs of this machine busy for 400 to 500 ms after Playwright's `newPage` has returned
 * (measured: 160 to 190 ms of CPU per 100 ms); the headless shell builds none. A load started
 * during that measures the browser's window, not the page, which a reader opening a link in a
 * browser already running never waits for. The cache stays cold: the context is new. REST=0
 * starts each load at once instead, as this script did before.
 */
async function rest() {
  if (process.env.REST === "0") return;
  const until = Date.now() + REST_AT_MOST_MS;
  let last = busyMs();
  let quiet = 0;
  while (quiet < REST_MS) {
    if (Date.now() > until) {
      restless += 1;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = busyMs();
    quiet = now - last < 5 ? quiet + 50 : 0;
    last = now;
  }
}

/**
 * Opens `url` once the machine is at rest (see `rest`) and waits until the page has made
 * `mark`, without running anything in the page while it loads. Playwright's `waitForFunction`
 * polls in the page once a frame, on the main thread the page paints with, and its first call
 * compiles Playwright's injected script there (8 to 15 ms in a trace on this machine, in the
 * middle of a thread's load); a reader's browser runs none of that. So the page is left alone
 * for QUIET_MS, and the User Timing marks, which hold their own times, are read afterwards.
 * @param {import("playwright-core").Page} page @param {string} url @param {string} mark
 */
async function visit(page, url, mark) {
  await rest();
  await page.goto(url, { waitUntil: "commit" });
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  await page.waitForFunction((m) => performance.getEntriesByName(m).length > 0, mark, { timeout: 30000 });
}

/**
 * The CPU time of the page's main thread from navigation to `mark`, from a Chromium trace (the
 * thread time of its tasks): on a shared machine it moves much less with the load than the
 * wall-clock figures do.
 */
async function mainThreadCpu(browser, url, mark) {
  const { page, context } = await openPage(browser);
  const path = join(tmpdir(), `wani-bench-trace-${process.pid}.json`);
  await rest();
  await browser.startTracing(page, {
    path,
    categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing"],
  });
  await visit(page, url, mark);
  await browser.stopTracing();
  await context.close();
  const { traceEvents } = JSON.parse(readFileSync(path, "utf8"));
  rmSync(path);
  const at = traceEvents.find((e) => e.name === mark);
  const main = traceEvents.find(
    (e) => e.pid === at.pid && e.name === "thread_name" && e.args.name === "CrRendererMain",
  );
  return (
    traceEvents
      .filter((e) => e.pid === at.pid && e.tid === main.tid && e.name === "RunTask" && e.ph === "X" && e.ts <= at.ts)
      .reduce((sum, e) => sum + (e.tdur ?? e.dur ?? 0), 0) / 1000
  );
}

/**
 * Where the main thread's time goes from navigation to `mark` (PROFILE=1): the trace's events
 * by self time (script, style, layout, paint, HTML parsing...), and the script's functions by
 * self time from the V8 sampling profiler, the largest first.
 */
async function profile(browser, url, mark) {
  const { page, context } = await openPage(browser);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  await cdp.send("Profiler.start");
  const path = join(tmpdir(), `wani-bench-trace-${process.pid}.json`);
  await rest();
  await browser.startTracing(page, { path, categories: ["devtools.timeline", "blink.user_timing"] });
  await visit(page, url, mark);
  await browser.stopTracing();
  const { profile: cpu } = await cdp.send("Profiler.stop");
  await context.close();
  const { traceEvents } = JSON.parse(readFileSync(path, "utf8"));
  rmSync(path);
  const at = traceEvents.find((e) => e.name === mark);
  const main = traceEvents.find(
    (e) => e.pid === at.pid && e.name === "thread_name" && e.args.name === "CrRendererMain",
  );
  const events = traceEvents
    .filter((e) => e.pid === at.pid && e.tid === main.tid && e.ph === "X" && e.ts <= at.ts && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  // Self time: an event's duration less that of the events nested in it.
  const self = new Map();
  const stack = [];
  for (const e of events) {
    while (stack.length && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= e.ts) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - e.dur);
    self.set(e.name, (self.get(e.name) ?? 0) + e.dur);
    stack.push(e);
  }
  const top = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${(v / 1000).toFixed(1).padStart(7)} ms  ${k}`)
      .join("\n");
  console.log(`${url}: main thread by trace event, self time (wall clock):\n${top(self, 14)}`);
  // The sampling profile: each sample's time goes to the function on top of the stack.
  const nodes = new Map(cpu.nodes.map((n) => [n.id, n]));
  const fns = new Map();
  cpu.samples.forEach((id, i) => {
    const { functionName, url: script, lineNumber } = nodes.get(id).callFrame;
    const where = `${functionName || "(anonymous)"} ${script.split("/").pop()}:${lineNumber + 1}`;
    fns.set(where, (fns.get(where) ?? 0) + (cpu.timeDeltas[i] ?? 0));
  });
  console.log(`${url}: script by function, self time (sampled):\n${top(fns, 20)}`);
}

/** The median main-thread CPU time over RUNS loads of `url`. */
async function cpuFigure(browser, url, mark) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await mainThreadCpu(browser, url, mark));
  return median(runs);
}

async function timeThread(browser, base, no) {
  const nav = [],
    json = [],
    first = [];
  for (let i = 0; i < RUNS; i++) {
    const { page, context } = await openPage(browser);
    await visit(page, `${base}/bench/thread/${no}`, "wani:thread-painted");
    const [painted, arrived, top] = await page.evaluate(() => [
      performance.getEntriesByName("wani:thread-painted")[0].startTime,
      performance.getEntriesByName("wani:thread-json")[0].startTime,
      performance.getEntriesByName("wani:thread-first-painted")[0]?.startTime ?? NaN,
    ]);
    nav.push(painted);
    json.push(painted - arrived);
    first.push(top);
    await context.close();
  }
  return { nav: median(nav), json: median(json), first: median(first), spread: quartiles(nav) };
}

async function main() {
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(" ");
  console.log(`machine: ${cpus().length} CPUs, load average ${load()} at the start`);
  const server = await startServer(CONFIG);
  const base = server.base;
  const browser = await launch(process.env.WANI_CHROMIUM || "/usr/bin/chromium");
  try {
    // Sizes.
    const entry = await (await fetch(`${base}/bench/thread/1`)).text();
    const eager = [...entry.matchAll(/(?:href|src)="(\/app\/[^"]+)"/g)].map((m) => m[1]);
    const all = [...new Set([...entry.matchAll(/"(\/app\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]))].filter((u) =>
      /\.[0-9a-f]{12}\./.test(u),
    );
    let firstPaint = Buffer.byteLength(entry);
    for (const url of new Set(eager)) firstPaint += (await (await fetch(base + url)).arrayBuffer()).byteLength;
    // The staff console's modules load only for a logged-in staff member (or on the console's
    // own pages); the reader app's budget is what any reader may load.
    const staffOnly = (/** @type {string} */ url) => /^\/app\/(console[^/]*|qrcode|staff)\./.test(url);
    const sizes = { reader: { raw: Buffer.byteLength(entry), gzip: gzipSync(entry, { level: 9 }).length, files: 0 } };
    sizes.staff = { raw: 0, gzip: 0, files: 0 };
    for (const url of all) {
      const bytes = Buffer.from(await (await fetch(base + url)).arrayBuffer());
      const part = staffOnly(url) ? sizes.staff : sizes.reader;
      part.raw += bytes.length;
      part.gzip += gzipSync(bytes, { level: 9 }).length;
      part.files += 1;
    }
    console.log(
      `thread page before first paint: ${(firstPaint / 1024).toFixed(1)} KB uncompressed (entry page, ${[...new Set(eager)].filter((u) => u.endsWith(".js")).length} modules, the stylesheet and the icon)`,
    );
    console.log(
      `everything the reader app can load: ${(sizes.reader.raw / 1024).toFixed(1)} KB, ${(sizes.reader.gzip / 1024).toFixed(1)} KB gzip -9 (${sizes.reader.files} files and the entry page)`,
    );
    console.log(
      `the staff console's modules besides: ${(sizes.staff.raw / 1024).toFixed(1)} KB, ${(sizes.staff.gzip / 1024).toFixed(1)} KB gzip -9 (${sizes.staff.files} files)`,
    );

    // Threads of 300 and 1000 replies, and a catalog of 150 threads with thumbnails.
    const t0 = Date.now();
    const t300 = await thread(base, 300);
    const t1000 = await thread(base, 1000);
    for (let i = 0; i < 148; i++)
      await post(base, "/api/boards/bench/threads", { subject: `Thread ${i}`, body: LOREM }, png(i + 20000));
    console.log(`seeded 1452 posts in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    if (process.env.PROFILE) {
      await profile(browser, `${base}/bench/thread/${t300}`, "wani:thread-painted");
      await profile(browser, `${base}/bench/catalog`, "wani:catalog-painted");
      return;
    }
    const a = await timeThread(browser, base, t300);
    const ms = (/** @type {number} */ x) => (Number.isNaN(x) ? "n/a" : `${x.toFixed(0)} ms`);
    console.log(
      `300-reply thread: navigation start → first screenful painted ${ms(a.first)}, → last post painted ${a.nav.toFixed(0)} ms (middle half ${a.spread}); JSON arrived → painted ${a.json.toFixed(0)} ms (median of ${RUNS}, cold cache)`,
    );
    const b = await timeThread(browser, base, t1000);
    console.log(
      `1000-reply thread: navigation start → first screenful painted ${ms(b.first)}, → last post painted ${b.nav.toFixed(0)} ms; JSON arrived → painted ${b.json.toFixed(0)} ms (${(b.nav / a.nav).toFixed(2)}× the 300-reply figure)`,
    );

    // Live append with 1000 posts on the page.
    const { page, context } = await openPage(browser);
    await visit(page, `${base}/bench/thread/${t1000}`, "wani:thread-painted");
    // The stream is open once the server answers it; give it that long by waiting for a first event.
    const appends = [];
    for (let i = 0; i < RUNS; i++) {
      await post(base, `/api/boards/bench/threads/${t1000}/posts`, { body: `live ${i}` });
      // Left alone while the event arrives and is painted, as the loads are (see `visit`).
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS / 3));
      await page.waitForFunction((n) => performance.getEntriesByName("wani:live-append").length >= n, i + 1);
    }
    const live = await page.evaluate(() => performance.getEntriesByName("wani:live-append").map((e) => e.duration));
    appends.push(...live);
    console.log(
      `live post appended and painted, 1000 posts on the page: median ${median(appends).toFixed(1)} ms, max ${Math.max(...appends).toFixed(1)} ms (${appends.length} posts)`,
    );
    await context.close();

    const cat = [];
    for (let i = 0; i < RUNS; i++) {
      const { page, context } = await openPage(browser);
      await visit(page, `${base}/bench/catalog`, "wani:catalog-painted");
      cat.push(await page.evaluate(() => performance.getEntriesByName("wani:catalog-painted")[0].startTime));
      await context.close();
    }
    console.log(
      `catalog of 150 threads with thumbnails: navigation start → painted ${median(cat).toFixed(0)} ms (middle half ${quartiles(cat)}; median of ${RUNS}, cold cache, thumbnails lazy)`,
    );
    const cpu = [
      ["300-reply thread", `${base}/bench/thread/${t300}`, "wani:thread-painted"],
      ["1000-reply thread", `${base}/bench/thread/${t1000}`, "wani:thread-painted"],
      ["catalog", `${base}/bench/catalog`, "wani:catalog-painted"],
    ];
    for (const [what, url, mark] of cpu) {
      const figure = await cpuFigure(browser, url, mark);
      console.log(`${what}: main-thread CPU from navigation to painted ${figure.toFixed(0)} ms (median of ${RUNS})`);
    }
    console.log(`load average ${load()} at the end; ${restless} loads started without the machine at rest`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
