// The reading pages other than a thread: home, board index, catalog, archive, not found.

import { html, Component } from "./preact-htm.js";
import { get, follow } from "./api.js";
import { store, subscribe } from "./store.js";
import { filtered, threadPath, relative, afterPaint, differs, deferred, painted } from "./util.js";
import { Post, extras, el, slot, place, sourceAfterPaint } from "./post.js";
import { rulesHtml } from "./trusted.js";

/** The new thread form, folded on the board's index until opened. */
const form = deferred(() => import("./form.js"));

export function Loading() {
  return html`<main id="main" class="loading" aria-busy="true"><p>Loading…</p></main>`;
}

/** @param {{error: any, board?: string}} props */
export function NotFound({ error, board }) {
  const gone = error && error.status === 410;
  const missing = !error || error.status === 404;
  const title = gone ? "Gone" : missing ? "Not found" : "Something went wrong";
  return html`<main id="main" class="not-found">
    <h1>${title}</h1>
    <p>${error ? error.message : "There is no page at this address."}</p>
    <p>${board && error?.code !== "board_not_found" ? html`<a href=${`/${board}/`}>Back to /${board}/</a> · ` : null}
      <a href="/">Home</a></p>
  </main>`;
}

/** @param {{board: any}} props */
export function BoardHeader({ board }) {
  return html`<header class="board-header">
    <h1><a href=${`/${board.slug}/`}>/${board.slug}/ – ${board.title}</a>${board.nsfw ? html` <span class="nsfw">NSFW</span>` : null}</h1>
    ${board.description ? html`<p class="description">${board.description}</p>` : null}
    ${board.rules_html ? html`<details class="rules"><summary>Rules</summary><div dangerouslySetInnerHTML=${rulesHtml(board)}></div></details>` : null}
  </header>`;
}

/** @param {{board: string, page: "board"|"catalog"|"archive"|"modlog"}} props */
export function BoardNav({ board, page }) {
  /** @param {string} href @param {string} label @param {boolean} current */
  const link = (href, label, current) =>
    html`<a href=${href} aria-current=${current ? "page" : undefined}>${label}</a>`;
  return html`<nav class="board-nav" aria-label="Board">
    ${link(`/${board}/`, "Index", page === "board")}
    ${link(`/${board}/catalog`, "Catalog", page === "catalog")}
    ${link(`/${board}/archive`, "Archive", page === "archive")}
    ${link(`/${board}/modlog`, "Mod log", page === "modlog")}
  </nav>`;
}

/**
 * A page that loads JSON and shows it. On a live page (board index, catalog) the board's
 * stream is followed and what changed since is offered in a bar ("2 new threads, 1 updated —
 * show") rather than moving the page under the reader; showing it loads the page's JSON again.
 * Subclasses give `paths()` and `view()`.
 */
class BoardPage extends Component {
  /** @param {any} props */
  constructor(props) {
    super(props);
    this.state = {
      /** @type {any[]|null} */ data: null,
      /** @type {any} */ error: null,
      version: 0,
      /** Threads that started, and threads shown here that changed, since the page loaded. */
      fresh: { added: /** @type {Set<number>} */ (new Set()), changed: /** @type {Set<number>} */ (new Set()) },
    };
    /** @type {(() => void)[]} */
    this.cleanup = [];
    /** What the page shows: its threads, its highest post number and its newest time. */
    this.shown = { threads: /** @type {Set<number>} */ (new Set()), high: 0, since: 0 };
  }
  /** @returns {string[]} */
  paths() {
    return [];
  }
  /** @param {any} next @param {any} state */
  shouldComponentUpdate(next, state) {
    return state !== this.state || differs(this.props, next);
  }
  componentDidMount() {
    const loaded = this.load();
    this.cleanup.push(subscribe(() => this.setState({ version: this.state.version + 1 })));
    if (!this.live()) return;
    // A thread started or bumped after the page's JSON was read and before the stream started
    // is in neither: once both are in and the page has painted, the list is read again (a 304
    // when nothing changed) and what differs is offered in the bar.
    const onOpen = (/** @type {boolean} */ first) =>
      first && loaded.then((ok) => ok && afterPaint(() => this.recheck()));
    this.cleanup.push(follow(this.props.board, null, (e) => this.onEvent(e), onOpen));
  }
  live() {
    return true;
  }
  /** @param {any} e an event of the board's stream */
  onEvent(e) {
    if (e.event === "resync") return this.load();
    const { threads, high, since } = this.shown;
    const { added, changed } = this.state.fresh;
    const before = added.size + changed.size;
    if (e.event === "thread" && !threads.has(e.thread)) added.add(e.thread);
    // A `post` event is a new reply or a changed post (a backlink, a file deleted): a reply is
    // newer than everything the page was loaded with.
    const reply = e.event === "post" && e.post && e.post.no > high && e.post.created_at >= since;
    if (reply && !added.has(e.thread)) changed.add(e.thread);
    if ((e.event === "delete" || e.event === "update") && threads.has(e.thread)) changed.add(e.thread);
    if (added.size + changed.size !== before) this.setState({ fresh: { added, changed } });
  }
  /** Offers what the page's list holds now that the page does not show (see `componentDidMount`). */
  async recheck() {
    const path = this.paths()[1];
    if (!path) return;
    try {
      const list = await get(path);
      const { threads, high, since } = this.shown;
      /** @type {number[]} */
      const fresh = [];
      /** @type {number[]} */
      const bumped = [];
      for (const t of list.threads ?? []) {
        // A thread not shown but older than what is (one that moved here from another page of
        // the index) is not new.
        if (!threads.has(t.no)) {
          if (t.no > high) fresh.push(t.no);
        } else if ((t.bumped_at ?? 0) > since || (t.posts ?? []).some((/** @type {any} */ p) => p.no > high)) {
          bumped.push(t.no);
        }
      }
      if (!fresh.length && !bumped.length) return;
      this.setState((/** @type {any} */ state) => ({
        fresh: {
          added: new Set([...state.fresh.added, ...fresh]),
          changed: new Set([...state.fresh.changed, ...bumped.filter((no) => !state.fresh.added.has(no))]),
        },
      }));
    } catch {
      // The stream brings what comes next.
    }
  }
  componentWillUnmount() {
    for (const fn of this.cleanup) fn();
  }
  /** @param {any} prev */
  componentDidUpdate(prev) {
    if (prev.search !== this.props.search) this.load();
  }
  async load() {
    try {
      const data = await Promise.all(this.paths().map(get));
      const shown = { threads: new Set(), high: 0, since: 0 };
      for (const t of data[1]?.threads ?? []) {
        shown.threads.add(t.no);
        for (const p of [t, ...(t.posts ?? [])]) {
          shown.high = Math.max(shown.high, p.no);
          shown.since = Math.max(shown.since, p.created_at ?? 0, t.bumped_at ?? 0);
        }
      }
      this.shown = shown;
      this.setState({ data, error: null, fresh: { added: new Set(), changed: new Set() } }, () =>
        afterPaint(() => painted(`wani:${this.constructor.name.toLowerCase()}-painted`)),
      );
      return true;
    } catch (e) {
      this.setState({ error: e });
      return false;
    }
  }
  /** The bar offering what changed since the page loaded; an empty live region otherwise. */
  freshBar() {
    const { added, changed } = this.state.fresh;
    const parts = [];
    if (added.size) parts.push(`${added.size} new thread${added.size === 1 ? "" : "s"}`);
    if (changed.size) parts.push(`${changed.size} updated`);
    return html`<div class="fresh" role="status">
      ${
        parts.length
          ? html`<button type="button" class="fresh-bar" onClick=${() => this.load()}>${parts.join(", ")} — show</button>`
          : null
      }
    </div>`;
  }
  /** @param {any[]} _data @returns {any} */
  view(_data) {
    return null;
  }
  /** @param {any} props @param {any} s */
  render(props, s) {
    if (s.error) return html`<${NotFound} error=${s.error} board=${props.board} />`;
    if (!s.data) return html`<${Loading} />`;
    return this.view(s.data);
  }
}

export class BoardIndex extends BoardPage {
  componentDidMount() {
    super.componentDidMount();
    if (!form.current) form.ready.then(() => this.forceUpdate());
  }
  page() {
    const n = Number(new URLSearchParams(this.props.search).get("page"));
    return Number.isSafeInteger(n) && n > 0 ? n : 1;
  }
  paths() {
    const b = this.props.board;
    return [`/api/boards/${b}`, `/api/boards/${b}/index` + (this.page() > 1 ? `?page=${this.page()}` : "")];
  }
  /** @param {{no: number, thread: number}} answer */
  posted = (answer) => {
    history.pushState(null, "", threadPath(this.props.board, answer.thread));
    dispatchEvent(new PopStateEvent("popstate"));
  };
  /** @param {any[]} data */
  view([{ board }, index]) {
    document.title = `/${board.slug}/ – ${board.title}`;
    return html`<${BoardHeader} board=${board} />
      <${BoardNav} board=${board.slug} page="board" />
      <main id="main" class=${store.blurs(board) ? "blur-nsfw" : undefined}>
        ${this.freshBar()}
        <details class="new-thread"><summary>Start a new thread</summary>
          ${form.current && html`<${form.current.PostForm} board=${board} onPosted=${this.posted} />`}
        </details>
        ${index.threads.map((/** @type {any} */ t) => {
          const hidden = store.hidden.has(`${board.slug}/${t.no}`) || filtered(store.filters, t);
          if (hidden) {
            return html`<section class="index-thread hidden-thread" key=${t.no}>
              Hidden thread No.${t.no} <button type="button" class="link"
                onClick=${() => store.hide(board.slug, t.no, false)}>Show</button></section>`;
          }
          return html`<section class="index-thread" key=${t.no} aria-label=${`Thread ${t.no}`}>
            ${t.posts.map(
              (/** @type {any} */ p, /** @type {number} */ i) => html`<${Post} key=${p.no} post=${p}
              op=${i === 0} link=${i === 0} thread=${i === 0 ? t : undefined} version=${this.state.version}
              hidden=${i > 0 && (store.hidden.has(`${p.board}/${p.no}`) || filtered(store.filters, p))}
              onQuote=${(/** @type {number} */ no) => {
                history.pushState(null, "", `/${board.slug}/thread/${t.no}#q${no}`);
                dispatchEvent(new PopStateEvent("popstate"));
              }} />`,
            )}
            ${
              t.omitted_posts
                ? html`<p class="omitted">${t.omitted_posts} replies and ${t.omitted_images} images omitted.
                  <a href=${threadPath(board.slug, t.no)}>View thread</a></p>`
                : null
            }
          </section>`;
        })}
        <nav class="pages" aria-label="Pages">
          ${Array.from({ length: index.pages }, (_, i) => i + 1).map((n) =>
            n === index.page
              ? html`<strong aria-current="page">${n}</strong>`
              : html`<a href=${`/${board.slug}/` + (n > 1 ? `?page=${n}` : "")}>${n}</a>`,
          )}
        </nav>
      </main>`;
  }
}

const SORTS = /** @type {const} */ ({
  bump: ["Bump order", null],
  created: ["Creation date", (/** @type {any} */ a, /** @type {any} */ b) => b.no - a.no],
  replies: ["Reply count", (/** @type {any} */ a, /** @type {any} */ b) => (b.replies ?? 0) - (a.replies ?? 0)],
});

export class Catalog extends BoardPage {
  paths() {
    const b = this.props.board;
    return [`/api/boards/${b}`, `/api/boards/${b}/catalog`];
  }
  /** @param {any[]} data */
  view([{ board }, catalog]) {
    document.title = `/${board.slug}/ – Catalog`;
    const sort = /** @type {keyof typeof SORTS} */ (this.state.sort || "bump");
    const query = (this.state.query || "").toLowerCase();
    let threads = catalog.threads.filter(
      (/** @type {any} */ t) =>
        !store.hidden.has(`${board.slug}/${t.no}`) &&
        !filtered(store.filters, t) &&
        (!query || `${t.subject || ""} ${t.excerpt ?? ""}`.toLowerCase().includes(query)),
    );
    const compare = SORTS[sort][1];
    if (compare) threads = threads.slice().sort(compare);
    return html`<${BoardHeader} board=${board} />
      <${BoardNav} board=${board.slug} page="catalog" />
      <main id="main" class=${store.blurs(board) ? "blur-nsfw" : undefined}>
        ${this.freshBar()}
        <div class="catalog-tools">
          <label>Sort by <select value=${sort}
            onChange=${(/** @type {any} */ e) => this.setState({ sort: e.target.value })}>
            ${Object.entries(SORTS).map(([k, [label]]) => html`<option value=${k}>${label}</option>`)}
          </select></label>
          <label>Filter <input type="search" value=${this.state.query || ""}
            onInput=${(/** @type {any} */ e) => this.setState({ query: e.target.value })} /></label>
          <span class="counts">${threads.length} threads</span>
        </div>
        <${CardList} board=${board.slug} threads=${threads} version=${this.state.version} />
      </main>`;
  }
}

/**
 * One catalog card: the thumbnail (or the spoiler's cover), the counts and marks, the subject
 * and excerpt linking to the thread, the watch button, and the staff tools' menu.
 * @param {string} board @param {any} t @param {boolean} watched
 */
function card(board, t, watched) {
  const li = el("li", "card");
  const link = el("a", "card-link");
  link.href = threadPath(board, t.no);
  const file = t.files?.[0];
  if (file && !file.spoiler) {
    const img = el("img");
    img.loading = "lazy";
    img.decoding = "async";
    img.width = file.thumb_width;
    img.height = file.thumb_height;
    img.alt = "";
    sourceAfterPaint(img, file.thumb_url);
    link.append(img);
  } else if (file) link.append(el("span", "spoiler-file", "Spoiler"));
  const counts = el("span", "card-counts", `R: ${t.replies ?? 0} / I: ${t.images ?? 0}`);
  if (t.sticky) counts.append(" ", el("span", "mark", "Sticky"));
  if (t.locked) counts.append(" ", el("span", "mark", "Locked"));
  if (t.cyclical) counts.append(" ", el("span", "mark", "Cyclical"));
  link.append(counts);
  if (t.subject) link.append(el("strong", "card-subject", t.subject));
  link.append(el("span", "card-excerpt", t.excerpt ?? ""));
  const watch = el("button", "link watch", watched ? "Unwatch" : "Watch");
  watch.type = "button";
  watch.setAttribute("aria-pressed", watched ? "true" : "false");
  watch.setAttribute("aria-label", `${watched ? "Unwatch" : "Watch"} thread ${t.no}`);
  li.append(link, watch);
  const staff = extras.card && slot(extras.card(board, t), "div");
  if (staff) li.append(staff);
  return li;
}

/**
 * @typedef {{board: string, threads: any[], version: number}} CardListProps
 * @typedef {{li: HTMLElement, thread: any, watched: boolean, version: number}} Card
 */

/**
 * The catalog's cards, kept by DOM calls as a thread's posts are (`PostList`): the view
 * library renders the empty list, each render builds the cards not shown yet and builds again
 * those whose thread, watched state or store changed, in the order given (sorted, filtered).
 * The watch buttons' clicks are taken once, on the list.
 */
class CardList extends Component {
  /** @param {CardListProps} props */
  constructor(props) {
    super(props);
    /** @type {Map<number, Card>} each shown card, by thread number */
    this.cards = new Map();
    /** @type {WeakMap<Element, any>} each card's thread */
    this.threads = new WeakMap();
  }
  /** @param {CardListProps} next */
  shouldComponentUpdate(next) {
    this.sync(next);
    return false;
  }
  componentDidMount() {
    this.sync(/** @type {CardListProps} */ (this.props));
    /** @type {Element} */ (this.base).addEventListener("click", (e) => this.click(e));
  }
  /** @param {Event} e */
  click(e) {
    const button = /** @type {Element} */ (e.target).closest?.("button.watch");
    const li = button?.closest("li.card");
    const t = li && this.threads.get(li);
    if (!t) return;
    const { board } = /** @type {CardListProps} */ (this.props);
    if (store.isWatched(board, t.no)) store.unwatch(board, t.no);
    else store.watch(board, t.no, `/${board}/ – ${t.subject || (t.excerpt ?? "").slice(0, 50)}`, t.no);
  }
  /** @param {CardListProps} props */
  sync({ board, threads, version }) {
    /** @type {Map<number, Card>} */
    const cards = new Map();
    const want = threads.map((/** @type {any} */ t) => {
      const watched = store.isWatched(board, t.no);
      let shown = this.cards.get(t.no);
      if (!shown || shown.thread !== t || shown.watched !== watched || shown.version !== version) {
        shown = { li: card(board, t, watched), thread: t, watched, version };
        this.threads.set(shown.li, t);
      }
      cards.set(t.no, shown);
      return shown.li;
    });
    this.cards = cards;
    place(/** @type {Element} */ (this.base), want);
  }
  render() {
    return html`<ul class="catalog"></ul>`;
  }
}

export class Archive extends BoardPage {
  live() {
    return false;
  }
  paths() {
    const b = this.props.board;
    return [`/api/boards/${b}`, `/api/boards/${b}/archive`];
  }
  /** @param {any[]} data */
  view([{ board }, archive]) {
    document.title = `/${board.slug}/ – Archive`;
    return html`<${BoardHeader} board=${board} />
      <${BoardNav} board=${board.slug} page="archive" />
      <main id="main">
        <h2>Archived threads</h2>
        ${
          archive.threads.length
            ? html`<ul class="archive">${archive.threads.map(
                (/** @type {any} */ t) => html`<li key=${t.no}>
                <a href=${threadPath(board.slug, t.no)}>No.${t.no}</a>
                ${" "}<strong>${t.subject || ""}</strong> ${t.excerpt ?? ""}
                <span class="counts"> (${t.replies ?? 0} replies, archived ${relative(t.archived_at)})</span>
              </li>`,
              )}</ul>`
            : html`<p>No archived threads.</p>`
        }
      </main>`;
  }
}

export class Home extends BoardPage {
  live() {
    return false;
  }
  paths() {
    return ["/api/boards", "/api/recent"];
  }
  /** @param {any[]} data */
  view([{ boards }, { posts }]) {
    const nsfw = new Map(boards.map((/** @type {any} */ b) => [b.slug, b]));
    document.title = "wani";
    return html`<main id="main" class="home">
      <h1>wani</h1>
      <section aria-labelledby="boards-title">
        <h2 id="boards-title">Boards</h2>
        <ul class="boards">${boards.map(
          (/** @type {any} */ b) => html`<li key=${b.slug}><a href=${`/${b.slug}/`}>/${b.slug}/ – ${b.title}</a>
            ${b.description ? html`<p>${b.description}</p>` : null}</li>`,
        )}</ul>
      </section>
      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent posts</h2>
        ${posts.length ? null : html`<p>Nothing yet.</p>`}
        <div class="recent">${posts
          .filter((/** @type {any} */ p) => !filtered(store.filters, p))
          .map(
            (
              /** @type {any} */ p,
            ) => html`<div class=${"recent-post" + (store.blurs(nsfw.get(p.board)) ? " blur-nsfw" : "")}
              key=${p.board + p.no}>
            <p class="where"><a href=${threadPath(p.board, p.thread, p.no)}>/${p.board}/ thread ${p.thread}</a></p>
            <${Post} post=${p} op=${p.no === p.thread} version=${this.state.version} />
          </div>`,
          )}</div>
      </section>
    </main>`;
  }
}
