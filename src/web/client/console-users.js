// The staff page (admins): every account with its role and boards, disabling, and a one-time
// password reset link for a user who lost theirs.

import { html, useState, useEffect } from "./preact-htm.js";
import { get, send } from "./api.js";
import { Field, FormError, useForm, values, roleName } from "./console.js";

const ROLES = ["admin", "global_mod", "board_mod", "janitor", "user"].map((r) => [r, roleName(r)]);

/** @param {{account: any, self: string, onChange: (a: any) => void}} p */
function UserRow({ account, self, onChange }) {
  const role = useForm(["role", "boards"]);
  const other = useForm([]);
  const [reset, setReset] = useState(/** @type {{link: string, expires: number} | null} */ (null));
  const [saved, setSaved] = useState(false);
  const prefix = `u-${account.username.replace(/[^a-z0-9_-]/g, "_")}`;
  /** @param {SubmitEvent} e */
  const submit = (e) => {
    const v = values(e);
    /** @type {Record<string, any>} */
    const body = { role: v.role };
    if (v.role === "board_mod" || v.role === "janitor") body.boards = v.boards.split(/[\s,/]+/).filter(Boolean);
    setSaved(false);
    role.run(async () => {
      const r = await send("POST", `/api/admin/users/${encodeURIComponent(account.username)}/role`, body);
      onChange({ ...account, ...r.user });
      setSaved(true);
    });
  };
  const toggle = () =>
    other.run(async () => {
      const path = `/api/admin/users/${encodeURIComponent(account.username)}/disabled`;
      const r = await send("POST", path, { disabled: !account.disabled });
      onChange({ ...account, ...r.user });
    });
  const issue = () =>
    other.run(async () => {
      const r = await send("POST", `/api/admin/users/${encodeURIComponent(account.username)}/reset`, {});
      setReset({ link: `${location.origin}/reset#${r.token}`, expires: r.expires_at });
    });
  return html`<li class="user">
    <h2>${account.username}${account.disabled ? html` <span class="mark">disabled</span>` : null}</h2>
    <form class="console-form inline-form" onSubmit=${submit} noValidate aria-label=${`Role of ${account.username}`}>
      <${Field} prefix=${prefix} label="Role" name="role" type="select" value=${account.role} options=${ROLES} errors=${role.errors} />
      <${Field} prefix=${prefix} label="Boards (moderators and janitors)" name="boards" value=${(account.boards || []).join(" ")}
        errors=${role.errors} />
      <button class="primary" disabled=${role.busy}>Save</button>
      ${saved ? html`<span role="status">Saved.</span>` : null}
      <${FormError} errors=${role.errors} />
    </form>
    <p class="actions">
      ${
        account.username !== self
          ? html`<button type="button" onClick=${toggle} disabled=${other.busy}>${account.disabled ? "Enable" : "Disable"}</button> `
          : null
      }
      <button type="button" onClick=${issue} disabled=${other.busy}>Reset link</button>
    </p>
    <${FormError} errors=${other.errors} />
    ${
      reset
        ? html`<div class="once" role="status">
          <p>Give ${account.username} this link (it works once, until ${new Date(reset.expires * 1000).toLocaleString()}):</p>
          <p><code class="secret">${reset.link}</code></p>
        </div>`
        : null
    }
  </li>`;
}

/** @param {{user: any}} props */
export default function Users({ user }) {
  const { errors, run } = useForm([]);
  const [users, setUsers] = useState(/** @type {any[] | null} */ (null));
  useEffect(() => {
    run(async () => {
      /** @type {any[]} */
      const all = [];
      // Pages of 1000 in username order until one comes back short.
      for (let after = ""; ;) {
        const page = (await get(`/api/admin/users?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ""}`))
          .users;
        all.push(...page);
        if (page.length < 1000) break;
        after = page[page.length - 1].username;
      }
      setUsers(all);
    });
  }, []);
  /** @param {any} changed */
  const onChange = (changed) =>
    setUsers((prev) => (prev || []).map((u) => (u.username === changed.username ? changed : u)));
  return html`<h1>Staff</h1>
    <p>Appoint moderators and janitors, limit them to boards, disable accounts, and hand out password reset links.</p>
    <${FormError} errors=${errors} />
    ${users ? html`<ul class="users">${users.map((u) => html`<${UserRow} key=${u.username} account=${u} self=${user.username} onChange=${onChange} />`)}</ul>` : null}`;
}
