// Quote previews: hovering a `>>` link floats the quoted post beside it (from the page, or
// fetched when it is elsewhere, on any board); on touch screens a tap expands it inline.

import { html, render } from "./preact-htm.js";
import { get } from "./api.js";
import { Post } from "./post.js";
import { store } from "./store.js";

/** @type {Map<string, Promise<any>>} */
const fetched = new Map();

/** @param {string} board @param {number} no */
function findOnPage(board, no) {
  return /** @type {HTMLElement|null} */ (
    document.querySelector(`#app article.post[data-board="${board}"][data-no="${no}"]`)
  );
}

/** @param {string} board @param {number} no @returns {Promise<any>} */
function fetchPost(board, no) {
  const key = `${board}/${no}`;
  let p = fetched.get(key);
  if (!p) {
    p = get(`/api/boards/${board}/posts/${no}`).then((r) => r.post);
    p.catch(() => fetched.delete(key));
    fetched.set(key, p);
  }
  return p;
}

/** @param {Element} link */
function target(link) {
  const board = link.getAttribute("data-board") || "";
  const no = Number(link.getAttribute("data-no"));
  return /^[a-z0-9]{1,16}$/.test(board) && Number.isSafeInteger(no) && no > 0 ? { board, no } : null;
}

/** The boards by slug, from `/api/boards`: fetched once, and again after a failure. @type {Promise<Map<string, any>> | null} */
let boards = null;

/**
 * Whether a post from `board` shows its thumbnails blurred (see `store.blurs`). A preview
 * floats outside the page's main element, whose class blurs the page's own thumbnails, and an
 * inline quote may come from another board than the page's: each carries the class itself.
 * When the boards cannot be read, it blurs, the safer guess.
 * @param {string} board
 */
async function blurs(board) {
  if (!store.settings.blurNsfw) return false;
  boards ??= get("/api/boards").then((r) => new Map(r.boards.map((/** @type {any} */ b) => [b.slug, b])));
  try {
    return store.blurs((await boards).get(board));
  } catch {
    boards = null;
    return true;
  }
}

/**
 * Fills `box` with the post: a copy of the one on the page, or the one fetched.
 * @param {HTMLElement} box @param {string} board @param {number} no
 */
async function fill(box, board, no) {
  const blur = blurs(board);
  const here = findOnPage(board, no);
  if (here) {
    const copy = /** @type {HTMLElement} */ (here.cloneNode(true));
    copy.removeAttribute("id");
    box.classList.toggle("blur-nsfw", await blur);
    box.replaceChildren(copy);
    return;
  }
  box.textContent = "Loading…";
  try {
    const post = await fetchPost(board, no);
    box.classList.toggle("blur-nsfw", await blur);
    // Preact keeps nodes it did not make: the "Loading…" text goes first.
    box.replaceChildren();
    render(html`<${Post} post=${post} op=${post.no === post.thread} />`, box);
  } catch (e) {
    box.textContent = /** @type {Error} */ (e).message;
  }
}

/** @type {HTMLElement|null} */
let floating = null;

function close() {
  floating?.remove();
  floating = null;
  document.querySelectorAll("article.post.highlight").forEach((a) => a.classList.remove("highlight"));
}

/** @param {HTMLElement} link */
function show(link) {
  const t = target(link);
  if (!t) return;
  close();
  const here = findOnPage(t.board, t.no);
  if (here) here.classList.add("highlight");
  const box = document.createElement("div");
  box.className = "preview";
  box.setAttribute("role", "tooltip");
  const rect = link.getBoundingClientRect();
  box.style.left = `${Math.min(rect.left + scrollX, scrollX + innerWidth - 320)}px`;
  box.style.top = `${rect.bottom + scrollY + 4}px`;
  document.body.append(box);
  floating = box;
  fill(box, t.board, t.no);
}

/**
 * The pointer last used: a mouse hovers, a finger or pen taps. Taken from pointer events rather
 * than from `(hover: none)`, which is wrong on touch-screen laptops and in headless browsers;
 * it also tells a tap's compatibility mouse events from a mouse's. Mouse events still do the
 * hovering: browsers send them (not pointer events) when the page moves under a still mouse.
 */
let pointer = matchMedia("(hover: none)").matches ? "touch" : "mouse";

/**
 * Installs the document-wide listeners once. `pointerBefore` is the kind of pointer seen before
 * this module came in ("" if none): a quote link that a mouse is already over gets its preview
 * at once, as it would have had the listeners been there when the mouse arrived.
 * @param {string} [pointerBefore]
 */
export function installPreviews(pointerBefore = "") {
  if (pointerBefore) pointer = pointerBefore;
  for (const name of ["pointerdown", "pointermove", "pointerover"]) {
    document.addEventListener(name, (e) => (pointer = /** @type {PointerEvent} */ (e).pointerType), true);
  }
  document.addEventListener("mouseover", (e) => {
    const link = /** @type {HTMLElement|null} */ (/** @type {Element} */ (e.target).closest?.("a.quotelink"));
    if (link && pointer === "mouse") show(link);
  });
  document.addEventListener("mouseover", (e) => {
    const thumb = /** @type {Element} */ (e.target).closest?.("figure.file img.thumb");
    const link = thumb?.closest("a.expand");
    if (!thumb || !link || !store.settings.hoverExpand || pointer !== "mouse") return;
    close();
    const box = document.createElement("div");
    box.className = "preview image-preview";
    const img = document.createElement("img");
    img.src = /** @type {HTMLAnchorElement} */ (link).href;
    img.alt = "";
    box.append(img);
    const rect = thumb.getBoundingClientRect();
    box.style.left = `${rect.right + scrollX + 8}px`;
    box.style.top = `${rect.top + scrollY}px`;
    document.body.append(box);
    floating = box;
  });
  document.addEventListener("mouseout", (e) => {
    const link = /** @type {Element} */ (e.target).closest?.("a.quotelink, figure.file img.thumb");
    if (link && !link.contains(/** @type {Node|null} */ (e.relatedTarget))) close();
  });
  document.addEventListener(
    "click",
    (e) => {
      const link = /** @type {HTMLElement|null} */ (/** @type {Element} */ (e.target).closest?.("a.quotelink"));
      if (!link || pointer === "mouse") return;
      const t = target(link);
      if (!t) return;
      e.preventDefault();
      e.stopPropagation();
      const next = link.nextElementSibling;
      if (next && next.classList.contains("inline-quote")) {
        next.remove();
        return;
      }
      const box = document.createElement("div");
      box.className = "inline-quote";
      link.after(box);
      fill(box, t.board, t.no);
    },
    true,
  );
  // Text spoilers reveal on tap as on hover.
  document.addEventListener("click", (e) => {
    const s = /** @type {Element} */ (e.target).closest?.(".spoiler");
    if (s) s.classList.toggle("revealed");
  });
  const hovered = /** @type {HTMLElement|null} */ (document.querySelector("a.quotelink:hover"));
  if (hovered && pointer === "mouse") show(hovered);
}

export { close as closePreview };
