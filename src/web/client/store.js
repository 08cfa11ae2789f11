// What this browser remembers, in localStorage: the deletion password, the name, (You)s,
// settings, watched threads, hidden posts and filters, and whether someone logged in here.
// Changes notify subscribers.

import { parseFilters } from "./util.js";

const PREFIX = "wani.";

/** @param {string} key @param {any} fallback */
function load(key, fallback) {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw == null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

/** @param {string} key @param {any} value */
function save(key, value) {
  try {
    localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // Storage full or refused: the value lives until the page closes.
  }
}

/**
 * What changed: posts re-render for everything but "watched", which only the watcher and the
 * watch buttons show.
 * @typedef {"settings"|"yous"|"hidden"|"filters"|"watched"|"staff"|"all"} Change
 */

/** @type {Set<(change: Change) => void>} */
const listeners = new Set();

/** @param {(change: Change) => void} fn */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** @param {Change} change */
function changed(change) {
  for (const fn of listeners) fn(change);
}

/** Something only the staff tools show changed (a cloak learned, a selection): posts render again. */
export function refresh() {
  changed("staff");
}

/**
 * @typedef {{theme: "system"|"light"|"dark"|"classic", times: "relative"|"absolute",
 *   autoplay: boolean, hoverExpand: boolean, blurNsfw: boolean}} Settings
 */

/** @type {Settings} */
const defaults = {
  theme: "system",
  times: "relative",
  autoplay: false,
  hoverExpand: false,
  blurNsfw: true,
};

export const store = {
  /** @type {Settings} */
  settings: { ...defaults, ...load("settings", {}) },
  /** @type {Set<string>} "board/no" of posts made here */
  yous: new Set(load("yous", [])),
  /** @type {Set<string>} "board/no" of posts hidden here */
  hidden: new Set(load("hidden", [])),
  filterSource: /** @type {string} */ (load("filters", "")),
  filters: parseFilters(load("filters", "")),
  /** @type {Record<string, {board: string, thread: number, title: string, last: number, unread: number}>} */
  watched: load("watched", {}),
  name: /** @type {string} */ (load("name", "")),

  /** The per-browser deletion password, made once. */
  password() {
    let pw = load("password", "");
    if (!pw) {
      const bytes = crypto.getRandomValues(new Uint8Array(18));
      pw = btoa(String.fromCharCode(...bytes));
      save("password", pw);
    }
    return pw;
  },

  /** @param {Partial<Settings>} patch */
  set(patch) {
    this.settings = { ...this.settings, ...patch };
    save("settings", this.settings);
    changed("settings");
  },

  /**
   * Whether thumbnails of this board are blurred: boards marked `nsfw` (absent means not),
   * unless the setting is off.
   * @param {{nsfw?: boolean} | undefined} board
   */
  blurs(board) {
    return !!board?.nsfw && this.settings.blurNsfw;
  },

  /** @param {string} board @param {number} no */
  isYou(board, no) {
    return this.yous.has(`${board}/${no}`);
  },

  /** @param {string} board @param {number} no */
  addYou(board, no) {
    this.yous.add(`${board}/${no}`);
    // Bounded: the oldest marks go first.
    save("yous", [...this.yous].slice(-2000));
    changed("yous");
  },

  /** @param {string} board @param {number} no @param {boolean} hide */
  hide(board, no, hide) {
    const key = `${board}/${no}`;
    if (hide) this.hidden.add(key);
    else this.hidden.delete(key);
    save("hidden", [...this.hidden].slice(-5000));
    changed("hidden");
  },

  /** @param {string} source */
  setFilters(source) {
    this.filterSource = source;
    this.filters = parseFilters(source);
    save("filters", source);
    changed("filters");
  },

  /** @param {string} name */
  setName(name) {
    this.name = name;
    save("name", name);
  },

  /** @param {string} board @param {number} thread */
  isWatched(board, thread) {
    return `${board}/${thread}` in this.watched;
  },

  /** @param {string} board @param {number} thread @param {string} title @param {number} last */
  watch(board, thread, title, last) {
    this.watched = { ...this.watched, [`${board}/${thread}`]: { board, thread, title, last, unread: 0 } };
    save("watched", this.watched);
    changed("watched");
  },

  /** @param {string} board @param {number} thread */
  unwatch(board, thread) {
    const { [`${board}/${thread}`]: _, ...rest } = this.watched;
    this.watched = rest;
    save("watched", this.watched);
    changed("watched");
  },

  /**
   * Posts seen in a watched thread: those after the last one counted are unread, unless the
   * thread is being read, which clears its count. Seeing a post again changes nothing, so a
   * stream's event and a catch-up may both report it.
   * @param {string} board @param {number} thread @param {number[]} nos @param {boolean} reading
   */
  seen(board, thread, nos, reading) {
    const key = `${board}/${thread}`;
    const w = this.watched[key];
    if (!w) return;
    const fresh = nos.filter((no) => no > w.last).length;
    const last = nos.reduce((a, b) => Math.max(a, b), w.last);
    const unread = reading ? 0 : w.unread + fresh;
    if (unread === w.unread && last === w.last) return;
    this.watched = { ...this.watched, [key]: { ...w, last, unread } };
    save("watched", this.watched);
    changed("watched");
  },

  /** Another tab changed the stored values: take them. */
  reload() {
    this.settings = { ...defaults, ...load("settings", {}) };
    this.yous = new Set(load("yous", []));
    this.hidden = new Set(load("hidden", []));
    this.filterSource = load("filters", "");
    this.filters = parseFilters(this.filterSource);
    this.watched = load("watched", {});
    changed("all");
  },
};

addEventListener("storage", (e) => {
  if (e.key && e.key.startsWith(PREFIX)) store.reload();
});

/**
 * Whether someone logged in from this browser: only then does a reading page ask the server who
 * it is (`GET /auth/csrf`), so anonymous readers never send that request.
 */
export function remembersSession() {
  return load("session", false) === true;
}

/** @param {boolean} on */
export function rememberSession(on) {
  save("session", on);
}
