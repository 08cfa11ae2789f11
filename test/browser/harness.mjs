// Starts a real wani (fresh data directory, free loopback port) and a real Chromium for the
// browser tests, and offers the few things every test needs: the API for seeding, pages that
// record console errors, and screenshots.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync, existsSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { before, after } from "node:test";
import assert from "node:assert/strict";

const require = createRequire(join(process.env.WANI_NODE_MODULES || "", "..", "package.json"));
const { chromium } = require("playwright-core");
const puppeteer = require("puppeteer-core");

export const ROOT = new URL("../..", import.meta.url).pathname;
export const FIXTURES = join(ROOT, "test/fixtures/images");
export const SHOTS = process.env.WANI_SHOTS || join(ROOT, "target/browser-screenshots");
const BIN = process.env.WANI_BIN || join(ROOT, "target/debug/wani");
const FFMPEG = "/usr/bin/ffmpeg";

const BOARD = (slug, title, extra = "") => `
[[boards]]
slug = "${slug}"
title = "${title}"
description = "The ${title.toLowerCase()} board"
max_body_chars = 200
${extra}`;

// Flood control and the request budget are off: the tests post faster than a person may, from
// one address (the e2e harness does the same; test/e2e/flood covers them).
export const CONFIG =
  "flood_control = false\nrequest_budget_per_minute = 0\nrequest_budget_burst = 0\n" +
  (existsSync(FFMPEG) ? `ffmpeg_path = "${FFMPEG}"\n` : "") +
  BOARD("b", "Random", 'allowed_types = ["jpeg", "png", "gif", "webp", "webm", "mp4"]') +
  BOARD("c", "Cooking", "poster_ids = true");

/**
 * @param {string} [config]
 * @returns {Promise<{base: string, stop: () => Promise<void>, dir: string}>}
 */
export async function startServer(config = CONFIG) {
  const dir = mkdtempSync(join(tmpdir(), "wani-browser-"));
  writeFileSync(join(dir, "config.toml"), config);
  const child = spawn(
    BIN,
    ["--listen", "127.0.0.1:0", "--data", join(dir, "data"), "--config", join(dir, "config.toml")],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, WANI_CONFIG: "" },
    },
  );
  let log = "";
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wani did not start:\n${log}`)), 20000);
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const m = /listening on (http:\/\/[0-9.:]+)\//.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`wani exited with ${code}:\n${log}`)));
  });
  return {
    base,
    dir,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--autoplay-policy=no-user-gesture-required",
];

/**
 * What a test file shares: a wani started before its tests and a browser launched beside it,
 * both stopped after them. The fields are set once the `before` hook has run.
 * @param {{config?: string, browser?: () => Promise<any>, seed?: (base: string) => Promise<any>}} [options]
 *   `browser` launches another browser than Chromium (see `launchFirefox`); `seed` fills the
 *   server before the tests, its answer is `env.seeded`
 * @returns {{server: any, browser: any, base: string, seeded: any}}
 */
export function serve({ config = CONFIG, browser = launch, seed = async () => ({}) } = {}) {
  const env = { server: null, browser: null, base: "", seeded: /** @type {any} */ ({}) };
  // One hook: the test runner does not promise to finish one `before` before the next starts.
  before(async () => {
    env.server = await startServer(config);
    env.base = env.server.base;
    env.seeded = await seed(env.base);
    env.browser = await browser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/**
 * The Chromium the tests drive: Debian's headless shell (package chromium-headless-shell), the
 * same Blink as Debian's chromium built without the browser's own interface, as playwright runs
 * its headless tests; it spends about 40 % less CPU on the same tests, which on a busy two-core
 * machine makes test/run end sooner. The web benchmark measures the whole browser, as readers
 * run it (`WANI_CHROMIUM` names another).
 */
export const TEST_CHROMIUM = "/usr/bin/chromium-headless-shell";

/** @param {string} [executablePath] */
export async function launch(executablePath = process.env.WANI_CHROMIUM || TEST_CHROMIUM) {
  // playwright-core gives each launch a fresh profile directory (--user-data-dir).
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/** Debian's Firefox ESR, driven by puppeteer-core over WebDriver BiDi, in a fresh profile. */
export async function launchFirefox() {
  return puppeteer.launch({
    browser: "firefox",
    executablePath: process.env.WANI_FIREFOX || "/usr/bin/firefox-esr",
    headless: true,
    extraPrefsFirefox: { "media.autoplay.default": 0 },
  });
}

/**
 * A page in a fresh context that records console errors, page errors and CSP reports.
 * @param {import("playwright-core").Browser} browser
 * @param {object} [options] context options (viewport, colorScheme, ...)
 */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return { context, page, errors };
}

/** POSTs JSON (or multipart when `files` are given) to the API, as a script would. */
export async function api(base, path, body, files = []) {
  let init;
  if (files.length) {
    const form = new FormData();
    for (const [k, v] of Object.entries(body)) form.append(k, String(v));
    for (const f of files) form.append("file", new Blob([f.bytes], { type: f.type }), f.name);
    init = { method: "POST", body: form };
  } else {
    init = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  }
  const r = await fetch(base + path, init);
  const json = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

export async function getJson(base, path) {
  const r = await fetch(base + path);
  return r.json();
}

/**
 * The threads the reading tests look at: on b, a thread with an image quoting within, across
 * threads and across boards, a spoilered file and (with ffmpeg) a video; on c, a thread to
 * quote. Returns their numbers.
 * @param {string} base
 * @returns {Promise<Record<string, number>>}
 */
export async function seed(base) {
  /** @type {Record<string, number>} */
  const seeded = {};
  const jpg = readFileSync(join(FIXTURES, "autumn-2560x1600.jpg"));
  // Board c: a thread to quote across boards.
  const c = await api(base, "/api/boards/c/threads", { subject: "Soup", body: "Tomato soup tonight" });
  // Board b: a thread with an image, quoting within, across threads and across boards.
  const other = await api(base, "/api/boards/b/threads", { subject: "Other thread", body: "Elsewhere on b" });
  const t = await api(
    base,
    "/api/boards/b/threads",
    { subject: "Autumn", body: "Leaves falling", name: "Alice#secret" },
    [{ bytes: jpg, type: "image/jpeg", name: "autumn.jpg" }],
  );
  const r1 = await api(base, `/api/boards/b/threads/${t.no}/posts`, { body: `>>${t.no}\nlovely ||hidden words||` });
  const r2 = await api(base, `/api/boards/b/threads/${t.no}/posts`, {
    body: `>>${r1.no} same thread\n>>${other.no} other thread\n>>>/c/${c.no} other board\n>>999999 dead`,
  });
  const spoiled = await api(base, `/api/boards/b/threads/${t.no}/posts`, { body: "behind a spoiler", spoiler: 0 }, [
    { bytes: readFileSync(join(FIXTURES, "truchet.webp")), type: "image/webp", name: "truchet.webp" },
  ]);
  Object.assign(seeded, { c: c.no, other: other.no, t: t.no, r1: r1.no, r2: r2.no, spoiled: spoiled.no });
  if (existsSync(FFMPEG)) {
    const webm = join(tmpdir(), `wani-test-${process.pid}.webm`);
    execFileSync(FFMPEG, [
      "-loglevel",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=160x120:rate=10",
      "-t",
      "1",
      "-c:v",
      "libvpx",
      webm,
    ]);
    const v = await api(base, `/api/boards/b/threads/${t.no}/posts`, { body: "a video" }, [
      { bytes: readFileSync(webm), type: "video/webm", name: "clip.webm" },
    ]);
    seeded.video = v.no;
  }
  // Archive: a thread pushed out needs thread_limit threads; the archive page is shown empty here.
  return seeded;
}

/** Saves a screenshot where the run says, for a person to look at. */
export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** The themes a reader can pick besides "system" (which follows the browser's scheme). */
export const THEMES = ["light", "dark", "classic"];

/**
 * axe-core's serious and critical violations on the page as it is, in each of `themes` in turn, or
 * in the page's own theme when none are given; each finding names its theme. A theme is applied
 * where the app applies the reader's setting, on `<html data-theme>` (the themes are CSS alone),
 * so one page load is checked in every theme; the page's own theme is put back after. The page
 * must allow the injected axe-core (a context made with `bypassCSP: true`).
 * @param {import("playwright-core").Page} page @param {string[]} [themes]
 */
export async function violations(page, themes = []) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: AXE });
  return page.evaluate(async (themes) => {
    const root = document.documentElement;
    const own = root.dataset.theme;
    /** @type {string[]} */
    const found = [];
    for (const theme of themes.length > 0 ? themes : [""]) {
      if (theme) root.dataset.theme = theme;
      // @ts-ignore
      const r = await axe.run(document, { resultTypes: ["violations"] });
      for (const v of r.violations) {
        if (v.impact !== "serious" && v.impact !== "critical") continue;
        const nodes = v.nodes.map((/** @type {any} */ n) => n.target.join(" ")).join(", ");
        found.push(`${theme ? `${theme}: ` : ""}${v.id}: ${nodes}`);
      }
    }
    if (own === undefined) delete root.dataset.theme;
    else root.dataset.theme = own;
    return found;
  }, themes);
}

/** The console errors a page logged, less the 4xx answers a test provokes on purpose. @param {string[]} errors */
export const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));

/**
 * Signs `username` up over HTTP and returns a function that POSTs JSON with its session (cookie and
 * CSRF token), asserting the answer is a success.
 * @param {string} base @param {string} username @param {string} password
 */
export async function signupApi(base, username, password) {
  const r = await fetch(`${base}/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const answer = await r.json();
  assert.equal(r.status, 201, JSON.stringify(answer));
  const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0];
  return async (/** @type {string} */ path, /** @type {any} */ body) => {
    const a = await fetch(base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", cookie, "x-csrf-token": answer.csrf },
      body: JSON.stringify(body),
    });
    const json = await a.json();
    assert.ok(a.ok, `${path}: ${JSON.stringify(json)}`);
    return json;
  };
}
