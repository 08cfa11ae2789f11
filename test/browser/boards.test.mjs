// A board's settings page as an admin uses it: the captcha mode and a cooldown (a value out of
// range refused beside its field), a word filter that refuses, then replaces, then is gone, as a
// poster in another browser sees it, and a file ban listed and lifted; the page at a phone's
// width and under axe-core.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { serve, openPage, api, shot, CONFIG, FIXTURES, unexpected, signupApi, violations, THEMES } from "./harness.mjs";

const PASSWORD = "lantern orchard 7 quietly";
const env = serve({
  config: `${CONFIG}\n[accounts]\nsignup = "open"\nadmins = ["root"]\nargon2_memory_kib = 1024\nargon2_iterations = 1\n`,
});

/** Signs `username` up over HTTP; returns a function that POSTs JSON with its session. @param {string} username */
const account = (username) => signupApi(env.base, username, PASSWORD);

/** Posts a reply carrying `bytes` as a script would, and returns the response. */
async function replyWithFile(/** @type {number} */ thread, /** @type {Buffer} */ bytes, /** @type {string} */ body) {
  const form = new FormData();
  form.append("body", body);
  form.append("file", new Blob([bytes], { type: "image/webp" }), "truchet.webp");
  return fetch(`${env.base}/api/boards/b/threads/${thread}/posts`, { method: "POST", body: form });
}

/** @type {(path: string, body: any) => Promise<any>} */
let root;
/** @type {{page: import("playwright-core").Page, context: import("playwright-core").BrowserContext, errors: string[]}} */
let admin;

test("an admin sets the captcha to text and a cooldown; an out-of-range cooldown is refused beside its field", async () => {
  root = await account("root");
  admin = await openPage(env.browser);
  const { page } = admin;
  await page.goto(env.base + "/login");
  await page.getByLabel("Username").fill("root");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Console" }).waitFor();
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Boards" }).click();
  await page.getByRole("link", { name: "/c/ – Cooking" }).click();
  const settings = page.getByRole("form", { name: "Settings" });
  const cooldown = settings.getByLabel("Between new threads from one network (seconds)");
  await cooldown.fill("90000");
  await settings.getByLabel("Captcha").selectOption("text");
  await settings.getByRole("button", { name: "Save" }).click();
  const error = page.locator("#set-cooldown_threads_secs-error");
  await error.waitFor();
  assert.match(await error.textContent(), /cooldown_threads_secs|86400/);
  assert.equal(await cooldown.getAttribute("aria-invalid"), "true");
  // Nothing changed on the server, and what was typed stays to be corrected.
  let board = await fetch(`${env.base}/api/boards/c`).then((r) => r.json());
  assert.equal(board.board.captcha, "off");
  assert.equal(await settings.getByLabel("Captcha").inputValue(), "text");
  await cooldown.fill("120");
  await settings.getByRole("button", { name: "Save" }).click();
  await settings.getByRole("status").filter({ hasText: "Saved: cooldown_threads_secs, captcha." }).waitFor();
  board = await fetch(`${env.base}/api/boards/c`).then((r) => r.json());
  assert.equal(board.board.captcha, "text");
  assert.equal(board.board.cooldown_threads_secs, 120);
  // The page shows what the server now holds.
  await page.reload();
  assert.equal(await page.getByLabel("Captcha").inputValue(), "text");
  assert.equal(await page.getByLabel("Between new threads from one network (seconds)").inputValue(), "120");
  assert.deepEqual(unexpected(admin.errors), []);
});

test("a word filter refuses a post, then replaces the word, then is deleted, as a poster sees it", async () => {
  const { page } = admin;
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Soups", body: "Your favourite soup" });
  await page.goto(env.base + "/admin/boards?board=b");
  const section = page.getByRole("region", { name: "Word filters" });
  await section.getByText("No filters on this board yet.").waitFor();
  const add = section.getByRole("form", { name: "New filter" });
  await add.getByLabel("Words or pattern").fill("turnip");
  // A refusing filter without a message: the server names the field.
  await add.getByRole("button", { name: "Add the filter" }).click();
  await page.locator("#filter-new-message-error").waitFor();
  await add.getByLabel("Message to the poster").fill("No turnips on this board.");
  await add.getByRole("button", { name: "Add the filter" }).click();
  await section.locator("li.filter", { hasText: "turnip" }).getByText("refused: “No turnips on this board.”").waitFor();
  assert.equal(await add.getByLabel("Words or pattern").inputValue(), "", "the new filter's form empties");
  // Refusing and banning asks for the ban's length, which the server bounds beside its field.
  await add.getByLabel("Words or pattern").fill("parsnip");
  await add.getByLabel("Action").selectOption("reject_and_ban");
  await add.getByLabel("Message to the poster").fill("No parsnips.");
  await add.getByLabel("Ban length (seconds)").fill("5");
  await add.getByRole("button", { name: "Add the filter" }).click();
  await page.locator("#filter-new-ban_secs-error").waitFor();
  await add.getByLabel("Ban length (seconds)").fill("3600");
  await add.getByRole("button", { name: "Add the filter" }).click();
  await section
    .locator("li.filter", { hasText: "parsnip" })
    .getByText("refused: “No parsnips.”, and a ban of 3600 s")
    .waitFor();
  await section.getByRole("button", { name: "Delete the filter parsnip" }).click();
  await section.locator("li.filter", { hasText: "parsnip" }).waitFor({ state: "detached" });

  // A poster in another browser is refused with the filter's message in the form.
  const poster = await openPage(env.browser, { extraHTTPHeaders: { "X-Forwarded-For": "198.51.100.20" } });
  await poster.page.goto(`${env.base}/b/thread/${t.no}`);
  await poster.page.getByLabel("Comment").fill("turnip soup with dill");
  await poster.page.getByRole("button", { name: "Post reply" }).click();
  await poster.page.locator("form").getByText("No turnips on this board.").waitFor();
  assert.equal(await poster.page.locator("article.reply").count(), 0);

  // The admin turns it into a replacing filter.
  await section.getByRole("button", { name: "Edit the filter turnip" }).click();
  const edit = section.getByRole("form", { name: "Edit the filter turnip" });
  await edit.getByLabel("Action").selectOption("replace");
  await edit.getByLabel("Replacement").fill("carrot");
  await edit.getByRole("button", { name: "Save the filter" }).click();
  await section.locator("li.filter", { hasText: "turnip" }).getByText("replaced with “carrot”").waitFor();
  await poster.page.getByRole("button", { name: "Post reply" }).click();
  await poster.page.locator("article.reply", { hasText: "carrot soup with dill" }).waitFor();
  assert.equal(await poster.page.locator("article.reply", { hasText: "turnip" }).count(), 0);
  await shot(page, "console-board-filters");

  // Deleted, it touches posts no more.
  await section.getByRole("button", { name: "Delete the filter turnip" }).click();
  await section.getByText("No filters on this board yet.").waitFor();
  await poster.page.getByLabel("Comment").fill("turnip again");
  await poster.page.getByRole("button", { name: "Post reply" }).click();
  await poster.page.locator("article.reply", { hasText: "turnip again" }).waitFor();
  assert.deepEqual(unexpected(poster.errors), []);
  assert.deepEqual(unexpected(admin.errors), []);
  await poster.context.close();
});

test("a file ban appears in the board's list; lifting it lets the file be posted again", async () => {
  const { page } = admin;
  const bytes = readFileSync(join(FIXTURES, "truchet.webp"));
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Patterns", body: "Tiles" });
  assert.equal((await replyWithFile(t.no, bytes, "a tiling")).status, 201);
  await root("/api/boards/b/file-bans", { sha256, reason: "Posted too often" });
  const refused = await replyWithFile(t.no, bytes, "the tiling again");
  assert.equal(refused.status, 403, await refused.text());

  await page.goto(env.base + "/admin/boards?board=b");
  const section = page.getByRole("region", { name: "File bans" });
  const row = section.locator("li.file-ban", { hasText: sha256 });
  await row.getByText("Posted too often").waitFor();
  await row.getByText("the file and near-duplicates").waitFor();
  await row.getByText("root,", { exact: false }).waitFor();
  await row.scrollIntoViewIfNeeded();
  await shot(page, "console-board-file-bans");
  await row.getByRole("button", { name: `Lift the ban of ${sha256.slice(0, 12)}` }).click();
  await section.getByText("No files are banned on this board.").waitFor();
  assert.equal((await replyWithFile(t.no, bytes, "the tiling once more")).status, 201);
  assert.deepEqual(unexpected(admin.errors), []);
});

test("the board's page at a phone's 360 px width, and axe-core on the boards pages", async () => {
  // Something in each list, so their rows are measured and checked too.
  await root("/api/boards/b/filters", {
    pattern: "a-very-long-unbroken-pattern-of-words-here",
    action: "reject",
    message: "No.",
  });
  const bytes = readFileSync(join(FIXTURES, "truchet.webp"));
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  await root("/api/boards/b/file-bans", { sha256, reason: "Again" });
  const phone = await env.browser.newContext({ viewport: { width: 360, height: 740 } });
  await phone.addCookies(await admin.context.cookies());
  const page = await phone.newPage();
  for (const [name, path] of [
    ["boards", "/admin/boards"],
    ["board", "/admin/boards?board=b"],
  ]) {
    await page.goto(env.base + path);
    await page
      .getByRole("region", { name: /word filters/i })
      .getByRole("button", { name: "Add the filter" })
      .waitFor();
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 360, `${path} is ${wide} px wide`);
    await shot(page, `console-phone-${name}-filters`);
  }
  await page.getByRole("region", { name: "File bans" }).scrollIntoViewIfNeeded();
  await shot(page, "console-phone-board-file-bans");
  await phone.close();

  // bypassCSP lets axe-core be injected; the console runs under the CSP in the tests above.
  const context = await env.browser.newContext({ bypassCSP: true });
  await context.addCookies(await admin.context.cookies());
  const p = await context.newPage();
  for (const path of ["/admin/boards", "/admin/boards?board=b"]) {
    await p.goto(env.base + path);
    await p
      .getByRole("region", { name: /word filters/i })
      .getByRole("button", { name: "Add the filter" })
      .waitFor();
    if (path.includes("board=b")) await p.getByRole("region", { name: "File bans" }).getByText("Again").waitFor();
    // The edit form of a filter is checked too.
    if (path.includes("board=b")) await p.getByRole("button", { name: /^Edit the filter/ }).click();
    assert.deepEqual(await violations(p, THEMES), [], path);
  }
  await context.close();
});
