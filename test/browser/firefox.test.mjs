// A smoke run in Firefox (Debian's firefox-esr over WebDriver BiDi, driven by puppeteer-core):
// the main pages open and work under the same CSP and Trusted Types, and posting works, with
// no console error. The Chromium tests cover each behaviour in depth.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { serve, seed, launchFirefox, api, shot, FIXTURES } from "./harness.mjs";

const env = serve({ seed, browser: launchFirefox });

/**
 * A page in a fresh browser context that records console errors and page errors.
 * @returns {Promise<{page: import("puppeteer-core").Page, context: import("puppeteer-core").BrowserContext, errors: string[]}>}
 */
async function open() {
  const context = await env.browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  /** @type {string[]} */
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return { page, context, errors };
}

/** @param {import("puppeteer-core").Page} page @param {string} selector @param {string} text */
function withText(page, selector, text) {
  return page.waitForSelector(`${selector} ::-p-text(${JSON.stringify(text)})`);
}

test("Firefox: home, board, catalog, thread, archive and not found open, with previews and inline images", async () => {
  const { page, context, errors } = await open();
  await page.goto(env.base + "/");
  await withText(page, "main", "The cooking board");
  await withText(page, "main", "Tomato soup tonight");
  // Pages change without a reload.
  await page.evaluate(() => {
    /** @type {any} */ (window).marker = 1;
  });
  await page.locator('a[href="/b/"] ::-p-text(Random)').click();
  await withText(page, "article.op", "Leaves falling");
  await shot(page, "firefox-index");
  await page.locator('nav.board-nav a[href="/b/catalog"]').click();
  await withText(page, ".catalog .card", "Autumn");
  assert.equal(await page.$$eval(".catalog .card", (cards) => cards.length), 2);
  await page.locator(".card a.card-link ::-p-text(Autumn)").click();
  await page.waitForSelector(`article#p${env.seeded.t} img.thumb`);
  assert.equal(new URL(page.url()).pathname, `/b/thread/${env.seeded.t}`);
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).marker), 1, "no page reload");
  await shot(page, "firefox-thread");
  // A quote previews the quoted post from another board; an image expands inline.
  await page.hover(`article#p${env.seeded.r2} a.quotelink[data-board="c"]`);
  await withText(page, ".preview", "Tomato soup tonight");
  await page.mouse.move(0, 0);
  await page.click(`article#p${env.seeded.t} img.thumb`);
  await page.waitForFunction(
    (no) => {
      const img = /** @type {HTMLImageElement|null} */ (document.querySelector(`#p${no} img.full`));
      return img && img.complete && img.naturalWidth === 2560;
    },
    {},
    env.seeded.t,
  );
  // The post body came through the Trusted Types policy.
  await page.waitForSelector(`article#p${env.seeded.r1} .body a.quotelink[data-no="${env.seeded.t}"]`);
  await page.goto(`${env.base}/b/archive`);
  await withText(page, "main", "No archived threads.");
  await page.goto(`${env.base}/b/thread/999999`);
  await withText(page, "main h1", "Not found");
  assert.deepEqual(errors, []);
  await context.close();
});

test("Firefox: a new thread with an image from the form, a reply, and a reply from elsewhere live", async () => {
  const { page, context, errors } = await open();
  await page.goto(`${env.base}/b/`);
  await page.locator("details.new-thread summary").click();
  await page.locator("#thread-subject").fill("Firefox photos");
  await page.locator("#thread-body").fill("Posted from Firefox");
  const input = await page.waitForSelector('form input[type="file"]');
  await /** @type {any} */ (input).uploadFile(join(FIXTURES, "cups-2560x1600.jpg"));
  await page.waitForSelector('img[alt="Preview of cups-2560x1600.jpg"]');
  await page.locator("button ::-p-text(Create thread)").click();
  await withText(page, "h2.subject", "Firefox photos");
  await page.waitForSelector("article.op img.thumb");
  await page.waitForSelector("article.op .you-mark");
  const thread = Number(/\/b\/thread\/(\d+)$/.exec(new URL(page.url()).pathname)?.[1]);
  assert.ok(thread > 0);
  await page.locator("#reply-body").fill("a reply from Firefox");
  await page.locator("button ::-p-text(Post reply)").click();
  await withText(page, "article.reply", "a reply from Firefox");
  await page.waitForSelector("article.reply .you-mark");
  await api(env.base, `/api/boards/b/threads/${thread}/posts`, { body: "hello from elsewhere" });
  await withText(page, "article.reply", "hello from elsewhere");
  const count = (/** @type {string} */ text) =>
    page.$$eval("article.reply", (posts, t) => posts.filter((p) => p.textContent?.includes(t)).length, text);
  assert.equal(await count("a reply from Firefox"), 1);
  assert.equal(await count("hello from elsewhere"), 1);
  await shot(page, "firefox-posted");
  assert.deepEqual(errors, []);
  await context.close();
});
