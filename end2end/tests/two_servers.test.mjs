// Two copies of the server on one database, as behind a load balancer: the live channel
// crosses processes through Postgres. An editor open on copy A hears a save made through
// copy B, and presence counts the tabs on both. scripts/test-all starts copy B on another
// port (same database, same SECRET_KEY_BASE, so one session works on both) and names it in
// SECOND_BASE_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, launchBrowser, openPage, signedInState, waitForHydration } from './browser.mjs';

const SECOND_BASE_URL = process.env.SECOND_BASE_URL;
let browser;
// One account for both tests (sign-ups from one address are rate limited).
let storageState;

before(async () => {
  assert.ok(SECOND_BASE_URL, 'SECOND_BASE_URL names the second server copy (scripts/test-all starts it)');
  assert.notEqual(new URL(SECOND_BASE_URL).port, new URL(BASE_URL).port);
  browser = await launchBrowser();
  storageState = await signedInState(browser, { prefix: 'two-servers' });
});
after(async () => {
  await browser?.close();
});

async function openEditor(page, path) {
  await page.goto(path);
  await waitForHydration(page);
  await page.getByRole('textbox', { name: 'Strategy document' }).waitFor();
}

async function retypeLine(page, on, text) {
  await page.locator('.cm-line', { hasText: on }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.type(text);
}

test('an editor on one server copy is told of a save made through the other, and presence counts tabs on both', async () => {
  const onA = await openPage(browser, { storageState });
  const onB = await openPage(browser, { storageState, baseURL: SECOND_BASE_URL });

  await openEditor(onA.page, '/strategies/new?template=ma_cross');
  await retypeLine(onA.page, 'name: "MA cross"', 'name: "Across two servers"');
  await onA.page.getByRole('button', { name: 'Save', exact: true }).click();
  await onA.page.getByRole('status').filter({ hasText: /\(version 1\)/ }).waitFor();
  const id = onA.page.url().split('/')[4];

  // The same strategy opened through copy B: each editor counts the other.
  await openEditor(onB.page, `/strategies/${id}/edit`);
  assert.ok(onB.page.url().startsWith(SECOND_BASE_URL), onB.page.url());
  await onB.page.getByText('Also open in 1 other tab').waitFor({ timeout: 5000 });
  await onA.page.getByText('Also open in 1 other tab').waitFor({ timeout: 5000 });

  // Saved through copy B, told on copy A.
  await retypeLine(onB.page, 'period: 20', 'period: 26');
  await onB.page.getByRole('button', { name: 'Save', exact: true }).click();
  await onB.page.getByRole('status').filter({ hasText: /\(version 2\)/ }).waitFor();
  const saved = Date.now();
  await onA.page.getByRole('alert').filter({ hasText: /Changed in another window at \d\d:\d\d \(version 2\)/ }).waitFor({ timeout: 3000 });
  const told = Date.now() - saved;
  console.log(`notice across server copies seen ${told} ms after the save was acknowledged`);

  // Closing the tab on copy B is seen on copy A.
  await onB.context.close();
  await onA.page.getByText('Also open in 1 other tab').waitFor({ state: 'detached', timeout: 5000 });
  assert.deepEqual(onA.problems, []);
  assert.deepEqual(onB.problems, []);
  await onA.context.close();
});

test('two editors of one strategy on different server copies type into one document and see each other\'s save', async () => {
  const onA = await openPage(browser, { storageState });
  const onB = await openPage(browser, { storageState, baseURL: SECOND_BASE_URL });

  // A strategy saved once, then opened fresh in both: each editor joins its live document.
  await openEditor(onA.page, '/strategies/new?template=ma_cross');
  await retypeLine(onA.page, 'name: "MA cross"', 'name: "Typed together"');
  await onA.page.getByRole('button', { name: 'Save', exact: true }).click();
  await onA.page.getByRole('status').filter({ hasText: /\(version 1\)/ }).waitFor();
  const path = new URL(onA.page.url()).pathname;
  await openEditor(onA.page, path);
  await openEditor(onB.page, path);

  // What A types appears in B, and what B types appears in A.
  await retypeLine(onA.page, 'period: 20', 'period: 21');
  await onB.page.locator('.cm-line', { hasText: 'period: 21' }).waitFor({ timeout: 5000 });
  await retypeLine(onB.page, 'period: 50', 'period: 55');
  await onA.page.locator('.cm-line', { hasText: 'period: 55' }).waitFor({ timeout: 5000 });

  // Both typing into one line at once: each token arrives exactly once, in both.
  const line = onA.page.locator('.cm-line', { hasText: /^description:/ });
  // Inside the description's closing quote, so that the document stays valid.
  await line.click();
  await onA.page.keyboard.press('End');
  await onA.page.keyboard.press('ArrowLeft');
  await onB.page.locator('.cm-line', { hasText: /^description:/ }).click();
  await onB.page.keyboard.press('End');
  await onB.page.keyboard.press('ArrowLeft');
  // Each token goes in as one edit (as a paste or an IME commit does): two editors typing at
  // one spot may rightly interleave single characters (" b" + " a4" + "4"), and the test is
  // that nothing is lost or doubled, not how two carets at one place order their keys.
  for (let i = 0; i < 5; i++) {
    await onA.page.keyboard.insertText(` a${i}`);
    await onB.page.keyboard.insertText(` b${i}`);
  }
  const text = (page) => page.locator('.cm-content').innerText();
  // Both texts hold every token once the editors are quiet (both texts are shown if not).
  const converged = async () => {
    const [a, b] = [await text(onA.page), await text(onB.page)];
    return a === b && a.includes(' a4') && a.includes(' b4');
  };
  for (let waited = 0; !(await converged()) && waited < 10000; waited += 100) {
    await onA.page.waitForTimeout(100);
  }
  const [a, b] = [await text(onA.page), await text(onB.page)];
  assert.ok(a.includes(' a4') && a.includes(' b4'), `A:\n${a}\nB:\n${b}`);
  assert.equal(a, b);
  for (let i = 0; i < 5; i++) {
    assert.equal(a.split(` a${i}`).length - 1, 1, `a${i} once in\n${a}`);
    assert.equal(a.split(` b${i}`).length - 1, 1, `b${i} once in\n${a}`);
  }

  // Undo in A takes back A's own typing only.
  await onA.page.keyboard.press('Control+z');
  await onA.page.waitForFunction(() => !document.querySelector('.cm-content').innerText.includes(' a4'), null, { timeout: 3000 });
  assert.ok((await text(onA.page)).includes(' b4'));

  // A save in B is the shared text; A is told it is saved, with no conflict to resolve.
  await onB.page.getByRole('button', { name: 'Save', exact: true }).click();
  await onB.page.getByRole('status').filter({ hasText: /version 2/ }).waitFor({ timeout: 5000 });
  await onA.page.getByRole('status').filter({ hasText: /Saved as version 2/ }).waitFor({ timeout: 5000 });
  assert.equal(await onA.page.getByText(/Changed in another window/).count(), 0);
  await onA.page.screenshot({ path: '/tmp/co-editing.png', fullPage: true });
  assert.deepEqual(onA.problems, []);
  assert.deepEqual(onB.problems, []);
  await onA.context.close();
  await onB.context.close();
});
