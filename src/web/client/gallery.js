// The gallery (loaded on demand): a thread's images and videos one at a time, full screen;
// next and previous by arrow keys, buttons or a swipe, Escape closes it.

import { html, render, Component } from "./preact-htm.js";
import { size } from "./util.js";

/**
 * One file of the thread, with the post it belongs to.
 * @typedef {import("./post.js").File & {board: string, thread: number, post: number}} Item
 */

/** @type {HTMLElement|null} */
let host = null;
/** @type {HTMLElement|null} where the focus returns when the gallery closes */
let opener = null;

/**
 * Opens the gallery over the page at `items[start]`.
 * @param {Item[]} items @param {number} [start]
 */
export function openGallery(items, start = 0) {
  if (!items.length) return;
  opener = /** @type {HTMLElement|null} */ (document.activeElement);
  if (!host) {
    host = document.createElement("div");
    document.body.append(host);
  }
  render(html`<${Gallery} items=${items} start=${start} />`, host);
}

export function closeGallery() {
  if (!host) return;
  render(null, host);
  host.remove();
  host = null;
  opener?.focus?.();
}

/** A swipe is a mostly horizontal move of at least this many CSS pixels. */
const SWIPE = 50;

class Gallery extends Component {
  /** @param {{items: Item[], start: number}} props */
  constructor(props) {
    super(props);
    this.state = { at: Math.min(Math.max(props.start, 0), props.items.length - 1), revealed: new Set() };
    /** @type {{x: number, y: number} | null} */
    this.down = null;
  }

  componentDidMount() {
    // Capturing: the page's own shortcuts (j, k, Escape) must not act behind the gallery.
    document.addEventListener("keydown", this.key, true);
    document.documentElement.classList.add("gallery-shown");
    /** @type {HTMLElement|null} */ (/** @type {any} */ (this).base?.querySelector(".gallery-close"))?.focus();
    this.preload();
  }

  componentWillUnmount() {
    document.removeEventListener("keydown", this.key, true);
    document.documentElement.classList.remove("gallery-shown");
  }

  componentDidUpdate() {
    this.preload();
  }

  /** The neighbours load while the current file is looked at. */
  preload() {
    const { items } = this.props;
    for (const d of [1, -1]) {
      const next = items[(this.state.at + d + items.length) % items.length];
      if (next && !next.mime.startsWith("video/") && !next.spoiler) new Image().src = next.url;
    }
  }

  /** @param {number} step */
  move(step) {
    const n = this.props.items.length;
    this.setState({ at: (this.state.at + step + n) % n });
  }

  /** @param {KeyboardEvent} e */
  key = (e) => {
    const keys = { ArrowRight: 1, ArrowDown: 1, l: 1, ArrowLeft: -1, ArrowUp: -1, h: -1 };
    if (e.key === "Escape") closeGallery();
    else if (e.key in keys && !e.ctrlKey && !e.metaKey && !e.altKey) {
      // A video's own controls keep their arrow keys.
      if (/** @type {Element} */ (e.target).closest?.("video")) return;
      this.move(keys[/** @type {keyof typeof keys} */ (e.key)]);
    } else if (e.key === "Tab") {
      this.trapFocus(e);
      return;
    } else {
      // Other keys keep their meaning here (Space on a video) but not the page's shortcuts.
      e.stopPropagation();
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  };

  /** Tab cycles within the dialog. @param {KeyboardEvent} e */
  trapFocus(e) {
    const root = /** @type {HTMLElement|undefined} */ (/** @type {any} */ (this).base);
    if (!root) return;
    const focusable = /** @type {HTMLElement[]} */ ([...root.querySelectorAll("button, a[href], video[controls]")]);
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const inside = root.contains(/** @type {Node} */ (document.activeElement));
    if (e.shiftKey && (document.activeElement === first || !inside)) {
      e.preventDefault();
      last?.focus();
    } else if (!e.shiftKey && (document.activeElement === last || !inside)) {
      e.preventDefault();
      first?.focus();
    }
    e.stopPropagation();
  }

  /** @param {PointerEvent} e */
  pointerDown = (e) => {
    this.down = { x: e.clientX, y: e.clientY };
  };

  /** @param {PointerEvent} e */
  pointerUp = (e) => {
    const start = this.down;
    this.down = null;
    if (!start) return;
    const dx = e.clientX - start.x;
    const dy = e.clientY - start.y;
    if (Math.abs(dx) >= SWIPE && Math.abs(dx) > 2 * Math.abs(dy)) this.move(dx < 0 ? 1 : -1);
  };

  /** @param {any} props @param {any} s */
  render({ items }, s) {
    /** @type {Item} */
    const item = items[s.at];
    const hidden = item.spoiler && !s.revealed.has(s.at);
    let media;
    if (hidden) {
      media = html`<button type="button" class="spoiler-file gallery-spoiler"
        onClick=${() => this.setState({ revealed: new Set([...s.revealed, s.at]) })}>Spoiler: show</button>`;
    } else if (item.mime.startsWith("video/")) {
      media = html`<video key=${item.url} class="gallery-media" src=${item.url} controls loop autoplay
        aria-label=${"Video " + (item.name || "")}></video>`;
    } else {
      media = html`<img key=${item.url} class="gallery-media" src=${item.url} width=${item.width}
        height=${item.height} draggable="false" alt=${"Image " + (item.name || "")} />`;
    }
    const postPath = `/${item.board}/thread/${item.thread}` + (item.post !== item.thread ? `#p${item.post}` : "");
    return html`<div class="gallery" role="dialog" aria-modal="true" aria-label="Gallery">
      <div class="gallery-stage" onPointerDown=${this.pointerDown} onPointerUp=${this.pointerUp}
        onPointerCancel=${() => (this.down = null)}>${media}</div>
      <p class="gallery-caption" aria-live="polite">
        <span class="gallery-count">${s.at + 1} / ${items.length}</span>
        ${" "}${item.name || "file"} (${size(item.size)}, ${item.width}×${item.height}) ·
        ${" "}<a href=${postPath} onClick=${closeGallery}>No.${item.post}</a>
      </p>
      <button type="button" class="gallery-prev" aria-label="Previous file" onClick=${() => this.move(-1)}>‹</button>
      <button type="button" class="gallery-next" aria-label="Next file" onClick=${() => this.move(1)}>›</button>
      <button type="button" class="gallery-close" aria-label="Close gallery" onClick=${closeGallery}>×</button>
    </div>`;
  }
}
