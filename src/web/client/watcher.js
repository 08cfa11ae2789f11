// The thread watcher: follows the boards of watched threads and counts their new posts as
// unread; the panel lists them. Reading a thread clears its count.

import { html } from "./preact-htm.js";
import { follow } from "./api.js";
import { store, subscribe } from "./store.js";
import { threadPath } from "./util.js";

/** @type {Map<string, () => void>} board → closes its stream */
const streams = new Map();

/** Keeps one stream per board that has a watched thread. */
function sync() {
  const boards = new Set(Object.values(store.watched).map((w) => w.board));
  for (const [board, stop] of streams) {
    if (!boards.has(board)) {
      stop();
      streams.delete(board);
    }
  }
  for (const board of boards) {
    if (streams.has(board)) continue;
    streams.set(
      board,
      follow(board, null, (e) => {
        if (e.event !== "post" || !e.post) return;
        const reading = !document.hidden && location.pathname === `/${e.board}/thread/${e.thread}`;
        store.seen(e.board, e.thread, e.post.no, reading);
      }),
    );
  }
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
