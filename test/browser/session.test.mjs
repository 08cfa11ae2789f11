// A staff member logged in in the same browser posts through the ordinary forms: the client
// learns the session's CSRF token when the server asks for it, and sends it from then on.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { serve, openPage, api, getJson, CONFIG, FIXTURES } from "./harness.mjs";

const env = serve({ config: `${CONFIG}\n[accounts]\nadmins = ["root"]\n` });

/** Console errors other than the one 403 that tells the client a session needs its token. */
const unexpected = (/** @type {string[]} */ errors) => errors.filter((e) => !/status of 403/.test(e));

test("logged in, a reply with text and one with an image are posted from the forms", async () => {
  const t = await api(env.base, "/api/boards/b/threads", { body: "staff reply here" });
  const { page, context, errors } = await openPage(env.browser);
  await page.goto(`${env.base}/b/thread/${t.no}`);
  const signup = await page.evaluate(async () => {
    const r = await fetch("/auth/signup", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "root", password: "lantern orchard 7 quietly" }),
    });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(signup.status, 201, JSON.stringify(signup.body));
  assert.equal(signup.body.user.role, "admin");

  await page.getByLabel("Comment").fill("posted with a session");
  await page.getByRole("button", { name: "Post reply" }).click();
  await page.locator("article.reply", { hasText: "posted with a session" }).waitFor();
  assert.equal(await page.locator(".field-error, [role=alert]").count(), 0);

  await page.getByLabel("Comment").fill("an image with a session");
  await page.locator('input[type="file"]').setInputFiles(join(FIXTURES, "truchet.webp"));
  await page.getByRole("button", { name: "Post reply" }).click();
  await page.locator("article.reply", { hasText: "an image with a session" }).locator("img.thumb").waitFor();

  const { thread } = await getJson(env.base, `/api/boards/b/threads/${t.no}`);
  assert.deepEqual(
    thread.posts.slice(1).map((/** @type {any} */ p) => p.body),
    ["posted with a session", "an image with a session"],
  );
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});
