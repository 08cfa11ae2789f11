// Following the server's live events (SSE). EventSource reconnects by itself and resumes with
// Last-Event-ID, so no event is lost or repeated across a dropped connection.

/**
 * @param {string} board
 * @param {number | null} thread
 * @param {(event: any) => void} onEvent every event's data, plus `{event: "resync"}`
 * @returns {() => void} closes the stream
 */
export function follow(board, thread, onEvent) {
  const url = `/api/live?board=${encodeURIComponent(board)}` + (thread ? `&thread=${thread}` : "");
  const source = new EventSource(url);
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
