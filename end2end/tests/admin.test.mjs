// The admin console in Chromium: an admin suspends a user from /admin/users/{id}; the user's
// key, created before, then verifies as API_KEY_DISABLED (OWNER_SUSPENDED); the audit log
// shows the suspension; reactivating makes the key VALID again. Fails on any console error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectPath, expectText, goto, signIn, uniqueUser, url, withPage } from './helpers.mjs';

const TIMEOUT = { timeout: 120_000 };

async function api(path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url(path), { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function verify(key) {
  const res = await api('/api/v1/keys/verify', { key });
  assert.equal(res.status, 200);
  return res.body;
}

describe('admin console', () => {
  test('suspend a user in the portal: their key is disabled until reactivated', TIMEOUT, async () => {
    const user = uniqueUser('suspended');
    const registered = await api('/api/v1/auth/register', user);
    assert.equal(registered.status, 201);
    const login = await api('/api/v1/auth/login', { email: user.email, password: user.password });
    assert.equal(login.status, 200);
    const created = await api('/api/v1/keys', { name: 'before suspension' }, login.body.access_token);
    assert.equal(created.status, 201);
    const key = created.body.key;
    assert.equal((await verify(key)).code, 'VALID');

    await withPage(async (page) => {
      await signIn(page, process.env.E2E_ADMIN_EMAIL, process.env.E2E_ADMIN_PASSWORD);
      await goto(page, `/admin?q=${encodeURIComponent(user.email)}`);
      await page.getByRole('link', { name: user.name, exact: true }).click();
      await expectPath(page, `/admin/users/${registered.body.id}`);
      await expectText(page, user.email);

      await page.getByText('Suspend…', { exact: true }).click();
      await page.getByLabel('Reason (for admins; optional)').fill('e2e: abuse report');
      await page.getByRole('button', { name: 'Yes, suspend this account', exact: true }).click();
      await expectText(page, 'Account suspended');
      await expectText(page, 'e2e: abuse report');
      const refused = await verify(key);
      assert.equal(refused.valid, false);
      assert.equal(refused.code, 'API_KEY_DISABLED');
      assert.equal(refused.reason, 'OWNER_SUSPENDED');

      await goto(page, '/admin');
      await page.getByRole('link', { name: 'Audit log', exact: true }).click();
      await expectPath(page, '/admin/audit');
      await page.getByLabel('Action', { exact: true }).fill('user.suspended');
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await page.waitForURL(/action=user\.suspended/);
      const row = page.locator('tr', { hasText: `user:${registered.body.id}` });
      await row.first().waitFor();
      assert.match(await row.first().innerText(), /user\.suspended/);
      const exportHref = await page.getByRole('link', { name: 'Export CSV', exact: true }).getAttribute('href');
      assert.equal(exportHref, '/api/v1/audit-log/export.csv?action=user.suspended');

      await goto(page, `/admin/users/${registered.body.id}`);
      await page.getByRole('button', { name: 'Reactivate account', exact: true }).click();
      await expectText(page, 'Account reactivated');
      assert.equal((await verify(key)).code, 'VALID');
    });
  });
});
