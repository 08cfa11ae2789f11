// The thread watcher: follows the boards of watched threads and counts their new posts as
// unread; the panel lists them. Reading a thread clears its count.
//
// A stream only tells of what happens while it is open, so each watched thread is also caught up
// from the server (its posts after the last one counted, `?after=N`): when its board's stream
// opens (the page's start, a reconnect) or asks for a resync, and when it starts being watched.
// A post both caught up and streamed is counted once (`store.seen`).

import { html } from "./preact-htm.js";
import { follow, get } from "./api.js";
import { store, subscribe } from "./store.js";
import { threadPath } from "./util.js";

/** @type {Map<string, () => void>} board → closes its stream */
const streams = new Map();
/** Watched threads ("board/no") caught up, or being caught up, since their stream opened. */
const caughtUp = new Set();

/** @param {string} board @param {number} thread */
function reading(board, thread) {
  return !document.hidden && location.pathname === `/${board}/thread/${thread}`;
}

/** Counts the posts a watched thread got after the last one counted. @param {string} key */
async function catchUp(key) {
  caughtUp.add(key);
  const w = store.watched[key];
  if (!w) return;
  try {
    const r = await get(`/api/boards/${encodeURIComponent(w.board)}/threads/${w.thread}?after=${w.last}`);
    const nos = r.thread.posts.map((/** @type {{no: number}} */ p) => p.no);
    store.seen(w.board, w.thread, nos, reading(w.board, w.thread));
  } catch {
    // A thread gone, or the server out of reach: its count stays as it was.
  }
}

/** Catches up every watched thread of `board`. @param {string} board */
function catchUpBoard(board) {
  for (const [key, w] of Object.entries(store.watched)) if (w.board === board) catchUp(key);
}

/** Keeps one stream per board that has a watched thread, and catches up newly watched threads. */
function sync() {
  const boards = new Set(Object.values(store.watched).map((w) => w.board));
  for (const [board, stop] of streams) {
    if (!boards.has(board)) {
      stop();
      streams.delete(board);
    }
  }
  for (const key of caughtUp) if (!(key in store.watched)) caughtUp.delete(key);
  for (const board of boards) {
    if (streams.has(board)) continue;
    streams.set(
      board,
      follow(
        board,
        null,
        (e) => {
          if (e.event === "resync") return catchUpBoard(board);
          if (e.event !== "post" || !e.post) return;
          store.seen(e.board, e.thread, [e.post.no], reading(e.board, e.thread));
        },
        () => catchUpBoard(board),
      ),
    );
    // A new stream's threads are caught up when it opens, not before as well.
    for (const [key, w] of Object.entries(store.watched)) if (w.board === board) caughtUp.add(key);
  }
  for (const key of Object.keys(store.watched)) if (!caughtUp.has(key)) catchUp(key);
}

export function startWatcher() {
  sync();
  subscribe(sync);
}

export function WatcherPanel() {
  const list = Object.values(store.watched);
  return html`<section class="watcher" aria-label="Watched threads">
    <h2>Watched threads</h2>
    ${
      list.length
        ? html`<ul>${list.map(
            (w) => html`<li key=${w.board + w.thread}>
            <a href=${threadPath(w.board, w.thread)}>${w.title || `/${w.board}/ No.${w.thread}`}</a>
            ${" "}<span class=${"unread" + (w.unread ? " some" : "")} aria-label=${`${w.unread} unread`}>(${w.unread})</span>
            ${" "}<button type="button" class="link" aria-label=${`Stop watching ${w.title}`}
              onClick=${() => store.unwatch(w.board, w.thread)}>×</button>
          </li>`,
          )}</ul>`
        : html`<p>No watched threads. Use “Watch thread” on a thread or in the catalog.</p>`
    }
  </section>`;
}
