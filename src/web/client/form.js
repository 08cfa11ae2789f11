// The post form: new threads on board pages, replies in threads, and the same form floating as
// the quick-reply box. Files by picker, drop or paste, each with a preview and a spoiler
// toggle; upload progress with cancel; the server's errors beside the field they name.

import { html, Component } from "./preact-htm.js";
import { upload, get } from "./api.js";
import { store } from "./store.js";
import { size } from "./util.js";

/**
 * @typedef {{board: any, thread?: number, floating?: boolean, closed?: string|null,
 *   onClose?: () => void, onPosted: (answer: {board: string, thread: number, no: number}) => void}} Props
 * @typedef {{file: File, url: string, spoiler: boolean}} Picked
 */

/** Fields the server may name in `error.field`; anything else is shown above the button. */
const FIELDS = ["name", "subject", "body", "file", "sage", "email"];

/** The server's refusals of a post's captcha, shown at the captcha, which then fetches another. */
const CAPTCHA_CODES = ["captcha_required", "captcha_failed"];

export class PostForm extends Component {
  /** @param {Props} props */
  constructor(props) {
    super(props);
    this.state = {
      name: store.name,
      subject: "",
      body: "",
      sage: false,
      /** @type {Picked[]} */ files: [],
      /** @type {Record<string, string>} */ errors: {},
      /** @type {{sent: number, total: number} | null} */ progress: null,
      dragging: false,
      /** The ban notice (loaded on demand) and the bans it shows. @type {{Notice: any, bans: any[]} | null} */
      ban: null,
      /** The captcha's component (`captcha.js`), loaded once the board asks for one. @type {any} */ Captcha: null,
      /** How many captcha challenges this form has spent. */ captchaRound: 0,
      solving: false,
    };
    /** Whether this page view asked `GET /api/bans/mine` already. */
    this.banAsked = false;
    this.captchaRef = { current: /** @type {any} */ (null) };
    this.bodyRef = { current: null };
    /** @type {null | (() => void)} */
    this.cancel = null;
  }

  /** Inserts `>>no` at the cursor and focuses the body. @param {number} no */
  insertQuote(no) {
    const area = /** @type {HTMLTextAreaElement|null} */ (this.bodyRef.current);
    const text = `>>${no}\n`;
    const body = /** @type {string} */ (this.state.body);
    const at = area ? area.selectionStart : body.length;
    const end = area ? area.selectionEnd : body.length;
    const before = body.slice(0, at);
    const insert = (before && !before.endsWith("\n") ? "\n" : "") + text;
    this.setState({ body: before + insert + body.slice(end) }, () => {
      if (area) {
        area.focus();
        area.selectionStart = area.selectionEnd = at + insert.length;
      }
    });
  }

  componentDidMount() {
    if (this.props.board.captcha && this.props.board.captcha !== "off") this.loadCaptcha();
  }

  loadCaptcha() {
    if (!this.state.Captcha) import("./captcha.js").then((m) => this.setState({ Captcha: m.Captcha }));
  }

  focus() {
    /** @type {HTMLTextAreaElement|null} */ (this.bodyRef.current)?.focus();
  }

  /** On the form's first use in a page view, asks whether this client is banned here. */
  onFocusIn = () => {
    if (this.banAsked) return;
    this.banAsked = true;
    get("/api/bans/mine").then(
      (r) => r.banned && this.showBans(r.bans),
      () => {},
    );
  };

  /** Shows the bans that cover this board, with the notice module loaded only now. @param {any[]} bans */
  async showBans(bans) {
    const here = bans.filter((b) => b.board == null || b.board === this.props.board.slug);
    if (!here.length) return;
    const { BanNotice } = await import("./ban-notice.js");
    this.setState({ ban: { Notice: BanNotice, bans: here } });
  }

  /** @param {Iterable<File>} list */
  addFiles(list) {
    const max = this.props.board.max_files;
    const files = [...this.state.files];
    for (const file of list) {
      if (files.length >= max) {
        this.setState({ errors: { ...this.state.errors, file: `At most ${max} files per post.` } });
        break;
      }
      files.push({ file, url: URL.createObjectURL(file), spoiler: false });
    }
    this.setState({ files });
  }

  /** @param {number} i */
  removeFile(i) {
    const files = [...this.state.files];
    URL.revokeObjectURL(files[i].url);
    files.splice(i, 1);
    this.setState({ files, errors: { ...this.state.errors, file: undefined } });
  }

  /** @param {SubmitEvent} e */
  submit = async (e) => {
    e.preventDefault();
    if (this.cancel || this.state.solving) return;
    /** @type {Record<string, string> | null | false} */
    let captcha = null;
    if (this.captchaRef.current) {
      this.setState({ solving: true, errors: {} });
      captcha = await this.captchaRef.current.answer();
      this.setState({ solving: false });
      if (captcha === false) return;
    }
    const { board, thread } = this.props;
    const s = this.state;
    const form = new FormData();
    if (s.name) form.append("name", s.name);
    if (!thread && s.subject) form.append("subject", s.subject);
    if (s.body) form.append("body", s.body);
    if (s.sage) form.append("sage", "true");
    form.append("password", store.password());
    // Before any file: the server checks the captcha before reading one.
    for (const [field, value] of Object.entries(captcha || {})) form.append(field, value);
    s.files.forEach((/** @type {Picked} */ f, /** @type {number} */ i) => {
      form.append("file", f.file, f.file.name);
      if (f.spoiler) form.append("spoiler", String(i));
    });
    store.setName(s.name);
    const path = thread ? `/api/boards/${board.slug}/threads/${thread}/posts` : `/api/boards/${board.slug}/threads`;
    const total = s.files.reduce((/** @type {number} */ n, /** @type {Picked} */ f) => n + f.file.size, 0);
    const sending = upload(path, form, (sent, all) => {
      if (total > 0) this.setState({ progress: { sent, total: all } });
    });
    this.cancel = sending.cancel;
    this.setState({ errors: {}, progress: total > 0 ? { sent: 0, total } : null });
    sending.done.then(
      (answer) => {
        this.cancel = null;
        store.addYou(answer.board, answer.no);
        for (const f of this.state.files) URL.revokeObjectURL(f.url);
        const round = s.captchaRound + (captcha ? 1 : 0);
        this.setState({ subject: "", body: "", files: [], progress: null, errors: {}, captchaRound: round });
        this.props.onPosted(answer);
      },
      (err) => {
        this.cancel = null;
        if (err.code === "banned" && err.ban) {
          this.banAsked = true;
          // The refused post spent its captcha challenge, if it carried one.
          this.setState({ progress: null, errors: {}, captchaRound: this.state.captchaRound + (captcha ? 1 : 0) });
          return this.showBans([err.ban]);
        }
        const refused = CAPTCHA_CODES.includes(err.code);
        if (refused) this.loadCaptcha();
        const field = refused ? "captcha" : FIELDS.includes(err.field) ? err.field : "_";
        // A challenge is spent by any post that carried it; a refusal also asks for one.
        if (captcha || refused) this.setState({ captchaRound: this.state.captchaRound + 1 });
        // Sending disabled the button, which took the focus: give it to the field at fault.
        this.setState({ progress: null, errors: { [field]: err.message } }, () => {
          const form = /** @type {HTMLTextAreaElement|null} */ (this.bodyRef.current)?.form;
          const input = /** @type {HTMLElement|null} */ (
            form?.querySelector(`[name="${field}"]`) || form?.querySelector("textarea")
          );
          input?.focus();
        });
      },
    );
  };

  /** @param {string} field */
  error(field) {
    const message = this.state.errors[field];
    return message ? html`<p class="field-error" id=${this.errorId(field)} role="alert">${message}</p>` : null;
  }

  /** @param {string} field */
  errorId(field) {
    return `${this.props.thread ? "reply" : "thread"}-${field}-error`;
  }

  /** @param {Props} props @param {any} s */
  render(props, s) {
    const { board, thread, floating, closed } = props;
    const prefix = thread ? "reply" : "thread";
    const chars = [...s.body].length;
    const over = chars > board.max_body_chars;
    if (closed) return html`<p class="closed-note" role="status">${closed}</p>`;
    /** @param {string} field */
    const described = (field) => (s.errors[field] ? this.errorId(field) : undefined);
    // The wrapper's element type never changes, so floating the form keeps what was typed.
    return html`<section class=${"form-wrap" + (floating ? " floating" : "")} role=${floating ? "dialog" : undefined}
      aria-label=${floating ? "Quick reply" : undefined}>
      ${s.ban ? html`<${s.ban.Notice} bans=${s.ban.bans} prefix=${prefix} />` : null}
      <form class=${"post-form" + (s.dragging ? " dragging" : "")}
      aria-label=${thread ? "Reply" : "New thread"}
      onSubmit=${this.submit}
      onfocusin=${this.onFocusIn}
      onPaste=${(/** @type {ClipboardEvent} */ e) => {
        const files = e.clipboardData ? [...e.clipboardData.files] : [];
        if (files.length) {
          e.preventDefault();
          this.addFiles(files);
        }
      }}
      onDragOver=${(/** @type {DragEvent} */ e) => {
        e.preventDefault();
        if (!s.dragging) this.setState({ dragging: true });
      }}
      onDragLeave=${() => this.setState({ dragging: false })}
      onDrop=${(/** @type {DragEvent} */ e) => {
        e.preventDefault();
        this.setState({ dragging: false });
        if (e.dataTransfer) this.addFiles(e.dataTransfer.files);
      }}
      onKeyDown=${(/** @type {KeyboardEvent} */ e) => {
        if (e.key === "Escape" && floating && props.onClose) props.onClose();
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) this.submit(/** @type {any} */ (e));
      }}>
      <h2 class="form-title">${thread ? (floating ? "Quick reply" : "Reply") : "New thread"}
        ${floating ? html`<button type="button" class="close" aria-label="Close quick reply" onClick=${props.onClose}>×</button>` : null}
      </h2>
      ${
        board.forced_anon
          ? null
          : html`<label for=${prefix + "-name"}>Name</label>
        <input id=${prefix + "-name"} name="name" autocomplete="nickname" maxlength=${board.max_name_chars + 130}
          placeholder="Anonymous" value=${s.name} aria-invalid=${s.errors.name ? "true" : undefined}
          aria-describedby=${described("name")}
          onInput=${(/** @type {any} */ e) => this.setState({ name: e.target.value })} />
        ${this.error("name")}`
      }
      ${
        thread
          ? null
          : html`<label for=${prefix + "-subject"}>Subject</label>
        <input id=${prefix + "-subject"} name="subject" value=${s.subject}
          aria-invalid=${s.errors.subject ? "true" : undefined} aria-describedby=${described("subject")}
          onInput=${(/** @type {any} */ e) => this.setState({ subject: e.target.value })} />
        ${this.error("subject")}`
      }
      <label for=${prefix + "-body"}>Comment</label>
      <textarea id=${prefix + "-body"} name="body" rows="5" ref=${this.bodyRef} value=${s.body}
        aria-invalid=${s.errors.body ? "true" : undefined} aria-describedby=${described("body") || prefix + "-count"}
        onInput=${(/** @type {any} */ e) => this.setState({ body: e.target.value })}></textarea>
      <p class=${"count" + (over ? " over" : "")} id=${prefix + "-count"}>${chars} / ${board.max_body_chars}</p>
      ${this.error("body")}
      <div class="form-row">
        <label class="check"><input type="checkbox" name="sage" checked=${s.sage}
          onChange=${(/** @type {any} */ e) => this.setState({ sage: e.target.checked })} /> Sage</label>
        <label class="file-pick">Add files
          <input type="file" multiple accept="image/*,video/webm,video/mp4" name="file"
            onChange=${(/** @type {any} */ e) => {
              this.addFiles(e.target.files);
              e.target.value = "";
            }} /></label>
        <span class="hint">or drop or paste up to ${board.max_files}</span>
      </div>
      ${
        s.files.length
          ? html`<ul class="picked">${s.files.map(
              (/** @type {Picked} */ f, /** @type {number} */ i) => html`<li key=${f.url}>
            ${
              f.file.type.startsWith("video/")
                ? html`<video src=${f.url} muted aria-label=${"Preview of " + f.file.name}></video>`
                : html`<img src=${f.url} alt=${"Preview of " + f.file.name} />`
            }
            <span class="picked-name">${f.file.name}</span> <span>${size(f.file.size)}</span>
            <label class="check"><input type="checkbox" checked=${f.spoiler}
              onChange=${(/** @type {any} */ e) => {
                const files = [...s.files];
                files[i] = { ...f, spoiler: e.target.checked };
                this.setState({ files });
              }} /> Spoiler</label>
            <button type="button" aria-label=${"Remove " + f.file.name} onClick=${() => this.removeFile(i)}>Remove</button>
          </li>`,
            )}</ul>`
          : null
      }
      ${this.error("file")}
      ${
        s.progress
          ? html`<div class="progress"><progress value=${s.progress.sent} max=${s.progress.total}
              aria-label="Upload progress"></progress>
            <span>${size(s.progress.sent)} of ${size(s.progress.total)}</span>
            <button type="button" onClick=${() => this.cancel && this.cancel()}>Cancel</button></div>`
          : null
      }
      ${
        s.Captcha
          ? html`<${s.Captcha} ref=${this.captchaRef} board=${board.slug} prefix=${prefix} round=${s.captchaRound}
            active=${!!(s.body || s.subject || s.files.length)} error=${s.errors.captcha} />`
          : null
      }
      ${this.error("_")}
      <button type="submit" class="primary" disabled=${!!this.cancel || s.solving}>${thread ? "Post reply" : "Create thread"}</button>
    </form></section>`;
  }
}
