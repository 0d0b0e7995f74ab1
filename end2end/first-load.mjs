// A running site checked and measured in Chromium (used by scripts/check/release, not part of
// the browser test suite): the home page arrives styled and hydrates (so its CSS and WASM were
// served), the WASM comes compressed with a hashed name and an immutable cache rule, and the
// editor page's first load is measured on a cold and a warm cache: bytes over the wire per
// kind (CDP Network: encodedDataLength) and the time until the editor is interactive.
//
//   BASE_URL=http://127.0.0.1:4000 node first-load.mjs [--json out.json] [--measure-only]
// --measure-only skips the release's checks (hashed, brotli, immutable, the 500 KB budget),
// to measure a debug build the same way.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { launchBrowser, openPage, waitForHydration, BASE_URL } from './tests/browser.mjs';

const PASSWORD = 'correct horse battery staple';
const releaseChecks = !process.argv.includes('--measure-only');

function kindOf(url, mimeType) {
  if (url.endsWith('.wasm') || mimeType === 'application/wasm') return 'wasm';
  if (/\.m?js(\?|$)/.test(url) || mimeType.includes('javascript')) return 'js';
  if (url.endsWith('.css') || mimeType === 'text/css') return 'css';
  if (mimeType === 'text/html') return 'html';
  return 'other';
}

// Every response of `page` from here on: url, kind, status, headers and bytes received.
async function recordNetwork(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const requests = new Map();
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    requests.set(requestId, {
      url: response.url,
      status: response.status,
      kind: kindOf(response.url, response.mimeType ?? ''),
      headers: Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v])),
      fromCache: response.fromDiskCache || response.fromMemoryCache || false,
      bytes: 0,
    });
  });
  cdp.on('Network.requestServedFromCache', ({ requestId }) => {
    const seen = requests.get(requestId);
    if (seen) seen.fromCache = true;
  });
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    const seen = requests.get(requestId);
    if (seen) seen.bytes = encodedDataLength;
  });
  return { cdp, requests };
}

function summarize(requests) {
  const byKind = {};
  for (const r of requests.values()) {
    byKind[r.kind] = (byKind[r.kind] ?? 0) + r.bytes;
  }
  const total = Object.values(byKind).reduce((a, b) => a + b, 0);
  return { byKind, total, wasmJsCss: (byKind.wasm ?? 0) + (byKind.js ?? 0) + (byKind.css ?? 0) };
}

async function loadEditor(page) {
  const { cdp, requests } = await recordNetwork(page);
  const started = Date.now();
  await page.goto('/strategies/new?template=ma_cross');
  await waitForHydration(page);
  await page.getByRole('textbox', { name: 'Strategy document' }).waitFor();
  await page.locator('.cm-editor').waitFor();
  const interactiveMs = Date.now() - started;
  // Let the last responses finish being counted.
  await page.waitForTimeout(300);
  await cdp.detach();
  return { interactiveMs, requests, ...summarize(requests) };
}

const browser = await launchBrowser();
try {
  // 1. The home page of the site as shipped: styled, hydrated, its files compressed and hashed.
  const { context: homeContext, page: home, problems } = await openPage(browser);
  const { requests: homeRequests } = await recordNetwork(home);
  const response = await home.goto('/');
  assert.equal(response.status(), 200, 'the home page answers');
  assert.match(response.headers()['cache-control'] ?? '', /no-store|no-cache/, 'pages are not cached');
  await waitForHydration(home);
  const display = await home.locator('.site-header').evaluate((el) => getComputedStyle(el).display);
  assert.equal(display, 'flex', 'the stylesheet is applied');
  await home.waitForTimeout(300);
  const wasm = [...homeRequests.values()].find((r) => r.kind === 'wasm');
  assert.ok(wasm, 'the page loaded its WASM');
  assert.equal(wasm.status, 200, `the WASM answers 200 (${wasm.url})`);
  if (releaseChecks) {
    assert.match(wasm.url, /\/pkg\/trading_strategy\.[\w-]+\.wasm$/, 'the WASM has a hashed name');
    assert.equal(wasm.headers['content-encoding'], 'br', 'the WASM is sent as brotli');
    assert.match(wasm.headers['cache-control'] ?? '', /immutable/, 'the WASM is cached as immutable');
  }
  for (const r of homeRequests.values()) {
    assert.ok(r.status < 400, `${r.url} answered ${r.status}`);
  }
  assert.deepEqual(problems, [], 'no errors in the browser');
  if (process.env.SCREENSHOT_DIR) await home.screenshot({ path: `${process.env.SCREENSHOT_DIR}/release-home.png` });
  const homeLoad = summarize(homeRequests);
  const homeWasmAndJs = (homeLoad.byKind.wasm ?? 0) + (homeLoad.byKind.js ?? 0);
  console.log(`home page: styled, hydrated; WASM ${wasm.url.split('/').pop()} br, ${wasm.bytes} bytes; WASM+JS ${(homeWasmAndJs / 1024).toFixed(1)} KB`);

  // 2. A trader signs up and logs in through the pages.
  const email = `first-load-${randomUUID()}@example.com`;
  await home.goto('/users/register');
  await waitForHydration(home);
  await home.getByLabel('Email').fill(email);
  await home.getByLabel(/^Password/).fill(PASSWORD);
  await home.getByRole('button', { name: 'Create an account' }).click();
  await home.waitForURL('**/users/check-email');
  await home.goto('/users/log-in');
  await waitForHydration(home);
  await home.getByLabel('Email').fill(email);
  await home.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await home.getByRole('button', { name: 'Log in' }).click();
  await home.waitForURL('**/strategies**');
  const signedIn = await homeContext.storageState();
  await homeContext.close();

  // 3. The editor page on a cold cache (a fresh context), then warm (the same context again).
  const { context, page } = await openPage(browser, { storageState: signedIn });
  const cold = await loadEditor(page);
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/release-editor.png` });
  await page.goto('about:blank');
  const warm = await loadEditor(page);
  await context.close();

  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const report = (name, load) =>
    console.log(
      `${name}: interactive editor after ${load.interactiveMs} ms; WASM ${kb(load.byKind.wasm ?? 0)}, ` +
        `JS ${kb(load.byKind.js ?? 0)}, CSS ${kb(load.byKind.css ?? 0)}, HTML ${kb(load.byKind.html ?? 0)}, ` +
        `other ${kb(load.byKind.other ?? 0)}; WASM+JS+CSS ${kb(load.wasmJsCss)}, everything ${kb(load.total)}`,
    );
  report('cold cache', cold);
  report('warm cache', warm);
  for (const r of cold.requests.values()) {
    console.log(`  cold ${String(r.status).padEnd(3)} ${(r.headers['content-encoding'] ?? '-').padEnd(4)} ${String(r.bytes).padStart(8)} B  ${r.headers['cache-control'] ?? '-'}  ${r.url.replace(BASE_URL, '')}`);
  }
  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt > 0) {
    const plain = (load) => ({ interactiveMs: load.interactiveMs, byKind: load.byKind, total: load.total, wasmJsCss: load.wasmJsCss });
    writeFileSync(process.argv[jsonAt + 1], JSON.stringify({ cold: plain(cold), warm: plain(warm) }, null, 2));
  }
  if (!releaseChecks) process.exit(0);
  assert.ok(warm.wasmJsCss < cold.wasmJsCss / 10, `a warm cache sends almost nothing again: ${kb(warm.wasmJsCss)}`);
  // The budget for the editor's first load: WASM and JavaScript under 500 KB
  // compressed, as Chromium counts them (headers included). A release over it fails.
  const budget = 500 * 1024;
  const wasmAndJs = (cold.byKind.wasm ?? 0) + (cold.byKind.js ?? 0);
  const verdict = wasmAndJs <= budget ? 'within' : 'OVER';
  console.log(`budget: WASM+JS ${kb(wasmAndJs)} on a cold cache, ${verdict} the 500 KB budget`);
  assert.ok(wasmAndJs <= budget, `the editor's first load (WASM+JS) is under 500 KB: ${kb(wasmAndJs)}`);
} finally {
  await browser.close();
}
