// Bulk key operations in the portal, end to end in Chromium: filter keys by tag, select all
// matching, preview, bulk revoke, see the statuses change to revoked (and the keys fail
// verification). Fails on any browser console error (helpers.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectText, goto, register, uniqueUser, url, withPage } from './helpers.mjs';

const TIMEOUT = { timeout: 120_000 };

async function verify(key) {
  const res = await fetch(url('/api/v1/keys/verify'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).code;
}

async function createKey(page, name, tags) {
  await goto(page, '/keys/new');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Tags', { exact: true }).fill(tags);
  await page.getByRole('button', { name: 'Create key', exact: true }).click();
  await page.waitForURL(/\/keys\/\d+\?reveal=/);
  return page.getByRole('textbox', { name: 'Your new API key' }).inputValue();
}

describe('bulk', () => {
  test('filter by tag, select all matching, preview, bulk revoke', TIMEOUT, async () => {
    await withPage(async (page) => {
      await register(page, uniqueUser('bulk'));
      const m1 = await createKey(page, 'bulk mobile one', 'mobile');
      const m2 = await createKey(page, 'bulk mobile two', 'mobile');
      const w1 = await createKey(page, 'bulk web', 'web');

      await goto(page, '/keys?tag=mobile');
      await expectText(page, 'bulk mobile one');
      assert.equal(await page.getByText('bulk web', { exact: true }).count(), 0);
      await page.getByLabel(/Select all 2 matching this filter/).check();
      await page.getByLabel('Action', { exact: true }).selectOption('revoke');
      await page.getByRole('button', { name: 'Preview change', exact: true }).click();
      await page.waitForURL(/\/keys\/bulk\?/);
      await expectText(page, '2 of 2 key(s) will change.');
      await expectText(page, 'status: active → revoked');
      assert.equal(await verify(m1), 'VALID', 'the preview changed nothing');

      await page.getByRole('button', { name: 'Confirm: revoke 2 key(s)', exact: true }).click();
      await page.waitForURL(/\/keys\/bulk\/\d+$/);
      await expectText(page, '2 of 2 processed (0 failed)');

      await goto(page, '/keys?tag=mobile');
      assert.equal(await page.locator('td .badge', { hasText: 'Revoked' }).count(), 2);
      assert.equal(await verify(m1), 'API_KEY_REVOKED');
      assert.equal(await verify(m2), 'API_KEY_REVOKED');
      assert.equal(await verify(w1), 'VALID');
    });
  });
});
