// The strategy workbench in a real browser, as a trader uses it: start from a template, make
// a mistake and see it underlined and listed, fix it and see the section turn valid, complete
// an indicator output, save, edit and save again, compare and restore versions, duplicate,
// archive and restore, be refused activation without a backtest; and without JavaScript,
// create and save through the plain form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import AxeBuilder from '@axe-core/playwright';
import { launchBrowser, openPage, sharedSignedInState, waitForHydration } from './browser.mjs';
import { openEditor, retypeLines } from './editor.mjs';

let browser;
// One account for every test here (sign-ups and log-ins from one address are rate limited):
// its signed-in cookies are reused by each test's own browser context.
let signedInState;

before(async () => {
  browser = await launchBrowser();
  signedInState = await sharedSignedInState(browser);
});
after(async () => {
  await browser?.close();
});

// A signed-in browser context that fails the test on any page error or console error.
function signedUp({ javaScript = true } = {}) {
  return openPage(browser, { javaScript, storageState: signedInState });
}


test('a trader writes, fixes, saves, compares, restores, duplicates and archives a strategy', async () => {
  const { context, page, problems } = await signedUp();
  const editor = await openEditor(page, '/strategies/new?template=ma_cross');
  const problemsList = page.getByRole('list', { name: 'Problems' });

  // A misspelt field: underlined at its span, listed with its line and column.
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('entry_condition: "close > 1"');
  await page.locator('.cm-lintRange-error').first().waitFor();
  const item = problemsList.getByRole('listitem').first();
  await item.waitFor();
  assert.match(await item.innerText(), /^\d+:1\s+ERROR\s+unknown field `entry_condition`; did you mean `entry_conditions`\?/i);
  const basics = page.locator('.section', { hasText: 'Basics' });
  assert.match(await basics.innerText(), /1 problem/);
  // The problems list moves the cursor to the problem.
  await item.getByRole('button', { name: /Replace with `entry_conditions`/ }).waitFor();
  await item.getByRole('button').first().click();

  // Fixing it turns the section valid again.
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.press('Backspace');
  await page.getByText('No problems: the document is valid.').waitFor();
  assert.match(await basics.innerText(), /valid/);

  // Completion inside a condition offers the document's indicators.
  const text = await editor.innerText();
  assert.ok(text.includes('crosses_below(ema_fast, sma_slow)'));
  await page.locator('.cm-line', { hasText: 'crosses_below(ema_fast, sma_slow)' }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft'); // inside the closing quote
  await page.keyboard.type(' OR close < sma_sl');
  const option = page.getByRole('option', { name: /sma_slow/ });
  await option.first().waitFor();
  // CodeMirror lets Enter through for 75 ms after the list opens or changes (its
  // `interactionDelay`), so that Enter typed in a burst ends the line instead of taking a choice
  // the typist never saw; a person reads the list first, and so does this test.
  await page.waitForTimeout(150);
  await page.keyboard.press('Enter');
  await page.getByText('No problems: the document is valid.').waitFor();
  assert.ok((await editor.innerText()).includes('close < sma_slow"'));

  // Save: version 1, the address becomes the strategy's editor.
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: /Saved \d\d:\d\d:\d\d \(version 1\)/ }).waitFor();
  await page.waitForURL(/\/strategies\/[0-9a-f-]+\/edit$/);
  const id = page.url().split('/')[4];

  // Edit and save again: version 2.
  await page.locator('.cm-line', { hasText: 'period: 20' }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.type('21');
  await page.keyboard.press('Control+s');
  await page.getByRole('status').filter({ hasText: /\(version 2\)/ }).waitFor();

  // Compare the two versions: the change in trading terms and the lines.
  await page.goto(`/strategies/${id}/versions?from=1&to=2`);
  await waitForHydration(page);
  const changes = page.getByRole('list', { name: 'Changes' });
  assert.match(await changes.innerText(), /ema_fast\.period 20 -> 21/);
  assert.ok(await page.locator('tr.changed').count() >= 1, 'the changed line sits beside its replacement');

  // Restore version 1 as version 3.
  await page.getByRole('button', { name: 'Restore version 1' }).click();
  await page.waitForURL(/notice=restored/);
  await page.locator('th', { hasText: 'Version 3' }).filter({ hasText: '(current)' }).waitFor();

  // Duplicate, then archive the copy and restore it.
  await page.goto(`/strategies/${id}`);
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Duplicate' }).click();
  await page.waitForURL(/notice=duplicated/);
  await page.getByRole('heading', { name: /^MA cross - Copy/ }).waitFor();
  await page.getByRole('button', { name: 'Archive' }).click();
  await page.waitForURL(/notice=archived/);
  await page.getByText('This strategy is archived and read-only').waitFor();
  await page.getByRole('button', { name: 'Restore to draft' }).click();
  await page.waitForURL(/notice=draft/);

  // Activation is refused until a backtest of the current version exists.
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.getByRole('alert').filter({ hasText: 'Run a backtest of version 1 first.' }).waitFor();

  // Both strategies are in the list.
  await page.goto('/strategies?sort=name_asc&q=MA%20cross');
  await page.getByRole('link', { name: 'MA cross', exact: true }).waitFor();
  await page.getByRole('link', { name: 'MA cross - Copy', exact: true }).waitFor();

  // The refused activation answered 409, which the browser logs; nothing else may go wrong.
  assert.deepEqual(problems.filter((p) => !p.includes('status of 409')), []);
  await context.close();
});

test('without JavaScript the editor is a form that creates and saves a strategy', async () => {
  const { context, page } = await signedUp({ javaScript: false });
  await page.goto('/strategies/new?template=blank');
  const textarea = page.getByRole('textbox', { name: 'Strategy document' });
  const original = await textarea.inputValue();
  await textarea.fill(original.replace('My strategy', 'Plain form'));
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/strategies\/[0-9a-f-]+\?notice=saved$/);
  await page.getByRole('heading', { name: 'Plain form' }).waitFor();

  // A mistake comes back on the page with its line, and the text is kept.
  await page.getByRole('link', { name: 'Edit' }).click();
  await textarea.fill((await textarea.inputValue()).replace('timeframe: "1d"', 'timeframe: "2d"'));
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/edit$/);
  await page.getByRole('alert').filter({ hasText: 'Save as draft' }).waitFor();
  assert.ok((await textarea.inputValue()).includes('timeframe: "2d"'));
  const problemsList = page.getByRole('list', { name: 'Problems' });
  assert.match(await problemsList.innerText(), /^\d+:\d+/);
  await page.getByRole('button', { name: 'Save as draft' }).click();
  await page.waitForURL(/\?notice=saved$/);
  await page.getByText('Version 2').first().waitFor();
  await context.close();
});

test('a trader builds a strategy from the blank template with the builder alone', async () => {
  const { context, page, problems } = await signedUp();
  const editor = await openEditor(page, '/strategies/new?template=blank');
  await page.getByRole('button', { name: 'Builder' }).click();

  // An indicator from the registry, named for its type and default period.
  await page.getByRole('combobox', { name: /New indicator/ }).selectOption('rsi');
  await page.getByRole('button', { name: 'Add indicator' }).click();
  await page.locator('.cm-content', { hasText: 'name: rsi_14' }).waitFor();
  await page.getByRole('group', { name: /rsi_14/ }).waitFor();

  // Reordered: the new indicator moves above the first one.
  await page.getByRole('button', { name: 'Move up rsi_14' }).click();
  await page.getByRole('button', { name: 'Move down rsi_14' }).waitFor();
  const text = await page.locator('.cm-content').innerText();
  assert.ok(text.indexOf('name: rsi_14') < text.indexOf('name: sma_20'), text);

  // A parameter changed through its input.
  const period = page.getByRole('spinbutton', { name: 'period of sma_20' });
  await period.fill('50');
  await period.press('Tab');
  await page.locator('.cm-content', { hasText: 'period: 50' }).waitFor();

  // A clause composed from operands and an operator, joined with AND.
  await page.getByRole('combobox', { name: 'Entry clause: left operand' }).selectOption('rsi_14');
  await page.getByRole('combobox', { name: 'Entry clause: comparison' }).selectOption('<');
  await page.getByRole('combobox', { name: 'Entry clause: right operand' }).fill('30');
  await page.getByRole('button', { name: 'Add to Entry' }).click();
  await page.locator('.cm-content', { hasText: 'close > sma_20 AND rsi_14 < 30' }).waitFor();
  const clauses = page.getByRole('list', { name: 'Entry clauses' });
  await clauses.getByText('rsi_14 < 30').waitFor();

  // Each builder change is one step of the editor's undo history.
  await editor.click();
  await page.keyboard.press('Control+z');
  await page.locator('.cm-content', { hasText: 'rsi_14 < 30' }).waitFor({ state: 'detached' });
  await page.keyboard.press('Control+y');
  await page.locator('.cm-content', { hasText: 'close > sma_20 AND rsi_14 < 30' }).waitFor();

  await page.getByRole('button', { name: 'Checks' }).click();
  await page.getByText('No problems: the document is valid.').waitFor();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: /\(version 1\)/ }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('the syntax test sums up the strategy and finds a condition that can never be true, with JavaScript and without', async () => {
  const contradiction = 'entry_conditions: "close > sma_20 AND close > 10 AND close < 5"';
  const expectReport = async (page) => {
    const report = page.getByRole('region', { name: 'Syntax test' });
    await report.waitFor();
    const text = await report.innerText();
    assert.match(text, /My strategy on BTC\/USD 1d; 19 bars of warm-up\./);
    assert.match(text, /sma_20 Simple moving average \(period = 20/);
    assert.match(text, /can never be true/);
  };

  // In the browser: the button fetches the syntax test's code and reports beside the text.
  const { context, page, problems } = await signedUp();
  await openEditor(page, '/strategies/new?template=blank');
  await retypeLines(page, { 'entry_conditions:': contradiction });
  await page.getByRole('button', { name: 'Test syntax' }).click();
  await expectReport(page);
  assert.deepEqual(problems, []);
  await context.close();

  // Without JavaScript: the form is posted and the page comes back with the same report.
  const plain = await signedUp({ javaScript: false });
  await plain.page.goto('/strategies/new?template=blank');
  const textarea = plain.page.getByRole('textbox', { name: 'Strategy document' });
  await textarea.fill((await textarea.inputValue()).replace('entry_conditions: "close > sma_20"', contradiction));
  await plain.page.getByRole('button', { name: 'Test syntax' }).click();
  await expectReport(plain.page);
  assert.ok((await textarea.inputValue()).includes(contradiction));
  await plain.context.close();
});

test('only an editor page fetches CodeMirror, and text typed before it arrives moves into it', async () => {
  const { context, page, problems } = await signedUp();
  const fetched = [];
  page.on('request', (request) => fetched.push(new URL(request.url()).pathname));

  // The list page hydrates with the app's WASM and the editor's loader, not CodeMirror.
  await page.goto('/strategies');
  await waitForHydration(page);
  assert.ok(fetched.includes('/editor/loader.js'), fetched.join(' '));
  assert.ok(!fetched.includes('/editor/codemirror.js'), fetched.join(' '));

  // On the editor page CodeMirror is on its way; held back here, the trader types meanwhile
  // in the page's own text area.
  let arrive;
  const held = new Promise((resolve) => { arrive = resolve; });
  await page.route('**/editor/codemirror.js', async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/strategies/new?template=blank');
  // The page asks for it from its head, before the app's JavaScript runs.
  assert.equal(await page.locator('head link[rel="modulepreload"][href="/editor/codemirror.js"]').count(), 1);
  const textarea = page.locator('textarea#strategy-content');
  const typed = (await textarea.inputValue()).replace('My strategy', 'Typed early');
  await textarea.fill(typed);
  assert.equal(await page.locator('body[data-hydrated="true"]').count(), 0, 'ready before its editor');
  arrive();
  await waitForHydration(page);
  await page.locator('.cm-content', { hasText: 'name: "Typed early"' }).waitFor();
  await page.getByRole('status').filter({ hasText: 'Unsaved changes.' }).waitFor();
  assert.ok(fetched.includes('/editor/codemirror.js'));
  // One undoable step: Ctrl+Z gives the template back.
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+z');
  await page.locator('.cm-content', { hasText: 'name: "My strategy"' }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('when CodeMirror cannot be fetched the editor stays a plain form that saves', async () => {
  const { context, page, problems } = await signedUp();
  await page.route('**/editor/codemirror.js', (route) => route.abort('connectionfailed'));
  await page.goto('/strategies/new?template=blank');
  await waitForHydration(page);
  await page.getByRole('alert').filter({ hasText: 'The code editor could not be loaded' }).waitFor();
  assert.equal(await page.locator('.cm-editor').count(), 0);
  const textarea = page.getByRole('textbox', { name: 'Strategy document' });
  await textarea.fill((await textarea.inputValue()).replace('My strategy', 'Without CodeMirror'));
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/strategies\/[0-9a-f-]+\?notice=saved$/);
  await page.getByRole('heading', { name: 'Without CodeMirror' }).waitFor();
  // The failed fetch is the only thing the browser complained about.
  assert.ok(problems.length > 0 && problems.every((p) => p.includes('net::ERR_CONNECTION_FAILED')), problems.join('\n'));
  await context.close();
});

test('a quick fix from the problems list corrects the text and Ctrl+Z takes it back', async () => {
  const { context, page, problems } = await signedUp();
  const editor = await openEditor(page, '/strategies/new?template=blank');
  await page.locator('.cm-line', { hasText: 'trading_pair:' }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.type('trading_pair: "btc/usd"');
  const fix = page.getByRole('button', { name: /Replace with `BTC\/USD`/ });
  await fix.waitFor();
  await fix.click();
  await page.locator('.cm-content', { hasText: 'trading_pair: "BTC/USD"' }).waitFor();
  // The problem is gone with its fix (this account already has a "My strategy", so the name
  // clash stays listed).
  await fix.waitFor({ state: 'detached' });
  assert.doesNotMatch(await page.getByRole('list', { name: 'Problems' }).innerText(), /trading_pair|BTC/);
  await editor.click();
  await page.keyboard.press('Control+z');
  await page.locator('.cm-content', { hasText: 'trading_pair: "btc/usd"' }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('the completion list opens on a begun word or Ctrl+Space, never on a space, so Enter after a space ends the line', async () => {
  const { context, page, problems } = await signedUp();
  await openEditor(page, '/strategies/new?template=ma_cross');
  const list = page.getByRole('listbox');
  await page.locator('.cm-line', { hasText: 'entry_conditions:' }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft'); // inside the closing quote
  // A space after a finished expression: no list.
  await page.keyboard.type(' ');
  await page.waitForTimeout(300);
  assert.equal(await list.count(), 0);
  // Asked for, the whole vocabulary: functions, logic words, the document's indicators.
  await page.keyboard.press('Control+Space');
  await page.getByRole('option', { name: /^AND/ }).waitFor();
  assert.ok(await page.getByRole('option', { name: /ema_fast/ }).count() > 0);
  assert.ok(await page.getByRole('option', { name: /crosses_above/ }).count() > 0);
  await page.keyboard.press('Escape');
  await list.waitFor({ state: 'detached' });
  // A begun word opens it with what matches.
  await page.keyboard.type('AND ema');
  await page.getByRole('option', { name: /ema_fast/ }).waitFor();
  assert.equal(await page.getByRole('option', { name: /crosses_above/ }).count(), 0);
  await page.keyboard.type('_fast > 0');
  await page.keyboard.press('Escape');
  // A space then Enter: a new line, not the list's first entry.
  const lines = await page.locator('.cm-line').count();
  await page.keyboard.type(' ');
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
  await page.waitForFunction((before) => document.querySelectorAll('.cm-line').length === before + 1, lines);
  const text = await page.locator('.cm-content').innerText();
  assert.match(text, /AND ema_fast > 0 \n/);
  assert.doesNotMatch(text, /\babs\b/);
  assert.deepEqual(problems, []);
  await context.close();
});

// axe-core's audit of each workbench page: no serious or critical violation.
async function seriousViolations(page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('the list, editor, strategy and versions pages pass an axe-core audit', async () => {
  const { context, page } = await signedUp();
  await openEditor(page, '/strategies/new?template=rsi_reversion');
  assert.deepEqual(await seriousViolations(page), [], 'editor');
  await page.getByRole('button', { name: 'Builder' }).click();
  await page.getByRole('heading', { name: 'Builder' }).waitFor();
  assert.deepEqual(await seriousViolations(page), [], 'editor with the builder');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: /\(version 1\)/ }).waitFor();
  const id = page.url().split('/')[4];
  for (const path of ['/strategies', `/strategies/${id}`, `/strategies/${id}/versions`]) {
    await page.goto(path);
    await waitForHydration(page);
    assert.deepEqual(await seriousViolations(page), [], path);
  }
  await context.close();
});

test('a strategy file opened from disk is checked like typed text and saved', async () => {
  const { context, page, problems } = await signedUp();
  await openEditor(page, '/strategies/new?template=blank');
  const toml = [
    'name = "From a file"',
    'trading_pair = "eth/usd"',
    'timeframe = "4h"',
    'entry_conditions = "close > sma_50"',
    'exit_conditions = "close < sma_50"',
    '',
    '[[indicators]]',
    'type = "sma"',
    'name = "sma_50"',
    'parameters = { period = 50 }',
    '',
    '[position_sizing]',
    'type = "percentage"',
    'percentage_of_capital = 0.2',
    '',
    '[risk_parameters]',
    'max_daily_loss = 0.05',
    'max_drawdown = 0.2',
    '',
  ].join('\n');
  await page.getByLabel('Open a file…').setInputFiles({ name: 'from-disk.toml', mimeType: 'application/toml', buffer: Buffer.from(toml) });
  await page.locator('.cm-content', { hasText: 'name = "From a file"' }).waitFor();
  assert.equal(await page.getByRole('combobox', { name: 'Notation' }).inputValue(), 'toml');
  // Its problem shows like a typed one, with its fix.
  await page.getByRole('button', { name: /Replace with `ETH\/USD`/ }).click();
  await page.getByText('No problems: the document is valid.').waitFor();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: /\(version 1\)/ }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('the list filters, sorts, searches and pages through 120 strategies, with its state in the URL', async () => {
  const { context, page, problems } = await signedUp();
  await page.goto('/strategies');
  await waitForHydration(page);
  // 120 strategies through the same server function the editor saves with.
  const ids = await page.evaluate(async () => {
    const document = (n) => `name: "Listed ${String(n).padStart(3, '0')}"\ntrading_pair: "BTC/USD"\ntimeframe: "1d"\nindicators:\n  - type: sma\n    name: sma_20\nentry_conditions: "close > sma_20"\nexit_conditions: "close < sma_20"\nposition_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\nrisk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.2\n`;
    const ids = [];
    for (let n = 0; n < 120; n++) {
      const body = new URLSearchParams({ content: document(n), format: 'yaml', draft: 'false' });
      const response = await fetch('/api/strategies/save', { method: 'POST', body, headers: { accept: 'application/json' } });
      ids.push((await response.json()).id);
    }
    return ids;
  });
  assert.equal(ids.length, 120);
  for (const id of ids.slice(0, 3)) {
    const body = new URLSearchParams({ id, transition: 'archive' });
    const status = await page.evaluate(async (body) => (await fetch('/api/strategies/status', { method: 'POST', body: new URLSearchParams(body), headers: { accept: 'application/json' } })).status, Object.fromEntries(body));
    assert.equal(status, 200);
  }

  // Search and sort through the filter form; the URL holds the state.
  await page.getByRole('searchbox', { name: 'Search by name' }).fill('Listed');
  await page.getByRole('combobox', { name: 'Sort' }).selectOption('name_asc');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/q=Listed/);
  assert.match(page.url(), /sort=name_asc/);
  await page.getByText('Page 1 of 3 · 120 strategies').waitFor();
  const rows = page.getByRole('table').getByRole('row');
  assert.equal(await rows.count(), 51, 'a header row and 50 strategies');
  assert.equal(await rows.nth(1).getByRole('rowheader').innerText(), 'Listed 000');
  await page.getByText('Page 1 of 3 · 120 strategies').waitFor();

  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL(/page=2/);
  await page.getByText('Page 2 of 3 · 120 strategies').waitFor();
  assert.equal(await page.getByRole('table').getByRole('row').nth(1).getByRole('rowheader').innerText(), 'Listed 050');
  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL(/page=3/);
  await page.getByText('Page 3 of 3 · 120 strategies').waitFor();
  assert.equal(await page.getByRole('table').getByRole('row').count(), 21);

  // Back returns to the previous page of the same query.
  await page.goBack();
  await page.waitForURL(/page=2/);
  await page.getByText('Page 2 of 3 · 120 strategies').waitFor();

  // Filter by status, and the reverse order.
  await page.goto('/strategies?status=archived&q=Listed&sort=name_desc');
  await waitForHydration(page);
  const archived = await page.getByRole('table').getByRole('rowheader').allInnerTexts();
  assert.deepEqual(archived, ['Listed 002', 'Listed 001', 'Listed 000']);
  assert.equal(await page.getByRole('combobox', { name: 'Status' }).inputValue(), 'archived');

  // A search with no match says so and offers the whole list.
  await page.goto('/strategies?q=nothing-is-called-this');
  await page.getByText('No strategy matches').waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});
