// Small pure helpers: paths, sizes, times and post filters.

/** @param {number} bytes */
export function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const units = /** @type {const} */ ([
  ["year", 31536000],
  ["month", 2592000],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
]);

// Times are written by hand, in English like the rest of the page, rather than with `Intl`:
// the first `Intl` call of a fresh page loads the browser's locale data, which costs tens of
// milliseconds (up to 200 on a loaded machine) on the way to a thread's first paint.

/** @param {number} secs Unix seconds @returns {string} "5 minutes ago", "in 2 hours", "now" */
export function relative(secs) {
  const delta = secs - Date.now() / 1000;
  for (const [unit, len] of units) {
    const n = Math.round(Math.abs(delta) / len);
    if (n >= 1 && (Math.abs(delta) >= len || unit === "second")) {
      const what = `${n} ${unit}${n === 1 ? "" : "s"}`;
      return delta < 0 ? `${what} ago` : `in ${what}`;
    }
  }
  return "now";
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** @param {number} n */
const two = (n) => String(n).padStart(2, "0");

/** @param {number} secs Unix seconds @returns {string} "Mon 2026-11-30 21:38:05", in the reader's time zone */
export function exact(secs) {
  const d = new Date(secs * 1000);
  return (
    `${DAYS[d.getDay()]} ${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
}

/** @param {string} board @param {number} thread @param {number} [no] */
export function threadPath(board, thread, no) {
  return `/${board}/thread/${thread}` + (no && no !== thread ? `#p${no}` : "");
}

/** The console's paths (its modules load only there, see `main.js`). */
export const CONSOLE = [
  "/login",
  "/signup",
  "/reset",
  "/account",
  "/admin",
  "/admin/boards",
  "/admin/users",
  "/admin/bans",
  "/admin/log",
  "/admin/reports",
];

/**
 * A client path, parsed; null for anything else.
 * @param {string} path
 * @returns {{page: "home"} | {page: "board"|"catalog"|"archive"|"modlog", board: string} |
 *   {page: "thread", board: string, thread: number} | {page: "console"} | null}
 */
export function parsePath(path) {
  if (path === "/") return { page: "home" };
  if (CONSOLE.includes(path)) return { page: "console" };
  const m = /^\/([a-z0-9]{1,16})\/(?:(catalog|archive|modlog)|thread\/(\d{1,15}))?$/.exec(path);
  if (!m || ["admin", "api", "app", "auth", "files", "healthz", "thumbs"].includes(m[1])) return null;
  if (m[3]) return { page: "thread", board: m[1], thread: Number(m[3]) };
  if (m[2]) return { page: /** @type {"catalog"|"archive"|"modlog"} */ (m[2]), board: m[1] };
  if (path.endsWith("/")) return { page: "board", board: m[1] };
  return null;
}

/**
 * @typedef {{field: "text"|"name"|"trip"|"id", re: RegExp}} Filter
 * Filters are written one per line as `field:regex` (a line without a known field filters
 * the text). Lines that are not valid regular expressions are skipped.
 * @param {string} source
 * @returns {Filter[]}
 */
export function parseFilters(source) {
  /** @type {Filter[]} */
  const out = [];
  for (const raw of source.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(text|name|trip|id):(.*)$/.exec(line);
    const field = /** @type {Filter["field"]} */ (m ? m[1] : "text");
    try {
      out.push({ field, re: new RegExp(m ? m[2] : line, "i") });
    } catch {
      // A half-typed expression filters nothing until it is valid.
    }
  }
  return out;
}

/**
 * @param {Filter[]} filters
 * @param {{body?: string, name?: string, trip?: string|null, id?: string|null, subject?: string|null}} post
 */
export function filtered(filters, post) {
  return filters.some(({ field, re }) => {
    const value =
      field === "text"
        ? `${post.subject || ""}\n${post.body ?? ""}`
        : field === "name"
          ? post.name
          : field === "trip"
            ? post.trip
            : post.id;
    return value != null && re.test(value);
  });
}

/**
 * Whether two props objects hold different values. The pages' props are strings and numbers
 * from the address, and the pages follow the store themselves: they render again only for
 * these or their own state, not each time the app does for its top bar.
 * @param {Record<string, any>} a @param {Record<string, any>} b
 */
export function differs(a, b) {
  for (const k in a) if (a[k] !== b[k]) return true;
  for (const k in b) if (!(k in a)) return true;
  return false;
}

/**
 * Runs `fn` once the browser has painted the current changes (a frame, then a task), to
 * record User Timing marks that the benchmark reads.
 * @param {() => void} fn
 */
export function afterPaint(fn) {
  requestAnimationFrame(() => setTimeout(fn, 0));
}

/** Imports waiting for the page's content to be painted (see `deferred`); null once started. */
/** @type {(() => void)[] | null} */
let queued = [];

/** Starts the deferred imports, once. */
function startDeferred() {
  for (const go of queued ?? []) go();
  queued = null;
}

/**
 * The page's content is on screen: records `mark` (the benchmark reads these User Timing
 * marks) and starts the deferred imports.
 * @param {string} mark
 */
export function painted(mark) {
  performance.mark(mark);
  startDeferred();
}

/**
 * Pages that never call `painted` (an error, the console) do not hold the deferred imports
 * back for longer than this, in ms after the app starts.
 */
const DEFER_AT_MOST = 300;
setTimeout(startDeferred, DEFER_AT_MOST);

/**
 * A module that no page needs for its first paint (the reply form, post previews, the
 * watcher). The entry page does not preload it, and it is imported once the page has painted
 * its content (`painted`): the modules and the data that this paint waits for have the
 * browser's connections and its main thread to themselves. `current` is the module once it is
 * in; `ready` resolves to it, after `current` is set.
 * @template T
 * @param {() => Promise<T>} load
 * @returns {{current: T | null, ready: Promise<T>}}
 */
export function deferred(load) {
  /** @type {{current: T | null, ready: Promise<T>}} */
  const module = {
    current: null,
    ready: new Promise((resolve, reject) => {
      const go = () => void load().then(resolve, reject);
      if (queued) queued.push(go);
      else go();
    }),
  };
  module.ready.then((m) => (module.current = m));
  return module;
}

/**
 * `html`, a post's as the server rendered it, with every link to post `no` of `board` drawn
 * dead: the `<span class="deadlink">` the server serves once that post is deleted, made the
 * way the server makes it (`markup::kill_links`). Only the server writes `<a class="quotelink"`
 * tags into a post's html (a poster's text is escaped), so the strings compared here are the
 * server's own; nothing of the event's becomes markup. The same string when nothing links there.
 * @param {string} html @param {string} board @param {number} no @returns {string}
 */
export function killLinks(html, board, no) {
  const open = '<a class="quotelink" href="/';
  const tail = `" data-board="${board}" data-no="${no}">`;
  let out = "";
  let copied = 0;
  let from = 0;
  for (;;) {
    const at = html.indexOf(open, from);
    if (at < 0) break;
    const tagEnd = html.indexOf(">", at) + 1;
    if (tagEnd === 0) break;
    from = tagEnd;
    if (!html.slice(at, tagEnd).endsWith(tail)) continue;
    const textEnd = html.indexOf("</a>", tagEnd);
    if (textEnd < 0) break;
    out += `${html.slice(copied, at)}<span class="deadlink">${html.slice(tagEnd, textEnd)}</span>`;
    copied = from = textEnd + "</a>".length;
  }
  return copied ? out + html.slice(copied) : html;
}
