// The reports queue: reported posts grouped by post, newest first, each rendered as readers see
// it with its reports, and one click to dismiss, delete, delete the files, or ban (a small
// dialog). The list reloads when the live count of waiting reports changes.

import { html, useState, useEffect, useRef } from "./preact-htm.js";
import { get, send } from "./api.js";
import { Post } from "./post.js";
import { relative, exact } from "./util.js";
import { Field, FormError, useForm, values, navigate } from "./console.js";

const CATEGORIES = /** @type {Record<string, string>} */ ({
  rule: "rule",
  illegal: "illegal",
  spam: "spam",
  other: "other",
});

/** Reported posts shown at once (the most the API gives in one answer). */
const LIMIT = 100;

const DURATIONS = [
  ["3600", "1 hour"],
  ["86400", "1 day"],
  ["259200", "3 days"],
  ["604800", "1 week"],
  ["2592000", "30 days"],
  ["permanent", "Permanent"],
];

/** What a handled action says, for the status line. */
const DONE = /** @type {Record<string, string>} */ ({
  dismiss: "Dismissed",
  delete: "Deleted",
  delete_files: "Deleted the files of",
  ban: "Banned the poster of",
});

/**
 * @typedef {{board: string, no: number, thread: number, count: number, latest_at: number, post: any,
 *   reports: {category: string, note?: string, cloak: string, address?: string, at: number}[]}} Queued
 */

/**
 * The ban's terms for a reported post: duration preset, public reason, the public mark, and a
 * note for staff.
 * @param {{queued: Queued, onBan: (terms: Record<string, any>) => Promise<void>, onClose: () => void}} p
 */
function BanDialog({ queued, onBan, onClose }) {
  const { errors, busy, run } = useForm(["duration", "reason", "note"]);
  const box = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => /** @type {HTMLElement | null | undefined} */ (box.current?.querySelector("select"))?.focus(), []);
  /** @param {SubmitEvent} e */
  const submit = (e) => {
    const v = values(e);
    /** @type {Record<string, any>} */
    const terms = { duration: v.duration === "permanent" ? "permanent" : Number(v.duration), reason: v.reason };
    if (v.mark) terms.mark = true;
    if (v.note.trim()) terms.note = v.note;
    run(() => onBan(terms));
  };
  const prefix = `ban-${queued.board}-${queued.no}`;
  return html`<div class="dialog ban-dialog" role="dialog" aria-modal="true" aria-labelledby=${`${prefix}-title`}
    ref=${box} onKeyDown=${(/** @type {KeyboardEvent} */ e) => e.key === "Escape" && onClose()}>
    <h2 id=${`${prefix}-title`}>Ban the poster of /${queued.board}/ ${queued.no}</h2>
    <form class="console-form" onSubmit=${submit} noValidate>
      <${Field} prefix=${prefix} label="Duration" name="duration" type="select" value="86400" options=${DURATIONS}
        errors=${errors} />
      <${Field} prefix=${prefix} label="Public reason" name="reason" errors=${errors}
        hint="The poster sees it, and so does the board's public log." />
      <${Field} prefix=${prefix} label="Mark the post (USER WAS BANNED FOR THIS POST)" name="mark" type="checkbox"
        value=${true} errors=${errors} />
      <${Field} prefix=${prefix} label="Note for staff (optional)" name="note" type="textarea" errors=${errors} />
      <${FormError} errors=${errors} />
      <p class="actions">
        <button class="primary" disabled=${busy}>Ban</button>
        <button type="button" onClick=${onClose}>Cancel</button>
      </p>
    </form>
  </div>`;
}

/**
 * One reported post: where, how many reports and why, the post itself, and the actions.
 * @param {{queued: Queued, mayBan: boolean, onHandled: (q: Queued, action: string) => void}} p
 */
function Group({ queued, mayBan, onHandled }) {
  const { errors, busy, run } = useForm([]);
  const [banning, setBanning] = useState(false);
  const path = `/api/boards/${queued.board}/reports/${queued.no}`;
  /** @param {string} action @param {Record<string, any>} [extra] */
  const act = async (action, extra = {}) => {
    await send("POST", path, { action, ...extra });
    onHandled(queued, action);
  };
  const post = { ...queued.post, board: queued.board };
  const label = `/${queued.board}/ ${queued.no}`;
  return html`<li class="report-group" aria-label=${`Reports of ${label}`}>
    <p class="report-head">
      <a href=${`/${queued.board}/`}>/${queued.board}/</a>
      ${" "}<strong>${queued.count} ${queued.count === 1 ? "report" : "reports"}</strong>
      ${" "}<time datetime=${new Date(queued.latest_at * 1000).toISOString()} title=${exact(queued.latest_at)}
        >${relative(queued.latest_at)}</time>
    </p>
    <${Post} post=${post} op=${queued.no === queued.thread} link=${true} />
    <ul class="report-list">
      ${queued.reports.map(
        (r) => html`<li>
          <span class="category">${CATEGORIES[r.category] || r.category}</span>
          ${r.note ? html`: <q class="note">${r.note}</q>` : null}
          <small> · ${r.address || r.cloak} · ${relative(r.at)}</small>
        </li>`,
      )}
      ${queued.count > queued.reports.length ? html`<li><small>and ${queued.count - queued.reports.length} more</small></li>` : null}
    </ul>
    <p class="actions report-actions">
      <button type="button" disabled=${busy} onClick=${() => run(() => act("dismiss"))}
        aria-label=${`Dismiss the reports of ${label}`}>Dismiss</button>
      <button type="button" class="danger-button" disabled=${busy} onClick=${() => run(() => act("delete"))}
        aria-label=${`Delete ${label}`}>Delete</button>
      ${
        queued.post.files?.length
          ? html`<button type="button" disabled=${busy} onClick=${() => run(() => act("delete_files"))}
            aria-label=${`Delete the files of ${label}`}>Delete files</button>`
          : null
      }
      ${
        mayBan
          ? html`<button type="button" disabled=${busy} onClick=${() => setBanning(true)}
            aria-label=${`Ban the poster of ${label}`}>Ban…</button>`
          : null
      }
    </p>
    <${FormError} errors=${errors} />
    ${
      banning
        ? html`<${BanDialog} queued=${queued} onBan=${(/** @type {any} */ terms) => act("ban", terms)}
          onClose=${() => setBanning(false)} />`
        : null
    }
  </li>`;
}

/** @param {{user: any, search: string, reports: {total: number, counts: Record<string, number>} | null}} props */
export default function Reports({ user, search, reports }) {
  const board = new URLSearchParams(search).get("board") || "";
  const { errors, run } = useForm([]);
  const [queue, setQueue] = useState(/** @type {Queued[] | null} */ (null));
  const [status, setStatus] = useState("");
  // The list follows the live count: a report filed or handled elsewhere changes it.
  useEffect(() => {
    run(async () => {
      const path = board
        ? `/api/boards/${encodeURIComponent(board)}/reports?limit=${LIMIT}`
        : `/api/reports?limit=${LIMIT}`;
      setQueue((await get(path)).reports);
    });
  }, [board, reports?.total]);
  /** @param {Queued} handled @param {string} action */
  const onHandled = (handled, action) => {
    setQueue((prev) => (prev || []).filter((q) => q.board !== handled.board || q.no !== handled.no));
    setStatus(`${DONE[action] || action} /${handled.board}/ ${handled.no}.`);
  };
  const counts = reports?.counts || {};
  const boards = Object.keys(counts).sort();
  const mayBan = user.role !== "janitor";
  return html`<h1>Reports</h1>
    <form class="console-form inline-form" aria-label="Filter" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <div class="field">
        <label for="reports-board">Board</label>
        <select id="reports-board" value=${board}
          onChange=${(/** @type {any} */ e) => navigate(e.target.value ? `/admin/reports?board=${e.target.value}` : "/admin/reports")}>
          <option value="">All boards${reports ? ` (${reports.total})` : ""}</option>
          ${boards.map((b) => html`<option value=${b}>/${b}/ (${counts[b]})</option>`)}
        </select>
      </div>
    </form>
    <p class="status" role="status">${status}</p>
    <${FormError} errors=${errors} />
    ${
      queue === null
        ? html`<p aria-busy="true">Loading…</p>`
        : queue.length === 0
          ? html`<p class="empty">No reports waiting${board ? ` on /${board}/` : ""}.</p>`
          : html`<ul class="report-queue">
              ${queue.map((q) => html`<${Group} key=${`${q.board}/${q.no}`} queued=${q} mayBan=${mayBan} onHandled=${onHandled} />`)}
            </ul>
            ${queue.length >= LIMIT ? html`<p>The newest ${LIMIT} are shown; older ones follow as these are handled.</p>` : null}`
    }`;
}
