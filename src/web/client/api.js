// Talking to the server's JSON API: reads, posting with upload progress, deleting, who is
// logged in, and following the live events.

export class ApiError extends Error {
  /**
   * @param {number} status @param {string} code @param {string} message @param {string|null} field
   * @param {any} [ban] with `banned`, the ban as its poster sees it
   */
  constructor(status, code, message, field, ban = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.ban = ban;
  }
}

/** @param {number} status @param {string} text */
function toError(status, text) {
  try {
    const { error } = JSON.parse(text);
    return new ApiError(status, error.code, error.message, error.field ?? null, error.ban ?? null);
  } catch {
    return new ApiError(status, "network", `The server answered ${status}.`, null);
  }
}

/**
 * A GET of the JSON API. The entry page preloads the first one with the same mode, so this
 * fetch takes the preloaded answer.
 * @param {string} path
 * @returns {Promise<any>}
 */
export async function get(path) {
  let r;
  try {
    r = await fetch(path);
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached; check the connection.", null);
  }
  const text = await r.text();
  if (!r.ok) throw toError(r.status, text);
  return JSON.parse(text);
}

/**
 * The CSRF token of a staff session, which every state-changing request made with its cookie
 * must carry. The cookie is HttpOnly, so the client cannot tell whether there is one: a request
 * goes without a token until the server answers `csrf_failed`, which only a session cookie
 * brings; then the token is fetched from `GET /auth/csrf`, kept for the page's life, and the
 * request sent once more. Anonymous readers and posters never pay for this.
 * @type {string}
 */
let csrf = "";

/** @returns {Promise<string>} */
async function freshCsrf() {
  try {
    const r = await fetch("/auth/csrf");
    const body = r.ok ? await r.json() : {};
    csrf = typeof body.csrf === "string" ? body.csrf : "";
  } catch {
    csrf = "";
  }
  return csrf;
}

/** @param {string} token @returns {Record<string, string>} */
const csrfHeader = (token) => (token ? { "X-CSRF-Token": token } : {});

/**
 * Who is logged in, asked of `GET /auth/csrf`: the user, or null for an anonymous reader. The
 * token of the answer is kept for the requests that follow.
 * @returns {Promise<{username: string, role: string, boards: string[]} | null>}
 */
export async function whoami() {
  try {
    const r = await fetch("/auth/csrf");
    const body = r.ok ? await r.json() : {};
    csrf = typeof body.csrf === "string" ? body.csrf : "";
    return csrf ? body.user : null;
  } catch {
    return null;
  }
}

/** Keeps the token of a session just opened (login, signup, a changed password). @param {string} token */
export function setCsrf(token) {
  csrf = token;
}

/**
 * A state-changing JSON request (`POST` or `DELETE`).
 * @param {string} method
 * @param {string} path
 * @param {object} body
 * @returns {Promise<any>}
 */
export async function send(method, path, body) {
  for (let attempt = 0; ; attempt++) {
    const token = attempt > 0 ? await freshCsrf() : csrf;
    let r;
    try {
      r = await fetch(path, {
        method,
        headers: { "Content-Type": "application/json", ...csrfHeader(token) },
        body: JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "network", "The server cannot be reached; try again.", null);
    }
    const text = await r.text();
    if (r.ok) return JSON.parse(text);
    const error = toError(r.status, text);
    if (error.code !== "csrf_failed" || attempt > 0) throw error;
  }
}

/**
 * @param {string} path
 * @param {object} body
 */
export function postJson(path, body) {
  return send("POST", path, body);
}

/**
 * Sends a multipart post with progress. XHR, because fetch cannot report upload progress.
 * @param {string} path
 * @param {FormData} form
 * @param {(sent: number, total: number) => void} progress
 * @returns {{done: Promise<any>, cancel: () => void}}
 */
export function upload(path, form, progress) {
  /** @type {XMLHttpRequest|null} */
  let xhr = null;
  let cancelled = false;
  /** @param {string} token @returns {Promise<any>} */
  const send = (token) =>
    new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      xhr = request;
      request.open("POST", path);
      for (const [name, value] of Object.entries(csrfHeader(token))) request.setRequestHeader(name, value);
      request.upload.onprogress = (e) => progress(e.loaded, e.total);
      request.onload = () => {
        if (request.status >= 200 && request.status < 300) resolve(JSON.parse(request.responseText));
        else reject(toError(request.status, request.responseText));
      };
      request.onerror = () =>
        reject(new ApiError(0, "network", "The post could not be sent; nothing was lost, try again.", null));
      request.onabort = () => reject(new ApiError(0, "cancelled", "Sending was cancelled.", null));
      request.send(form);
    });
  const done = (async () => {
    try {
      return await send(csrf);
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== "csrf_failed" || cancelled) throw e;
      const token = await freshCsrf();
      if (cancelled) throw new ApiError(0, "cancelled", "Sending was cancelled.", null);
      return await send(token);
    }
  })();
  return {
    done,
    cancel: () => {
      cancelled = true;
      xhr?.abort();
    },
  };
}

/**
 * Follows the server's live events (SSE). EventSource reconnects by itself and resumes with
 * Last-Event-ID, so no event is lost or repeated across a dropped connection.
 * @param {string} board
 * @param {number | null} thread
 * @param {(event: any) => void} onEvent every event's data, plus `{event: "resync"}`
 * @param {(first: boolean) => void} [onOpen] called each time the stream opens: first, and
 *   after each reconnect (which resumes where the stream left off)
 * @returns {() => void} closes the stream
 */
export function follow(board, thread, onEvent, onOpen) {
  const url = `/api/live?board=${encodeURIComponent(board)}` + (thread ? `&thread=${thread}` : "");
  const source = new EventSource(url);
  let opens = 0;
  if (onOpen) source.addEventListener("open", () => onOpen(opens++ === 0));
  for (const name of ["thread", "post", "backlinks", "delete", "unlinked", "update", "resync"]) {
    source.addEventListener(name, (e) => {
      try {
        onEvent(JSON.parse(/** @type {MessageEvent} */ (e).data));
      } catch {
        // A malformed event is skipped; the next resync or reload repairs the view.
      }
    });
  }
  return () => source.close();
}
