// The account page: logging out, changing the password, the second factor (enrolment with a QR
// code, recovery codes shown once, turning it off) and API tokens (created, shown once, revoked).

import { html, useState, useEffect } from "./preact-htm.js";
import { get, send, setCsrf } from "./api.js";
import { Field, FormError, useForm, values, navigate, roleName } from "./console.js";
import qrcode from "./qrcode.js";
import { exact } from "./util.js";

/**
 * The `otpauth://` link as a QR code, drawn as SVG paths from the encoder's modules (no markup
 * from strings), dark on white whatever the theme, with the four-module quiet zone.
 * @param {{text: string}} p
 */
export function QrCode({ text }) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  let d = "";
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`;
  return html`<svg class="qr" viewBox=${`0 0 ${n + 8} ${n + 8}`} role="img"
    aria-label="QR code of the authenticator link" shape-rendering="crispEdges">
    <rect width=${n + 8} height=${n + 8} fill="#fff" /><path d=${d} fill="#000" />
  </svg>`;
}

/** @param {{onUser: (u: any) => void}} p */
function Password({ onUser }) {
  const { errors, busy, run } = useForm(["password", "new_password"]);
  const [done, setDone] = useState(false);
  /** @param {SubmitEvent} e */
  const submit = (e) => {
    const form = /** @type {HTMLFormElement} */ (e.currentTarget);
    const v = values(e);
    setDone(false);
    run(async () => {
      const r = await send("POST", "/auth/changePassword", { password: v.password, new_password: v.new_password });
      setCsrf(r.csrf);
      onUser(r.user);
      form.reset();
      setDone(true);
    });
  };
  return html`<section aria-labelledby="h-password">
    <h2 id="h-password">Password</h2>
    <form class="console-form" onSubmit=${submit} noValidate>
      <${Field} prefix="pw" label="Current password" name="password" type="password" errors=${errors}
        autocomplete="current-password" />
      <${Field} prefix="pw" label="New password" name="new_password" type="password" errors=${errors}
        autocomplete="new-password" hint="Your other sessions end; this one goes on." />
      <${FormError} errors=${errors} />
      <button class="primary" disabled=${busy}>Change the password</button>
      ${done ? html`<p role="status">The password is changed.</p>` : null}
    </form>
  </section>`;
}

function Totp() {
  const enrol = useForm([]);
  const confirm = useForm(["code"]);
  const disable = useForm(["password", "code"]);
  /** @type {[any, (v: any) => void]} */
  const [pending, setPending] = useState(null);
  /** @type {[string[] | null, (v: string[] | null) => void]} */
  const [codes, setCodes] = useState(null);
  const [off, setOff] = useState(false);
  const start = () =>
    enrol.run(async () => {
      setCodes(null);
      setOff(false);
      setPending(await send("POST", "/api/me/totp", {}));
    });
  /** @param {SubmitEvent} e */
  const submitCode = (e) => {
    const v = values(e);
    confirm.run(async () => {
      const r = await send("POST", "/api/me/totp/confirm", { code: v.code.replace(/\s/g, "") });
      setPending(null);
      setCodes(r.recovery_codes);
    });
  };
  /** @param {SubmitEvent} e */
  const submitOff = (e) => {
    const v = values(e);
    const body = v.password ? { password: v.password } : { code: v.code };
    disable.run(async () => {
      await send("POST", "/api/me/totp/disable", body);
      setCodes(null);
      setOff(true);
    });
  };
  return html`<section aria-labelledby="h-totp">
    <h2 id="h-totp">Two-factor login</h2>
    <p>With it on, logging in also asks for a code from an authenticator app (TOTP).</p>
    ${
      codes
        ? html`<div class="once" role="status">
          <p><strong>Two-factor login is on.</strong> Keep these recovery codes somewhere safe: each
            logs in once in place of a code, and they are shown only now.</p>
          <ul class="codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ul>
        </div>`
        : pending
          ? html`<div class="enrol">
            <p>Scan this with the authenticator app, or enter the key by hand, then type the code it shows.</p>
            <${QrCode} text=${pending.uri} />
            <p>Key: <code class="secret">${pending.secret}</code></p>
            <form class="console-form" onSubmit=${submitCode} noValidate>
              <${Field} prefix="totp" label="Code from the app" name="code" errors=${confirm.errors}
                autocomplete="one-time-code" inputmode="numeric" />
              <${FormError} errors=${confirm.errors} />
              <button class="primary" disabled=${confirm.busy}>Turn on</button>
            </form>
          </div>`
          : html`<p><button type="button" onClick=${start} disabled=${enrol.busy}>Set up two-factor login</button></p>
            <${FormError} errors=${enrol.errors} />`
    }
    <details>
      <summary>Turn two-factor login off</summary>
      <form class="console-form" onSubmit=${submitOff} noValidate>
        <${Field} prefix="off" label="Password" name="password" type="password" errors=${disable.errors}
          autocomplete="current-password" hint="Or leave it empty and give a code." />
        <${Field} prefix="off" label="Or a code (or a recovery code)" name="code" errors=${disable.errors}
          autocomplete="one-time-code" />
        <${FormError} errors=${disable.errors} />
        <button disabled=${disable.busy}>Turn off</button>
        ${off ? html`<p role="status">Two-factor login is off.</p>` : null}
      </form>
    </details>
  </section>`;
}

/** @param {{user: any}} p */
function Tokens({ user }) {
  const create = useForm(["name", "scope", "boards", "expires_days"]);
  const list = useForm([]);
  /** @type {[any[] | null, (v: any[]) => void]} */
  const [tokens, setTokens] = useState(null);
  const [secret, setSecret] = useState("");
  const load = () =>
    list.run(async () => {
      setTokens((await get("/api/me/tokens")).tokens);
    });
  useEffect(() => {
    load();
  }, []);
  /** @param {SubmitEvent} e */
  const submit = (e) => {
    const form = /** @type {HTMLFormElement} */ (e.currentTarget);
    const v = values(e);
    const days = v.expires_days.trim();
    /** @type {Record<string, any>} */
    const body = { name: v.name, scope: v.scope, expires_days: /^\d+(\.\d+)?$/.test(days) ? Number(days) : days };
    if (v.scope === "moderate") body.boards = v.boards.split(/[\s,/]+/).filter(Boolean);
    setSecret("");
    create.run(async () => {
      const r = await send("POST", "/api/me/tokens", body);
      setSecret(r.secret);
      form.reset();
      await load();
    });
  };
  /** @param {string} id */
  const revoke = (id) =>
    list.run(async () => {
      await send("DELETE", `/api/me/tokens/${id}`, {});
      await load();
    });
  const scopes = [["read", "read: reading only"]];
  if (user.role !== "user") scopes.push(["moderate", "moderate: staff rights on the boards named"]);
  if (user.role === "admin") scopes.push(["admin", "admin: everything you may do"]);
  return html`<section aria-labelledby="h-tokens">
    <h2 id="h-tokens">API tokens</h2>
    <p>For scripts: sent as <code>Authorization: Bearer …</code>, acting with your rights within the token's scope.</p>
    ${
      tokens && tokens.length
        ? html`<ul class="rows">
          ${tokens.map(
            (t) => html`<li class="row">
              <span><strong>${t.name}</strong> · ${t.scope}${t.boards?.length ? ` (/${t.boards.join("/, /")}/)` : ""}
                · expires ${exact(t.expires_at)} · ${t.last_used_at ? `last used ${exact(t.last_used_at)}` : "never used"}</span>
              <button type="button" onClick=${() => revoke(t.id)} aria-label=${`Revoke ${t.name}`}>Revoke</button>
            </li>`,
          )}
        </ul>`
        : tokens
          ? html`<p>No tokens.</p>`
          : null
    }
    <${FormError} errors=${list.errors} />
    ${
      secret
        ? html`<div class="once" role="status">
          <p><strong>The new token</strong>, shown only now; copy it into your script:</p>
          <p><code class="secret">${secret}</code></p>
        </div>`
        : null
    }
    <h3>New token</h3>
    <form class="console-form" onSubmit=${submit} noValidate>
      <${Field} prefix="tok" label="Name" name="name" errors=${create.errors} />
      <${Field} prefix="tok" label="Scope" name="scope" type="select" value="read" options=${scopes} errors=${create.errors} />
      ${
        user.role !== "user"
          ? html`<${Field} prefix="tok" label="Boards (for moderate)" name="boards" errors=${create.errors} hint="Slugs, separated by spaces or commas." />`
          : null
      }
      <${Field} prefix="tok" label="Expires after (days)" name="expires_days" value="30" inputmode="decimal" errors=${create.errors} />
      <${FormError} errors=${create.errors} />
      <button class="primary" disabled=${create.busy}>Create the token</button>
    </form>
  </section>`;
}

/** @param {{user: any, onUser: (u: any) => void}} props */
export default function Account({ user, onUser }) {
  const { errors, busy, run } = useForm([]);
  const logout = () =>
    run(async () => {
      await send("POST", "/auth/logout", {});
      setCsrf("");
      onUser(null);
      navigate("/login");
    });
  return html`<h1>Account</h1>
    <p class="whoami">
      Logged in as <strong>${user.username}</strong> (${roleName(user.role)}).
      <button type="button" onClick=${logout} disabled=${busy}>Log out</button>
    </p>
    <${FormError} errors=${errors} />
    <${Password} onUser=${onUser} />
    <${Totp} />
    <${Tokens} user=${user} />`;
}
