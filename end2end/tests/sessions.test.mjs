// The sessions page, end to end in Chromium: two browsers signed in to one account; the first
// signs the second out from /account/sessions (confirming first), then, after the second signs
// in again, signs out everywhere else. The second lands on /login on its next navigation.
// Every test also fails on any browser console error (see helpers.mjs).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  BASE_URL,
  expectPath,
  expectText,
  goto,
  newPage,
  register,
  signIn,
  uniqueUser,
  url,
  withPage,
} from './helpers.mjs';

const TIMEOUT = { timeout: 180_000 };

before(async () => {
  const res = await fetch(url('/readyz')).catch((e) => {
    throw new Error(`the server at ${BASE_URL} is not reachable (${e.cause?.code ?? e.message}); set BASE_URL`);
  });
  assert.equal(res.status, 200, `GET ${BASE_URL}/readyz answered ${res.status}`);
});

/** The rows of the browser sessions table (the header row left out). */
function browserRows(page) {
  return page
    .getByRole('table', { name: 'Browser sessions', exact: true })
    .locator('tbody tr');
}

/** Navigates the second browser and expects it to be signed out (sent to /login). */
async function expectSignedOut(page) {
  await goto(page, '/dashboard');
  await expectPath(page, '/login');
}

describe('sessions', () => {
  test('sign out another browser, then everywhere else', TIMEOUT, async () => {
    const user = uniqueUser('sessions');
    const second = await newPage();
    try {
      await withPage(async (page) => {
        await register(page, user);
        await signIn(second.page, user.email, user.password);

        // The account page leads to the sessions page.
        await goto(page, '/account');
        await page.getByRole('link', { name: 'Manage sessions', exact: true }).click();
        await expectPath(page, '/account/sessions');
        await expectText(page, 'Browser sessions');
        await expectText(page, 'No REST sign-ins.');
        assert.equal(await browserRows(page).count(), 2);
        const current = browserRows(page).filter({ hasText: 'This session' });
        assert.equal(await current.count(), 1);
        // Chromium's user agent, read as a device (e.g. "Headless Chrome on Linux").
        assert.match(await current.locator('td').first().innerText(), /Chrome on Linux/);

        // "Sign out…" opens the confirmation; only its button acts.
        const other = browserRows(page).filter({ hasNotText: 'This session' });
        assert.equal(await other.count(), 1);
        await other.locator('summary').click();
        const confirm = other.getByRole('button', { name: /^Sign out .*Chrome on Linux from / });
        await confirm.waitFor({ state: 'visible' });
        await confirm.click();
        await expectPath(page, '/account/sessions');
        await expectText(page, 'The browser session was signed out.');
        assert.equal(await browserRows(page).count(), 1);
        await expectText(page, 'This is the only session signed in to your account.');
        await expectSignedOut(second.page);

        // Signed in again, the second browser is ended with "Sign out everywhere else".
        await signIn(second.page, user.email, user.password);
        await goto(page, '/account/sessions');
        assert.equal(await browserRows(page).count(), 2);
        await page.locator('summary', { hasText: 'Sign out everywhere else…' }).click();
        await page.getByRole('button', { name: 'Sign out everywhere else', exact: true }).click();
        await expectPath(page, '/account/sessions');
        await expectText(page, 'Signed out 1 other session. This session stays signed in.');
        assert.equal(await browserRows(page).count(), 1);
        await expectSignedOut(second.page);

        // The first browser is still signed in.
        await goto(page, '/dashboard');
        await expectPath(page, '/dashboard');
      });
      second.check();
    } finally {
      await second.close();
    }
  });
});
