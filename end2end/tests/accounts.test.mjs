// Accounts in a real browser, with mail read from the SMTP server (MailDev) the test command
// started: register, confirm (and so sign in) through the mailed link, log out, log in, reset
// the password through the mail, change the password in settings and see the other browser
// logged out; the list of active sessions in settings and revoking one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { launchBrowser, linkIn, mailTo, openPage, waitForHydration } from './browser.mjs';

const PASSWORD = 'correct horse battery staple';
const RESET_PASSWORD = 'a reset passphrase of mine';
const CHANGED_PASSWORD = 'the changed passphrase here';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const uniqueEmail = () => `browser-${randomUUID()}@example.com`;

// Waits until the WASM has loaded, so that forms go through Leptos actions.
async function hydrated(page) {
  await page.waitForLoadState('networkidle');
  await waitForHydration(page);
}

async function logIn(page, email, password) {
  await page.goto('/users/log-in');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL('**/strategies');
  // The list's live channel connects as it hydrates; a session that ends before then (the
  // other browser's password change below) would see its first connection refused.
  await hydrated(page);
}

// Registers `email` (which leads to "check your email", not signed in), then follows the mailed
// link, which confirms the account and signs in.
async function registerAndConfirm(page, email) {
  await page.goto('/users/register');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.waitForURL('**/users/check-email');
  await page.getByRole('heading', { name: 'Check your email to continue' }).waitFor();
  assert.equal(await page.getByTestId('account-email').count(), 0, 'registration does not sign in');

  const confirmation = await mailTo(email, 'Confirm your email');
  await page.goto(linkIn(confirmation));
  await hydrated(page);
  await page.getByRole('button', { name: 'Confirm my account' }).click();
  await page.waitForURL('**/strategies?notice=confirmed');
  await page.getByText('Your email is confirmed').waitFor();
  assert.equal(await page.getByTestId('account-email').innerText(), email);
  assert.equal(await page.getByTestId('unconfirmed-banner').count(), 0);
}

test('a user registers, confirms by mail, logs out and in, resets the password by mail, and a password change logs the other browser out', async () => {
  const email = uniqueEmail();
  const { context, page, problems } = await openPage(browser);

  // Register: not signed in yet, asked to check the mail.
  await registerAndConfirm(page, email);

  // Log out, then log in again.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/?notice=logged-out');
  await page.getByRole('link', { name: 'Log in' }).waitFor();
  await logIn(page, email, PASSWORD);

  // Reset the password through the mail (as a guest).
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/?notice=logged-out');
  await page.goto('/users/reset-password');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send password reset instructions' }).click();
  await page.waitForURL('**/users/log-in?notice=reset-sent');
  const reset = await mailTo(email, 'Reset your password');
  await page.goto(linkIn(reset));
  await hydrated(page);
  await page.getByLabel('New password', { exact: true }).fill(RESET_PASSWORD);
  await page.getByLabel('Confirm new password').fill(RESET_PASSWORD);
  await page.getByRole('button', { name: 'Reset password' }).click();
  await page.waitForURL('**/users/log-in?notice=password-reset');
  await logIn(page, email, RESET_PASSWORD);

  // A second browser logs in too; a password change in the first logs it out.
  const other = await openPage(browser);
  await logIn(other.page, email, RESET_PASSWORD);
  await page.goto('/users/settings');
  await hydrated(page);
  const form = page.getByTestId('change-password');
  await form.getByLabel('New password', { exact: true }).fill(CHANGED_PASSWORD);
  await form.getByLabel('Confirm new password').fill(CHANGED_PASSWORD);
  await form.getByLabel('Current password').fill(RESET_PASSWORD);
  await form.getByRole('button', { name: 'Change password' }).click();
  await page.waitForURL('**/users/settings?notice=password-changed');
  assert.equal(await page.getByTestId('account-email').innerText(), email, 'this browser stays logged in');

  await other.page.goto('/strategies');
  await other.page.waitForURL('**/users/log-in?return_to=%2Fstrategies');
  assert.equal(await other.page.getByTestId('account-email').count(), 0);

  assert.deepEqual(problems, []);
  assert.deepEqual(other.problems, []);
  await other.context.close();
  await context.close();
});

test('with JavaScript on, a refused form shows the error next to its field without leaving the page', async () => {
  const { context, page, problems } = await openPage(browser);
  await page.goto('/users/register');
  await hydrated(page);
  await page.getByLabel('Email').fill(uniqueEmail());
  await page.getByLabel(/^Password/).fill('password1234');
  await page.getByRole('button', { name: 'Create an account' }).click();
  const error = page.locator('[data-field=password]');
  await error.waitFor();
  assert.match(await error.innerText(), /common/);
  assert.equal(new URL(page.url()).pathname, '/users/register');
  assert.ok(!page.url().includes('__err'), 'answered in the page, not by a redirect');
  // A 422 answer is logged by Chromium as a failed resource; nothing else may be.
  assert.deepEqual(problems.filter((p) => !p.includes('status of 422')), []);
  await context.close();
});

test('with JavaScript off, registering and a refused login still work as plain forms', async () => {
  const { context, page } = await openPage(browser, { javaScript: false });
  const email = uniqueEmail();
  await page.goto('/users/register');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.waitForURL('**/users/check-email');
  await page.getByRole('heading', { name: 'Check your email to continue' }).waitFor();

  await page.goto('/users/log-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill('not the right password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('Invalid email or password').waitFor();
  await context.close();
});

test('settings list the active sessions, and one click revokes another browser\'s', async () => {
  const email = uniqueEmail();
  const first = await openPage(browser);
  await registerAndConfirm(first.page, email);
  const second = await openPage(browser);
  await logIn(second.page, email, PASSWORD);

  await first.page.goto('/users/settings');
  await hydrated(first.page);
  const sessions = first.page.getByTestId('active-session');
  await first.page.getByRole('heading', { name: 'Active sessions' }).waitFor();
  assert.equal(await sessions.count(), 2);
  await first.page.getByText('(this session)').waitFor();
  assert.match(await sessions.first().innerText(), /Chrome on Linux · 127\.0\.0\.1 · last seen \d{4}-\d{2}-\d{2}/);
  await first.page.getByRole('button', { name: /^Revoke the session/ }).click();
  await first.page.waitForURL('**/users/settings?notice=session-revoked');
  await first.page.getByText('That session has ended.').waitFor();
  assert.equal(await sessions.count(), 1);
  assert.equal(await first.page.getByTestId('account-email').innerText(), email, 'this browser stays logged in');

  await second.page.goto('/strategies');
  await second.page.waitForURL('**/users/log-in?return_to=%2Fstrategies');
  assert.equal(await first.page.getByRole('button', { name: 'Log out everywhere else' }).count(), 1);

  assert.deepEqual(first.problems, []);
  assert.deepEqual(second.problems, []);
  await second.context.close();
  await first.context.close();
});
