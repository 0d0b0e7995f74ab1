// Backtests in a real browser, as a trader uses them: open a strategy, start a backtest with
// the suggested range and costs, watch it finish (pushed over the live channel), open the
// results, see the figures and the charts, sort the trades, activate; edit, and see
// activation refused until a backtest of the new version finished. Without JavaScript the
// results page is readable, charts included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import AxeBuilder from '@axe-core/playwright';
import { launchBrowser, openPage, signedInState as signUp, waitForHydration } from './browser.mjs';

const SCREENSHOTS = process.env.SCREENSHOT_DIR;
let browser;
let signedInState;

before(async () => {
  browser = await launchBrowser();
  signedInState = await signUp(browser, { prefix: 'backtester', confirmed: true });
});
after(async () => {
  await browser?.close();
});

function signedUp({ javaScript = true } = {}) {
  return openPage(browser, { javaScript, storageState: signedInState });
}

async function shot(page, name) {
  if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

// A new strategy from the moving-average template (EUR/USD 1h, in the sample data), saved
// through the plain form; answers its id.
async function createStrategy(name) {
  const { context, page } = await signedUp({ javaScript: false });
  await page.goto('/strategies/new?template=ma_cross');
  const textarea = page.getByRole('textbox', { name: 'Strategy document' });
  await textarea.fill((await textarea.inputValue()).replace('"MA cross"', `"${name}"`));
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/strategies\/[0-9a-f-]+\?notice=saved$/);
  const id = new URL(page.url()).pathname.split('/')[2];
  await context.close();
  return id;
}

// Starts a backtest from the strategy page with the suggested values and waits for its
// results page to show the figures (the page hears the run finish over the live channel).
async function runBacktest(page, id) {
  await page.goto(`/strategies/${id}`);
  await waitForHydration(page);
  const backtests = page.getByRole('region', { name: 'Backtests' });
  assert.notEqual(await backtests.getByLabel('First day').inputValue(), '');
  await backtests.getByRole('button', { name: 'Run backtest' }).click();
  await page.waitForURL(/\/backtests\/[0-9a-f-]+\?notice=backtest_queued$/);
  await waitForHydration(page);
  await page.getByRole('heading', { name: 'Results', exact: true }).waitFor({ timeout: 30000 });
  // The notice names no state that the run has left behind by the time it finishes.
  await page.getByText('Backtest queued: this page follows it to its results.').waitFor();
  return new URL(page.url()).pathname;
}

test('a trader backtests a strategy, reads the results and activates it', async () => {
  const name = `Backtested ${randomUUID().slice(0, 8)}`;
  const id = await createStrategy(name);
  const { context, page, problems } = await signedUp();

  await page.goto(`/strategies/${id}`);
  await waitForHydration(page);
  await page.getByRole('region', { name: 'Backtests' }).getByText('No backtest has run on this strategy yet.').waitFor();
  await shot(page, 'strategy-before-backtest');
  const results = await runBacktest(page, id);

  // The figures, both charts and the exact settings.
  const figures = page.getByRole('table').filter({ hasText: 'Total return' });
  for (const figure of ['Max drawdown', 'Sharpe ratio', 'Win rate', 'Profit factor', 'Exposure']) {
    await figures.getByRole('rowheader', { name: figure }).waitFor();
  }
  await page.getByRole('img', { name: /^Equity from/ }).waitFor();
  await page.getByRole('img', { name: /^EUR\/USD closing prices/ }).waitFor();
  await page.getByText('0.1% per side').waitFor();
  await page.getByRole('link', { name: 'Version 1', exact: true }).waitFor();
  assert.equal(await page.getByText('the strategy is now at version').count(), 0);

  // The trades sort by a column after hydration.
  const trades = page.getByRole('table').filter({ has: page.getByRole('button', { name: 'P&L' }) });
  const pnlHeader = trades.getByRole('columnheader', { name: 'P&L' });
  await trades.getByRole('button', { name: 'P&L' }).click();
  assert.equal(await pnlHeader.getAttribute('aria-sort'), 'ascending');
  const pnls = await trades.locator('tbody tr td:nth-child(7)').allInnerTexts();
  const numbers = pnls.map((text) => Number(text.replace(/,/g, '')));
  assert.ok(numbers.length > 1, 'the strategy traded');
  assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
  await trades.getByRole('button', { name: 'P&L' }).click();
  assert.equal(await pnlHeader.getAttribute('aria-sort'), 'descending');

  // The CSV has a row per trade.
  const csv = await page.request.get(`${results}/trades.csv`);
  assert.equal(csv.status(), 200);
  assert.equal((await csv.text()).trim().split('\n').length, numbers.length + 1);
  await shot(page, 'backtest-results');

  const audit = await new AxeBuilder({ page }).analyze();
  const serious = audit.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.help}`), []);

  // Back on the strategy page the run is listed as finished, and activation is allowed.
  await page.getByRole('link', { name: 'Back to the strategy' }).click();
  await waitForHydration(page);
  const runs = page.getByRole('region', { name: 'Backtests' }).getByRole('table');
  await runs.getByText('Finished').waitFor();
  await shot(page, 'strategy-after-backtest');
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.waitForURL(/notice=active/);
  await page.getByText('Activated.').waitFor();

  assert.deepEqual(problems, []);
  await context.close();
});

test('after an edit activation waits for a backtest of the new version', async () => {
  const name = `Edited ${randomUUID().slice(0, 8)}`;
  const id = await createStrategy(name);
  const { context, page, problems } = await signedUp();
  const first = await runBacktest(page, id);

  // A new version, saved through the plain form of the editor.
  const plain = await signedUp({ javaScript: false });
  await plain.page.goto(`/strategies/${id}/edit`);
  const textarea = plain.page.getByRole('textbox', { name: 'Strategy document' });
  await textarea.fill((await textarea.inputValue()).replace('period: 20', 'period: 21'));
  await plain.page.getByRole('button', { name: 'Save', exact: true }).click();
  await plain.page.waitForURL(/notice=saved$/);
  await plain.context.close();

  await page.goto(`/strategies/${id}`);
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.getByRole('alert').filter({ hasText: 'Run a backtest of version 2 first.' }).waitFor();

  await page.goto(first);
  await page.getByText('Results of version 1; the strategy is now at version 2.').waitFor();

  await runBacktest(page, id);
  await page.goto(`/strategies/${id}`);
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.waitForURL(/notice=active/);

  assert.deepEqual(problems.filter((p) => !p.includes('status of 409')), []);
  await context.close();
});

test('without JavaScript the results page shows the figures and the charts', async () => {
  const id = await createStrategy(`Plain ${randomUUID().slice(0, 8)}`);
  const { context, page } = await signedUp({ javaScript: false });
  await page.goto(`/strategies/${id}`);
  await page.getByRole('button', { name: 'Run backtest' }).click();
  await page.waitForURL(/\/backtests\/[0-9a-f-]+\?notice=backtest_queued$/);
  const results = page.url();
  // Without the live channel, the trader reloads until the run is done.
  for (let attempt = 0; attempt < 60; attempt += 1) {
    if (await page.getByRole('heading', { name: 'Results', exact: true }).count()) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
    await page.goto(results);
  }
  await page.getByRole('img', { name: /^Equity from/ }).waitFor();
  await page.getByRole('img', { name: /closing prices/ }).waitFor();
  assert.ok((await page.locator('.marker.entry title').count()) > 0);
  await context.close();
});
