// Shared set-up for the browser tests: Debian's Chromium driven by playwright-core, against
// the server that scripts/test-all started at BASE_URL.
import { randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';

export const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:3100';

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// A page that fails the test on any uncaught error in the browser (a hydration panic shows
// up here), and on any console error.
// `storageState` starts it signed in as an earlier context was.
export async function openPage(browser, { javaScript = true, storageState } = {}) {
  const context = await browser.newContext({ baseURL: BASE_URL, javaScriptEnabled: javaScript, storageState });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  return { context, page, problems };
}

// Waits until the WASM has hydrated the page (the app marks <body data-hydrated>), so that
// clicks reach Leptos' handlers and forms go through Leptos actions.
export async function waitForHydration(page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 30000 });
}

// Registers a new account and logs it in (registration alone does not sign in; an unconfirmed
// account may log in with its password), and returns the signed-in cookies for
// `openPage(browser, { storageState })`. Sign-ups and log-ins are rate limited per address, so
// a test file signs up once and reuses the state.
export async function signedInState(browser, emailPrefix, password) {
  const { context, page } = await openPage(browser);
  const email = `${emailPrefix}-${randomUUID()}@example.com`;
  await page.goto('/users/register');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.waitForURL('**/users/check-email');
  await page.goto('/users/log-in');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL('**/strategies**');
  const state = await context.storageState();
  await context.close();
  return state;
}
