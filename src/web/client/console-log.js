// The staff log page (`/admin/log`): what staff did, newest first, by board and action, with
// the public reason and the private note, a page at a time through the API's cursor.

import { html, useState, useEffect } from "./preact-htm.js";
import { get } from "./api.js";
import { exact } from "./util.js";
import { ACTIONS, actionName } from "./modlog.js";

/** What changed, as the server recorded it, but the post's number, which is shown apart. @param {any} change */
function changeLine(change) {
  if (!change || typeof change !== "object") return "";
  const { no: _, ...rest } = change;
  return Object.entries(rest)
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
    .join(" · ");
}

/** @param {{entry: any}} p */
function Entry({ entry }) {
  const changed = changeLine(entry.change);
  return html`<li class="row log-entry">
    <p><strong>${actionName(entry.action)}</strong>${entry.board ? ` on /${entry.board}/` : ""} by ${entry.actor ?? "the config"}${" · "}<time datetime=${new Date(entry.at * 1000).toISOString()}>${exact(entry.at)}</time></p>
    ${entry.change?.no != null ? html`<p>No.${entry.change.no}</p>` : null}
    ${entry.reason ? html`<p>Reason: ${entry.reason}</p>` : null}
    ${entry.note ? html`<p>Private note: ${entry.note}</p>` : null}
    ${changed ? html`<details class="change"><summary>What changed</summary><p>${changed}</p></details>` : null}
  </li>`;
}

/** @param {{user: any, boards: any[]}} p */
export default function StaffLog({ user, boards }) {
  const [filter, setFilter] = useState({ board: "", action: "" });
  const [entries, setEntries] = useState(/** @type {any[]} */ ([]));
  const [next, setNext] = useState(/** @type {number|null} */ (null));
  const [state, setState] = useState(/** @type {"loading"|"done"|string} */ ("loading"));

  /** @param {number|null} before @param {any[]} shown */
  const load = async (before, shown) => {
    const q = new URLSearchParams({ limit: "50" });
    if (filter.board) q.set("board", filter.board);
    if (filter.action) q.set("action", filter.action);
    if (before != null) q.set("before", String(before));
    setState("loading");
    try {
      const r = await get(`/api/modlog?${q}`);
      setEntries([...shown, ...r.entries]);
      setNext(r.next);
      setState("done");
    } catch (e) {
      setState(/** @type {any} */ (e).message);
    }
  };
  useEffect(() => {
    load(null, []);
  }, [filter.board, filter.action]);

  const sees = user.role === "admin" || user.role === "global_mod";
  const slugs = sees ? boards.map((b) => b.slug) : user.boards || [];
  return html`<h1>Staff log</h1>
    <form class="console-form inline-form log-filter" aria-label="Filter the log" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <div class="field"><label for="log-board">Board</label>
        <select id="log-board" value=${filter.board} onChange=${(/** @type {any} */ e) => setFilter({ ...filter, board: e.target.value })}>
          <option value="">${sees ? "Every board" : "Your boards"}</option>
          ${slugs.map((/** @type {string} */ s) => html`<option value=${s}>/${s}/</option>`)}
        </select></div>
      <div class="field"><label for="log-action">Action</label>
        <select id="log-action" value=${filter.action} onChange=${(/** @type {any} */ e) => setFilter({ ...filter, action: e.target.value })}>
          <option value="">Every action</option>
          ${ACTIONS.map((a) => html`<option value=${a}>${actionName(a)}</option>`)}
        </select></div>
    </form>
    ${state !== "loading" && state !== "done" ? html`<p class="field-error" role="alert">${state}</p>` : null}
    ${entries.length ? html`<ul class="rows log">${entries.map((e) => html`<${Entry} key=${e.id} entry=${e} />`)}</ul>` : null}
    ${state === "done" && !entries.length ? html`<p role="status">No entries${next != null ? " in this stretch of the log" : ""}.</p>` : null}
    ${state === "loading" ? html`<p aria-busy="true">Loading…</p>` : null}
    ${
      next != null && state === "done"
        ? html`<p><button type="button" onClick=${() => load(next, entries)}>Older entries</button></p>`
        : null
    }`;
}
