// Shared set-up for the browser tests: Debian's Chromium driven by playwright-core, against
// the server that scripts/test-all started at BASE_URL.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
// `storageState` starts it signed in as an earlier context was; `baseURL` points it at
// another copy of the server.
export async function openPage(browser, { javaScript = true, storageState, baseURL = BASE_URL } = {}) {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: javaScript, storageState });
  const page = await context.newPage();
  // A Content-Security-Policy violation names what was blocked and where, as a console error.
  // One kind is the browser's own and harmless: typing over a selection in the code editor,
  // Chrome's editing writes a `style` attribute on the line to keep the typed text's look,
  // the policy blocks it, and CodeMirror redraws the line from its own state anyway.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const element = event.target instanceof Element ? event.target : null;
      const editing = event.violatedDirective === 'style-src-attr' && element?.closest('.cm-content');
      const report = editing ? console.warn : console.error;
      report(`CSP ${event.violatedDirective} blocked ${JSON.stringify(event.sample)} at ${event.sourceFile}:${event.lineNumber} ${element ? element.outerHTML.slice(0, 160) : ''}`);
    });
  });
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // The browser's own line for a blocked inline style comes first; the event above, which
  // tells whose it was, comes after it and takes it back when it was the editor's.
  const inlineStyleLines = [];
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error') {
      if (text.startsWith('Applying inline style violates')) inlineStyleLines.push(text);
      problems.push(`console error: ${text}`);
    } else if (message.type() === 'warning' && text.startsWith('CSP style-src-attr blocked')) {
      const line = inlineStyleLines.shift();
      const at = problems.indexOf(`console error: ${line}`);
      if (line !== undefined && at >= 0) problems.splice(at, 1);
    }
  });
  return { context, page, problems };
}

// Waits until the WASM has hydrated the page (the app marks <body data-hydrated>), so that
// clicks reach Leptos' handlers and forms go through Leptos actions.
export async function waitForHydration(page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 30000 });
}

export const MAILDEV_URL = process.env.MAILDEV_URL ?? 'http://127.0.0.1:1080';

// The newest mail to `address` whose subject contains `subject`, waiting up to 15 s.
export async function mailTo(address, subject) {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    const mails = await (await fetch(`${MAILDEV_URL}/email`)).json();
    const found = mails
      .filter((m) => m.to.some((t) => t.address.toLowerCase() === address.toLowerCase()))
      .filter((m) => m.subject.includes(subject))
      .pop();
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no mail to ${address} about "${subject}"`);
}

// The path of the first link in a mail.
export function linkIn(mail) {
  const match = mail.text.match(/https?:\/\/\S+/);
  if (!match) throw new Error(`no link in: ${mail.text}`);
  return new URL(match[0]).pathname;
}

// Registers a new account and signs in; returns the signed-in cookies for later contexts.
// Registration does not sign in: an unconfirmed account logs in with its password, and a
// `confirmed` one (what uploading market data and running backtests need) follows the mailed
// link, which confirms it and signs in.
export async function signedInState(browser, { prefix = 'trader', password = 'correct horse battery staple', confirmed = false } = {}) {
  const { context, page } = await openPage(browser);
  const email = `${prefix}-${randomUUID()}@example.com`;
  await page.goto('/users/register');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.waitForURL('**/users/check-email');
  if (confirmed) {
    await page.goto(linkIn(await mailTo(email, 'Confirm your email')));
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Confirm my account' }).click();
  } else {
    await page.goto('/users/log-in');
    await waitForHydration(page);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }
  await page.waitForURL('**/strategies**');
  const state = await context.storageState();
  await context.close();
  return state;
}

// The signed-in cookies of one account that several test files share: registrations from one
// address are rate limited (an app rule), so the files that need no account of their own sign
// up once per run. The first file registers and leaves the cookies in a file named after the
// run's server and database (scripts/test-all sets E2E_DATABASE_URL); the next ones read them.
export async function sharedSignedInState(browser, options = {}) {
  // The server and its database name the run (scale-out reaches other servers on another port).
  const run = `${BASE_URL} ${process.env.E2E_DATABASE_URL ?? ''}`;
  const key = createHash('sha256').update(`${run} ${JSON.stringify(options)}`).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `trading-strategy-e2e-${key}.json`);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  const state = await signedInState(browser, options);
  fs.writeFileSync(file, JSON.stringify(state));
  return state;
}
