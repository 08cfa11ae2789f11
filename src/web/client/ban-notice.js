// What a banned poster reads above the post form, loaded only once the server says the client is
// banned on the board: each ban's reason, board, expiry and number, and its one appeal (the form,
// then that it is pending, then the staff's answer).

import { html, useState } from "./preact-htm.js";
import { send, ApiError } from "./api.js";
import { exact, relative } from "./util.js";

/** @param {{bans: any[], prefix: string}} p the bans that cover this board, as their poster sees them */
export function BanNotice({ bans, prefix }) {
  return html`<div class="ban-notice">
    ${bans.map((b) => html`<${OneBan} key=${b.id} ban=${b} prefix=${`${prefix}-ban-${b.id}`} />`)}
  </div>`;
}

/**
 * One ban, in a box like the post form's; while it has no appeal the box is the appeal's form.
 * @param {{ban: any, prefix: string}} p
 */
function OneBan(p) {
  const [ban, setBan] = useState(p.ban);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const where = ban.board ? `/${ban.board}/` : "every board";
  const until = ban.expires_at == null ? "permanent" : `until ${exact(ban.expires_at)} (${relative(ban.expires_at)})`;
  const appeal = ban.appeal;
  const id = `${p.prefix}-appeal`;
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    if (appeal) return;
    const text = String(new FormData(/** @type {HTMLFormElement} */ (e.currentTarget)).get("text") || "");
    setBusy(true);
    setError("");
    try {
      setBan((await send("POST", `/api/bans/${ban.id}/appeal`, { text })).ban);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  let state;
  if (!appeal)
    state = html`<label for=${id}>Appeal (one per ban): why should it end?</label>
      <textarea id=${id} name="text" rows="3" maxlength="2000" aria-invalid=${error ? "true" : undefined}
        aria-describedby=${error ? `${id}-error` : undefined}></textarea>
      ${error ? html`<p class="field-error" id=${`${id}-error`} role="alert">${error}</p>` : null}
      <button type="submit" disabled=${busy}>Send the appeal</button>`;
  else if (appeal.status === "open")
    state = html`<p role="status">Your appeal (sent ${exact(appeal.at)}) is pending: staff have not answered it yet.</p>`;
  else
    state = html`<div role="status">
      <p>Your appeal was ${appeal.status === "accepted" ? "accepted" : "denied"}.</p>
      ${appeal.answer ? html`<p>The staff's answer: <q class="appeal-answer">${appeal.answer}</q></p>` : null}
    </div>`;
  return html`<form class="post-form" aria-labelledby=${`${p.prefix}-title`} onSubmit=${submit} noValidate>
    <div role="alert"><h2 class="form-title" id=${`${p.prefix}-title`}>You are banned from posting on ${where}</h2></div>
    <dl>
      <dt>Reason</dt><dd class="ban-reason">${ban.reason}</dd>
      <dt>Expires</dt><dd class="ban-expiry">${until}</dd>
      <dt>Ban</dt><dd>No. ${ban.id}${ban.post ? ` (for post No. ${ban.post.no} on /${ban.post.board}/)` : ""}</dd>
    </dl>
    ${state}
  </form>`;
}
