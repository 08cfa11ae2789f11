// The console's entry, loaded only on its paths: log in, sign up, reset a password, and the
// frame of the pages for logged-in people (account, boards, staff), whose modules load on demand.

import { html, useState, useEffect } from "./preact-htm.js";
import { send, setCsrf, ApiError } from "./api.js";

// The console's stylesheet, added when the console first loads; the module finishes loading
// once it has (or failed), so no page of the console paints unstyled.
{
  const sheet = document.createElement("link");
  sheet.rel = "stylesheet";
  sheet.href = import.meta.resolve("./console.css");
  await new Promise((done) => {
    sheet.onload = sheet.onerror = done;
    document.head.append(sheet);
  });
}

/** Changes the page as a link would, through the app's history routing. @param {string} path */
export function navigate(path) {
  history.pushState(null, "", path);
  dispatchEvent(new PopStateEvent("popstate"));
}

/** @typedef {Record<string, string>} Errors field name → the server's message; "" for the form */

/**
 * A form's errors and busy state, and `run`, which sends and maps a refusal to the field it names
 * (or to the form when the field is not one of `fields`).
 * @param {string[]} fields
 */
export function useForm(fields) {
  const [errors, setErrors] = useState(/** @type {Errors} */ ({}));
  const [busy, setBusy] = useState(false);
  /** @param {() => Promise<any>} fn @returns {Promise<boolean>} whether it succeeded */
  const run = async (fn) => {
    // The form being sent, to move the focus to the field the server names.
    const form = /** @type {HTMLElement|null} */ (document.activeElement)?.closest("form");
    setBusy(true);
    setErrors({});
    try {
      await fn();
      return true;
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(0, "error", String(e), null);
      const at = error.field && fields.includes(error.field) ? error.field : "";
      setErrors({ [at]: error.message });
      if (at && form)
        requestAnimationFrame(() =>
          /** @type {HTMLElement|null} */ (form.querySelector("[aria-invalid=true]"))?.focus(),
        );
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { errors, busy, run, setErrors };
}

/**
 * A labelled control with the server's error beside it. Uncontrolled: what is typed stays when
 * the form re-renders after an error.
 * @param {{label: string, name: string, errors: Errors, prefix?: string, type?: string,
 *   value?: any, autocomplete?: string, hint?: string, options?: string[][], inputmode?: string}} p
 */
export function Field(p) {
  const id = `${p.prefix || "f"}-${p.name}`;
  const error = p.errors[p.name];
  const hintId = p.hint ? `${id}-hint` : "";
  const errorId = error ? `${id}-error` : "";
  const common = {
    id,
    name: p.name,
    "aria-invalid": error ? "true" : undefined,
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" ") || undefined,
  };
  let control;
  if (p.type === "textarea") control = html`<textarea ...${common} rows="4" defaultValue=${p.value ?? ""}></textarea>`;
  else if (p.type === "checkbox") control = html`<input ...${common} type="checkbox" defaultChecked=${!!p.value} />`;
  else if (p.type === "select")
    control = html`<select ...${common}>
      ${(p.options || []).map(([value, label]) => html`<option value=${value} selected=${value === p.value}>${label}</option>`)}
    </select>`;
  else
    control = html`<input ...${common} type=${p.type || "text"} defaultValue=${p.value ?? ""}
      autocomplete=${p.autocomplete} inputmode=${p.inputmode} />`;
  return html`<div class=${p.type === "checkbox" ? "field check" : "field"}>
    <label for=${id}>${p.label}</label>${control}
    ${p.hint ? html`<small id=${hintId}>${p.hint}</small>` : null}
    ${error ? html`<p class="field-error" id=${errorId} role="alert">${error}</p>` : null}
  </div>`;
}

/** The form's own error (one not about a field). @param {{errors: Errors}} p */
export function FormError({ errors }) {
  return errors[""] ? html`<p class="field-error" role="alert">${errors[""]}</p>` : null;
}

/** @param {SubmitEvent} e @returns {Record<string, string>} */
export function values(e) {
  e.preventDefault();
  const out = /** @type {Record<string, string>} */ ({});
  new FormData(/** @type {HTMLFormElement} */ (e.currentTarget)).forEach((v, k) => (out[k] = String(v)));
  return out;
}

const roleNames = /** @type {Record<string, string>} */ ({
  admin: "admin",
  global_mod: "global moderator",
  board_mod: "board moderator",
  janitor: "janitor",
  user: "user",
});
/** @param {string} role */
export const roleName = (role) => roleNames[role] || role;

/** @param {{user: any, onUser: (u: any) => void}} p */
function Login({ user, onUser }) {
  const { errors, busy, run } = useForm(["username", "password", "totp"]);
  const [needsCode, setNeedsCode] = useState(false);
  if (user) return html`<${LoggedIn} user=${user} />`;
  /** @param {SubmitEvent} e */
  const submit = (e) => {
    const v = values(e);
    run(async () => {
      try {
        const body = { username: v.username, password: v.password, ...(needsCode ? { totp: v.totp } : {}) };
        const r = await send("POST", "/auth/login", body);
        setCsrf(r.csrf);
        onUser(r.user);
        navigate(r.user.role === "user" ? "/account" : "/admin");
      } catch (error) {
        if (error instanceof ApiError && error.code === "totp_required") {
          setNeedsCode(true);
          throw new ApiError(403, error.code, "Enter the code from your authenticator app.", "totp");
        }
        throw error;
      }
    });
  };
  return html`<main id="main" class="console narrow">
    <h1>Log in</h1>
    <form class="console-form" onSubmit=${submit} noValidate>
      <${Field} label="Username" name="username" errors=${errors} autocomplete="username" />
      <${Field} label="Password" name="password" type="password" errors=${errors} autocomplete="current-password" />
      ${
        needsCode
          ? html`<${Field} label="Authenticator code (or a recovery code)" name="totp" errors=${errors}
            autocomplete="one-time-code" inputmode="numeric" />`
          : null
      }
      <${FormError} errors=${errors} />
      <button class="primary" disabled=${busy}>Log in</button>
    </form>
    <p>No account? <a href="/signup">Sign up</a> (when this site allows it).</p>
  </main>`;
}

/** @param {{user: any, onUser: (u: any) => void}} p */
function Signup({ user, onUser }) {
  const { errors, busy, run } = useForm(["username", "password"]);
  if (user) return html`<${LoggedIn} user=${user} />`;
  /** @param {SubmitEvent} e */
  const submit = (e) => {
    const v = values(e);
    run(async () => {
      const r = await send("POST", "/auth/signup", { username: v.username, password: v.password });
      setCsrf(r.csrf);
      onUser(r.user);
      navigate("/account");
    });
  };
  return html`<main id="main" class="console narrow">
    <h1>Sign up</h1>
    <p>Posting needs no account; accounts are for staff, and for users when this site opens signup.</p>
    <form class="console-form" onSubmit=${submit} noValidate>
      <${Field} label="Username" name="username" errors=${errors} autocomplete="username" />
      <${Field} label="Password" name="password" type="password" errors=${errors} autocomplete="new-password"
        hint="At least 8 characters, not a common password." />
      <${FormError} errors=${errors} />
      <button class="primary" disabled=${busy}>Sign up</button>
    </form>
    <p>Have an account? <a href="/login">Log in</a>.</p>
  </main>`;
}

/** `/reset#<token>`: the link an admin hands over. The token stays in the fragment, never sent in a URL. */
function Reset() {
  const { errors, busy, run } = useForm(["password"]);
  const [done, setDone] = useState("");
  /** @param {SubmitEvent} e */
  const submit = (e) => {
    const v = values(e);
    run(async () => {
      const r = await send("POST", "/auth/reset", { token: location.hash.slice(1), password: v.password });
      setDone(r.reset);
    });
  };
  return html`<main id="main" class="console narrow">
    <h1>Choose a new password</h1>
    ${
      done
        ? html`<p role="status">The password of ${done} is changed. <a href="/login">Log in</a>.</p>`
        : html`<form class="console-form" onSubmit=${submit} noValidate>
          <${Field} label="New password" name="password" type="password" errors=${errors} autocomplete="new-password" />
          <${FormError} errors=${errors} />
          <button class="primary" disabled=${busy}>Set the password</button>
        </form>`
    }
  </main>`;
}

/** @param {{user: any}} p */
function LoggedIn({ user }) {
  return html`<main id="main" class="console narrow">
    <h1>Logged in</h1>
    <p>You are logged in as ${user.username} (${roleName(user.role)}).</p>
    <p>${user.role !== "user" ? html`<a href="/admin">The console</a> · ` : null}<a href="/account">Your account</a></p>
  </main>`;
}

/** The console's pages for logged-in people, with the modules that draw them. */
const PAGES =
  /** @type {Record<string, {title: string, staff: boolean, admin: boolean, load: () => Promise<any>}>} */ ({
    "/account": { title: "Account", staff: false, admin: false, load: () => import("./console-account.js") },
    "/admin": { title: "Console", staff: true, admin: false, load: () => import("./console-dashboard.js") },
    "/admin/boards": { title: "Boards", staff: true, admin: false, load: () => import("./console-boards.js") },
    "/admin/users": { title: "Staff", staff: true, admin: true, load: () => import("./console-users.js") },
    "/admin/bans": { title: "Bans", staff: true, admin: false, load: () => import("./console-bans.js") },
    "/admin/log": { title: "Staff log", staff: true, admin: false, load: () => import("./console-log.js") },
    "/admin/reports": { title: "Reports", staff: true, admin: false, load: () => import("./console-reports.js") },
  });

/**
 * The badge of reports waiting beside a link: nothing when none wait.
 * @param {{total: number} | null | undefined} reports
 */
function waiting(reports) {
  return reports?.total
    ? html` <span class="badge" aria-label=${`${reports.total} reported posts waiting`}>${reports.total}</span>`
    : null;
}

/**
 * The console's links; the dashboard module draws it above the figures.
 * @param {{user: any, reports?: {total: number} | null}} p
 */
export function Overview({ user, reports }) {
  return html`<h1>Console</h1>
    <p>Logged in as ${user.username} (${roleName(user.role)}${user.boards?.length ? `: /${user.boards.join("/, /")}/` : ""}).</p>
    <ul class="console-links">
      <li><a href="/admin/reports">Reports</a>: the posts readers reported${waiting(reports)}</li>
      <li><a href="/admin/boards">Boards</a>: settings, ${user.role === "admin" ? "creating and deleting boards" : "of the boards you moderate"}</li>
      ${user.role !== "janitor" ? html`<li><a href="/admin/bans">Bans</a>: search, lift, give by hand, answer appeals</li>` : null}
      ${user.role === "admin" ? html`<li><a href="/admin/users">Staff</a>: roles, boards, disabling, password resets</li>` : null}
      <li><a href="/admin/log">Staff log</a>: what staff did, with reasons and private notes</li>
      <li><a href="/account">Your account</a>: password, two-factor login, API tokens</li>
    </ul>`;
}

/** @param {{user: any, path: string, reports?: {total: number} | null}} p */
function ConsoleNav({ user, path, reports }) {
  /** @param {string} href @param {string} label @param {any} [extra] */
  const link = (href, label, extra = null) =>
    html`<a href=${href} aria-current=${path === href ? "page" : undefined}>${label}${extra}</a>`;
  return html`<nav class="console-nav" aria-label="Console">
    ${
      user.role !== "user"
        ? html`${link("/admin", "Overview")} ${link("/admin/reports", "Reports", waiting(reports))}
          ${link("/admin/boards", "Boards")}`
        : null
    }
    ${user.role !== "user" && user.role !== "janitor" ? link("/admin/bans", "Bans") : null}
    ${user.role === "admin" ? link("/admin/users", "Staff") : null}
    ${user.role !== "user" ? link("/admin/log", "Log") : null} ${link("/account", "Account")}
  </nav>`;
}

/**
 * Every console path. `user` is null for an anonymous visitor, who gets the login, signup and
 * reset pages and is sent to log in from the others.
 * @param {{path: string, search: string, user: any, boards: any[], reports?: any, onUser: (u: any) => void}} props
 */
export function ConsolePage(props) {
  const { path, user } = props;
  const [loaded, setLoaded] = useState(/** @type {{path: string, View: any} | null} */ (null));
  const page = PAGES[path];
  const allowed = page && user && (!page.staff || user.role !== "user") && (!page.admin || user.role === "admin");
  useEffect(() => {
    document.title = `${page ? page.title : path === "/signup" ? "Sign up" : "Log in"} – wani`;
    if (allowed && loaded?.path !== path) page.load().then((m) => setLoaded({ path, View: m.default }));
  }, [path, allowed]);
  if (path === "/login") return html`<${Login} ...${props} />`;
  if (path === "/signup") return html`<${Signup} ...${props} />`;
  if (path === "/reset") return html`<${Reset} />`;
  if (!user)
    return html`<main id="main" class="console narrow">
      <h1>${page.title}</h1>
      <p>This page is for logged-in staff and users. <a href="/login">Log in</a> first.</p>
    </main>`;
  if (!allowed)
    return html`<main id="main" class="console narrow">
      <h1>${page.title}</h1>
      <p>Your account (${roleName(user.role)}) cannot use this page.</p>
    </main>`;
  return html`<main id="main" class="console">
    <${ConsoleNav} user=${user} path=${path} reports=${props.reports} />
    ${loaded?.path === path ? html`<${loaded.View} ...${props} />` : html`<p aria-busy="true">Loading…</p>`}
  </main>`;
}
