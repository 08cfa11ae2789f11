// The number of posts waiting in the reports queue, followed live on the staff stream; loaded
// only once the client knows a staff member is logged in.

/**
 * Follows `GET /api/reports/live`. EventSource reconnects by itself; the first event of each
 * connection carries the counts as they are.
 * @param {(counts: {total: number, counts: Record<string, number>}) => void} onCounts
 * @returns {() => void} closes the stream
 */
export function followReports(onCounts) {
  const source = new EventSource("/api/reports/live");
  source.addEventListener("counts", (e) => {
    try {
      onCounts(JSON.parse(/** @type {MessageEvent} */ (e).data));
    } catch {
      // Skipped: the next event carries all the counts again.
    }
  });
  // Refused (logged out, no longer staff): it stays closed, and nothing shows as waiting.
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) onCounts({ total: 0, counts: {} });
  });
  return () => source.close();
}
