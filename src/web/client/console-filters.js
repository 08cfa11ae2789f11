// The word filters of a board (or the global ones) and the file bans of a board, on the boards
// page: listing, creating, editing and deleting filters with the server's errors beside each
// field, and lifting file bans.

import { html, useState, useEffect } from "./preact-htm.js";
import { get, send } from "./api.js";
import { Field, FormError, useForm } from "./console.js";
import { exact } from "./util.js";

const ACTIONS = [
  ["replace", "Replace the words"],
  ["reject", "Refuse the post"],
  ["reject_and_ban", "Refuse the post and ban the poster"],
];
const POST_FIELDS = ["name", "subject", "body", "file_name"];
const FORM_FIELDS = ["pattern", "regex", "action", "replacement", "message", "ban_secs", "fields"];

/** The filter the form describes, as the API takes it. @param {HTMLFormElement} form @param {string} action */
function filterOf(form, action) {
  const control = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  /** @type {Record<string, any>} */
  const body = {
    pattern: control("pattern").value,
    regex: control("regex").checked,
    action,
    fields: POST_FIELDS.filter((f) => control(`field-${f}`).checked),
  };
  if (action === "replace") body.replacement = control("replacement").value;
  else body.message = control("message").value;
  if (action === "reject_and_ban") {
    // A number that does not parse goes as typed, for the server to name the field.
    const raw = control("ban_secs").value.trim();
    body.ban_secs = /^\d+$/.test(raw) ? Number(raw) : raw;
  }
  return body;
}

/**
 * A filter's form: new when `filter` is absent. The fields the chosen action takes show as it
 * changes.
 * @param {{base: string, filter?: any, onDone: () => void, onCancel?: () => void}} p
 */
function FilterForm({ base, filter, onDone, onCancel }) {
  const { errors, busy, run } = useForm(FORM_FIELDS);
  const [action, setAction] = useState(filter?.action ?? "reject");
  const prefix = filter ? `filter-${filter.id}` : "filter-new";
  /** @param {SubmitEvent} e */
  const submit = (e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.currentTarget);
    const body = filterOf(form, action);
    run(async () => {
      await send("POST", filter ? `${base}/${filter.id}` : base, body);
      onDone();
    });
  };
  /** @param {Event} e */
  const changed = (e) => {
    const target = /** @type {HTMLSelectElement} */ (e.target);
    if (target.name === "action") setAction(target.value);
  };
  const fieldsError = errors.fields ? `${prefix}-fields-error` : undefined;
  return html`<form class="console-form" onSubmit=${submit} onChange=${changed} noValidate
      aria-label=${filter ? `Edit the filter ${filter.pattern}` : "New filter"}>
    <${Field} prefix=${prefix} label="Words or pattern" name="pattern" value=${filter?.pattern} errors=${errors} />
    <${Field} prefix=${prefix} label="A regular expression" name="regex" type="checkbox" value=${filter?.regex} errors=${errors} />
    <${Field} prefix=${prefix} label="Action" name="action" type="select" value=${action} options=${ACTIONS} errors=${errors} />
    ${
      action === "replace"
        ? html`<${Field} prefix=${prefix} label="Replacement" name="replacement" value=${filter?.replacement} errors=${errors} />`
        : html`<${Field} prefix=${prefix} label="Message to the poster" name="message" value=${filter?.message} errors=${errors} />`
    }
    ${
      action === "reject_and_ban"
        ? html`<${Field} prefix=${prefix} label="Ban length (seconds)" name="ban_secs" value=${filter?.ban_secs ?? 86400}
            inputmode="numeric" errors=${errors} hint="From 60 seconds to a year (31536000)." />`
        : null
    }
    <fieldset class="field" aria-describedby=${fieldsError}>
      <legend>Looks in</legend>
      ${POST_FIELDS.map(
        (f) => html`<label class="inline"><input type="checkbox" name=${`field-${f}`}
          defaultChecked=${filter ? filter.fields.includes(f) : true} /> ${f.replace("_", " ")}</label> `,
      )}
      ${errors.fields ? html`<p class="field-error" id=${fieldsError} role="alert">${errors.fields}</p>` : null}
    </fieldset>
    <${FormError} errors=${errors} />
    <div class="actions">
      <button class="primary" disabled=${busy}>${filter ? "Save the filter" : "Add the filter"}</button>
      ${onCancel ? html`<button type="button" onClick=${onCancel}>Cancel</button>` : null}
    </div>
  </form>`;
}

/** What a filter does, in a few words. @param {any} f */
function does(f) {
  if (f.action === "replace") return `replaced with “${f.replacement}”`;
  const refuse = `refused: “${f.message}”`;
  return f.action === "reject" ? refuse : `${refuse}, and a ban of ${f.ban_secs} s`;
}

/**
 * The word filters of one board, or (`board` null) the global ones.
 * @param {{board: string | null}} p
 */
export function Filters({ board }) {
  const base = board ? `/api/boards/${board}/filters` : "/api/filters";
  const { errors, run } = useForm([]);
  /** @type {[any[] | null, (v: any[]) => void]} */
  const [filters, setFilters] = useState(null);
  const [editing, setEditing] = useState(/** @type {number | null} */ (null));
  const [added, setAdded] = useState(0);
  const load = () =>
    run(async () => {
      setFilters((await get(base)).filters);
    });
  useEffect(() => {
    load();
  }, [base]);
  /** @param {any} f */
  const remove = (f) =>
    run(async () => {
      await send("DELETE", `${base}/${f.id}`, undefined);
      setEditing(null);
      setFilters((await get(base)).filters);
    });
  const title = board ? "Word filters" : "Global word filters";
  return html`<section aria-labelledby="h-filters">
    <h2 id="h-filters">${title}</h2>
    <${FormError} errors=${errors} />
    ${
      filters && !filters.length
        ? html`<p>No filters${board ? " on this board" : ""} yet.</p>`
        : html`<ul class="rows filters">
          ${(filters ?? []).map((f) =>
            editing === f.id
              ? html`<li key=${f.id} class="filter-edit">
                  <${FilterForm} base=${base} filter=${f}
                    onDone=${() => {
                      setEditing(null);
                      load();
                    }}
                    onCancel=${() => setEditing(null)} />
                </li>`
              : html`<li key=${f.id} class="row filter">
                  <span><code>${f.pattern}</code>${f.regex ? " (regular expression)" : ""} in ${f.fields.map((/** @type {string} */ x) => x.replace("_", " ")).join(", ")}: ${does(f)}</span>
                  <span class="row-actions">
                    <button type="button" onClick=${() => setEditing(f.id)} aria-label=${`Edit the filter ${f.pattern}`}>Edit</button>
                    <button type="button" onClick=${() => remove(f)} aria-label=${`Delete the filter ${f.pattern}`}>Delete</button>
                  </span>
                </li>`,
          )}
        </ul>`
    }
    <h3>New filter</h3>
    <${FilterForm} key=${added} base=${base}
      onDone=${() => {
        setAdded(added + 1);
        load();
      }} />
  </section>`;
}

/**
 * The file bans of one board: the hash, whether near-duplicates are refused too, the public
 * reason and who banned it, with a button to lift each.
 * @param {{board: string}} p
 */
export function FileBans({ board }) {
  const base = `/api/boards/${board}/file-bans`;
  const { errors, run } = useForm([]);
  /** @type {[any[] | null, (v: any[]) => void]} */
  const [bans, setBans] = useState(null);
  const [next, setNext] = useState(/** @type {string | null} */ (null));
  const [status, setStatus] = useState("");
  const load = () =>
    run(async () => {
      const r = await get(base);
      setBans(r.file_bans);
      setNext(r.next);
    });
  useEffect(() => {
    load();
  }, [base]);
  const more = () =>
    run(async () => {
      const r = await get(`${base}?after=${next}`);
      setBans([...(bans ?? []), ...r.file_bans]);
      setNext(r.next);
    });
  /** @param {any} ban */
  const lift = (ban) =>
    run(async () => {
      await send("DELETE", `${base}/${ban.sha256}`, undefined);
      setStatus(`Lifted the ban of ${ban.sha256.slice(0, 12)}…`);
      await load();
    });
  return html`<section aria-labelledby="h-file-bans">
    <h2 id="h-file-bans">File bans</h2>
    <p>Files are banned from a post's menu; a ban here holds on this board only.</p>
    <${FormError} errors=${errors} />
    ${status ? html`<p role="status">${status}</p>` : null}
    ${
      bans && !bans.length
        ? html`<p>No files are banned on this board.</p>`
        : html`<ul class="bans file-bans">
          ${(bans ?? []).map(
            (b) => html`<li key=${b.sha256} class="ban file-ban">
              <dl class="ban-terms">
                <dt>SHA-256</dt><dd><code>${b.sha256}</code></dd>
                <dt>Refuses</dt><dd>${b.dhash ? "the file and near-duplicates" : "this exact file"}</dd>
                <dt>Reason</dt><dd>${b.reason ?? "none given"}</dd>
                <dt>By</dt><dd>${b.actor}, ${exact(b.created_at)}</dd>
              </dl>
              <button type="button" onClick=${() => lift(b)} aria-label=${`Lift the ban of ${b.sha256.slice(0, 12)}`}>Lift</button>
            </li>`,
          )}
        </ul>`
    }
    ${next ? html`<button type="button" onClick=${more}>More file bans</button>` : null}
  </section>`;
}
