// The notification center in Chromium: a key that expires soon produces a notification, the
// bell in the navigation shows the count (updated live by its island from /notifications/live,
// without a reload), and marking the notifications read clears it. Also: the preferences page
// saves a choice without JavaScript-only controls.
//
// The key is created over REST (an access token from /auth/login) so its expiry can be two days
// away; its `key.created` notice is dispatched at once and the bell counts it live. The expiry
// warning comes from the expiry scan, a periodic job that runs once a minute, so the spec
// reloads /notifications for up to two minutes until it is there.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectPath, expectText, goto, register, uniqueUser, url, withPage } from './helpers.mjs';

const TIMEOUT = { timeout: 240_000 };

async function api(path, body, token) {
  const res = await fetch(url(path), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

describe('notification center', () => {
  test('a key expiring soon is notified, the bell counts it live, marking read clears it', TIMEOUT, async () => {
    await withPage(async (page) => {
      const user = uniqueUser('bell');
      await register(page, user);
      const nav = page.getByRole('navigation', { name: 'Main' });
      assert.equal(await nav.getByRole('link', { name: /unread/ }).count(), 0, 'nothing unread yet');

      const { access_token: token } = await api('/api/v1/auth/login', { email: user.email, password: user.password });
      const expires = new Date(Date.now() + 2 * 24 * 3600 * 1000).toISOString();
      await api('/api/v1/keys', { name: 'expiring-soon', expires_at: expires }, token);

      // key.created is dispatched at once: the bell's island updates without a reload.
      await nav.getByRole('link', { name: /^Notifications, [1-9]\d* unread$/ }).waitFor({ timeout: 30_000 });

      // The expiry scan runs once a minute: reload the list until the warning is there.
      const deadline = Date.now() + 150_000;
      for (;;) {
        await goto(page, '/notifications?kind=key.expiring');
        if ((await page.getByText('Key expiring-soon expires soon').count()) > 0) break;
        assert.ok(Date.now() < deadline, 'the expiry warning arrived within the scan interval');
        await page.waitForTimeout(5_000);
      }
      // The warning says how long is left (the type filter's <option>s also say "expire").
      await page.getByText(/expires in \d+ (days?|hours?)/).first().waitFor();
      const bell = nav.getByRole('link', { name: /^Notifications, \d+ unread$/ });
      assert.match(await bell.getAttribute('aria-label'), /^Notifications, [2-9] unread$/, 'created and expiring');
      assert.ok(await page.getByTestId('unread-count').isVisible(), 'the badge shows the count');

      // Mark the warning read, then everything: the count goes with them.
      await page.getByRole('button', { name: 'Mark read: Key expiring-soon expires soon' }).click();
      await expectPath(page, '/notifications');
      await page.getByRole('button', { name: 'Mark all read' }).click();
      await expectPath(page, '/notifications');
      await expectText(page, 'You have no unread notifications.');
      assert.equal(await nav.getByRole('link', { name: /unread/ }).count(), 0, 'the bell is clear');
      assert.equal(await page.getByTestId('unread-count').count(), 0);
    });
  });

  test('preferences are one form of checkboxes', TIMEOUT, async () => {
    await withPage(async (page) => {
      await register(page, uniqueUser('prefs'));
      await goto(page, '/account');
      await page.locator('main').getByRole('link', { name: 'Notification preferences' }).click();
      await expectPath(page, '/account/notifications');
      const box = page.getByLabel('Key created: Email', { exact: true });
      assert.equal(await box.isChecked(), false, 'noisy mail is off by default');
      assert.equal(await page.getByLabel('Key expiring soon: Email', { exact: true }).isChecked(), true);
      assert.ok(await page.getByLabel('Password changed: Email', { exact: true }).isDisabled(), 'security mail stays on');
      await box.check();
      await page.getByRole('button', { name: 'Save preferences' }).click();
      await expectPath(page, '/account/notifications');
      await expectText(page, 'Preferences saved.');
      assert.equal(await page.getByLabel('Key created: Email', { exact: true }).isChecked(), true);
    });
  });
});
