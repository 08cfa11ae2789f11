// The settings dialog (loaded on demand): theme, times, media behaviour and filters.

import { html, Component } from "./preact-htm.js";
import { store } from "./store.js";

export class SettingsDialog extends Component {
  componentDidMount() {
    /** @type {any} */ (this).base?.querySelector("select")?.focus();
  }
  /** @param {{onClose: () => void}} props */
  render({ onClose }) {
    const s = store.settings;
    /** @param {keyof typeof s} key */
    const check = (key, /** @type {string} */ label) => html`<label class="check">
      <input type="checkbox" checked=${!!s[key]}
        onChange=${(/** @type {any} */ e) => store.set({ [key]: e.target.checked })} /> ${label}</label>`;
    return html`<div class="dialog" role="dialog" aria-modal="true" aria-labelledby="settings-title"
      onKeyDown=${(/** @type {KeyboardEvent} */ e) => e.key === "Escape" && onClose()}>
      <h2 id="settings-title">Settings</h2>
      <label>Theme <select value=${s.theme}
        onChange=${(/** @type {any} */ e) => store.set({ theme: e.target.value })}>
        <option value="system">Follow the system</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
        <option value="classic">Classic</option>
      </select></label>
      <label>Times <select value=${s.times}
        onChange=${(/** @type {any} */ e) => store.set({ times: e.target.value })}>
        <option value="relative">Relative (5 minutes ago)</option>
        <option value="absolute">Absolute</option>
      </select></label>
      ${check("autoplay", "Autoplay videos")}
      ${check("hoverExpand", "Expand images on hover")}
      ${check("blurNsfw", "Blur thumbnails on NSFW boards")}
      <label for="filters">Filters, one per line: <code>text:</code>, <code>name:</code>,
        <code>trip:</code> or <code>id:</code> then a regular expression</label>
      <textarea id="filters" rows="4" value=${store.filterSource}
        onInput=${(/** @type {any} */ e) => store.setFilters(e.target.value)}></textarea>
      <button type="button" class="primary" onClick=${onClose}>Close</button>
    </div>`;
  }
}
