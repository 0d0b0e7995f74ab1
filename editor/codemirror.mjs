// CodeMirror 6 editor for the Trading Strategy Platform's strategy documents (YAML or TOML).
//
// Bundled by `editor/build` into `public/editor/codemirror.js` (one ES module) and loaded by the
// Rust/WASM side with `#[wasm_bindgen(raw_module = "/editor/codemirror.js")]`. Everything that
// crosses the boundary is a plain value, a plain JS object or a JS function: no classes, no
// CodeMirror types. All positions are JS string offsets (UTF-16 code units) into the document,
// exactly what CodeMirror uses internally.
//
// The Rust side owns the language knowledge (completions, hover text, diagnostics, quick fixes);
// this module only adapts it to CodeMirror.
//
// Accessibility: Tab indents inside the editor (`indentWithTab`). To move focus out of the
// editor with the keyboard press Escape and then Tab (or Shift-Tab) within two seconds;
// Ctrl-M (Shift-Alt-M on macOS) toggles "Tab moves focus" mode permanently. Screen readers get
// the content element as `role="textbox"` with `aria-multiline="true"` and `aria-label` from
// `options.label`.
//
// Live co-editing (`options.live`): collab.mjs joins the live document over a WebSocket; this
// module only wires it in (the notation, read-only mode and the handle methods below).

import { basicSetup } from "codemirror";
import { EditorView, keymap, hoverTooltip } from "@codemirror/view";
import { EditorState, Compartment, Prec, StateField, StateEffect, Annotation, Transaction } from "@codemirror/state";
import { indentWithTab, isolateHistory } from "@codemirror/commands";
import { StreamLanguage, HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { autocompletion } from "@codemirror/autocomplete";
import { setDiagnostics as cmSetDiagnostics, lintGutter } from "@codemirror/lint";
import { yaml } from "@codemirror/lang-yaml";
import { toml } from "@codemirror/legacy-modes/mode/toml";
import { tags as t } from "@lezer/highlight";
import { diff, liveEditor, localNotation, notation, currentNotation, randomClientID, setNotation } from "./collab.mjs";

// ---------------------------------------------------------------------------------------------
// Languages

const tomlLanguage = StreamLanguage.define(toml);

function languageFor(format) {
  return format === "toml" ? tomlLanguage : yaml();
}

// ---------------------------------------------------------------------------------------------
// Themes: a calm light theme and a dark variant, matching style/main.css's palette.

const MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace';
const SANS = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

function wavy(color) {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="6" height="4">` +
    `<path d="m0 3 l2 -2 l1 0 l2 2 l1 0" stroke="${color}" fill="none" stroke-width="1.2"/></svg>`;
  return `url("data:image/svg+xml,${encodeURIComponent(svg)}")`;
}

function makeTheme(c, dark) {
  return EditorView.theme(
    {
      "&": {
        color: c.text,
        backgroundColor: c.bg,
        fontSize: "13.5px",
        height: "100%",
        border: `1px solid ${c.border}`,
        borderRadius: "8px",
        overflow: "hidden",
      },
      "&.cm-focused": { outline: "none", borderColor: c.accent, boxShadow: `0 0 0 3px ${c.focusRing}` },
      ".cm-scroller": { fontFamily: MONO, lineHeight: "1.55", overflow: "auto" },
      ".cm-content": { caretColor: c.accent, padding: "8px 0" },
      ".cm-line": { padding: "0 12px 0 6px" },
      ".cm-cursor, .cm-dropCursor": { borderLeftColor: c.accent, borderLeftWidth: "2px" },
      "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection":
        { backgroundColor: c.selection },
      "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground": { backgroundColor: c.selection },
      ".cm-activeLine": { backgroundColor: c.activeLine },
      ".cm-selectionMatch": { backgroundColor: c.selectionMatch },
      "&.cm-focused .cm-matchingBracket": { backgroundColor: c.bracket, outline: `1px solid ${c.bracketOutline}` },
      "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: c.badBg },
      ".cm-searchMatch": { backgroundColor: c.searchMatch, outline: `1px solid ${c.searchOutline}` },
      ".cm-searchMatch.cm-searchMatch-selected": { backgroundColor: c.searchSelected },

      // Gutters: subtle, same surface as the page background.
      ".cm-gutters": {
        backgroundColor: c.gutterBg,
        color: c.gutterText,
        borderRight: `1px solid ${c.border}`,
        fontFamily: MONO,
        fontSize: "12px",
      },
      ".cm-lineNumbers .cm-gutterElement": { padding: "0 6px 0 10px", minWidth: "28px" },
      ".cm-activeLineGutter": { backgroundColor: c.activeLineGutter, color: c.text },
      ".cm-foldGutter .cm-gutterElement": { color: c.gutterText, cursor: "pointer", padding: "0 4px" },
      ".cm-foldPlaceholder": { backgroundColor: c.surface2, border: `1px solid ${c.border}`, color: c.muted, padding: "0 6px" },
      ".cm-gutter-lint": { width: "14px" },
      ".cm-gutter-lint .cm-gutterElement": { padding: "0 0 0 4px" },
      ".cm-lint-marker": { width: "10px", height: "10px", marginTop: "5px" },

      // Diagnostics: clear wavy underlines. Zero-length spans get a visible caret-like marker.
      ".cm-lintRange": { backgroundPosition: "left bottom", backgroundRepeat: "repeat-x", paddingBottom: "2px" },
      ".cm-lintRange-error": { backgroundImage: wavy(c.bad) },
      ".cm-lintRange-warning": { backgroundImage: wavy(c.warn) },
      ".cm-lintRange-info": { backgroundImage: wavy(c.info) },
      ".cm-lintRange-hint": { backgroundImage: wavy(c.info) },
      ".cm-lintRange-active": { backgroundColor: c.activeDiag },
      ".cm-lintPoint": { position: "relative" },
      ".cm-lintPoint:after": {
        content: '""',
        position: "absolute",
        bottom: "-3px",
        left: "-5px",
        borderLeft: "5px solid transparent",
        borderRight: "5px solid transparent",
        borderBottom: `6px solid ${c.bad}`,
      },
      ".cm-lintPoint-warning:after": { borderBottomColor: c.warn },
      ".cm-lintPoint-info:after, .cm-lintPoint-hint:after": { borderBottomColor: c.info },

      // Tooltips (hover help, diagnostics, completion info): readable, bounded width.
      ".cm-tooltip": {
        backgroundColor: c.surface,
        color: c.text,
        border: `1px solid ${c.border}`,
        borderRadius: "6px",
        boxShadow: c.shadow,
        fontFamily: SANS,
        fontSize: "13px",
        lineHeight: "1.45",
        maxWidth: "min(520px, 90vw)",
      },
      ".cm-tooltip.cm-tooltip-hover, .cm-tooltip.cm-tooltip-lint": { overflow: "hidden" },
      ".cm-tsp-hover": { padding: "6px 10px", whiteSpace: "pre-wrap", overflowWrap: "anywhere", maxHeight: "320px", overflowY: "auto" },
      ".cm-diagnostic": { padding: "6px 10px 6px 10px", whiteSpace: "pre-wrap", overflowWrap: "anywhere" },
      ".cm-diagnostic-error": { borderLeft: `4px solid ${c.bad}` },
      ".cm-diagnostic-warning": { borderLeft: `4px solid ${c.warn}` },
      ".cm-diagnostic-info, .cm-diagnostic-hint": { borderLeft: `4px solid ${c.info}` },
      ".cm-diagnostic + .cm-diagnostic": { borderTop: `1px solid ${c.border}` },
      ".cm-diagnosticSource": { fontFamily: MONO, fontSize: "11px", color: c.muted, opacity: 1, marginTop: "2px" },
      ".cm-diagnosticAction": {
        font: "inherit",
        fontSize: "12px",
        border: `1px solid ${c.accent}`,
        backgroundColor: c.accent,
        color: c.accentText,
        borderRadius: "4px",
        padding: "1px 8px",
        marginLeft: "8px",
        cursor: "pointer",
      },
      ".cm-diagnosticAction:hover": { filter: "brightness(1.1)" },
      ".cm-diagnosticAction:focus-visible": { outline: `2px solid ${c.focusRing}`, outlineOffset: "1px" },

      // Autocomplete popup.
      ".cm-tooltip.cm-tooltip-autocomplete > ul": { fontFamily: MONO, fontSize: "12.5px", maxHeight: "16em" },
      ".cm-tooltip.cm-tooltip-autocomplete > ul > li": { padding: "2px 10px 2px 4px", lineHeight: "1.5" },
      ".cm-tooltip-autocomplete ul li[aria-selected]": { backgroundColor: c.accent, color: c.accentText },
      ".cm-tooltip-autocomplete ul li[aria-selected] .cm-completionDetail": { color: c.accentText, opacity: 0.85 },
      ".cm-completionLabel": { color: "inherit" },
      ".cm-completionMatchedText": { textDecoration: "none", fontWeight: "600" },
      ".cm-completionDetail": { color: c.muted, fontStyle: "normal", marginLeft: "1.2em" },
      ".cm-completionIcon": { opacity: 0.7, width: "1.1em", paddingRight: "0.5em" },
      ".cm-tooltip.cm-completionInfo": { padding: "6px 10px", maxWidth: "380px", whiteSpace: "pre-wrap", fontFamily: SANS },

      // Search / panels.
      ".cm-panels": { backgroundColor: c.gutterBg, color: c.text, fontFamily: SANS, fontSize: "13px" },
      ".cm-panels.cm-panels-top": { borderBottom: `1px solid ${c.border}` },
      ".cm-panels.cm-panels-bottom": { borderTop: `1px solid ${c.border}` },
      ".cm-panel input, .cm-panel button, .cm-textfield": { fontFamily: SANS, fontSize: "12.5px" },
      ".cm-textfield": {
        backgroundColor: c.surface,
        color: c.text,
        border: `1px solid ${c.border}`,
        borderRadius: "4px",
        padding: "2px 6px",
      },
      ".cm-button": {
        backgroundImage: "none",
        backgroundColor: c.surface,
        color: c.text,
        border: `1px solid ${c.border}`,
        borderRadius: "4px",
        padding: "2px 8px",
      },
      ".cm-panel.cm-panel-lint ul [aria-selected]": { backgroundColor: c.activeLine },
    },
    { dark },
  );
}

const LIGHT = {
  bg: "#ffffff", surface: "#ffffff", surface2: "#f1f3f6", text: "#1c2330", muted: "#5b6576",
  border: "#d9dee7", accent: "#1a5cc8", accentText: "#ffffff", focusRing: "rgba(31,111,235,0.18)",
  gutterBg: "#f7f8fa", gutterText: "#5b6576", activeLine: "#f3f6fb", activeLineGutter: "#e9eef6",
  selection: "#cfe0fb", selectionMatch: "#e4ecf9", bracket: "#dfe9f8", bracketOutline: "#a8c3ee",
  badBg: "#fbe0e2", searchMatch: "#fff1b8", searchOutline: "#e6c84a", searchSelected: "#ffd76a",
  bad: "#d1242f", warn: "#bf8700", info: "#1f6feb", activeDiag: "rgba(255, 214, 102, 0.28)",
  shadow: "0 6px 20px rgba(20, 30, 50, 0.12)",
};

const DARK = {
  bg: "#161c25", surface: "#1c2430", surface2: "#232c39", text: "#e4e8ef", muted: "#9aa4b5",
  border: "#2a3340", accent: "#4c8dff", accentText: "#0b1220", focusRing: "rgba(76,141,255,0.25)",
  gutterBg: "#131922", gutterText: "#8b949e", activeLine: "#1b2330", activeLineGutter: "#1f2836",
  selection: "#2b4268", selectionMatch: "#243248", bracket: "#2a3a55", bracketOutline: "#4c6fa8",
  badBg: "#4a1f24", searchMatch: "#4d4220", searchOutline: "#8a7430", searchSelected: "#7a6320",
  bad: "#f85149", warn: "#d29922", info: "#58a6ff", activeDiag: "rgba(210, 153, 34, 0.22)",
  shadow: "0 6px 24px rgba(0, 0, 0, 0.5)",
};

const lightHighlight = HighlightStyle.define([
  { tag: [t.propertyName, t.definition(t.propertyName)], color: "#0b5cad" },
  { tag: [t.keyword, t.operatorKeyword, t.modifier], color: "#8250df" },
  { tag: [t.string, t.special(t.string), t.character], color: "#1a7f37" },
  { tag: [t.number, t.integer, t.float], color: "#b35900" },
  { tag: [t.bool, t.null], color: "#cf222e" },
  { tag: t.atom, color: "#8250df", fontWeight: "600" },
  { tag: [t.comment, t.lineComment, t.blockComment], color: "#57606a", fontStyle: "italic" },
  { tag: [t.meta, t.annotation, t.labelName, t.typeName], color: "#953800" },
  { tag: [t.heading, t.className, t.namespace], color: "#0550ae", fontWeight: "600" },
  { tag: [t.punctuation, t.separator, t.bracket, t.squareBracket, t.brace], color: "#57606a" },
  { tag: [t.variableName, t.attributeName], color: "#24292f" },
  { tag: t.content, color: "#24292f" },
  { tag: t.invalid, color: "#cf222e" },
]);

const darkHighlight = HighlightStyle.define([
  { tag: [t.propertyName, t.definition(t.propertyName)], color: "#79c0ff" },
  { tag: [t.keyword, t.operatorKeyword, t.modifier], color: "#d2a8ff" },
  { tag: [t.string, t.special(t.string), t.character], color: "#7ee787" },
  { tag: [t.number, t.integer, t.float], color: "#ffa657" },
  { tag: [t.bool, t.null], color: "#ff7b72" },
  { tag: t.atom, color: "#d2a8ff", fontWeight: "600" },
  { tag: [t.comment, t.lineComment, t.blockComment], color: "#8b949e", fontStyle: "italic" },
  { tag: [t.meta, t.annotation, t.labelName, t.typeName], color: "#ffa657" },
  { tag: [t.heading, t.className, t.namespace], color: "#a5d6ff", fontWeight: "600" },
  { tag: [t.punctuation, t.separator, t.bracket, t.squareBracket, t.brace], color: "#8b949e" },
  { tag: [t.variableName, t.attributeName], color: "#e6edf3" },
  { tag: t.content, color: "#e6edf3" },
  { tag: t.invalid, color: "#ff7b72" },
]);

const lightTheme = [makeTheme(LIGHT, false), syntaxHighlighting(lightHighlight)];
const darkTheme = [makeTheme(DARK, true), syntaxHighlighting(darkHighlight)];

// ---------------------------------------------------------------------------------------------
// Quick-fix ranges follow edits made after `setDiagnostics`, so a fix applied later still hits
// the text it was computed for.

const setFixes = StateEffect.define();
// One entry per fix: the list of its changes (a move is an insertion and a removal).
const fixRanges = StateField.define({
  create: () => [],
  update(fixes, tr) {
    for (const e of tr.effects) if (e.is(setFixes)) return e.value;
    if (!tr.docChanged || fixes.length === 0) return fixes;
    return fixes.map((changes) => changes.map((r) => ({
      from: tr.changes.mapPos(r.from, 1),
      to: Math.max(tr.changes.mapPos(r.from, 1), tr.changes.mapPos(r.to, -1)),
      insert: r.insert,
    })));
  },
});

// Marks transactions made by `setText` / `replaceText`, which do not call `onChange`.
const programmatic = Annotation.define();

// ---------------------------------------------------------------------------------------------
// Helpers

function call(fn, ...args) {
  if (typeof fn !== "function") return undefined;
  try {
    return fn(...args);
  } catch (err) {
    console.error("editor callback failed:", err);
    return undefined;
  }
}

function clamp(n, len) {
  n = Number(n);
  if (!Number.isFinite(n)) return 0;
  return Math.max(0, Math.min(len, Math.floor(n)));
}

function str(v) {
  return v === null || v === undefined ? undefined : String(v);
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Creates an editor inside `parent` and returns a handle for driving it.
 *
 * @param {HTMLElement} parent - element the editor is appended to; give it a height (the editor
 *   fills it with `height: 100%` and scrolls inside).
 * @param {{doc?: string, format?: 'yaml'|'toml', nonce?: string|null, label?: string, readOnly?: boolean,
 *   live?: {url: string, version: number, client?: string}}} options
 *   - `doc`: initial text; `format`: language (default 'yaml'); `nonce`: the page's CSP nonce,
 *     put on the `<style>` elements CodeMirror injects (null/undefined/"" = none); `label`: the
 *     accessible name of the textbox (default "Strategy document"); `readOnly`: start read-only.
 *   - `live`: join the live document (co-editing). `url`: its WebSocket, absolute or relative to
 *     the page (http(s) is turned into ws(s)); `version`: the live version that `doc` and
 *     `format` are the text of, exactly as the server rendered them (the editor never seeds the
 *     live document; without a valid version it asks the server for the whole document);
 *     `client`: this editor's id, 1–32 of [A-Za-z0-9_-] (default: random), kept across
 *     reconnects. Absent: no socket, and everything behaves as without live editing.
 * @param {{
 *   onChange?: (text: string) => void,
 *   onSave?: () => void,
 *   onTest?: () => void,
 *   complete?: (text: string, pos: number, explicit: boolean) =>
 *     null | {from: number, options: Array<{label: string, type?: string, detail?: string, info?: string, apply?: string}>, filter?: boolean},
 *   hover?: (text: string, pos: number) => null | string,
 * }} callbacks
 *   - `onChange(text)`: called after changes to the document made in the editor (typing,
 *     paste, undo/redo, completion, quick fix), in a microtask right after the change (outside
 *     CodeMirror's update, so it may call any handle method, e.g. `setDiagnostics`); changes in
 *     one task are coalesced into one call with the latest text. NOT called for `setText` or
 *     `replaceText` (the caller already knows the text; this also avoids re-entering Rust).
 *   - `onSave()`: Mod-s (Ctrl-s / Cmd-s); the browser's save dialog is suppressed.
 *   - `onTest()`: Mod-Enter.
 *   - `complete(text, pos, explicit)`: completions at `pos`; `from` is where the replaced word
 *     starts; each option's `apply` (default: `label`) replaces `from..pos`. `explicit` is true
 *     when the user asked with Ctrl-Space. `filter: false` keeps CodeMirror from filtering and
 *     re-sorting the options against the typed text. `type` picks the icon ("keyword",
 *     "property", "function", "variable", "constant", "enum", "type", "text", ...).
 *   - `hover(text, pos)`: plain-text help for the position under the mouse, or null.
 *   - `onLive(event)`: live-mode events (plain objects, called outside CodeMirror's update, so
 *     handle methods may be called from it), by `kind`:
 *     `{kind: "status", status: "connecting"|"live"|"reconnecting"|"offline"}` ("offline": the
 *       browser is offline, four reconnects in a row failed (it keeps trying every ≤ 5 s), or
 *       the server closed the document);
 *     `{kind: "remote"}` peers' changes (or a reset to the server's text) were applied; not
 *       `onChange`: read `getText()`, debounced;
 *     `{kind: "peers", peers: [{client, label, hue}]}` the other editors now;
 *     `{kind: "format", format}` the notation changed without the caller asking (a peer's switch,
 *       undo/redo of a switchFormat, the server's notation on a reset); also without live mode;
 *     `{kind: "doc", version, format, saved: {version, live}|null}` the server sent its whole
 *       document (on joining with an old or no version) and the editor now shows it;
 *     `{kind: "diverged", mine, theirs, base, version}` that happened while this editor had
 *       unconfirmed changes: the editor now shows `theirs` at `version`; `mine` is the text it
 *       showed, `base` the text at its last synced version. Merge and call `replaceText(merged)`;
 *     `{kind: "refused", code, message, text}` the server refused this editor's unconfirmed
 *       changes for good ("too_large" | "bad_changes" | "read_only" | "rate"); the editor went
 *       back to the confirmed text; `text` is what was refused;
 *     `{kind: "saved", version, live, at, by}` a strategy version was saved from live version `live`;
 *     `{kind: "mode", readOnly: string|null}` read-only with this reason, or editable again (the
 *       editor applies it itself, on top of `setReadOnly`);
 *     `{kind: "closed", code, message}` the server ended the session ("deleted", "signed_out", …):
 *       no reconnect; the editor turns read-only.
 *   Every callback is optional; exceptions thrown by callbacks are logged and ignored.
 * @returns {{
 *   getText(): string, setText(text: string): void, replaceText(text: string): void,
 *   setFormat(format: 'yaml'|'toml'): void, switchFormat(format: 'yaml'|'toml', text: string): void,
 *   setReadOnly(readOnly: boolean): void, setDiagnostics(list: Array<object>): void,
 *   goTo(pos: number): void, focus(): void, liveVersion(): number|null,
 *   flushLive(timeoutMs?: number): Promise<number>, destroy(): void
 * }}
 */
export function createEditor(parent, options, callbacks) {
  const opts = options || {};
  const cbs = callbacks || {};
  const language = new Compartment();
  const readOnly = new Compartment();
  const theme = new Compartment();

  const media = typeof window !== "undefined" && window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  const themeFor = (dark) => (dark ? darkTheme : lightTheme);

  const readOnlyExt = (on) => [
    EditorState.readOnly.of(!!on),
    EditorView.contentAttributes.of({ "aria-readonly": on ? "true" : "false" }),
  ];

  const completionSource = (context) => {
    const text = context.state.doc.toString();
    const result = call(cbs.complete, text, context.pos, context.explicit);
    if (!result || !Array.isArray(result.options) || result.options.length === 0) return null;
    const out = {
      from: clamp(result.from ?? context.pos, context.pos),
      options: result.options.map((o) => ({
        label: String(o.label),
        type: str(o.type),
        detail: str(o.detail),
        info: str(o.info),
        apply: str(o.apply),
      })),
    };
    if (result.filter === false) out.filter = false;
    return out;
  };

  const hover = hoverTooltip((view, pos) => {
    if (typeof cbs.hover !== "function") return null;
    const text = call(cbs.hover, view.state.doc.toString(), pos);
    if (text === null || text === undefined || text === "") return null;
    const word = view.state.wordAt(pos);
    return {
      pos: word ? word.from : pos,
      end: word ? word.to : pos,
      above: true,
      create() {
        const dom = document.createElement("div");
        dom.className = "cm-tsp-hover";
        dom.textContent = String(text);
        return { dom };
      },
    };
  });

  const keys = Prec.highest(
    keymap.of([
      { key: "Mod-s", preventDefault: true, run: () => (call(cbs.onSave), true) },
      { key: "Mod-Enter", preventDefault: true, run: () => (call(cbs.onTest), true) },
    ]),
  );

  let destroyed = false;
  let changePending = false;
  let userReadOnly = !!opts.readOnly;
  let liveReadOnly = false;
  const applyReadOnly = () => view.dispatch({ effects: readOnly.reconfigure(readOnlyExt(userReadOnly || liveReadOnly)) });

  const liveOpts = opts.live && typeof opts.live === "object" && opts.live.url ? opts.live : null;
  const live = liveOpts && liveEditor({
    url: String(liveOpts.url),
    version: liveOpts.version,
    clientID: /^[A-Za-z0-9_-]{1,32}$/.test(liveOpts.client ?? "") ? String(liveOpts.client) : randomClientID(),
    report(event) {
      if (event.kind === "mode" || event.kind === "closed") {
        liveReadOnly = event.kind === "closed" || !!event.readOnly;
        applyReadOnly();
      }
      call(cbs.onLive, event);
    },
  });

  const extensions = [
    basicSetup,
    keys,
    keymap.of([indentWithTab]),
    language.of(languageFor(opts.format)),
    notation(opts.format),
    // Whatever switches the notation (setFormat, switchFormat, a peer, undo) switches the language.
    EditorState.transactionExtender.of((tr) => {
      let format = null;
      for (const e of tr.effects) if (e.is(setNotation)) format = e.value;
      return format ? { effects: language.reconfigure(languageFor(format)) } : null;
    }),
    readOnly.of(readOnlyExt(opts.readOnly)),
    theme.of(themeFor(media ? media.matches : false)),
    autocompletion({ override: [completionSource], icons: true }),
    hover,
    // Long descriptions and conditions wrap instead of scrolling sideways.
    EditorView.lineWrapping,
    lintGutter(),
    fixRanges,
    EditorView.contentAttributes.of({
      "aria-label": opts.label ? String(opts.label) : "Strategy document",
      "aria-multiline": "true",
      role: "textbox",
      // Explicit, so that accessibility checkers see the scrolling region's focusable content.
      tabindex: "0",
    }),
    // onChange runs in a microtask, outside CodeMirror's update cycle, so the callback may call
    // back into the handle (setDiagnostics, replaceText, ...) at once. Changes made in one task
    // are coalesced into one call with the latest text.
    EditorView.updateListener.of((update) => {
      const format = currentNotation(update.state);
      if (format !== currentNotation(update.startState) &&
          update.transactions.some((tr) => tr.effects.some((e) => e.is(setNotation)) && !tr.annotation(programmatic) && !tr.annotation(localNotation))) {
        queueMicrotask(() => destroyed || call(cbs.onLive, { kind: "format", format }));
      }
      if (!update.docChanged || changePending) return;
      // Peers' changes are reported as {kind: "remote"} instead.
      if (update.transactions.every((tr) => !tr.docChanged || tr.annotation(programmatic) || tr.annotation(Transaction.remote))) return;
      changePending = true;
      queueMicrotask(() => {
        changePending = false;
        if (!destroyed) call(cbs.onChange, view.state.doc.toString());
      });
    }),
  ];
  // The page's Content-Security-Policy allows only styles that carry its nonce: the nonce
  // given, else the one the page's own scripts carry (a browser hides the attribute's value,
  // but a script element's `nonce` property keeps it).
  const nonce = opts.nonce || document.querySelector("script[nonce]")?.nonce;
  if (nonce) extensions.push(EditorView.cspNonce.of(String(nonce)));
  if (live) extensions.push(live.extensions);

  const view = new EditorView({
    parent,
    state: EditorState.create({ doc: opts.doc == null ? "" : String(opts.doc), extensions }),
  });

  const liveSession = live && live.start(view);

  const onScheme = (e) => view.dispatch({ effects: theme.reconfigure(themeFor(e.matches)) });
  if (media) {
    if (media.addEventListener) media.addEventListener("change", onScheme);
    else if (media.addListener) media.addListener(onScheme);
  }

  return {
    /** @returns {string} the whole document. */
    getText() {
      return view.state.doc.toString();
    },

    /**
     * Replaces the whole document (for loading) in one transaction that is not added to the undo
     * history and does not call `onChange`. No-op when the text is unchanged. In live mode this
     * is an ordinary shared change (pushed to every peer like typing, as the smallest splice so
     * that peers' concurrent edits survive): load a different document by creating a new editor.
     * @param {string} text
     */
    setText(text) {
      text = text == null ? "" : String(text);
      const old = view.state.doc.toString();
      if (text === old) return;
      view.dispatch({
        changes: live ? diff(old, text) : { from: 0, to: view.state.doc.length, insert: text },
        annotations: [Transaction.addToHistory.of(false), programmatic.of(true)],
      });
    },

    /**
     * Rewrites the document to `text` with the smallest splice (common prefix and suffix kept) as
     * one ordinary undoable transaction (userEvent "input.builder"), so Ctrl-Z undoes it. Used by
     * the visual builder and quick fixes run from outside the editor. Does not call `onChange`.
     * @param {string} text
     */
    replaceText(text) {
      text = text == null ? "" : String(text);
      const change = diff(view.state.doc.toString(), text);
      if (!change) return;
      view.dispatch({
        changes: change,
        userEvent: "input.builder",
        annotations: [programmatic.of(true)],
      });
    },

    /**
     * Switches the syntax language, keeping the text, selection and history. Only this editor:
     * in live mode peers are not told (use `switchFormat` for that).
     * @param {'yaml'|'toml'} format
     */
    setFormat(format) {
      view.dispatch({
        effects: setNotation.of(format === "toml" ? "toml" : "yaml"),
        annotations: [localNotation.of(true), Transaction.addToHistory.of(false)],
      });
    },

    /**
     * Rewrites the document to `text` (the smallest splice) and switches the notation to `format`
     * as ONE undoable change: Ctrl-Z restores both the text and the notation. In live mode the
     * change carries the shared notation effect, so every peer switches too. Does not call
     * `onChange` (nor `onLive` "format").
     * @param {'yaml'|'toml'} format
     * @param {string} text the document in the new notation
     */
    switchFormat(format, text) {
      format = format === "toml" ? "toml" : "yaml";
      const old = view.state.doc.toString();
      const change = diff(old, text == null ? old : String(text));
      if (!change && format === currentNotation(view.state)) return;
      view.dispatch({
        changes: change || [],
        effects: setNotation.of(format),
        userEvent: "input.format",
        annotations: [programmatic.of(true), isolateHistory.of("full")],
      });
    },

    /**
     * Makes the document read-only (still focusable, selectable and searchable) or editable. In
     * live mode the server's read-only mode (and a closed session) applies on top of this.
     * @param {boolean} readOnlyFlag
     */
    setReadOnly(readOnlyFlag) {
      userReadOnly = !!readOnlyFlag;
      applyReadOnly();
    },

    /** @returns {number|null} the live version this editor is synced to (null without live mode). */
    liveVersion() {
      return liveSession ? liveSession.sync.version() : null;
    },

    /**
     * Waits until the server has confirmed all of this editor's changes (Save calls it first).
     * @param {number} [timeoutMs=2000]
     * @returns {Promise<number>} the synced live version, whose text is exactly what this editor
     *   shows; rejects with an Error after `timeoutMs`, when the socket is not connected while
     *   changes are unconfirmed (or drops during the wait), or without live mode.
     */
    flushLive(timeoutMs) {
      if (!liveSession) return Promise.reject(new Error("not in live mode"));
      const ms = Number(timeoutMs);
      return liveSession.sync.flush(Number.isFinite(ms) && ms >= 0 ? ms : 2000);
    },

    /**
     * Replaces all diagnostics. Each item: `{from, to, severity: 'error'|'warning'|'info',
     * message, source (the code, e.g. "E021"), fixes: [{label, changes: [{from, to, insert}]}]}`.
     * Spans are underlined (a zero-length span shows a small marker), the gutter marks the line,
     * hovering shows the message with one button per fix; a fix replaces each of its `from..to`
     * (mapped through edits made since this call) with its `insert`, all in one undoable
     * transaction. Positions are clamped to the document. An empty list clears everything.
     * @param {Array<{from: number, to: number, severity: string, message: string, source?: string,
     *   fixes?: Array<{label: string, changes: Array<{from: number, to: number, insert: string}>}>}>} list
     */
    setDiagnostics(list) {
      const len = view.state.doc.length;
      const fixes = [];
      const diagnostics = (Array.isArray(list) ? list : []).map((d) => {
        const from = clamp(d.from, len);
        const to = Math.max(from, clamp(d.to ?? d.from, len));
        const severity = d.severity === "error" || d.severity === "warning" || d.severity === "info" || d.severity === "hint"
          ? d.severity : "error";
        const actions = (Array.isArray(d.fixes) ? d.fixes : []).map((f) => {
          const index = fixes.length;
          fixes.push((Array.isArray(f.changes) ? f.changes : []).map((c) => {
            const cf = clamp(c.from, len);
            return { from: cf, to: Math.max(cf, clamp(c.to ?? c.from, len)), insert: c.insert == null ? "" : String(c.insert) };
          }));
          return {
            name: String(f.label ?? "Fix"),
            apply(v) {
              const changes = v.state.field(fixRanges)[index];
              if (!changes || changes.length === 0) return;
              v.dispatch({ changes, userEvent: "input.fix", scrollIntoView: true });
              v.focus();
            },
          };
        });
        const out = { from, to, severity, message: String(d.message ?? ""), actions };
        if (d.source) out.source = String(d.source);
        return out;
      });
      const spec = cmSetDiagnostics(view.state, diagnostics);
      const effects = [setFixes.of(fixes)].concat(spec.effects ?? []);
      view.dispatch({ ...spec, effects });
    },

    /**
     * Puts the cursor at `pos` (clamped), scrolls it into view (centred) and focuses the editor.
     * @param {number} pos
     */
    goTo(pos) {
      const p = clamp(pos, view.state.doc.length);
      view.dispatch({ selection: { anchor: p }, effects: EditorView.scrollIntoView(p, { y: "center" }) });
      view.focus();
    },

    /** Focuses the editor. */
    focus() {
      view.focus();
    },

    /**
     * Removes the editor from the page, detaches listeners and closes the live socket; the handle
     * is dead afterwards and no callback is called any more.
     */
    destroy() {
      if (destroyed) return;
      destroyed = true;
      if (liveSession) liveSession.destroy();
      if (media) {
        if (media.removeEventListener) media.removeEventListener("change", onScheme);
        else if (media.removeListener) media.removeListener(onScheme);
      }
      view.destroy();
    },
  };
}
