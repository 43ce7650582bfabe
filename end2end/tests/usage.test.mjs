// Usage charts end to end in Chromium: a developer's verified calls show in the usage page's
// ECharts charts (drawn from the vendored ECharts, no console errors), and new calls reach the
// open page through its live updates without a reload.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { register, uniqueUser, url, withPage } from './helpers.mjs';

const TIMEOUT = { timeout: 120_000 };

async function verify(body) {
  const res = await fetch(url('/api/v1/keys/verify'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return (await res.json()).code;
}

/** Sums of the requests chart's series, by name, as ECharts holds them now. */
function seriesSums() {
  const chart = window.echarts?.getInstanceByDom(document.getElementById('chart-requests'));
  if (!chart) return null;
  const sums = {};
  for (const s of chart.getOption().series) {
    sums[s.name] = s.data.reduce((a, v) => a + (typeof v === 'number' ? v : 0), 0);
  }
  return sums;
}

describe('usage charts', () => {
  test('calls show in the charts, and new ones arrive live without a reload', TIMEOUT, async () => {
    await withPage(async (page) => {
      await register(page, uniqueUser('usage'));
      await page.goto(url('/keys/new'));
      await page.getByLabel('Name', { exact: true }).fill('charted key');
      await page.getByRole('button', { name: 'Create key', exact: true }).click();
      await page.waitForURL(/\/keys\/\d+\?reveal=/);
      const key = await page.getByRole('textbox', { name: 'Your new API key' }).inputValue();

      assert.equal(await verify({ key }), 'VALID');
      assert.equal(await verify({ key }), 'VALID');

      await page.goto(url('/usage?range=1h'));
      // Drawn by the island once ECharts has loaded; the two calls are counted within a
      // second of being made, by the page's render or its first live update.
      await page.waitForFunction(
        () => {
          const chart = window.echarts?.getInstanceByDom(document.getElementById('chart-requests'));
          const succeeded = chart?.getOption().series.find((s) => s.name === 'VALID');
          return succeeded && succeeded.data.reduce((a, v) => a + v, 0) === 2;
        },
        null,
        { timeout: 20_000 },
      );
      assert.ok(await page.locator('#chart-requests canvas').count() > 0, 'drawn on a canvas');
      assert.ok(await page.locator('#chart-latency canvas').count() > 0, 'latency drawn too');
      assert.equal(await page.getByText('Charts need JavaScript').count(), 0, 'no fallback once drawn');
      await page.getByText(/^Live: \d+ requests? in this range/).waitFor();

      // A mark that a reload would wipe.
      await page.evaluate(() => {
        window.keyportNoReload = true;
      });
      assert.equal(await verify({ key }), 'VALID');
      assert.equal(await verify({ key, scopes: ['admin'] }), 'PERMISSION_DENIED');
      await page.waitForFunction(
        () => {
          const chart = window.echarts?.getInstanceByDom(document.getElementById('chart-requests'));
          if (!chart) return false;
          const sum = (name) =>
            (chart.getOption().series.find((s) => s.name === name)?.data ?? []).reduce((a, v) => a + v, 0);
          return sum('VALID') === 3 && sum('PERMISSION_DENIED') === 1;
        },
        null,
        { timeout: 20_000 },
      );
      assert.equal(await page.evaluate(() => window.keyportNoReload), true, 'no reload');
      const sums = await page.evaluate(seriesSums);
      assert.deepEqual(
        Object.keys(sums),
        ['VALID', 'PERMISSION_DENIED', 'Error rate (%)'],
        'stacked by outcome code, with the error rate',
      );
      assert.deepEqual([sums.VALID, sums.PERMISSION_DENIED], [3, 1], JSON.stringify(sums));
      for (const id of ['chart-keys', 'chart-endpoints']) {
        assert.ok(await page.locator(`#${id} canvas`).count() > 0, `${id} drawn`);
      }

      await page.getByText('Live: 4 requests in this range (1 error)', { exact: false }).waitFor();

      // The tables under the charts are rendered by the server: a reload shows the same calls.
      await page.reload();
      const keys = page.getByRole('table', { name: 'Busiest keys' });
      await keys.getByRole('link', { name: 'charted key' }).waitFor();
      const outcomes = page.getByRole('table', { name: 'By outcome' });
      assert.match(await outcomes.innerText(), /VALID\s+3\s+75\.0 %/);
    });
  });
});
