// The bans page: bans found by board, address or cloak, each with its target, board, reasons,
// author and expiry, and lifted from there; a ban given by hand; and the appeals waiting for an
// answer, each beside its ban.

import { html, useState, useEffect } from "./preact-htm.js";
import { get, send, ApiError } from "./api.js";
import { Field, FormError, useForm, values } from "./console.js";
import { exact, relative } from "./util.js";

/** Bans asked for at once; a full page offers the older ones. */
const PAGE = 50;

const DURATIONS = [
  ["3600", "1 hour"],
  ["86400", "1 day"],
  ["259200", "3 days"],
  ["604800", "1 week"],
  ["2592000", "30 days"],
  ["31536000", "1 year"],
  ["permanent", "Permanent"],
  ["custom", "Custom"],
];
const UNITS = [
  ["60", "minutes"],
  ["3600", "hours"],
  ["86400", "days"],
];

/**
 * Sends `fn`'s request and moves the server's `field` to the form's own name for it (the form
 * has one box for an address or a cloak).
 * @param {() => Promise<any>} fn @param {Record<string, string>} names
 */
async function renamed(fn, names) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError && e.field && names[e.field])
      throw new ApiError(e.status, e.code, e.message, names[e.field]);
    throw e;
  }
}

/** What a ban matches, as far as the caller may see it. @param {any} ban */
function target(ban) {
  if (ban.kind === "cloak") return `cloak ${ban.cloak} (seen on /${ban.cloak_board}/)`;
  const what = ban.kind === "range" ? "range" : "address";
  if (ban.address) return `${what} ${ban.address}`;
  return ban.poster_cloak ? `the ${what} of cloak ${ban.poster_cloak}` : `an ${what} (admins see it)`;
}

/** @param {any} ban */
function expiry(ban) {
  if (ban.expires_at == null) return "permanent";
  const past = ban.expires_at * 1000 <= Date.now();
  return `${past ? "expired " : ""}${exact(ban.expires_at)} (${relative(ban.expires_at)})`;
}

/** A ban's terms, as staff read them. @param {{ban: any}} p */
function Terms({ ban }) {
  return html`<dl class="ban-terms">
    <dt>Target</dt><dd>${target(ban)}</dd>
    <dt>Board</dt><dd>${ban.board ? `/${ban.board}/` : "every board"}</dd>
    <dt>Reason</dt><dd>${ban.reason}</dd>
    <dt>Private note</dt><dd>${ban.note || "none"}</dd>
    <dt>Given by</dt><dd>${ban.by || "the server (a filter)"}, ${exact(ban.created_at)}</dd>
    <dt>Expires</dt><dd>${expiry(ban)}</dd>
    ${ban.post ? html`<dt>For post</dt><dd>No. ${ban.post.no} on /${ban.post.board}/</dd>` : null}
    ${ban.appeal ? html`<dt>Appeal</dt><dd>${ban.appeal.status}: ${ban.appeal.text}</dd>` : null}
  </dl>`;
}

/** @param {{ban: any, onLifted: (id: number) => void}} p */
function BanRow({ ban, onLifted }) {
  const { errors, busy, run } = useForm(["note"]);
  const [asking, setAsking] = useState(false);
  /** @param {SubmitEvent} e */
  const lift = (e) => {
    const v = values(e);
    run(async () => {
      await send("POST", `/api/bans/${ban.id}/lift`, v.note ? { note: v.note } : {});
      onLifted(ban.id);
    });
  };
  return html`<li class="ban">
    <h3>Ban ${ban.id}</h3>
    <${Terms} ban=${ban} />
    ${
      asking
        ? html`<form class="console-form" onSubmit=${lift} noValidate aria-label=${`Lift ban ${ban.id}`}>
          <${Field} prefix=${`lift-${ban.id}`} label="Note for staff (optional)" name="note" errors=${errors} />
          <${FormError} errors=${errors} />
          <p class="actions">
            <button class="primary" disabled=${busy}>Lift ban ${ban.id}</button>
            <button type="button" onClick=${() => setAsking(false)}>Keep it</button>
          </p>
        </form>`
        : html`<p class="actions"><button type="button" onClick=${() => setAsking(true)}>Lift…</button></p>`
    }
  </li>`;
}

/** What a search asked for, in words, as the list's caption. @param {any} q */
function asked(q) {
  const on = q.board === "global" ? " global" : q.board ? ` on /${q.board}/` : "";
  const by = q.text ? ` for ${q.by} ${q.text}` : "";
  return on || by ? `Bans${by}${on}` : "All bans";
}

/** @param {{user: any, query: any, onQuery: (q: any) => Promise<void>}} p */
function Search({ user, query, onQuery }) {
  const { errors, run } = useForm(["board", "text"]);
  const admin = user.role === "admin";
  const by = admin
    ? [
        ["address", "Address"],
        ["cloak", "Cloak"],
      ]
    : [["cloak", "Cloak"]];
  /** @param {SubmitEvent} e */
  const submit = (e) => {
    const v = values(e);
    // The first page is asked here, so that a refusal shows beside this form's fields.
    run(() =>
      renamed(() => onQuery({ board: v.board.trim(), by: v.by, text: v.text.trim() }), {
        address: "text",
        cloak: "text",
      }),
    );
  };
  return html`<form class="console-form search" onSubmit=${submit} noValidate aria-label="Search bans">
    <${Field} prefix="find" label="Board" name="board" value=${query.board} errors=${errors}
      hint=${user.role === "board_mod" ? "One of the boards you moderate." : "A board's slug, global for bans on every board, or empty for all."} />
    <${Field} prefix="find" label="Search by" name="by" type="select" value=${query.by} options=${by} errors=${errors} />
    <${Field} prefix="find" label="Address or cloak" name="text" value=${query.text} errors=${errors}
      hint=${admin ? "An address finds every ban that covers it, ranges too." : "A poster's cloak (12 characters)."} />
    <${FormError} errors=${errors} />
    <button class="primary">Search</button>
  </form>`;
}

/** @param {{user: any, onGiven: (ban: any) => void}} p */
function Give({ user, onGiven }) {
  const { errors, busy, run } = useForm(["kind", "target", "board", "global", "duration", "reason", "note"]);
  const [duration, setDuration] = useState("86400");
  const [given, setGiven] = useState(0);
  const global = user.role === "admin" || user.role === "global_mod";
  /** @param {SubmitEvent} e */
  const submit = (e) => {
    const form = /** @type {HTMLFormElement} */ (e.currentTarget);
    const v = values(e);
    const everywhere = v.global === "on";
    /** @type {Record<string, any>} */
    const body = { [v.kind]: v.target.trim(), reason: v.reason };
    if (v.note) body.note = v.note;
    if (everywhere) body.global = true;
    if (v.board.trim() && !(everywhere && v.kind === "address")) body.board = v.board.trim();
    if (duration === "permanent") body.duration = "permanent";
    else if (duration === "custom") body.duration = Math.round(Number(v.amount) * Number(v.unit)) || 0;
    else body.duration = Number(duration);
    setGiven(0);
    run(async () => {
      const r = await renamed(() => send("POST", "/api/bans", body), {
        address: "target",
        cloak: "target",
        amount: "duration",
      });
      form.reset();
      setDuration("86400");
      setGiven(r.ban.id);
      onGiven(r.ban);
    });
  };
  return html`<form class="console-form" onSubmit=${submit} noValidate aria-label="Give a ban">
    <${Field} prefix="give" label="Ban by" name="kind" type="select" value="address" errors=${errors}
      options=${[
        ["address", "Address or range"],
        ["cloak", "Cloak"],
      ]} />
    <${Field} prefix="give" label="Address, range or cloak" name="target" errors=${errors}
      hint="An address (192.0.2.7), a range (192.0.2.0/24, 2001:db8::/48), or the 12-character cloak staff see." />
    <${Field} prefix="give" label="Board" name="board" errors=${errors}
      hint="The board it applies on; for a cloak, the board the cloak was seen on." />
    ${global ? html`<${Field} prefix="give" label="On every board" name="global" type="checkbox" errors=${errors} />` : null}
    <div class="field">
      <label for="give-duration">Duration</label>
      <select id="give-duration" name="duration" value=${duration} aria-invalid=${errors.duration ? "true" : undefined}
        aria-describedby=${errors.duration ? "give-duration-error" : undefined}
        onChange=${(/** @type {any} */ e) => setDuration(e.target.value)}>
        ${DURATIONS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
      </select>
      ${errors.duration ? html`<p class="field-error" id="give-duration-error" role="alert">${errors.duration}</p>` : null}
    </div>
    ${
      duration === "custom"
        ? html`<div class="custom-duration">
          <${Field} prefix="give" label="How long" name="amount" type="number" inputmode="numeric" errors=${errors} />
          <${Field} prefix="give" label="Unit" name="unit" type="select" value="86400" options=${UNITS} errors=${errors} />
        </div>`
        : null
    }
    <${Field} prefix="give" label="Public reason (the poster reads it)" name="reason" type="textarea" errors=${errors} />
    <${Field} prefix="give" label="Private note (staff only)" name="note" type="textarea" errors=${errors} />
    <${FormError} errors=${errors} />
    <button class="primary" disabled=${busy}>Ban</button>
    ${given ? html`<p role="status">Ban ${given} is given.</p>` : null}
  </form>`;
}

/** @param {{ban: any, onAnswered: (id: number, accepted: boolean) => void}} p */
function AppealRow({ ban, onAnswered }) {
  const { errors, busy, run } = useForm(["answer"]);
  /** @param {boolean} accept @param {MouseEvent} e */
  const answer = (accept, e) => {
    const form = /** @type {HTMLButtonElement} */ (e.currentTarget).form;
    const text = String(new FormData(/** @type {HTMLFormElement} */ (form)).get("answer") || "");
    run(async () => {
      await send("POST", `/api/bans/${ban.id}/appeal/${accept ? "accept" : "deny"}`, text ? { answer: text } : {});
      onAnswered(ban.id, accept);
    });
  };
  return html`<li class="ban appeal-row">
    <h3>Appeal on ban ${ban.id}</h3>
    <div class="beside">
      <div>
        <p class="appeal-text">${ban.appeal.text}</p>
        <p class="muted">Sent ${exact(ban.appeal.at)}.</p>
        <form class="console-form" onSubmit=${(/** @type {SubmitEvent} */ e) => e.preventDefault()} noValidate
          aria-label=${`Answer the appeal on ban ${ban.id}`}>
          <${Field} prefix=${`answer-${ban.id}`} label="Answer (the poster reads it; needed to deny)" name="answer"
            type="textarea" errors=${errors} />
          <${FormError} errors=${errors} />
          <p class="actions">
            <button type="button" class="primary" disabled=${busy} onClick=${(/** @type {MouseEvent} */ e) => answer(true, e)}>
              Accept and lift</button>
            <button type="button" disabled=${busy} onClick=${(/** @type {MouseEvent} */ e) => answer(false, e)}>Deny</button>
          </p>
        </form>
      </div>
      <${Terms} ban=${{ ...ban, appeal: null }} />
    </div>
  </li>`;
}

/** @param {{user: any}} p */
function Appeals({ user }) {
  const { errors, run } = useForm([]);
  const [appeals, setAppeals] = useState(/** @type {any[] | null} */ (null));
  const [done, setDone] = useState("");
  useEffect(() => {
    run(async () => setAppeals((await get("/api/bans/appeals?limit=100")).appeals));
  }, []);
  /** @param {number} id @param {boolean} accepted */
  const onAnswered = (id, accepted) => {
    setAppeals((prev) => (prev || []).filter((b) => b.id !== id));
    setDone(`The appeal on ban ${id} is ${accepted ? "accepted: the ban is lifted" : "denied"}.`);
  };
  return html`<h2>Appeals waiting</h2>
    ${user.role === "board_mod" ? html`<p>Of the boards you moderate.</p>` : null}
    ${done ? html`<p role="status">${done}</p>` : null}
    <${FormError} errors=${errors} />
    ${
      appeals && !appeals.length
        ? html`<p class="console-links">No appeal is waiting.</p>`
        : html`<ul class="bans">${(appeals || []).map((b) => html`<${AppealRow} key=${b.id} ban=${b} onAnswered=${onAnswered} />`)}</ul>`
    }`;
}

/** @param {{user: any}} p */
function Bans({ user }) {
  const { errors, run } = useForm([]);
  const [query, setQuery] = useState({
    board: user.role === "board_mod" ? user.boards?.[0] || "" : "",
    by: "cloak",
    text: "",
  });
  const [bans, setBans] = useState(/** @type {any[] | null} */ (null));
  const [more, setMore] = useState(false);
  const [lifted, setLifted] = useState(0);

  /** The bans of `q`, older than `before` when it is given. @param {any} q @param {number} [before] */
  const page = async (q, before) => {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (q.board) params.set("board", q.board);
    if (q.text) params.set(q.by, q.text);
    if (before) params.set("before", String(before));
    const found = (await get(`/api/bans?${params}`)).bans;
    setMore(found.length === PAGE);
    return found;
  };
  /** @param {any} q */
  const search = async (q) => {
    const found = await page(q);
    setQuery(q);
    setBans(found);
    setLifted(0);
  };
  useEffect(() => {
    run(() => search(query));
  }, []);
  const older = () =>
    run(async () => {
      const last = (bans || [])[(bans || []).length - 1];
      const found = await page(query, last?.id);
      setBans((prev) => [...(prev || []), ...found]);
    });
  /** @param {number} id */
  const onLifted = (id) => {
    setBans((prev) => (prev || []).filter((b) => b.id !== id));
    setLifted(id);
  };
  return html`<h2>Find bans</h2>
    <${Search} user=${user} query=${query} onQuery=${search} />
    <${FormError} errors=${errors} />
    ${lifted ? html`<p role="status">Ban ${lifted} is lifted.</p>` : null}
    ${bans ? html`<p class="asked" aria-live="polite">${asked(query)}</p>` : null}
    ${
      bans && !bans.length
        ? html`<p>No ban matches.</p>`
        : html`<ul class="bans">${(bans || []).map((b) => html`<${BanRow} key=${b.id} ban=${b} onLifted=${onLifted} />`)}</ul>`
    }
    ${more ? html`<button type="button" onClick=${older}>Older bans</button>` : null}
    <h2>Give a ban</h2>
    <${Give} user=${user} onGiven=${(/** @type {any} */ ban) => setBans((prev) => [ban, ...(prev || [])])} />`;
}

/** @param {{user: any, search: string}} props */
export default function BansPage({ user, search }) {
  const appeals = new URLSearchParams(search).get("tab") === "appeals";
  return html`<h1>Bans</h1>
    <nav class="tabs" aria-label="Bans and appeals">
      <a href="/admin/bans" aria-current=${appeals ? undefined : "page"}>Bans</a>
      <a href="/admin/bans?tab=appeals" aria-current=${appeals ? "page" : undefined}>Appeals</a>
    </nav>
    ${appeals ? html`<${Appeals} key="appeals" user=${user} />` : html`<${Bans} key="bans" user=${user} />`}`;
}
