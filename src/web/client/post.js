// One post as an <article>: header, files (inline expansion, spoilers, video), body, backlinks
// and the post menu. Built with DOM calls, not the view library (a thread builds hundreds at
// once); its clicks are handled once on the document and its menu is filled when opened.

import { html, render, Component } from "./preact-htm.js";
import { postHtml } from "./trusted.js";
import { store } from "./store.js";
import { size, relative, exact, threadPath, afterPaint } from "./util.js";

/**
 * The server leaves out fields holding their empty value: absent means null, [] or false, and
 * an absent `html` means the body has no markup and shows as its own text.
 * @typedef {{url: string, thumb_url: string, name?: string|null, mime: string, size: number,
 *   width: number, height: number, thumb_width: number, thumb_height: number, spoiler?: boolean}} File
 * @typedef {{no: number, thread: number, board: string, created_at: number, name: string,
 *   subject?: string|null, body: string, html?: string, sage?: boolean, files?: File[],
 *   trip?: string|null, id?: string|null, backlinks?: any[], cross_backlinks?: any[], files_deleted?: boolean,
 *   deleted?: boolean, isNew?: boolean}} PostData
 * @typedef {{post: PostData, onQuote?: (no: number) => void, onDelete?: (post: PostData, fileOnly: boolean) => void,
 *   hidden?: boolean, op?: boolean, link?: boolean, thread?: any, version?: number}} PostProps
 */

/**
 * What the staff tools add to posts (`staff.js`, loaded only for a logged-in staff member, fills
 * these in): items of the post's menu (with the thread's state for an OP), a selection checkbox,
 * who wrote the post, and a catalog card's menu. Null for everyone else.
 * @type {{menu: ((post: PostData, thread?: any) => any) | null, select: ((post: PostData) => any) | null,
 *   who: ((post: PostData) => any) | null, card: ((board: string, thread: any) => any) | null}}
 */
export const extras = { menu: null, select: null, who: null, card: null };

/**
 * What each post element was built from, and its parts, so that building it again keeps the
 * parts whose data did not change (an expanded image, an inline quote, an open menu).
 * @typedef {{props: PostProps, header: string, head: HTMLElement|null, files: HTMLElement|null,
 *   gone: HTMLElement|null, body: HTMLElement|null, backs: HTMLElement|null}} Built
 * @type {WeakMap<Element, Built>}
 */
const built = new WeakMap();

/** @type {WeakMap<Element, File>} each figure's file */
const figures = new WeakMap();

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {string} [cls] @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Thumbnails built since the last paint, with their sources. @type {[HTMLImageElement, string][]} */
let unsourced = [];

/**
 * Gives a thumbnail its source once the page around it has painted, and after the other work
 * waiting for that paint. Setting a hundred sources at once (a catalog's, within the browser's
 * lazy-loading distance) costs the frame that first shows the page tens of milliseconds, and
 * the network and the decoders compete with it for the processor; a thumbnail has its width
 * and height already, so nothing moves when it comes.
 * @param {HTMLImageElement} img @param {string} url
 */
export function sourceAfterPaint(img, url) {
  if (!unsourced.length) {
    afterPaint(() =>
      setTimeout(() => {
        const now = unsourced;
        unsourced = [];
        for (const [i, u] of now) i.src = u;
      }, 0),
    );
  }
  unsourced.push([img, url]);
}

/** @param {File} file @param {boolean} [now] the source at once (a click shows it), not after the paint */
function thumb(file, now = false) {
  const img = el("img", "thumb");
  img.loading = "lazy";
  img.decoding = "async";
  img.width = file.thumb_width;
  img.height = file.thumb_height;
  img.alt = "Thumbnail of " + (file.name || "a file");
  if (now) img.src = file.thumb_url;
  else sourceAfterPaint(img, file.thumb_url);
  return img;
}

/**
 * The link that expands a file, holding its thumbnail (or the spoiler's cover).
 * @param {File} file @param {boolean} cover @param {boolean} [now] the thumbnail's source at once
 */
function expander(file, cover, now = false) {
  const a = el("a", "expand");
  a.href = file.url;
  a.setAttribute("aria-expanded", "false");
  a.append(cover ? el("span", "spoiler-file", "Spoiler: click to show") : thumb(file, now));
  return a;
}

/** @param {File} file */
function fileView(file) {
  const figure = el("figure", "file");
  figures.set(figure, file);
  const caption = el("figcaption");
  const name = el("a", "", file.name || "file");
  name.href = file.url;
  name.target = "_blank";
  name.rel = "noopener";
  const info = `${file.name ? file.name + ", " : ""}${size(file.size)}, ${file.width}×${file.height}`;
  caption.append(name, el("span", "file-info", ` (${info})`));
  figure.append(caption, expander(file, !!file.spoiler));
  return figure;
}

/**
 * A click on a file: shows a spoilered file's thumbnail, else opens it in place (an image at
 * full size, a video playing) or closes it again.
 * @param {HTMLElement} figure @param {File} file
 */
function toggleFile(figure, file) {
  const link = /** @type {HTMLElement} */ (figure.lastElementChild);
  const cover = link.querySelector(".spoiler-file");
  if (cover) return cover.replaceWith(thumb(file, true));
  const open = !figure.classList.contains("open");
  figure.classList.toggle("open", open);
  if (file.mime.startsWith("video/")) {
    if (!open) return link.replaceWith(expander(file, false, true));
    const video = el("video", "full");
    video.src = file.url;
    video.controls = video.loop = true;
    video.preload = "auto";
    video.autoplay = store.settings.autoplay;
    video.setAttribute("aria-label", "Video " + (file.name || ""));
    const close = el("button", "link", "Close video");
    close.type = "button";
    close.dataset.act = "close-video";
    const box = el("div");
    box.append(video, close);
    return link.replaceWith(box);
  }
  let media;
  if (open) {
    media = el("img", "full");
    media.src = file.url;
    media.alt = "Image " + (file.name || "");
  } else media = thumb(file, true);
  link.setAttribute("aria-expanded", String(open));
  link.replaceChildren(media);
}

/**
 * The posts a post quotes, from what was written: `>>12` on its board, `>>>/c/34` elsewhere.
 * @param {PostData} post
 * @returns {[string, number][]}
 */
function quoted(post) {
  /** @type {[string, number][]} */
  const out = [];
  for (const m of (post.body ?? "").matchAll(/>>(?:>\/([a-z0-9]{1,16})\/)?(\d{1,15})/g)) {
    out.push([m[1] || post.board, Number(m[2])]);
  }
  return out;
}

/** The post's number: clicking it quotes the post. @param {PostData} post */
function number(post) {
  const a = el("a", "no", `No.${post.no}`);
  a.href = threadPath(post.board, post.thread, post.no);
  a.title = "Quote this post";
  return a;
}

/** @param {string} label @param {string} act */
function button(label, act) {
  const b = el("button", "link", label);
  b.type = "button";
  b.dataset.act = act;
  return b;
}

/**
 * A vnode of the staff tools in an element of its own (the view library renders into an
 * element, and takes out whatever else is in it).
 * @param {any} vnode @param {"span" | "div"} [tag]
 */
export function slot(vnode, tag = "span") {
  if (vnode == null) return null;
  const box = el(tag, "staff-slot");
  render(vnode, box);
  return box;
}

/** @param {PostProps} props @param {boolean} you @param {boolean} quotesYou */
function header({ post, link }, you, quotesYou) {
  const h = el("header");
  const select = extras.select && slot(extras.select(post));
  if (select) h.append(select);
  if (post.subject) h.append(el("h2", "subject", post.subject));
  h.append(el("span", "name", post.name));
  if (post.trip) h.append(" ", el("span", "trip", post.trip));
  if (post.id) h.append(" ", el("span", "poster-id", `ID:${post.id}`));
  const who = extras.who && slot(extras.who(post));
  if (who) h.append(who);
  if (you) h.append(" ", el("span", "you-mark", "(You)"));
  if (quotesYou) h.append(" ", el("span", "quotes-you", "replies to (You)"));
  if (post.sage) h.append(" ", el("span", "sage", "sage"));
  const time = el("time", "", store.settings.times === "absolute" ? exact(post.created_at) : relative(post.created_at));
  time.dateTime = new Date(post.created_at * 1000).toISOString();
  time.title = exact(post.created_at);
  h.append(" ", time, " ", number(post));
  if (link) {
    const view = el("a", "reply-link", "View");
    view.href = threadPath(post.board, post.thread, post.no);
    h.append(" ", view);
  }
  if (post.deleted) h.append(" ", el("strong", "deleted-mark", "(deleted)"));
  else {
    const menu = el("details", "menu");
    const summary = el("summary", "", "▾");
    summary.setAttribute("aria-label", `Menu of post ${post.no}`);
    menu.append(summary);
    h.append(menu);
  }
  return h;
}

/**
 * A body without markup, as text: one text node per line with a `<br>` between, the same DOM
 * that its html would make. The only HTML that goes in is the server's, through the policy.
 * @param {PostData} post
 */
function body(post) {
  const div = el("div", "body");
  if (post.html !== undefined) {
    div.innerHTML = postHtml(post).__html;
    return div;
  }
  post.body.split("\n").forEach((line, i) => (i ? div.append(el("br"), line) : div.append(line)));
  return div;
}

/** @param {PostData} post */
function backlinks(post) {
  if (!post.backlinks?.length && !post.cross_backlinks?.length) return null;
  const p = el("p", "backlinks", "Replies: ");
  for (const b of [...(post.backlinks || []), ...(post.cross_backlinks || [])]) {
    const board = typeof b === "object" ? b.board : post.board;
    const no = typeof b === "object" ? b.no : b;
    const thread = typeof b === "object" && b.thread ? b.thread : post.thread;
    const a = el("a", "quotelink backlink", board === post.board ? `>>${no}` : `>>>/${board}/${no}`);
    a.href = threadPath(board, thread, no);
    a.dataset.board = board;
    a.dataset.no = String(no);
    p.append(a, " ");
  }
  return p;
}

/**
 * Whether two lists from the server hold the same values: a thread loaded again (after the
 * stream missed events) brings equal lists in new arrays, and the files stay as they are.
 * @param {any[] | undefined} a @param {any[] | undefined} b
 */
function same(a, b) {
  return a === b || JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

/**
 * Builds the post into `article`, or brings an article built before up to date: a part whose
 * data is unchanged stays as it is (with its expanded files and inline quotes).
 * @param {HTMLElement} article @param {PostProps} props
 */
export function fillPost(article, props) {
  if (!listening) listen();
  const { post, hidden, op } = props;
  const you = store.isYou(post.board, post.no);
  const quotesYou = !you && quoted(post).some(([b, n]) => store.isYou(b, n));
  const keep =
    (article.classList.contains("highlight") ? " highlight" : "") +
    (!hidden && article.classList.contains("menu-open") ? " menu-open" : "");
  article.className =
    "post" +
    (op ? " op" : " reply") +
    (you ? " you" : "") +
    (quotesYou ? " quotes-you-post" : "") +
    (post.isNew ? " new" : "") +
    (post.deleted ? " deleted" : "") +
    (hidden ? " hidden-post" : "") +
    keep;
  article.id = `p${post.no}`;
  article.dataset.board = post.board;
  article.dataset.no = String(post.no);
  const old = built.get(article);
  if (hidden) {
    article.removeAttribute("tabindex");
    article.removeAttribute("aria-label");
    const span = el("span", "", "Hidden post ");
    span.append(number(post));
    article.replaceChildren(span, " ", button("Show", "show"));
    built.set(article, { props, header: "", head: null, files: null, gone: null, body: null, backs: null });
    return;
  }
  article.tabIndex = -1;
  article.setAttribute("aria-label", `Post ${post.no}`);
  const was = old && old.head ? old.props.post : null;
  // The header depends on more than the post: the settings, (You) marks and the staff tools.
  const key = [post.no, post.subject, post.name, post.trip, post.id, post.sage, post.created_at, post.deleted]
    .concat([you, quotesYou, store.settings.times, props.link])
    .join("\u0000");
  const staff = !!(extras.select || extras.who);
  const head = old?.head && !staff && old.header === key ? old.head : null;
  if (head && store.settings.times !== "absolute") {
    const time = head.querySelector("time");
    if (time) time.textContent = relative(post.created_at);
  }
  const parts = {
    props,
    header: key,
    head: head ?? header(props, you, quotesYou),
    files:
      was && old?.files && same(was.files, post.files) ? old.files : post.files?.length ? el("div", "files") : null,
    gone: post.files_deleted ? (old?.gone ?? el("p", "files-deleted", "(file deleted)")) : null,
    body: was && old?.body && was.html === post.html && was.body === post.body ? old.body : body(post),
    backs:
      was && same(was.backlinks, post.backlinks) && same(was.cross_backlinks, post.cross_backlinks)
        ? (old?.backs ?? null)
        : backlinks(post),
  };
  if (parts.files && parts.files !== old?.files) parts.files.append(...(post.files ?? []).map(fileView));
  built.set(article, parts);
  const next = [parts.head, parts.files, parts.gone, parts.body, parts.backs].filter((x) => x !== null);
  const now = article.children;
  // A menu open while the post is built again stays open, its items built again: the staff
  // tools, or the posters' cloaks that rebuild a staff member's headers, may arrive just after
  // a menu opened, and the menu then gains their items instead of closing under the pointer.
  const open = old?.head?.querySelector("details.menu[open]");
  const focused = open?.contains(document.activeElement);
  if (next.length !== now.length || next.some((x, i) => now[i] !== x)) article.replaceChildren(...next);
  const menu = open && parts.head.querySelector("details.menu");
  if (menu instanceof HTMLDetailsElement) {
    fillMenu(menu, props);
    menu.open = true;
    if (focused && menu !== open) /** @type {HTMLElement} */ (menu.querySelector("summary")).focus();
  }
  // A post deleted or hidden meanwhile has no menu to keep open.
  if (keep.includes("menu-open") && !article.querySelector("details.menu[open]")) {
    article.classList.remove("menu-open");
  }
}

/** Renders a post's menu items into its menu. @param {HTMLDetailsElement} details @param {PostProps} props */
function fillMenu(details, props) {
  let ul = details.querySelector(":scope > ul");
  if (!ul) details.append((ul = el("ul")));
  render(html`<${MenuItems} props=${props} />`, ul);
}

/** The items of a post's menu, rendered when it opens. @param {{props: PostProps}} p */
function MenuItems({ props: { post, onDelete, thread } }) {
  const you = store.isYou(post.board, post.no);
  /** The report dialog loads only when someone reports. @param {MouseEvent} e */
  const report = (e) => {
    const summary = /** @type {HTMLElement} */ (e.currentTarget).closest("details")?.querySelector("summary");
    import("./report.js").then((m) => m.openReport(post.board, post.no, summary || null));
  };
  return html`<li><button type="button" onClick=${() => store.hide(post.board, post.no, true)}>${
    post.no === post.thread ? "Hide thread" : "Hide post"
  }</button></li>
    <li><button type="button" onClick=${report}>Report</button></li>
    ${
      you && onDelete
        ? html`<li><button type="button" onClick=${() => onDelete(post, false)}>Delete</button></li>
          ${post.files?.length ? html`<li><button type="button" onClick=${() => onDelete(post, true)}>Delete file only</button></li>` : null}`
        : null
    }
    ${extras.menu ? extras.menu(post, thread) : null}`;
}

let listening = false;

/**
 * One click handler for every post, in the capture phase so that it runs before the router's
 * (which follows links whose click nobody took): quoting by number, files, menus, "Show". Only
 * posts built here count: a copy in a quote preview is a plain link.
 */
function listen() {
  listening = true;
  document.addEventListener(
    "click",
    (e) => {
      const target = /** @type {Element} */ (e.target);
      const article = target.closest?.("article.post");
      const made = article && built.get(article);
      if (!made) return;
      const { post, onQuote } = made.props;
      const plain = e.button === 0 && !e.ctrlKey && !e.metaKey && !e.shiftKey;
      const act = target.closest("[data-act], a.no, a.expand, summary");
      if (!act || act.closest("article.post") !== article) return;
      if (act.matches("a.no")) {
        if (onQuote && !e.ctrlKey && !e.metaKey) {
          e.preventDefault();
          onQuote(post.no);
        }
      } else if (act.matches("a.expand")) {
        const figure = /** @type {HTMLElement} */ (act.closest("figure.file"));
        const file = figures.get(figure);
        if (!plain || !file) return;
        e.preventDefault();
        toggleFile(figure, file);
      } else if (act.matches("summary")) {
        const details = /** @type {HTMLDetailsElement} */ (act.parentElement);
        if (details.open || !details.matches(".menu")) return;
        fillMenu(details, made.props);
        // Drawn in full from the frame that shows the menu open (see `menuClosed`).
        article.classList.add("menu-open");
      } else {
        const what = /** @type {HTMLElement} */ (act).dataset.act;
        if (what === "show") store.hide(post.board, post.no, false);
        else if (what === "close-video") {
          const figure = /** @type {HTMLElement} */ (act.closest("figure.file"));
          const file = figures.get(figure);
          if (file) toggleFile(figure, file);
        }
      }
    },
    true,
  );
  document.addEventListener("toggle", menuClosed, true);
}

/**
 * A post whose menu is open is drawn in full (`menu-open`): the menu overflows the post, which
 * `content-visibility` would clip. A class rather than a `:has(details[open])` rule, which the
 * browser checks against every post's subtree each time posts are inserted. It is set when the
 * menu is opened by a click, and taken off here when the menu closes.
 * @param {Event} e
 */
function menuClosed(e) {
  const details = /** @type {Element} */ (e.target);
  if (!(details instanceof HTMLDetailsElement) || details.open || !details.matches(".menu")) return;
  const article = details.closest("article.post");
  if (article && !article.querySelector("details.menu[open]")) article.classList.remove("menu-open");
}

/**
 * Whether a post built with `was` must be filled again for `now` (by `PostList` and `Post`).
 * @param {PostProps | undefined} was @param {PostProps} now
 */
function stale(was, now) {
  return (
    !was ||
    was.post !== now.post ||
    was.hidden !== now.hidden ||
    was.version !== now.version ||
    was.onDelete !== now.onDelete ||
    was.thread !== now.thread ||
    was.op !== now.op
  );
}

/**
 * Puts `want` into `box` in that order with as few changes to the page as it takes: each
 * element already in its place stays, the ones past the last already there go in with one
 * insertion, and whatever else `box` held is taken out.
 * @param {Element} box @param {Element[]} want
 */
export function place(box, want) {
  let at = box.firstElementChild;
  let i = 0;
  for (; i < want.length && at; i++) {
    if (at === want[i]) at = at.nextElementSibling;
    else box.insertBefore(want[i], at);
  }
  if (i < want.length) box.append(...want.slice(i));
  while (at) {
    const next = at.nextElementSibling;
    at.remove();
    at = next;
  }
}

/**
 * How a long thread shows its top first: its first render builds at least FIRST posts (a
 * screenful and more), and more only while it has taken less than BUDGET ms; the rest follow
 * in the next task, after that first paint. A thread that fits in the budget is built and
 * painted at once, which spares it a second frame.
 */
const FIRST = 24;
const BUDGET = 50;

/**
 * @typedef {{posts: PostData[], top: boolean, thread: any, version: number,
 *   hidden: (post: PostData) => boolean, onQuote: (no: number) => void,
 *   onDelete: (post: PostData, fileOnly: boolean) => void,
 *   onShown?: (first: boolean, all: boolean) => void}} PostListProps
 */

/**
 * A thread's posts, in order, kept by DOM calls: the view library renders the empty container
 * once and never looks inside it. Each render builds the posts not shown yet, away from the
 * page, and puts them in with one insertion (a long thread's hundreds cost one change of the
 * document, not one each); fills again the posts whose data, hidden state or settings
 * changed, keeping the parts that did not; and takes out the posts no longer listed. With
 * `top`, the first render may leave the end of a long thread for after the first paint
 * (FIRST, BUDGET). `onShown` is called when the first posts are in the page, and when every
 * post is (once, or twice when the rest waited).
 */
export class PostList extends Component {
  /** @param {PostListProps} props */
  constructor(props) {
    super(props);
    /** @type {Map<number, HTMLElement>} each shown post's article, by number */
    this.articles = new Map();
    /** `onShown` was called: for the first posts, and for every post. */
    this.told = false;
    this.complete = false;
    /** The rest of the thread waits for the first paint. */
    this.waiting = false;
  }
  /** @param {PostListProps} next */
  shouldComponentUpdate(next) {
    this.sync(next);
    return false;
  }
  componentDidMount() {
    this.sync(/** @type {PostListProps} */ (this.props));
  }
  /** @param {PostListProps} props @param {boolean} [all] the rest, after the first paint */
  sync({ posts, top, thread, version, hidden, onQuote, onDelete, onShown }, all = false) {
    const box = /** @type {HTMLElement} */ (this.base);
    const start = performance.now();
    // Renders before the rest's turn build nothing new: the first one spent the budget.
    const budget = !top || all || this.complete ? Infinity : this.waiting ? 0 : BUDGET;
    let rest = false;
    /** @type {HTMLElement[]} */
    const want = [];
    /** @type {Map<number, HTMLElement>} */
    const articles = new Map();
    for (let i = 0; i < posts.length; i++) {
      const post = posts[i];
      /** @type {PostProps} */
      const props = {
        post,
        op: i === 0,
        thread: i === 0 ? thread : undefined,
        hidden: hidden(post),
        version,
        onQuote,
        onDelete,
      };
      let article = this.articles.get(post.no);
      const made = article && built.get(article);
      if (!article) {
        // Before the first paint, the posts not built yet are all at the end.
        if (i >= FIRST && performance.now() - start > budget) {
          rest = true;
          break;
        }
        article = el("article");
        fillPost(article, props);
      } else if (stale(made?.props, props)) fillPost(article, props);
      else if (made) made.props = props;
      articles.set(post.no, article);
      want.push(article);
    }
    this.articles = articles;
    place(box, want);
    if (!this.complete && (!rest || !this.told)) {
      onShown?.(!this.told, !rest);
      this.told = true;
      this.complete = !rest;
    }
    if (rest && !this.waiting) {
      this.waiting = true;
      afterPaint(() => {
        this.waiting = false;
        this.sync(/** @type {PostListProps} */ (this.props), true);
      });
    }
  }
  render() {
    return html`<div class="thread"></div>`;
  }
}

/**
 * A post for the view library's pages: it renders an empty <article> that `fillPost` fills, and
 * fills it again only when its data, its hidden state or a setting changed.
 */
export class Post extends Component {
  /** @param {PostProps} next */
  shouldComponentUpdate(next) {
    return stale(/** @type {PostProps} */ (this.props), next);
  }
  componentDidMount() {
    fillPost(/** @type {HTMLElement} */ (this.base), /** @type {PostProps} */ (this.props));
  }
  componentDidUpdate() {
    fillPost(/** @type {HTMLElement} */ (this.base), /** @type {PostProps} */ (this.props));
  }
  render() {
    return html`<article />`;
  }
}
