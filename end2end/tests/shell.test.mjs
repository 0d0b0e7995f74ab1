// The app shell in a real browser: server rendering, hydration, navigation, 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, signedInState, waitForHydration, BASE_URL } from './browser.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('the home page hydrates: the example toggle works only once the WASM runs', async () => {
  const { context, page, problems } = await openPage(browser);
  const response = await page.goto('/');
  assert.equal(response.status(), 200);
  assert.equal(await page.title(), 'Trading Strategy Platform');
  const toggle = page.getByTestId('example-toggle');
  await waitForHydration(page);
  await toggle.click();
  await page.getByTestId('example-strategy').waitFor();
  assert.match(await page.getByTestId('example-strategy').innerText(), /trading_pair: BTC\/USD/);
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await toggle.click();
  await page.getByTestId('example-strategy').waitFor({ state: 'detached' });
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.deepEqual(problems, []);
  await context.close();
});

test('without JavaScript the page still renders but the toggle does nothing', async () => {
  const { context, page } = await openPage(browser, { javaScript: false });
  await page.goto('/');
  await page.getByTestId('example-toggle').click();
  await page.waitForTimeout(300);
  assert.equal(await page.getByTestId('example-strategy').count(), 0);
  assert.equal(await page.locator('body[data-hydrated]').count(), 0);
  await context.close();
});

test('the stylesheet is served and applied', async () => {
  const { context, page } = await openPage(browser);
  await page.goto('/');
  // The release names the stylesheet by its content's hash: take its address from the page.
  const href = await page.locator('link[rel="stylesheet"]').first().getAttribute('href');
  assert.match(href, /^\/pkg\/trading_strategy(\.[\w-]+)?\.css$/);
  const css = await page.request.get(`${BASE_URL}${href}`);
  assert.equal(css.status(), 200);
  const display = await page.locator('.site-header').evaluate((el) => getComputedStyle(el).display);
  assert.equal(display, 'flex');
  await context.close();
});

test('an unknown address shows the not-found page with status 404', async () => {
  const { context, page, problems } = await openPage(browser);
  const response = await page.goto('/definitely/not/here');
  assert.equal(response.status(), 404);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await page.getByRole('link', { name: 'Go to the home page' }).click();
  await page.getByRole('heading', { name: 'Write trading strategies you can trust' }).waitFor();
  // Chromium reports the 404 document itself as a failed resource; anything else is a problem.
  assert.deepEqual(problems.filter((p) => !p.includes('status of 404')), []);
  await context.close();
});

test('/health answers ok as JSON', async () => {
  const { context, page } = await openPage(browser);
  const response = await page.request.get(`${BASE_URL}/health`);
  assert.equal(response.status(), 200);
  assert.deepEqual(await response.json(), { status: 'ok' });
  await context.close();
});

test('on a phone-sized screen no page is wider than the screen, even with a long address in the header', async () => {
  const state = await signedInState(browser, { prefix: 'narrow-screen-trader' });
  const { context, page, problems } = await openPage(browser, { storageState: state });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto('/strategies/new?template=rsi_reversion');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/edit$/);
  const strategy = new URL(page.url()).pathname.replace(/\/edit$/, '');
  const pages = ['/', '/strategies', '/strategies/new?template=ma_cross', '/market-data', '/users/settings',
    strategy, `${strategy}/edit`, `${strategy}/versions`];
  for (const path of pages) {
    await page.goto(path);
    await waitForHydration(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, `${path} is ${overflow}px wider than the screen`);
  }
  // Every link of the header stays on the screen.
  for (const name of ['Strategies', 'Market data', 'Settings']) {
    const box = await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 375, `${name} at ${JSON.stringify(box)}`);
  }
  assert.deepEqual(problems, []);
  await context.close();
});
