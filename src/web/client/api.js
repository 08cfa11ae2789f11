// Talking to the server's JSON API: reads, posting with upload progress, deleting.

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message @param {string|null} field */
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** @param {number} status @param {string} text */
function toError(status, text) {
  try {
    const { error } = JSON.parse(text);
    return new ApiError(status, error.code, error.message, error.field ?? null);
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
 * @param {string} path
 * @param {object} body
 */
export async function postJson(path, body) {
  let r;
  try {
    r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached; try again.", null);
  }
  const text = await r.text();
  if (!r.ok) throw toError(r.status, text);
  return JSON.parse(text);
}

/**
 * Sends a multipart post with progress. XHR, because fetch cannot report upload progress.
 * @param {string} path
 * @param {FormData} form
 * @param {(sent: number, total: number) => void} progress
 * @returns {{done: Promise<any>, cancel: () => void}}
 */
export function upload(path, form, progress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("POST", path);
    xhr.upload.onprogress = (e) => progress(e.loaded, e.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText));
      else reject(toError(xhr.status, xhr.responseText));
    };
    xhr.onerror = () =>
      reject(new ApiError(0, "network", "The post could not be sent; nothing was lost, try again.", null));
    xhr.onabort = () => reject(new ApiError(0, "cancelled", "Sending was cancelled.", null));
    xhr.send(form);
  });
  return { done, cancel: () => xhr.abort() };
}
