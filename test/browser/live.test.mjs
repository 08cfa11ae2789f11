// Live: a reply made elsewhere appears once without reload and is counted in the title while
// the tab is hidden; a deletion kills the links to the post; the watcher's unread count rises;
// filters and hiding; the theme persists.

import { test } from "node:test";
import assert from "node:assert/strict";
import { serve, openPage, api } from "./harness.mjs";

const env = serve();

/** The tab goes to the background, as when a person switches tabs. */
async function hide(page) {
  await page.evaluate(() => {
    Object.defineProperty(document, "hidden", { value: true, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
}

async function show(page) {
  await page.evaluate(() => {
    Object.defineProperty(document, "hidden", { value: false, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
}

test("a reply from a second browser appears live, once, counted in the title while hidden; links to a deleted post die", async () => {
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Live", body: "follow me" });
  const first = await openPage(env.browser);
  const second = await openPage(env.browser);
  await first.page.goto(`${env.base}/b/thread/${t.no}`);
  await first.page.locator(`article#p${t.no}`).waitFor();
  await first.page.waitForFunction(() => document.title.includes("Live"));
  await hide(first.page);
  await second.page.goto(`${env.base}/b/thread/${t.no}`);
  await second.page.getByLabel("Comment").fill("hello from elsewhere");
  await second.page.getByRole("button", { name: "Post reply" }).click();
  await second.page.locator("article.reply", { hasText: "hello from elsewhere" }).waitFor();
  await first.page.locator("article.reply", { hasText: "hello from elsewhere" }).waitFor();
  await first.page.waitForFunction(() => document.title.startsWith("(1) "));
  assert.equal(await first.page.locator("article.reply", { hasText: "hello from elsewhere" }).count(), 1);
  await first.page.locator(".sr-only[aria-live]", { hasText: "New post" }).waitFor({ state: "attached" });
  await show(first.page);
  await first.page.waitForFunction(() => !document.title.startsWith("("));
  // A deletion elsewhere marks the post deleted, and the links to it die where they are
  // shown: in a reply of its thread, and in another thread open in the second browser.
  const r = await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: "short-lived", password: "pw" });
  const q = await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: `>>${r.no} quoting it` });
  const other = await api(env.base, "/api/boards/b/threads", { body: `>>${r.no} from another thread` });
  const following = second.page.waitForResponse((res) => res.url().includes(`/api/live?board=b&thread=${other.no}`));
  await second.page.goto(`${env.base}/b/thread/${other.no}`);
  await following;
  const link = (page, no) => page.locator(`article#p${no} .body a.quotelink[data-no="${r.no}"]`);
  const dead = (page, no) => page.locator(`article#p${no} .body span.deadlink`, { hasText: `>>${r.no}` });
  await link(first.page, q.no).waitFor();
  await link(second.page, other.no).waitFor();
  await api(env.base, `/api/boards/b/posts/${r.no}/delete`, { password: "pw" });
  await first.page.locator(`article#p${r.no}`).getByText("(deleted)").waitFor();
  await dead(first.page, q.no).waitFor();
  await dead(second.page, other.no).waitFor();
  assert.equal(await link(first.page, q.no).count(), 0);
  assert.equal(await link(second.page, other.no).count(), 0);
  await first.context.close();
  await second.context.close();
});

test("a reply made after the thread was read but before its stream opened appears once", async () => {
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Gap", body: "read me" });
  const { page, context } = await openPage(env.browser);
  // The thread's stream is held back until a reply has been posted: that reply is in neither
  // the thread the page read nor the events the stream sends from its start.
  /** @type {() => void} */
  let release = () => {};
  const released = new Promise((resolve) => (release = () => resolve(undefined)));
  /** @param {URL} url */
  const stream = (url) => url.pathname === "/api/live" && url.searchParams.get("thread") === String(t.no);
  await page.route(stream, async (route) => {
    await released;
    await route.continue();
  });
  const asked = page.waitForRequest((request) => stream(new URL(request.url())));
  await page.goto(`${env.base}/b/thread/${t.no}`);
  await page.locator(`article#p${t.no}`).waitFor();
  await page.waitForFunction(() => document.title.includes("Gap"));
  await asked;
  const r = await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: "made in the gap" });
  release();
  await page.locator(`article#p${r.no}`, { hasText: "made in the gap" }).waitFor();
  // A reply after the stream opened comes once too, from the stream.
  const after = await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: "made after" });
  await page.locator(`article#p${after.no}`).waitFor();
  assert.equal(await page.locator("article.reply").count(), 2);
  await context.close();
});

test("the board index and catalog offer new threads and bumps from elsewhere without reloading", async () => {
  const old = await api(env.base, "/api/boards/b/threads", { subject: "Old news", body: "already here" });
  const quiet = await api(env.base, "/api/boards/b/threads", { subject: "Quiet", body: "bump me" });
  const { page, context, errors } = await openPage(env.browser);
  await page.goto(`${env.base}/b/catalog`);
  await page.locator(".card", { hasText: "Old news" }).waitFor();
  await page.evaluate(() => {
    /** @type {any} */ (window).marker = 1;
  });
  // A second browser starts a thread from the form.
  const other = await openPage(env.browser);
  await other.page.goto(`${env.base}/b/`);
  await other.page.getByText("Start a new thread").click();
  await other.page.getByLabel("Subject").fill("Brand new");
  await other.page.getByLabel("Comment").fill("fresh thread");
  await other.page.getByRole("button", { name: "Create thread" }).click();
  await other.page.getByRole("heading", { name: "Brand new" }).waitFor();
  // Offered, not shown, until asked for.
  const bar = page.getByRole("button", { name: "1 new thread — show" });
  await bar.waitFor();
  assert.equal(await page.locator(".card", { hasText: "Brand new" }).count(), 0);
  // A reply in the new thread quotes an old one (which changes the quoted post, not its thread),
  // then a reply bumps another thread on the page.
  await other.page.getByLabel("Comment").fill(`>>${old.no} quoting`);
  await other.page.getByRole("button", { name: "Post reply" }).click();
  await other.page.locator("article.reply", { hasText: "quoting" }).waitFor();
  await api(env.base, `/api/boards/b/threads/${quiet.no}/posts`, { body: "bump" });
  await page.getByRole("button", { name: "1 new thread, 1 updated — show" }).waitFor();
  await page.getByRole("button", { name: /— show$/ }).click();
  await page.locator(".card", { hasText: "Brand new" }).waitFor();
  await page.locator(".card", { hasText: "Quiet" }).getByText("R: 1 / I: 0").waitFor();
  assert.equal(await page.getByRole("button", { name: /— show$/ }).count(), 0);
  // The board index does the same.
  await page.getByRole("link", { name: "Index" }).click();
  await page.locator(".index-thread", { hasText: "Brand new" }).waitFor();
  await api(env.base, "/api/boards/b/threads", { subject: "Newer still", body: "another" });
  await page.getByRole("button", { name: "1 new thread — show" }).click();
  await page.locator(".index-thread", { hasText: "Newer still" }).waitFor();
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).marker), 1, "no page reload");
  assert.deepEqual(errors, []);
  await other.context.close();
  await context.close();
});

test("a thread started after the catalog was read but before its stream opened is offered", async () => {
  await api(env.base, "/api/boards/b/threads", { subject: "Already there", body: "seen" });
  const { page, context } = await openPage(env.browser);
  // The board's stream is held back until a thread has been started: that thread is in
  // neither the catalog the page read nor the events the stream sends from its start.
  /** @type {() => void} */
  let release = () => {};
  const released = new Promise((resolve) => (release = () => resolve(undefined)));
  /** @param {URL} url */
  const stream = (url) => url.pathname === "/api/live" && url.searchParams.get("board") === "b";
  await page.route(stream, async (route) => {
    await released;
    await route.continue();
  });
  const asked = page.waitForRequest((request) => stream(new URL(request.url())));
  await page.goto(`${env.base}/b/catalog`);
  await page.locator(".card", { hasText: "Already there" }).waitFor();
  await asked;
  await api(env.base, "/api/boards/b/threads", { subject: "Started in the gap", body: "unseen" });
  release();
  await page.getByRole("button", { name: "1 new thread — show" }).click();
  await page.locator(".card", { hasText: "Started in the gap" }).waitFor();
  await context.close();
});

test("watched threads count unread replies live and survive reloads", async () => {
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Watch me", body: "watched" });
  const { page, context } = await openPage(env.browser);
  await page.goto(`${env.base}/b/catalog`);
  await page.getByRole("button", { name: `Watch thread ${t.no}` }).click();
  await page.reload();
  await page.getByRole("button", { name: /^Watched/ }).click();
  const panel = page.getByRole("region", { name: "Watched threads" });
  await panel.getByText("Watch me").waitFor();
  await panel.getByLabel("0 unread").waitFor();
  await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: "one" });
  await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: "two" });
  await panel.getByLabel("2 unread").waitFor();
  await page.getByRole("button", { name: "Watched (2)" }).waitFor();
  await panel.getByRole("link", { name: /Watch me/ }).click();
  await page.locator("article.reply", { hasText: "two" }).waitFor();
  await page.getByRole("button", { name: "Watched", exact: true }).waitFor();
  // A reply made while no page of the board is open counts once the watcher starts again.
  await page.goto("about:blank");
  await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: "three" });
  await page.goto(`${env.base}/b/catalog`);
  await page.getByRole("button", { name: "Watched (1)" }).waitFor();
  await context.close();
});

test("a thread watched from the catalog counts its replies so far as unread", async () => {
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Busy already", body: "op" });
  for (const body of ["first", "second", "third"]) {
    await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body });
  }
  const { page, context } = await openPage(env.browser);
  await page.goto(`${env.base}/b/catalog`);
  await page.getByRole("button", { name: `Watch thread ${t.no}` }).click();
  await page.getByRole("button", { name: "Watched (3)" }).waitFor();
  await page.reload();
  await page.getByRole("button", { name: "Watched (3)" }).waitFor();
  await page.getByRole("button", { name: /^Watched/ }).click();
  await page.getByRole("region", { name: "Watched threads" }).getByLabel("3 unread").waitFor();
  await context.close();
});

test("filters and hiding hide matching posts; the theme persists across reloads", async () => {
  const t = await api(env.base, "/api/boards/c/threads", { body: "filter test" });
  await api(env.base, `/api/boards/c/threads/${t.no}/posts`, { body: "buy cheap pills", name: "spammer" });
  await api(env.base, `/api/boards/c/threads/${t.no}/posts`, { body: "a good post", name: "Bob#trip" });
  const { page, context } = await openPage(env.browser);
  await page.goto(`${env.base}/c/thread/${t.no}`);
  await page.getByText("buy cheap pills").waitFor();
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByLabel(/Filters, one per line/).fill("text:cheap\\s+pills");
  await page.getByText("buy cheap pills").waitFor({ state: "detached" });
  await page.getByText("a good post").waitFor();
  await page.getByLabel("Theme").selectOption("dark");
  await page.getByRole("button", { name: "Close" }).click();
  // Hide a post by hand.
  const good = page.locator("article.reply", { hasText: "a good post" });
  const no = await good.getAttribute("data-no");
  await good.getByLabel(`Menu of post ${no}`).click();
  await good.getByRole("button", { name: "Hide post" }).click();
  await page.getByText("a good post").waitFor({ state: "detached" });
  await page.reload();
  await page.locator(`article#p${t.no}`).waitFor();
  assert.equal(await page.getByText("buy cheap pills").count(), 0);
  assert.equal(await page.getByText("a good post").count(), 0);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, "rgb(22, 24, 28)");
  await page.locator(`article#p${no}`).getByRole("button", { name: "Show" }).click();
  await page.getByText("a good post").waitFor();
  await context.close();
});
