// One post as an <article>: header, files (inline expansion, spoilers, video), body, backlinks
// and the post menu. Posts re-render only when their object changes.

import { html, Component, useState } from "./preact-htm.js";
import { postHtml } from "./trusted.js";
import { store } from "./store.js";
import { size, relative, exact, threadPath } from "./util.js";

/**
 * The server leaves out fields holding their empty value: absent means null, [] or false, and
 * an absent `html` means the body has no markup and shows as its own text.
 * @typedef {{url: string, thumb_url: string, name?: string|null, mime: string, size: number,
 *   width: number, height: number, thumb_width: number, thumb_height: number, spoiler?: boolean}} File
 * @typedef {{no: number, thread: number, board: string, created_at: number, name: string,
 *   subject?: string|null, body: string, html?: string, sage?: boolean, files?: File[],
 *   trip?: string|null, id?: string|null, backlinks?: any[], cross_backlinks?: any[], files_deleted?: boolean,
 *   deleted?: boolean, isNew?: boolean}} PostData
 */

/**
 * What the staff tools add to posts (`staff.js`, loaded only for a logged-in staff member, fills
 * these in): items of the post's menu (with the thread's state for an OP), a selection checkbox,
 * who wrote the post, and a catalog card's menu. Null for everyone else.
 * @type {{menu: ((post: PostData, thread?: any) => any) | null, select: ((post: PostData) => any) | null,
 *   who: ((post: PostData) => any) | null, card: ((board: string, thread: any) => any) | null}}
 */
export const extras = { menu: null, select: null, who: null, card: null };

/** @param {{file: File}} props */
function FileView({ file }) {
  const [open, setOpen] = /** @type {any} */ (useToggle());
  const [revealed, reveal] = /** @type {any} */ (useToggle());
  const video = file.mime.startsWith("video/");
  const info = `${file.name ? file.name + ", " : ""}${size(file.size)}, ${file.width}×${file.height}`;
  /** @param {MouseEvent} e */
  const toggle = (e) => {
    if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    if (file.spoiler && !revealed) reveal();
    else setOpen();
  };
  let media;
  if (file.spoiler && !revealed) {
    media = html`<span class="spoiler-file">Spoiler: click to show</span>`;
  } else if (open && video) {
    media = html`<video class="full" src=${file.url} controls loop preload="auto"
      autoplay=${store.settings.autoplay} aria-label=${"Video " + (file.name || "")}></video>`;
  } else if (open) {
    media = html`<img key="full" class="full" src=${file.url} alt=${"Image " + (file.name || "")} />`;
  } else {
    media = html`<img key="thumb" class="thumb" src=${file.thumb_url} width=${file.thumb_width}
      height=${file.thumb_height} loading="lazy" decoding="async" alt=${"Thumbnail of " + (file.name || "a file")} />`;
  }
  return html`<figure class=${"file" + (open ? " open" : "")}>
    <figcaption><a href=${file.url} target="_blank" rel="noopener">${file.name || "file"}</a>
      <span class="file-info"> (${info})</span></figcaption>
    ${
      open && video
        ? html`<div>${media}<button type="button" class="link" onClick=${setOpen}>Close video</button></div>`
        : html`<a class="expand" href=${file.url} onClick=${toggle} aria-expanded=${open ? "true" : "false"}>${media}</a>`
    }
  </figure>`;
}

/** A boolean state with a toggle. */
function useToggle() {
  const [on, set] = useState(false);
  return [on, () => set((v) => !v)];
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

/**
 * @param {{post: PostData, onQuote?: (no: number) => void, onDelete?: (post: PostData, fileOnly: boolean) => void,
 *   hidden?: boolean, now?: number, op?: boolean, link?: boolean, thread?: any}} props
 */
function PostView({ post, onQuote, onDelete, hidden, op, link, thread }) {
  const you = store.isYou(post.board, post.no);
  const quotesYou = !you && quoted(post).some(([b, n]) => store.isYou(b, n));
  const times = store.settings.times;
  const cls =
    "post" +
    (op ? " op" : " reply") +
    (you ? " you" : "") +
    (quotesYou ? " quotes-you-post" : "") +
    (post.isNew ? " new" : "") +
    (post.deleted ? " deleted" : "");
  const id = `p${post.no}`;
  const number = html`<a class="no" href=${threadPath(post.board, post.thread, post.no)}
    title="Quote this post" onClick=${(/** @type {MouseEvent} */ e) => {
      if (onQuote && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        onQuote(post.no);
      }
    }}>No.${post.no}</a>`;
  if (hidden) {
    return html`<article class=${cls + " hidden-post"} id=${id} data-board=${post.board} data-no=${post.no}>
      <span>Hidden post ${number}</span>
      <button type="button" class="link" onClick=${() => store.hide(post.board, post.no, false)}>Show</button>
    </article>`;
  }
  return html`<article class=${cls} id=${id} data-board=${post.board} data-no=${post.no} tabindex="-1"
    aria-label=${`Post ${post.no}`}>
    <header>
      ${extras.select ? extras.select(post) : null}
      ${post.subject ? html`<h2 class="subject">${post.subject}</h2>` : null}
      <span class="name">${post.name}</span>
      ${post.trip ? html` <span class="trip">${post.trip}</span>` : null}
      ${post.id ? html` <span class="poster-id">ID:${post.id}</span>` : null}
      ${extras.who ? extras.who(post) : null}
      ${you ? html` <span class="you-mark">(You)</span>` : null}
      ${quotesYou ? html` <span class="quotes-you">replies to (You)</span>` : null}
      ${post.sage ? html` <span class="sage">sage</span>` : null}
      ${" "}<time datetime=${new Date(post.created_at * 1000).toISOString()} title=${exact(post.created_at)}>${
        times === "absolute" ? exact(post.created_at) : relative(post.created_at)
      }</time>
      ${" "}${number}
      ${link ? html` <a class="reply-link" href=${threadPath(post.board, post.thread, post.no)}>View</a>` : null}
      ${post.deleted ? html` <strong class="deleted-mark">(deleted)</strong>` : null}
      ${post.deleted ? null : html`<${Menu} post=${post} you=${you} onDelete=${onDelete} thread=${thread} />`}
    </header>
    ${
      post.files?.length
        ? html`<div class="files">${post.files.map((f) => html`<${FileView} key=${f.url} file=${f} />`)}</div>`
        : null
    }
    ${post.files_deleted ? html`<p class="files-deleted">(file deleted)</p>` : null}
    ${
      post.html === undefined
        ? html`<div class="body">${plainBody(post.body)}</div>`
        : html`<div class="body" dangerouslySetInnerHTML=${postHtml(post)}></div>`
    }
    ${post.backlinks?.length || post.cross_backlinks?.length ? html`<${Backlinks} post=${post} />` : null}
  </article>`;
}

/**
 * A body without markup, as text: one text node per line with a `<br>` between, the same DOM
 * that its html would make.
 * @param {string} body
 */
function plainBody(body) {
  return body.split("\n").flatMap((line, i) => (i ? [html`<br />`, line] : [line]));
}

/** @param {{post: PostData}} props */
function Backlinks({ post }) {
  const all = [...(post.backlinks || []), ...(post.cross_backlinks || [])];
  return html`<p class="backlinks">Replies: ${all.map((b) => {
    const board = typeof b === "object" ? b.board : post.board;
    const no = typeof b === "object" ? b.no : b;
    const thread = typeof b === "object" && b.thread ? b.thread : post.thread;
    const label = board === post.board ? `>>${no}` : `>>>/${board}/${no}`;
    return html`<a class="quotelink backlink" href=${threadPath(board, thread, no)}
      data-board=${board} data-no=${no}>${label}</a> `;
  })}</p>`;
}

/** @param {{post: PostData, you: boolean, onDelete?: (post: PostData, fileOnly: boolean) => void, thread?: any}} props */
function Menu({ post, you, onDelete, thread }) {
  const hideLabel = post.no === post.thread ? "Hide thread" : "Hide post";
  /** The report dialog loads only when someone reports. @param {MouseEvent} e */
  const report = (e) => {
    const summary = /** @type {HTMLElement} */ (e.currentTarget).closest("details")?.querySelector("summary");
    import("./report.js").then((m) => m.openReport(post.board, post.no, summary || null));
  };
  return html`<details class="menu">
    <summary aria-label=${`Menu of post ${post.no}`}>▾</summary>
    <ul>
      <li><button type="button" onClick=${() => store.hide(post.board, post.no, true)}>${hideLabel}</button></li>
      <li><button type="button" onClick=${report}>Report</button></li>
      ${
        you && onDelete
          ? html`<li><button type="button" onClick=${() => onDelete(post, false)}>Delete</button></li>
          ${post.files?.length ? html`<li><button type="button" onClick=${() => onDelete(post, true)}>Delete file only</button></li>` : null}`
          : null
      }
      ${extras.menu ? extras.menu(post, thread) : null}
    </ul>
  </details>`;
}

/** A post that renders again only when its data, its hidden state or a setting changed. */
export class Post extends Component {
  /** @param {any} next */
  shouldComponentUpdate(next) {
    const p = this.props;
    return (
      next.post !== p.post ||
      next.hidden !== p.hidden ||
      next.version !== p.version ||
      next.onDelete !== p.onDelete ||
      next.thread !== p.thread
    );
  }
  render() {
    return PostView(/** @type {any} */ (this.props));
  }
}
