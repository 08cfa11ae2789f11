// A board's public mod log (`/{board}/modlog`), loaded only when a reader opens it: what staff
// did on the board, when, and the public reason; never private notes, cloaks or addresses, which
// the server leaves out of this view. Also the names of the log's actions, for the staff log.

import { html, useState, useEffect } from "./preact-htm.js";
import { get } from "./api.js";
import { exact } from "./util.js";
import { BoardHeader, BoardNav, NotFound, Loading } from "./pages.js";

/** The log's actions, in the order of `LogAction` in src/model.rs. */
export const ACTIONS = [
  "board_create",
  "board_update",
  "board_delete",
  "post_delete",
  "files_delete",
  "poster_delete",
  "report_dismiss",
  "thread_sticky",
  "thread_lock",
  "thread_cyclic",
  "thread_move",
  "totp_clear",
  "file_ban",
  "file_unban",
  "filter_create",
  "filter_update",
  "filter_delete",
  "ban",
  "ban_lift",
  "appeal_accept",
  "appeal_deny",
];

/** @type {Record<string, string>} */
const NAMES = {
  board_create: "Board created",
  board_update: "Board settings changed",
  board_delete: "Board deleted",
  post_delete: "Post deleted",
  files_delete: "Files deleted",
  poster_delete: "Poster's posts deleted",
  report_dismiss: "Reports dismissed",
  thread_sticky: "Thread stickied or unstickied",
  thread_lock: "Thread locked or unlocked",
  thread_cyclic: "Thread made cyclic or not",
  thread_move: "Thread moved",
  totp_clear: "Two-factor login cleared",
  file_ban: "File banned",
  file_unban: "File ban lifted",
  filter_create: "Filter added",
  filter_update: "Filter changed",
  filter_delete: "Filter removed",
  ban: "Ban",
  ban_lift: "Ban lifted",
  appeal_accept: "Appeal accepted",
  appeal_deny: "Appeal denied",
};

/** An action in words; an action this client does not know yet by its name. @param {string} action */
export function actionName(action) {
  return NAMES[action] ?? action.replace(/_/g, " ");
}

/** @param {{board: string}} props */
export function ModLogPage({ board }) {
  const [data, setData] = useState(/** @type {{board: any, entries: any[], next: number|null} | null} */ (null));
  const [error, setError] = useState(/** @type {any} */ (null));
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    Promise.all([get(`/api/boards/${board}`), get(`/api/boards/${board}/modlog`)]).then(([b, log]) => {
      document.title = `Mod log – /${board}/`;
      setData({ board: b.board, entries: log.entries, next: log.next });
    }, setError);
  }, [board]);
  if (error) return html`<${NotFound} error=${error} board=${board} />`;
  if (!data) return html`<${Loading} />`;
  const older = async () => {
    setBusy(true);
    try {
      const log = await get(`/api/boards/${board}/modlog?before=${data.next}`);
      setData({ ...data, entries: [...data.entries, ...log.entries], next: log.next });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<${BoardHeader} board=${data.board} />
    <${BoardNav} board=${board} page="modlog" />
    <main id="main" class="modlog">
      <h2>Mod log</h2>
      <p class="hint">What the staff of /${board}/ did, newest first, with the reason they gave.</p>
      ${
        data.entries.length
          ? html`<ol class="log">${data.entries.map(
              (/** @type {any} */ e) => html`<li key=${e.id}>
              <strong>${actionName(e.action)}</strong>${e.post != null ? ` – No.${e.post}` : ""}${" · "}<time
                datetime=${new Date(e.at * 1000).toISOString()}>${exact(e.at)}</time>${e.actor ? ` · by ${e.actor}` : ""}
              ${e.reason ? html`<br /><span>Reason: ${e.reason}</span>` : null}
            </li>`,
            )}</ol>`
          : html`<p role="status">Nothing logged yet.</p>`
      }
      ${data.next != null ? html`<button type="button" disabled=${busy} onClick=${older}>Older entries</button>` : null}
    </main>`;
}
