// The dashboard as an admin sees it: after posts in two boards, a file and a report, the charts
// have bars for those posts (read through each chart's table, as a screen reader would), the
// tiles show the file and the report, at a desktop's and a phone's width, with no serious
// accessibility violation; a moderator gets the console's links without the figures.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { serve, openPage, shot, api, CONFIG, FIXTURES, unexpected, violations, THEMES } from "./harness.mjs";

const env = serve({ config: `${CONFIG}\n[accounts]\nsignup = "open"\nadmins = ["root"]\n` });
const PASSWORD = "lantern orchard 7 quietly";

/** @type {{page: import("playwright-core").Page, context: import("playwright-core").BrowserContext, errors: string[]}} */
let admin;

/**
 * The rows of a chart's table, opened as a person opens it: header cells and data cells as text.
 * @param {import("playwright-core").Page} page @param {string} title the chart's heading
 */
async function table(page, title) {
  const chart = page.getByRole("region", { name: title });
  const summary = chart.getByText(`Table: ${title.toLowerCase()}`);
  if (!(await chart.locator("details").evaluate((d) => /** @type {HTMLDetailsElement} */ (d).open)))
    await summary.click();
  const grid = chart.getByRole("table", { name: title });
  await grid.waitFor();
  return grid.evaluate((t) =>
    [.../** @type {HTMLTableElement} */ (t).rows].map((r) => [...r.cells].map((c) => c.textContent.trim())),
  );
}

/** A column's numbers, by its header. @param {string[][]} rows @param {string} name */
function column(rows, name) {
  const at = rows[0].indexOf(name);
  assert.ok(at > 0, `no column ${name} in ${rows[0]}`);
  return rows.slice(1).map((r) => Number(r[at]));
}

const sum = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0);

test("after posts in two boards, the admin's charts show them", async () => {
  // A poster's activity, as a script would make it: a thread and two replies on /b/ (one with
  // a picture), a thread on /c/, and a report.
  const picture = readFileSync(join(FIXTURES, "truchet.webp"));
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Charts", body: "first" });
  await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: "second" });
  const pic = await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: "with a picture" }, [
    { bytes: picture, type: "image/webp", name: "truchet.webp" },
  ]);
  await api(env.base, "/api/boards/c/threads", { body: "soup" });
  await api(env.base, `/api/boards/b/posts/${pic.no}/report`, { category: "spam" });

  admin = await openPage(env.browser, { viewport: { width: 1000, height: 900 } });
  const { page } = admin;
  await page.goto(env.base + "/signup");
  await page.getByLabel("Username").fill("root");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("heading", { name: "Account" }).waitFor();
  await page.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Console" }).click();
  await page.getByRole("heading", { name: "Console" }).waitFor();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();

  const hours = await table(page, "Posts per hour, last 24 hours");
  assert.equal(hours.length, 1 + 24, "a row per hour");
  assert.deepEqual(hours[0], ["When", "/b/", "/c/", "All"], "the boards that posted, in columns");
  // The posts were made a moment ago: in the last hour, or (just after the hour turned) the
  // one before it.
  const b = column(hours, "/b/");
  const c = column(hours, "/c/");
  assert.equal(sum(b), 3);
  assert.equal(sum(c), 1);
  assert.equal(sum(b.slice(0, 22)) + sum(c.slice(0, 22)), 0, JSON.stringify(hours));
  const days = await table(page, "Posts per day, last 30 days");
  assert.equal(days.length, 1 + 30);
  assert.deepEqual([sum(column(days, "/b/")), sum(column(days, "/c/"))], [3, 1]);
  const threads = await table(page, "New threads per day, last 30 days");
  assert.deepEqual([sum(column(threads, "/b/")), sum(column(threads, "/c/"))], [1, 1]);
  // The bars themselves: one per board and hour that posted, named by its board.
  const svg = page.getByRole("region", { name: "Posts per hour, last 24 hours" }).locator("svg");
  const titles = await svg.locator("rect.bar title").allTextContents();
  assert.ok(
    titles.some((x) => /^\/b\/, .*: [1-3] posts$/.test(x)),
    JSON.stringify(titles),
  );
  assert.ok(
    titles.some((x) => /^\/c\/, .*: 1 posts$/.test(x)),
    JSON.stringify(titles),
  );
  assert.equal(await svg.getAttribute("role"), "img");
  assert.match(await svg.getAttribute("aria-label"), /4 posts in all/);

  const tile = (/** @type {string} */ label) => page.locator(".tile", { has: page.locator("dt", { hasText: label }) });
  assert.equal(await tile("Files stored").locator("strong").textContent(), "1");
  assert.equal(await tile("Reports waiting").locator("strong").textContent(), "1");
  assert.equal(await tile("S3 backup").locator("strong").textContent(), "off");
  assert.match(await tile("Disk").locator("small").textContent(), /^free of \d/);
  await page.getByRole("heading", { name: "Errors and warnings per hour, last 24 hours" }).waitFor();
  await page.evaluate(() => scrollTo(0, 0));
  await shot(page, "console-dashboard");

  // Refresh reads the figures again: a new post shows.
  await api(env.base, "/api/boards/c/threads", { body: "stew" });
  await page.getByRole("button", { name: "Refresh" }).click();
  await page.waitForFunction(() => {
    const days = [...document.querySelectorAll("table")].find(
      (t) => t.caption?.textContent === "Posts per day, last 30 days",
    );
    const all = days ? [...days.tBodies[0].rows].map((r) => Number(r.cells[r.cells.length - 1].textContent)) : [];
    return all.reduce((a, b) => a + b, 0) === 5;
  });
  assert.deepEqual(unexpected(admin.errors), []);
});

test("the dashboard at a phone's 360 px width does not scroll sideways", async () => {
  const phone = await env.browser.newContext({ viewport: { width: 360, height: 740 } });
  await phone.addCookies(await admin.context.cookies());
  const page = await phone.newPage();
  await page.goto(env.base + "/admin");
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await table(page, "Posts per day, last 30 days");
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 360, `the dashboard is ${wide} px wide`);
  await page.evaluate(() => scrollTo(0, 0));
  await shot(page, "console-phone-dashboard");
  await phone.close();
});

test("axe-core finds no serious or critical violation on the dashboard, tables open or not", async () => {
  const context = await env.browser.newContext({ bypassCSP: true });
  await context.addCookies(await admin.context.cookies());
  const page = await context.newPage();
  await page.goto(env.base + "/");
  await page.evaluate(() => localStorage.setItem("wani.settings", JSON.stringify({ theme: "dark" })));
  await page.goto(env.base + "/admin");
  await page.getByRole("heading", { name: "Posts per hour, last 24 hours" }).waitFor();
  await shot(page, "console-dark-dashboard");
  for (const open of [false, true]) {
    if (open) for (const summary of await page.locator("summary").all()) await summary.click();
    assert.deepEqual(await violations(page, THEMES), [], `tables ${open ? "open" : "closed"}`);
  }
  await context.close();
});

test("a moderator's console has the links and no figures, and never asks for them", async () => {
  const made = await fetch(`${env.base}/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "mia", password: PASSWORD }),
  });
  assert.equal(made.status, 201);
  const adminPage = admin.page;
  await adminPage.goto(env.base + "/admin/users");
  const row = adminPage.getByRole("form", { name: "Role of mia" });
  await row.getByLabel("Role").selectOption("board_mod");
  await row.getByLabel("Boards (moderators and janitors)").fill("b");
  await row.getByRole("button", { name: "Save" }).click();
  await row.getByRole("status").waitFor();

  const mia = await openPage(env.browser);
  /** @type {string[]} */
  const requests = [];
  mia.page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  await mia.page.goto(env.base + "/login");
  await mia.page.getByLabel("Username").fill("mia");
  await mia.page.getByLabel("Password").fill(PASSWORD);
  await mia.page.getByRole("button", { name: "Log in" }).click();
  await mia.page.getByRole("heading", { name: "Console" }).waitFor();
  await mia.page.locator(".console-links").waitFor();
  assert.equal(await mia.page.getByRole("heading", { name: "Dashboard" }).count(), 0);
  assert.ok(!requests.includes("/api/admin/stats"), JSON.stringify(requests));
  assert.deepEqual(unexpected(mia.errors), []);
  await mia.context.close();
  await admin.context.close();
});
