// Live co-editing: the browser side of the live document protocol (docs/COEDITING.md §3 and
// §4.1), built on @codemirror/collab.
//
// This module owns one editor's view of a live document: what the server has confirmed (the
// synced version and its text) and what is still to be pushed, the frames exchanged with the
// server, the notation (YAML/TOML) as an effect shared with every peer, the filter that keeps
// U+0000 and lone surrogates out of the document, and the WebSocket with its reconnects. Other
// peers' cursors are kept and drawn by cursors.mjs.
//
// It is split so that the sync rules run in node without a DOM (collab.test.mjs):
// - `LiveSync` is the state machine. It reads and changes the editor through a host
//   `{state(), dispatch(transaction or spec), composing()}`, sends plain frame objects through
//   `send(frame)`, asks for a fresh connection through `reconnect()`, and is told by the transport
//   `opened()`, `received(frame)` and `closed()`. The host calls `noteTransactions(trs)` after
//   every update.
// - `liveEditor(config)` wires a LiveSync to an EditorView and a real WebSocket.
//
// The editor never seeds the live document: it starts from the (text, version) the server
// rendered into the page, and the server is the only authority on order.

import { Annotation, ChangeSet, Compartment, EditorState, StateEffect, StateField, Transaction } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { collab, getSyncedVersion, receiveUpdates, sendableUpdates } from "@codemirror/collab";
import { invertedEffects } from "@codemirror/commands";
import { peerCursors, peerSelections, setPeerSelection, dropPeerSelections } from "./cursors.mjs";

const SEL_EVERY = 50; // ms between two selection frames
const HEARTBEAT = 10000; // re-send the selection so peers' copies never expire (their TTL is 30 s)
const PING = 30000;
const PONG_WAIT = 10000; // no frame at all this long after a ping: the socket is dead, reconnect
const CURSOR_TTL = 30000; // a copy that died never sends "gone"
const HOLD_CAP = 2000; // longest hold of frames and pushes during an IME composition
const BEHIND_WAIT = 1000; // after "behind", pull if the missing updates have not arrived by then
const RING = 64; // received updates kept to map cursor frames made at older versions
const MAX_RANGES = 16;
const NOT_CONNECTED = "not connected to the live document";

const toInt = (x) => (Number.isSafeInteger(x) && x >= 0 ? x : null);
const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;

/** Smallest single splice turning `a` into `b` (common prefix and suffix), or null if equal. */
export function diff(a, b) {
  if (a === b) return null;
  const min = Math.min(a.length, b.length);
  let start = 0;
  while (start < min && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  // Do not split a surrogate pair (the server refuses a change boundary inside one).
  if (start > 0 && isHigh(a.charCodeAt(start - 1))) start--;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a.charCodeAt(endA - 1) === b.charCodeAt(endB - 1)) {
    endA--;
    endB--;
  }
  if (endA < a.length && isLow(a.charCodeAt(endA))) {
    endA++;
    endB++;
  }
  return { from: start, to: endA, insert: b.slice(start, endB) };
}

// ---------------------------------------------------------------------------------------------
// The notation

/** Switches the notation ("yaml" | "toml"). Shared with peers unless the transaction is `localNotation`. */
export const setNotation = StateEffect.define();
/** Marks a notation change that only concerns this editor (setFormat, a reset to the server's). */
export const localNotation = Annotation.define();

const notationField = StateField.define({
  create: () => "yaml",
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setNotation)) value = e.value;
    return value;
  },
});

/** The editor's current notation. */
export const currentNotation = (state) => state.field(notationField, false) || "yaml";
const notationOf = (effects) => {
  let f = null;
  for (const e of effects || []) if (e.is(setNotation)) f = e.value;
  return f;
};

/** Tracks the notation; undoing a shared switch switches back (and that is shared too). */
export function notation(format) {
  return [
    notationField.init(() => (format === "toml" ? "toml" : "yaml")),
    invertedEffects.of((tr) => {
      const before = tr.startState.field(notationField);
      return tr.annotation(localNotation) || tr.state.field(notationField) === before ? [] : [setNotation.of(before)];
    }),
  ];
}

const sharedEffects = (tr) => (tr.annotation(localNotation) ? [] : tr.effects.filter((e) => e.is(setNotation)));

// collab() sits in a compartment so that a reset can remove it and add it back: that is the only
// way to start its state again at a new version without its unconfirmed updates.
const collabSlot = new Compartment();
const collabAt = (version, clientID) => collab({ startVersion: version, clientID, sharedEffects });

// ---------------------------------------------------------------------------------------------
// Input filter

/**
 * Replaces U+0000 and lone surrogates in inserted text with U+FFFD before they enter the document
 * (the server refuses them; U+FFFD keeps lengths and positions unchanged). Remote updates skip
 * filters and are clean already.
 */
export const cleanInput = EditorState.transactionFilter.of((tr) => {
  if (!tr.docChanged) return tr;
  const fixes = [];
  tr.changes.iterChanges((_fromA, _toA, from, to, inserted) => {
    const text = from === to ? "" : inserted.toString();
    if (!/[\0\ud800-\udfff]/.test(text)) return;
    const doc = tr.newDoc;
    const at = (pos) => (pos >= 0 && pos < doc.length ? doc.sliceString(pos, pos + 1).charCodeAt(0) : -1);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (isHigh(c)) {
        if (isLow(i + 1 < text.length ? text.charCodeAt(i + 1) : at(from + i + 1))) {
          i++;
          continue;
        }
      } else if (isLow(c)) {
        if (i === 0 && isHigh(at(from - 1))) continue;
      } else if (c !== 0) {
        continue;
      }
      fixes.push({ from: from + i, to: from + i + 1, insert: "\ufffd" });
    }
  });
  return fixes.length ? [tr, { changes: fixes, sequential: true }] : tr;
});

/** State extensions of live mode (no DOM needed): collab at `version`, the input filter, peers' cursors. */
export const liveState = (version, clientID) => [collabSlot.of(collabAt(version, clientID)), cleanInput, peerSelections];

const compose = (updates, length) => updates.reduce((c, u) => c.compose(u.changes), ChangeSet.empty(length));
const peerOf = (p) => ({ client: String(p.client), label: String(p.label ?? ""), hue: Number(p.hue) || 0 });

// ---------------------------------------------------------------------------------------------
// The sync state machine

export class LiveSync {
  /**
   * @param {{host: {state(): EditorState, dispatch(t: object): void, composing(): boolean},
   *   clientID: string, send(frame: object): void, reconnect?(): void, report?(event: object): void,
   *   full?: boolean, timers?: {set(fn, ms): any, clear(id): void, now(): number}}} io
   *   `full`: the first hello asks for the whole document (no usable start version).
   */
  constructor({ host, clientID, send, reconnect, report, full, timers }) {
    this.host = host;
    this.clientID = clientID;
    this.out = send;
    this.reconnect = reconnect || (() => {});
    this.report = report || (() => {});
    // Wrapped: a browser's setTimeout throws when called as a method of another object.
    this.timers = timers || { set: (fn, ms) => setTimeout(fn, ms), clear: (id) => clearTimeout(id), now: () => Date.now() };
    this.connected = false;
    this.finished = false; // after "closed" or destroy(): never again
    this.full = !!full; // the next hello omits v (after a desync)
    // The push in flight on this socket, {v: its base version, n: updates not yet confirmed,
    // moot: after a reset, the pongs to wait for}. At most one: every push gets exactly one answer
    // (its updates coming back, "behind" or "refused"), so a new push waits for it, even after a
    // reset made the old one moot; otherwise an answer to the old push is taken for the new one's.
    this.pushed = null;
    this.pings = 0; // sent on this socket
    this.pongs = 0;
    this.socket = 0; // counts connections: answers held from an earlier socket are not for this one
    this.awaitV = null; // after "behind": the version to reach before pushing again
    this.held = []; // frames held during an IME composition
    this.ring = []; // the last RING received updates, {v (version after it), changes}
    this.heldSel = new Map(); // peers' selection frames at versions we have not reached yet
    this.peers = new Map(); // client → {client, label (as tabsNamed shows it), hue}
    this.you = null; // the label the others see for this tab
    this.waiters = []; // flush() promises
    this.t = {}; // timers by name
    this.lastSel = -Infinity;
    this.lastPull = null; // the version of the last pull on this socket
    this.lastFrame = 0;
    const state = host.state();
    this.confirmed = state.doc; // the text at the synced version
    this.confirmedFormat = currentNotation(state);
    this.every("prune", 5000, () => this.prune());
  }

  version() {
    return getSyncedVersion(this.host.state());
  }

  pending() {
    return sendableUpdates(this.host.state());
  }

  after(name, ms, fn) {
    this.stop(name);
    this.t[name] = this.timers.set(() => {
      delete this.t[name];
      fn();
    }, ms);
  }

  stop(name) {
    if (this.t[name] != null) this.timers.clear(this.t[name]);
    delete this.t[name];
  }

  every(name, ms, fn) {
    this.after(name, ms, () => {
      this.every(name, ms, fn);
      fn();
    });
  }

  send(frame) {
    if (this.connected) this.out(frame);
  }

  // --- transport events -----------------------------------------------------------------------

  opened() {
    if (this.finished) return;
    this.connected = true;
    this.socket++;
    this.lastFrame = this.timers.now();
    this.send(this.full ? { t: "hello", client: this.clientID } : { t: "hello", client: this.clientID, v: this.version() });
    this.lastSel = -Infinity;
    this.sendSel();
    this.every("beat", HEARTBEAT, () => this.sendSel());
    this.every("ping", PING, () => {
      const at = this.timers.now();
      this.ping();
      this.after("pong", PONG_WAIT, () => this.lastFrame < at && this.reconnect());
    });
    this.schedulePush();
  }

  closed() {
    this.connected = false;
    this.pushed = this.lastPull = null;
    this.pings = this.pongs = 0;
    this.awaitV = null;
    for (const name of ["beat", "ping", "pong", "await", "sel", "push"]) this.stop(name);
    this.rejectWaiters(NOT_CONNECTED);
  }

  received(frame) {
    if (this.finished || !frame || typeof frame !== "object") return;
    this.lastFrame = this.timers.now();
    // Keep the order: once one frame is held, the ones after it wait too.
    if (this.held.length || this.holding()) {
      this.held.push([frame, this.socket]);
    } else {
      this.handle(frame, this.socket);
    }
  }

  /** Called when the host made transactions (local edits, undo, selection moves, our own dispatches). */
  noteTransactions(trs) {
    let push = false;
    let sel = false;
    for (const tr of trs) {
      if (tr.annotation(Transaction.remote)) continue;
      if (tr.docChanged || notationOf(tr.effects)) push = true;
      if (tr.docChanged || tr.selection) sel = true;
    }
    if (push) this.schedulePush();
    if (sel) this.scheduleSel();
  }

  // --- IME: while composing, applying remote changes moves the composition (codemirror/dev#1472) --

  holding() {
    if (this.forcing || !this.host.composing()) return false;
    if (this.t.hold == null) this.after("hold", HOLD_CAP, () => this.resume(true));
    return true;
  }

  /** The composition ended (or `force`: held for HOLD_CAP): handle held frames, push. */
  resume(force) {
    if (!force && this.host.composing()) return;
    this.stop("hold");
    this.forcing = !!force;
    try {
      while (this.held.length && !this.finished) this.handle(...this.held.shift());
      this.push();
    } finally {
      this.forcing = false;
    }
    this.scheduleSel();
  }

  // --- frames from the server -----------------------------------------------------------------

  handle(f, socket) {
    // "behind", "refused" and "pong" answer this socket's frames: drop those of an earlier one.
    if (socket !== this.socket && (f.t === "behind" || f.t === "refused" || f.t === "pong")) return;
    try {
      switch (f.t) {
        case "doc": return this.onDoc(f);
        case "updates": return this.onUpdates(f);
        case "behind": return this.onBehind(f);
        case "refused": return this.onRefused(f);
        case "peers": return this.onPeers(f);
        case "sel": return this.onSel(f);
        case "gone": return this.onGone(f);
        case "pong": return this.onPong();
        case "mode": return this.report({ kind: "mode", readOnly: f.read_only ?? null });
        case "saved": return this.report({ kind: "saved", version: f.version, live: f.live, at: f.at, by: f.by });
        case "closed":
          this.destroy();
          return this.report({ kind: "closed", code: String(f.code ?? ""), message: String(f.message ?? "") });
      }
    } catch (err) {
      // A frame that does not fit our text: start again from the server's whole document.
      console.warn("live document:", err);
      this.resync();
    }
  }

  onDoc(f) {
    const v = toInt(f.v);
    if (v == null) return;
    const theirs = String(f.text ?? "");
    // The answer to a pull sent before the updates that got us here: nothing new in it.
    if (!this.full && v <= this.version()) return;
    const mine = this.host.state().doc.toString();
    const base = this.confirmed.toString();
    const diverged = this.pending().length > 0 && mine !== theirs;
    if (diverged) this.rejectWaiters("changes diverged");
    this.resetTo(diff(mine, theirs), v, f.format === "toml" || f.format === "yaml" ? f.format : this.confirmedFormat);
    // After the reset, so that a replaceText(merged) from the callback lands on the server's text.
    if (diverged) this.report({ kind: "diverged", mine, theirs, base, version: v });
    this.report({ kind: "doc", version: v, format: this.confirmedFormat, saved: f.saved ?? null });
    if ("read_only" in f) this.report({ kind: "mode", readOnly: f.read_only ?? null });
  }

  onUpdates(f) {
    const from = toInt(f.from);
    if (from == null || !Array.isArray(f.u)) return;
    const S = this.version();
    if (from > S) return this.pull(); // a gap: versions S+1…from never reached us
    this.lastPull = null; // (this may be the answer to that pull; a later gap needs a new one)
    const fresh = f.u.slice(S - from);
    if (!fresh.length) return;
    const before = this.pending();
    let doc = this.confirmed;
    let format = this.confirmedFormat;
    let own = 0;
    const matched = [];
    const updates = fresh.map((u) => {
      const changes = ChangeSet.fromJSON(u.c);
      if (changes.length !== doc.length) throw new RangeError("update does not fit");
      doc = changes.apply(doc);
      const fmt = u.f === "yaml" || u.f === "toml" ? u.f : null;
      if (fmt) format = fmt;
      const clientID = String(u.client ?? "");
      // receiveUpdates takes our own updates as confirmations, in order, while any are unconfirmed.
      matched.push(clientID === this.clientID && own++ < before.length);
      return { changes, clientID, effects: fmt ? [setNotation.of(fmt)] : undefined };
    });
    // The notation the server ends with is the last switch in its order; our unconfirmed switch
    // comes after everything received. So apply only the last switch, and only if it is not ours.
    let last = before.slice(Math.min(own, before.length)).some((u) => notationOf(u.effects)) ? Infinity : -1;
    for (let i = updates.length - 1; last < 0 && i >= 0; i--) if (updates[i].effects) last = i;
    updates.forEach((u, i) => {
      if (i !== last || matched[i]) u.effects = undefined;
    });
    this.host.dispatch(receiveUpdates(this.host.state(), updates));
    this.confirmed = doc;
    if (format !== this.confirmedFormat) this.confirmedFormat = format;
    updates.forEach((u, i) => this.ring.push({ v: S + i + 1, changes: u.changes }));
    if (this.ring.length > RING) this.ring.splice(0, this.ring.length - RING);
    if (this.pushed && (this.pushed.n -= before.length - this.pending().length) <= 0) this.pushed = null;
    this.verify();
    if (matched.includes(false)) this.report({ kind: "remote" });
    this.caughtUp();
  }

  onBehind(f) {
    if (!this.pushed) return;
    const moot = this.pushed.moot;
    this.pushed = null;
    const v = toInt(f.v);
    if (moot) return this.schedulePush();
    // Re-push even if nothing more is typed (tiptap#74), as soon as we have what the server has.
    if (v == null || this.version() >= v) this.schedulePush();
    else this.await(v);
  }

  onRefused(f) {
    if (!this.pushed) return;
    const moot = this.pushed.moot;
    this.pushed = null;
    // Refusing a push made moot by a reset: its updates were already dropped (and reported).
    if (moot) return this.schedulePush();
    const text = this.host.state().doc.toString();
    const pending = this.pending();
    if (pending.length) {
      this.resetTo(compose(pending, this.confirmed.length).invert(this.confirmed), this.version(), this.confirmedFormat);
    }
    // A Save waiting in flushLive must not save the text without them.
    this.rejectWaiters("changes refused");
    this.report({ kind: "refused", code: String(f.code ?? ""), message: String(f.message ?? ""), text });
    const v = toInt(f.v);
    if (v != null && v > this.version()) this.await(v);
  }

  onPeers(f) {
    const list = Array.isArray(f.peers) ? f.peers.filter((p) => p && p.client != null && p.client !== this.clientID) : [];
    if (typeof f.you === "string") this.you = f.you;
    this.peers = this.tabsNamed(list.map(peerOf));
    this.host.dispatch({ effects: dropPeerSelections.of({ keep: [...this.peers.keys()] }) });
    this.reportPeers();
  }

  onGone(f) {
    const client = String(f.client ?? "");
    this.heldSel.delete(client);
    this.host.dispatch({ effects: dropPeerSelections.of({ clients: [client] }) });
    if (this.peers.delete(client)) this.reportPeers();
  }

  // Tabs of one browser get the same label from the server ("You · Chrome"). Peers labelled as
  // this tab is are its browser's other tabs: "You · tab N"; another label worn by several peers
  // gets "(tab N)". N counts by client id, this tab included, so every tab numbers alike.
  tabsNamed(peers) {
    const byLabel = new Map();
    for (const p of peers) byLabel.set(p.label, [...(byLabel.get(p.label) || []), p]);
    const named = new Map();
    for (const [label, group] of byLabel) {
      const mine = label === this.you;
      const clients = group.map((p) => p.client).concat(mine ? [this.clientID] : []).sort();
      for (const p of group) {
        const tab = clients.indexOf(p.client) + 1;
        const shown = mine ? `You · tab ${tab}` : group.length > 1 ? `${label} (tab ${tab})` : label;
        named.set(p.client, { ...p, label: shown });
      }
    }
    return named;
  }

  onSel(f) {
    if (f.client == null || f.client === this.clientID || !Array.isArray(f.r)) return;
    const peer = peerOf(f);
    peer.label = this.peers.get(peer.client)?.label ?? peer.label;
    const v = toInt(f.v);
    const S = this.version();
    if (v == null) return;
    if (v > S) return void this.heldSel.set(peer.client, f); // handled once we have caught up
    let ranges = f.r.slice(0, MAX_RANGES).map((r) => (Array.isArray(r) ? [toInt(r[0]), toInt(r[1] ?? r[0])] : [null]));
    if (ranges.some(([a, h]) => a == null || h == null)) return;
    // Positions at v → positions at S (through the ring) → positions in our text (through our
    // unconfirmed changes). mapPos throws on a position outside the text: the frame is dropped.
    const maps = [];
    if (v < S) {
      const i = this.ring.findIndex((e) => e.v === v + 1);
      if (i < 0) return; // too old; the peer's heartbeat re-anchors it within 10 s
      for (const e of this.ring.slice(i)) maps.push(e.changes);
    } else if (ranges.some(([a, h]) => Math.max(a, h) > this.confirmed.length)) {
      return;
    }
    const pending = this.pending();
    if (pending.length) maps.push(compose(pending, this.confirmed.length));
    try {
      for (const m of maps) ranges = ranges.map(([a, h]) => [m.mapPos(a, 1), m.mapPos(h, 1)]);
    } catch {
      return;
    }
    this.host.dispatch({ effects: setPeerSelection.of({ ...peer, ranges, at: this.timers.now() }) });
  }

  // --- our side ---------------------------------------------------------------------------------

  ping() {
    this.pings++;
    this.send({ t: "ping" });
  }

  onPong() {
    this.pongs++;
    if (this.pushed && this.pushed.moot && this.pongs >= this.pushed.moot) {
      this.pushed = null;
      this.schedulePush();
    }
  }

  schedulePush() {
    if (this.connected && this.t.push == null) this.after("push", 0, () => this.push());
  }

  push() {
    if (!this.connected || this.full || this.pushed || this.awaitV != null || this.held.length || this.holding()) return;
    const pending = this.pending();
    if (!pending.length) return this.settle();
    this.pushed = { v: this.version(), n: pending.length };
    this.send({
      t: "push",
      v: this.version(),
      u: pending.map((u) => {
        const f = notationOf(u.effects);
        return f ? { c: u.changes.toJSON(), f } : { c: u.changes.toJSON() };
      }),
    });
  }

  await(v) {
    this.awaitV = v;
    this.after("await", BEHIND_WAIT, () => {
      if (this.awaitV == null || this.version() >= this.awaitV) return;
      this.pull(true);
      this.await(this.awaitV);
    });
  }

  /** Asks for the updates after our version; once per version unless `force`d (the answer comes). */
  pull(force) {
    const v = this.version();
    if (!force && this.lastPull === v) return;
    this.lastPull = v;
    this.send({ t: "pull", v });
  }

  /** After the synced version moved: release a waiting re-push and held cursor frames. */
  caughtUp() {
    const S = this.version();
    if (this.awaitV != null && S >= this.awaitV) {
      this.awaitV = null;
      this.stop("await");
    }
    for (const [client, f] of this.heldSel) {
      if (f.v <= S) {
        this.heldSel.delete(client);
        this.onSel(f);
      }
    }
    this.schedulePush();
    this.settle();
  }

  scheduleSel() {
    if (this.connected && this.t.sel == null) {
      this.after("sel", Math.max(0, this.lastSel + SEL_EVERY - this.timers.now()), () => this.sendSel());
    }
  }

  /** Our selection at the synced version: mapped back through our unconfirmed changes. */
  sendSel() {
    if (!this.connected || this.full) return;
    this.stop("sel");
    const { ranges, mainIndex } = this.host.state().selection;
    const pending = this.pending();
    const back = pending.length ? compose(pending, this.confirmed.length).invertedDesc : null;
    const main = [ranges[mainIndex]].concat(ranges.filter((_, i) => i !== mainIndex)).slice(0, MAX_RANGES);
    const r = main.map(({ anchor, head }) => (back ? [back.mapPos(anchor, -1), back.mapPos(head, -1)] : [anchor, head]));
    this.send({ t: "sel", v: this.version(), r });
    this.lastSel = this.timers.now();
  }

  prune() {
    const before = this.timers.now() - CURSOR_TTL;
    if (this.host.state().field(peerSelections, false)?.some((p) => p.at < before)) {
      this.host.dispatch({ effects: dropPeerSelections.of({ before }) });
    }
  }

  /** The text must equal the confirmed text plus our unconfirmed changes; otherwise start over. */
  verify() {
    let doc = this.confirmed;
    for (const u of this.pending()) {
      if (u.changes.length !== doc.length) return this.resync();
      doc = u.changes.apply(doc);
    }
    if (!doc.eq(this.host.state().doc)) this.resync();
  }

  resync() {
    this.full = true;
    this.reconnect();
  }

  /**
   * Makes `changes` (to the current text) without history, drops the unconfirmed updates and
   * starts collab again at `version`: removing collab() and adding it back creates its state anew.
   */
  resetTo(changes, version, format) {
    const switched = format !== currentNotation(this.host.state());
    this.host.dispatch({
      changes: changes || [],
      effects: switched ? [collabSlot.reconfigure([]), setNotation.of(format)] : collabSlot.reconfigure([]),
      annotations: [Transaction.addToHistory.of(false), Transaction.remote.of(true), localNotation.of(true)],
      filter: false,
    });
    this.host.dispatch({ effects: collabSlot.reconfigure(collabAt(version, this.clientID)) });
    this.confirmed = this.host.state().doc;
    this.confirmedFormat = format;
    this.ring = [];
    // A push still in flight is moot: its updates are gone. It was either accepted before the
    // server's text was taken (and is in it) or will be answered "behind". The server answers
    // push, pull and ping in order, so once the pong to this ping is in, it has been answered.
    if (this.pushed && !this.pushed.moot) {
      this.ping();
      this.pushed = { n: Infinity, moot: this.pings };
    }
    this.awaitV = null;
    this.stop("await");
    this.full = false;
    if (switched) this.report({ kind: "format", format });
    if (changes && !changes.empty) this.report({ kind: "remote" });
    this.caughtUp();
  }

  reportPeers() {
    this.report({ kind: "peers", peers: [...this.peers.values()] });
  }

  // --- flushLive ----------------------------------------------------------------------------------

  /** Resolves with the synced version once no unconfirmed changes remain; rejects after `ms` or when not connected. */
  flush(ms) {
    if (!this.pending().length) return Promise.resolve(this.version());
    if (!this.connected) return Promise.reject(new Error(NOT_CONNECTED));
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      w.timer = this.timers.set(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`changes not confirmed within ${ms} ms`));
      }, ms);
      this.waiters.push(w);
      this.schedulePush();
    });
  }

  settle() {
    if (!this.waiters.length || this.pending().length) return;
    const v = this.version();
    for (const w of this.waiters.splice(0)) {
      this.timers.clear(w.timer);
      w.resolve(v);
    }
  }

  rejectWaiters(message) {
    for (const w of this.waiters.splice(0)) {
      this.timers.clear(w.timer);
      w.reject(new Error(message));
    }
  }

  destroy() {
    this.finished = true;
    this.connected = false;
    for (const name of Object.keys(this.t)) this.stop(name);
    this.rejectWaiters(NOT_CONNECTED);
  }
}

// ---------------------------------------------------------------------------------------------
// The browser side: an EditorView and a WebSocket

/** A random id for one editor instance (stable across its reconnects). */
export const randomClientID = () => Math.random().toString(36).slice(2, 14) || "0";

/**
 * Live mode for one editor. Put `extensions` into the state; call `start(view)` once the view
 * exists: it opens the socket (reconnecting with backoff 250 ms → 5 s, with jitter) and returns
 * `{sync, destroy()}`. `report(event)` receives the LiveSync events and `{kind: "status", status}`
 * with status "connecting" | "live" | "reconnecting" | "offline" ("offline": the browser says so,
 * four attempts in a row failed (retrying continues every ≤ 5 s), or the server closed for good).
 */
export function liveEditor({ url, version, clientID, report }) {
  let sync = null;
  const extensions = [
    liveState(toInt(version) ?? 0, clientID),
    peerCursors,
    EditorView.updateListener.of((u) => sync && sync.noteTransactions(u.transactions)),
  ];
  const start = (view) => {
    let ws = null;
    let attempt = 0;
    let retry = null;
    let status = "";
    let opened = false;
    let dead = false;
    const tell = (e) => dead || report(e);
    const setStatus = (s) => s !== status && tell({ kind: "status", status: (status = s) });
    const target = new URL(url, location.href);
    target.protocol = target.protocol.replace(/^http/, "ws");

    const connect = () => {
      retry = null;
      if (dead || sync.finished) return;
      const sock = (ws = new WebSocket(target.href));
      sock.onopen = () => {
        if (ws !== sock) return;
        attempt = 0;
        opened = true;
        setStatus("live");
        sync.opened();
      };
      sock.onmessage = (e) => {
        if (ws !== sock) return;
        let frame = null;
        try {
          frame = JSON.parse(e.data);
        } catch {
          return;
        }
        sync.received(frame);
      };
      sock.onclose = () => ws === sock && lost();
    };
    const lost = () => {
      ws = null;
      sync.closed();
      if (dead || sync.finished) return setStatus("offline");
      attempt++;
      const cap = Math.min(5000, 250 * 2 ** (attempt - 1));
      setStatus(navigator.onLine === false || attempt > 4 ? "offline" : opened ? "reconnecting" : "connecting");
      retry = setTimeout(connect, cap / 2 + (Math.random() * cap) / 2);
    };
    const online = () => {
      if (retry != null) {
        clearTimeout(retry);
        connect();
      }
    };
    const compositionEnd = () => setTimeout(() => sync.resume(), 0);

    sync = new LiveSync({
      // compositionStarted rather than composing: it also covers the moment between
      // compositionstart and the composition's first change.
      host: { state: () => view.state, dispatch: (t) => view.dispatch(t), composing: () => view.compositionStarted },
      clientID,
      full: toInt(version) == null,
      report: tell,
      send: (frame) => ws && ws.readyState === 1 && ws.send(JSON.stringify(frame)),
      reconnect: () => {
        const sock = ws;
        if (!sock) return;
        lost();
        sock.close();
      },
    });
    window.addEventListener("online", online);
    view.contentDOM.addEventListener("compositionend", compositionEnd);
    setStatus("connecting");
    connect();

    return {
      sync,
      destroy() {
        if (dead) return;
        dead = true;
        sync.destroy();
        clearTimeout(retry);
        window.removeEventListener("online", online);
        view.contentDOM.removeEventListener("compositionend", compositionEnd);
        const sock = ws;
        ws = null;
        if (sock) sock.close(1000);
      },
    };
  };
  return { extensions, start };
}
