// Rate-limit policies in Chromium: an admin adds a per-IP policy on the admin page, finds it
// listed, opens it, deletes it behind the confirmation, and the list is empty again. A
// verification shows the policy in force while it exists.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectPath, expectText, goto, register, signIn, uniqueUser, url, withPage } from './helpers.mjs';

const TIMEOUT = { timeout: 120_000 };

async function verify(key, ip) {
  const res = await fetch(url('/api/v1/keys/verify'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key, ip }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

describe('rate-limit policies', () => {
  test('an admin adds a per-IP policy, it is enforced, then deleted', TIMEOUT, async () => {
    let key;
    await withPage(async (page) => {
      await register(page, uniqueUser('policy'));
      await goto(page, '/keys/new');
      await page.getByLabel('Name', { exact: true }).fill('policy probe');
      await page.getByRole('button', { name: 'Create key', exact: true }).click();
      await page.waitForURL(/\/keys\/\d+\?reveal=/);
      key = await page.getByRole('textbox', { name: 'Your new API key' }).inputValue();
    });
    // A documentation range no other spec uses, so the bucket is this test's own.
    const ip = `192.0.2.${1 + Math.floor(Math.random() * 250)}`;

    await withPage(async (page) => {
      await signIn(page, process.env.E2E_ADMIN_EMAIL, process.env.E2E_ADMIN_PASSWORD);
      await goto(page, '/admin');
      await page.getByRole('link', { name: 'Rate-limit policies', exact: true }).click();
      await expectPath(page, '/admin/rate-limits');
      await page.getByLabel('Name', { exact: true }).fill('E2E per-IP');
      await page.getByLabel('Scope', { exact: true }).selectOption('ip');
      await page.getByLabel('Target', { exact: true }).fill(`${ip}/32`);
      await page.getByLabel('Requests', { exact: true }).fill('2');
      await page.getByLabel('per', { exact: true }).selectOption('hour');
      await page.getByRole('button', { name: 'Add policy', exact: true }).click();
      await expectPath(page, '/admin/rate-limits');
      await expectText(page, 'Policy created.');
      const row = page.getByRole('row').filter({ hasText: 'E2E per-IP' });
      await row.getByText(`Each client IP in ${ip}/32`).waitFor();
      await row.getByText('2 / hour').waitFor();
      if (process.env.E2E_SCREENSHOTS) {
        await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/policies.png`, fullPage: true });
      }

      const codes = [];
      for (let i = 0; i < 3; i += 1) codes.push((await verify(key, ip)).code);
      assert.deepEqual(codes, ['VALID', 'VALID', 'RATE_LIMIT_EXCEEDED']);

      await row.getByRole('link', { name: 'E2E per-IP', exact: true }).click();
      await page.waitForURL(/\/admin\/rate-limits\/\d+$/);
      await expectText(page, 'Reported as');
      if (process.env.E2E_SCREENSHOTS) {
        await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/policy.png`, fullPage: true });
      }
      await page.locator('summary', { hasText: 'Delete…' }).click();
      await page.getByRole('button', { name: 'Delete policy', exact: true }).click();
      await expectPath(page, '/admin/rate-limits');
      await expectText(page, 'Policy deleted.');
      assert.equal(await page.getByRole('row').filter({ hasText: 'E2E per-IP' }).count(), 0);
    });
    assert.equal((await verify(key, ip)).code, 'VALID', 'no longer enforced');
  });
});
