// Shared helpers for the end-to-end specs: Debian's Chromium through playwright-core (browsers
// cannot be downloaded here), a page that records every browser error, and test data.
//
// Every spec must fail on any console error or uncaught page error, like the Leptos examples'
// e2e suites: a failed hydration, a missing asset or a CSP violation all show up there first.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const BASE_URL = (process.env.BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** An absolute URL on the server under test. */
export function url(path) {
  return new URL(path, `${BASE_URL}/`).href;
}

/** A fresh, unique account: email, name and password. */
export function uniqueUser(prefix = 'e2e') {
  const id = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  return {
    email: `${prefix}-${id}@example.com`,
    name: `Ada ${id}`,
    password: `correct horse ${id}`,
  };
}

/** A unique email address. */
export function uniqueEmail(prefix = 'e2e') {
  return uniqueUser(prefix).email;
}

/**
 * Launches Chromium with a fresh profile (so no cookies leak between tests) and opens a page
 * that records browser errors.
 *
 * Returns { page, context, errors, allowConsoleError(predicate), check(), close() }:
 * - `errors`: every console message of type "error" and every uncaught page error so far;
 * - `allowConsoleError(pred)`: an expected console error, e.g. Chromium's "Failed to load
 *   resource: … 404" for a page that is meant to answer 404; `pred(message)` gets playwright's
 *   ConsoleMessage;
 * - `check()`: fails (assert) when `errors` is not empty;
 * - `close()`: closes the browser and deletes the profile.
 */
export async function newPage() {
  const profile = await mkdtemp(join(tmpdir(), 'keyport-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw e;
  }
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = context.pages()[0] ?? (await context.newPage());

  const errors = [];
  const allowed = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (allowed.some((pred) => pred(msg))) return;
    const where = msg.location()?.url ? ` (${msg.location().url})` : '';
    errors.push(`console error on ${page.url()}: ${msg.text()}${where}`);
  });
  page.on('pageerror', (err) => {
    errors.push(`page error on ${page.url()}: ${err.stack ?? err.message ?? String(err)}`);
  });

  let closed = false;
  return {
    page,
    context,
    errors,
    allowConsoleError(pred) {
      allowed.push(pred);
    },
    check() {
      if (errors.length > 0) {
        assert.fail(`the browser reported ${errors.length} error(s):\n${errors.join('\n')}`);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await context.close();
      } finally {
        await rm(profile, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Runs `body(page, session)` on a fresh page; afterwards fails if the browser reported any
 * error (also when `body` passed), and always closes the browser. When `body` throws, the
 * browser's errors are appended to its message: they are often the cause.
 */
export async function withPage(body) {
  const session = await newPage();
  try {
    try {
      await body(session.page, session);
      // Errors can arrive a moment after the last action (hydration, late requests).
      await session.page.waitForLoadState('networkidle').catch(() => {});
    } catch (e) {
      if (session.errors.length > 0 && e instanceof Error) {
        e.message += `\n\nbrowser errors:\n${session.errors.join('\n')}`;
      }
      throw e;
    }
    session.check();
  } finally {
    await session.close();
  }
}

/** Goes to `path` and waits until the network is quiet (the island's wasm has loaded). */
export async function goto(page, path) {
  const response = await page.goto(url(path), { waitUntil: 'networkidle' });
  assert.ok(response, `no response for ${path}`);
  return response;
}

/** Waits until the page's path is `pathname` (after a form post and its redirect). */
export async function expectPath(page, pathname) {
  await page.waitForURL((u) => u.pathname === pathname, { waitUntil: 'networkidle' }).catch((e) => {
    throw new assert.AssertionError({
      message: `expected to be on ${pathname}, but the page is ${page.url()}\n${e.message}`,
      actual: new URL(page.url()).pathname,
      expected: pathname,
      operator: 'waitForURL',
    });
  });
  assert.equal(new URL(page.url()).pathname, pathname);
}

/** Waits until some visible element shows `text` (substring). */
export async function expectText(page, text) {
  await page.getByText(text).first().waitFor({ state: 'visible' });
}

/** Registers `user` through the form on /register; lands on /dashboard. */
export async function register(page, user) {
  await goto(page, '/register');
  await page.getByLabel('Name', { exact: true }).fill(user.name);
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await expectPath(page, '/dashboard');
}

/** Fills and submits the sign-in form (the caller checks where it lands). */
export async function submitSignIn(page, email, password) {
  await goto(page, '/login');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Submits the sign-in form with a password that must be refused; stays on /login. */
export async function expectSignInRefused(page, email, password) {
  await submitSignIn(page, email, password);
  await page
    .getByRole('alert')
    .filter({ hasText: 'Invalid email or password' })
    .first()
    .waitFor({ state: 'visible' });
  assert.equal(new URL(page.url()).pathname, '/login', 'a refused sign-in stays on /login');
}

/** Signs in and expects the dashboard. */
export async function signIn(page, email, password) {
  await submitSignIn(page, email, password);
  await expectPath(page, '/dashboard');
}

/** Signs out through the account menu (a <details>/<summary>) and expects /login. */
export async function signOut(page) {
  // Playwright gives <summary> no button role, so find it by its accessible name.
  const menu = page.locator('summary').and(page.getByLabel('Account menu', { exact: true }));
  await menu.click();
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expectPath(page, '/login');
}

/** Where scripts/e2e.sh's SMTP sink (end2end/smtp-sink.mjs) writes the mail it receives. */
export const MAIL_DIR = process.env.E2E_MAIL_DIR;

function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i += 1) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function headerOf(head, name) {
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? line.slice(name.length + 1).trim() : undefined;
}

/** The decoded text/plain part of a raw message. */
export function mailText(raw) {
  const data = raw.replace(/\r\n/g, '\n');
  const [head] = data.split('\n\n');
  const boundary = /boundary="?([^";]+)"?/.exec(headerOf(head, 'content-type') ?? '')?.[1];
  const sections = boundary ? data.split(`--${boundary}`) : [data];
  for (const section of sections) {
    const trimmed = section.replace(/^\n+/, '');
    const cut = trimmed.indexOf('\n\n');
    if (cut < 0) continue;
    const partHead = trimmed.slice(0, cut);
    if (!(headerOf(partHead, 'content-type') ?? '').toLowerCase().startsWith('text/plain')) continue;
    const body = trimmed.slice(cut + 2);
    const encoding = (headerOf(partHead, 'content-transfer-encoding') ?? '').toLowerCase();
    if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
    return body;
  }
  throw new Error(`no text/plain part in:\n${raw}`);
}

/**
 * Waits (up to 15 s) for a message to `to` whose Subject contains `subject`; returns
 * { raw, subject, text }.
 */
export async function waitForMail(to, subject) {
  assert.ok(MAIL_DIR, 'E2E_MAIL_DIR is not set: run the specs through scripts/e2e.sh');
  const { readdir, readFile } = await import('node:fs/promises');
  const deadline = Date.now() + 15_000;
  for (;;) {
    const names = (await readdir(MAIL_DIR).catch(() => [])).filter((n) => n.endsWith('.eml')).sort();
    for (const name of names) {
      const rcpt = await readFile(join(MAIL_DIR, name.replace(/\.eml$/, '.rcpt')), 'utf8').catch(() => '');
      if (!rcpt.split('\n').includes(to)) continue;
      const raw = await readFile(join(MAIL_DIR, name), 'utf8');
      const head = raw.replace(/\r\n/g, '\n').split('\n\n')[0];
      const got = headerOf(head, 'subject') ?? '';
      if (got.includes(subject)) return { raw, subject: got, text: mailText(raw) };
    }
    assert.ok(Date.now() < deadline, `no mail to ${to} with subject "${subject}" arrived in 15 s (${names.length} in ${MAIL_DIR})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The first `${BASE_URL}${path}?token=…` link in `text`. */
export function linkIn(text, path) {
  const prefix = `${BASE_URL}${path}?token=`;
  const start = text.indexOf(prefix);
  assert.ok(start >= 0, `no ${prefix} link in:\n${text}`);
  return text.slice(start).split(/\s/)[0];
}
