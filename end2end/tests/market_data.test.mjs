// Market data and the editor's signal preview in a real browser: a trader previews a CSV
// before importing it, imports it and reads the report, with and without JavaScript; then
// opens a template and sees its signals over the last 300 candles, makes the entry condition
// impossible and sees the warning, and breaks the document and sees the preview wait for it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { launchBrowser, openPage, signedInState as signUp, waitForHydration } from './browser.mjs';

const PASSWORD = 'correct horse battery staple';
const SCREENSHOTS = process.env.SCREENSHOT_DIR;
let browser;
let signedInState;

before(async () => {
  browser = await launchBrowser();
  signedInState = await signUp(browser, { prefix: 'data', password: PASSWORD, confirmed: true });
});
after(async () => {
  await browser?.close();
});

function signedIn({ javaScript = true } = {}) {
  return openPage(browser, { javaScript, storageState: signedInState });
}

// A pair of its own for each run, so a re-run against the same database imports afresh.
function uniquePair() {
  return `T${randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase()}/USD`;
}

const CSV = [
  'Date,Open,High,Low,Close,Volume',
  '2024-01-01,100,110,95,105,1000',
  '2024-01-02,105,112,101,110,1200',
  '2024-01-03,110,108,111,109,900', // high below low
  '2024-01-04,109,115,104,114,1500',
  '2024-01-02,105,112,101,110,1200', // a repeated time
  '2024-01-05,114,118,110,117,1300',
].join('\n');

async function screenshot(page, name) {
  if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

test('a trader previews a CSV, imports it and reads the report', async () => {
  const { context, page, problems } = await signedIn();
  await page.goto('/');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Market data' }).click();
  await page.waitForURL('**/market-data');
  await waitForHydration(page);
  const table = page.getByRole('table', { name: 'Stored series' });
  await table.getByRole('row', { name: /GOOG\/USD\s+1d\s+Shared/ }).waitFor();

  const pair = uniquePair();
  await page.getByLabel('Pair').fill(pair);
  await page.getByLabel('Timeframe').selectOption('1d');
  await page.getByLabel('CSV file').setInputFiles({ name: 'candles.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
  const preview = page.getByRole('region', { name: 'Preview' });
  await preview.waitFor();
  assert.match(await preview.innerText(), /the first 4 rows/);
  assert.match(await preview.innerText(), /line 4: will be rejected: the high 108 is below the low 111/);
  await screenshot(page, 'market-data-preview');

  await page.getByRole('button', { name: 'Import' }).click();
  await page.waitForURL(/\/market-data\?import=/);
  const report = page.getByRole('status', { name: 'Import report' });
  await report.waitFor();
  assert.equal(await report.getByTestId('imported').innerText(), '4');
  assert.equal(await report.getByTestId('duplicates').innerText(), '0');
  assert.equal(await report.getByTestId('rejected').innerText(), '2');
  assert.match(await report.innerText(), /line 4: the high 108 is below the low 111/);
  assert.match(await report.innerText(), /line 6: the time 2024-01-02 repeats an earlier row's/);
  await table.getByRole('row', { name: new RegExp(`${pair.replace('/', '\\/')}\\s+1d\\s+Yours.*\\s4\\s`) }).waitFor();
  await screenshot(page, 'market-data-report');
  assert.deepEqual(problems, []);
  await context.close();
});

// Minute bars from 2024-01-01, one per line: about 55 bytes a row.
function minuteBars(rows) {
  const lines = ['time,open,high,low,close,volume'];
  const start = Date.UTC(2024, 0, 1) / 1000;
  for (let i = 0; i < rows; i++) {
    const open = 100 + (i % 50) / 10;
    lines.push(`${start + 60 * i},${open.toFixed(2)},${(open + 1).toFixed(2)},${(open - 1).toFixed(2)},${(open + 0.5).toFixed(2)},${1000 + i}`);
  }
  return lines.join('\n');
}

test('a large upload shows its progress, can be cancelled, says when the connection is lost, and imports whole on the next try', async () => {
  const { context, page, problems } = await signedIn();
  // Uploads crawl at 256 KiB/s, as on a poor connection, so the progress can be seen.
  const network = await context.newCDPSession(page);
  await network.send('Network.enable');
  const throttle = (uploadThroughput) => network.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput,
  });
  await throttle(256 * 1024);
  await page.goto('/market-data');
  await waitForHydration(page);
  const pair = uniquePair();
  const rows = 40000;
  const file = { name: 'minutes.csv', mimeType: 'text/csv', buffer: Buffer.from(minuteBars(rows)) };
  await page.getByLabel('Pair').fill(pair);
  await page.getByLabel('Timeframe').selectOption('1m');
  await page.getByLabel('CSV file').setInputFiles(file);
  await page.getByRole('region', { name: 'Preview' }).waitFor();

  await page.getByRole('button', { name: 'Import' }).click();
  const progress = page.getByRole('progressbar', { name: 'Upload progress' });
  await progress.waitFor();
  await page.waitForFunction(() => Number(document.querySelector('progress')?.value) > 0);
  assert.match(await page.locator('.upload-progress').innerText(), /Uploading: \d+% of \d+\.\d MiB/);
  assert.equal(await page.getByRole('button', { name: 'Uploading…' }).isDisabled(), true);
  await screenshot(page, 'market-data-upload-progress');
  await page.getByRole('button', { name: 'Cancel upload' }).click();
  await page.getByRole('status').filter({ hasText: 'Upload cancelled: nothing was imported. Your file is still chosen.' }).waitFor();
  assert.equal(await progress.count(), 0);
  assert.equal(page.url().includes('import='), false);

  // The connection is reset: the trader is told, and the form keeps the file.
  await page.route('**/market-data/import', (route) => route.abort('connectionreset'));
  await page.getByRole('button', { name: 'Import' }).click();
  const lost = page.getByRole('alert').filter({ hasText: 'The upload did not complete: the connection to the server was lost.' });
  await lost.waitFor();
  await screenshot(page, 'market-data-upload-lost');
  await page.unroute('**/market-data/import');

  // The chosen file is still there: Import again, at full speed this time, imports it whole.
  await throttle(-1);
  await page.getByRole('button', { name: 'Import' }).click();
  await page.waitForURL(/\/market-data\?import=/, { timeout: 60000 });
  const report = page.getByRole('status', { name: 'Import report' });
  assert.equal(await report.getByTestId('imported').innerText(), String(rows));
  assert.equal(await report.getByTestId('duplicates').innerText(), '0');
  assert.deepEqual(problems.filter((problem) => !/net::ERR_CONNECTION_RESET/.test(problem)), []);
  await context.close();
});

test('an upload the server refuses says why and keeps the form as it was', async () => {
  const { context, page, problems } = await signedIn();
  await page.goto('/market-data');
  await waitForHydration(page);
  const pair = uniquePair();
  await page.getByLabel('Pair').fill(pair);
  await page.getByLabel('CSV file').setInputFiles({ name: 'candles.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
  // The session ends elsewhere (another tab logs out) before the trader presses Import.
  await context.clearCookies();
  await page.getByRole('button', { name: 'Import' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'The upload did not complete' });
  await alert.waitFor();
  assert.match(await alert.innerText(), /Please log in to continue\. Your file is still chosen/);
  assert.equal(await page.getByLabel('Pair').inputValue(), pair);
  assert.equal(await page.getByRole('button', { name: 'Import' }).isEnabled(), true);
  assert.deepEqual(problems.filter((problem) => !/401/.test(problem)), []);
  await context.close();
});

test('without JavaScript the upload is a plain form that imports and reports', async () => {
  const { context, page } = await signedIn({ javaScript: false });
  await page.goto('/market-data');
  const pair = uniquePair();
  await page.getByLabel('Pair').fill(pair);
  await page.getByLabel('CSV file').setInputFiles({ name: 'plain.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
  await page.getByRole('button', { name: 'Import' }).click();
  await page.waitForURL(/\/market-data\?import=/);
  const report = page.getByRole('status', { name: 'Import report' });
  assert.equal(await report.getByTestId('imported').innerText(), '4');
  // The same file again: every good row is already stored.
  await page.getByLabel('Pair').fill(pair);
  await page.getByLabel('CSV file').setInputFiles({ name: 'plain.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
  await page.getByRole('button', { name: 'Import' }).click();
  await page.waitForURL(/\/market-data\?import=/);
  assert.equal(await page.getByRole('status', { name: 'Import report' }).getByTestId('duplicates').innerText(), '4');
  // A file that takes a few seconds to import: the page shows the import going on and reloads
  // itself until the report is there (nothing else follows the job without JavaScript).
  let big = 'time,open,high,low,close,volume\n';
  for (let i = 0; i < 150000; i++) big += `${1704067200 + 60 * i},1,2,0.5,1.5,10\n`;
  await page.getByLabel('Pair').fill(uniquePair());
  await page.getByLabel('CSV file').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(big) });
  await page.getByRole('button', { name: 'Import' }).click();
  await page.waitForURL(/\/market-data\?import=/);
  const bigReport = page.getByRole('status', { name: 'Import report' });
  assert.equal(await bigReport.getByTestId('imported').innerText({ timeout: 60000 }), '150000');
  await context.close();
});

test('the editor previews where a template signals, warns when entry never fires and waits for a valid document', async () => {
  const { context, page, problems } = await signedIn();
  await page.goto('/strategies/new?template=ma_cross');
  await waitForHydration(page);
  const editor = page.getByRole('textbox', { name: 'Strategy document' });
  await editor.waitFor();
  const preview = page.getByRole('region', { name: 'Signal preview' });
  await preview.getByRole('img', { name: /Price chart of the last 300 bars/ }).waitFor({ timeout: 15000 });
  const counts = preview.getByRole('listitem');
  await counts.filter({ hasText: /^Entry true on [1-9]\d* of 300 bars$/ }).waitFor();
  await counts.filter({ hasText: /^Exit true on [1-9]\d* of 300 bars$/ }).waitFor();
  await counts.filter({ hasText: /^Stop true on \d+ of \d+ bars with an open trade/ }).waitFor();
  assert.match(await preview.innerText(), /EUR\/USD 1h · last 300 bars · shared data/);
  await page.locator('.signal-preview').scrollIntoViewIfNeeded();
  await screenshot(page, 'editor-signal-preview');

  // An entry that can never hold.
  await page.locator('.cm-line', { hasText: 'entry_conditions: "crosses_above(ema_fast, sma_slow)"' }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft'); // inside the closing quote
  await page.keyboard.type(' AND close < 0');
  await counts.filter({ hasText: /Entry true on 0 of 300 bars/ }).waitFor();
  await preview.getByText('Entry never fires on these bars: no trade would open.').waitFor();
  await screenshot(page, 'editor-signal-preview-never');

  // An invalid document: the preview waits and keeps its last chart.
  await page.keyboard.type(' AND');
  await preview.getByText(/Waiting for a valid document/).waitFor();
  assert.equal(await preview.getByRole('img').count(), 1);
  await screenshot(page, 'editor-signal-preview-waiting');
  // Valid again: it redraws.
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await preview.getByText(/Waiting for a valid document/).waitFor({ state: 'detached' });
  await preview.getByText('Entry never fires on these bars: no trade would open.').waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});
