// Organizations in Chromium: create an org, invite a colleague by mail, accept the emailed
// link, create a key owned by the org (preselected: the org is now the colleague's active
// one), and switch the active org from the top bar, which narrows the key list.
// Fails on any browser console error (helpers.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BASE_URL, expectText, goto, register, signIn, uniqueUser, waitForMail, withPage } from './helpers.mjs';

const TIMEOUT = { timeout: 120_000 };

describe('organizations', () => {
  test('create, invite by mail, accept, org key, switch the active org', TIMEOUT, async () => {
    const owner = uniqueUser('orgowner');
    const colleague = uniqueUser('orgmate');
    const orgName = `E2E Org ${Date.now()}`;
    let orgPath;
    await withPage(async (page) => {
      await register(page, owner);
      await goto(page, '/orgs');
      await expectText(page, 'No organizations yet');
      await page.getByLabel('Name', { exact: true }).fill(orgName);
      await page.getByRole('button', { name: 'Create organization', exact: true }).click();
      await page.waitForURL(/\/orgs\/\d+\?created=1$/);
      orgPath = new URL(page.url()).pathname;
      await expectText(page, 'Organization created.');
      await page.getByLabel('Email', { exact: true }).fill(colleague.email);
      await page.getByLabel('Role', { exact: true }).selectOption('member');
      await page.getByRole('button', { name: 'Send invitation', exact: true }).click();
      await page.waitForURL(/\?invited=1$/);
      await expectText(page, 'Invitation sent.');
    });

    const mail = await waitForMail(colleague.email, `You are invited to join ${orgName}`);
    const prefix = `${BASE_URL}/invitations/`;
    const start = mail.text.indexOf(prefix);
    assert.ok(start >= 0, `no invitation link in:\n${mail.text}`);
    const link = mail.text.slice(start).split(/\s/)[0];

    await withPage(async (page) => {
      await register(page, colleague);
      await page.goto(link, { waitUntil: 'networkidle' });
      await expectText(page, `You are invited to join ${orgName} as member.`);
      await page.getByRole('button', { name: 'Accept invitation', exact: true }).click();
      await page.waitForURL(/\?joined=1$/);
      assert.equal(new URL(page.url()).pathname, orgPath);
      await expectText(page, 'Welcome!');

      // The org is now active: a new key belongs to it unless another owner is chosen.
      await goto(page, '/keys/new');
      const selected = await page.getByLabel('Owner', { exact: true }).locator('option:checked').textContent();
      assert.equal(selected, orgName);
      await page.getByLabel('Name', { exact: true }).fill('org e2e key');
      await page.getByRole('button', { name: 'Create key', exact: true }).click();
      await page.waitForURL(/\/keys\/\d+\?reveal=/);
    });

    await withPage(async (page) => {
      await signIn(page, owner.email, owner.password);
      await goto(page, '/keys/new');
      await page.getByLabel('Owner', { exact: true }).selectOption({ label: 'Me (personal key)' });
      await page.getByLabel('Name', { exact: true }).fill('owner personal key');
      await page.getByRole('button', { name: 'Create key', exact: true }).click();
      await page.waitForURL(/\/keys\/\d+\?reveal=/);

      await goto(page, '/keys');
      await expectText(page, 'org e2e key');
      await expectText(page, 'owner personal key');
      await page.getByLabel('Active organization', { exact: true }).selectOption({ label: orgName });
      await page.getByRole('button', { name: 'Switch', exact: true }).click();
      await page.waitForURL(/\/keys$/);
      await expectText(page, 'org e2e key');
      assert.equal(await page.getByText('owner personal key', { exact: true }).count(), 0);
    });
  });
});
