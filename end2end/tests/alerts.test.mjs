// Usage alerts and notifications in Chromium: an admin changes an alert rule on /admin/alerts
// (linked from /admin), sees a refused value explained next to its field, and puts the rule
// back; a new user finds the "Notifications" link in the navigation without an unread count,
// and the empty notifications page with its "unread only" filter kept in the URL.
//
// Not covered here: a notification raised by traffic. Alerts are judged by a background job
// once a minute over complete minutes, and nothing outside the server can trigger a run, so
// a spec would have to wait one to two minutes; the integration suite (alerts_portal.rs)
// raises alerts with the time passed in and checks the list, the unread count in the
// navigation, marking read and "Mark all read" instead.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectPath, expectText, goto, register, signIn, uniqueUser, withPage } from './helpers.mjs';

const TIMEOUT = { timeout: 120_000 };

describe('usage alerts and notifications', () => {
  test('an admin saves an alert rule; a refused value is shown at its field', TIMEOUT, async () => {
    await withPage(async (page) => {
      await signIn(page, process.env.E2E_ADMIN_EMAIL, process.env.E2E_ADMIN_PASSWORD);
      await goto(page, '/admin');
      await page.getByRole('link', { name: 'Usage alerts', exact: true }).click();
      await expectPath(page, '/admin/alerts');
      for (const title of [
        'Error rate of a key',
        'Rate-limit refusals of a key',
        'Traffic spike of a key',
        'Failed calls from one client IP',
      ]) {
        await page.getByRole('heading', { name: title }).waitFor();
      }
      // Recent alerts: other specs' traffic may or may not have raised some by now.
      const recent = page.getByRole('region', { name: 'Recent alerts' });
      await recent.waitFor();
      assert.ok(
        (await recent.getByRole('table').count()) + (await recent.getByText('No alerts yet').count()) === 1,
        'a table of alerts or the empty state',
      );

      const form = page.locator('#rule-rate_limited');
      const threshold = form.getByLabel('Threshold', { exact: true });
      const before = await threshold.inputValue();
      const changed = before === '250' ? '251' : '250';
      await threshold.fill(changed);
      await form.getByRole('button', { name: 'Save', exact: true }).click();
      await expectPath(page, '/admin/alerts');
      await expectText(page, 'Rule “Rate-limit refusals of a key” saved.');
      assert.equal(await page.locator('#rule-rate_limited').getByLabel('Threshold', { exact: true }).inputValue(), changed);

      // A browser that skips the field's own limits: the server refuses and says why, at the
      // field of this rule's form only.
      await page.locator('#rule-rate_limited form').evaluate((f) => {
        f.noValidate = true;
      });
      await page.locator('#rule-rate_limited').getByLabel('Threshold', { exact: true }).fill('0');
      await page.locator('#rule-rate_limited').getByRole('button', { name: 'Save', exact: true }).click();
      await expectPath(page, '/admin/alerts');
      const refused = page.locator('#rule-rate_limited');
      await refused.locator('.field-error').getByText('Threshold must be between 1 and 1000000000').waitFor();
      assert.equal(await refused.getByLabel('Threshold', { exact: true }).getAttribute('aria-invalid'), 'true');
      assert.equal(await page.locator('.field-error').count(), 1, 'no other form shows it');
      if (process.env.E2E_SCREENSHOTS) {
        await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/alerts.png`, fullPage: true });
      }

      // Back as it was, for the other specs.
      await refused.getByLabel('Threshold', { exact: true }).fill(before);
      await refused.getByRole('button', { name: 'Save', exact: true }).click();
      await expectText(page, 'Rule “Rate-limit refusals of a key” saved.');
      assert.equal(await page.locator('#rule-rate_limited').getByLabel('Threshold', { exact: true }).inputValue(), before);
      assert.equal(await page.locator('.field-error').count(), 0);
    });
  });

  test('a new user has no notifications: no count, an empty state and the filter', TIMEOUT, async () => {
    await withPage(async (page) => {
      await register(page, uniqueUser('notify'));
      const nav = page.getByRole('navigation', { name: 'Main' });
      const link = nav.getByRole('link', { name: 'Notifications', exact: true });
      await link.waitFor();
      assert.equal(await nav.getByRole('link', { name: /unread/ }).count(), 0, 'no unread count');
      await link.click();
      await expectPath(page, '/notifications');
      assert.equal(await nav.getByRole('link', { name: 'Notifications', exact: true }).getAttribute('aria-current'), 'page');
      await page.getByRole('heading', { name: 'No notifications yet' }).waitFor();
      await expectText(page, 'usage alert fires for one of your keys');
      assert.equal(await page.getByRole('button', { name: 'Mark all read' }).count(), 0, 'nothing to mark');

      await page.getByLabel('Unread only').check();
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/notifications' && u.searchParams.get('unread') === 'true');
      await page.getByRole('heading', { name: 'No unread notifications' }).waitFor();
      assert.ok(await page.getByLabel('Unread only').isChecked(), 'the filter is kept');
      await page.getByRole('link', { name: 'Show all', exact: true }).click();
      await expectPath(page, '/notifications');
      await page.getByRole('heading', { name: 'No notifications yet' }).waitFor();
    });
  });
});
