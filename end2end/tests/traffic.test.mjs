// Traffic control end to end in Chromium: a developer creates a key limited to 3 requests a
// minute in the portal, calls an API through the gateway 4 times (the 4th answers 429 with
// Retry-After), and the key's page shows the limit used up. The upstream is a real HTTP
// server this spec starts; an admin mounts it over REST.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { expectText, register, uniqueUser, url, withPage } from './helpers.mjs';

const TIMEOUT = { timeout: 120_000 };
let upstream;
let upstreamUrl;

async function adminToken() {
  const res = await fetch(url('/api/v1/auth/login'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: process.env.E2E_ADMIN_EMAIL, password: process.env.E2E_ADMIN_PASSWORD }),
  });
  assert.equal(res.status, 200, 'the e2e admin signs in (E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD)');
  return (await res.json()).access_token;
}

describe('traffic control', () => {
  before(async () => {
    upstream = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, key_seen: 'x-api-key' in req.headers }));
    });
    await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
  });
  after(() => new Promise((resolve) => upstream.close(resolve)));

  test('a key limited to 3 a minute: the 4th gateway call is refused, the key page shows it', TIMEOUT, async () => {
    const slug = `tickets-${Date.now().toString(36)}`;
    const mounted = await fetch(url('/api/v1/apis'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await adminToken()}` },
      body: JSON.stringify({ name: 'Tickets', slug, upstream_url: upstreamUrl }),
    });
    assert.equal(mounted.status, 201);

    await withPage(async (page) => {
      await register(page, uniqueUser('traffic'));
      await page.goto(url('/keys/new'));
      await page.getByLabel('Name', { exact: true }).fill('limited key');
      await page.getByLabel('Rate limit (requests)', { exact: true }).fill('3');
      await page.getByLabel('Window', { exact: true }).selectOption('minute');
      await page.getByRole('button', { name: 'Create key', exact: true }).click();
      await page.waitForURL(/\/keys\/\d+\?reveal=/);
      const key = await page.getByRole('textbox', { name: 'Your new API key' }).inputValue();
      await expectText(page, '3 per minute');
      await expectText(page, '3 left');

      const answers = [];
      for (let i = 0; i < 4; i += 1) {
        const res = await fetch(url(`/gw/${slug}/tickets/${i}`), { headers: { 'x-api-key': key } });
        answers.push({
          status: res.status,
          remaining: res.headers.get('x-ratelimit-remaining'),
          retryAfter: res.headers.get('retry-after'),
          body: await res.json(),
        });
      }
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 429]);
      assert.deepEqual(answers.map((a) => a.remaining), ['2', '1', '0', '0']);
      assert.deepEqual(answers[0].body, { path: '/tickets/0', key_seen: false });
      assert.equal(answers[3].body.error_code, 'RATE_LIMIT_EXCEEDED');
      assert.ok(Number(answers[3].retryAfter) >= 1, 'a 429 says when to retry');

      await page.goto(page.url().replace(/\?.*$/, ''));
      const status = page.getByTestId('rate-status');
      await status.waitFor();
      const text = await status.innerText();
      assert.match(text, /3 per minute: 0 left/);
      assert.match(text, /3 of 3 used/);
      await expectText(page, 'full again');
    });
  });
});
