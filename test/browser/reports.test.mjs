// The reports queue as people use it: a poster reports posts from their menu, a moderator in
// another browser sees the badge rise without reloading, opens the queue with the posts
// rendered, dismisses one report, deletes a post and bans a poster, and the queue empties; the
// page at a phone's width and under axe-core.

import { test } from "node:test";
import assert from "node:assert/strict";
import { serve, openPage, api, shot, CONFIG, unexpected, violations, THEMES } from "./harness.mjs";

const PASSWORD = "lantern orchard 7 quietly";

/** Root signs up, and mia becomes a moderator of /b/; both over HTTP, as a script would. */
async function team(/** @type {string} */ base) {
  /** @param {string} path @param {any} body @param {Record<string, string>} [headers] */
  const post = async (path, body, headers = {}) => {
    const r = await fetch(base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    const json = await r.json();
    assert.ok(r.ok, `${path}: ${JSON.stringify(json)}`);
    return { json, cookie: (r.headers.get("set-cookie") ?? "").split(";")[0] };
  };
  const root = await post("/auth/signup", { username: "root", password: PASSWORD });
  await post("/auth/signup", { username: "mia", password: PASSWORD });
  const asRoot = { cookie: root.cookie, "x-csrf-token": root.json.csrf };
  await post("/api/admin/users/mia/role", { role: "board_mod", boards: ["b"] }, asRoot);
  return { asRoot };
}

const env = serve({
  config: `${CONFIG}\n[accounts]\nsignup = "open"\nadmins = ["root"]\nargon2_memory_kib = 1024\nargon2_iterations = 1\n`,
  seed: team,
});

/**
 * Reports post `no` from its menu on the page, as a reader does.
 * @param {import("playwright-core").Page} page @param {number} no @param {string} category @param {string} note
 */
async function report(page, no, category, note) {
  await page.getByLabel(`Menu of post ${no}`).click();
  await page.locator(`article#p${no}`).getByRole("button", { name: "Report" }).click();
  const dialog = page.getByRole("dialog", { name: `Report post ${no}` });
  await dialog.getByLabel("Why").selectOption(category);
  if (note) await dialog.getByLabel("Note for the staff (optional)").fill(note);
  await dialog.getByRole("button", { name: "Send the report" }).click();
  await dialog.getByText("Reported.").waitFor();
  await dialog.getByRole("button", { name: "Close" }).click();
}

/** @type {{page: import("playwright-core").Page, context: import("playwright-core").BrowserContext, errors: string[]}} */
let mod;

test("a moderator sees reports arrive live, then dismisses one and deletes a post until the queue is empty", async () => {
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Kittens", body: "post your cats" });

  mod = await openPage(env.browser);
  const m = mod.page;
  await m.goto(env.base + "/login");
  await m.locator("#f-username").fill("mia");
  await m.locator("#f-password").fill(PASSWORD);
  await m.getByRole("button", { name: "Log in" }).click();
  await m.getByRole("heading", { name: "Console" }).waitFor();
  const reportsLink = m.getByRole("navigation", { name: "Console" }).getByRole("link", { name: /^Reports/ });
  await reportsLink.waitFor();
  assert.equal(await m.locator(".console-nav .badge").count(), 0, "nothing waits yet");

  const poster = await openPage(env.browser);
  const p = poster.page;
  await p.goto(`${env.base}/b/thread/${t.no}`);
  await p.getByLabel("Comment").fill("cheap pills at example dot com");
  await p.getByRole("button", { name: "Post reply" }).click();
  const spam = p.locator("article.reply", { hasText: "cheap pills" });
  await spam.waitFor();
  const spamNo = Number((await spam.getAttribute("id"))?.slice(1));
  await report(p, spamNo, "spam", "an advert");
  await shot(p, "report-dialog-sent");

  // The badge rises on the moderator's page, which was not reloaded.
  await m.locator(".console-nav .badge", { hasText: "1" }).waitFor();
  await report(p, t.no, "rule", "");
  await m.locator(".console-nav .badge", { hasText: "2" }).waitFor();
  await m.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Console (2)" }).waitFor();
  await shot(m, "reports-badge");

  await reportsLink.click();
  await m.getByRole("heading", { name: "Reports" }).waitFor();
  const spamGroup = m.getByRole("listitem", { name: `Reports of /b/ ${spamNo}` });
  const opGroup = m.getByRole("listitem", { name: `Reports of /b/ ${t.no}` });
  // The post as readers see it, with why it was reported; the newest report first.
  await spamGroup.locator(`article#p${spamNo}`, { hasText: "cheap pills at example dot com" }).waitFor();
  await spamGroup.getByText("an advert").waitFor();
  await spamGroup.getByText("1 report", { exact: true }).waitFor();
  await opGroup.locator(`article#p${t.no}`, { hasText: "post your cats" }).waitFor();
  assert.equal(await m.locator(".report-queue article.post").count(), 2);
  await shot(m, "reports-queue");

  await m.getByRole("button", { name: `Dismiss the reports of /b/ ${t.no}` }).click();
  await m.getByRole("status").getByText(`Dismissed /b/ ${t.no}.`).waitFor();
  await opGroup.waitFor({ state: "detached" });
  await m.locator(".console-nav .badge", { hasText: "1" }).waitFor();
  await m.getByRole("button", { name: `Delete /b/ ${spamNo}` }).click();
  await m.getByText("No reports waiting.").waitFor();
  await m.locator(".console-nav .badge").waitFor({ state: "detached" });
  await shot(m, "reports-empty");

  // The poster's thread follows live: the spam shows as deleted, the opening post stays.
  await p.locator(`article#p${spamNo}.deleted`).waitFor();
  assert.equal((await fetch(`${env.base}/api/boards/b/posts/${spamNo}`)).status, 410);
  assert.equal((await fetch(`${env.base}/api/boards/b/posts/${t.no}`)).status, 200);
  assert.deepEqual(unexpected(mod.errors), []);
  assert.deepEqual(poster.errors, []);
  await poster.context.close();
});

test("the queue at a phone's width, filtered by board, and under axe-core with the ban dialog open", async () => {
  const t = await api(env.base, "/api/boards/b/threads", { body: "a reported thread" });
  await api(env.base, `/api/boards/b/posts/${t.no}/report`, { category: "illegal", note: "look at this" });
  const context = await env.browser.newContext({ viewport: { width: 360, height: 740 }, bypassCSP: true });
  await context.addCookies(await mod.context.cookies());
  const page = await context.newPage();
  await page.goto(env.base + "/admin/reports");
  const group = page.getByRole("listitem", { name: `Reports of /b/ ${t.no}` });
  await group.getByText("look at this").waitFor();
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 360, `the queue is ${wide} px wide`);
  await shot(page, "reports-phone");
  // Every theme: the badge, the reports and the dialog keep their contrast.
  assert.deepEqual(await violations(page, THEMES), []);
  await group.getByRole("button", { name: `Ban the poster of /b/ ${t.no}` }).click();
  await page.getByRole("dialog", { name: `Ban the poster of /b/ ${t.no}` }).waitFor();
  assert.deepEqual(await violations(page, THEMES), [], "with the ban dialog open");
  await shot(page, "reports-phone-ban");
  await page.evaluate(() => (document.documentElement.dataset.theme = "dark"));
  await shot(page, "reports-phone-dark");
  await page.evaluate(() => (document.documentElement.dataset.theme = "system"));

  // The board filter: /c/ has nothing waiting, and the URL says which board is shown.
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByLabel("Board", { exact: true }).selectOption("b");
  await page.waitForURL(`${env.base}/admin/reports?board=b`);
  await group.waitFor();
  await context.close();
});

test("a ban from the queue: the server's error beside its field, then the poster banned with a public mark", async () => {
  const t = await api(env.base, "/api/boards/c/threads", { body: "elsewhere" });
  const spam = await api(env.base, `/api/boards/b/threads`, { body: "more pills" });
  await api(env.base, `/api/boards/b/posts/${spam.no}/report`, { category: "spam" });
  const m = mod.page;
  await m.goto(env.base + "/admin/reports?board=b");
  const group = m.getByRole("listitem", { name: `Reports of /b/ ${spam.no}` });
  await group.getByRole("button", { name: `Ban the poster of /b/ ${spam.no}` }).click();
  const dialog = m.getByRole("dialog", { name: `Ban the poster of /b/ ${spam.no}` });
  await dialog.getByLabel("Duration").selectOption("604800");
  // No reason: the server names the field, and the dialog shows it there.
  await dialog.getByRole("button", { name: "Ban", exact: true }).click();
  await dialog.locator('[aria-invalid="true"]').waitFor();
  assert.equal(await dialog.locator("#ban-b-" + spam.no + "-reason").getAttribute("aria-invalid"), "true");
  await dialog.getByLabel("Public reason").fill("Spam");
  await dialog.getByRole("button", { name: "Ban", exact: true }).click();
  await m.getByRole("status").getByText(`Banned the poster of /b/ ${spam.no}.`).waitFor();
  await group.waitFor({ state: "detached" });
  // The post carries the public mark, and posting from the banned address is refused.
  const post = await fetch(`${env.base}/api/boards/b/posts/${spam.no}`).then((r) => r.json());
  assert.match(JSON.stringify(post), /USER WAS BANNED FOR THIS POST/);
  const refused = await fetch(`${env.base}/api/boards/b/threads`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ body: "again" }),
  });
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error.code, "banned");
  // A ban on /b/ only: /c/ still takes posts.
  await api(env.base, `/api/boards/c/threads/${t.no}/posts`, { body: "still here" });
  assert.deepEqual(unexpected(mod.errors), []);
  await mod.context.close();
});
