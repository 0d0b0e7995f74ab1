// What the editor's browser tests do again and again: open an editor, retype lines, save a
// strategy, and save or read a version from another window of the same user.
import { waitForHydration } from './browser.mjs';

export async function openEditor(page, path) {
  await page.goto(path);
  await waitForHydration(page);
  const editor = page.getByRole('textbox', { name: 'Strategy document' });
  await editor.waitFor();
  return editor;
}

// Replaces whole lines of the code editor: each key is text on the line, each value the line's
// new text (indentation kept).
export async function retypeLines(page, lines) {
  for (const [on, text] of Object.entries(lines)) {
    await page.locator('.cm-line', { hasText: on }).click();
    await page.keyboard.press('End');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.type(text);
  }
}

// Saves, from another window of the same user, version `number`'s text with `replacements`.
export async function saveElsewhere(page, id, number, lockVersion, replacements) {
  return page.evaluate(async ({ id, number, lockVersion, replacements }) => {
    const headers = { accept: 'application/json' };
    const version = await (await fetch('/api/strategies/version', { method: 'POST', body: new URLSearchParams({ id, number: String(number) }), headers })).json();
    let content = version.content;
    for (const [from, to] of replacements) content = content.replace(from, to);
    const body = new URLSearchParams({ id, content, format: 'yaml', draft: 'false', lock_version: String(lockVersion) });
    return (await fetch('/api/strategies/save', { method: 'POST', body, headers })).status;
  }, { id, number, lockVersion, replacements });
}

export async function versionText(page, id, number) {
  return page.evaluate(async ({ id, number }) => {
    const body = new URLSearchParams({ id, number: String(number) });
    return (await (await fetch('/api/strategies/version', { method: 'POST', body, headers: { accept: 'application/json' } })).json()).content;
  }, { id, number });
}

export async function newSavedStrategy(page, name) {
  await openEditor(page, '/strategies/new?template=ma_cross');
  await retypeLines(page, { 'name: "MA cross"': `name: "${name}"` });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: /\(version 1\)/ }).waitFor();
  return page.url().split('/')[4];
}
