// Other peers' cursors and selections in a live document: the state that holds them and the two
// layers that draw them.
//
// The state part (`peerSelections` and its effects) needs no DOM, so the node simulation in
// collab.test.mjs can check that positions stay inside the document. `collab.mjs` decides what
// goes in (it maps incoming positions to the current document first); this module only keeps the
// positions mapped through every later transaction and draws them.
//
// Drawing uses `layer()` markers, the technique of CodeMirror's own selection layer, not inline
// widgets: the editor wraps lines, and a widget in the text would change where lines wrap
// (y-codemirror.next#12).

import { StateField, StateEffect, EditorSelection } from "@codemirror/state";
import { EditorView, layer, RectangleMarker } from "@codemirror/view";

/** Sets one peer's selection: `{client, label, hue, ranges: [[anchor, head], …], at}`, positions in the current document. */
export const setPeerSelection = StateEffect.define();
/** Removes peers' cursors: `{clients?: string[]}` those named, `{keep?: string[]}` all but those, `{before?: number}` those not refreshed since. */
export const dropPeerSelections = StateEffect.define();

const mapRange = (changes) => ([a, h]) => [changes.mapPos(a, 1), changes.mapPos(h, 1)];

/** The peers' selections (an array in arrival order), mapped forward through every change. */
export const peerSelections = StateField.define({
  create: () => [],
  update(peers, tr) {
    if (tr.docChanged && peers.length) {
      const map = mapRange(tr.changes);
      peers = peers.map((p) => ({ ...p, ranges: p.ranges.map(map) }));
    }
    for (const e of tr.effects) {
      if (e.is(setPeerSelection)) {
        const i = peers.findIndex((p) => p.client === e.value.client);
        // Replace in place, so that markers keep their order and DOM elements are reused.
        peers = i < 0 ? peers.concat(e.value) : peers.map((p, j) => (j === i ? e.value : p));
      } else if (e.is(dropPeerSelections)) {
        const { clients, keep, before } = e.value;
        peers = peers.filter((p) => !(clients && clients.includes(p.client)) && !(keep && !keep.includes(p.client)) &&
          !(before != null && p.at < before));
      }
    }
    return peers;
  },
});

/** A peer's colour from the server's hue (degrees); selections are a light version of it. */
const peerColor = (hue, light) => (light ? `hsl(${hue} 80% 55% / .25)` : `hsl(${hue} 75% 42%)`);

// A RectangleMarker that also carries the peer's colour (and, for a caret, its label). Colours are
// set through the element's style object, which the page's CSP allows (no style attribute in
// markup, no new style sheet). Without an `update` method: a moved marker is drawn anew.
class PeerMarker {
  constructor(rect, color, label, below) {
    this.rect = rect;
    this.color = color;
    this.label = label;
    this.below = below;
  }
  eq(o) {
    return o instanceof PeerMarker && o.color === this.color && o.label === this.label && o.below === this.below && this.rect.eq(o.rect);
  }
  draw() {
    const e = this.rect.draw();
    if (this.label === null) {
      e.style.backgroundColor = this.color;
    } else {
      e.style.borderLeftColor = this.color;
      if (this.label) {
        const tag = e.appendChild(document.createElement("div"));
        tag.className = this.below ? "cm-tsp-peerLabel cm-tsp-below" : "cm-tsp-peerLabel";
        tag.textContent = this.label;
        tag.style.backgroundColor = this.color;
      }
    }
    return e;
  }
}

const changed = (u) => u.docChanged || u.state.field(peerSelections) !== u.startState.field(peerSelections);

function markersFor(view, carets) {
  const len = view.state.doc.length;
  const out = [];
  for (const p of view.state.field(peerSelections)) {
    p.ranges.forEach(([a, h], i) => {
      a = Math.min(a, len);
      h = Math.min(h, len);
      if (carets) {
        for (const r of RectangleMarker.forRange(view, "cm-tsp-peerCaret", EditorSelection.cursor(h))) {
          // Only the main range gets the label; near the top edge it goes below the caret.
          out.push(new PeerMarker(r, peerColor(p.hue), i === 0 ? p.label || "" : "", r.top < 16));
        }
      } else if (a !== h) {
        for (const r of RectangleMarker.forRange(view, "cm-tsp-peerSelection", EditorSelection.range(a, h))) {
          out.push(new PeerMarker(r, peerColor(p.hue, true), null, false));
        }
      }
    });
  }
  return out;
}

const theme = EditorView.baseTheme({
  ".cm-tsp-peerCarets": { pointerEvents: "none" },
  ".cm-tsp-peerCaret": { width: "0", borderLeft: "2px solid", marginLeft: "-1px" },
  ".cm-tsp-peerLabel": {
    position: "absolute",
    bottom: "100%",
    left: "-2px",
    padding: "0 4px",
    borderRadius: "3px 3px 3px 0",
    color: "#fff",
    font: "600 10.5px/1.4 system-ui, sans-serif",
    whiteSpace: "nowrap",
    opacity: "0.9",
  },
  ".cm-tsp-peerLabel.cm-tsp-below": { bottom: "auto", top: "100%", borderRadius: "0 3px 3px 3px" },
});

/** The state field plus the drawing: selections under the text, carets with labels above it. */
export const peerCursors = [
  peerSelections,
  layer({ above: false, class: "cm-tsp-peerSelections", update: changed, markers: (v) => markersFor(v, false) }),
  layer({ above: true, class: "cm-tsp-peerCarets", update: changed, markers: (v) => markersFor(v, true) }),
  theme,
];
