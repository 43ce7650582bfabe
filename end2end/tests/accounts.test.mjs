// Accounts in the portal, end to end in Chromium: register, the password island, sign out and
// in, change the password, and the 404 page. Every test also fails on any browser console
// error or uncaught page error (see helpers.mjs).
//
// Run against a running server: BASE_URL=http://127.0.0.1:3000 node --test end2end/tests/
// (scripts/e2e.sh starts one with a fresh database and does this).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  BASE_URL,
  expectSignInRefused,
  expectText,
  goto,
  register,
  signIn,
  signOut,
  uniqueUser,
  url,
  withPage,
} from './helpers.mjs';

const TIMEOUT = { timeout: 120_000 };

before(async () => {
  const res = await fetch(url('/readyz')).catch((e) => {
    throw new Error(`the server at ${BASE_URL} is not reachable (${e.cause?.code ?? e.message}); set BASE_URL`);
  });
  assert.equal(res.status, 200, `GET ${BASE_URL}/readyz answered ${res.status}`);
});

/**
 * Clicks "Show password" until the island reacts: before hydration the button does nothing
 * (it is type="button"), so a page whose island never hydrates fails here after 10 s.
 */
async function expectPasswordToggle(page, label) {
  const input = page.getByLabel(label, { exact: true });
  const toggle = page.getByRole('button', { name: /^(Show|Hide) password$/ });
  const inputType = () => input.evaluate((el) => el.type);

  assert.equal(await inputType(), 'password', `"${label}" should start hidden`);
  await page.getByRole('button', { name: 'Show password', exact: true }).waitFor();

  const deadline = Date.now() + 10_000;
  while ((await inputType()) !== 'text') {
    assert.ok(
      Date.now() < deadline,
      `"Show password" did not reveal "${label}" within 10 s: the password island did not hydrate`,
    );
    await toggle.click();
    await page.waitForTimeout(250);
  }
  await page.getByRole('button', { name: 'Hide password', exact: true }).waitFor();

  // And back: the same button hides it again.
  await page.getByRole('button', { name: 'Hide password', exact: true }).click();
  await page.getByRole('button', { name: 'Show password', exact: true }).waitFor();
  assert.equal(await inputType(), 'password', `"Hide password" should hide "${label}" again`);
}

describe('accounts', () => {
  test('registering lands on the dashboard, which shows the name', TIMEOUT, async () => {
    await withPage(async (page) => {
      const user = uniqueUser('register');
      await register(page, user);
      await expectText(page, user.name);
    });
  });

  test('the password field island hydrates: Show/Hide password toggles the input', TIMEOUT, async () => {
    await withPage(async (page) => {
      for (const path of ['/register', '/login']) {
        await goto(page, path);
        await expectPasswordToggle(page, 'Password');
      }
    });
  });

  test('signing out leads to /login; signing in again leads to /dashboard', TIMEOUT, async () => {
    await withPage(async (page) => {
      const user = uniqueUser('signin');
      await register(page, user);
      await signOut(page);
      await signIn(page, user.email, user.password);
      await expectText(page, user.name);
    });
  });

  test('after a password change only the new password signs in', TIMEOUT, async () => {
    await withPage(async (page) => {
      const user = uniqueUser('passwd');
      const newPassword = `${user.password} renewed`;
      await register(page, user);

      await goto(page, '/account');
      await page.getByLabel('Current password', { exact: true }).fill(user.password);
      await page.getByLabel('New password', { exact: true }).fill(newPassword);
      await page.getByRole('button', { name: 'Change password', exact: true }).click();
      await expectText(page, 'Password changed');

      await signOut(page);

      await expectSignInRefused(page, user.email, user.password);
      await signIn(page, user.email, newPassword);
    });
  });

  test('an unknown page answers 404 with "Page not found"', TIMEOUT, async () => {
    await withPage(async (page, session) => {
      const missing = url('/no-such-page');
      // Chromium logs every document that answers 404 as a console error; this one is meant to.
      session.allowConsoleError(
        (msg) => msg.location()?.url === missing && /status of 404\b/.test(msg.text()),
      );
      const response = await goto(page, '/no-such-page');
      assert.equal(response.status(), 404);
      await expectText(page, 'Page not found');
    });
  });
});
