// ESLint's flat config for the web client and its browser tests (run by test/browser.sh with
// the packages it installs into target/browser-node/). The vendored Preact + htm and QR code
// files are not ours to lint.

import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.env.WANI_NODE_MODULES || "", "..", "package.json"));
const js = require("@eslint/js");
const globals = require("globals");

export default [
  { ignores: ["src/web/client/preact-htm.js", "src/web/client/qrcode.js", "target/**"] },
  js.configs.recommended,
  {
    files: ["src/web/client/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
  },
  {
    files: ["test/browser/**/*.mjs", "test/bench/**/*.mjs"],
    // Node code whose `page.evaluate` callbacks run in the page.
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.node, ...globals.browser, axe: "readonly" },
    },
  },
  {
    rules: {
      // `const { [key]: _, ...rest } = o` drops a key; `catch {}` marks an ignored failure.
      "no-unused-vars": ["error", { varsIgnorePattern: "^_", argsIgnorePattern: "^_", caughtErrors: "none" }],
      eqeqeq: ["error", "smart"],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
];
