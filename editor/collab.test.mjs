// Node test of collab.mjs's sync rules, without a browser or a DOM.
//
//   node editor/collab.test.mjs                 # unit cases, then the simulation (seed 1)
//   node editor/collab.test.mjs --seed 7 --edits 5000 --peers 5 --max-len 3000
//
// The unit cases drive one LiveSync by hand (frames in, frames out). The simulation runs 3–5
// peers, each an EditorState with history, against a fake authority that follows the server's
// rules (docs/COEDITING.md §3.2, §4.1): a push is accepted only at the current version (else
// "behind"), accepted updates are broadcast in order to every socket including the sender's, and a
// document over a size limit is refused. The network has random latency per frame, so frames of
// different sockets overtake each other while each socket stays in order; it drops
// acknowledgements (kills the sender's socket right after a commit), loses whole broadcasts to one
// socket (a lost NOTIFY, repaired by the client's pull or the server's periodic probe), and cuts
// connections, some for long enough that the server answers the reconnect with its whole document.
// Time is virtual and every choice comes from a seeded PRNG, so a failure replays exactly.
// Exits non-zero on any failure.

import { EditorState, EditorSelection, Transaction, ChangeSet, Text } from "@codemirror/state";
import { history, undo, redo } from "@codemirror/commands";
import { getSyncedVersion, sendableUpdates } from "@codemirror/collab";
import { LiveSync, liveState, notation, currentNotation, setNotation, localNotation } from "./collab.mjs";
import { peerSelections } from "./cursors.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

let passed = 0;
let failed = 0;
async function test(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL - ${name}\n    ${String(err && err.stack ? err.stack : err).split("\n").slice(0, 5).join("\n    ")}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function eq(actual, expected, msg) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${msg}: expected ${e}, got ${a}`);
}

// ---------------------------------------------------------------------------------------------
// Virtual time: a heap of timers ordered by (time, creation order).

class Clock {
  constructor() {
    this.now = 0;
    this.heap = [];
    this.seq = 0;
    this.dead = new Set();
    this.timers = { set: (fn, ms) => this.set(fn, ms), clear: (id) => this.dead.add(id), now: () => this.now };
  }
  set(fn, ms) {
    const e = { at: this.now + Math.max(0, Number(ms) || 0), id: ++this.seq, fn };
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
    return e.id;
  }
  next() {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    this.now = top.at;
    if (this.dead.delete(top.id)) return;
    top.fn();
  }
  /** Runs timers due up to `until` (or `ms` from now with `advance`). */
  run(until) {
    while (this.heap.length && this.heap[0].at <= until) this.next();
    this.now = Math.max(this.now, until);
  }
  advance(ms) {
    this.run(this.now + ms);
  }
}
const less = (a, b) => a.at < b.at || (a.at === b.at && a.id < b.id);

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// An editor without a view: the host LiveSync talks to.

class Editor {
  constructor({ doc, version, id, format = "yaml", clock, send, reconnect }) {
    this.id = id;
    this.composing = false;
    this.events = [];
    this.onEvent = null;
    this.state = EditorState.create({ doc, extensions: [history(), notation(format), liveState(version, id)] });
    this.sync = new LiveSync({
      host: { state: () => this.state, dispatch: (t) => this.dispatch(t), composing: () => this.composing },
      clientID: id,
      send,
      reconnect,
      report: (e) => {
        this.events.push(e);
        if (this.onEvent) this.onEvent(e);
      },
      timers: clock.timers,
    });
  }
  dispatch(t) {
    const tr = t instanceof Transaction ? t : this.state.update(t);
    this.state = tr.state;
    this.sync.noteTransactions([tr]);
    return tr;
  }
  get text() {
    return this.state.doc.toString();
  }
  type(pos, insert, to = pos) {
    return this.dispatch({ changes: { from: pos, to, insert }, selection: { anchor: pos + insert.length }, userEvent: "input.type" });
  }
  undo() {
    let tr = null;
    undo({ state: this.state, dispatch: (t) => (tr = this.dispatch(t)) });
    return tr;
  }
  redo() {
    let tr = null;
    redo({ state: this.state, dispatch: (t) => (tr = this.dispatch(t)) });
    return tr;
  }
  events_(kind) {
    return this.events.filter((e) => e.kind === kind);
  }
}

// One editor whose frames are collected, for the unit cases.
function client({ doc = "hello world\n", version = 0, id = "me", format = "yaml" } = {}) {
  const clock = new Clock();
  const sent = [];
  const ed = new Editor({
    doc, version, id, format, clock,
    send: (f) => sent.push(JSON.parse(JSON.stringify(f))),
    reconnect: () => {
      ed.reconnects = (ed.reconnects || 0) + 1;
      ed.sync.closed();
    },
  });
  ed.clock = clock;
  ed.sent = sent;
  ed.frames = (t) => sent.filter((f) => f.t === t);
  ed.sync.opened();
  clock.advance(0);
  return ed;
}
const insertAt = (len, pos, text) => ChangeSet.of({ from: pos, insert: text }, len).toJSON();

// ---------------------------------------------------------------------------------------------
// Unit cases

await test("hello carries the client id and the start version; own selection is sent", () => {
  const ed = client({ version: 41, id: "k3f9a2" });
  eq(ed.sent[0], { t: "hello", client: "k3f9a2", v: 41 }, "hello");
  eq(ed.frames("sel")[0], { t: "sel", v: 41, r: [[0, 0]] }, "first sel");
});

await test("typing pushes once; a second edit waits for the confirmation, then is pushed", () => {
  const ed = client({ version: 3 });
  ed.type(0, "A");
  ed.clock.advance(0);
  ed.type(1, "B");
  ed.clock.advance(0);
  const pushes = ed.frames("push");
  eq(pushes.length, 1, "pushes in flight");
  eq(pushes[0].v, 3, "push version");
  eq(pushes[0].u.length, 1, "updates in first push");
  ed.sync.received({ t: "updates", from: 3, u: [{ c: pushes[0].u[0].c, client: "me" }] });
  ed.clock.advance(0);
  eq(ed.frames("push").length, 2, "second push after confirmation");
  eq(ed.frames("push")[1].v, 4, "second push version");
  eq(ed.text, "ABhello world\n", "text");
});

await test("behind, then updates: re-pushes without further typing", () => {
  const ed = client({ doc: "abc", version: 0 });
  ed.type(3, "X");
  ed.clock.advance(0);
  ed.sync.received({ t: "behind", v: 1 });
  ed.clock.advance(0);
  eq(ed.frames("push").length, 1, "no re-push before the missing update");
  ed.sync.received({ t: "updates", from: 0, u: [{ c: insertAt(3, 0, "R"), client: "other" }] });
  ed.clock.advance(0);
  const pushes = ed.frames("push");
  eq(pushes.length, 2, "re-pushed");
  eq(pushes[1].v, 1, "re-push version");
  eq(ChangeSet.fromJSON(pushes[1].u[0].c).apply(Text.of(["Rabc"])).toString(), "RabcX", "rebased change");
  eq(ed.text, "RabcX", "text");
});

await test("updates first, then behind: re-pushes at once", () => {
  const ed = client({ doc: "abc", version: 0 });
  ed.type(0, "X");
  ed.clock.advance(0);
  ed.sync.received({ t: "updates", from: 0, u: [{ c: insertAt(3, 3, "R"), client: "other" }] });
  ed.clock.advance(0);
  eq(ed.frames("push").length, 1, "no second push while the first is unanswered");
  ed.sync.received({ t: "behind", v: 1 });
  ed.clock.advance(0);
  eq(ed.frames("push").length, 2, "re-pushed after behind");
  eq(ed.frames("push")[1].v, 1, "re-push version");
});

await test("behind with nothing arriving: pull after 1 s, and again", () => {
  const ed = client({ doc: "abc", version: 2 });
  ed.type(0, "X");
  ed.clock.advance(0);
  ed.sync.received({ t: "behind", v: 5 });
  ed.clock.advance(999);
  eq(ed.frames("pull").length, 0, "no pull yet");
  ed.clock.advance(2);
  eq(ed.frames("pull"), [{ t: "pull", v: 2 }], "pull");
  ed.clock.advance(1000);
  eq(ed.frames("pull").length, 2, "pulls again");
});

await test("a gap in updates sends pull; updates already had are skipped", () => {
  const ed = client({ doc: "abc", version: 0 });
  ed.sync.received({ t: "updates", from: 1, u: [{ c: insertAt(4, 0, "Q"), client: "o" }] });
  eq(ed.frames("pull"), [{ t: "pull", v: 0 }], "pull on gap");
  eq(ed.text, "abc", "gap not applied");
  const u1 = { c: insertAt(3, 0, "P"), client: "o" };
  const u2 = { c: insertAt(4, 0, "Q"), client: "o" };
  ed.sync.received({ t: "updates", from: 0, u: [u1] });
  ed.sync.received({ t: "updates", from: 0, u: [u1, u2] });
  eq(ed.text, "QPabc", "skipped the update already had");
  eq(getSyncedVersion(ed.state), 2, "version");
  eq(ed.events_("remote").length, 2, "remote events");
});

await test("refused: reverts to the confirmed text, reports the refused text, continues", () => {
  const ed = client({ doc: "abc", version: 7 });
  ed.type(3, "TOO BIG");
  ed.clock.advance(0);
  ed.sync.received({ t: "refused", code: "too_large", message: "Too large", v: 7 });
  ed.clock.advance(0);
  eq(ed.text, "abc", "reverted");
  eq(sendableUpdates(ed.state).length, 0, "unconfirmed dropped");
  eq(ed.events_("refused"), [{ kind: "refused", code: "too_large", message: "Too large", text: "abcTOO BIG" }], "event");
  ed.type(0, "ok ");
  ed.clock.advance(0);
  const last = ed.frames("push").pop();
  eq(last.v, 7, "next push version");
  eq(last.u.length, 1, "only the new change is pushed");
});

await test("doc frame with unconfirmed changes reports diverged with both texts, then shows the server's", () => {
  const ed = client({ doc: "line 1\n", version: 3 });
  ed.sync.closed();
  ed.type(7, "mine\n");
  ed.sync.opened();
  ed.sync.received({ t: "doc", v: 57, text: "line 1\ntheirs\n", format: "toml", saved: { version: 7, live: 50 }, read_only: null });
  eq(ed.events_("diverged"), [{ kind: "diverged", mine: "line 1\nmine\n", theirs: "line 1\ntheirs\n", base: "line 1\n", version: 57 }], "diverged");
  eq(ed.text, "line 1\ntheirs\n", "server text");
  eq(getSyncedVersion(ed.state), 57, "version");
  eq(sendableUpdates(ed.state).length, 0, "unconfirmed");
  eq(currentNotation(ed.state), "toml", "notation");
  eq(ed.events_("doc")[0], { kind: "doc", version: 57, format: "toml", saved: { version: 7, live: 50 } }, "doc event");
  eq(ed.events_("mode")[0], { kind: "mode", readOnly: null }, "mode event");
  // The Rust side merges and calls replaceText: an ordinary change pushed at the new version.
  ed.type(14, "mine\n");
  ed.clock.advance(0);
  const last = ed.frames("push").pop();
  eq(last.v, 57, "merge pushed at the server's version");
});

await test("doc frame without unconfirmed changes: silent reset", () => {
  const ed = client({ doc: "a", version: 3 });
  ed.sync.received({ t: "doc", v: 9, text: "b", format: "yaml", saved: null, read_only: "sentence" });
  eq(ed.text, "b", "text");
  eq(ed.events_("diverged").length, 0, "no diverged");
  eq(ed.events_("mode")[0], { kind: "mode", readOnly: "sentence" }, "mode");
});

await test("undo after remote changes undoes only the own text (and stays possible)", () => {
  const ed = client({ doc: "base\n", version: 0 });
  ed.type(5, "mine");
  ed.clock.advance(0);
  ed.sync.received({ t: "updates", from: 0, u: [{ c: insertAt(5, 0, "REMOTE "), client: "o" }] });
  ed.clock.advance(0);
  ed.sync.received({ t: "behind", v: 1 });
  ed.clock.advance(0);
  const push = ed.frames("push").pop();
  ed.sync.received({ t: "updates", from: 1, u: [{ c: push.u[0].c, client: "me" }] });
  eq(ed.text, "REMOTE base\nmine", "before undo");
  ed.undo();
  eq(ed.text, "REMOTE base\n", "undo removed only own text");
  ed.redo();
  eq(ed.text, "REMOTE base\nmine", "redo");
});

await test("IME: updates and pushes are held while composing, applied at the end", () => {
  const ed = client({ doc: "abc", version: 0 });
  ed.composing = true;
  ed.type(3, "ni");
  ed.clock.advance(0);
  ed.sync.received({ t: "updates", from: 0, u: [{ c: insertAt(3, 0, "R"), client: "o" }] });
  eq(ed.text, "abcni", "remote change held");
  eq(ed.frames("push").length, 0, "push held");
  ed.clock.advance(500);
  ed.composing = false;
  ed.sync.resume();
  ed.clock.advance(0);
  eq(ed.text, "Rabcni", "applied after composition");
  eq(ed.frames("push").length, 1, "pushed after composition");
  eq(ed.frames("push")[0].v, 1, "push at the new version");
});

await test("IME: holding is capped at 2 s", () => {
  const ed = client({ doc: "abc", version: 0 });
  ed.composing = true;
  ed.sync.received({ t: "updates", from: 0, u: [{ c: insertAt(3, 0, "R"), client: "o" }] });
  ed.clock.advance(1990);
  eq(ed.text, "abc", "held");
  ed.clock.advance(20);
  eq(ed.text, "Rabc", "applied after the cap");
});

await test("input filter: U+0000 and lone surrogates become U+FFFD; pairs survive", () => {
  const ed = client({ doc: "x", version: 0 });
  ed.type(1, "a\u0000b\ud800c\udc00d😀e");
  eq(ed.text, "xa\ufffdb\ufffdc\ufffdd😀e", "cleaned");
  ed.type(0, "\ud83d");
  eq(ed.text.charCodeAt(0), 0xfffd, "lone high at the start");
  ed.clock.advance(0);
  const push = ed.frames("push")[0];
  assert(!JSON.stringify(push).includes("\\u0000"), "no U+0000 pushed");
});

await test("notation switch: pushed with f; a received f switches; undo switches back and is shared", () => {
  const a = client({ doc: "a: 1\n", version: 0, id: "A" });
  a.dispatch({ changes: { from: 0, to: 5, insert: "a = 1\n" }, effects: setNotation.of("toml") });
  a.clock.advance(0);
  const push = a.frames("push")[0];
  eq(push.u[0].f, "toml", "f in push");
  const b = client({ doc: "a: 1\n", version: 0, id: "B" });
  b.sync.received({ t: "updates", from: 0, u: [{ c: push.u[0].c, client: "A", f: "toml" }] });
  eq(currentNotation(b.state), "toml", "peer switched");
  eq(b.text, "a = 1\n", "peer text");
  a.sync.received({ t: "updates", from: 0, u: [{ c: push.u[0].c, client: "A", f: "toml" }] });
  a.undo();
  eq(currentNotation(a.state), "yaml", "undo switched back");
  eq(a.text, "a: 1\n", "undo text");
  a.clock.advance(0);
  eq(a.frames("push").pop().u[0].f, "yaml", "undo shared");
  // A local-only switch (setFormat) is not pushed.
  const c = client({ doc: "x", version: 0, id: "C" });
  c.dispatch({ effects: setNotation.of("toml"), annotations: [localNotation.of(true), Transaction.addToHistory.of(false)] });
  c.clock.advance(0);
  eq(c.frames("push").length, 0, "setFormat not pushed");
});

await test("notation: concurrent switches end on the server's last one", () => {
  const a = client({ doc: "x", version: 0, id: "A" });
  a.dispatch({ effects: setNotation.of("toml") });
  a.clock.advance(0);
  // B's switch to yaml... was accepted first (version 1), then A's (version 2): A's wins.
  a.sync.received({ t: "updates", from: 0, u: [{ c: [1], client: "B", f: "yaml" }] });
  eq(currentNotation(a.state), "toml", "own pending switch is later in the server's order");
  a.sync.received({ t: "behind", v: 1 });
  a.clock.advance(0);
  const p = a.frames("push").pop();
  a.sync.received({ t: "updates", from: 1, u: [{ c: p.u[0].c, client: "A", f: "toml" }, { c: [1], client: "B", f: "yaml" }] });
  eq(currentNotation(a.state), "yaml", "a later foreign switch wins");
});

await test("tabs of one browser are told apart: this browser's other tabs are 'You · tab N', other repeated labels get '(tab N)'", () => {
  const ed = client({ doc: "0123456789", version: 0 });
  const own = ed.sync.clientID;
  // Clients sorted around this tab's id, so that the numbering is checked, not assumed.
  const before = "0" + own;
  const after = own + "z";
  ed.sync.received({
    t: "peers",
    you: "You · Chrome",
    peers: [
      { client: after, label: "You · Chrome", hue: 1 },
      { client: before, label: "You · Chrome", hue: 2 },
      { client: "f", label: "You · Firefox", hue: 3 },
      { client: "s2", label: "You · Safari", hue: 4 },
      { client: "s1", label: "You · Safari", hue: 5 },
    ],
  });
  const labels = Object.fromEntries(ed.events_("peers").pop().peers.map((p) => [p.client, p.label]));
  eq(labels, {
    [after]: "You · tab 3",
    [before]: "You · tab 1",
    f: "You · Firefox",
    s2: "You · Safari (tab 2)",
    s1: "You · Safari (tab 1)",
  }, "labels");
  ed.sync.received({ t: "sel", client: after, label: "You · Chrome", hue: 1, v: 0, r: [[2, 2]] });
  eq(ed.state.field(peerSelections)[0].label, "You · tab 3", "the cursor wears the same label");
});

await test("peer selections: mapped from older versions, held when newer, dropped after 30 s", () => {
  const ed = client({ doc: "0123456789", version: 0 });
  ed.sync.received({ t: "peers", peers: [{ client: "p", label: "You · tab 2", hue: 30 }] });
  eq(ed.events_("peers").pop().peers, [{ client: "p", label: "You · tab 2", hue: 30 }], "peers");
  ed.sync.received({ t: "updates", from: 0, u: [{ c: insertAt(10, 0, "AB"), client: "o" }] });
  ed.sync.received({ t: "sel", client: "p", label: "You · tab 2", hue: 30, v: 0, r: [[5, 7]] });
  eq(ed.state.field(peerSelections)[0].ranges, [[7, 9]], "older version mapped through the ring");
  ed.sync.received({ t: "sel", client: "p", label: "You · tab 2", hue: 30, v: 2, r: [[1, 1]] });
  eq(ed.state.field(peerSelections)[0].ranges, [[7, 9]], "newer version held");
  ed.type(0, "me");
  ed.sync.received({ t: "updates", from: 1, u: [{ c: insertAt(12, 12, "Z"), client: "o" }] });
  eq(ed.state.field(peerSelections)[0].ranges, [[3, 3]], "held frame applied, mapped through own unconfirmed change");
  ed.type(0, "xyz");
  eq(ed.state.field(peerSelections)[0].ranges, [[6, 6]], "mapped through later local edits");
  ed.clock.advance(36000);
  eq(ed.state.field(peerSelections).length, 0, "expired");
  ed.sync.received({ t: "sel", client: "p", label: "x", hue: 1, v: 2, r: [[99, 99]] });
  eq(ed.state.field(peerSelections).length, 0, "out of range dropped");
  ed.sync.received({ t: "gone", client: "p" });
  eq(ed.events_("peers").pop().peers, [], "gone");
});

await test("own selection is sent at the synced version (mapped back through unconfirmed changes), throttled", () => {
  const ed = client({ doc: "abcdef", version: 4 });
  ed.clock.advance(100);
  const before = ed.frames("sel").length;
  ed.type(0, "XY");
  ed.dispatch({ selection: EditorSelection.cursor(6) });
  ed.dispatch({ selection: EditorSelection.cursor(7) });
  ed.clock.advance(0);
  eq(ed.frames("sel").length, before + 1, "one frame at once");
  ed.dispatch({ selection: EditorSelection.cursor(8) });
  ed.clock.advance(10);
  eq(ed.frames("sel").length, before + 1, "throttled");
  ed.clock.advance(50);
  eq(ed.frames("sel").pop(), { t: "sel", v: 4, r: [[6, 6]] }, "position at the synced version");
  ed.clock.advance(10000);
  assert(ed.frames("sel").length >= before + 3, "heartbeat");
});

await test("flush: resolves with the version once confirmed; rejects on timeout and when not connected", async () => {
  const ed = client({ doc: "a", version: 1 });
  ed.type(1, "b");
  ed.clock.advance(0);
  let got = null;
  ed.sync.flush(2000).then((v) => (got = v));
  const p = ed.frames("push")[0];
  ed.sync.received({ t: "updates", from: 1, u: [{ c: p.u[0].c, client: "me" }] });
  await null;
  eq(got, 2, "flushed version");
  ed.type(0, "c");
  let err = null;
  ed.sync.flush(500).catch((e) => (err = e));
  ed.clock.advance(600);
  await null;
  assert(err instanceof Error, "timeout rejects");
  ed.sync.closed();
  let err2 = null;
  await ed.sync.flush(500).catch((e) => (err2 = e));
  assert(err2 instanceof Error, "not connected rejects");
});

await test("closed: reports, stops for good", () => {
  const ed = client({ doc: "a", version: 1 });
  ed.sync.received({ t: "closed", code: "deleted", message: "The strategy was deleted." });
  eq(ed.events_("closed"), [{ kind: "closed", code: "deleted", message: "The strategy was deleted." }], "closed event");
  assert(ed.sync.finished, "finished");
  const n = ed.sent.length;
  ed.type(0, "x");
  ed.clock.advance(60000);
  eq(ed.sent.length, n, "nothing sent after closed");
});

await test("an update that does not fit the text: resynchronise with the whole document", () => {
  const ed = client({ doc: "abc", version: 0 });
  const warn = console.warn;
  console.warn = () => {};
  ed.sync.received({ t: "updates", from: 0, u: [{ c: [10, [0, "x"]], client: "o" }] });
  console.warn = warn;
  eq(ed.reconnects, 1, "reconnect asked");
  ed.sync.opened();
  eq(ed.sent.filter((f) => f.t === "hello").pop(), { t: "hello", client: "me" }, "hello without v");
});

// ---------------------------------------------------------------------------------------------
// The simulation

const TOKEN = /\[[a-h]\d+\]/g; // a unique token: [<peer letter><n>]
const BAD_TEXT = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const FILLER = ["a", "b", "x", " ", "\n", "é", "😀", "  - k: v\n", "\0", "\ud800"];

function simulate({ seed, edits, peers: n, maxLen = 12000, retain = 300 }) {
  const rnd = mulberry32(seed);
  const pick = (k) => Math.floor(rnd() * k);
  const clock = new Clock();
  const stats = { behind: 0, refused: 0, docs: 0, diverged: 0, drops: 0, lostNotify: 0, droppedAcks: 0, maxPending: 0, cursors: 0 };
  const lat = () => 1 + rnd() * 25 + (rnd() < 0.03 ? 150 : 0);
  const start = "# shared\nname: sim\n";
  const server = { doc: Text.of(start.split("\n")), version: 0, log: [], format: "yaml", links: new Set() };
  const expected = new Map(); // token -> how often it must appear at the end (0 after a reported loss or an undo)
  let chaos = true;

  // A socket: each direction is FIFO (a frame is never delivered before the one sent before it),
  // with its own random latency, so frames of different sockets overtake each other.
  class Link {
    constructor(peer) {
      Object.assign(this, { peer, alive: true, up: 0, down: 0, ready: false, forwarded: 0 });
    }
    send(last, to, frame) {
      if (!this.alive) return last;
      const data = JSON.stringify(frame);
      const at = Math.max(last, clock.now + lat());
      clock.set(() => this.alive && to(JSON.parse(data)), at - clock.now);
      return at;
    }
    toServer(f) {
      this.up = this.send(this.up, (x) => serverFrame(this, x), f);
    }
    toClient(f) {
      this.down = this.send(this.down, (x) => this.peer.link === this && this.peer.ed.sync.received(x), f);
    }
  }

  const kill = (link) => {
    if (!link.alive) return;
    link.alive = false;
    server.links.delete(link);
    for (const l of server.links) l.toClient({ t: "gone", client: link.client });
    clock.set(() => lost(link.peer, link), lat()); // the client notices a little later
  };
  const lost = (peer, link, delay) => {
    if (peer.link !== link) return;
    peer.link = null;
    peer.ed.sync.closed();
    clock.set(() => !peer.link && connect(peer), delay ?? 50 + rnd() * 400);
  };
  const drop = (peer, delay) => {
    const link = peer.link;
    if (!link) return;
    kill(link);
    lost(peer, link, delay);
  };
  const connect = (peer) => {
    const link = (peer.link = new Link(peer));
    clock.set(() => link.alive && clock.set(() => link.alive && peer.link === link && peer.ed.sync.opened(), lat()), lat());
  };

  // The authority.
  const catchUp = (link, v) => {
    if (v == null || v < server.version - retain || v > server.version) {
      stats.docs++;
      link.toClient({ t: "doc", v: server.version, text: server.doc.toString(), format: server.format, saved: null, read_only: null });
    } else if (v < server.version) {
      link.toClient({ t: "updates", from: v, u: server.log.slice(v) });
    }
    link.forwarded = server.version;
  };
  const serverFrame = (link, f) => {
    if (f.t === "hello") {
      Object.assign(link, { client: f.client, ready: true });
      server.links.add(link);
      catchUp(link, f.v);
      const all = [...server.links].map((l) => ({ client: l.client, label: `peer ${l.client}`, hue: 70 * Number(l.client.slice(1)) }));
      for (const l of server.links) l.toClient({ t: "peers", peers: all.filter((p) => p.client !== l.client) });
    } else if (f.t === "pull") {
      catchUp(link, f.v);
    } else if (f.t === "sel") {
      for (const l of server.links) if (l !== link) l.toClient({ t: "sel", client: link.client, label: `peer ${link.client}`, hue: 1, v: f.v, r: f.r });
    } else if (f.t === "ping") {
      link.toClient({ t: "pong" });
    } else if (f.t === "push") {
      if (f.v !== server.version) {
        stats.behind++;
        return link.toClient({ t: "behind", v: server.version });
      }
      let doc = server.doc;
      let format = server.format;
      for (const u of f.u) {
        const cs = ChangeSet.fromJSON(u.c);
        assert(cs.length === doc.length, "a push that does not fit the server's text");
        doc = cs.apply(doc);
        format = u.f || format;
      }
      assert(!BAD_TEXT.test(doc.toString()), "a push with U+0000 or a lone surrogate");
      if (doc.length > maxLen) {
        stats.refused++;
        return link.toClient({ t: "refused", code: "too_large", message: "too large", v: server.version });
      }
      const from = server.version;
      const u = f.u.map((x) => ({ ...x, client: link.client }));
      Object.assign(server, { doc, format, version: from + u.length });
      server.log.push(...u);
      for (const l of server.links) {
        if (chaos && rnd() < 0.02) stats.lostNotify++; // this socket misses the broadcast
        else if (l.ready) {
          l.toClient({ t: "updates", from, u });
          l.forwarded = server.version;
        }
      }
      if (chaos && rnd() < 0.03) {
        stats.droppedAcks++; // committed, but the socket dies before the sender hears it
        kill(link);
      }
    }
  };
  // The room's periodic version probe repairs a lost last broadcast.
  const probe = () => {
    for (const l of server.links) if (l.ready && l.forwarded < server.version) catchUp(l, l.forwarded);
    clock.set(probe, 10000);
  };
  probe();

  // The peers.
  const own = (peer, text) => [...text.matchAll(TOKEN)].map((m) => m[0]).filter((t) => t[1] === peer.letter);
  // The owner's own tokens that an undo, a redo or a refusal removed or brought back.
  const track = (peer, from, to) => {
    const before = new Set(own(peer, from));
    const after = new Set(own(peer, to));
    for (const t of before) if (!after.has(t)) expected.set(t, 0);
    for (const t of after) if (!before.has(t)) expected.set(t, 1);
  };
  const trackTr = (peer, tr) => tr && tr.docChanged && track(peer, tr.startState.doc.toString(), tr.state.doc.toString());
  const onEvent = (peer, e) => {
    if (e.kind === "refused") {
      track(peer, e.text, peer.ed.text);
    } else if (e.kind === "diverged") {
      // What the Rust side's merge does for these texts: keep the server's, add back own tokens
      // only "mine" has (as a later ordinary change).
      stats.diverged++;
      for (const t of own(peer, e.theirs)) if (!e.mine.includes(t)) expected.set(t, 1);
      const missing = own(peer, e.mine).filter((t) => !e.theirs.includes(t));
      if (missing.length) clock.set(() => peer.ed.type(peer.ed.state.doc.length, missing.join(" ")), 0);
    }
  };
  const peers = [];
  for (let i = 0; i < n; i++) {
    const peer = { id: `p${i}`, letter: "abcdefgh"[i], link: null, tokens: 0, resyncs: 0 };
    const reconnect = () => {
      if (peer.ed.sync.full) peer.resyncs++; // LiveSync asks for the whole document: a desync
      drop(peer);
    };
    peer.ed = new Editor({ doc: start, version: 0, id: peer.id, clock, send: (f) => peer.link && peer.link.toServer(f), reconnect });
    peer.ed.onEvent = (e) => onEvent(peer, e);
    peers.push(peer);
    connect(peer);
  }

  const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;
  // A position outside every token and not inside a surrogate pair.
  const freePos = (text, spans) => {
    for (let k = 0; k < 30; k++) {
      const p = pick(text.length + 1);
      if (!spans.some(([a, b]) => p > a && p < b) && !isLow(text.charCodeAt(p))) return p;
    }
    return text.length;
  };
  const checkCursors = (ed) => {
    const len = ed.state.doc.length;
    for (const p of ed.state.field(peerSelections)) {
      stats.cursors++;
      for (const [a, h] of p.ranges) assert(a >= 0 && h >= 0 && a <= len && h <= len, `cursor ${a},${h} outside 0..${len}`);
    }
  };

  const op = (peer) => {
    const ed = peer.ed;
    const text = ed.text;
    const spans = [...text.matchAll(TOKEN)].map((m) => [m.index, m.index + m[0].length]);
    const full = text.length > 0.8 * maxLen;
    const r = rnd();
    if (r < 0.4 && !full) {
      const token = `[${peer.letter}${++peer.tokens}]`;
      expected.set(token, 1);
      ed.type(freePos(text, spans), token);
    } else if (r < 0.6) {
      let s = "";
      for (let k = 1 + pick(4); k > 0; k--) s += FILLER[pick(FILLER.length)];
      ed.type(freePos(text, spans), s);
    } else if (r < 0.86 || full) {
      // Delete filler only: tokens must survive everything but their owner's undo.
      const p = freePos(text, spans);
      let end = p;
      const len = 1 + pick(full ? 80 : 8);
      while (end < text.length && end - p < len && !spans.some(([a, b]) => end >= a && end < b)) end++;
      if (isLow(text.charCodeAt(end))) end--;
      if (end > p) ed.type(p, "", end);
    } else if (r < 0.87) {
      ed.type(freePos(text, spans), "pasted: " + "lorem ipsum ".repeat(10 + pick(maxLen / 30)));
    } else if (r < 0.93) {
      trackTr(peer, ed.undo());
    } else if (r < 0.95) {
      trackTr(peer, ed.redo());
    } else if (r < 0.96) {
      ed.dispatch({ effects: setNotation.of(rnd() < 0.5 ? "toml" : "yaml") });
    } else if (r < 0.97 && !ed.composing) {
      ed.composing = true;
      clock.set(() => {
        ed.composing = false;
        if (rnd() < 0.7) ed.sync.resume(); // else the 2 s cap has to release it
      }, 100 + rnd() * 3000);
    } else {
      const a = pick(text.length + 1);
      ed.dispatch({ selection: EditorSelection.range(a, Math.min(text.length, a + pick(5))) });
    }
  };

  let done = 0;
  const tick = () => {
    if (++done > edits) return void (chaos = false);
    const peer = peers[pick(n)];
    op(peer);
    if (rnd() < 0.004) {
      stats.drops++;
      if (rnd() < 0.5) drop(peer, rnd() < 0.3 ? 3000 + rnd() * 4000 : undefined);
      else if (peer.link) kill(peer.link);
    }
    stats.maxPending = Math.max(stats.maxPending, sendableUpdates(peer.ed.state).length);
    checkCursors(peer.ed);
    clock.set(tick, pick(12));
  };
  tick();

  const settled = () =>
    !chaos && peers.every((p) => p.link && p.ed.sync.connected && !p.ed.composing && !p.ed.sync.held.length &&
      !sendableUpdates(p.ed.state).length && getSyncedVersion(p.ed.state) === server.version);
  const deadline = edits * 20 + 120000;
  while (!settled() && clock.now < deadline) clock.advance(50);
  assert(settled(), `not settled after ${clock.now} ms: ${peers.map((p) => `${p.id} v${getSyncedVersion(p.ed.state)}/${server.version} ` +
    `pending ${sendableUpdates(p.ed.state).length} link ${!!p.link}`).join("; ")}`);

  const final = server.doc.toString();
  for (const p of peers) {
    eq(p.ed.text === final, true, `${p.id}'s text equals the authority's`);
    eq(currentNotation(p.ed.state), server.format, `${p.id}'s notation`);
    eq(p.resyncs, 0, `${p.id} had to resynchronise (its text did not match the server's)`);
    checkCursors(p.ed);
  }
  const counts = new Map();
  for (const m of final.matchAll(TOKEN)) counts.set(m[0], (counts.get(m[0]) || 0) + 1);
  for (const [t, c] of counts) assert(expected.has(t), `unknown token ${t}`);
  const wrong = [...expected].filter(([t, want]) => (counts.get(t) || 0) !== want);
  assert(!wrong.length, `tokens not as expected (token, expected): ${JSON.stringify(wrong.slice(0, 10))} of ${wrong.length}; ` +
    `counts ${JSON.stringify(wrong.slice(0, 10).map(([t]) => counts.get(t) || 0))}`);
  assert(stats.maxPending < 1000, `unconfirmed list grew to ${stats.maxPending}`);
  assert(stats.cursors > 0, "no remote cursor was ever seen");
  const kept = [...expected.values()].filter((x) => x === 1).length;
  return {
    summary: `${server.version} versions, ${final.length} chars, ${kept}/${expected.size} tokens kept; ` +
      Object.entries(stats).map(([k, v]) => `${k} ${v}`).join(", ") + `; virtual ${Math.round(clock.now / 1000)} s`,
  };
}

const seed = arg("seed", 1);
const edits = arg("edits", 2400);
const count = arg("peers", 4);
const maxLen = arg("max-len", 12000);
await test(`simulation: ${count} peers, ${edits} random edits, seed ${seed}`, () =>
  console.log(`    ${simulate({ seed, edits, peers: count, maxLen }).summary}`));
if (!process.argv.includes("--seed")) {
  await test("simulation: 3 peers, small size limit (refusals), seed 2", () =>
    console.log(`    ${simulate({ seed: 2, edits: 800, peers: 3, maxLen: 2500 }).summary}`));
  await test("simulation: 5 peers, seed 3", () => console.log(`    ${simulate({ seed: 3, edits: 1500, peers: 5 }).summary}`));
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
