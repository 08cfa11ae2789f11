// The app's entry: history routing, the top bar (boards, watcher, settings, log in or the
// console), the theme and the keyboard shortcuts.

import { html, render, Component } from "./preact-htm.js";
import { get, whoami } from "./api.js";
import { store, subscribe, remembersSession, rememberSession } from "./store.js";
import { parsePath, deferred } from "./util.js";
import { Home, BoardIndex, Catalog, Archive, NotFound, Loading } from "./pages.js";
import { ThreadPage } from "./thread.js";

/** Floating previews of quoted posts, and the thread watcher: neither is in a first paint. */
const previews = deferred(() => import("./preview.js"));
const watcher = deferred(() => import("./watcher.js"));

function applyTheme() {
  document.documentElement.dataset.theme = store.settings.theme;
}

class App extends Component {
  constructor() {
    super();
    this.state = {
      path: location.pathname,
      search: location.search,
      hash: location.hash,
      /** @type {any[]} */ boards: [],
      panel: /** @type {"" | "watcher" | "settings"} */ (""),
      /** @type {any} */ Settings: null,
      /** @type {any} */ Console: null,
      /** The staff tools on reading pages, loaded once a staff member is known. @type {any} */ Staff: null,
      /** A board's public mod log page (`modlog.js`), loaded when first opened. @type {any} */ ModLog: null,
      /** Who is logged in: null while not known or for anonymous readers. @type {any} */ user: null,
      userKnown: false,
      /** Staff: the reports waiting, followed live. @type {{total: number, counts: Record<string, number>} | null} */
      reports: null,
      version: 0,
    };
    /** Ends the stream of report counts. @type {(() => void) | null} */
    this.stopReports = null;
  }

  componentDidMount() {
    addEventListener("popstate", () => this.go());
    // The watcher panel may be asked for before its module is in.
    watcher.ready.then(() => this.setState({ version: this.state.version + 1 }));
    subscribe(() => {
      applyTheme();
      this.setState({ version: this.state.version + 1 });
    });
    document.addEventListener("click", (e) => this.intercept(e));
    document.addEventListener("keydown", (e) => this.key(e));
    get("/api/boards").then(
      (r) => this.setState({ boards: r.boards }),
      () => {},
    );
    if (remembersSession() || this.onConsole()) this.learnUser();
    if (this.onConsole()) this.loadConsole();
    this.loadModLog();
  }

  onConsole() {
    return parsePath(location.pathname)?.page === "console";
  }

  /** Asks the server who is logged in; remembered so that reading pages ask only when it may be someone. */
  async learnUser() {
    const user = await whoami();
    this.setUser(user);
  }

  /** Staff tools for posts: only a staff member's browser loads them. @param {any} user */
  async loadStaff(user) {
    if (!user || user.role === "user" || this.state.Staff) return;
    const { StaffTools } = await import("./staff.js");
    this.setState({ Staff: StaffTools });
  }

  /** Staff follow the count of reports waiting; the module loads only for them. @param {any} user */
  async followReports(user) {
    const staff = user && user.role !== "user";
    if (!staff) {
      this.stopReports?.();
      this.stopReports = null;
      this.setState({ reports: null });
      return;
    }
    if (this.stopReports) return;
    this.stopReports = () => {};
    const { followReports } = await import("./console-badge.js");
    this.stopReports = followReports((reports) => this.setState({ reports }));
  }

  /** The console's entry module, loaded only on its pages. */
  async loadConsole() {
    if (this.state.Console) return;
    const { ConsolePage } = await import("./console.js");
    this.setState({ Console: ConsolePage });
  }

  /** A board's public log page's module, loaded only on its path. */
  async loadModLog() {
    if (this.state.ModLog || parsePath(location.pathname)?.page !== "modlog") return;
    const { ModLogPage } = await import("./modlog.js");
    this.setState({ ModLog: ModLogPage });
  }

  /** Logged in, out, or the account changed (from the console). @param {any} user */
  setUser(user) {
    rememberSession(user != null);
    this.setState({ user, userKnown: true });
    this.loadStaff(user);
    this.followReports(user);
  }

  go() {
    previews.current?.closePreview();
    this.setState({ path: location.pathname, search: location.search, hash: location.hash, panel: "" });
    if (!location.hash) scrollTo(0, 0);
    this.loadModLog();
    if (this.onConsole()) {
      this.loadConsole();
      if (!this.state.userKnown) this.learnUser();
    }
  }

  /** Same-origin links to client paths change the page without a reload. @param {MouseEvent} e */
  intercept(e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = /** @type {HTMLAnchorElement|null} */ (/** @type {Element} */ (e.target).closest?.("a[href]"));
    if (!a || a.target || a.origin !== location.origin || !parsePath(a.pathname)) return;
    e.preventDefault();
    if (a.pathname === location.pathname && a.search === location.search && a.hash) {
      history.replaceState(null, "", a.href);
      const el = document.getElementById(a.hash.slice(1));
      if (el) {
        el.scrollIntoView({ block: "center" });
        el.focus({ preventScroll: true });
      }
      return;
    }
    history.pushState(null, "", a.href);
    this.go();
  }

  /** @param {KeyboardEvent} e */
  key(e) {
    const t = /** @type {HTMLElement} */ (e.target);
    if (e.key === "Escape") {
      previews.current?.closePreview();
      if (this.state.panel) this.setState({ panel: "" });
      else /** @type {HTMLElement|null} */ (document.querySelector(".form-wrap.floating .close"))?.click();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || t.closest("input, textarea, select, [contenteditable]")) return;
    const posts = /** @type {HTMLElement[]} */ ([...document.querySelectorAll("#main article.post")]);
    if (e.key === "j" || e.key === "k") {
      // From the focused post, or else from the first one in view.
      let at = posts.findIndex((p) => p === document.activeElement);
      if (at === -1) {
        const first = posts.findIndex((p) => p.getBoundingClientRect().bottom > 0);
        at = e.key === "j" ? first - 1 : first;
      }
      const next = posts[e.key === "j" ? Math.min(at + 1, posts.length - 1) : Math.max(at - 1, 0)];
      if (next) {
        next.scrollIntoView({ block: "start" });
        next.focus({ preventScroll: true });
      }
    } else if (e.key === "r") {
      const button = /** @type {HTMLElement|null} */ (document.querySelector(".quick-open"));
      const area = /** @type {HTMLElement|null} */ (document.querySelector(".post-form textarea"));
      e.preventDefault();
      if (button) button.click();
      else area?.focus();
    } else if (e.key === "g") {
      /** @type {HTMLElement|null} */ (document.querySelector(".gallery-open"))?.click();
    } else if (e.key === "e") {
      document
        .querySelectorAll("#main figure.file:not(.open) a.expand")
        .forEach((a) => /** @type {HTMLElement} */ (a).click());
    }
  }

  /** @param {"watcher"|"settings"} panel */
  async toggle(panel) {
    if (this.state.panel === panel) return this.setState({ panel: "" });
    if (panel === "settings" && !this.state.Settings) {
      const { SettingsDialog } = await import("./settings.js");
      this.setState({ Settings: SettingsDialog });
    }
    this.setState({ panel });
  }

  /** @param {any} _ @param {any} s */
  render(_, s) {
    const route = parsePath(s.path);
    const key = s.path + s.search;
    let page;
    if (!route) page = html`<${NotFound} />`;
    else if (route.page === "home") page = html`<${Home} key=${key} />`;
    else if (route.page === "board") page = html`<${BoardIndex} key=${key} board=${route.board} search=${s.search} />`;
    else if (route.page === "catalog") page = html`<${Catalog} key=${key} board=${route.board} />`;
    else if (route.page === "archive") page = html`<${Archive} key=${key} board=${route.board} />`;
    else if (route.page === "modlog")
      page = s.ModLog ? html`<${s.ModLog} key=${key} board=${route.board} />` : html`<${Loading} />`;
    else if (route.page === "thread")
      page = html`<${ThreadPage} key=${key} board=${route.board} thread=${route.thread} hash=${s.hash} />`;
    else if (route.page === "console")
      page =
        s.Console && s.userKnown
          ? html`<${s.Console} path=${s.path} search=${s.search} user=${s.user} boards=${s.boards}
              reports=${s.reports} onUser=${(/** @type {any} */ u) => this.setUser(u)} />`
          : html`<main id="main" class="loading" aria-busy="true"><p>Loading…</p></main>`;
    const staff = s.user && s.user.role !== "user";
    const unread = Object.values(store.watched).reduce((n, w) => n + w.unread, 0);
    return html`<a class="skip" href="#main">Skip to content</a>
      <nav class="top" aria-label="Site">
        <a href="/">Home</a>
        ${s.boards.map((/** @type {any} */ b) => html` <a href=${`/${b.slug}/`} title=${b.title}>/${b.slug}/</a>`)}
        <span class="spacer"></span>
        ${
          s.user
            ? html`${staff ? html`<a href="/admin">Console${waiting(s.reports)}</a>` : null} <a href="/account">Account</a>`
            : html`<a href="/login">Log in</a>`
        }
        <button type="button" class="link" aria-expanded=${s.panel === "watcher" ? "true" : "false"}
          onClick=${() => this.toggle("watcher")}>Watched${unread ? ` (${unread})` : ""}</button>
        <button type="button" class="link" aria-expanded=${s.panel === "settings" ? "true" : "false"}
          onClick=${() => this.toggle("settings")}>Settings</button>
      </nav>
      ${s.panel === "watcher" && watcher.current ? html`<${watcher.current.WatcherPanel} />` : null}
      ${s.panel === "settings" && s.Settings ? html`<${s.Settings} onClose=${() => this.setState({ panel: "" })} />` : null}
      ${page}
      ${s.Staff && staff ? html`<${s.Staff} user=${s.user} path=${s.path} />` : null}`;
  }
}

/**
 * The count of reports waiting beside the console link, as text (the reader's stylesheet has no
 * badge): nothing when none wait.
 * @param {{total: number} | null} reports
 */
function waiting(reports) {
  return reports?.total
    ? html` <span class="reports-waiting" title="Reported posts waiting">(${reports.total})</span>`
    : null;
}

applyTheme();
// The kind of pointer over the page before the previews' module is in: a mouse already over a
// quote link then gets its preview as soon as it is.
let pointerBefore = "";
const notePointer = (/** @type {PointerEvent} */ e) => (pointerBefore = e.pointerType);
document.addEventListener("pointerover", notePointer, true);
previews.ready.then((m) => {
  document.removeEventListener("pointerover", notePointer, true);
  m.installPreviews(pointerBefore);
});
watcher.ready.then((m) => m.startWatcher());
render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById("app")));
