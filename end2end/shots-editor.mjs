// Screenshots of the editor for a look by eye (not a test): a name clash (E050 on the name
// line), a TOML document, and the syntax test. Usage: BASE_URL=... node shots-editor.mjs
import { launchBrowser, openPage, signedInState, waitForHydration, BASE_URL } from './tests/browser.mjs';

const browser = await launchBrowser();
const state = await signedInState(browser, { prefix: 'shots', confirmed: true });
const { page } = await openPage(browser, { storageState: state });
await page.goto(`${BASE_URL}/strategies/new`);
await waitForHydration(page);
await page.getByRole('button', { name: 'Save', exact: true }).click();
await page.waitForURL(/\/strategies\/[0-9a-f-]+\/edit/, { timeout: 15000 }).catch(() => {});
await page.goto(`${BASE_URL}/strategies/new`);
await waitForHydration(page);
await page.locator('.cm-content').click();
await page.keyboard.press('End');
await page.keyboard.type(' ');
await page.waitForTimeout(1500);
await page.screenshot({ path: '/tmp/shot-e050.png', fullPage: true });
await page.getByRole('button', { name: 'Test syntax' }).click();
await page.waitForTimeout(1500);
await page.screenshot({ path: '/tmp/shot-syntax.png', fullPage: true });
await page.getByRole('combobox', { name: /Notation/ }).selectOption('toml').catch(() => {});
await page.waitForTimeout(1000);
await page.screenshot({ path: '/tmp/shot-toml.png', fullPage: true });
await browser.close();
