// The console's first page (/admin): links to the staff pages and, for admins, the dashboard:
// posting per board by hour and day, new threads, and tiles of the server's health.

import { html, useState, useEffect } from "./preact-htm.js";
import { get } from "./api.js";
import { Overview, FormError, useForm } from "./console.js";
import { StackedBars } from "./console-chart.js";

/** @param {number} n @returns {string} bytes in binary units */
export function bytes(n) {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

/** @param {number} secs @returns {string} */
function age(secs) {
  if (secs < 90) return `${secs} s ago`;
  if (secs < 90 * 60) return `${Math.round(secs / 60)} min ago`;
  if (secs < 48 * 3600) return `${Math.round(secs / 3600)} h ago`;
  return `${Math.round(secs / 86400)} days ago`;
}

/** An hour's label, in the reader's time zone. @param {number} at unix seconds */
const hourLabel = (at) => new Date(at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
/** A UTC day's label, as the server counts days. @param {number} at unix seconds */
const dayLabel = (at) =>
  new Date(at * 1000).toLocaleDateString([], { month: "short", day: "numeric", timeZone: "UTC" });

/** @param {{label: string, value: string, detail?: string, warn?: boolean}} p */
function Tile({ label, value, detail, warn }) {
  return html`<div class=${warn ? "tile warn" : "tile"}>
    <dt>${label}</dt>
    <dd><strong>${value}</strong>${detail ? html`<br /><small>${detail}</small>` : null}</dd>
  </div>`;
}

/** @param {{stats: any}} p */
function Tiles({ stats }) {
  const { files, disk, backup, live, reports, notices } = stats;
  const diskTile = disk
    ? {
        value: bytes(disk.free_bytes),
        detail: `free of ${bytes(disk.total_bytes)}`,
        warn: disk.free_bytes < disk.total_bytes / 20,
      }
    : { value: "unknown", detail: "the disk could not be read" };
  const backupTile = backup.enabled
    ? {
        value: `${backup.backlog} waiting`,
        detail:
          backup.snapshot_age_secs === null
            ? "no snapshot since the server started"
            : `last snapshot ${age(backup.snapshot_age_secs)}`,
        warn: backup.backlog > 1000,
      }
    : { value: "off", detail: "no [s3] section in the config" };
  return html`<dl class="tiles">
    <${Tile} label="Files stored" value=${String(files.stored)} detail=${bytes(files.bytes)} />
    <${Tile} label="Disk" ...${diskTile} />
    <${Tile} label="S3 backup" ...${backupTile} />
    <${Tile} label="Live readers" value=${String(live.subscribers)} detail="open update streams" />
    <${Tile} label="Reports waiting" value=${String(reports.waiting)} detail="posts with open reports" warn=${reports.waiting > 0} />
    <${Tile} label="Errors, last day" value=${String(notices.errors)} detail=${`and ${notices.warnings} warnings`}
      warn=${notices.errors > 0} />
  </dl>`;
}

/** @param {{stats: any}} p */
function Charts({ stats }) {
  /** @param {"hours"|"days"} span @param {"posts"|"threads"} what */
  const series = (span, what) =>
    stats.boards.map((/** @type {any} */ b) => ({
      name: `/${b.board}/`,
      values: b[span].map((/** @type {any} */ x) => x[what]),
    }));
  const first = stats.boards[0];
  const hours = (first ? first.hours : stats.notices.hours).map((/** @type {any} */ x) => hourLabel(x.at));
  const days = first ? first.days.map((/** @type {any} */ x) => dayLabel(x.at)) : [];
  const notices = [
    { name: "errors", values: stats.notices.hours.map((/** @type {any} */ h) => h.errors) },
    { name: "warnings", values: stats.notices.hours.map((/** @type {any} */ h) => h.warnings) },
  ];
  const noticeHours = stats.notices.hours.map((/** @type {any} */ x) => hourLabel(x.at));
  return html`
    <${StackedBars} id="posts-hours" title="Posts per hour, last 24 hours" unit="posts" labels=${hours}
      series=${series("hours", "posts")} empty="Nothing was posted in the last 24 hours." />
    <${StackedBars} id="posts-days" title="Posts per day, last 30 days" unit="posts" labels=${days}
      series=${series("days", "posts")} empty="Nothing was posted in the last 30 days." />
    <${StackedBars} id="threads-hours" title="New threads per hour, last 24 hours" unit="threads" labels=${hours}
      series=${series("hours", "threads")} empty="No thread was started in the last 24 hours." />
    <${StackedBars} id="threads-days" title="New threads per day, last 30 days" unit="threads" labels=${days}
      series=${series("days", "threads")} empty="No thread was started in the last 30 days." />
    <${StackedBars} id="notices-hours" title="Errors and warnings per hour, last 24 hours" unit="notices"
      labels=${noticeHours} series=${notices} empty="No error or warning in the last 24 hours." />`;
}

/** The figures of `GET /api/admin/stats`, read again on demand. */
function Dashboard() {
  const { errors, busy, run } = useForm([]);
  const [stats, setStats] = useState(/** @type {any} */ (null));
  const load = () => run(async () => setStats(await get("/api/admin/stats")));
  useEffect(() => {
    load();
  }, []);
  return html`<section class="dashboard" aria-labelledby="dashboard-title">
    <h2 id="dashboard-title">Dashboard</h2>
    <p class="actions">
      ${stats ? html`<span>As of ${new Date(stats.now * 1000).toLocaleTimeString()}</span> ` : null}
      <button type="button" onClick=${load} disabled=${busy}>Refresh</button>
    </p>
    <${FormError} errors=${errors} />
    ${stats ? html`<${Tiles} stats=${stats} /><${Charts} stats=${stats} />` : html`<p aria-busy="true">Loading…</p>`}
  </section>`;
}

/** @param {{user: any}} props */
export default function Home(props) {
  return html`<${Overview} ...${props} />${props.user.role === "admin" ? html`<${Dashboard} />` : null}`;
}
