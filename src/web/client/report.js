// Reporting a post to the board's staff (loaded on demand from a post's menu): a category and
// an optional note, sent once.

import { html, render, useState, useEffect, useRef } from "./preact-htm.js";
import { send, ApiError } from "./api.js";

const CATEGORIES = [
  ["rule", "Breaks the board's rules"],
  ["spam", "Spam or advertising"],
  ["illegal", "Illegal content"],
  ["other", "Something else"],
];

/** @param {{board: string, no: number, onClose: () => void}} p */
function ReportDialog({ board, no, onClose }) {
  const [state, setState] = useState(/** @type {{busy?: boolean, error?: string, done?: boolean}} */ ({}));
  const first = useRef(/** @type {HTMLSelectElement | null} */ (null));
  useEffect(() => first.current?.focus(), []);
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (e.currentTarget));
    const note = String(data.get("note") || "").trim();
    setState({ busy: true });
    try {
      await send("POST", `/api/boards/${board}/posts/${no}/report`, {
        category: String(data.get("category")),
        ...(note ? { note } : {}),
      });
      setState({ done: true });
    } catch (error) {
      setState({ error: error instanceof ApiError ? error.message : String(error) });
    }
  };
  return html`<div class="dialog report-dialog" role="dialog" aria-modal="true" aria-labelledby="report-title"
    onKeyDown=${(/** @type {KeyboardEvent} */ e) => e.key === "Escape" && onClose()}>
    <h2 id="report-title">Report post ${no}</h2>
    ${
      state.done
        ? html`<p role="status">Reported. The board's staff will look at it.</p>
          <button type="button" class="primary" onClick=${onClose}>Close</button>`
        : html`<form onSubmit=${submit}>
          <label for="report-category">Why</label>
          <select id="report-category" name="category" ref=${first}>
            ${CATEGORIES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
          </select>
          <label for="report-note">Note for the staff (optional)</label>
          <textarea id="report-note" name="note" rows="3" maxlength="500"></textarea>
          ${state.error ? html`<p class="field-error" role="alert">${state.error}</p>` : null}
          <p>
            <button class="primary" disabled=${state.busy}>Send the report</button>
            <button type="button" onClick=${onClose}>Cancel</button>
          </p>
        </form>`
    }
  </div>`;
}

/**
 * Opens the report dialog of a post; closing it gives the focus back to `from`.
 * @param {string} board @param {number} no @param {HTMLElement | null} from
 */
export function openReport(board, no, from) {
  const box = document.createElement("div");
  document.body.append(box);
  const close = () => {
    render(null, box);
    box.remove();
    from?.focus();
  };
  render(html`<${ReportDialog} board=${board} no=${no} onClose=${close} />`, box);
}
