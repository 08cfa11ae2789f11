// Starts a real wani (fresh data directory, free loopback port) and a real Chromium for the
// browser tests, and offers the few things every test needs: the API for seeding, pages that
// record console errors, and screenshots.

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(join(process.env.WANI_NODE_MODULES || "", "..", "package.json"));
const { chromium } = require("playwright-core");

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

export const CONFIG =
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

export async function launch() {
  // playwright-core gives each launch a fresh profile directory (--user-data-dir).
  return chromium.launch({ executablePath: process.env.WANI_CHROMIUM || "/usr/bin/chromium", args: CHROMIUM_ARGS });
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

/** Saves a screenshot where the run says, for a person to look at. */
export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}
