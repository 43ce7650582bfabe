// The admin system dashboard in Chromium: an admin opens it from the admin page, the history
// chart draws (vendored ECharts, no console errors), and calls made meanwhile move its
// figures through the live stream without a reload.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectPath, goto, signIn, url, withPage } from './helpers.mjs';

const TIMEOUT = { timeout: 120_000 };

describe('system dashboard', () => {
  test('figures and chart update live while the page is open', TIMEOUT, async () => {
    await withPage(async (page) => {
      await signIn(page, process.env.E2E_ADMIN_EMAIL, process.env.E2E_ADMIN_PASSWORD);
      await goto(page, '/admin');
      await page.getByRole('link', { name: 'System', exact: true }).click();
      await expectPath(page, '/admin/system');
      await page.locator('#chart-system canvas').first().waitFor();
      await page.getByText(/^Live: updated every 2 s/).waitFor({ timeout: 20_000 });
      assert.equal(await page.getByText('The chart needs JavaScript').count(), 0, 'no fallback once drawn');
      assert.ok(await page.getByRole('table').count() > 0, 'background jobs listed');

      const figure = page.getByTestId('sys-verifications');
      const before = await figure.innerText();
      await page.evaluate(() => {
        window.keyportNoReload = true;
      });
      // Sixty refused verifications: at least one more a second over the last minute.
      for (let i = 0; i < 60; i++) {
        const res = await fetch(url('/api/v1/keys/verify'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key: 'kp_test_not_a_real_key' }),
        });
        assert.equal(res.status, 200);
      }
      await page.waitForFunction(
        (old) => document.querySelector('[data-testid="sys-verifications"]')?.textContent !== old,
        before,
        { timeout: 20_000 },
      );
      assert.equal(await page.evaluate(() => window.keyportNoReload), true, 'no reload');
      const history = await page.evaluate(() => {
        const chart = window.echarts?.getInstanceByDom(document.getElementById('chart-system'));
        return chart?.getOption().series.map((s) => s.name);
      });
      assert.deepEqual(history, ['Requests', '5xx answers', 'Refused verifications']);
    });
  });
});
