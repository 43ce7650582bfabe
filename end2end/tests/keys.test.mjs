// API keys in the portal, end to end in Chromium: create a key, copy it from the reveal-once
// panel (the copy button is an island), verify it over REST, revoke it in the portal, verify
// again. Fails on any browser console error (helpers.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BASE_URL, expectText, goto, register, uniqueUser, url, withPage } from './helpers.mjs';

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

describe('api keys', () => {
  test('create, copy, verify, revoke, verify again', TIMEOUT, async () => {
    await withPage(async (page, session) => {
      await session.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
      await register(page, uniqueUser('keys'));

      await goto(page, '/keys');
      await expectText(page, 'No API keys yet');
      await page.getByRole('link', { name: 'Create your first key', exact: true }).click();
      await page.getByLabel('Name', { exact: true }).fill('e2e key');
      await page.getByLabel('Scopes', { exact: true }).fill('read tickets:write');
      await page.getByRole('button', { name: 'Create key', exact: true }).click();
      await page.waitForURL(/\/keys\/\d+\?reveal=/);

      const shown = await page.getByRole('textbox', { name: 'Your new API key' }).inputValue();
      assert.match(shown, /^kp_[0-9A-Za-z]{38}$/);

      // The copy button works once its island has hydrated; click until it says so.
      const deadline = Date.now() + 10_000;
      while ((await page.getByRole('button', { name: 'Copied', exact: true }).count()) === 0) {
        assert.ok(Date.now() < deadline, 'the Copy button never copied: its island did not hydrate');
        await page.getByRole('button', { name: /^(Copy|Copied)$/ }).click();
        await page.waitForTimeout(250);
      }
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(copied, shown, 'the clipboard holds the key');
      assert.equal(await verify(copied), 'VALID');

      // Shown once: a reload does not show it again.
      await page.reload();
      await expectText(page, 'cannot be shown again');
      assert.equal(await page.getByRole('textbox', { name: 'Your new API key' }).count(), 0);

      await page.getByText('Revoke…', { exact: true }).click();
      await page.getByRole('button', { name: 'Revoke key', exact: true }).click();
      await expectText(page, 'Key revoked');
      assert.equal(await verify(copied), 'API_KEY_REVOKED');

      await goto(page, '/keys');
      await page.locator('td .badge', { hasText: 'Revoked' }).first().waitFor();
    });
  });
});
