// Several windows of one strategy, as a trader who keeps more than one tab open meets them:
// a save in one is told in the others, presence counts them, changes saved elsewhere are
// merged or taken, text typed in a tab that closed (or was offline) is offered again, and two
// tabs of a saved strategy type into one shared document.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, sharedSignedInState, waitForHydration } from './browser.mjs';
import { newSavedStrategy, openEditor, retypeLines, saveElsewhere, versionText } from './editor.mjs';

let browser;
// One account for every test here and in strategies.test.mjs (sign-ups from one address are
// rate limited).
let signedInState;

before(async () => {
  browser = await launchBrowser();
  signedInState = await sharedSignedInState(browser);
});
after(async () => {
  await browser?.close();
});

function signedUp() {
  return openPage(browser, { storageState: signedInState });
}

test('a save in one window shows at once in the other window editing the same strategy, and in the list', async () => {
  const first = await signedUp();
  const second = await signedUp();
  const editor = await openEditor(first.page, '/strategies/new?template=blank');
  await editor.click();
  await first.page.locator('.cm-line', { hasText: /^name/ }).click();
  await first.page.keyboard.press('End');
  await first.page.keyboard.press('Shift+Home');
  await first.page.keyboard.type('name: "Two windows"');
  await first.page.getByRole('button', { name: 'Save', exact: true }).click();
  await first.page.getByRole('status').filter({ hasText: /\(version 1\)/ }).waitFor();
  const id = first.page.url().split('/')[4];

  // The second window has the list open, then saves the same strategy.
  await second.page.goto('/strategies?q=Two%20windows');
  await waitForHydration(second.page);
  const content = await first.page.locator('.cm-content').innerText();
  const saved = await second.page.evaluate(async ({ id, content }) => {
    const body = new URLSearchParams({ id, content: content.replace('period: 20', 'period: 30'), format: 'yaml', draft: 'false', lock_version: '1' });
    return (await fetch('/api/strategies/save', { method: 'POST', body, headers: { accept: 'application/json' } })).status;
  }, { id, content });
  assert.equal(saved, 200);

  // The editor in the first window is told within moments, with what it can do.
  const notice = first.page.getByRole('alert').filter({ hasText: /Changed in another window at \d\d:\d\d \(version 2\)/ });
  await notice.waitFor({ timeout: 3000 });
  await notice.getByRole('link', { name: 'View changes' }).waitFor();
  await notice.getByRole('button', { name: 'Reload' }).waitFor();
  await notice.getByRole('button', { name: 'Keep mine' }).click();
  await notice.waitFor({ state: 'detached' });
  await first.page.getByRole('status').filter({ hasText: 'Your text will replace version 2 when you save.' }).waitFor();
  // Mine goes on top of theirs: version 3, with this window's text.
  await first.page.getByRole('button', { name: 'Save', exact: true }).click();
  await first.page.getByRole('status').filter({ hasText: /\(version 3\)/ }).waitFor();
  // The list in the second window shows the newest version without a reload.
  await second.page.getByRole('row', { name: /Two windows/ }).getByRole('cell', { name: '3', exact: true }).waitFor({ timeout: 3000 });
  assert.deepEqual(first.problems, []);
  await first.context.close();
  await second.context.close();
});

test('text typed in a tab that closes is kept and offered when the editor opens again', async () => {
  const first = await signedUp();
  const editor = await openEditor(first.page, '/strategies/new?template=rsi_reversion');
  await first.page.locator('.cm-line', { hasText: /^name/ }).click();
  await first.page.keyboard.press('End');
  await first.page.keyboard.press('Shift+Home');
  await first.page.keyboard.type('name: "Typed before the crash"');
  // About a second after the pause, the working copy is on the server.
  await first.page.getByRole('status').filter({ hasText: /^Saved \d\d:\d\d:\d\d\.$/ }).waitFor({ timeout: 5000 });
  await editor.waitFor();
  await first.context.close();

  const second = await signedUp();
  await openEditor(second.page, '/strategies/new?template=rsi_reversion');
  const offer = second.page.getByRole('region', { name: 'Unsaved changes' });
  await offer.waitFor();
  await offer.getByText('Show the changes').click();
  await offer.getByText('+ name: "Typed before the crash"').waitFor();
  await offer.getByRole('button', { name: 'Restore them' }).click();
  await second.page.locator('.cm-content', { hasText: 'name: "Typed before the crash"' }).waitFor();
  await offer.waitFor({ state: 'detached' });
  assert.deepEqual(second.problems, []);
  await second.context.close();
});

test('offline, the editor keeps the text in the tab and stores it once the connection is back', async () => {
  const { context, page, problems } = await signedUp();
  await openEditor(page, '/strategies/new?template=ma_cross');
  await context.setOffline(true);
  await page.locator('.cm-line', { hasText: /^name/ }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.type('name: "Typed offline"');
  await page.getByRole('status').filter({ hasText: 'Offline: changes kept in this tab.' }).waitFor({ timeout: 5000 });
  await context.setOffline(false);
  // Stored as soon as the browser says the connection is back, well before the 5 s retry.
  await page.getByRole('status').filter({ hasText: /^Saved \d\d:\d\d:\d\d\.$/ }).waitFor({ timeout: 3000 });
  // The failed requests of the offline spell are the browser's, not the app's.
  assert.deepEqual(problems.filter((p) => !p.includes('ERR_INTERNET_DISCONNECTED') && !p.includes('Failed to fetch')), []);
  await context.close();
});

test('an editor shows when the same strategy is open in another tab, and stops when that tab closes', async () => {
  const first = await signedUp();
  await openEditor(first.page, '/strategies/new?template=ma_cross');
  await first.page.locator('.cm-line', { hasText: /^name/ }).click();
  await first.page.keyboard.press('End');
  await first.page.keyboard.press('Shift+Home');
  await first.page.keyboard.type('name: "Open twice"');
  await first.page.getByRole('button', { name: 'Save', exact: true }).click();
  await first.page.getByRole('status').filter({ hasText: /\(version 1\)/ }).waitFor();
  const path = new URL(first.page.url()).pathname;

  const second = await signedUp();
  await openEditor(second.page, path);
  await second.page.getByText('Also open in 1 other tab').waitFor({ timeout: 5000 });
  await first.page.getByText('Also open in 1 other tab').waitFor({ timeout: 5000 });
  await second.context.close();
  await first.page.getByText('Also open in 1 other tab').waitFor({ state: 'detached', timeout: 5000 });
  assert.deepEqual(first.problems, []);
  await first.context.close();
});

test("Merge combines a change saved elsewhere with this window's unsaved change on other lines", async () => {
  const first = await signedUp();
  await openEditor(first.page, '/strategies/new?template=ma_cross');
  await first.page.locator('.cm-line', { hasText: /^name/ }).click();
  await first.page.keyboard.press('End');
  await first.page.keyboard.press('Shift+Home');
  await first.page.keyboard.type('name: "Merged twice"');
  await first.page.getByRole('button', { name: 'Save', exact: true }).click();
  await first.page.getByRole('status').filter({ hasText: /\(version 1\)/ }).waitFor();
  const id = first.page.url().split('/')[4];

  // This window changes the description, not saved yet.
  await first.page.locator('.cm-line', { hasText: 'description:' }).click();
  await first.page.keyboard.press('End');
  await first.page.keyboard.press('ArrowLeft');
  await first.page.keyboard.type(' Mine too.');

  // Another window saves a different line.
  const second = await signedUp();
  await second.page.goto('/strategies');
  const status = await second.page.evaluate(async (id) => {
    const headers = { accept: 'application/json' };
    const version = await (await fetch('/api/strategies/version', { method: 'POST', body: new URLSearchParams({ id, number: '1' }), headers })).json();
    const body = new URLSearchParams({ id, content: version.content.replace('period: 20', 'period: 30'), format: 'yaml', draft: 'false', lock_version: '1' });
    return (await fetch('/api/strategies/save', { method: 'POST', body, headers })).status;
  }, id);
  assert.equal(status, 200);

  const notice = first.page.getByRole('alert').filter({ hasText: /Changed in another window/ });
  await notice.getByRole('button', { name: 'Merge' }).click();
  await first.page.getByRole('status').filter({ hasText: 'Merged with version 2: check the text, then save.' }).waitFor();
  await first.page.getByRole('button', { name: 'Save', exact: true }).click();
  await first.page.getByRole('status').filter({ hasText: /\(version 3\)/ }).waitFor();
  // Version 3 holds both changes.
  const merged = await first.page.evaluate(async (id) => {
    const body = new URLSearchParams({ id, number: '3' });
    return (await (await fetch('/api/strategies/version', { method: 'POST', body, headers: { accept: 'application/json' } })).json()).content;
  }, id);
  assert.ok(merged.includes('period: 30') && merged.includes('Mine too."'), merged);
  assert.deepEqual(first.problems, []);
  await first.context.close();
  await second.context.close();
});





test('overlapping changes from two windows are resolved one by one in the merge view and saved on top', async () => {
  const first = await signedUp();
  const id = await newSavedStrategy(first.page, 'Overlapping twice');
  // This window's unsaved changes: two lines the other window also changes, one it does not.
  await retypeLines(first.page, {
    'period: 20': 'period: 21',
    'exit_conditions:': 'exit_conditions: "close < sma_slow"',
    'stop_conditions:': 'stop_conditions: "unrealized_pnl_pct < -0.05"',
  });

  const second = await signedUp();
  await second.page.goto('/strategies');
  const status = await saveElsewhere(second.page, id, 1, 1, [
    ['period: 20', 'period: 25'],
    ['exit_conditions: "crosses_below(ema_fast, sma_slow)"', 'exit_conditions: "close < ema_fast"'],
    ['timeframe: "1h"', 'timeframe: "4h"'],
  ]);
  assert.equal(status, 200);

  const notice = first.page.getByRole('alert').filter({ hasText: /Changed in another window/ });
  await notice.getByRole('button', { name: 'Merge' }).click();
  const merge = first.page.getByRole('region', { name: 'Merge the changes' });
  await merge.getByText('Both windows changed the same lines in 2 places').waitFor();
  const firstChange = merge.getByRole('group', { name: 'Change 1 of 2' });
  await firstChange.getByText('period: 25').waitFor();
  await firstChange.getByRole('button', { name: 'Theirs' }).click();
  await merge.getByText('1 of 2 decided.').waitFor();
  const secondChange = merge.getByRole('group', { name: 'Change 2 of 2' });
  await secondChange.getByRole('button', { name: 'Mine' }).click();
  await merge.getByText('The merged document is valid.').waitFor();
  // A hand edit of a chosen side is checked as it is typed.
  const lines = secondChange.getByRole('textbox', { name: 'Merged lines' });
  await lines.fill('exit_conditions: "close <"\n');
  await merge.getByText(/The merged document has 1 error/).waitFor();
  await secondChange.getByRole('button', { name: 'Mine' }).click();
  await merge.getByText('The merged document is valid.').waitFor();
  await first.page.screenshot({ path: '/tmp/h10-merge-view.png', fullPage: true });
  await merge.getByRole('button', { name: 'Use the merged text' }).click();
  await merge.waitFor({ state: 'detached' });
  await first.page.getByRole('status').filter({ hasText: 'Merged with version 2: check the text, then save.' }).waitFor();
  await first.page.getByText('No problems: the document is valid.').waitFor();
  await first.page.getByRole('button', { name: 'Save', exact: true }).click();
  await first.page.getByRole('status').filter({ hasText: /\(version 3\)/ }).waitFor();

  const merged = await versionText(first.page, id, 3);
  for (const expected of ['period: 25', 'exit_conditions: "close < sma_slow"', 'timeframe: "4h"', 'stop_conditions: "unrealized_pnl_pct < -0.05"']) {
    assert.ok(merged.includes(expected), `${expected} in\n${merged}`);
  }
  assert.ok(!merged.includes('period: 21') && !merged.includes('close < ema_fast'), merged);
  assert.deepEqual(first.problems, []);
  await first.context.close();
  await second.context.close();
});

test('Take theirs loads the version saved elsewhere and keeps this window\'s text to restore', async () => {
  const first = await signedUp();
  const id = await newSavedStrategy(first.page, 'Taken from the other window');
  await retypeLines(first.page, { 'period: 20': 'period: 22' });
  const second = await signedUp();
  await second.page.goto('/strategies');
  assert.equal(await saveElsewhere(second.page, id, 1, 1, [['period: 50', 'period: 55']]), 200);

  const notice = first.page.getByRole('alert').filter({ hasText: /Changed in another window/ });
  await notice.getByRole('button', { name: 'Take theirs' }).click();
  await first.page.getByRole('status').filter({ hasText: 'Took version 2: your text is kept below, to restore if you need it.' }).waitFor();
  await first.page.locator('.cm-line', { hasText: 'period: 55' }).waitFor();
  await first.page.locator('.cm-line', { hasText: 'period: 20' }).waitFor();
  // The text this window had is a working copy on the server: a new tab is offered it too.
  const third = await signedUp();
  await openEditor(third.page, `/strategies/${id}/edit`);
  await third.page.getByRole('region', { name: 'Unsaved changes' }).getByText('Show the changes').click();
  await third.page.getByText('+       period: 22').waitFor();
  await third.context.close();
  // And this window restores it in one click.
  const offer = first.page.getByRole('region', { name: 'Unsaved changes' });
  await offer.getByRole('button', { name: 'Restore them' }).click();
  await first.page.locator('.cm-line', { hasText: 'period: 22' }).waitFor();
  assert.deepEqual(first.problems, []);
  await first.context.close();
  await second.context.close();
});

test('text typed offline in a tab that then closed is offered from the browser\'s storage when the editor opens again', async () => {
  const { context, page, problems } = await signedUp();
  const id = await newSavedStrategy(page, 'Typed offline, then closed');
  await context.setOffline(true);
  await retypeLines(page, { 'period: 20': 'period: 33' });
  await page.getByRole('status').filter({ hasText: 'Offline: changes kept in this tab.' }).waitFor({ timeout: 5000 });
  // The tab closes before the connection returns: the server never got the text.
  await page.close();
  await context.setOffline(false);

  const again = await context.newPage();
  again.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await openEditor(again, `/strategies/${id}/edit`);
  const offer = again.getByRole('region', { name: 'Unsaved changes' });
  await offer.getByText(/were kept in this browser: the server never got them/).waitFor();
  await offer.getByText('Show the changes').click();
  await offer.getByText('+       period: 33').waitFor();
  await again.screenshot({ path: '/tmp/h10-browser-copy.png', fullPage: true });
  await offer.getByRole('button', { name: 'Restore them' }).click();
  await again.locator('.cm-line', { hasText: 'period: 33' }).waitFor();
  // Restored into the strategy's shared live text, which the server stores as it is typed;
  // once it has it, the browser forgets its copy.
  await again.getByRole('status').filter({ hasText: /^Unsaved changes since version 1 \(last edit \d\d:\d\d:\d\d\)\.$/ }).waitFor({ timeout: 5000 });
  await again.waitForFunction((id) => localStorage.getItem(`trading-strategy:working-copy:${id}`) === null, id, { timeout: 5000 });
  const start = await again.evaluate(async (id) => {
    const body = new URLSearchParams({ id });
    return (await fetch('/api/strategies/open', { method: 'POST', body, headers: { accept: 'application/json' } })).json();
  }, id);
  assert.ok(start.live?.text.includes('period: 33'), JSON.stringify(start.live));
  assert.ok(start.live.unsaved);
  assert.deepEqual(problems.filter((p) => !p.includes('ERR_INTERNET_DISCONNECTED') && !p.includes('Failed to fetch')), []);
  await context.close();
});

test('two tabs of a saved strategy type into one shared document, and a tab that was offline catches up', async () => {
  const first = await signedUp();
  const id = await newSavedStrategy(first.page, 'One shared document');
  const path = `/strategies/${id}/edit`;
  await openEditor(first.page, path);
  const second = await openPage(browser, { storageState: await first.context.storageState() });
  await openEditor(second.page, path);

  await retypeLines(first.page, { 'period: 20': 'period: 24' });
  await second.page.locator('.cm-line', { hasText: 'period: 24' }).waitFor({ timeout: 5000 });
  // The other tab's cursor is drawn, with its label.
  await second.page.locator('.cm-line', { hasText: 'period: 24' }).click();
  await first.page.getByText(/^You · /).first().waitFor({ timeout: 5000 });

  // Offline, the second tab keeps typing; back online, both texts hold both changes.
  await second.context.setOffline(true);
  await retypeLines(second.page, { 'period: 50': 'period: 51' });
  await retypeLines(first.page, { 'timeframe: "1h"': 'timeframe: "4h"' });
  await second.context.setOffline(false);
  for (const page of [first.page, second.page]) {
    await page.locator('.cm-line', { hasText: 'period: 51' }).waitFor({ timeout: 10000 });
    await page.locator('.cm-line', { hasText: 'timeframe: "4h"' }).waitFor({ timeout: 10000 });
  }
  await first.page.getByRole('status').filter({ hasText: /^Unsaved changes since version 1/ }).waitFor();
  assert.deepEqual(first.problems, []);
  await first.context.close();
  await second.context.close();
});

test('a composition (IME) in one tab is not disturbed by typing in the other, and lands where it was made', async () => {
  const first = await signedUp();
  const id = await newSavedStrategy(first.page, 'Composed while shared');
  const path = `/strategies/${id}/edit`;
  await openEditor(first.page, path);
  const second = await signedUp();
  await openEditor(second.page, path);

  // The first tab composes at the end of the description (inside its closing quote)...
  await first.page.locator('.cm-line', { hasText: /^description:/ }).click();
  await first.page.keyboard.press('End');
  await first.page.keyboard.press('ArrowLeft');
  const ime = await first.page.context().newCDPSession(first.page);
  await ime.send('Input.imeSetComposition', { text: 'ni', selectionStart: 2, selectionEnd: 2 });
  // ...while the second types on a line above it.
  await retypeLines(second.page, { 'name: "Composed while shared"': 'name: "Composed while shared, twice"' });
  await ime.send('Input.imeSetComposition', { text: 'nih', selectionStart: 3, selectionEnd: 3 });
  await ime.send('Input.insertText', { text: '你好' });

  for (const page of [first.page, second.page]) {
    await page.locator('.cm-line', { hasText: /^description:.*你好"$/ }).waitFor({ timeout: 5000 });
    await page.locator('.cm-line', { hasText: 'name: "Composed while shared, twice"' }).waitFor({ timeout: 5000 });
  }
  const texts = await Promise.all([first.page, second.page].map((page) => page.locator('.cm-content').innerText()));
  assert.equal(texts[0], texts[1]);
  assert.equal(texts[0].split('你好').length - 1, 1, texts[0]);
  assert.ok(!/nih?[^a-z]/.test(texts[0].split('description:')[1].split('\n')[0]), texts[0]);
  assert.deepEqual(first.problems, []);
  assert.deepEqual(second.problems, []);
  await first.context.close();
  await second.context.close();
});
