// The thread page: every post, live updates from the thread's event stream, the reply form
// (which floats as the quick-reply box), (You) marks, deletion of own posts.

import { html, Component } from "./preact-htm.js";
import { get, postJson, follow } from "./api.js";
import { store, subscribe } from "./store.js";
import { filtered, afterPaint, killLinks, differs, deferred, painted } from "./util.js";
import { PostList } from "./post.js";
import { BoardHeader, NotFound, Loading } from "./pages.js";

/** @typedef {import("./post.js").PostData} PostData */

/** The reply form, which comes after the posts. */
const form = deferred(() => import("./form.js"));

/**
 * The thread's first posts, or all of them, are in the page: the frames showing them are
 * measured (see test/bench/web.sh).
 * @param {boolean} first @param {boolean} all
 */
function shown(first, all) {
  afterPaint(() => {
    if (first) painted("wani:thread-first-painted");
    if (all) painted("wani:thread-painted");
  });
}

/** Whether the reader hid the post, or one of their filters does. @param {PostData} post */
function hidden(post) {
  return store.hidden.has(`${post.board}/${post.no}`) || filtered(store.filters, post);
}

export class ThreadPage extends Component {
  /** @param {{board: string, thread: number, hash: string}} props */
  constructor(props) {
    super(props);
    this.state = {
      /** @type {any} */ boardInfo: null,
      /** @type {any} */ thread: null,
      /** @type {PostData[]} */ posts: [],
      /** @type {any} */ error: null,
      quick: false,
      version: 0,
      /** Whether the posts show the top of the thread first (see `PostList`). */
      top: false,
      announce: "",
    };
    /** @type {Map<number, number>} post number → index in posts */
    this.index = new Map();
    this.form = { current: /** @type {any} */ (null) };
    this.unread = 0;
    this.title = "";
    /** @type {(() => void)[]} */
    this.cleanup = [];
  }

  /** @param {any} next @param {any} state */
  shouldComponentUpdate(next, state) {
    return state !== this.state || differs(this.props, next);
  }

  componentDidMount() {
    this.load();
    if (!form.current) form.ready.then(() => this.forceUpdate());
    this.cleanup.push(
      subscribe((change) =>
        change === "watched" ? this.forceUpdate() : this.setState({ version: this.state.version + 1 }),
      ),
    );
    const onVisible = () => {
      if (!document.hidden) {
        this.unread = 0;
        document.title = this.title;
        this.markRead();
      }
    };
    document.addEventListener("visibilitychange", onVisible);
    this.cleanup.push(() => document.removeEventListener("visibilitychange", onVisible));
  }

  componentWillUnmount() {
    for (const fn of this.cleanup) fn();
  }

  async load() {
    const { board, thread } = this.props;
    try {
      const [threadAnswer, boardAnswer] = await Promise.all([
        get(`/api/boards/${board}/threads/${thread}`),
        get(`/api/boards/${board}`),
      ]);
      performance.mark("wani:thread-json");
      const t = threadAnswer.thread;
      // The old numbers of a moved thread redirect to its new place: show that place's path.
      const home = t.posts[0]?.board ?? board;
      if (home !== board || t.no !== thread) return this.moved(home, t.no);
      this.setPosts(threadAnswer.thread.posts);
      this.title = `/${board}/ – ${t.subject || (t.posts[0].body ?? "").slice(0, 50) || `No.${thread}`}`;
      document.title = this.title;
      // A page opened at a post (`#p12`) renders every post at once, so that it can scroll there.
      const top = !this.state.thread && !/^#[pq]\d+$/.test(this.props.hash);
      this.setState({ thread: t, boardInfo: boardAnswer.board, error: null, top }, () => this.afterLoad());
      this.markRead();
      if (!this.stop) {
        // A reply committed after the thread was read and before the stream started is in
        // neither: once the stream is open and the page has painted, the posts after the last
        // one shown are asked for. (Later opens resume from the last event the browser had.)
        const onOpen = (/** @type {boolean} */ first) => first && afterPaint(() => this.catchUp());
        this.stop = follow(board, thread, (e) => this.onEvent(e), onOpen);
        this.cleanup.push(() => this.stop && this.stop());
      }
    } catch (e) {
      this.setState({ error: e });
    }
  }

  afterLoad() {
    const hash = this.props.hash;
    const m = /^#([pq])(\d+)$/.exec(hash);
    if (!m) return;
    const el = document.getElementById(`p${m[2]}`);
    if (el) {
      el.scrollIntoView({ block: "center" });
      el.classList.add("highlight");
    }
    if (m[1] === "q") this.quote(Number(m[2]));
  }

  /** @param {PostData[]} posts */
  setPosts(posts) {
    this.index = new Map(posts.map((p, i) => [p.no, i]));
    this.state.posts = posts;
    this.setState({ posts });
  }

  /** Merges posts in, each once: a post already present is replaced, a new one appended. @param {PostData[]} incoming @param {boolean} live */
  merge(incoming, live) {
    let posts = this.state.posts;
    let added = 0;
    for (const post of incoming) {
      const at = this.index.get(post.no);
      if (posts === this.state.posts) posts = posts.slice();
      if (at !== undefined) {
        posts[at] = { ...post, isNew: posts[at].isNew };
      } else {
        this.index.set(post.no, posts.length);
        posts.push(live ? { ...post, isNew: true } : post);
        added++;
        if (post.backlinks === undefined) post.backlinks = [];
      }
    }
    if (posts !== this.state.posts) {
      this.state.posts = posts;
      this.setState({ posts });
    }
    if (added) {
      const last = incoming[incoming.length - 1];
      this.setState({ announce: added === 1 ? `New post No.${last.no}` : `${added} new posts` });
      if (document.hidden) {
        this.unread += added;
        document.title = `(${this.unread}) ${this.title}`;
      }
      this.markRead();
    }
  }

  markRead() {
    const { board, thread } = this.props;
    const posts = this.state.posts;
    if (!posts.length) return;
    store.seen(board, thread, [posts[posts.length - 1].no], !document.hidden);
  }

  /** @param {any} e */
  onEvent(e) {
    if (e.event === "resync") return this.load();
    if (e.board !== this.props.board || e.thread !== this.props.thread) return;
    if (e.event === "post" || e.event === "thread") {
      const start = performance.now();
      this.merge([e.post], true);
      // Measured from the event's arrival to the frame that shows it (see test/bench/web.sh).
      this.forceUpdate(() => afterPaint(() => performance.measure("wani:live-append", { start })));
    }
    if (e.event === "backlinks") {
      // The quoting post, as the server lists it: a number from this board, else board and no.
      const { from } = e;
      const link = from.board === e.board && from.thread === e.thread ? from.no : from;
      const posts = this.state.posts.slice();
      for (const no of e.nos) {
        const at = this.index.get(no);
        if (at === undefined) continue;
        const key = from.board === e.board ? "backlinks" : "cross_backlinks";
        posts[at] = { ...posts[at], [key]: [...(posts[at][key] || []), link] };
      }
      this.state.posts = posts;
      this.setState({ posts });
    }
    if (e.event === "delete") {
      const at = this.index.get(e.no);
      if (at !== undefined) {
        const posts = this.state.posts.slice();
        posts[at] = { ...posts[at], deleted: true };
        this.state.posts = posts;
        this.setState({ posts });
      }
      if (e.no === this.props.thread) this.setState({ thread: { ...this.state.thread, deleted: true } });
      // The server sends the posts quoting it no more: their links to it die here.
      this.unlink(e.board, e.no);
    }
    // A post of another thread that posts here quote was deleted.
    if (e.event === "unlinked") this.unlink(e.target.board, e.target.no);
    if (e.event === "update") {
      if (e.moved_to) return this.moved(e.moved_to.board, e.moved_to.thread);
      const { sticky, locked, archived, cyclical } = e;
      this.setState({ thread: { ...this.state.thread, sticky, locked, archived, cyclical } });
    }
  }

  /**
   * Draws every link to post `no` of `board` dead, as the server now serves it.
   * @param {string} board @param {number} no
   */
  unlink(board, no) {
    let posts = this.state.posts;
    posts.forEach((post, at) => {
      if (!post.html) return;
      const html = killLinks(post.html, board, no);
      if (html === post.html) return;
      if (posts === this.state.posts) posts = posts.slice();
      posts[at] = { ...post, html };
    });
    if (posts !== this.state.posts) {
      this.state.posts = posts;
      this.setState({ posts });
    }
  }

  /** Staff moved the thread to another board: go to it there. @param {string} board @param {number} thread */
  moved(board, thread) {
    history.replaceState(null, "", `/${board}/thread/${thread}`);
    dispatchEvent(new PopStateEvent("popstate"));
  }

  /** @param {number} no */
  quote = (no) => {
    if (this.closedReason()) return;
    form.ready.then(() => this.setState({ quick: true }, () => this.form.current?.insertQuote(no)));
  };

  /** The thread's posts after the last one shown, from the server. @returns {Promise<PostData[]>} */
  async postsAfterLast() {
    const last = this.state.posts[this.state.posts.length - 1];
    const { board, thread } = this.props;
    return (await get(`/api/boards/${board}/threads/${thread}?after=${last ? last.no : 0}`)).thread.posts;
  }

  /**
   * Brings in the posts after the last one shown, as live posts. One the stream brought
   * meanwhile is kept as the stream left it (its later events may be newer than this answer).
   */
  async catchUp() {
    try {
      const missing = (await this.postsAfterLast()).filter((p) => !this.index.has(p.no));
      if (missing.length) this.merge(missing, true);
    } catch {
      // The stream brings what comes next; a reload brings the rest.
    }
  }

  /** @param {{no: number}} answer */
  posted = async (answer) => {
    // The live stream usually brings the post first; if not, fetch what is missing. Either
    // way `merge` keeps one copy.
    try {
      this.merge(await this.postsAfterLast(), false);
    } catch {
      // The stream will bring it.
    }
    document.getElementById(`p${answer.no}`)?.scrollIntoView({ block: "nearest" });
  };

  /** @param {PostData} post @param {boolean} fileOnly */
  remove = async (post, fileOnly) => {
    const what = fileOnly ? "the files of post" : "post";
    if (!confirm(`Delete ${what} No.${post.no}?`)) return;
    try {
      await postJson(`/api/boards/${post.board}/posts/${post.no}/delete`, {
        password: store.password(),
        file_only: fileOnly,
      });
      if (post.no === post.thread && !fileOnly) {
        this.setState({ thread: { ...this.state.thread, deleted: true } });
      }
      const at = this.index.get(post.no);
      if (at !== undefined) {
        const posts = this.state.posts.slice();
        posts[at] = fileOnly ? { ...posts[at], files: [], files_deleted: true } : { ...posts[at], deleted: true };
        this.state.posts = posts;
        this.setState({ posts });
      }
    } catch (e) {
      alert(/** @type {Error} */ (e).message);
    }
  };

  /** Opens the gallery at the thread's first file; its module loads now, not with the page. */
  gallery = async () => {
    const items = this.state.posts
      .filter((p) => !p.deleted && !store.hidden.has(`${p.board}/${p.no}`) && !filtered(store.filters, p))
      .flatMap((p) => (p.files ?? []).map((f) => ({ ...f, board: p.board, thread: p.thread, post: p.no })));
    const { openGallery } = await import("./gallery.js");
    openGallery(items);
  };

  closedReason() {
    const t = this.state.thread;
    if (!t) return null;
    if (t.deleted) return "This thread was deleted.";
    if (t.archived) return "This thread is archived: it can be read but not replied to.";
    if (t.locked) return "This thread is locked: no more replies.";
    return null;
  }

  /** @param {any} props @param {any} s */
  render(props, s) {
    if (s.error) return html`<${NotFound} error=${s.error} board=${props.board} />`;
    if (!s.thread || !s.boardInfo) return html`<${Loading} />`;
    const t = s.thread;
    const watched = store.isWatched(props.board, props.thread);
    const closed = this.closedReason();
    const PostForm = form.current?.PostForm;
    return html`<${BoardHeader} board=${s.boardInfo} />
      <main id="main" class=${"thread-page" + (store.blurs(s.boardInfo) ? " blur-nsfw" : "")}>
        <nav class="thread-nav" aria-label="Thread">
          <a href=${`/${props.board}/`}>Return</a>
          <a href=${`/${props.board}/catalog`}>Catalog</a>
          <button type="button" class="link" aria-pressed=${watched ? "true" : "false"}
            onClick=${() =>
              watched
                ? store.unwatch(props.board, props.thread)
                : store.watch(props.board, props.thread, this.title, s.posts[s.posts.length - 1].no)}>
            ${watched ? "Unwatch" : "Watch"} thread</button>
          ${
            s.posts.some((p) => p.files?.length && !p.deleted)
              ? html`<button type="button" class="link gallery-open" onClick=${this.gallery}>Gallery</button>`
              : null
          }
          <span class="counts">${t.replies ?? 0} replies, ${t.images ?? 0} images</span>
          ${t.sticky ? html`<span class="mark">Sticky</span>` : null}
          ${t.locked ? html`<span class="mark">Locked</span>` : null}
          ${t.cyclical ? html`<span class="mark">Cyclical</span>` : null}
          ${t.archived ? html`<span class="mark">Archived</span>` : null}
        </nav>
        <${PostList} posts=${s.posts} top=${s.top} thread=${t} version=${s.version} hidden=${hidden}
          onQuote=${this.quote} onDelete=${this.remove} onShown=${shown} />
        <div class="sr-only" aria-live="polite">${s.announce}</div>
        ${closed ? html`<p class="closed-note" role="status">${closed}</p>` : null}
        ${
          closed || !PostForm
            ? null
            : html`<${PostForm} ref=${this.form} board=${s.boardInfo} thread=${props.thread}
              floating=${s.quick} onClose=${() => this.setState({ quick: false })} onPosted=${this.posted} />`
        }
        ${
          closed || s.quick || !PostForm
            ? null
            : html`<button type="button" class="quick-open" onClick=${() => this.setState({ quick: true }, () => this.form.current?.focus())}>
              Quick reply</button>`
        }
      </main>`;
  }
}
