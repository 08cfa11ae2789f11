// The one Trusted Types policy: the only door through which the server's already-safe `html`
// field of a post enters the DOM. Every other text goes in as text.

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
