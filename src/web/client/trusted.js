// The one Trusted Types policy: the only door through which the server's already-safe HTML (a
// post's `html`, a board's `rules_html`) enters the DOM. Every other text goes in as text.

/** @type {{createHTML(s: string): any} | null} */
const policy = globalThis.trustedTypes ? globalThis.trustedTypes.createPolicy("wani", { createHTML: (s) => s }) : null;

/** @type {WeakMap<object, {__html: any}>} */
const made = new WeakMap();

/**
 * The post's rendered body for `dangerouslySetInnerHTML`, made once per post object so that
 * re-rendering an unchanged post never touches its DOM.
 * @param {{html?: string}} post
 */
export function postHtml(post) {
  let value = made.get(post);
  if (!value) {
    value = { __html: policy ? policy.createHTML(post.html ?? "") : (post.html ?? "") };
    made.set(post, value);
  }
  return value;
}

/** @type {WeakMap<object, {__html: any}>} */
const rules = new WeakMap();

/**
 * A board's rendered rules for `dangerouslySetInnerHTML`, made once per board object.
 * @param {{rules_html: string}} board
 */
export function rulesHtml(board) {
  let value = rules.get(board);
  if (!value) {
    value = { __html: policy ? policy.createHTML(board.rules_html) : board.rules_html };
    rules.set(board, value);
  }
  return value;
}
