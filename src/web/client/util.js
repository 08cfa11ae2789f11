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
const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** @param {number} secs Unix seconds */
export function relative(secs) {
  const delta = secs - Date.now() / 1000;
  for (const [unit, len] of units) {
    if (Math.abs(delta) >= len || unit === "second") {
      return rtf.format(Math.round(delta / len), unit);
    }
  }
  return "";
}

/** @param {number} secs */
export function exact(secs) {
  return new Date(secs * 1000).toLocaleString();
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
  "/admin/reports",
];

/**
 * A client path, parsed; null for anything else.
 * @param {string} path
 * @returns {{page: "home"} | {page: "board"|"catalog"|"archive", board: string} |
 *   {page: "thread", board: string, thread: number} | {page: "console"} | null}
 */
export function parsePath(path) {
  if (path === "/") return { page: "home" };
  if (CONSOLE.includes(path)) return { page: "console" };
  const m = /^\/([a-z0-9]{1,16})\/(?:(catalog|archive)|thread\/(\d{1,15}))?$/.exec(path);
  if (!m || ["admin", "api", "app", "auth", "files", "healthz", "thumbs"].includes(m[1])) return null;
  if (m[3]) return { page: "thread", board: m[1], thread: Number(m[3]) };
  if (m[2] === "catalog" || m[2] === "archive") return { page: m[2], board: m[1] };
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
 * Runs `fn` once the browser has painted the current changes (a frame, then a task), to
 * record User Timing marks that the benchmark reads.
 * @param {() => void} fn
 */
export function afterPaint(fn) {
  requestAnimationFrame(() => setTimeout(fn, 0));
}
