// Two-factor sign-in in Chromium: enroll by reading the setup key from the page and computing
// the code here, save the recovery codes shown once, sign out, sign in with a code, then with a
// recovery code. Every test also fails on any browser console error (see helpers.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectPath, expectText, goto, register, signOut, uniqueUser, withPage } from './helpers.mjs';
import { STEP_SECONDS, totp } from './totp.mjs';

const TIMEOUT = { timeout: 120_000 };

/** Signs in with the password and `code` in the authentication-code field. */
async function signInWithCode(page, user, code) {
  await goto(page, '/login');
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByLabel(/^Authentication code/).fill(code);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expectPath(page, '/dashboard');
}

describe('two-factor sign-in', () => {
  test('enroll from the QR page, then sign in with a code and with a recovery code', TIMEOUT, async () => {
    const user = uniqueUser('totp');
    await withPage(async (page) => {
      await register(page, user);
      await goto(page, '/account');
      await page.getByRole('link', { name: 'Set up two-factor sign-in', exact: true }).click();
      await expectPath(page, '/account/two-factor');
      await expectText(page, 'Two-factor sign-in is off');
      await page.getByRole('button', { name: 'Set up two-factor sign-in', exact: true }).click();
      await expectPath(page, '/account/two-factor');

      // What an authenticator app reads: the QR code, or the key typed by hand.
      await page.getByRole('img', { name: 'QR code to scan with your authenticator app' }).waitFor();
      const shown = await page.locator('#totp-secret').innerText();
      const secret = shown.replace(/\s+/g, '');
      assert.match(secret, /^[A-Z2-7]{26,}$/, `setup key on the page: ${shown}`);

      await page.getByLabel('Authentication code', { exact: true }).fill('000000');
      await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).click();
      await expectText(page, 'That code is not valid');

      const enabledAt = Date.now() / 1000;
      await page.getByLabel('Authentication code', { exact: true }).fill(totp(secret, enabledAt));
      await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).click();
      await expectText(page, 'Save your recovery codes');
      const codes = (await page.locator('#recovery-codes').innerText()).split('\n').filter(Boolean);
      assert.equal(codes.length, 10, `ten recovery codes: ${codes}`);
      await page.getByRole('button', { name: 'I have saved them', exact: true }).click();
      await page.locator('#recovery-codes').waitFor({ state: 'hidden' });
      await expectText(page, '10 of 10');

      // Reloading does not show them again.
      await page.reload({ waitUntil: 'networkidle' });
      await expectText(page, 'shown once already');
      assert.equal(await page.locator('#recovery-codes').count(), 0);

      // The code that turned it on was used: sign in with the next step's, inside the skew.
      await signOut(page);
      await signInWithCode(page, user, totp(secret, enabledAt + STEP_SECONDS));
      await signOut(page);
      await signInWithCode(page, user, codes[0]);
      await goto(page, '/account/two-factor');
      await expectText(page, '9 of 10');
    });
  });
});
