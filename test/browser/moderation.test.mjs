// Thread actions as a reader sees them: a thread page marks a lock as it happens, follows its
// thread when staff move it to another board, and an old link to a moved thread opens it at
// its new place.

import { test } from "node:test";
import assert from "node:assert/strict";
import { serve, openPage, api, CONFIG } from "./harness.mjs";

const env = serve({
  config: `${CONFIG}\n[accounts]\nsignup = "open"\nadmins = ["root"]\nargon2_memory_kib = 1024\nargon2_iterations = 1\n`,
});

/**
 * Signs `root` up (the first time) or logs it in through the API, and returns a function that
 * POSTs JSON as root with its session and CSRF token.
 * @param {"signup" | "login"} how
 */
async function asRoot(how) {
  const r = await fetch(`${env.base}/auth/${how}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "root", password: "lantern orchard 7 quietly" }),
  });
  const answer = await r.json();
  assert.equal(r.status, how === "signup" ? 201 : 200, JSON.stringify(answer));
  const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0];
  return async (/** @type {string} */ path, /** @type {any} */ body) => {
    const a = await fetch(env.base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", cookie, "x-csrf-token": answer.csrf },
      body: JSON.stringify(body),
    });
    const json = await a.json();
    assert.equal(a.status, 200, `${path}: ${JSON.stringify(json)}`);
    return json;
  };
}

test("an open thread page shows a lock live and follows its thread to another board", async () => {
  const act = await asRoot("signup");
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Moving", body: "off topic here" });
  const r = await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: `>>${t.no} agreed` });
  const { page, context, errors } = await openPage(env.browser);
  await page.goto(`${env.base}/b/thread/${t.no}`);
  await page.locator(`article#p${r.no}`).waitFor();

  await act(`/api/boards/b/threads/${t.no}/lock`, { locked: true });
  await page.locator(".thread-nav .mark", { hasText: "Locked" }).waitFor();

  const moved = await act(`/api/boards/b/threads/${t.no}/move`, { board: "c" });
  const to = moved.thread.no;
  await page.waitForURL(`${env.base}/c/thread/${to}`);
  const reply = page.locator("article.reply", { hasText: "agreed" });
  await reply.waitFor();
  // The reply's link now names the thread's new number on its new board.
  assert.equal(await reply.locator("a.quotelink").getAttribute("href"), `/c/thread/${to}#p${to}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test("an old link to a moved thread opens it at its new place", async () => {
  const act = await asRoot("login");
  const t = await api(env.base, "/api/boards/b/threads", { subject: "Old link", body: "find me" });
  const moved = await act(`/api/boards/b/threads/${t.no}/move`, { board: "c" });
  const { page, context, errors } = await openPage(env.browser);
  await page.goto(`${env.base}/b/thread/${t.no}`);
  await page.waitForURL(`${env.base}/c/thread/${moved.thread.no}`);
  await page.locator(`article#p${moved.thread.no}`, { hasText: "find me" }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
