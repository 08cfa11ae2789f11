// Reading: every page type, the not-found page, previews, inline media, spoilers, phone
// screens, themes, accessibility (axe-core) and the CSP, as a person sees them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { serve, seed, openPage, shot, violations, THEMES, api } from "./harness.mjs";

const env = serve({ seed });

test("home lists the boards and the recent posts", async () => {
  const { page, errors, context } = await openPage(env.browser);
  await page.goto(env.base + "/");
  await page.getByRole("link", { name: "/b/ – Random" }).waitFor();
  await page.getByText("The cooking board").waitFor();
  await page.getByRole("heading", { name: "Recent posts" }).waitFor();
  await page.getByText("Tomato soup tonight").first().waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("board index, catalog, thread and archive open by clicking, without reloads", async () => {
  const { page, errors, context } = await openPage(env.browser);
  await page.goto(env.base + "/");
  await page.evaluate(() => {
    /** @type {any} */ (window).marker = 1;
  });
  await page.getByRole("link", { name: "/b/ – Random" }).click();
  await page.getByRole("heading", { name: "/b/ – Random" }).waitFor();
  await page.getByText("Leaves falling").waitFor();
  assert.equal(new URL(page.url()).pathname, "/b/");
  await page.getByRole("link", { name: "Catalog" }).click();
  await page.locator(".catalog .card").first().waitFor();
  assert.equal(await page.locator(".catalog .card").count(), 2);
  await page
    .locator(".card", { hasText: "Autumn" })
    .getByText(env.seeded.video ? "R: 4 / I: 2" : "R: 3 / I: 1")
    .waitFor();
  // Filter box and sort.
  await page.getByLabel("Filter").fill("leaves");
  await page.waitForFunction(() => document.querySelectorAll(".catalog .card").length === 1);
  await page.getByLabel("Filter").fill("");
  await page.getByLabel("Sort by").selectOption("created");
  await page.getByRole("link", { name: /Autumn/ }).click();
  await page.locator(`article#p${env.seeded.t}`).waitFor();
  assert.equal(new URL(page.url()).pathname, `/b/thread/${env.seeded.t}`);
  await page.locator(".trip").first().waitFor();
  await page.getByRole("link", { name: "Return" }).click();
  await page.getByRole("link", { name: "Archive" }).click();
  await page.getByText("No archived threads.").waitFor();
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).marker), 1, "no page reload");
  await page.goBack();
  await page.getByText("Leaves falling").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("unknown boards and threads show the not-found page", async () => {
  const { page, context } = await openPage(env.browser);
  await page.goto(env.base + "/zz/");
  await page.getByRole("heading", { name: "Not found" }).waitFor();
  await page.goto(env.base + "/b/thread/424242");
  await page.getByRole("heading", { name: "Not found" }).waitFor();
  await page.getByRole("link", { name: "Back to /b/" }).waitFor();
  await shot(page, "not-found-desktop-light");
  const r = await page.goto(env.base + "/nope/nothing/here");
  assert.equal(r?.status(), 404);
  assert.match(await page.content(), /route_not_found/);
  await context.close();
});

test("the entry page says Loading… until the app replaces it; without script it links the JSON API instead", async () => {
  // With script: the page's own placeholder is gone once the thread is shown, and only one main remains.
  const { page, errors, context } = await openPage(env.browser);
  await page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  await page.locator(".thread .post").first().waitFor();
  assert.equal(await page.getByText("Loading…").count(), 0);
  assert.equal(await page.locator("main").count(), 1);
  assert.deepEqual(errors, []);
  await context.close();
  // Without: the no-script message with its links, and no "Loading…" that would never end.
  const off = await openPage(env.browser, { javaScriptEnabled: false });
  await off.page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  // (Playwright's text and role locators do not look inside <noscript>: found by its class.)
  const message = off.page.locator(".noscript");
  assert.ok(await message.isVisible());
  assert.match(await message.innerText(), /web client needs JavaScript\. .* the boards at \/api\/boards/);
  assert.equal(await message.locator("a").first().getAttribute("href"), "/api/boards");
  assert.equal(await off.page.locator("#app .loading").isVisible(), false);
  await off.context.close();
});

test("a quote link the mouse is already over when the previews' code arrives shows its preview", async () => {
  const { page, errors, context } = await openPage(env.browser);
  // The previews' module (loaded after the first paint) is held back until the mouse rests on
  // the link, as on a slow connection.
  /** @type {() => void} */
  let release = () => {};
  const held = new Promise((resolve) => (release = () => resolve(undefined)));
  await page.route(/\/app\/preview\.[0-9a-f]+\.js$/, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  const body = page.locator(`article#p${env.seeded.r2} .body`);
  await body.locator(`a.quotelink[data-no="${env.seeded.r1}"]`).hover();
  release();
  await page.locator(".preview").getByText("lovely").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("hover previews: same thread, another thread, another board; dead links stay dead", async () => {
  const { page, errors, context } = await openPage(env.browser);
  await page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  const body = page.locator(`article#p${env.seeded.r2} .body`);
  await body.waitFor();
  await body.locator(`a.quotelink[data-no="${env.seeded.r1}"]`).hover();
  await page.locator(".preview").getByText("lovely").waitFor();
  await body.locator(`a.quotelink[data-board="b"][data-no="${env.seeded.other}"]`).hover();
  await page.locator(".preview").getByText("Elsewhere on b").waitFor();
  await body.locator(`a.quotelink[data-board="c"]`).hover();
  await page.locator(".preview").getByText("Tomato soup tonight").waitFor();
  await page.mouse.move(0, 0);
  await page.locator(".preview").waitFor({ state: "detached" });
  assert.equal(await body.locator(".deadlink").count(), 1);
  assert.equal(await body.locator(".deadlink a").count(), 0);
  // Backlinks: the OP lists the first reply.
  await page.locator(`article#p${env.seeded.t} .backlinks a[data-no="${env.seeded.r1}"]`).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("touch screens: a tap on a quote expands it inline", async () => {
  const { page, context } = await openPage(env.browser, {
    hasTouch: true,
    isMobile: true,
    viewport: { width: 360, height: 740 },
  });
  await page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  await page.locator(`article#p${env.seeded.r2} a.quotelink[data-board="b"][data-no="${env.seeded.other}"]`).tap();
  await page.locator(`article#p${env.seeded.r2} .inline-quote`).getByText("Elsewhere on b").waitFor();
  await context.close();
});

test("images expand inline, videos play inline, spoilers reveal", async () => {
  const { page, errors, context } = await openPage(env.browser);
  await page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  const op = page.locator(`article#p${env.seeded.t}`);
  await op.locator("img.thumb").click();
  const full = op.locator("img.full");
  await full.waitFor();
  await page.waitForFunction((no) => {
    const img = /** @type {HTMLImageElement|null} */ (document.querySelector(`#p${no} img.full`));
    return img && img.complete && img.naturalWidth === 2560;
  }, env.seeded.t);
  await full.click();
  await op.locator("img.thumb").waitFor();
  // A spoilered file hides until clicked.
  const sp = page.locator(`article#p${env.seeded.spoiled}`);
  await sp.getByText("Spoiler: click to show").click();
  await sp.locator("img.thumb").waitFor();
  // Text spoilers: hidden colour until hovered.
  const words = page.locator(`article#p${env.seeded.r1} .spoiler`);
  const hiddenColor = await words.evaluate((e) => getComputedStyle(e).color === getComputedStyle(e).backgroundColor);
  assert.ok(hiddenColor, "spoiler text starts hidden");
  await words.click();
  const shown = await words.evaluate((e) => getComputedStyle(e).color !== getComputedStyle(e).backgroundColor);
  assert.ok(shown, "spoiler text shows once tapped");
  if (env.seeded.video) {
    const v = page.locator(`article#p${env.seeded.video}`);
    await v.locator("img.thumb").click();
    await page.waitForFunction((no) => {
      const video = /** @type {HTMLVideoElement|null} */ (document.querySelector(`#p${no} video.full`));
      return video && video.readyState >= 2 && video.videoWidth === 160;
    }, env.seeded.video);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test("the gallery loads on demand and shows the thread's files full screen: keys, swipes, Escape", async () => {
  const { page, errors, context } = await openPage(env.browser, { hasTouch: true });
  /** @type {string[]} */
  const scripts = [];
  page.on("request", (r) => scripts.push(new URL(r.url()).pathname));
  await page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  await page.locator(`article#p${env.seeded.t} img.thumb`).waitFor();
  const isGallery = (/** @type {string} */ p) => p.startsWith("/app/gallery.");
  assert.equal(scripts.filter(isGallery).length, 0, "the gallery is not part of the first paint");
  const files = env.seeded.video ? 3 : 2;
  const open = page.getByRole("button", { name: "Gallery" });
  await open.click();
  const gallery = page.getByRole("dialog", { name: "Gallery" });
  await gallery.getByText(`1 / ${files}`).waitFor();
  assert.equal(scripts.filter(isGallery).length, 1, "loaded when opened");
  await gallery.getByRole("img", { name: "Image autumn.jpg" }).waitFor();
  assert.ok(await gallery.getByRole("button", { name: "Close gallery" }).evaluate((b) => b === document.activeElement));
  // The next file is spoilered: hidden until asked for.
  await page.keyboard.press("ArrowRight");
  await gallery.getByText(`2 / ${files}`).waitFor();
  await gallery.getByRole("button", { name: "Spoiler: show" }).click();
  await gallery.getByRole("img", { name: "Image truchet.webp" }).waitFor();
  // j is the page's shortcut, not the gallery's: nothing moves behind it.
  const scrolled = await page.evaluate(() => scrollY);
  await page.keyboard.press("j");
  assert.equal(await page.evaluate(() => scrollY), scrolled);
  await page.keyboard.press("ArrowLeft");
  await gallery.getByText(`1 / ${files}`).waitFor();
  await page.keyboard.press("ArrowLeft");
  await gallery.getByText(`${files} / ${files}`).waitFor();
  // A swipe to the left shows the next file, one to the right the previous.
  const box = /** @type {{x: number, y: number, width: number, height: number}} */ (
    await gallery.locator(".gallery-stage").boundingBox()
  );
  const cdp = await context.newCDPSession(page);
  const swipe = async (/** @type {number} */ dx) => {
    // Beside the middle, where a small video's own controls would take the touch.
    const x = box.x + box.width * 0.75;
    const y = box.y + box.height / 2;
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x, y }] });
    for (let i = 1; i <= 5; i++) {
      await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x: x + (dx * i) / 5, y }] });
    }
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  };
  await swipe(-200);
  await gallery.getByText(`1 / ${files}`).waitFor();
  await swipe(200);
  await gallery.getByText(`${files} / ${files}`).waitFor();
  await gallery.getByRole("button", { name: "Next file" }).click();
  await gallery.getByText(`1 / ${files}`).waitFor();
  await shot(page, "gallery-desktop-light");
  // Escape closes it and gives the focus back.
  await page.keyboard.press("Escape");
  await gallery.waitFor({ state: "detached" });
  assert.ok(await open.evaluate((b) => b === document.activeElement));
  // The g key opens it too.
  await page.keyboard.press("g");
  await gallery.getByText(`1 / ${files}`).waitFor();
  await gallery.getByRole("button", { name: "Close gallery" }).click();
  await gallery.waitFor({ state: "detached" });
  assert.deepEqual(errors, []);
  await context.close();
});

test("thumbnails of a board marked nsfw are blurred until pointed at, unless the setting is off", async () => {
  const { page, errors, context } = await openPage(env.browser);
  // The board's JSON, and its entry in the list of boards, gain `"nsfw": true`, as for a board
  // configured so.
  /** @param {any} b */
  const marked = (b) => (b.slug === "b" ? { ...b, nsfw: true } : b);
  await page.route(
    (url) => url.pathname === "/api/boards/b" || url.pathname === "/api/boards",
    async (route) => {
      const response = await route.fetch();
      const json = await response.json();
      const changed = json.board ? { board: marked(json.board) } : { boards: json.boards.map(marked) };
      await route.fulfill({ response, json: changed });
    },
  );
  const filter = (/** @type {import("playwright-core").Locator} */ img) =>
    img.evaluate((e) => getComputedStyle(e).filter);
  await page.goto(`${env.base}/b/catalog`);
  const card = page.locator(".card", { hasText: "Autumn" }).locator("img");
  await card.waitFor();
  assert.match(await filter(card), /blur/);
  await card.hover();
  assert.equal(await filter(card), "none");
  await page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  const thumb = page.locator(`article#p${env.seeded.t} img.thumb`);
  await thumb.waitFor();
  await page.mouse.move(0, 0);
  assert.match(await filter(thumb), /blur/);
  // A quote's preview floats outside the page's main element, and blurs the quoted post's
  // thumbnails itself.
  const preview = page.locator(".preview img.thumb");
  await page.locator(`article#p${env.seeded.r1} .body a.quotelink[data-no="${env.seeded.t}"]`).hover();
  await preview.waitFor();
  assert.match(await filter(preview), /blur/);
  await page.mouse.move(0, 0);
  // Turned off in the settings: shown as on any board.
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByLabel("Blur thumbnails on NSFW boards").uncheck();
  await page.getByRole("button", { name: "Close" }).click();
  assert.equal(await filter(thumb), "none");
  // A board without the mark is never blurred.
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByLabel("Blur thumbnails on NSFW boards").check();
  await page.getByRole("button", { name: "Close" }).click();
  assert.match(await filter(thumb), /blur/);
  await page.goto(`${env.base}/c/catalog`);
  await page.locator(".card").first().waitFor();
  assert.equal(await page.locator("main.blur-nsfw").count(), 0);
  // A post of the marked board quoted from a page of another: its preview is blurred there.
  const reply = await api(env.base, `/api/boards/c/threads/${env.seeded.c}/posts`, { body: `>>>/b/${env.seeded.t}` });
  await page.goto(`${env.base}/c/thread/${env.seeded.c}`);
  await page.locator(`article#p${reply.no} .body a.quotelink`).hover();
  await preview.waitFor();
  assert.match(await filter(preview), /blur/);
  assert.equal(await page.locator("main.blur-nsfw").count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test("posts from JSON that leaves out null, empty and false fields show the same", async () => {
  const { page, errors, context } = await openPage(env.browser);
  /** @param {any} v @returns {any} */
  const lean = (v) => {
    if (Array.isArray(v)) return v.map(lean);
    if (v === null || typeof v !== "object") return v;
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === null || x === false || x === "" || (Array.isArray(x) && x.length === 0)) continue;
      out[k] = lean(x);
    }
    return out;
  };
  await page.route(
    // Not the live stream, which never ends.
    (url) => url.pathname.startsWith("/api/") && url.pathname !== "/api/live",
    async (route) => {
      const response = await route.fetch();
      if (!(response.headers()["content-type"] || "").includes("application/json")) return route.fulfill({ response });
      await route.fulfill({ response, json: lean(await response.json()) });
    },
  );
  await page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  await page.locator(`article#p${env.seeded.t} img.thumb`).waitFor();
  await page.locator(`article#p${env.seeded.r2} .body a.quotelink[data-no="${env.seeded.r1}"]`).waitFor();
  await page.locator(`article#p${env.seeded.t} .backlinks a[data-no="${env.seeded.r1}"]`).waitFor();
  await page.getByRole("button", { name: "Gallery" }).waitFor();
  await page.getByRole("link", { name: "Catalog" }).click();
  await page.locator(".card", { hasText: "Autumn" }).locator("img").waitFor();
  await page.getByRole("link", { name: "Index" }).click();
  await page.locator(".index-thread", { hasText: "Leaves falling" }).waitFor();
  await page.getByRole("link", { name: "Home" }).click();
  await page.getByRole("heading", { name: "Recent posts" }).waitFor();
  assert.doesNotMatch(await page.locator("#app").innerText(), /undefined|NaN/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("keyboard: j and k move between posts, e expands every image, r opens the quick reply, Escape closes it", async () => {
  const { page, errors, context } = await openPage(env.browser);
  await page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  await page.locator(`article#p${env.seeded.r2}`).waitFor();
  await page.keyboard.press("j");
  await page.waitForFunction(() => document.activeElement?.matches("article.post"));
  const first = await page.evaluate(() => document.activeElement?.getAttribute("data-no"));
  await page.keyboard.press("j");
  await page.waitForFunction((no) => document.activeElement?.getAttribute("data-no") !== no, first);
  await page.keyboard.press("k");
  await page.waitForFunction((no) => document.activeElement?.getAttribute("data-no") === no, first);
  await page.keyboard.press("e");
  await page.locator(`article#p${env.seeded.t} img.full`).waitFor();
  await page.keyboard.press("r");
  const qr = page.getByRole("dialog", { name: "Quick reply" });
  await qr.waitFor();
  await page.waitForFunction(() => document.activeElement?.tagName === "TEXTAREA");
  await page.keyboard.press("Escape");
  await qr.waitFor({ state: "detached" });
  assert.deepEqual(errors, []);
  await context.close();
});

test("the CSP with Trusted Types holds and the page runs under it", async () => {
  const { page, errors, context } = await openPage(env.browser);
  const r = await page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  const csp = r?.headers()["content-security-policy"] || "";
  assert.match(csp, /require-trusted-types-for 'script'/);
  await page.locator(`article#p${env.seeded.r2} .body a.quotelink`).first().waitFor();
  assert.deepEqual(errors, []);
  const blocked = await page.evaluate(() => {
    try {
      document.body.insertAdjacentHTML("beforeend", "<b>x</b>");
      return false;
    } catch {
      return true;
    }
  });
  assert.ok(blocked, "a plain string cannot become HTML");
  await context.close();
});

const PAGES = () => [
  ["home", "/"],
  ["index", "/b/"],
  ["catalog", "/b/catalog"],
  ["thread", `/b/thread/${env.seeded.t}`],
  ["archive", "/b/archive"],
];

/** Waits for a page's content, not a time. */
async function ready(page) {
  await page.locator("main#main:not(.loading)").waitFor();
}

test("axe-core finds no serious or critical violation on any page, in any theme", async () => {
  // bypassCSP lets axe-core be injected; the app itself is tested under the CSP above.
  const { page, context } = await openPage(env.browser, { bypassCSP: true });
  for (const [name, path] of PAGES()) {
    await page.goto(env.base + path);
    await ready(page);
    assert.deepEqual(await violations(page, THEMES), [], name);
  }
  // The gallery, over a thread.
  await page.goto(`${env.base}/b/thread/${env.seeded.t}`);
  await page.getByRole("button", { name: "Gallery" }).click();
  await page.getByRole("dialog", { name: "Gallery" }).getByRole("img").waitFor();
  assert.deepEqual(await violations(page, THEMES), [], "gallery");
  await context.close();
});

test("screenshots of every page type, desktop and phone, light and dark; the phone layout fits", async () => {
  for (const [device, viewport] of [
    ["desktop", { width: 1280, height: 900 }],
    ["phone", { width: 360, height: 740 }],
  ]) {
    for (const scheme of ["light", "dark"]) {
      const { page, context } = await openPage(env.browser, { viewport, colorScheme: scheme });
      for (const [name, path] of PAGES()) {
        await page.goto(env.base + path);
        await ready(page);
        if (device === "phone") {
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
          assert.ok(overflow <= 0, `${name} is wider than the phone screen by ${overflow}px`);
        }
        await shot(page, `${name}-${device}-${scheme}`);
      }
      await context.close();
    }
  }
});
