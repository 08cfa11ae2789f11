// A stacked bar chart drawn as inline SVG, with its figures in a table for those who do not see
// it: the dashboard's only chart kind.

import { html } from "./preact-htm.js";

/** Colours cycle through app.css's custom properties, by class (see console.css). */
const SERIES_CLASSES = 6;
/** The SVG's own coordinates; it scales to the width it is given. */
const W = 480;
const H = 150;
const LEFT = 34;
const BOTTOM = 18;
const TOP = 6;

/**
 * @typedef {{name: string, values: number[]}} Series one stack layer: a board, or a kind of notice
 */

/**
 * @param {{id: string, title: string, unit: string, labels: string[], series: Series[], empty: string}} p
 *   `labels` names each bar (an hour, a day); every series has one value per label.
 */
export function StackedBars({ id, title, unit, labels, series, empty }) {
  const shown = series.filter((s) => s.values.some((v) => v > 0));
  const totals = labels.map((_, i) => shown.reduce((sum, s) => sum + s.values[i], 0));
  const sum = totals.reduce((a, b) => a + b, 0);
  const heading = html`<h3 id=${`${id}-title`}>${title}</h3>`;
  if (!shown.length)
    return html`<section class="chart" aria-labelledby=${`${id}-title`}>${heading}<p>${empty}</p></section>`;
  const max = Math.max(1, ...totals);
  const slot = (W - LEFT) / labels.length;
  const barWidth = Math.max(1, slot * 0.8);
  const y = (/** @type {number} */ v) => ((H - BOTTOM - TOP) * v) / max;
  const bars = [];
  for (let i = 0; i < labels.length; i++) {
    let base = H - BOTTOM;
    for (const [k, s] of shown.entries()) {
      const v = s.values[i];
      if (!v) continue;
      const h = y(v);
      base -= h;
      bars.push(html`<rect class=${`bar s${k % SERIES_CLASSES}`} x=${(LEFT + i * slot + (slot - barWidth) / 2).toFixed(1)}
        y=${base.toFixed(1)} width=${barWidth.toFixed(1)} height=${h.toFixed(1)}>
        <title>${`${s.name}, ${labels[i]}: ${v} ${unit}`}</title>
      </rect>`);
    }
  }
  // A label at the first bar, the middle one and the last: enough to read the time axis.
  const ticks = [0, Math.floor((labels.length - 1) / 2), labels.length - 1];
  const summary = `${title}: ${sum} ${unit} in all, at most ${max} in one bar. The table below lists every bar.`;
  return html`<section class="chart" aria-labelledby=${`${id}-title`}>
    ${heading}
    <svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${summary}>
      <line class="axis" x1=${LEFT} y1=${H - BOTTOM} x2=${W} y2=${H - BOTTOM} />
      <line class="axis" x1=${LEFT} y1=${TOP} x2=${LEFT} y2=${H - BOTTOM} />
      <text class="tick" x=${LEFT - 4} y=${TOP + 10} text-anchor="end">${max}</text>
      <text class="tick" x=${LEFT - 4} y=${H - BOTTOM} text-anchor="end">0</text>
      ${bars}
      ${ticks.map(
        (i, n) =>
          html`<text class="tick" x=${LEFT + i * slot + slot / 2} y=${H - 4}
            text-anchor=${n === 0 ? "start" : n === 2 ? "end" : "middle"}>${labels[i]}</text>`,
      )}
    </svg>
    <ul class="legend">
      ${shown.map((s, k) => html`<li><span class=${`swatch s${k % SERIES_CLASSES}`}></span>${s.name}</li>`)}
    </ul>
    <details>
      <summary>Table: ${title.toLowerCase()}</summary>
      <div class="table-scroll">
        <table>
          <caption>${title}</caption>
          <thead>
            <tr><th scope="col">When</th>${shown.map((s) => html`<th scope="col">${s.name}</th>`)}<th scope="col">All</th></tr>
          </thead>
          <tbody>
            ${labels.map(
              (label, i) =>
                html`<tr><th scope="row">${label}</th>${shown.map((s) => html`<td>${s.values[i]}</td>`)}<td>${totals[i]}</td></tr>`,
            )}
          </tbody>
        </table>
      </div>
    </details>
  </section>`;
}
