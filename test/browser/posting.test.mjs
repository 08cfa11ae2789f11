// Posting as a person does: the new-thread form with an image and its progress bar, replies
// with text and with a pasted image, quick reply, field errors, (You), deleting one's post.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { serve, openPage, api, getJson, shot, FIXTURES } from "./harness.mjs";

const env = serve();

test("a new thread with an image from the form: the progress bar shows, then ends on the thread", async () => {
  const { page, context, errors } = await openPage(env.browser);
  await page.goto(env.base + "/b/");
  await page.getByText("Start a new thread").click();
  await page.getByLabel("Subject").fill("Photos");
  await page.getByLabel("Comment").fill("My holiday");
  await page.locator('input[type="file"]').setInputFiles(join(FIXTURES, "flow-5120x2880.jpg"));
  await page.getByRole("img", { name: "Preview of flow-5120x2880.jpg" }).waitFor();
  await page.getByText("3.7 MB").waitFor();
  // Slow the upload down so a person (and this test) can see the bar move.
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 2 * 1024 * 1024,
  });
  await page.getByRole("button", { name: "Create thread" }).click();
  await page.getByLabel("Upload progress").waitFor();
  await shot(page, "posting-progress-desktop-light");
  await page.getByRole("heading", { name: "Photos" }).waitFor();
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  assert.match(new URL(page.url()).pathname, /^\/b\/thread\/\d+$/);
  assert.equal(await page.getByLabel("Upload progress").count(), 0);
  await page.locator("article.op img.thumb").waitFor();
  await page.locator("article.op .you-mark").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("replies with text and with a pasted image appear once and are marked (You)", async () => {
  const t = await api(env.base, "/api/boards/b/threads", { body: "reply to me" });
  const { page, context, errors } = await openPage(env.browser);
  await page.goto(`${env.base}/b/thread/${t.no}`);
  await page.getByLabel("Comment").fill("first reply");
  await page.getByRole("button", { name: "Post reply" }).click();
  await page.locator("article.reply", { hasText: "first reply" }).waitFor();
  assert.equal(await page.locator("article.reply", { hasText: "first reply" }).count(), 1);
  assert.equal(await page.locator("article.reply", { hasText: "first reply" }).locator(".you-mark").count(), 1);
  assert.equal(await page.getByLabel("Comment").inputValue(), "", "the form empties after posting");
  // Paste an image from the clipboard into the comment box.
  const png = readFileSync(join(FIXTURES, "truchet.webp")).toString("base64");
  await page.getByLabel("Comment").fill("pasted");
  await page.getByLabel("Comment").evaluate((area, b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], "pasted.webp", { type: "image/webp" }));
    area.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, png);
  await page.getByRole("img", { name: "Preview of pasted.webp" }).waitFor();
  await page.getByRole("button", { name: "Post reply" }).click();
  const pasted = page.locator("article.reply", { hasText: "pasted" });
  await pasted.locator("img.thumb").waitFor();
  assert.equal(await pasted.count(), 1);
  // A reply to my post from elsewhere is marked as quoting me.
  const mine = await page.locator("article.reply", { hasText: "first reply" }).getAttribute("data-no");
  await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: `>>${mine} hello you` });
  await page.locator("article.reply", { hasText: "hello you" }).locator(".quotes-you").waitFor();
  // (You) survives a reload.
  await page.reload();
  await page.locator("article.reply", { hasText: "first reply" }).locator(".you-mark").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("quick reply inserts >>no; the server's field error shows beside the field and keeps the text", async () => {
  const t = await api(env.base, "/api/boards/b/threads", { body: "quote me" });
  const { page, context } = await openPage(env.browser);
  await page.goto(`${env.base}/b/thread/${t.no}`);
  await page.getByRole("link", { name: `No.${t.no}` }).click();
  const qr = page.getByRole("dialog", { name: "Quick reply" });
  await qr.waitFor();
  assert.equal(await qr.getByLabel("Comment").inputValue(), `>>${t.no}\n`);
  // The board allows 200 characters: the server refuses, the text stays.
  const long = `>>${t.no}\n` + "x".repeat(250);
  await qr.getByLabel("Comment").fill(long);
  await qr.getByText(`${long.length} / 200`).waitFor();
  await qr.getByRole("button", { name: "Post reply" }).click();
  const error = qr.locator("#reply-body-error");
  await error.waitFor();
  assert.match(await error.textContent(), /limit is 200/);
  assert.equal(await qr.getByLabel("Comment").inputValue(), long);
  assert.equal(await qr.getByLabel("Comment").getAttribute("aria-invalid"), "true");
  await page.keyboard.press("Escape");
  await page.getByRole("heading", { name: "Reply", exact: true }).waitFor();
  await context.close();
});

test("deleting one's own post, and its file only", async () => {
  const jpg = readFileSync(join(FIXTURES, "cups-2560x1600.jpg"));
  const t = await api(env.base, "/api/boards/b/threads", { body: "thread" });
  const { page, context } = await openPage(env.browser);
  page.on("dialog", (d) => d.accept());
  await page.goto(`${env.base}/b/thread/${t.no}`);
  await page.getByLabel("Comment").fill("regret this");
  await page.getByRole("button", { name: "Post reply" }).click();
  const post = page.locator("article.reply", { hasText: "regret this" });
  await post.waitFor();
  const no = await post.getAttribute("data-no");
  await post.getByLabel(`Menu of post ${no}`).click();
  await post.getByRole("button", { name: "Delete", exact: true }).click();
  await post.getByText("(deleted)").waitFor();
  const answer = await fetch(`${env.base}/api/boards/b/posts/${no}`);
  assert.equal(answer.status, 410);
  // Someone else's post offers no delete.
  const other = await api(env.base, `/api/boards/b/threads/${t.no}/posts`, { body: "not mine" }, [
    { bytes: jpg, type: "image/jpeg", name: "cups.jpg" },
  ]);
  const theirs = page.locator(`article#p${other.no}`);
  await theirs.getByLabel(`Menu of post ${other.no}`).click();
  assert.equal(await theirs.getByRole("button", { name: "Delete", exact: true }).count(), 0);
  // Delete file only, on a post of mine with a file.
  await page.locator('input[type="file"]').setInputFiles(join(FIXTURES, "cups-2560x1600.jpg"));
  await page.getByLabel("Comment").fill("keep the words");
  await page.getByRole("button", { name: "Post reply" }).click();
  const withFile = page.locator("article.reply", { hasText: "keep the words" });
  await withFile.locator("img.thumb").waitFor();
  const fno = await withFile.getAttribute("data-no");
  await withFile.getByLabel(`Menu of post ${fno}`).click();
  await withFile.getByRole("button", { name: "Delete file only" }).click();
  await withFile.getByText("(file deleted)").waitFor();
  const kept = await getJson(env.base, `/api/boards/b/posts/${fno}`);
  assert.equal(kept.post.files_deleted, true);
  await context.close();
});
