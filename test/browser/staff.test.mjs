// Staff tools on the reading pages as a moderator uses them on a phone: the posters' cloaks,
// deleting and banning from a post's menu (the public mark reaches readers), sticky and lock from
// the OP's menu, multi-select with a result per post, a file ban, the catalog's card menu, and
// that anonymous readers load none of it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { serve, openPage, shot, api, CONFIG, FIXTURES, violations, THEMES, unexpected } from "./harness.mjs";

const PASSWORD = "lantern orchard 7 quietly";
const env = serve({
  config: `${CONFIG}\n[accounts]\nsignup = "open"\nadmins = ["root"]\nargon2_memory_kib = 1024\nargon2_iterations = 1\n`,
});
const SPAMMER = "203.0.113.7";
const PHONE = { viewport: { width: 360, height: 740 } };

/** An account made over HTTP; returns a function that POSTs JSON with its session. @param {string} name */
async function account(name) {
  const r = await fetch(`${env.base}/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: name, password: PASSWORD }),
  });
  const answer = await r.json();
  assert.equal(r.status, 201, JSON.stringify(answer));
  const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0];
  return async (/** @type {string} */ path, /** @type {any} */ body) => {
    const a = await fetch(env.base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", cookie, "x-csrf-token": answer.csrf },
      body: JSON.stringify(body),
    });
    return { status: a.status, json: await a.json() };
  };
}

/** Opens the menu of post `no` and clicks `item`. @param {import("playwright-core").Page} page */
async function fromMenu(page, /** @type {number} */ no, /** @type {string} */ item) {
  await page.getByLabel(`Menu of post ${no}`, { exact: true }).click();
  await page.locator(`article#p${no} .menu ul`).getByRole("button", { name: item, exact: true }).click();
}

/** @param {string} path */
const status = async (path) => (await fetch(env.base + path)).status;

/** @type {any} */
let root;
/** @type {{page: import("playwright-core").Page, context: import("playwright-core").BrowserContext, errors: string[]}} */
let mod;
/** @type {{page: import("playwright-core").Page, context: import("playwright-core").BrowserContext, errors: string[]}} */
let poster;
/** The spam thread and its posts, by what they say. @type {Record<string, number>} */
const nos = {};

test("a poster posts spam from another browser, and loads no staff module", async () => {
  root = await account("root");
  await account("mia");
  const r = await root("/api/admin/users/mia/role", { role: "board_mod", boards: ["b"] });
  assert.equal(r.status, 200, JSON.stringify(r.json));

  poster = await openPage(env.browser, { ...PHONE, extraHTTPHeaders: { "X-Forwarded-For": SPAMMER } });
  const { page } = poster;
  /** @type {string[]} */
  const requests = [];
  page.on("request", (q) => requests.push(new URL(q.url()).pathname));
  await page.goto(env.base + "/b/");
  await page.getByText("Start a new thread").click();
  await page.getByLabel("Subject").fill("Cheap watches");
  await page.getByLabel("Comment").fill("Buy cheap watches now");
  await page.locator('input[type="file"]').setInputFiles(join(FIXTURES, "truchet.webp"));
  await page.getByRole("button", { name: "Create thread" }).click();
  await page.getByRole("heading", { name: "Cheap watches" }).waitFor();
  nos.op = Number(/\/thread\/(\d+)$/.exec(page.url())[1]);
  for (const text of ["spam one", "spam two", "spam three"]) {
    await page.getByLabel("Comment").fill(text);
    await page.getByRole("button", { name: "Post reply" }).click();
    const post = page.locator("article.reply", { hasText: text });
    await post.waitFor();
    nos[text] = Number((await post.getAttribute("id")).slice(1));
  }
  // Someone else replies from another address.
  const other = await fetch(`${env.base}/api/boards/b/threads/${nos.op}/posts`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Forwarded-For": "198.51.100.9" },
    body: JSON.stringify({ body: "please delete this" }),
  }).then((a) => a.json());
  nos.other = other.no;
  await page.locator(`article#p${other.no}`).waitFor();
  assert.deepEqual(
    requests.filter((p) => /^\/app\/(staff|console)|^\/auth\//.test(p)),
    [],
  );
  assert.equal(await page.locator(".cloak").count(), 0);
  assert.deepEqual(poster.errors, []);
});

test("a moderator on a phone sees the posters' cloaks in the thread", async () => {
  mod = await openPage(env.browser, PHONE);
  const { page } = mod;
  await page.goto(env.base + "/login");
  await page.getByLabel("Username").fill("mia");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Console" }).waitFor();
  let asked = 0;
  page.on("request", (q) => (asked += new URL(q.url()).pathname.endsWith("/posters") ? 1 : 0));
  await page.goto(`${env.base}/b/thread/${nos.op}`);
  const cloak = (/** @type {number} */ no) => page.locator(`article#p${no} .cloak`);
  await cloak(nos.other).waitFor();
  const spammer = await cloak(nos.op).textContent();
  assert.match(spammer, /^\S{6,}$/);
  for (const text of ["spam one", "spam two", "spam three"])
    assert.equal(await cloak(nos[text]).textContent(), spammer);
  assert.notEqual(await cloak(nos.other).textContent(), spammer);
  // A moderator sees no address; the posters route was asked once for the thread.
  assert.equal(await page.locator(".address").count(), 0);
  assert.equal(asked, 1);
  await shot(page, "staff-thread-phone");
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 360, `the thread is ${wide} px wide`);
  assert.deepEqual(unexpected(mod.errors), []);
});

test("a post is deleted from its menu after a one-step confirmation", async () => {
  const { page } = mod;
  await page.getByLabel(`Menu of post ${nos["spam one"]}`, { exact: true }).click();
  await shot(page, "staff-menu-phone");
  await page
    .locator(`article#p${nos["spam one"]} .menu ul`)
    .getByRole("button", { name: "Delete", exact: true })
    .click();
  const dialog = page.getByRole("dialog", { name: `Delete post No.${nos["spam one"]}?` });
  await dialog.waitFor();
  await shot(page, "staff-delete-dialog-phone");
  await dialog.getByLabel("Public reason (optional)").fill("Spam");
  await dialog.getByRole("button", { name: "Delete", exact: true }).click();
  await dialog.waitFor({ state: "detached" });
  await page.locator(`article#p${nos["spam one"]}.deleted`).waitFor();
  assert.equal(await status(`/api/boards/b/posts/${nos["spam one"]}`), 410);
  // The poster's page shows it too.
  await poster.page.locator(`article#p${nos["spam one"]}.deleted`).waitFor();
  assert.deepEqual(unexpected(mod.errors), []);
});

test("a ban with a public mark from the menu: the server's refusal in its words, then the mark for readers", async () => {
  const { page } = mod;
  const no = nos["spam two"];
  await fromMenu(page, no, "Ban…");
  const dialog = page.getByRole("dialog", { name: `Ban the poster of post No.${no}` });
  await dialog.waitFor();
  await dialog.getByLabel("Duration", { exact: true }).selectOption("custom");
  await dialog.getByLabel("Custom duration").fill("12");
  await dialog.getByLabel("Unit").selectOption("hours");
  await dialog.getByLabel("Mark the post publicly").check();
  await dialog.getByRole("button", { name: "Ban", exact: true }).click();
  // No reason: the server refuses, and the dialog says so in the server's words.
  const refusal = dialog.getByRole("alert");
  await refusal.waitFor();
  assert.match(await refusal.textContent(), /reason/i);
  await dialog.getByLabel("Public reason").fill("Advertising");
  await dialog.getByLabel("Private note for staff (optional)").fill("watch seller again");
  await shot(page, "staff-ban-dialog-phone");
  await dialog.getByRole("button", { name: "Ban", exact: true }).click();
  await dialog.waitFor({ state: "detached" });
  // The reader sees the mark on the post, live.
  await poster.page.locator(`article#p${no} .body`, { hasText: "(USER WAS BANNED FOR THIS POST)" }).waitFor();
  await page.locator(`article#p${no} .body`, { hasText: "(USER WAS BANNED FOR THIS POST)" }).waitFor();
  // The ban is on the poster's network for this board, for 12 hours, with its reason and note.
  const bans = await fetch(`${env.base}/api/bans/mine`, { headers: { "X-Forwarded-For": SPAMMER } }).then((a) =>
    a.json(),
  );
  assert.equal(bans.banned, true);
  const ban = bans.bans[0];
  assert.equal(ban.board, "b");
  assert.equal(ban.reason, "Advertising");
  assert.equal(ban.expires_at - ban.created_at, 12 * 3600);
  // The poster cannot post any more and reads why.
  await poster.page.getByLabel("Comment").fill("more spam");
  await poster.page.getByRole("button", { name: "Post reply" }).click();
  await poster.page
    .getByText(/Advertising/)
    .first()
    .waitFor();
  assert.deepEqual(unexpected(mod.errors), []);
});

test("sticky and lock from the OP's menu; the reader sees the thread locked", async () => {
  const { page } = mod;
  await fromMenu(page, nos.op, "Sticky");
  await page.locator(".thread-nav .mark", { hasText: "Sticky" }).waitFor();
  await fromMenu(page, nos.op, "Locked");
  await page.locator(".thread-nav .mark", { hasText: "Locked" }).waitFor();
  await poster.page.locator(".thread-nav .mark", { hasText: "Locked" }).waitFor();
  await poster.page.getByText("This thread is locked: no more replies.").waitFor();
  // The toggles show the state now.
  await page.getByLabel(`Menu of post ${nos.op}`, { exact: true }).click();
  const menu = page.locator(`article#p${nos.op} .menu ul`);
  assert.equal(await menu.getByRole("button", { name: "Sticky" }).getAttribute("aria-pressed"), "true");
  assert.equal(await menu.getByRole("button", { name: "Locked" }).getAttribute("aria-pressed"), "true");
  assert.equal(await menu.getByRole("button", { name: "Cyclical" }).getAttribute("aria-pressed"), "false");
  await shot(page, "staff-op-menu-phone");
  await page.getByLabel(`Menu of post ${nos.op}`, { exact: true }).click();
  const thread = await fetch(`${env.base}/api/boards/b/threads/${nos.op}`).then((a) => a.json());
  assert.equal(thread.thread.sticky, true);
  assert.equal(thread.thread.locked, true);
  assert.deepEqual(unexpected(mod.errors), []);
});

test("multi-select: two posts deleted at once, and a failure reported for its post", async () => {
  const { page } = mod;
  await page.getByRole("button", { name: "Select posts" }).click();
  for (const no of [nos["spam three"], nos.other, nos["spam two"]])
    await page.getByRole("checkbox", { name: `Select post ${no}` }).check();
  const bar = page.getByRole("region", { name: "Selected posts" });
  await bar.getByText("3 selected").waitFor();
  await shot(page, "staff-select-phone");
  // One of them goes meanwhile (another moderator): its deletion fails, the others do not.
  const gone = await root(`/api/boards/b/posts/${nos["spam two"]}/staff-delete`, { scope: "post" });
  assert.equal(gone.status, 200, JSON.stringify(gone.json));
  await bar.getByRole("button", { name: "Delete selected" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete 3 posts?" });
  await dialog.getByRole("button", { name: "Delete 3 posts" }).click();
  const results = dialog.locator(".staff-results li");
  await results.nth(2).waitFor();
  assert.match(await results.nth(0).textContent(), new RegExp(`No.${nos["spam three"]}: deleted`));
  assert.match(await results.nth(1).textContent(), new RegExp(`No.${nos.other}: deleted`));
  assert.match(await results.nth(2).textContent(), new RegExp(`No.${nos["spam two"]}: failed – .*deleted`));
  await shot(page, "staff-select-results-phone");
  await dialog.getByRole("button", { name: "Close" }).click();
  for (const no of [nos["spam three"], nos.other]) assert.equal(await status(`/api/boards/b/posts/${no}`), 410);
  await bar.getByRole("button", { name: "Done" }).click();
  await page.getByRole("button", { name: "Select posts" }).waitFor();
  assert.deepEqual(unexpected(mod.errors), []);
});

test("the index's cloaks, the catalog's card menu, and a file ban from the OP's menu", async () => {
  const { page } = mod;
  // The board index shows the cloaks too, and the OP's menu its thread's state.
  await page.goto(`${env.base}/b/`);
  await page.locator(`article#p${nos.op} .cloak`).waitFor();
  await page.getByLabel(`Menu of post ${nos.op}`, { exact: true }).click();
  const opMenu = page.locator(`article#p${nos.op} .menu ul`);
  assert.equal(await opMenu.getByRole("button", { name: "Locked" }).getAttribute("aria-pressed"), "true");
  await page.getByLabel(`Menu of post ${nos.op}`, { exact: true }).click();
  // The thread is locked: unlock from the catalog card.
  await page.goto(`${env.base}/b/catalog`);
  await page.getByLabel(`Staff menu of thread ${nos.op}`).click();
  const menu = page.locator(".card-menu ul");
  assert.equal(await menu.getByRole("button", { name: "Locked" }).getAttribute("aria-pressed"), "true");
  await menu.getByRole("button", { name: "Delete thread" }).waitFor();
  await shot(page, "staff-catalog-menu-phone");
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 360, `the catalog is ${wide} px wide`);
  await menu.getByRole("button", { name: "Locked" }).click();
  await page
    .getByRole("status")
    .filter({ hasText: `Thread No.${nos.op}: sticky.` })
    .waitFor();
  const thread = await fetch(`${env.base}/api/boards/b/threads/${nos.op}`).then((a) => a.json());
  assert.equal(thread.thread.locked ?? false, false);

  // The OP's file, banned exactly, from the thread.
  await page.goto(`${env.base}/b/thread/${nos.op}`);
  await fromMenu(page, nos.op, "Ban file…");
  const dialog = page.getByRole("dialog", { name: `Ban the file of post No.${nos.op}` });
  await dialog.getByLabel("This exact file only").check();
  await dialog.getByLabel("Public reason (optional)").fill("Spam image");
  await dialog.getByRole("button", { name: "Ban the file" }).click();
  await dialog.waitFor({ state: "detached" });
  await page.getByRole("status").filter({ hasText: "banned (exact file only)" }).waitFor();
  // Posted again by someone else, the file is refused.
  const again = api(env.base, "/api/boards/b/threads", { body: "the same picture" }, [
    { bytes: readFileSync(join(FIXTURES, "truchet.webp")), type: "image/webp", name: "again.webp" },
  ]);
  await assert.rejects(again, /file_banned/);
  assert.deepEqual(unexpected(mod.errors), []);
});

test("a post's menu opened before the staff tools arrive stays open and gains their items", async () => {
  const { page } = mod;
  // The staff module is held back, as on a slow connection, until the menu is open.
  /** @type {() => void} */
  let release = () => {};
  const held = new Promise((resolve) => (release = () => resolve(undefined)));
  const staffModule = /\/app\/staff\.[0-9a-f]+\.js$/;
  await page.route(staffModule, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`${env.base}/b/thread/${nos.op}`);
  await page.getByLabel(`Menu of post ${nos.op}`, { exact: true }).click();
  const menu = page.locator(`article#p${nos.op} .menu ul`);
  await menu.getByRole("button", { name: "Report" }).waitFor();
  assert.equal(await menu.getByRole("button", { name: "Ban…", exact: true }).count(), 0);
  release();
  // The headers are built again with the staff tools (and again with the posters' cloaks).
  await page.locator(`article#p${nos.op} .cloak`).waitFor();
  await menu.getByRole("button", { name: "Ban…", exact: true }).waitFor();
  assert.equal(await page.locator(`article#p${nos.op} details.menu[open]`).count(), 1);
  // The keyboard focus went with the menu to the new header.
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")), `Menu of post ${nos.op}`);
  await page.unroute(staffModule);
  await page.getByLabel(`Menu of post ${nos.op}`, { exact: true }).click();
  await menu.waitFor({ state: "hidden" });
  assert.deepEqual(unexpected(mod.errors), []);
});

test("an admin sees addresses, deletes a poster's posts in a thread, bans a range and moves the thread", async () => {
  /** Posts JSON from an address. @param {string} path @param {any} body @param {string} from */
  const from = (path, body, from) =>
    fetch(env.base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Forwarded-For": from },
      body: JSON.stringify(body),
    }).then((a) => a.json());
  const t = await from("/api/boards/c/threads", { subject: "Recipes", body: "share yours" }, "198.51.100.9");
  const troll = [];
  for (const body of ["troll one", "troll two"])
    troll.push((await from(`/api/boards/c/threads/${t.no}/posts`, { body }, "192.0.2.44")).no);
  const kept = await from(`/api/boards/c/threads/${t.no}/posts`, { body: "lentil soup" }, "198.51.100.9");

  const admin = await openPage(env.browser, PHONE);
  const { page } = admin;
  await page.goto(env.base + "/login");
  await page.getByLabel("Username").fill("root");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Console" }).waitFor();
  await page.goto(`${env.base}/c/thread/${t.no}`);
  await page.locator(`article#p${troll[0]} .address`, { hasText: "192.0.2.44" }).waitFor();
  assert.equal(await page.locator(`article#p${kept.no} .address`).textContent(), "198.51.100.9");

  await fromMenu(page, troll[1], "Delete all by poster in thread");
  const dialog = page.getByRole("dialog", {
    name: `Delete every post in this thread by the poster of post No.${troll[1]}?`,
  });
  await dialog.getByRole("button", { name: "Delete", exact: true }).click();
  await dialog.waitFor({ state: "detached" });
  for (const no of troll) await page.locator(`article#p${no}.deleted`).waitFor();
  assert.equal(await status(`/api/boards/c/posts/${kept.no}`), 200);

  // A /24 around the address, from the kept post's menu: its neighbours are banned on /c/.
  await fromMenu(page, kept.no, "Ban…");
  const ban = page.getByRole("dialog", { name: `Ban the poster of post No.${kept.no}` });
  await ban.getByLabel("A range around the address (198.51.100.9)").check();
  await ban.getByLabel("Range prefix length").selectOption("24");
  await ban.getByLabel("Public reason").fill("Ban evasion");
  await ban.getByRole("button", { name: "Ban", exact: true }).click();
  await ban.waitFor({ state: "detached" });
  const mine = await fetch(`${env.base}/api/bans/mine`, { headers: { "X-Forwarded-For": "198.51.100.200" } }).then(
    (a) => a.json(),
  );
  assert.equal(mine.banned, true);
  assert.equal(mine.bans[0].board, "c");

  await fromMenu(page, t.no, "Move…");
  const move = page.getByRole("dialog", { name: `Move thread No.${t.no} from /c/` });
  await move.getByLabel("To the board").selectOption("b");
  await move.getByRole("button", { name: "Move" }).click();
  await page.waitForURL(/\/b\/thread\/\d+$/);
  await page.locator("article.op", { hasText: "share yours" }).waitFor();
  assert.deepEqual(unexpected(admin.errors), []);
  await admin.context.close();
});

test("axe-core: no serious or critical violation with the staff tools shown", async () => {
  const context = await env.browser.newContext({ ...PHONE, bypassCSP: true });
  await context.addCookies(await mod.context.cookies());
  const page = await context.newPage();
  await page.goto(env.base + "/");
  await page.evaluate(() => localStorage.setItem("wani.session", "true"));
  await page.goto(`${env.base}/b/thread/${nos.op}`);
  await page.locator(`article#p${nos.op} .cloak`).waitFor();
  await page.getByLabel(`Menu of post ${nos.op}`, { exact: true }).click();
  assert.deepEqual(await violations(page, THEMES), [], "thread with the menu open");
  await page.locator(`article#p${nos.op} .menu ul`).getByRole("button", { name: "Ban…" }).click();
  await page.getByRole("dialog").waitFor();
  assert.deepEqual(await violations(page, THEMES), [], "ban dialog");
  await page.keyboard.press("Escape");
  await page.getByRole("dialog").waitFor({ state: "detached" });
  await page.getByRole("button", { name: "Select posts" }).click();
  await page.getByRole("region", { name: "Selected posts" }).waitFor();
  assert.deepEqual(await violations(page, THEMES), [], "multi-select");
  await page.goto(`${env.base}/b/catalog`);
  await page.getByLabel(`Staff menu of thread ${nos.op}`).click();
  assert.deepEqual(await violations(page, THEMES), [], "catalog menu");
  await page.evaluate(() => (document.documentElement.dataset.theme = "dark"));
  await shot(page, "staff-catalog-menu-dark");
  await context.close();
  await mod.context.close();
  await poster.context.close();
});
