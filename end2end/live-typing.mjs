// Keystroke to the other screen (used by scripts/bench/live-typing, not part of the browser test
// suite): one trader, one saved strategy open in two Chromium pages, page A through the first
// server copy and page B through the second. A types KEYS characters at the start of the
// document, 10 a second; each page stamps, at the next animation frame after its first line
// changed, the time and the line's length. A key's latency is from the frame where A painted it
// to the frame where B did. Both pages run in one browser on one machine, so their clocks
// (performance.timeOrigin + performance.now()) are the same clock.
//
//   BASE_URL=... SECOND_BASE_URL=... node live-typing.mjs [keys]
import assert from 'node:assert/strict';
import { launchBrowser, openPage, signedInState } from './tests/browser.mjs';
import { newSavedStrategy, openEditor } from './tests/editor.mjs';

const KEYS = Number(process.argv[2] ?? 200);
const SECOND_BASE_URL = process.env.SECOND_BASE_URL;
assert.ok(SECOND_BASE_URL, 'SECOND_BASE_URL names the second copy');

// Records [time, length of the first line] at each frame after the first line changed.
function watchFirstLine() {
  window.__paints = [];
  const content = document.querySelector('.cm-content');
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      const line = content.querySelector('.cm-line');
      window.__paints.push([performance.timeOrigin + performance.now(), line ? line.textContent.length : 0]);
    });
  }).observe(content, { childList: true, subtree: true, characterData: true });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const browser = await launchBrowser();
try {
  const storageState = await signedInState(browser, { prefix: 'live-typing' });
  const a = (await openPage(browser, { storageState })).page;
  const id = await newSavedStrategy(a, 'Typed across two copies');
  await openEditor(a, `/strategies/${id}/edit`);
  const b = (await openPage(browser, { storageState, baseURL: SECOND_BASE_URL })).page;
  await openEditor(b, `/strategies/${id}/edit`);

  // A new first line, typed into once both editors share the document.
  await a.getByRole('textbox', { name: 'Strategy document' }).click();
  await a.keyboard.press('Control+Home');
  await a.keyboard.type('#\n');
  await a.keyboard.press('Control+Home');
  await a.keyboard.press('End');
  await b.locator('.cm-line').first().filter({ hasText: /^#$/ }).waitFor({ timeout: 10000 });
  const start = 1;
  await a.evaluate(watchFirstLine);
  await b.evaluate(watchFirstLine);

  for (let i = 0; i < KEYS; i++) {
    await a.keyboard.type(String.fromCharCode(97 + (i % 26)));
    await a.waitForTimeout(100);
  }
  await b.locator('.cm-line').first().filter({ hasText: new RegExp(`^#.{${KEYS}}$`) }).waitFor({ timeout: 10000 });

  const paintsA = await a.evaluate(() => window.__paints);
  const paintsB = await b.evaluate(() => window.__paints);
  const firstAt = (paints, length) => paints.find(([, len]) => len >= length)?.[0];
  const latencies = [];
  for (let key = 1; key <= KEYS; key++) {
    const typed = firstAt(paintsA, start + key);
    const seen = firstAt(paintsB, start + key);
    assert.ok(typed !== undefined && seen !== undefined, `key ${key} was painted in both pages`);
    latencies.push(seen - typed);
  }
  const sorted = [...latencies].sort((x, y) => x - y);
  const fixed = (x) => x.toFixed(1);
  console.log(`keys typed in A (first copy) and painted in B (second copy): ${KEYS}, 10 a second`);
  console.log(`p50 ${fixed(percentile(sorted, 50))} ms, p90 ${fixed(percentile(sorted, 90))} ms, ` +
    `p99 ${fixed(percentile(sorted, 99))} ms, max ${fixed(sorted[sorted.length - 1])} ms`);
  const text = await b.locator('.cm-line').first().textContent();
  assert.equal(text.length, start + KEYS, 'every key arrived once');
} finally {
  await browser.close();
}
