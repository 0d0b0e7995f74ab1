// The cross-language fixture of crates/live_document: CodeMirror's own ChangeSet.apply on random
// documents and changes, so the Rust authority is checked against the editor it serves.
//
//   node editor/changesets.mjs   # writes crates/live_document/tests/data/changesets.json
//
// Each entry is {doc, changes, result, length}: `changes` is ChangeSet.toJSON(), `result` is
// changes.apply(Text.of(doc.split("\n"))).toString() and `length` its UTF-16 length. The PRNG is
// seeded, so running it again writes the same file. Changes start and end only between whole
// characters: CodeMirror would split a surrogate pair, the authority refuses to.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ChangeSet, Text } from "@codemirror/state";

const here = path.dirname(fileURLToPath(import.meta.url));
const output = path.join(here, "../crates/live_document/tests/data/changesets.json");
const COUNT = 2000;

// mulberry32: small, seeded, and the same on every node.
function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = generator(20261207);
const below = (n) => Math.floor(random() * n);
const pick = (items) => items[below(items.length)];

// Pieces of text: ASCII, two-byte and three-byte UTF-8, astral characters (a surrogate pair in
// UTF-16, four bytes in UTF-8), and a strategy's own words.
const PIECES = ["a", "b", "z", " ", "  ", "\t", "key: 1", "rsi(14)", "é", "ß", "中文", "😀", "𝄞", "#", "-", "=", "\""];
const INSERTS = ["", "x", "\n", "\n\n", "é", "中", "😀", "𝄞😀", "line\nnext", "a\n", "\nb", "ß𝄞\n中文"];

function line() {
  const pieces = below(5);
  let text = "";
  for (let i = 0; i < pieces; i++) text += pick(PIECES);
  return text;
}

function documentText() {
  if (below(12) === 0) return "";
  const lines = [];
  // Now and then a longer document, so the Rust walk crosses its 64-byte chunks too.
  const count = below(8) === 0 ? 10 + below(20) : 1 + below(7);
  for (let i = 0; i < count; i++) lines.push(below(5) === 0 ? "" : line());
  // Half the documents end with a newline, half end on a last line without one.
  return lines.join("\n") + (below(2) === 0 ? "\n" : "");
}

// The UTF-16 offsets where a change may start or end: not between the halves of a pair.
function boundaries(doc) {
  const found = [0];
  for (let i = 1; i <= doc.length; i++) {
    if (!isHighSurrogate(doc.charCodeAt(i - 1)) || i === doc.length) found.push(i);
  }
  return found;
}
const isHighSurrogate = (code) => code >= 0xd800 && code <= 0xdbff;

function insertText(kind) {
  if (kind === "delete") return "";
  const text = pick(INSERTS);
  return text === "" && kind === "insert" ? "x" : text;
}

// Sorted, non-overlapping ranges on whole characters, each a delete, an insert or a replace.
function changeSpecs(doc) {
  const points = boundaries(doc);
  const kind = pick(["insert", "delete", "replace", "mixed", "mixed"]);
  const ranges = kind === "mixed" ? 1 + below(4) : 1 + below(2);
  const chosen = [];
  for (let i = 0; i < ranges * 2; i++) chosen.push(pick(points));
  chosen.sort((a, b) => a - b);
  const specs = [];
  for (let i = 0; i < chosen.length; i += 2) {
    const rangeKind = kind === "mixed" ? pick(["insert", "delete", "replace"]) : kind;
    const from = chosen[i];
    const to = rangeKind === "insert" ? from : chosen[i + 1];
    specs.push({ from, to, insert: insertText(rangeKind) });
  }
  return specs;
}

function changesFor(doc) {
  const first = ChangeSet.of(changeSpecs(doc), doc.length);
  if (below(6) !== 0) return first;
  // Sometimes two changes composed: adjacent sections of every kind, as the editor sends them.
  const middle = first.apply(Text.of(doc.split("\n"))).toString();
  return first.compose(ChangeSet.of(changeSpecs(middle), middle.length));
}

// Whether any kept, deleted or replaced range starts or ends inside a surrogate pair.
function splitsAPair(doc, json) {
  let at = 0;
  for (const part of json) {
    at += typeof part === "number" ? part : part[0];
    if (at > 0 && at < doc.length && isHighSurrogate(doc.charCodeAt(at - 1))) return true;
  }
  return false;
}

const entries = [];
while (entries.length < COUNT) {
  const doc = documentText();
  const changes = changesFor(doc);
  const json = changes.toJSON();
  if (splitsAPair(doc, json)) continue;
  const result = changes.apply(Text.of(doc.split("\n")));
  entries.push({ doc, changes: json, result: result.toString(), length: result.length });
}

fs.mkdirSync(path.dirname(output), { recursive: true });
fs.writeFileSync(output, "[\n" + entries.map((entry) => JSON.stringify(entry)).join(",\n") + "\n]\n");
console.log(`wrote ${entries.length} change sets to ${path.relative(process.cwd(), output)}`);
