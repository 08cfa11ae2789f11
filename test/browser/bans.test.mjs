// Bans as staff and posters meet them: a moderator bans a poster from the bans page, the poster
// reads why in the post form and appeals, the moderator accepts and the poster posts again; an
// admin finds bans by board, cloak and address and lifts one; the pages at a phone's width and
// under axe-core.

import { test } from "node:test";
import assert from "node:assert/strict";
import { serve, openPage, api, shot, CONFIG, violations, THEMES, unexpected, signupApi } from "./harness.mjs";

const PASSWORD = "lantern orchard 7 quietly";
const env = serve({
  config: `${CONFIG}\n[accounts]\nsignup = "open"\nadmins = ["root"]\nargon2_memory_kib = 1024\nargon2_iterations = 1\n`,
});

/** A poster at `address` (the server trusts X-Forwarded-For from loopback), in its own context. */
const posterAt = (/** @type {string} */ address, options = {}) =>
  openPage(env.browser, { extraHTTPHeaders: { "X-Forwarded-For": address }, ...options });

/** Signs `username` up over HTTP; returns a function that POSTs JSON with its session. @param {string} username */
const account = (username) => signupApi(env.base, username, PASSWORD);

/** Logs `username` in through the login page. @param {import("playwright-core").Page} page @param {string} username */
async function logIn(page, username) {
  await page.goto(env.base + "/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Console" }).waitFor();
}

/** A post from `address`, sent as a script would. @param {string} address @param {string} path @param {any} body */
async function postFrom(address, path, body) {
  const r = await fetch(env.base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Forwarded-For": address },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  assert.equal(r.status, 201, JSON.stringify(json));
  return json;
}

/** @type {(path: string, body: any) => Promise<any>} */
let root;
/** @type {{page: import("playwright-core").Page, context: import("playwright-core").BrowserContext, errors: string[]}} */
let admin;
/** The ban whose appeal the phone test leaves open, and a thread on its board. */
let appealed = { id: 0, thread: 0 };

test("a moderator bans a poster from the bans page; the poster reads why, appeals, is let back in and posts", async () => {
  root = await account("root");
  await account("mia");
  await root("/api/admin/users/mia/role", { role: "board_mod", boards: ["b"] });
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Recipes", body: "Share one" });

  const mod = await openPage(env.browser);
  await logIn(mod.page, "mia");
  await mod.page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Bans" }).click();
  await mod.page.getByRole("heading", { name: "Give a ban" }).waitFor();
  await mod.page.getByText("No ban matches.").waitFor();
  const give = mod.page.getByRole("form", { name: "Give a ban" });
  await give.getByLabel("Address, range or cloak").fill("203.0.113.7");
  await give.getByLabel("Board", { exact: true }).fill("b");
  await give.getByLabel("Duration").selectOption("604800");
  await give.getByLabel("Private note (staff only)").fill("three threads of links");
  await give.getByRole("button", { name: "Ban", exact: true }).click();
  // The server's refusal beside the field it names: a ban needs a public reason.
  await mod.page.locator("#give-reason-error").waitFor();
  await give.getByLabel("Public reason (the poster reads it)").fill("Spamming links");
  // The form kept what was typed; a custom duration of zero is refused beside the duration.
  await give.getByLabel("Duration").selectOption("custom");
  await give.getByLabel("How long").fill("0");
  await give.getByRole("button", { name: "Ban", exact: true }).click();
  await mod.page.locator("#give-duration-error").waitFor();
  await give.getByLabel("How long").fill("2");
  await give.getByLabel("Unit").selectOption("86400");
  await give.getByRole("button", { name: "Ban", exact: true }).click();
  const status = await give
    .getByRole("status")
    .filter({ hasText: /^Ban \d+ is given\.$/ })
    .textContent();
  const id = Number(/\d+/.exec(status)[0]);
  const row = mod.page.locator("li.ban", { has: mod.page.getByRole("heading", { name: `Ban ${id}` }) });
  await row.getByText("Spamming links").waitFor();
  await row.getByText("three threads of links").waitFor();
  // A board moderator sees no address.
  await row.getByText("an address (admins see it)").waitFor();
  assert.equal(await row.getByText("203.0.113.7").count(), 0);
  await row.getByText("mia,", { exact: false }).waitFor();
  await row.scrollIntoViewIfNeeded();
  await shot(mod.page, "console-bans");

  // The poster, at the banned address, tries to reply.
  const poster = await posterAt("203.0.113.7");
  /** @type {string[]} */
  const requests = [];
  poster.page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  await poster.page.goto(`${env.base}/b/thread/${t.no}`);
  await poster.page.getByLabel("Comment").fill("my recipe for soup");
  await poster.page.getByRole("button", { name: "Post reply" }).click();
  const notice = poster.page.locator(".ban-notice");
  await notice.getByRole("heading", { name: "You are banned from posting on /b/" }).waitFor();
  assert.equal(await notice.locator(".ban-reason").textContent(), "Spamming links");
  const expiry = await notice.locator(".ban-expiry").textContent();
  assert.match(expiry, /^until .+ \(in 2 days\)$/);
  await notice.getByText(`No. ${id}`).waitFor();
  // Never the staff's private note or name.
  assert.equal(await notice.getByText("three threads of links").count(), 0);
  assert.equal(await notice.getByText("mia").count(), 0);
  assert.equal(await poster.page.locator("article.reply", { hasText: "my recipe" }).count(), 0);
  await shot(poster.page, "ban-notice");

  await notice.getByRole("button", { name: "Send the appeal" }).click();
  await notice.locator(".field-error").waitFor();
  await notice.getByLabel("Appeal (one per ban): why should it end?").fill("I was posting recipes, not spam");
  await notice.getByRole("button", { name: "Send the appeal" }).click();
  await notice.getByText(/Your appeal \(sent .+\) is pending/).waitFor();
  await shot(poster.page, "ban-notice-appealed");

  // On the next page view, opening the form asks once whether this client is banned, and shows it.
  requests.length = 0;
  await poster.page.reload();
  await poster.page.locator(`article#p${t.no}`).waitFor();
  assert.equal(await notice.count(), 0);
  assert.deepEqual(
    requests.filter((p) => p === "/api/bans/mine" || p.startsWith("/app/ban-notice")),
    [],
  );
  await poster.page.getByLabel("Comment").click();
  await notice.getByText(/Your appeal \(sent .+\) is pending/).waitFor();
  await poster.page.getByRole("button", { name: "Quick reply" }).click();
  await poster.page.getByLabel("Comment").click();
  assert.equal(requests.filter((p) => p === "/api/bans/mine").length, 1);

  // The moderator answers on the appeals tab.
  const tabs = mod.page.getByRole("navigation", { name: "Bans and appeals" });
  await tabs.getByRole("link", { name: "Appeals" }).click();
  const appeal = mod.page.locator("li.appeal-row", {
    has: mod.page.getByRole("heading", { name: `Appeal on ban ${id}` }),
  });
  await appeal.getByText("I was posting recipes, not spam").waitFor();
  await appeal.getByText("Spamming links").waitFor();
  await shot(mod.page, "console-bans-appeals");
  await appeal.getByLabel("Answer (the poster reads it; needed to deny)").fill("Fair enough, welcome back");
  await appeal.getByRole("button", { name: "Accept and lift" }).click();
  await mod.page
    .getByRole("status")
    .filter({ hasText: `The appeal on ban ${id} is accepted` })
    .waitFor();
  await mod.page.getByText("No appeal is waiting.").waitFor();
  await tabs.getByRole("link", { name: "Bans" }).click();
  await mod.page.getByText("No ban matches.").waitFor();

  // The poster, on a fresh page view, is no longer told of a ban and posts.
  await poster.page.reload();
  await poster.page.getByLabel("Comment").fill("my recipe for soup");
  await poster.page.getByRole("button", { name: "Post reply" }).click();
  await poster.page.locator("article.reply", { hasText: "my recipe for soup" }).waitFor();
  assert.equal(await notice.count(), 0);
  assert.deepEqual(unexpected(poster.errors), []);
  assert.deepEqual(unexpected(mod.errors), []);
  await poster.context.close();
  await mod.context.close();
});

test("a reader who is not banned loads no ban module, even with the form in use", async () => {
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Plain", body: "nothing to see" });
  const reader = await posterAt("198.51.100.200");
  /** @type {string[]} */
  const requests = [];
  reader.page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  await reader.page.goto(`${env.base}/b/thread/${t.no}`);
  await reader.page.locator(`article#p${t.no}`).waitFor();
  assert.ok(!requests.includes("/api/bans/mine"), "no question before the form is used");
  await reader.page.getByLabel("Comment").fill("hello");
  await reader.page.getByRole("button", { name: "Post reply" }).click();
  await reader.page.locator("article.reply", { hasText: "hello" }).waitFor();
  assert.equal(requests.filter((p) => p === "/api/bans/mine").length, 1);
  assert.deepEqual(
    requests.filter((p) => /^\/app\/(ban-notice|console)/.test(p)),
    [],
  );
  assert.deepEqual(reader.errors, []);
  await reader.context.close();
});

test("an admin finds bans by board, cloak and address, and lifts one", async () => {
  const c = await postFrom("198.51.100.9", "/api/boards/c/threads", { subject: "Soup", body: "buy my soup" });
  const byCloak = (
    await root(`/api/boards/c/posts/${c.no}/ban`, { by: "cloak", duration: 86400, reason: "Advertising" })
  ).ban;
  const range = (
    await root("/api/bans", { address: "192.0.2.0/24", board: "b", duration: "permanent", reason: "Open proxies" })
  ).ban;
  admin = await openPage(env.browser);
  await logIn(admin.page, "root");
  await admin.page.goto(env.base + "/admin/bans");
  const search = admin.page.getByRole("form", { name: "Search bans" });
  const shown = (/** @type {number} */ id) => admin.page.getByRole("heading", { name: `Ban ${id}`, exact: true });
  // The list's caption names the search once its answer is drawn.
  const asked = (/** @type {string} */ text) => admin.page.getByText(text, { exact: true }).waitFor();
  await asked("All bans");
  await shown(byCloak.id).waitFor();
  await shown(range.id).waitFor();
  // An admin sees the address of the range.
  await admin.page.getByText("range 192.0.2.0/24").waitFor();

  await search.getByLabel("Board", { exact: true }).fill("c");
  await search.getByRole("button", { name: "Search" }).click();
  await asked("Bans on /c/");
  await admin.page.getByText("Advertising").waitFor();
  assert.equal(await shown(range.id).count(), 0);

  await search.getByLabel("Board", { exact: true }).fill("");
  await search.getByLabel("Search by").selectOption("cloak");
  await search.getByLabel("Address or cloak").fill("not a cloak");
  await search.getByRole("button", { name: "Search" }).click();
  await admin.page.locator("#find-text-error").waitFor();
  await search.getByLabel("Address or cloak").fill(byCloak.cloak);
  await search.getByRole("button", { name: "Search" }).click();
  await asked(`Bans for cloak ${byCloak.cloak}`);
  await admin.page.getByText(`cloak ${byCloak.cloak} (seen on /c/)`).waitFor();
  assert.equal(await shown(range.id).count(), 0);

  await search.getByLabel("Search by").selectOption("address");
  await search.getByLabel("Address or cloak").fill("192.0.2.55");
  await search.getByRole("button", { name: "Search" }).click();
  await asked("Bans for address 192.0.2.55");
  await shown(range.id).waitFor();
  assert.equal(await shown(byCloak.id).count(), 0);
  await shot(admin.page, "console-bans-search");

  const row = admin.page.locator("li.ban", { has: shown(range.id) });
  await row.getByRole("button", { name: "Lift…" }).click();
  await row.getByLabel("Note for staff (optional)").fill("the proxies are closed");
  await row.getByRole("button", { name: `Lift ban ${range.id}` }).click();
  await admin.page
    .getByRole("status")
    .filter({ hasText: `Ban ${range.id} is lifted.` })
    .waitFor();
  assert.equal(await shown(range.id).count(), 0);
  const mine = await fetch(`${env.base}/api/bans/mine`, { headers: { "X-Forwarded-For": "192.0.2.55" } });
  assert.equal((await mine.json()).banned, false);
  await postFrom("192.0.2.55", "/api/boards/b/threads", { subject: "Back", body: "posting again" });
  assert.deepEqual(unexpected(admin.errors), []);
});

test("the bans pages and the ban notice at a phone's 360 px width, with no serious axe-core violation", async () => {
  // An open appeal, so that the appeals tab has one to show.
  const [ban] = (
    await fetch(`${env.base}/api/bans/mine`, { headers: { "X-Forwarded-For": "198.51.100.9" } }).then((r) => r.json())
  ).bans;
  const sent = await fetch(`${env.base}/api/bans/${ban.id}/appeal`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Forwarded-For": "198.51.100.9" },
    body: JSON.stringify({ text: "It was a joke" }),
  });
  assert.equal(sent.status, 201);
  const thread = await api(env.base, "/api/boards/c/threads", { subject: "Bread", body: "sourdough" });
  // bypassCSP lets axe-core be injected; the pages run under the CSP in the tests above.
  const phone = await env.browser.newContext({ viewport: { width: 360, height: 740 }, bypassCSP: true });
  await phone.addCookies(await admin.context.cookies());
  const page = await phone.newPage();
  for (const [name, path, ready] of [
    ["bans", "/admin/bans", `Ban ${ban.id}`],
    ["appeals", "/admin/bans?tab=appeals", `Appeal on ban ${ban.id}`],
  ]) {
    await page.goto(env.base + path);
    await page.getByRole("heading", { name: ready }).waitFor();
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 360, `${path} is ${wide} px wide`);
    assert.deepEqual(await violations(page, THEMES), [], name);
    await shot(page, `console-phone-${name}`);
  }
  await phone.close();

  const poster = await posterAt("198.51.100.9", { viewport: { width: 360, height: 740 }, bypassCSP: true });
  await poster.page.goto(`${env.base}/c/thread/${thread.no}`);
  await poster.page.getByLabel("Comment").click();
  await poster.page.getByRole("heading", { name: "You are banned from posting on /c/" }).waitFor();
  await poster.page.getByText(/Your appeal \(sent .+\) is pending/).waitFor();
  const wide = await poster.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 360, `the ban notice is ${wide} px wide`);
  assert.deepEqual(await violations(poster.page, THEMES), [], "ban notice");
  await shot(poster.page, "ban-notice-phone");
  await poster.context.close();
  appealed = { id: ban.id, thread: thread.no };
});

test("a denied appeal's answer reaches the poster, who may not appeal again", async () => {
  const { page } = admin;
  await page.goto(env.base + "/admin/bans?tab=appeals");
  const row = page.locator("li.appeal-row", {
    has: page.getByRole("heading", { name: `Appeal on ban ${appealed.id}` }),
  });
  await row.getByText("It was a joke").waitFor();
  await row.getByRole("button", { name: "Deny" }).click();
  // A denial needs the answer, which the poster reads.
  await row.locator(`#answer-${appealed.id}-answer-error`).waitFor();
  await row.getByLabel("Answer (the poster reads it; needed to deny)").fill("Advertising is not a joke here");
  await row.getByRole("button", { name: "Deny" }).click();
  await page
    .getByRole("status")
    .filter({ hasText: `The appeal on ban ${appealed.id} is denied.` })
    .waitFor();

  const poster = await posterAt("198.51.100.9");
  await poster.page.goto(`${env.base}/c/thread/${appealed.thread}`);
  await poster.page.getByLabel("Comment").fill("still here");
  await poster.page.getByRole("heading", { name: "You are banned from posting on /c/" }).waitFor();
  await poster.page.getByText("Your appeal was denied.").waitFor();
  assert.equal(await poster.page.locator(".appeal-answer").textContent(), "Advertising is not a joke here");
  assert.equal(await poster.page.getByRole("button", { name: "Send the appeal" }).count(), 0);
  await shot(poster.page, "ban-notice-denied");
  assert.deepEqual(unexpected(poster.errors), []);
  assert.deepEqual(unexpected(admin.errors), []);
  await poster.context.close();
  await admin.context.close();
});
