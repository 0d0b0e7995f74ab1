// Browser check of the editor bundle (public/editor/codemirror.js).
//
//   node editor/check.mjs            # builds the bundle first (editor/build), then checks it
//   node editor/check.mjs --no-build # checks the bundle as it is
//
// First runs the node test of the live-editing sync rules (editor/collab.test.mjs, no browser).
// Then serves a tiny page on 127.0.0.1 (a free port) under the app's Content-Security-Policy with
// nonce 'abc', drives it with playwright-core from end2end/node_modules and Debian's Chromium
// (/usr/bin/chromium, or $CHROMIUM), and exits non-zero on any failure. A second page checks live
// mode (`options.live`) against a WebSocket stubbed in the page, since the CSP allows connect-src
// 'self' only and node 20 has no WebSocket server without a package. Screenshots go to
// /tmp/editor-check.png (light), /tmp/editor-check-dark.png (dark) and /tmp/editor-check-live.png.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const bundle = path.join(root, "public/editor/codemirror.js");

if (!process.argv.includes("--no-build")) {
  execFileSync(path.join(here, "build"), { stdio: "inherit" });
}
if (!fs.existsSync(bundle)) {
  console.error(`missing ${bundle}: run editor/build`);
  process.exit(1);
}

// After the build: it installs editor/node_modules when they are missing.
const { ChangeSet, Text } = await import("@codemirror/state");
const require = createRequire(path.join(root, "end2end/package.json"));
const { chromium } = require("playwright-core");

const NONCE = "abc";
// The brief's policy plus the rest of the app's (src/server/request_security.rs), so a default-src
// fallback that would block something is noticed too.
const CSP =
  `default-src 'self'; script-src 'self' 'nonce-${NONCE}'; style-src 'self' 'nonce-${NONCE}'; ` +
  `img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'`;

const YAML_DOC = `# Mean reversion on RSI, smoothed with an EMA
name: RSI mean reversion
trading_pair: BTC/USD
timeframe: 1h
indicators:
  - type: rsi
    name: rsi_14
    parameters:
      period: 14
  - type: ema
    name: rsi_smooth
    parameters:
      period: 5
      source: rsi_14
entry_conditions: crosses_above(rsi_14, rsi_smooth) AND rsi_14 < 30
exit_conditions: rsi_14 > 70
position_sizing:
  type: percentage
  percentage_of_capital: 0.1
risk_parameters:
  max_daily_loss: 0.05
  max_drawdown: 0.2
`;

const TOML_DOC = `name = "Indicator on indicator"
trading_pair = "BTC/USD"
timeframe = "1h"
entry_conditions = "crosses_above(rsi_14, rsi_smooth)"

[[indicators]]
type = "rsi"
name = "rsi_14"

[position_sizing]
type = "percentage"
percentage_of_capital = 0.1
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Editor check</title>
<link rel="stylesheet" href="/page.css">
<script nonce="${NONCE}">
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(e.violatedDirective + " " + e.blockedURI));
</script>
</head>
<body>
<header><strong>Trading Strategy Platform</strong><span>Strategy editor</span></header>
<main>
  <label id="before-label"><button id="before">Before</button></label>
  <div id="editor"></div>
  <div class="bar"><button id="after">Run test</button><span id="status">Ready</span></div>
</main>
<script>window.__blocked = true; /* no nonce: the CSP must block this */</script>
<script type="module" nonce="${NONCE}">
import { createEditor } from "/editor/codemirror.js";
const log = { changes: [], saves: 0, tests: 0, completeCalls: 0, hoverCalls: 0, violations: window.__violations };
window.__log = log;
const words = {
  rsi: "rsi: Relative Strength Index.\\nParameters: period (default 14), source (default close).",
  ema: "ema: Exponential Moving Average.\\nParameters: period, source.",
};
window.__ed = createEditor(document.getElementById("editor"), {
  doc: ${JSON.stringify(YAML_DOC)},
  format: "yaml",
  nonce: "${NONCE}",
  label: "Strategy document",
  readOnly: false,
}, {
  onChange(text) {
    log.changes.push(text);
    // Like the Rust side: re-check on every change by calling back into the handle at once.
    if (log.lintOnChange) window.__ed.setDiagnostics([{ from: 0, to: 1, severity: "error", message: "re-checked", source: "E000", fixes: [] }]);
  },
  onSave() { log.saves++; },
  onTest() { log.tests++; },
  complete(text, pos) {
    log.completeCalls++;
    let from = pos;
    while (from > 0 && /[A-Za-z_]/.test(text[from - 1])) from--;
    const word = text.slice(from, pos);
    if (!word) return null;
    const all = [
      { label: "indicators", type: "property", detail: "section", info: "The technical indicators the conditions refer to.", apply: "indicators:\\n  - type: " },
      { label: "entry_conditions", type: "property", detail: "expression", info: "When to open a position." },
      { label: "exit_conditions", type: "property", detail: "expression", info: "When to close it." },
    ];
    const options = all.filter((o) => o.label.startsWith(word));
    return options.length ? { from, options } : null;
  },
  hover(text, pos) {
    log.hoverCalls++;
    let a = pos, b = pos;
    while (a > 0 && /\\w/.test(text[a - 1])) a--;
    while (b < text.length && /\\w/.test(text[b])) b++;
    return words[text.slice(a, b)] ?? null;
  },
});
window.__ready = true;
</script>
</body>
</html>`;

// Live mode: a WebSocket stub records what the editor sends and lets the check deliver frames.
const LIVE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Editor check, live</title>
<link rel="stylesheet" href="/page.css">
<script nonce="${NONCE}">
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(e.violatedDirective + " " + e.blockedURI));
window.__sockets = [];
window.WebSocket = class {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    window.__sockets.push(this);
    setTimeout(() => { this.readyState = 1; this.onopen && this.onopen({}); }, 20);
  }
  send(data) {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(JSON.parse(data));
  }
  close() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose && this.onclose({ code: 1000 }), 0);
  }
  deliver(frame) { this.onmessage && this.onmessage({ data: JSON.stringify(frame) }); }
};
</script>
</head>
<body>
<main>
  <div id="editor"></div>
</main>
<script type="module" nonce="${NONCE}">
import { createEditor } from "/editor/codemirror.js";
window.__live = [];
window.__changes = [];
window.__ed = createEditor(document.getElementById("editor"), {
  doc: ${JSON.stringify(YAML_DOC)},
  format: "yaml",
  nonce: "${NONCE}",
  live: { url: "/strategies/live/s1", version: 5, client: "tab1" },
}, {
  onChange(text) { window.__changes.push(text); },
  onLive(event) { window.__live.push(event); },
});
window.__ready = true;
</script>
</body>
</html>`;

const PAGE_CSS = `
:root { color-scheme: light dark; --bg: #f7f8fa; --surface: #fff; --text: #1c2330; --muted: #5b6576; --border: #d9dee7;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--text); background: var(--bg); }
@media (prefers-color-scheme: dark) { :root { --bg: #0f141b; --surface: #161c25; --text: #e4e8ef; --muted: #9aa4b5; --border: #2a3340; } }
body { margin: 0; }
header { display: flex; gap: 1rem; align-items: baseline; padding: .75rem 1.25rem; background: var(--surface); border-bottom: 1px solid var(--border); }
header span { color: var(--muted); font-size: .9rem; }
main { padding: 1rem 1.25rem; max-width: 980px; }
#before-label { position: absolute; left: -999px; }
#editor { height: 470px; }
.bar { display: flex; gap: .75rem; align-items: center; margin-top: .6rem; color: var(--muted); font-size: .9rem; }
button { font: inherit; padding: .3rem .8rem; border-radius: 6px; border: 1px solid var(--border); background: var(--surface); color: var(--text); }
`;

function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const headers = { "Content-Security-Policy": CSP, "Cache-Control": "no-store" };
    if (url.pathname === "/" || url.pathname === "/live") {
      res.writeHead(200, { ...headers, "Content-Type": "text/html; charset=utf-8" });
      res.end(url.pathname === "/" ? PAGE : LIVE_PAGE);
    } else if (url.pathname === "/page.css") {
      res.writeHead(200, { ...headers, "Content-Type": "text/css" });
      res.end(PAGE_CSS);
    } else if (url.pathname === "/editor/codemirror.js") {
      res.writeHead(200, { ...headers, "Content-Type": "text/javascript" });
      res.end(fs.readFileSync(bundle));
    } else if (url.pathname === "/favicon.ico") {
      res.writeHead(204, headers);
      res.end();
    } else {
      res.writeHead(404, headers);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

let passed = 0;
let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL - ${name}\n    ${String(err && err.stack ? err.stack : err).split("\n").slice(0, 4).join("\n    ")}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function eq(actual, expected, msg) {
  if (actual !== expected) throw new Error(`${msg}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
async function until(fn, what, ms = 3000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}


// Live mode against the stubbed socket: the frames of docs/COEDITING.md §4.1.
async function checkLive() {
  const context = await browser.newContext({ viewport: { width: 1020, height: 620 }, colorScheme: "light" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(base + "/live");
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 10000 });
  const text = () => page.evaluate(() => window.__ed.getText());
  const sent = (t) => page.evaluate((t) => window.__sockets.at(-1).sent.filter((f) => f.t === t), t);
  const deliver = (frame) => page.evaluate((f) => window.__sockets.at(-1).deliver(f), frame);
  const events = (kind) => page.evaluate((k) => window.__live.filter((e) => e.kind === k), kind);
  const box = page.getByRole("textbox", { name: "Strategy document" });
  const insert = (doc, pos, s) => ChangeSet.of({ from: pos, insert: s }, doc.length).toJSON();
  const lastPush = async (n) => (await until(async () => { const p = await sent("push"); return p.length >= n && p; }, `push #${n}`))[n - 1];
  // The server's answer accepting a push: its updates come back with our client id.
  const confirm = async (push) => {
    await deliver({ t: "updates", from: push.v, u: push.u.map((u) => ({ ...u, client: "tab1" })) });
    version = push.v + push.u.length;
  };
  const apply = (push, doc) => push.u.reduce((d, u) => ChangeSet.fromJSON(u.c).apply(d), Text.of(doc.split("\n"))).toString();
  let version = 5;
  let pushes = 0;

  await step("live: hello with the client id and the rendered version; status connecting, then live", async () => {
    const hello = await until(async () => (await sent("hello"))[0], "hello frame");
    eq(JSON.stringify(hello), JSON.stringify({ t: "hello", client: "tab1", v: 5 }), "hello");
    eq(await page.evaluate(() => window.__sockets.at(-1).url), base.replace("http:", "ws:") + "/strategies/live/s1", "socket url");
    eq((await events("status")).map((e) => e.status).join(","), "connecting,live", "status events");
    eq(await page.evaluate(() => window.__ed.liveVersion()), 5, "liveVersion");
  });

  await step("live: a remote update changes the text and draws the peer's cursor with its label (a layer, not a widget)", async () => {
    const before = await text();
    await deliver({ t: "peers", peers: [{ client: "p2", label: "You · tab 2", hue: 30 }] });
    await deliver({ t: "updates", from: 5, u: [{ c: insert(before, 0, "# remote\n"), client: "p2" }] });
    version = 6;
    eq(await text(), "# remote\n" + before, "text after the remote update");
    await deliver({ t: "sel", client: "p2", label: "You · tab 2", hue: 30, v: 6, r: [[30, 30], [9, 13]] });
    const label = page.locator(".cm-layer .cm-tsp-peerCaret .cm-tsp-peerLabel");
    await label.first().waitFor({ timeout: 3000 });
    eq(await label.count(), 1, "one label (the main range)");
    eq(await label.textContent(), "You · tab 2", "label");
    eq(await page.locator(".cm-layer .cm-tsp-peerCaret").count(), 2, "a caret per range");
    assert(await page.locator(".cm-layer .cm-tsp-peerSelection").count() >= 1, "selection rectangle missing");
    eq(await page.locator(".cm-content .cm-tsp-peerCaret").count(), 0, "nothing inside the text");
    const color = await page.locator(".cm-tsp-peerCaret").first().evaluate((e) => getComputedStyle(e).borderLeftColor);
    assert(color !== "rgba(0, 0, 0, 0)" && color !== "rgb(0, 0, 0)", `caret colour not applied: ${color}`);
    eq((await events("remote")).length, 1, "remote events");
    eq(JSON.stringify((await events("peers")).at(-1).peers), JSON.stringify([{ client: "p2", label: "You · tab 2", hue: 30 }]), "peers event");
    eq(await page.evaluate(() => window.__changes.length), 0, "onChange not called for remote changes");
    await page.screenshot({ path: "/tmp/editor-check-live.png" });
  });

  await step("live: typing pushes the change at the synced version; its return confirms it; flushLive resolves", async () => {
    await box.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("a");
    const push = await lastPush(++pushes);
    eq(push.v, 6, "push version");
    eq(push.u.length, 1, "updates in the push");
    const flushed = page.evaluate(() => window.__ed.flushLive(3000));
    await confirm(push);
    eq(await flushed, 7, "flushLive");
    eq(await page.evaluate(() => window.__ed.liveVersion()), 7, "liveVersion");
    // Sent at the synced version: before the confirmation, the caret maps back to before the "a".
    const len = (await text()).length;
    const sel = await until(async () => (await sent("sel")).findLast((f) => f.r[0][0] >= len - 1), "own selection frame");
    eq(JSON.stringify(sel), JSON.stringify({ t: "sel", v: sel.v, r: [sel.v === 7 ? [len, len] : [len - 1, len - 1]] }), "own selection");
  });

  await step("live: behind, then the missing update: re-pushed without typing; Ctrl+Z undoes only the own text", async () => {
    const base = await text();
    await page.waitForTimeout(600); // a new undo event (CodeMirror joins typing within 500 ms)
    await page.keyboard.type(" own");
    const push = await lastPush(++pushes);
    eq(push.v, 7, "push version");
    const mine = base + " own";
    await deliver({ t: "updates", from: 7, u: [{ c: insert(base, 0, "R"), client: "p2" }] });
    await deliver({ t: "behind", v: 8 });
    const again = await lastPush(++pushes);
    eq(again.v, 8, "re-push version");
    eq(apply(again, "R" + base), "R" + mine, "re-pushed changes rebased over the remote one");
    await confirm(again);
    eq(await text(), "R" + mine, "text");
    await page.keyboard.press("Control+z");
    eq(await text(), "R" + base, "undo removed only the own text");
    const undoPush = await lastPush(++pushes);
    eq(undoPush.v, version, "the undo is pushed too");
    await confirm(undoPush);
  });

  await step("live: a refused push is reverted and reported with the refused text", async () => {
    const base = await text();
    await page.keyboard.type("Z");
    const push = await lastPush(++pushes);
    await deliver({ t: "refused", code: "too_large", message: "The document is too large.", v: push.v });
    await until(async () => (await text()) === base, "reverted text");
    const refused = (await events("refused")).at(-1);
    eq(JSON.stringify(refused), JSON.stringify({ kind: "refused", code: "too_large", message: "The document is too large.", text: base + "Z" }), "refused event");
  });

  await step("live: switchFormat pushes the notation; a peer's switch changes the language and is reported", async () => {
    const base = await text();
    await page.evaluate((t) => window.__ed.switchFormat("toml", t), TOML_DOC);
    const push = await lastPush(++pushes);
    eq(push.u[0].f, "toml", "f in the push");
    eq(await text(), TOML_DOC, "switched text");
    await confirm(push);
    await page.keyboard.press("Control+z");
    eq(await text(), base, "one undo restores the text");
    const undoPush = await lastPush(++pushes);
    eq(undoPush.u[0].f, "yaml", "undo switches the notation back, shared");
    await confirm(undoPush);
    eq((await events("format")).map((e) => e.format).join(","), "yaml", "format event for the undo");
    await deliver({ t: "updates", from: version, u: [{ c: [base.length], client: "p2", f: "toml" }] });
    version++;
    eq((await events("format")).map((e) => e.format).join(","), "yaml,toml", "format event for the peer's switch");
  });

  await step("live: a mode frame makes the editor read-only (and editable again)", async () => {
    await deliver({ t: "mode", read_only: "The strategy is active." });
    eq(await box.getAttribute("aria-readonly"), "true", "aria-readonly");
    const base = await text();
    await box.click();
    await page.keyboard.type("nope");
    eq(await text(), base, "read-only text");
    eq(JSON.stringify((await events("mode")).at(-1)), JSON.stringify({ kind: "mode", readOnly: "The strategy is active." }), "mode event");
    await deliver({ t: "mode", read_only: null });
    eq(await box.getAttribute("aria-readonly"), "false", "editable again");
  });

  await step("live: saved and closed frames are reported; closed turns read-only and stops", async () => {
    await deliver({ t: "saved", version: 8, live: version, at: "2026-01-01T12:00:00Z", by: "you" });
    eq(JSON.stringify((await events("saved")).at(-1)), JSON.stringify({ kind: "saved", version: 8, live: version, at: "2026-01-01T12:00:00Z", by: "you" }), "saved event");
    await deliver({ t: "closed", code: "deleted", message: "The strategy was deleted." });
    await page.evaluate(() => window.__sockets.at(-1).close());
    await until(async () => (await events("status")).at(-1).status === "offline", "offline status");
    eq(await box.getAttribute("aria-readonly"), "true", "read-only after closed");
    await page.waitForTimeout(700);
    eq(await page.evaluate(() => window.__sockets.length), 1, "no reconnect after closed");
    let error = await page.evaluate(() => window.__ed.flushLive(100).then(() => null, (e) => e instanceof Error && e.message));
    eq(error, null, "flushLive with nothing unconfirmed resolves");
  });

  await step("live: no console errors and no CSP violations; destroy closes the socket", async () => {
    eq(errors.length, 0, `errors: ${errors.join(" | ")}`);
    eq((await page.evaluate(() => window.__violations)).length, 0, "CSP violations");
    await page.evaluate(() => window.__ed.destroy());
    eq(await page.locator(".cm-editor").count(), 0, "editors left");
  });
  await context.close();
}

await step("node editor/collab.test.mjs (live editing sync rules, no browser)", async () => {
  execFileSync(process.execPath, [path.join(here, "collab.test.mjs")], { stdio: ["ignore", "ignore", "inherit"] });
});

const server = await serve();
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});

try {
  const context = await browser.newContext({ viewport: { width: 1020, height: 620 }, deviceScaleFactor: process.env.ZOOM ? 2 : 1, colorScheme: "light" });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
  await page.goto(base + "/");
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 10000 });

  const text = () => page.evaluate(() => window.__ed.getText());
  const log = () => page.evaluate(() => window.__log);
  const box = page.getByRole("textbox", { name: "Strategy document" });
  const mod = "Control";

  await step("textbox found by role and accessible name; aria-multiline", async () => {
    eq(await box.count(), 1, "textboxes named 'Strategy document'");
    eq(await box.getAttribute("aria-multiline"), "true", "aria-multiline");
    eq(await box.getAttribute("aria-label"), "Strategy document", "aria-label");
  });

  await step("CSP with nonce: bundle loads, styles injected with nonce, un-nonced script blocked", async () => {
    eq(await page.evaluate(() => window.__blocked), undefined, "inline script without nonce ran");
    const styleNonces = await page.evaluate(() => [...document.querySelectorAll("style")].map((s) => s.nonce));
    assert(styleNonces.length > 0 && styleNonces.every((n) => n === "abc"), `style elements ${JSON.stringify(styleNonces)}`);
    const radius = await page.locator(".cm-editor").evaluate((e) => getComputedStyle(e).borderTopLeftRadius);
    eq(radius, "8px", "theme applied (border radius)");
    const v = (await log()).violations;
    assert(v.every((x) => x.startsWith("script-src")), `unexpected CSP violations: ${v}`);
    assert(v.length === 1, `expected exactly the one blocked inline script, got ${JSON.stringify(v)}`);
  });

  await step("typing changes the text and calls onChange", async () => {
    await box.click();
    await page.keyboard.press(`${mod}+End`);
    await page.keyboard.type("# typed");
    const t = await text();
    assert(t.endsWith("# typed"), "typed text missing");
    const l = await log();
    assert(l.changes.length >= 1, "onChange not called");
    eq(l.changes[l.changes.length - 1], t, "onChange text");
  });

  await step("onChange may call setDiagnostics re-entrantly", async () => {
    await page.evaluate(() => { window.__log.lintOnChange = true; });
    await page.keyboard.type("!");
    await page.locator(".cm-lintRange-error").first().waitFor();
    eq(pageErrors.length, 1, `page errors (only the blocked inline script): ${pageErrors.join(" | ")}`);
    await page.evaluate(() => { window.__log.lintOnChange = false; window.__ed.setDiagnostics([]); });
    await page.keyboard.press("Backspace");
    assert((await text()).endsWith("# typed"), "backspace");
  });

  await step("Tab indents; Escape then Tab leaves the editor", async () => {
    const before = await text();
    await page.keyboard.press("Tab");
    const after = await text();
    assert(after.length > before.length, "Tab did not indent");
    await page.keyboard.press(`${mod}+z`);
    eq(await text(), before, "undo of indent");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Tab");
    eq(await page.evaluate(() => document.activeElement && document.activeElement.id), "after", "focus after Escape, Tab");
    eq(await text(), before, "text after Escape, Tab");
    await box.click();
  });

  await step("setText loads without undo history and without onChange", async () => {
    const n = (await log()).changes.length;
    await page.evaluate((d) => window.__ed.setText(d), YAML_DOC);
    eq(await text(), YAML_DOC, "text after setText");
    eq((await log()).changes.length, n, "onChange calls");
    await box.click();
    await page.keyboard.press(`${mod}+z`);
    eq(await text(), YAML_DOC, "text after Ctrl+Z (load must not be undoable)");
  });

  await step("setDiagnostics underlines; fix action applies; Ctrl+Z undoes it", async () => {
    const doc = await text();
    const at = doc.indexOf("rsi_14 < 30");
    const wrong = doc.indexOf("percentage_of_capital: 0.1") + "percentage_of_capital: ".length;
    await page.evaluate(({ at, wrong }) => window.__ed.setDiagnostics([
      { from: at, to: at + 6, severity: "error", message: "Unknown name `rsi_14`; did you mean `rsi_14x`?", source: "E021",
        fixes: [{ label: "Rename to rsi_14x", changes: [{ from: at, to: at + 6, insert: "rsi_14x" }] }] },
      { from: wrong, to: wrong + 3, severity: "warning", message: "10% of capital per trade is high.", source: "W004", fixes: [] },
      { from: wrong + 3, to: wrong + 3, severity: "info", message: "Zero-length info", source: "I001", fixes: [] },
    ]), { at, wrong });
    await page.locator(".cm-lintRange-error").first().waitFor();
    eq(await page.locator(".cm-lintRange-error").first().textContent(), "rsi_14", "underlined text");
    assert(await page.locator(".cm-lintRange-warning").count() >= 1, "warning underline missing");
    assert(await page.locator(".cm-lintPoint-info").count() >= 1, "zero-length marker missing");
    assert(await page.locator(".cm-gutter-lint .cm-lint-marker-error").count() >= 1, "gutter marker missing");
    const bg = await page.locator(".cm-lintRange-error").first().evaluate((e) => getComputedStyle(e).backgroundImage);
    assert(bg.includes("data:image/svg+xml"), "wavy underline image missing");
    await page.locator(".cm-lintRange-error").first().hover();
    const action = page.locator(".cm-tooltip-lint .cm-diagnosticAction", { hasText: "Rename to rsi_14x" });
    await action.waitFor();
    assert((await page.locator(".cm-tooltip-lint").textContent()).includes("E021"), "source code in tooltip");
    await action.click();
    const fixed = await text();
    eq(fixed, doc.slice(0, at) + "rsi_14x" + doc.slice(at + 6), "text after fix");
    await page.keyboard.press(`${mod}+z`);
    eq(await text(), doc, "text after Ctrl+Z");
    await page.keyboard.press(`${mod}+Shift+z`);
    eq(await text(), fixed, "text after redo");
    await page.keyboard.press(`${mod}+z`);
  });

  await step("fix positions follow edits made after setDiagnostics", async () => {
    const doc = await text();
    const at = doc.indexOf("rsi_14 > 70");
    await page.evaluate((at) => window.__ed.setDiagnostics([{ from: at, to: at + 6, severity: "error", message: "m", source: "E1",
      fixes: [{ label: "Use rsi_smooth", changes: [{ from: at, to: at + 6, insert: "rsi_smooth" }] }] }]), at);
    await page.evaluate(() => window.__ed.goTo(0));
    await page.keyboard.type("# x\n");
    await page.locator(".cm-lintRange-error").first().hover();
    await page.locator(".cm-diagnosticAction", { hasText: "Use rsi_smooth" }).click();
    const d2 = "# x\n" + doc;
    eq(await text(), d2.slice(0, at + 4) + "rsi_smooth" + d2.slice(at + 10), "text after mapped fix");
    // Undo the fix, then the typing (Enter is its own history event).
    for (let i = 0; i < 4 && (await text()) !== doc; i++) await page.keyboard.press(`${mod}+z`);
    eq(await text(), doc, "text after undoing fix and typing");
    await page.evaluate(() => window.__ed.setDiagnostics([]));
    eq(await page.locator(".cm-lintRange").count(), 0, "diagnostics cleared");
  });

  await step("a fix of several changes (a move) applies as one undoable step", async () => {
    const doc = await text();
    const line = "exit_conditions: rsi_14 > 70\n";
    const at = doc.indexOf(line);
    await page.evaluate(({ at, line }) => window.__ed.setDiagnostics([{ from: at, to: at + 15, severity: "error", message: "m", source: "E017",
      fixes: [{ label: "Move it to the top", changes: [{ from: 0, to: 0, insert: line }, { from: at, to: at + line.length, insert: "" }] }] }]), { at, line });
    await page.locator(".cm-lintRange-error").first().hover();
    await page.locator(".cm-diagnosticAction", { hasText: "Move it to the top" }).click();
    eq(await text(), line + doc.slice(0, at) + doc.slice(at + line.length), "text after the move");
    await page.keyboard.press(`${mod}+z`);
    eq(await text(), doc, "one Ctrl+Z undoes the whole move");
    await page.evaluate(() => window.__ed.setDiagnostics([]));
  });

  await step("replaceText is one undoable minimal splice (cursor outside it is kept)", async () => {
    const doc = await text();
    const n = (await log()).changes.length;
    const changed = doc.replace("max_drawdown: 0.2", "max_drawdown: 0.15");
    await page.evaluate(() => window.__ed.goTo(3));
    await page.evaluate((t) => window.__ed.replaceText(t), changed);
    eq(await text(), changed, "text after replaceText");
    eq((await log()).changes.length, n, "onChange calls");
    await page.keyboard.type("Z");
    eq((await text()).slice(0, 4), doc.slice(0, 3) + "Z", "cursor kept at 3 (splice did not touch it)");
    await page.keyboard.press(`${mod}+z`);
    eq(await text(), changed, "first undo removes the typed Z");
    await page.keyboard.press(`${mod}+z`);
    eq(await text(), doc, "second undo reverts replaceText");
  });

  await step("completion from the complete callback appears and inserts apply", async () => {
    const doc = await text();
    await page.evaluate((p) => window.__ed.goTo(p), doc.length);
    await page.keyboard.type("ind");
    const popup = page.locator(".cm-tooltip-autocomplete");
    await popup.waitFor();
    assert((await popup.textContent()).includes("indicators"), "option label missing");
    await page.keyboard.press("Enter");
    eq(await text(), doc + "indicators:\n  - type: ", "text after accepting completion");
    assert((await log()).completeCalls > 0, "complete not called");
    await page.keyboard.press(`${mod}+z`);
    await page.keyboard.press(`${mod}+z`);
    eq(await text(), doc, "undo completion + typing");
  });

  await step("hover callback shows a tooltip", async () => {
    const span = page.locator(".cm-line", { hasText: "- type: ema" });
    const bb = await span.boundingBox();
    // hover over "ema" (the last word of the line)
    const rect = await span.evaluate((line) => {
      const r = document.createRange();
      const t = line.lastChild.lastChild ?? line.lastChild;
      const node = t.nodeType === 3 ? t : t.firstChild;
      r.setStart(node, node.length - 2);
      r.setEnd(node, node.length - 1);
      const b = r.getBoundingClientRect();
      return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    });
    assert(bb, "line not found");
    await page.mouse.move(rect.x, rect.y);
    const tip = page.locator(".cm-tsp-hover");
    await tip.waitFor({ timeout: 3000 });
    assert((await tip.textContent()).startsWith("ema: Exponential Moving Average"), "hover text");
    await page.mouse.move(900, 600);
  });

  await step("Mod-s calls onSave (no browser dialog); Mod-Enter calls onTest", async () => {
    await box.click();
    const doc = await text();
    await page.keyboard.press(`${mod}+s`);
    await page.keyboard.press(`${mod}+Enter`);
    const l = await log();
    eq(l.saves, 1, "onSave calls");
    eq(l.tests, 1, "onTest calls");
    eq(await text(), doc, "text unchanged by Mod-s / Mod-Enter");
  });

  await step("setFormat switches language without losing text", async () => {
    await page.evaluate((d) => window.__ed.setText(d), TOML_DOC);
    const headerSpan = () => page.evaluate(() =>
      [...document.querySelectorAll(".cm-line span")].some((s) => s.textContent === '"rsi_14"'));
    // YAML reads \`name = "rsi_14"\` as one plain scalar; TOML highlights the string value.
    assert(!(await headerSpan()), "YAML should not highlight the TOML string value on its own");
    await page.evaluate(() => window.__ed.setFormat("toml"));
    eq(await text(), TOML_DOC, "text after setFormat");
    await until(headerSpan, "TOML string token");
    await page.evaluate(() => window.__ed.setFormat("yaml"));
    await until(async () => !(await headerSpan()), "YAML highlighting back");
    await page.evaluate((d) => window.__ed.setText(d), YAML_DOC);
  });

  await step("setReadOnly blocks edits and sets aria-readonly", async () => {
    await page.evaluate(() => window.__ed.setReadOnly(true));
    eq(await box.getAttribute("aria-readonly"), "true", "aria-readonly");
    await box.click();
    await page.keyboard.type("nope");
    eq(await text(), YAML_DOC, "read-only text");
    await page.evaluate(() => window.__ed.setReadOnly(false));
    eq(await box.getAttribute("aria-readonly"), "false", "aria-readonly off");
  });

  await step("goTo selects, focuses and scrolls", async () => {
    await page.locator("#after").focus();
    const p = YAML_DOC.indexOf("exit_conditions");
    await page.evaluate((p) => window.__ed.goTo(p), p);
    assert(await page.evaluate(() => document.activeElement.classList.contains("cm-content")), "editor not focused");
    await page.keyboard.type("X");
    eq(await text(), YAML_DOC.slice(0, p) + "X" + YAML_DOC.slice(p), "insert at goTo position");
    await page.keyboard.press(`${mod}+z`);
  });

  await step("no page errors", async () => {
    eq(pageErrors.filter((e) => !e.includes("Content Security Policy")).length, 0, `errors: ${pageErrors.join(" | ")}`);
  });

  // Screenshots: a realistic state with diagnostics and an open lint tooltip.
  const shoot = async (file) => {
    const doc = await text();
    const at = doc.indexOf("rsi_smooth) AND");
    const pct = doc.indexOf("percentage_of_capital: 0.1") + "percentage_of_capital: ".length;
    const end = doc.indexOf("max_drawdown: 0.2") + "max_drawdown: 0.2".length;
    await page.evaluate(({ at, pct, end }) => window.__ed.setDiagnostics([
      { from: at, to: at + 10, severity: "error", message: "Unknown indicator `rsi_smooth`.", source: "E021",
        fixes: [{ label: "Rename to rsi_14", changes: [{ from: at, to: at + 10, insert: "rsi_14" }] }] },
      { from: pct, to: pct + 3, severity: "warning", message: "Risking 10% of capital per trade is aggressive.", source: "W004", fixes: [] },
      { from: end, to: end, severity: "info", message: "No take_profit: positions close only on exit_conditions.", source: "I002", fixes: [] },
    ]), { at, pct, end });
    await page.evaluate(() => window.__ed.goTo(0));
    await page.locator(".cm-lintRange-error").first().hover();
    await page.locator(".cm-tooltip-lint").waitFor();
    await page.screenshot({ path: file });
    if (process.env.ZOOM) await page.screenshot({ path: file.replace(".png", "-zoom.png"), clip: { x: 20, y: 360, width: 420, height: 170 } });
    await page.mouse.move(1000, 610);
  };
  await shoot("/tmp/editor-check.png");

  await step("dark colour scheme switches theme", async () => {
    const before = await page.locator(".cm-editor").evaluate((e) => getComputedStyle(e).backgroundColor);
    await page.emulateMedia({ colorScheme: "dark" });
    await until(async () => (await page.locator(".cm-editor").evaluate((e) => getComputedStyle(e).backgroundColor)) !== before,
      "dark background");
    await shoot("/tmp/editor-check-dark.png");
    await page.emulateMedia({ colorScheme: "light" });
  });

  await step("destroy removes the editor", async () => {
    await page.evaluate(() => window.__ed.destroy());
    eq(await page.locator(".cm-editor").count(), 0, "editors left");
  });
  await context.close();

  await checkLive();
} finally {
  await browser.close();
  server.close();
}

console.log("screenshots: /tmp/editor-check.png /tmp/editor-check-dark.png /tmp/editor-check-live.png");
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
