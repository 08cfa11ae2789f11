// Staff tools on the reading pages, loaded only once the client knows a staff member is logged
// in: the moderation items of each post's menu and of catalog cards, the posters' cloaks (and
// addresses for admins), multi-select, and the dialogs that confirm and send each action.

import { html, Component, useState, useEffect, useRef } from "./preact-htm.js";
import { get, send, ApiError } from "./api.js";
import { extras } from "./post.js";
import { refresh } from "./store.js";
import { parsePath } from "./util.js";

// The tools' stylesheet, added when they first load (as the console adds its own).
{
  const sheet = document.createElement("link");
  sheet.rel = "stylesheet";
  sheet.href = import.meta.resolve("./staff.css");
  await new Promise((done) => {
    sheet.onload = sheet.onerror = done;
    document.head.append(sheet);
  });
}

/** @typedef {import("./post.js").PostData} PostData */
/** @typedef {{username: string, role: string, boards?: string[]}} User */
/** @typedef {{sticky?: boolean, locked?: boolean, cyclical?: boolean, no: number}} ThreadState */

/** The mounted tools; the menus reach the dialogs through it. @type {StaffTools | null} */
let tools = null;

/** @param {User} user */
const global = (user) => user.role === "admin" || user.role === "global_mod";
/** Staff deletions and the posters route: janitors too, on their boards. @param {User} user @param {string} board */
const mayDelete = (user, board) => global(user) || !!user.boards?.includes(board);
/** Bans, file bans and thread actions: moderators of the board. @param {User} user @param {string} board */
const mayModerate = (user, board) => global(user) || (user.role === "board_mod" && !!user.boards?.includes(board));

/** `${board}/${no}` @param {string} board @param {number} no */
const key = (board, no) => `${board}/${no}`;

/**
 * Who wrote each post of a thread, fetched once per thread per page shown (and again when a post
 * newer than the answer shows up). `seen` is the highest post shown while asking: posts up to it
 * that the answer lacks were written before posters were recorded, and are not asked about again.
 * @type {Map<string, {posters: Record<string, {cloak: string, address?: string}>, high: number, seen: number, busy: boolean}>}
 */
let posters = new Map();
let postersPath = "";
/** Posts this page deleted, until the page shows the deletion itself. @type {Set<string>} */
let gone = new Set();
/**
 * A thread's state after an action from here, as long as the page still shows the thread object
 * the action was made on (the index and catalog do not move under the reader).
 * @type {Map<string, {base: any, state: ThreadState}>}
 */
let states = new Map();

/** Forgets what belongs to the page once another is shown. */
function samePage() {
  if (postersPath === location.pathname) return;
  postersPath = location.pathname;
  posters = new Map();
  gone = new Set();
  states = new Map();
}

/** @param {PostData} post */
function postersOf(post) {
  samePage();
  const page = parsePath(location.pathname)?.page;
  if (page !== "thread" && page !== "board") return null;
  const k = key(post.board, post.thread);
  let entry = posters.get(k);
  if (entry) entry.seen = Math.max(entry.seen, post.no);
  if (!entry || (!entry.busy && post.no > entry.high)) {
    entry = { posters: entry?.posters ?? {}, high: Infinity, seen: post.no, busy: true };
    posters.set(k, entry);
    const mine = entry;
    get(`/api/boards/${post.board}/threads/${post.thread}/posters`).then(
      (r) => {
        mine.posters = r.posters;
        mine.high = Math.max(mine.seen, ...Object.keys(r.posters).map(Number));
        mine.busy = false;
        refresh();
      },
      () => {
        // A thread deleted or moved meanwhile: the cloaks stay unknown on this page.
      },
    );
  }
  return entry.posters[String(post.no)] ?? null;
}

/** @param {string} board @param {any} thread @returns {ThreadState} */
function stateOf(board, thread) {
  const o = states.get(key(board, thread.no));
  return o && o.base === thread ? { ...thread, ...o.state } : thread;
}

/** Closes the menu a button is in. @param {Event} e */
function closeMenu(e) {
  const details = /** @type {HTMLElement} */ (e.currentTarget).closest("details");
  if (details) /** @type {HTMLDetailsElement} */ (details).open = false;
}

/**
 * A menu item that closes its menu and runs `fn`.
 * @param {string} label @param {() => void} fn @param {boolean} [pressed] a toggle's state
 */
function item(label, fn, pressed) {
  return html`<li><button type="button" class="staff-item" aria-pressed=${pressed === undefined ? undefined : String(pressed)}
    onClick=${(/** @type {Event} */ e) => {
      closeMenu(e);
      fn();
    }}>${pressed ? html`<span aria-hidden="true">✓ </span>` : null}${label}</button></li>`;
}

/** The thread actions of an OP's menu or a catalog card. @param {User} user @param {string} board @param {any} thread */
function threadItems(user, board, thread) {
  if (!thread || !mayModerate(user, board)) return [];
  const t = stateOf(board, thread);
  /** @param {"sticky"|"lock"|"cyclic"} action @param {string} field */
  const flip = (action, field) => () => tools?.threadAction(board, thread, action, { [field]: !t[field] });
  return [
    item("Sticky", flip("sticky", "sticky"), !!t.sticky),
    item("Locked", flip("lock", "locked"), !!t.locked),
    item("Cyclical", flip("cyclic", "cyclical"), !!t.cyclical),
    item("Move…", () => tools?.open({ kind: "move", board, thread })),
  ];
}

/** @param {User} user */
function install(user) {
  extras.menu = (/** @type {PostData} */ post, /** @type {any} */ thread) => {
    const { board } = post;
    if (!mayDelete(user, board) || gone.has(key(board, post.no))) return null;
    const op = post.no === post.thread;
    const open = (/** @type {any} */ d) => () => tools?.open({ ...d, posts: [post] });
    return html`<li class="staff-sep">Staff</li>
      ${item(op ? "Delete thread" : "Delete", open({ kind: "delete", scope: "post" }))}
      ${post.files?.length && !post.files_deleted ? item("Delete file(s)", open({ kind: "delete", scope: "files" })) : null}
      ${item("Delete all by poster in thread", open({ kind: "delete", scope: "poster_thread" }))}
      ${item("Delete all by poster on board", open({ kind: "delete", scope: "poster_board" }))}
      ${mayModerate(user, board) ? item("Ban…", open({ kind: "ban" })) : null}
      ${mayModerate(user, board) && post.files?.length ? item("Ban file…", open({ kind: "fileban" })) : null}
      ${op ? threadItems(user, board, thread) : null}`;
  };
  extras.select = (/** @type {PostData} */ post) => {
    if (!tools?.state.selecting || !mayDelete(user, post.board) || gone.has(key(post.board, post.no))) return null;
    return html`<input type="checkbox" class="staff-select" aria-label=${`Select post ${post.no}`}
      checked=${tools.state.selected.has(key(post.board, post.no))}
      onChange=${(/** @type {any} */ e) => tools?.select(post, e.target.checked)} />`;
  };
  extras.who = (/** @type {PostData} */ post) => {
    const marks =
      gone.has(key(post.board, post.no)) && !post.deleted
        ? html` <strong class="deleted-mark">(deleted)</strong>`
        : null;
    if (!mayDelete(user, post.board)) return marks;
    const who = postersOf(post);
    if (!who) return marks;
    return html` <span class="cloak" title="The poster's cloak on this board">${who.cloak}</span>${
      who.address ? html` <span class="address" title="The poster's address">${who.address}</span>` : null
    }${marks}`;
  };
  extras.card = (/** @type {string} */ board, /** @type {any} */ thread) => {
    if (!mayDelete(user, board)) return null;
    if (gone.has(key(board, thread.no))) return html`<strong class="deleted-mark">(deleted)</strong>`;
    const post = /** @type {PostData} */ ({ ...thread, board, thread: thread.no, body: thread.excerpt ?? "" });
    return html`<details class="menu card-menu">
      <summary aria-label=${`Staff menu of thread ${thread.no}`}>Staff ▾</summary>
      <ul>
        ${item("Delete thread", () => tools?.open({ kind: "delete", scope: "post", posts: [post] }))}
        ${threadItems(user, board, thread)}
      </ul>
    </details>`;
  };
}

function uninstall() {
  extras.menu = extras.select = extras.who = extras.card = null;
}

/** The question each deletion scope asks. */
const SCOPES = /** @type {Record<string, string>} */ ({
  post: "Delete",
  files: "Delete the files of",
  poster_thread: "Delete every post in this thread by the poster of",
  poster_board: "Delete every post on the board by the poster of",
});

/**
 * What a dialog is about: a deletion or a ban of one post or several, a file ban, a move.
 * @typedef {{kind: "delete", scope: string, posts: PostData[]} | {kind: "ban", posts: PostData[]} |
 *   {kind: "fileban", posts: PostData[]} | {kind: "move", board: string, thread: any}} Dialog
 */

/**
 * The tools' frame: the dialog when one is open, the multi-select bar on pages with posts, and
 * a live region that says what the last action did.
 * @extends {Component<{user: User, path: string}, {dialog: Dialog | null, selecting: boolean,
 *   selected: Map<string, PostData>, status: string}>}
 */
export class StaffTools extends Component {
  /** @param {{user: User, path: string}} props */
  constructor(props) {
    super(props);
    this.state = { dialog: null, selecting: false, selected: new Map(), status: "" };
  }
  componentDidMount() {
    tools = this;
    install(this.props.user);
    refresh();
  }
  /** @param {{user: User, path: string}} prev */
  componentDidUpdate(prev) {
    if (prev.user !== this.props.user) {
      install(this.props.user);
      refresh();
    }
    if (prev.path !== this.props.path)
      this.setState({ selecting: false, selected: new Map(), dialog: null, status: "" });
  }
  componentWillUnmount() {
    tools = null;
    uninstall();
    refresh();
  }

  /** @param {Dialog} dialog */
  open(dialog) {
    this.setState({ dialog });
  }
  close = () => this.setState({ dialog: null });

  /** @param {PostData} post @param {boolean} on */
  select(post, on) {
    const selected = new Map(this.state.selected);
    if (on) selected.set(key(post.board, post.no), post);
    else selected.delete(key(post.board, post.no));
    this.setState({ selected }, refresh);
  }

  /** @param {boolean} on */
  selecting(on) {
    this.setState({ selecting: on, selected: new Map() }, refresh);
  }

  /** @param {string} text */
  say(text) {
    this.setState({ status: text });
  }

  /** Posts the server deleted: marked here until the page shows it. @param {string} board @param {number[]} nos */
  deleted(board, nos) {
    for (const no of nos) gone.add(key(board, no));
    const selected = new Map(this.state.selected);
    for (const no of nos) selected.delete(key(board, no));
    this.setState({ selected }, refresh);
  }

  /**
   * Sticky, lock or cyclic: one click, the new state shown at once.
   * @param {string} board @param {any} thread @param {string} action @param {object} body
   */
  async threadAction(board, thread, action, body) {
    try {
      const r = await send("POST", `/api/boards/${board}/threads/${thread.no}/${action}`, body);
      const { sticky, locked, cyclical } = r.thread;
      states.set(key(board, thread.no), { base: thread, state: { no: thread.no, sticky, locked, cyclical } });
      this.say(
        `Thread No.${thread.no}: ${[sticky && "sticky", locked && "locked", cyclical && "cyclical"].filter(Boolean).join(", ") || "no flags"}.`,
      );
      refresh();
    } catch (e) {
      this.say(`Thread No.${thread.no}: ${/** @type {Error} */ (e).message}`);
    }
  }

  /** @param {any} _ @param {any} s */
  render(_, s) {
    const page = parsePath(this.props.path)?.page;
    const posts = page === "thread" || page === "board";
    return html`<div class=${"staff-tools" + (posts && s.selecting ? " selecting" : "")}>
      <div class="sr-only" role="status">${s.status}</div>
      ${
        s.status
          ? html`<p class="staff-status">${s.status}${" "}
        <button type="button" class="link" onClick=${() => this.say("")}>Dismiss</button></p>`
          : null
      }
      ${
        posts && s.selecting
          ? html`<div class="staff-bar" role="region" aria-label="Selected posts">
            <span>${s.selected.size} selected</span>
            <button type="button" disabled=${!s.selected.size}
              onClick=${() => this.open({ kind: "delete", scope: "post", posts: [...s.selected.values()] })}>Delete selected</button>
            <button type="button" disabled=${!s.selected.size}
              onClick=${() => this.open({ kind: "ban", posts: [...s.selected.values()] })}>Ban selected</button>
            <button type="button" class="link" onClick=${() => this.selecting(false)}>Done</button>
          </div>`
          : posts
            ? html`<button type="button" class="staff-select-open" onClick=${() => this.selecting(true)}>Select posts</button>`
            : null
      }
      ${s.dialog ? html`<${DialogView} dialog=${s.dialog} user=${this.props.user} onClose=${this.close} />` : null}
    </div>`;
  }
}

/** @param {{dialog: Dialog, user: User, onClose: () => void}} p */
function DialogView({ dialog, user, onClose }) {
  const ref = useRef(/** @type {HTMLDialogElement | null} */ (null));
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const closed = () => onClose();
    d?.addEventListener("close", closed);
    return () => d?.removeEventListener("close", closed);
  }, []);
  let body;
  if (dialog.kind === "delete") body = html`<${DeleteForm} dialog=${dialog} onClose=${onClose} />`;
  else if (dialog.kind === "ban") body = html`<${BanForm} dialog=${dialog} user=${user} onClose=${onClose} />`;
  else if (dialog.kind === "fileban") body = html`<${FileBanForm} dialog=${dialog} user=${user} onClose=${onClose} />`;
  else body = html`<${MoveForm} dialog=${dialog} user=${user} onClose=${onClose} />`;
  return html`<dialog ref=${ref} class="staff-dialog" aria-labelledby="staff-dialog-title">${body}</dialog>`;
}

/**
 * Runs `fn` for each post, one after the other, and keeps what each answered: the server's
 * words for a failure. A single post's failure stays in the dialog; so does a list of results.
 * @param {PostData[]} posts @param {(post: PostData) => Promise<string>} fn
 */
function usePerPost(posts, fn) {
  const [busy, setBusy] = useState(false);
  const [results, setResults] = useState(/** @type {[PostData, boolean, string][]} */ ([]));
  const run = async () => {
    setBusy(true);
    /** @type {[PostData, boolean, string][]} */
    const out = [];
    for (const post of posts) {
      try {
        out.push([post, true, await fn(post)]);
      } catch (e) {
        const error = e instanceof ApiError ? e : new ApiError(0, "error", String(e), null);
        out.push([post, false, error.message]);
      }
      setResults(out.slice());
    }
    setBusy(false);
    return out;
  };
  return { busy, results, run };
}

/** @param {{results: [PostData, boolean, string][], single: boolean}} p */
function Results({ results, single }) {
  if (!results.length) return null;
  if (single) {
    const [, ok, text] = results[0];
    return ok ? null : html`<p class="field-error" role="alert">${text}</p>`;
  }
  return html`<ul class="staff-results" role="status">
    ${results.map(
      ([post, ok, text]) =>
        html`<li class=${ok ? "ok" : "failed"}>No.${post.no}: ${ok ? text : html`<strong>failed</strong> – ${text}`}</li>`,
    )}
  </ul>`;
}

/** Public reason and private note, as every action takes them. @param {{prefix: string, required?: boolean}} p */
function ReasonNote({ prefix, required }) {
  return html`<div class="field"><label for=${`${prefix}-reason`}>Public reason${required ? "" : " (optional)"}</label>
      <input id=${`${prefix}-reason`} name="reason" maxlength="500" /></div>
    <div class="field"><label for=${`${prefix}-note`}>Private note for staff (optional)</label>
      <textarea id=${`${prefix}-note`} name="note" rows="2" maxlength="1000"></textarea></div>`;
}

/** @param {HTMLFormElement} form @returns {Record<string, string>} */
function formValues(form) {
  const out = /** @type {Record<string, string>} */ ({});
  new FormData(form).forEach((v, k) => (out[k] = String(v)));
  return out;
}

/** reason and note, left out when empty. @param {Record<string, string>} v */
function reasonNote(v) {
  /** @type {Record<string, string>} */
  const out = {};
  if (v.reason?.trim()) out.reason = v.reason.trim();
  if (v.note?.trim()) out.note = v.note.trim();
  return out;
}

/** @param {{dialog: {scope: string, posts: PostData[]}, onClose: () => void}} p */
function DeleteForm({ dialog, onClose }) {
  const { posts, scope } = dialog;
  const single = posts.length === 1;
  const extra = useRef(/** @type {Record<string, string>} */ ({}));
  const { busy, results, run } = usePerPost(posts, async (post) => {
    /** @type {number[]} */
    let nos = [];
    // A poster deletion removes at most 100 posts a call: go on while the server says more.
    for (let round = 0; round < 100; round++) {
      const r = await send("POST", `/api/boards/${post.board}/posts/${post.no}/staff-delete`, {
        scope,
        ...extra.current,
      });
      nos = nos.concat(r.deleted.nos);
      if (!r.deleted.more) break;
    }
    if (scope !== "files") tools?.deleted(post.board, nos);
    return scope === "files" ? "files deleted" : `deleted ${nos.length === 1 ? "No." + nos[0] : nos.length + " posts"}`;
  });
  const verb = SCOPES[scope];
  const what = single
    ? `post No.${posts[0].no}${posts[0].no === posts[0].thread && scope === "post" ? " and its thread" : ""}`
    : `${posts.length} posts`;
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    extra.current = reasonNote(formValues(/** @type {HTMLFormElement} */ (e.currentTarget)));
    const out = await run();
    if (out.every(([, ok]) => ok)) {
      tools?.say(out.map(([p, , text]) => `No.${p.no}: ${text}`).join("; ") + ".");
      if (single) onClose();
    }
  };
  return html`<form class="staff-form" onSubmit=${submit}>
    <h2 id="staff-dialog-title">${verb} ${what}?</h2>
    <${ReasonNote} prefix="del" />
    <${Results} results=${results} single=${single} />
    <p class="actions">
      ${
        results.length && !single
          ? null
          : html`<button class="primary danger-button" disabled=${busy}>${single ? "Delete" : `Delete ${posts.length} posts`}</button>`
      }
      <button type="button" onClick=${onClose}>${results.length && !single ? "Close" : "Cancel"}</button>
    </p>
  </form>`;
}

const DURATIONS = [
  ["3600", "1 hour"],
  ["86400", "1 day"],
  ["259200", "3 days"],
  ["604800", "1 week"],
  ["2592000", "30 days"],
  ["31536000", "1 year"],
  ["permanent", "Permanent"],
  ["custom", "Custom…"],
];
const UNITS = [
  ["60", "minutes"],
  ["3600", "hours"],
  ["86400", "days"],
];
const DEFAULT_MARK = "(USER WAS BANNED FOR THIS POST)";

/** @param {{dialog: {posts: PostData[]}, user: User, onClose: () => void}} p */
function BanForm({ dialog, user, onClose }) {
  const { posts } = dialog;
  const single = posts.length === 1;
  const board = posts[0].board;
  const [duration, setDuration] = useState("86400");
  const [by, setBy] = useState("auto");
  const [marked, setMarked] = useState(false);
  const [error, setError] = useState("");
  const terms = useRef(/** @type {Record<string, any>} */ ({}));
  const who = single ? postersOf(posts[0]) : null;
  const { busy, results, run } = usePerPost(posts, async (post) => {
    const t = terms.current;
    if (t.range) {
      const address = postersOf(post)?.address;
      if (!address) throw new Error("The poster's address is not known (erased, or not shown to your role).");
      /** @type {Record<string, any>} */
      const body = {
        address: `${address}/${t.range}`,
        duration: t.duration,
        reason: t.reason,
        post: { board: post.board, no: post.no },
      };
      if (t.global) body.global = true;
      else body.board = post.board;
      if (t.note) body.note = t.note;
      if (t.mark !== undefined) body.mark = t.mark;
      const r = await send("POST", "/api/bans", body);
      return `banned (ban ${r.ban.id})`;
    }
    /** @type {Record<string, any>} */
    const body = { duration: t.duration, reason: t.reason };
    for (const k of ["note", "global", "mark", "by"]) if (t[k] !== undefined) body[k] = t[k];
    const r = await send("POST", `/api/boards/${post.board}/posts/${post.no}/ban`, body);
    return `banned (ban ${r.ban.id})`;
  });
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const v = formValues(/** @type {HTMLFormElement} */ (e.currentTarget));
    /** @type {Record<string, any>} */
    const t = { reason: v.reason.trim() };
    if (v.note?.trim()) t.note = v.note.trim();
    if (v.where === "global") t.global = true;
    if (v.duration === "permanent") t.duration = "permanent";
    else if (v.duration === "custom") {
      const n = Number(v.amount);
      if (!v.amount || !Number.isFinite(n) || n <= 0)
        return setError("Give the custom duration as a number above zero.");
      t.duration = Math.round(n * Number(v.unit));
    } else t.duration = Number(v.duration);
    if (v.by === "address" || v.by === "cloak") t.by = v.by;
    if (v.by === "range") t.range = v.range;
    if (marked) t.mark = !v.mark.trim() || v.mark.trim() === DEFAULT_MARK ? true : v.mark.trim();
    setError("");
    terms.current = t;
    const out = await run();
    if (out.every(([, ok]) => ok)) {
      tools?.say(out.map(([p, , text]) => `No.${p.no}: ${text}`).join("; ") + ".");
      if (single) onClose();
    }
  };
  const v6 = !!who?.address?.includes(":");
  return html`<form class="staff-form" onSubmit=${submit} noValidate>
    <h2 id="staff-dialog-title">Ban the poster of ${single ? `post No.${posts[0].no}` : `${posts.length} posts`}</h2>
    <fieldset class="field"><legend>Where</legend>
      <label class="inline"><input type="radio" name="where" value="board" checked /> This board (/${board}/)</label>
      ${global(user) ? html`<label class="inline"><input type="radio" name="where" value="global" /> Every board</label>` : null}
    </fieldset>
    <div class="field"><label for="ban-duration">Duration</label>
      <select id="ban-duration" name="duration" value=${duration} onChange=${(/** @type {any} */ e) => setDuration(e.target.value)}>
        ${DURATIONS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
      </select></div>
    ${
      duration === "custom"
        ? html`<div class="field custom-duration"><label for="ban-amount">Custom duration</label>
          <span><input id="ban-amount" name="amount" type="number" min="1" step="any" inputmode="decimal" />
          <select name="unit" aria-label="Unit">${UNITS.map(([value, label]) => html`<option value=${value} selected=${label === "days"}>${label}</option>`)}</select></span></div>`
        : null
    }
    <fieldset class="field"><legend>Ban by</legend>
      <label><input type="radio" name="by" value="auto" checked=${by === "auto"} onChange=${() => setBy("auto")} /> The poster's address while it is kept, else the cloak</label>
      <label><input type="radio" name="by" value="address" checked=${by === "address"} onChange=${() => setBy("address")} /> The poster's address (IPv4, or the IPv6 /64)</label>
      <label><input type="radio" name="by" value="cloak" checked=${by === "cloak"} onChange=${() => setBy("cloak")} /> The poster's cloak on /${board}/</label>
      ${
        user.role === "admin" && (!single || who?.address)
          ? html`<label><input type="radio" name="by" value="range" checked=${by === "range"} onChange=${() => setBy("range")} /> A range around the address${who?.address ? ` (${who.address})` : ""}</label>`
          : null
      }
    </fieldset>
    ${
      by === "range"
        ? html`<div class="field"><label for="ban-range">Range prefix length</label>
          <select id="ban-range" name="range">${(v6 ? ["64", "56", "48", "32"] : ["32", "24", "20", "16"]).map(
            (n) => html`<option value=${n} selected=${n === (v6 ? "48" : "24")}>/${n}</option>`,
          )}</select></div>`
        : null
    }
    <${ReasonNote} prefix="ban" required=${true} />
    <div class="field check"><input type="checkbox" id="ban-marked" checked=${marked} onChange=${(/** @type {any} */ e) => setMarked(e.target.checked)} />
      <label for="ban-marked">Mark the post publicly</label></div>
    ${
      marked
        ? html`<div class="field"><label for="ban-mark">Public mark</label>
          <input id="ban-mark" name="mark" maxlength="200" defaultValue=${DEFAULT_MARK} /></div>`
        : null
    }
    ${error ? html`<p class="field-error" role="alert">${error}</p>` : null}
    <${Results} results=${results} single=${single} />
    <p class="actions">
      ${
        results.length && !single
          ? null
          : html`<button class="primary danger-button" disabled=${busy}>${single ? "Ban" : `Ban ${posts.length} posters`}</button>`
      }
      <button type="button" onClick=${onClose}>${results.length && !single ? "Close" : "Cancel"}</button>
    </p>
  </form>`;
}

/** @param {{dialog: {posts: PostData[]}, user: User, onClose: () => void}} p */
function FileBanForm({ dialog, user, onClose }) {
  const post = dialog.posts[0];
  const files = /** @type {any[]} */ (post.files ?? []).filter((f) => f.sha256);
  const [error, setError] = useState("");
  const [done, setDone] = useState(/** @type {string[]} */ ([]));
  const [busy, setBusy] = useState(false);
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.currentTarget);
    const v = formValues(form);
    const chosen = [...new FormData(form).getAll("sha256")].map(String);
    if (!chosen.length) return setError("Choose a file to ban.");
    const path = v.where === "global" ? "/api/file-bans" : `/api/boards/${post.board}/file-bans`;
    setBusy(true);
    setError("");
    /** @type {string[]} */
    const out = [];
    try {
      for (const sha256 of chosen) {
        /** @type {Record<string, any>} */
        const body = { sha256, ...reasonNote(v) };
        if (v.match === "exact") body.exact = true;
        if (v.delete_posts) body.delete_posts = true;
        const r = await send("POST", path, body);
        const near = r.file_ban.dhash ? "near-duplicates too" : "exact file only";
        out.push(
          `${sha256.slice(0, 12)}… banned (${near}), ${r.deleted} post${r.deleted === 1 ? "" : "s"} deleted${r.more ? ", more left: ban again" : ""}`,
        );
      }
      tools?.say(`File ban: ${out.join("; ")}.`);
      if (v.delete_posts) tools?.deleted(post.board, [post.no]);
      onClose();
    } catch (err) {
      setDone(out);
      setError(/** @type {Error} */ (err).message);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="staff-form" onSubmit=${submit} noValidate>
    <h2 id="staff-dialog-title">Ban the file${files.length > 1 ? "s" : ""} of post No.${post.no}</h2>
    <fieldset class="field"><legend>Files</legend>
      ${files.map(
        (f) =>
          html`<label><input type="checkbox" name="sha256" value=${f.sha256} checked=${files.length === 1} /> ${f.name || "file"} <code>${f.sha256.slice(0, 12)}…</code></label>`,
      )}
    </fieldset>
    <fieldset class="field"><legend>Match</legend>
      <label><input type="radio" name="match" value="near" checked /> This file and near-duplicates (resized, recompressed, converted)</label>
      <label><input type="radio" name="match" value="exact" /> This exact file only</label>
    </fieldset>
    <fieldset class="field"><legend>Where</legend>
      <label class="inline"><input type="radio" name="where" value="board" checked /> This board (/${post.board}/)</label>
      ${global(user) ? html`<label class="inline"><input type="radio" name="where" value="global" /> Every board</label>` : null}
    </fieldset>
    <div class="field check"><input type="checkbox" id="fb-delete" name="delete_posts" value="1" />
      <label for="fb-delete">Also delete the posts carrying it</label></div>
    <${ReasonNote} prefix="fb" />
    ${done.length ? html`<ul class="staff-results">${done.map((d) => html`<li class="ok">${d}</li>`)}</ul>` : null}
    ${error ? html`<p class="field-error" role="alert">${error}</p>` : null}
    <p class="actions">
      <button class="primary danger-button" disabled=${busy}>Ban the file</button>
      <button type="button" onClick=${onClose}>Cancel</button>
    </p>
  </form>`;
}

/** @param {{dialog: {board: string, thread: any}, user: User, onClose: () => void}} p */
function MoveForm({ dialog, user, onClose }) {
  const { board, thread } = dialog;
  const [boards, setBoards] = useState(/** @type {any[] | null} */ (null));
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    get("/api/boards").then(
      (r) => setBoards(r.boards.filter((/** @type {any} */ b) => b.slug !== board && mayModerate(user, b.slug))),
      (e) => setError(e.message),
    );
  }, []);
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const v = formValues(/** @type {HTMLFormElement} */ (e.currentTarget));
    setBusy(true);
    setError("");
    try {
      const r = await send("POST", `/api/boards/${board}/threads/${thread.no}/move`, {
        board: v.board,
        ...reasonNote(v),
      });
      tools?.say(`Thread No.${thread.no} moved to /${r.thread.board}/ as No.${r.thread.no}.`);
      tools?.deleted(board, [thread.no]);
      onClose();
    } catch (err) {
      setError(/** @type {Error} */ (err).message);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="staff-form" onSubmit=${submit} noValidate>
    <h2 id="staff-dialog-title">Move thread No.${thread.no} from /${board}/</h2>
    ${
      boards && !boards.length
        ? html`<p>There is no other board you moderate.</p>`
        : html`<div class="field"><label for="move-board">To the board</label>
          <select id="move-board" name="board">${(boards ?? []).map((b) => html`<option value=${b.slug}>/${b.slug}/ – ${b.title}</option>`)}</select></div>`
    }
    <${ReasonNote} prefix="move" />
    ${error ? html`<p class="field-error" role="alert">${error}</p>` : null}
    <p class="actions">
      <button class="primary" disabled=${busy || !boards?.length}>Move</button>
      <button type="button" onClick=${onClose}>Cancel</button>
    </p>
  </form>`;
}
