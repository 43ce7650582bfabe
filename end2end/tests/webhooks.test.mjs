// Webhooks in Chromium: a user adds an endpoint (an address literal, so no DNS is needed and
// the SSRF check passes without KEYPORT_WEBHOOK_ALLOW_PRIVATE), sees its secret once with a
// Copy button, finds it listed, and deletes it behind the confirmation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectPath, expectText, goto, register, uniqueUser, withPage } from './helpers.mjs';

const TIMEOUT = { timeout: 120_000 };

describe('webhooks', () => {
  test('a user adds an endpoint, sees its secret, and deletes it', TIMEOUT, async () => {
    await withPage(async (page) => {
      await register(page, uniqueUser('webhook'));
      await goto(page, '/webhooks');
      await expectText(page, 'No endpoints yet');
      await page.getByLabel('URL', { exact: true }).fill('https://93.184.216.34/keyport');
      await page.getByLabel('Description', { exact: true }).fill('E2E receiver');
      await page.getByRole('checkbox', { name: /key\.created/ }).check();
      await page.getByRole('checkbox', { name: /key\.revoked/ }).check();
      await page.getByLabel('Custom headers', { exact: true }).fill('X-Token: e2e');
      await page.getByRole('button', { name: 'Add endpoint', exact: true }).click();
      await page.waitForURL(/\/webhooks\/\d+\?created=1&reveal=1$/);
      await expectText(page, 'Endpoint added.');
      const secret = await page.getByRole('textbox', { name: 'Secret' }).inputValue();
      assert.match(secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
      await page.getByRole('button', { name: /Copy/ }).waitFor();
      await expectText(page, 'key.created, key.revoked');
      if (process.env.E2E_SCREENSHOTS) {
        await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/webhook.png`, fullPage: true });
      }

      await goto(page, '/webhooks');
      const row = page.getByRole('row').filter({ hasText: 'E2E receiver' });
      await row.getByRole('link', { name: 'https://93.184.216.34/keyport' }).click();
      await page.waitForURL(/\/webhooks\/\d+$/);
      assert.equal(await page.getByRole('textbox', { name: 'Secret' }).count(), 0, 'hidden until asked');
      await page.locator('summary', { hasText: 'Delete…' }).click();
      await page.getByRole('button', { name: 'Delete endpoint', exact: true }).click();
      await expectPath(page, '/webhooks');
      await expectText(page, 'Endpoint deleted.');
      await expectText(page, 'No endpoints yet');
    });
  });
});
