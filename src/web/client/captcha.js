// The post form's captcha, loaded only for boards that ask for one (or once the server says a
// post needs one): the text picture with its answer field, or the proof of work solved in a
// worker with its progress. A challenge is fetched when the person starts writing, so a reader
// who never posts costs the server nothing, and a proof of work is done by the time they send.

import { html, Component } from "./preact-htm.js";
import { get } from "./api.js";

/**
 * The worker's URL through a Trusted Types policy of its own (`require-trusted-types-for
 * 'script'` makes `new Worker` take only trusted URLs): the worker is the client's own file,
 * found through the import map, and the policy passes nothing else.
 */
const workerPolicy = globalThis.trustedTypes
  ? globalThis.trustedTypes.createPolicy("wani-worker", {
      createScriptURL: (/** @type {string} */ url) => {
        const u = new URL(url, location.href);
        if (u.origin !== location.origin || !/^\/app\/captcha-worker\.[0-9a-f]+\.js$/.test(u.pathname))
          throw new TypeError("not the captcha worker");
        return u.href;
      },
    })
  : null;

/** @returns {any} */
function workerUrl() {
  const url = import.meta.resolve("./captcha-worker.js");
  return workerPolicy ? workerPolicy.createScriptURL(url) : url;
}

/** A text picture as a blob: URL (the CSP allows `blob:` images, not `data:`). @param {string} data */
function pictureUrl(data) {
  const comma = data.indexOf(",");
  const bytes = Uint8Array.from(atob(data.slice(comma + 1)), (c) => c.charCodeAt(0));
  return URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
}

/** A wide picture shrinks to a phone's width. Set through the CSSOM, which the CSP allows, so
 * the reader's stylesheet does not grow for a captcha. */
const FIT = { maxWidth: "100%", height: "auto" };

/**
 * @typedef {{mode: "off"} | {mode: "pow", id: string, bits: number, expires_at: number} |
 *   {mode: "text", id: string, image: string, width: number, height: number, expires_at: number}} Challenge
 * @typedef {{board: string, prefix: string, active: boolean, round: number, error?: string}} Props
 *   `active`: the person has started writing; `round` changes when the challenge is spent (a post
 *   sent, or refused for its captcha), which fetches a new one; `error` is the server's refusal
 */

export class Captcha extends Component {
  /** @param {Props} props */
  constructor(props) {
    super(props);
    this.state = {
      /** @type {Challenge|null} */ challenge: null,
      /** @type {string} */ picture: "",
      /** @type {string} */ typed: "",
      /** Nonces tried so far. */ tried: 0,
      /** @type {string|null} */ nonce: null,
      /** @type {string} */ problem: "",
    };
    /** @type {Worker|null} */
    this.worker = null;
    /** @type {Promise<Challenge|null>|null} the challenge being fetched */
    this.fetching = null;
    /** @type {((nonce: string|null) => void)[]} who waits for the proof of work (null: it failed) */
    this.waiting = [];
    this.inputRef = { current: null };
  }

  componentDidMount() {
    if (this.props.active || this.props.round > 0) this.renew();
  }

  /** @param {Props} prev */
  componentDidUpdate(prev) {
    if (prev.round !== this.props.round) this.renew();
    else if (this.props.active && !prev.active && !this.state.challenge && !this.fetching) this.renew();
  }

  componentWillUnmount() {
    this.stop();
    if (this.state.picture) URL.revokeObjectURL(this.state.picture);
  }

  stop() {
    this.worker?.terminate();
    this.worker = null;
    // A post waiting for work that will not finish is let go, to send again.
    for (const done of this.waiting.splice(0)) done(null);
  }

  /** Drops the challenge in hand and fetches another. @returns {Promise<Challenge|null>} */
  renew() {
    this.stop();
    if (this.state.picture) URL.revokeObjectURL(this.state.picture);
    this.setState({ challenge: null, picture: "", typed: "", tried: 0, nonce: null, problem: "" });
    const fetching = get(`/api/boards/${this.props.board}/captcha`).then(
      (/** @type {Challenge} */ challenge) => {
        if (this.fetching !== fetching) return null;
        this.fetching = null;
        const picture = challenge.mode === "text" ? pictureUrl(challenge.image) : "";
        this.setState({ challenge, picture });
        if (challenge.mode === "pow") this.solve(challenge);
        return challenge;
      },
      (/** @type {any} */ e) => {
        if (this.fetching !== fetching) return null;
        this.fetching = null;
        this.setState({ problem: e.message });
        return null;
      },
    );
    this.fetching = fetching;
    return fetching;
  }

  /** Starts the proof of work. @param {{id: string, bits: number}} challenge */
  solve(challenge) {
    const worker = new Worker(workerUrl(), { type: "module" });
    this.worker = worker;
    worker.onmessage = (e) => {
      if (this.worker !== worker) return;
      if (e.data.nonce == null) return this.setState({ tried: e.data.tried });
      for (const done of this.waiting.splice(0)) done(e.data.nonce);
      this.stop();
      this.setState({ tried: e.data.tried, nonce: e.data.nonce });
    };
    worker.onerror = () => {
      this.stop();
      this.setState({ problem: "The proof of work could not run in this browser." });
    };
    worker.postMessage({ id: challenge.id, bits: challenge.bits });
  }

  /**
   * The fields a post carries: `null` when no captcha is needed, `false` when the post must
   * wait for the person (a text answer not typed, a challenge that could not be fetched).
   * @returns {Promise<{captcha_id: string, captcha_answer: string} | null | false>}
   */
  async answer() {
    let challenge = this.state.challenge;
    // An expired challenge would only be refused: fetch a fresh one first.
    if (!challenge || (challenge.mode !== "off" && challenge.expires_at * 1000 < Date.now() + 5000))
      challenge = await (this.fetching || this.renew());
    if (!challenge) return false;
    if (challenge.mode === "off") return null;
    if (challenge.mode === "text") {
      const typed = this.state.typed.trim();
      if (!typed) {
        this.setState({ problem: "Type the characters in the picture." });
        /** @type {HTMLInputElement|null} */ (this.inputRef.current)?.focus();
        return false;
      }
      return { captcha_id: challenge.id, captcha_answer: typed };
    }
    const id = challenge.id;
    const nonce = this.state.nonce ?? (await new Promise((done) => this.waiting.push(done)));
    return nonce == null ? false : { captcha_id: id, captcha_answer: nonce };
  }

  /** @param {Props} props @param {any} s */
  render(props, s) {
    const c = /** @type {Challenge|null} */ (s.challenge);
    const id = `${props.prefix}-captcha`;
    const message = s.problem || props.error;
    const error = message ? html`<p class="field-error" id=${id + "-error"} role="alert">${message}</p>` : null;
    if (!c)
      return html`<div class="captcha">
        <p class="hint" id=${id + "-status"} role="status">${
          this.fetching ? "Fetching a captcha…" : "This board asks for a captcha; it appears when you start writing."
        }</p>${error}</div>`;
    if (c.mode === "off") return html`<div class="captcha">${error}</div>`;
    if (c.mode === "pow") {
      const expected = 2 ** c.bits;
      // The work is a lottery: show the share of the expected tries, never quite full until done.
      const shown = s.nonce != null ? 1 : Math.min(0.95, s.tried / expected);
      return html`<div class="captcha progress">
        <progress value=${shown} max="1" aria-label="Captcha: proof of work" aria-describedby=${id + "-status"}></progress>
        <span id=${id + "-status"} role="status">${s.nonce != null ? "Captcha solved." : "Solving the captcha…"}</span>
      </div>${error}`;
    }
    return html`<div class="captcha">
      <img src=${s.picture} width=${c.width} height=${c.height} alt="Captcha: characters to type" style=${FIT} />
      <div class="form-row">
        <label for=${id}>Captcha</label>
        <input id=${id} name="captcha" ref=${this.inputRef} autocomplete="off" autocapitalize="characters" spellcheck="false"
          value=${s.typed} aria-invalid=${message ? "true" : undefined} aria-describedby=${message ? id + "-error" : undefined}
          onInput=${(/** @type {any} */ e) => this.setState({ typed: e.target.value, problem: "" })} />
        <button type="button" onClick=${() => this.renew()}>New challenge</button>
      </div>
      ${error}
    </div>`;
  }
}
