// The code editor as every page's JavaScript imports it (wasm-bindgen's `raw_module` in
// src/strategies/views/code_editor.rs): a few lines, so that only a page with a code editor
// fetches CodeMirror itself (`codemirror.js`, the bundle of codemirror.mjs, about 123 KB as
// brotli). A page that has one starts that fetch as soon as this module runs, beside the WASM.
// Copied by `editor/build` to `public/editor/loader.js`.

let bundle = null;

function load() {
  if (bundle === null) {
    bundle = import("./codemirror.js");
  }
  return bundle;
}

if (document.querySelector(".code-editor")) {
  load();
}

/** `createEditor` of codemirror.mjs (see there), once CodeMirror has arrived: a promise of the editor. */
export async function createEditor(parent, options, callbacks) {
  const { createEditor } = await load();
  return createEditor(parent, options, callbacks);
}
