// The boards page: the list, creating a board and the global word filters (admins), every
// setting of one board with the server's errors beside the field they name, its word filters and
// file bans, its recent log, and deleting it with the typed slug.

import { html, useState, useEffect } from "./preact-htm.js";
import { get, send } from "./api.js";
import { Field, FormError, useForm, values, navigate } from "./console.js";
import { exact } from "./util.js";
import { Filters, FileBans } from "./console-filters.js";

/** Every setting but the slug, in the order of the server's Board object, with how it is edited. */
const SETTINGS = /** @type {[string, string, string][]} */ ([
  ["title", "Title", "text"],
  ["description", "Description", "textarea"],
  ["bump_limit", "Bump limit (replies that bump)", "number"],
  ["thread_limit", "Thread limit (live threads)", "number"],
  ["threads_per_page", "Threads per index page", "number"],
  ["max_body_chars", "Longest comment (characters)", "number"],
  ["max_subject_chars", "Longest subject (characters)", "number"],
  ["max_name_chars", "Longest name (characters)", "number"],
  ["max_files", "Files per post", "number"],
  ["require_file", "A new thread needs a file", "checkbox"],
  ["allowed_types", "Allowed file types", "types"],
  ["max_file_bytes", "Largest file (bytes)", "number"],
  ["max_post_bytes", "Largest post (bytes)", "number"],
  ["max_image_width", "Widest image (pixels)", "number"],
  ["max_image_height", "Tallest image (pixels)", "number"],
  ["keep_file_names", "Keep file names", "checkbox"],
  ["forced_anon", "Forced anonymity (no names)", "checkbox"],
  ["poster_ids", "Poster ids", "checkbox"],
  ["delete_window_secs", "Posters may delete within (seconds)", "number"],
  ["archive_days", "Archive kept (days)", "number"],
  ["show_in_recent", "Show in recent posts", "checkbox"],
  ["max_quotes", "Quotes per post", "number"],
  ["max_replies", "Replies per thread", "number"],
  ["rules", "Rules (post markup)", "textarea"],
  ["nsfw", "Not safe for work", "checkbox"],
  ["cooldown_threads_secs", "Between new threads from one network (seconds)", "number"],
  ["cooldown_replies_secs", "Between replies from one network (seconds)", "number"],
  ["cooldown_images_secs", "Between replies with files from one network (seconds)", "number"],
  ["duplicate_window_secs", "Refuse a comment already posted within (seconds)", "number"],
  ["max_threads_per_minute", "New threads per minute from everyone (0: no cap)", "number"],
  ["public_log_names", "The public log names the staff account", "checkbox"],
  ["captcha", "Captcha", "select"],
]);
/** The captcha modes, as the server names them, with what each asks of posters. */
const CAPTCHA = [
  ["off", "Off"],
  ["pow", "Proof of work (the browser computes it)"],
  ["text", "Text (a picture of characters)"],
  ["auto", "Automatic (only while the board is busy)"],
];
const TYPES = ["jpeg", "png", "gif", "webp", "webm", "mp4"];
const FIELDS = ["confirm", ...SETTINGS.map(([name]) => name)];

/**
 * What the form changes of the board, read from the controls (not FormData, which would turn a
 * textarea's line breaks into CRLF). Numbers that do not parse are sent as typed, for the server
 * to name the field; file types compare as sets.
 * @param {any} board @param {HTMLFormElement} form
 */
function changes(board, form) {
  const control = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  /** @type {Record<string, any>} */
  const patch = {};
  for (const [name, , kind] of SETTINGS) {
    let value;
    let same;
    if (kind === "checkbox") value = control(name).checked;
    else if (kind === "types") {
      value = TYPES.filter((t) => control(`type-${t}`).checked);
      same = value.length === board[name].length && value.every((/** @type {string} */ t) => board[name].includes(t));
    } else if (kind === "number") {
      const raw = control(name).value.trim();
      value = /^\d+$/.test(raw) ? Number(raw) : raw;
    } else value = control(name).value;
    if (!(same ?? value === board[name])) patch[name] = value;
  }
  return patch;
}

/** What a log entry did, in a few words. @param {any} entry */
function logLine(entry) {
  if (entry.action === "board_update") return `changed ${Object.keys(entry.change).join(", ")}`;
  return entry.action === "board_create" ? "created" : entry.action.replace("board_", "").replaceAll("_", " ");
}

/** @param {{slug: string, user: any}} p */
function EditBoard({ slug, user }) {
  const { errors, busy, run } = useForm(FIELDS);
  const removal = useForm(["confirm"]);
  /** @type {[any, (v: any) => void]} */
  const [data, setData] = useState(null);
  const [status, setStatus] = useState("");
  const [version, setVersion] = useState(0);
  const load = () =>
    run(async () => {
      setData(await get(`/api/admin/boards/${slug}`));
    });
  useEffect(() => {
    load();
  }, [slug]);
  if (!data) return html`<${FormError} errors=${errors} />`;
  const board = data.board;
  /** @param {SubmitEvent} e */
  const save = (e) => {
    e.preventDefault();
    const patch = changes(board, /** @type {HTMLFormElement} */ (e.currentTarget));
    setStatus("");
    run(async () => {
      if (!Object.keys(patch).length) return setStatus("Nothing changed.");
      await send("POST", `/api/admin/boards/${slug}`, patch);
      setData(await get(`/api/admin/boards/${slug}`));
      setVersion(version + 1);
      setStatus(`Saved: ${Object.keys(patch).join(", ")}.`);
    });
  };
  /** @param {SubmitEvent} e */
  const remove = (e) => {
    const v = values(e);
    removal.run(async () => {
      await send("DELETE", `/api/admin/boards/${slug}`, { confirm: v.confirm });
      navigate("/admin/boards");
    });
  };
  /** @param {[string, string, string]} s */
  const field = ([name, label, kind]) => {
    if (kind !== "types")
      return html`<${Field} prefix="set" label=${label} name=${name} type=${kind} value=${board[name]} errors=${errors}
        inputmode=${kind === "number" ? "numeric" : undefined} options=${kind === "select" ? CAPTCHA : undefined} />`;
    return html`<fieldset class="field" aria-describedby=${errors[name] ? "set-allowed_types-error" : undefined}>
      <legend>${label}</legend>
      ${TYPES.map(
        (t) => html`<label class="inline"><input type="checkbox" name=${`type-${t}`}
          defaultChecked=${board.allowed_types.includes(t)} /> ${t}</label> `,
      )}
      ${errors[name] ? html`<p class="field-error" id="set-allowed_types-error" role="alert">${errors[name]}</p>` : null}
    </fieldset>`;
  };
  return html`<h1>/${slug}/ – ${board.title}</h1>
    <p><a href="/admin/boards">All boards</a> · <a href=${`/${slug}/`}>The board</a> · ${board.live_threads} live threads, last post No. ${board.last_no}</p>
    <form class="console-form settings" key=${version} onSubmit=${save} noValidate aria-labelledby="h-settings">
      <h2 id="h-settings">Settings</h2>
      ${SETTINGS.map(field)}
      <${FormError} errors=${errors} />
      <div class="actions">
        <button class="primary" disabled=${busy}>Save</button>
        ${status ? html`<span role="status">${status}</span>` : null}
      </div>
    </form>
    <${Filters} board=${slug} />
    <${FileBans} board=${slug} />
    ${
      data.log.length
        ? html`<section aria-labelledby="h-log">
          <h2 id="h-log">Recent changes</h2>
          <ul class="rows">
            ${data.log.map(
              (/** @type {any} */ entry) =>
                html`<li class="row"><span>${exact(entry.at)} · ${entry.actor ?? "config"} · ${logLine(entry)}</span></li>`,
            )}
          </ul>
        </section>`
        : null
    }
    ${
      user.role === "admin"
        ? html`<section aria-labelledby="h-delete" class="danger">
          <h2 id="h-delete">Delete this board</h2>
          <p>Its threads, posts and files go at once and for good; its post numbers are never given out again.</p>
          <form class="console-form" onSubmit=${remove} noValidate>
            <${Field} prefix="del" label=${`Type the slug (${slug}) to confirm`} name="confirm" errors=${removal.errors} />
            <${FormError} errors=${removal.errors} />
            <button disabled=${removal.busy}>Delete /${slug}/</button>
          </form>
        </section>`
        : null
    }`;
}

/** The form of a new board (admins). */
function NewBoard() {
  const { errors, busy, run } = useForm(["slug", "title", "description"]);
  /** @param {SubmitEvent} e */
  const submit = (e) => {
    const v = values(e);
    run(async () => {
      const r = await send("POST", "/api/admin/boards", { slug: v.slug, title: v.title, description: v.description });
      navigate(`/admin/boards?board=${r.board.slug}`);
    });
  };
  return html`<section aria-labelledby="h-new">
    <h2 id="h-new">New board</h2>
    <form class="console-form" onSubmit=${submit} noValidate>
      <${Field} prefix="new" label="Slug" name="slug" errors=${errors} hint="1 to 16 of a-z and 0-9; it cannot change." />
      <${Field} prefix="new" label="Title" name="title" errors=${errors} />
      <${Field} prefix="new" label="Description" name="description" errors=${errors} />
      <${FormError} errors=${errors} />
      <button class="primary" disabled=${busy}>Create the board</button>
    </form>
    <p>The other settings start at their defaults; change them once the board exists.</p>
  </section>`;
}

/** @param {{user: any, search: string}} props */
export default function Boards({ user, search }) {
  const slug = new URLSearchParams(search).get("board");
  const { errors, run } = useForm([]);
  /** @type {[any[] | null, (v: any[]) => void]} */
  const [boards, setBoards] = useState(null);
  const [deleting, setDeleting] = useState(/** @type {string[]} */ ([]));
  useEffect(() => {
    if (slug) return;
    run(async () => {
      if (user.role === "admin") {
        const r = await get("/api/admin/boards");
        setBoards(r.boards);
        setDeleting(r.deleting);
      } else {
        // Other staff may read and change only the boards they moderate.
        const r = await get("/api/boards");
        const mine = r.boards.filter(
          (/** @type {any} */ b) => user.role === "global_mod" || user.boards.includes(b.slug),
        );
        setBoards(mine);
      }
    });
  }, [slug]);
  if (slug) return html`<${EditBoard} key=${slug} slug=${slug} user=${user} />`;
  return html`<h1>Boards</h1>
    <${FormError} errors=${errors} />
    ${
      boards
        ? html`<ul class="rows">
          ${boards.map(
            (b) => html`<li class="row">
              <span><a href=${`/admin/boards?board=${b.slug}`}>/${b.slug}/ – ${b.title}</a>
                ${b.live_threads != null ? html` <span class="counts">${b.live_threads} threads, last No. ${b.last_no}</span>` : null}</span>
            </li>`,
          )}
          ${deleting.map((d) => html`<li class="row"><span>/${d}/ (being deleted)</span></li>`)}
        </ul>`
        : null
    }
    ${user.role === "admin" ? html`<${NewBoard} /><${Filters} board=${null} />` : null}`;
}
