// The staff console as a person uses it: signing up as the config's admin, turning on two-factor
// login and logging in with a code, board settings with a field error from the server, appointing
// a moderator, API tokens, a phone's width, accessibility and screenshots of every console page.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { serve, openPage, shot, launchFirefox, CONFIG, violations, THEMES, unexpected } from "./harness.mjs";

const env = serve({ config: `${CONFIG}\n[accounts]\nsignup = "open"\nadmins = ["root"]\n` });
const PASSWORD = "lantern orchard 7 quietly";
const NEW_PASSWORD = "copper meadow 4 slowly";

/**
 * RFC 6238's code (HMAC-SHA-1, 6 digits, 30-second steps) of a base32 secret at a step.
 * @param {string} secret @param {number} step
 */
function totp(secret, step) {
  let bits = "";
  for (const ch of secret.replace(/=+$/, ""))
    bits += "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", key).update(counter).digest();
  const at = mac[19] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1e6).padStart(6, "0");
}
const now = () => Math.floor(Date.now() / 30000);

/** A session of another account, made over HTTP as a script would. @param {string} username */
async function sessionOf(username) {
  const r = await fetch(`${env.base}/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(r.status, 200);
  const cookie = r.headers.get("set-cookie").split(";")[0];
  return fetch(`${env.base}/auth/csrf`, { headers: { cookie } }).then((a) => a.json());
}

test("an anonymous reader loads no console module and does not ask who is logged in", async () => {
  const { page, context, errors } = await openPage(env.browser);
  /** @type {string[]} */
  const requests = [];
  page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(env.base + "/");
  await page.getByRole("link", { name: "/b/ – Random" }).waitFor();
  await page.goto(env.base + "/b/");
  await page.getByRole("heading", { name: "/b/ – Random" }).waitFor();
  await page.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Log in" }).waitFor();
  assert.ok(requests.some((p) => p.startsWith("/app/main.")));
  assert.deepEqual(
    requests.filter((p) => /^\/app\/(console|qrcode)|^\/auth\//.test(p)),
    [],
  );
  assert.deepEqual(errors, []);
  await context.close();
});

/** @type {{page: import("playwright-core").Page, context: import("playwright-core").BrowserContext, errors: string[]}} */
let admin;

test("the config's admin signs up, turns on two-factor login, logs out and in with a code", async () => {
  admin = await openPage(env.browser);
  const { page } = admin;
  await page.goto(env.base + "/");
  // An anonymous reader is offered to log in, and nothing tells the reader about a console.
  await page.getByRole("link", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Log in" }).waitFor();
  await shot(page, "console-login");
  await page.getByRole("link", { name: "Sign up" }).click();
  await page.getByLabel("Username").fill("root");
  await page.getByLabel("Password").fill("password");
  await page.getByRole("button", { name: "Sign up" }).click();
  // The server's refusal, next to the field it names.
  await page.locator("#f-password-error", { hasText: /common|weak|characters/i }).waitFor();
  await shot(page, "console-signup");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("heading", { name: "Account" }).waitFor();
  await page.getByText("Logged in as root (admin)").waitFor();
  await page.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Console" }).waitFor();

  await page.getByRole("button", { name: "Set up two-factor login" }).click();
  const qr = page.getByRole("img", { name: "QR code of the authenticator link" });
  await qr.waitFor();
  // A QR code is square with many dark modules.
  const box = await qr.boundingBox();
  assert.ok(box && Math.abs(box.width - box.height) < 1 && box.width > 100, JSON.stringify(box));
  assert.ok((await qr.locator("path").getAttribute("d")).split("M").length > 200);
  const secret = (await page.locator(".enrol code.secret").textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await shot(page, "console-account-totp");
  await page.getByLabel("Code from the app").fill("000000" === totp(secret, now()) ? "111111" : "000000");
  await page.getByRole("button", { name: "Turn on" }).click();
  await page.locator("#totp-code-error").waitFor();
  const step = now();
  await page.getByLabel("Code from the app").fill(totp(secret, step));
  await page.getByRole("button", { name: "Turn on" }).click();
  await page.getByText("Two-factor login is on.").waitFor();
  assert.equal(await page.locator(".codes li").count(), 10);

  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Log in" }).waitFor();
  await page.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Log in" }).waitFor();
  await page.getByLabel("Username").fill("root");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  // The server asks for the code; the form shows its field and keeps the password.
  const code = page.getByLabel("Authenticator code (or a recovery code)");
  await code.waitFor();
  assert.equal(await page.getByLabel("Password").inputValue(), PASSWORD);
  await shot(page, "console-login-totp");
  // A code is used once: the next step's code, which the server accepts as clock drift.
  await code.fill(totp(secret, step + 1));
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Console" }).waitFor();
  await shot(page, "console-overview");
  // This browser has logged in: a reading page, loaded afresh, asks and links the console.
  await page.goto(env.base + "/b/");
  await page.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Console" }).click();
  await page.getByRole("heading", { name: "Console" }).waitFor();
  assert.deepEqual(unexpected(admin.errors), []);
});

test("a board is created, its settings changed, a server field error shown beside its field, and deleted", async () => {
  const { page } = admin;
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Boards" }).click();
  await page.getByRole("heading", { name: "Boards" }).waitFor();
  await page.getByRole("link", { name: "/b/ – Random" }).waitFor();
  await page.getByLabel("Slug").fill("api");
  await page.getByLabel("Title").fill("Games");
  await page.getByRole("button", { name: "Create the board" }).click();
  await page.locator("#new-slug-error", { hasText: "reserved" }).waitFor();
  await page.getByLabel("Slug").fill("g");
  await page.getByRole("button", { name: "Create the board" }).click();
  await page.getByRole("heading", { name: "/g/ – Games" }).waitFor();

  await page.getByLabel("Description", { exact: true }).fill("Video games and board games");
  await page.getByLabel("Not safe for work").check();
  await page.getByLabel("Threads per index page").fill("500");
  await page.getByRole("button", { name: "Save" }).click();
  // The server checks the change whole: nothing is stored, the fault is named beside its field.
  const error = page.locator("#set-threads_per_page-error");
  await error.waitFor();
  assert.match(await error.textContent(), /100/);
  assert.equal(await page.getByLabel("Threads per index page").getAttribute("aria-invalid"), "true");
  await shot(page, "console-board-error");
  let board = await fetch(`${env.base}/api/boards/g`).then((r) => r.json());
  assert.equal(board.board.nsfw, false);
  await page.getByLabel("Threads per index page").fill("15");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Saved: description, threads_per_page, nsfw." }).waitFor();
  board = await fetch(`${env.base}/api/boards/g`).then((r) => r.json());
  assert.equal(board.board.description, "Video games and board games");
  assert.equal(board.board.threads_per_page, 15);
  assert.equal(board.board.nsfw, true);
  await page.getByRole("heading", { name: "Recent changes" }).waitFor();
  await shot(page, "console-board");

  // A second board, deleted with the typed confirmation.
  await page.goto(env.base + "/admin/boards");
  await page.getByLabel("Slug").fill("tmp");
  await page.getByLabel("Title").fill("Temporary");
  await page.getByRole("button", { name: "Create the board" }).click();
  await page.getByRole("heading", { name: "/tmp/ – Temporary" }).waitFor();
  await page.getByLabel("Type the slug (tmp) to confirm").fill("tm");
  await page.getByRole("button", { name: "Delete /tmp/" }).click();
  await page.locator("#del-confirm-error").waitFor();
  await page.getByLabel("Type the slug (tmp) to confirm").fill("tmp");
  await page.getByRole("button", { name: "Delete /tmp/" }).click();
  await page.getByRole("heading", { name: "Boards" }).waitFor();
  assert.equal((await fetch(`${env.base}/api/boards/tmp`)).status, 404);
  await shot(page, "console-boards");
  assert.deepEqual(unexpected(admin.errors), []);
});

test("the admin appoints a moderator of a board on the staff page", async () => {
  const signup = await fetch(`${env.base}/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "mia", password: PASSWORD }),
  });
  assert.equal(signup.status, 201);
  const { page } = admin;
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Staff" }).click();
  const row = page.locator("li.user", { has: page.getByRole("heading", { name: "mia" }) });
  await row.getByLabel("Role", { exact: true }).selectOption("board_mod");
  await row.getByLabel("Boards (moderators and janitors)").fill("nope");
  await row.getByRole("button", { name: "Save" }).click();
  await row.locator(".field-error").waitFor();
  await row.getByLabel("Boards (moderators and janitors)").fill("g");
  await row.getByRole("button", { name: "Save" }).click();
  await row.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  const mia = await sessionOf("mia");
  assert.equal(mia.user.role, "board_mod");
  assert.deepEqual(mia.user.boards, ["g"]);

  // Disabled, mia cannot log in; enabled again, she can.
  await row.getByRole("button", { name: "Disable" }).click();
  await row.getByText("disabled", { exact: true }).waitFor();
  const login = (/** @type {string} */ password) =>
    fetch(`${env.base}/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "mia", password }),
    }).then((r) => r.json());
  assert.equal((await login(PASSWORD)).error.code, "account_disabled");
  await row.getByRole("button", { name: "Enable" }).click();
  await row.getByRole("button", { name: "Disable" }).waitFor();

  // A reset link, opened in another browser, sets a new password.
  await row.getByRole("button", { name: "Reset link" }).click();
  const link = await row.locator("code.secret").textContent();
  assert.match(link, new RegExp(`^${env.base}/reset#[0-9a-f]{64}$`));
  await shot(page, "console-users");
  const other = await openPage(env.browser);
  await other.page.goto(link);
  await other.page.getByLabel("New password").fill(NEW_PASSWORD);
  await other.page.getByRole("button", { name: "Set the password" }).click();
  await other.page.getByText("The password of mia is changed.").waitFor();
  await shot(other.page, "console-reset");
  await other.context.close();
  assert.equal((await login(PASSWORD)).error.code, "login_failed");
  assert.equal((await login(NEW_PASSWORD)).user.role, "board_mod");
  assert.deepEqual(unexpected(admin.errors), []);
});

test("the password is changed on the account page; a wrong current one is refused beside its field", async () => {
  const { page } = admin;
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Account" }).click();
  await page.getByLabel("Current password").fill("not the password");
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change the password" }).click();
  await page.locator("#pw-password-error").waitFor();
  assert.equal(await page.getByLabel("New password").inputValue(), NEW_PASSWORD);
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByRole("button", { name: "Change the password" }).click();
  await page.getByText("The password is changed.").waitFor();
  // This session goes on.
  await page.reload();
  await page.getByText("Logged in as root (admin)").waitFor();
  assert.deepEqual(unexpected(admin.errors), []);
});

test("an API token is created, shown once, works, and is revoked", async () => {
  const { page } = admin;
  await page.getByLabel("Name", { exact: true }).fill("backup script");
  await page.getByLabel("Scope").selectOption("read");
  await page.getByLabel("Expires after (days)").fill("7");
  await page.getByRole("button", { name: "Create the token" }).click();
  const secret = (await page.locator(".once code.secret").textContent()).trim();
  assert.match(secret, /^wani_[A-Za-z0-9_-]{43}$/);
  await page.getByRole("button", { name: "Revoke backup script" }).waitFor();
  const use = () => fetch(`${env.base}/api/boards`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal((await use()).status, 200);
  await shot(page, "console-account-tokens");
  await page.getByRole("button", { name: "Revoke backup script" }).click();
  await page.getByText("No tokens.").waitFor();
  const revoked = await use();
  assert.equal(revoked.status, 403);
  assert.equal((await revoked.json()).error.code, "token_invalid");
  assert.deepEqual(unexpected(admin.errors), []);
});

/** The console's pages, by screenshot name. */
const PAGES = [
  ["overview", "/admin"],
  ["boards", "/admin/boards"],
  ["board", "/admin/boards?board=g"],
  ["users", "/admin/users"],
  ["account", "/account"],
];

test("the console at a phone's 360 px width: no page scrolls sideways", async () => {
  const phone = await env.browser.newContext({ viewport: { width: 360, height: 740 } });
  await phone.addCookies(await admin.context.cookies());
  const page = await phone.newPage();
  for (const [name, path] of PAGES) {
    await page.goto(env.base + path);
    await page.locator("main.console h1").waitFor();
    await page.locator(".console-form, .console-links, .users").first().waitFor();
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 360, `${path} is ${wide} px wide`);
    await shot(page, `console-phone-${name}`);
  }
  await phone.close();
});

test("axe-core finds no serious or critical violation on any console page, in any theme", async () => {
  const anonymous = [
    ["login", "/login"],
    ["signup", "/signup"],
    ["reset", "/reset"],
  ];
  for (const [who, pages] of [
    ["admin", PAGES],
    ["anonymous", anonymous],
  ]) {
    // bypassCSP lets axe-core be injected; the console runs under the CSP in the tests above.
    const context = await env.browser.newContext({ bypassCSP: true });
    if (who === "admin") await context.addCookies(await admin.context.cookies());
    const page = await context.newPage();
    await page.goto(env.base + "/");
    await page.evaluate(() => localStorage.setItem("wani.settings", JSON.stringify({ theme: "dark" })));
    for (const [name, path] of pages) {
      await page.goto(env.base + path);
      await page.locator("main.console form, main.console .console-links, main.console .users").first().waitFor();
      await shot(page, `console-dark-${name}`);
      assert.deepEqual(await violations(page, THEMES), [], name);
    }
    await context.close();
  }
  await admin.context.close();
});

test("Firefox: a moderator logs in and changes a setting of their board", async () => {
  const firefox = await launchFirefox();
  try {
    const context = await firefox.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    /** @type {string[]} */
    const errors = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(env.base + "/login");
    await page.locator("#f-username").fill("mia");
    await page.locator("#f-password").fill(NEW_PASSWORD);
    await page.locator("main button.primary").click();
    await page.waitForSelector("main h1 ::-p-text(Console)");
    await page.locator('nav.console-nav a[href="/admin/boards"]').click();
    await page.locator('a[href="/admin/boards?board=g"]').click();
    await page.waitForSelector("main h1 ::-p-text(/g/ – Games)");
    await page.locator("#set-title").fill("Games and more");
    await page.locator("form.settings button.primary").click();
    await page.waitForSelector("[role=status] ::-p-text(Saved: title.)");
    await shot(page, "firefox-console-board");
    const board = await fetch(`${env.base}/api/boards/g`).then((r) => r.json());
    assert.equal(board.board.title, "Games and more");
    // A moderator has no delete section and no staff page.
    assert.equal(await page.$("#del-confirm"), null);
    assert.equal(await page.$('nav.console-nav a[href="/admin/users"]'), null);
    assert.deepEqual(unexpected(errors), []);
  } finally {
    await firefox.close();
  }
});
