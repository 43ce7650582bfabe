// Password reset in Chromium, through mail caught by scripts/e2e.sh's SMTP sink: register,
// ask for a link on /forgot-password, open the link from the mail, set a new password, and
// sign in with it (and no longer with the old one). Fails on any browser console error.
import { describe, test } from 'node:test';
import {
  expectPath,
  expectSignInRefused,
  expectText,
  goto,
  linkIn,
  register,
  signIn,
  signOut,
  uniqueUser,
  waitForMail,
  withPage,
} from './helpers.mjs';

const TIMEOUT = { timeout: 120_000 };

describe('password reset', () => {
  test('a link mailed from /forgot-password sets a new password', TIMEOUT, async () => {
    await withPage(async (page) => {
      const user = uniqueUser('reset');
      const newPassword = `${user.password} after reset`;
      await register(page, user);
      await signOut(page);

      await page.getByRole('link', { name: 'Forgot your password?', exact: true }).click();
      await expectPath(page, '/forgot-password');
      await page.getByLabel('Email', { exact: true }).fill(user.email);
      await page.getByRole('button', { name: 'Send reset link', exact: true }).click();
      await expectText(page, 'If an account exists for that address, we sent a link');

      const mail = await waitForMail(user.email, 'Reset your Keyport password');
      const link = linkIn(mail.text, '/reset-password');
      await goto(page, new URL(link).pathname + new URL(link).search);
      await page.getByLabel('New password', { exact: true }).fill(newPassword);
      await page.getByRole('button', { name: 'Set new password', exact: true }).click();
      await expectPath(page, '/login');
      await expectText(page, 'Your password was changed');

      await expectSignInRefused(page, user.email, user.password);
      await signIn(page, user.email, newPassword);

      // The owner is told, and the used link says it was used.
      await waitForMail(user.email, 'Your Keyport password was changed');
      await goto(page, new URL(link).pathname + new URL(link).search);
      await expectText(page, 'This link was used already');
    });
  });
});
