// lib.mjs - helpers of the console's browser tests: a qianlima server on a
// free port with a fresh store, accounts made with the CLI, Chromium pages
// that collect console errors, axe checks and screenshots.
//
// The npm packages live in web/node_modules (web/package.json,
// devDependencies), which is no parent of this directory: they are loaded
// with a require() rooted there.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const requireWeb = createRequire(path.join(ROOT, 'web/package.json'));
const { chromium } = requireWeb('playwright-core');
const { AxeBuilder } = requireWeb('@axe-core/playwright');

export const BIN = path.resolve(ROOT, process.env.QL_BIN || 'build/release/qianlima');
export const CHROMIUM = process.env.QL_CHROMIUM || '/usr/bin/chromium';
export const SHOTS = path.join(ROOT, 'tests/artifacts/screenshots');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 812 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The password of e2e.security, the security administrator addUser makes.
export const SECURITY_PW = 'Sentinel-Grant-2026';

// ---- the server ---------------------------------------------------------

// Starts `qianlima serve` in a temporary directory and waits for its ready
// file. Returns { base, dir, addUser(), stop() }.
export async function startServer() {
  assert.ok(fs.existsSync(BIN), `no qianlima binary at ${BIN} (set QL_BIN)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qianlima-e2e-'));
  const store = ['--store', path.join(dir, 'q.db'), '--keys-dir', path.join(dir, 'keys'),
    '--data-dir', path.join(dir, 'data'), '--password-hash', 'min'];
  const logPath = path.join(dir, 'server.log');
  const log = fs.openSync(logPath, 'a');
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--ready-file',
    path.join(dir, 'ready'), ...store, '--static-dir', 'web/static', '--access-log',
    path.join(dir, 'access.log')],
  { cwd: ROOT, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exit = null;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    exit = { code, signal };
    resolve(exit);
  }));

  const readyFile = path.join(dir, 'ready');
  let addr = '';
  for (const t0 = Date.now(); Date.now() - t0 < 30000; await sleep(50)) {
    if (exit) break;
    try {
      addr = fs.readFileSync(readyFile, 'utf8').trim();
    } catch {
      addr = '';
    }
    if (/^127\.0\.0\.1:\d+$/.test(addr)) break;
  }
  if (!/^127\.0\.0\.1:\d+$/.test(addr)) {
    child.kill('SIGKILL');
    throw new Error(`the server did not become ready (exit ${JSON.stringify(exit)}):\n` +
      fs.readFileSync(logPath, 'utf8'));
  }

  return {
    base: `http://${addr}`,
    dir,
    logPath,
    log: () => fs.readFileSync(logPath, 'utf8'),
    // Creates an account with the CLI (the server may be running). Duty
    // roles the CLI may not grant alone (finance, reviewer) wait for a second
    // person: unless confirm is false, the server's first security
    // administrator, e2e.security (made when first needed), confirms them.
    addUser(username, { name = username, roles = 'admin', password, scope, keep = false,
      confirm = true }) {
      const extra = [...(scope ? ['--scope', scope] : []), ...(keep ? ['--keep-password'] : [])];
      const r = spawnSync(BIN, ['user', 'add', username, '--name', name, '--roles', roles,
        '--password-stdin', ...extra, ...store], { cwd: ROOT, input: `${password}\n`, encoding: 'utf8' });
      assert.equal(r.status, 0, `qianlima user add ${username} failed:\n${r.stdout}${r.stderr}`);
      if (!confirm || !/waits for a second person/.test(r.stdout)) return;
      const sec = spawnSync(BIN, ['user', 'add', 'e2e.security', '--name', '安全管理员', '--roles',
        'security_admin', '--password-stdin', '--keep-password', ...store],
      { cwd: ROOT, input: `${SECURITY_PW}\n`, encoding: 'utf8' });
      assert.ok(sec.status === 0 || /is taken/.test(sec.stderr), `e2e.security: ${sec.stderr}`);
      const c = spawnSync(BIN, ['user', 'confirm', 'all', '--as', 'e2e.security', ...store],
        { cwd: ROOT, input: `${SECURITY_PW}\n`, encoding: 'utf8' });
      assert.equal(c.status, 0, `qianlima user confirm failed:\n${c.stdout}${c.stderr}`);
    },
    // Runs another qianlima command on the server's store; returns spawnSync's result.
    cli(args, input) {
      return spawnSync(BIN, [...args, ...store], { cwd: ROOT, input, encoding: 'utf8' });
    },
    // SIGTERM, then waits for the exit; returns { code, signal }.
    async stop(timeoutMs = 20000) {
      if (exit) return exit;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
      return exit;
    },
    get running() { return exit === null; },
  };
}

// Copies the server's log to tests/artifacts/e2e-server.log.
export function keepServerLog(server) {
  fs.mkdirSync(path.join(ROOT, 'tests/artifacts'), { recursive: true });
  fs.copyFileSync(server.logPath, path.join(ROOT, 'tests/artifacts/e2e-server.log'));
}

// Removes a server's directory; with QL_TEST_LOGS set (tests/run.sh sets it),
// its *.log files are kept there first, for scripts/pii-scan to read.
export function removeDir(dir) {
  if (!dir) return;
  const keep = process.env.QL_TEST_LOGS;
  if (keep) {
    const dest = path.join(keep, path.basename(dir));
    fs.mkdirSync(dest, { recursive: true });
    for (const f of fs.readdirSync(dir)) {
      if (f.endsWith('.log')) fs.copyFileSync(path.join(dir, f), path.join(dest, f));
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

// ---- the browser ---------------------------------------------------------

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

// A fresh context (a Chinese-speaking visitor in Beijing, so the console
// starts in Chinese) and one page in it. Console errors and uncaught page
// errors are collected in .problems; done() closes the context and fails if
// there were any.
export async function openPage(browser, base, { viewport = DESKTOP, locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({
    baseURL: base, viewport, locale, timezoneId: 'Asia/Shanghai',
    deviceScaleFactor: 1, isMobile: viewport.width < 600, hasTouch: viewport.width < 600,
  });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  const problems = [];
  const expectedStatusUrls = new Set();
  const faviconErrors = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // Chromium logs every 4xx/5xx answer as "Failed to load resource". The
    // tests ask for some of those on purpose (a wrong password is a 401, an
    // unknown user a 404): only those of pages are let through, never those
    // of styles, scripts or htmx requests.
    const loc = msg.location();
    // Without a <link rel="icon">, Chromium asks for /favicon.ico, which
    // the server does not have: kept apart, one test of its own checks it.
    if (stripOrigin(loc.url) === '/favicon.ico') {
      faviconErrors.push(`${page.url()}: ${msg.text()}`);
      return;
    }
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()) &&
        expectedStatusUrls.has(stripOrigin(loc.url))) return;
    problems.push(`console error on ${page.url()}: ${msg.text()}` +
      (loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''));
  });
  page.on('pageerror', (err) => problems.push(`page error on ${page.url()}: ${err.message}`));
  return {
    context, page, problems, faviconErrors,
    // Marks a path whose 4xx answer is expected (so Chromium's note is no error).
    expectStatus(p) { expectedStatusUrls.add(p); },
    async done() {
      await context.close();
      assert.deepEqual(problems, [], 'the pages logged errors (see above)');
    },
  };
}

function stripOrigin(u) {
  try {
    const x = new URL(u);
    return x.pathname + x.search;
  } catch {
    return u;
  }
}

// ---- the console ------------------------------------------------------

// Fills in and submits the sign-in form; returns the response of the POST.
export async function submitSignin(page, username, password) {
  if (!new URL(page.url()).pathname.startsWith('/signin')) await page.goto('/signin');
  await page.fill('#username', username);
  await page.fill('#password', password);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' &&
      new URL(r.url()).pathname === '/signin'),
    page.click('form[action="/signin"] button[type=submit]'),
  ]);
  await page.waitForLoadState('load');
  return resp;
}

// Signs in an account whose first password was already changed and waits
// for the home page.
export async function signIn(page, username, password) {
  await submitSignin(page, username, password);
  assert.equal(new URL(page.url()).pathname, '/', `signing in ${username} did not land on /`);
}

// Sets a new password on /account/password (the page must be open).
export async function changePassword(page, current, next) {
  await page.fill('#current_password', current);
  await page.fill('#new_password', next);
  await page.fill('#confirm_password', next);
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' &&
      new URL(r.url()).pathname === '/account/password'),
    page.click('form[action="/account/password"] button[type=submit]'),
  ]);
  await page.waitForLoadState('load');
}

// ---- axe and screenshots --------------------------------------------------

// Every violation seen, for the closing summary: { page, id, impact, help,
// nodes }; and what axe could not decide ("incomplete", to be checked by a
// person), the same way.
export const axeFindings = [];
export const axeReview = [];

function describe(kind, name, v) {
  const nodes = v.nodes.slice(0, 8).map((n) => `    ${n.target.join(' ')}: ${n.html.slice(0, 160)}\n` +
    (n.failureSummary ? `      ${n.failureSummary.replace(/\s*\n\s*/g, ' ').slice(0, 300)}\n` : ''));
  return `axe ${kind} on ${name}: [${v.impact}] ${v.id}: ${v.help} (${v.nodes.length} element(s); ` +
    `${v.helpUrl})\n${nodes.join('')}`;
}

// Runs axe on the page, prints every violation (any impact) and every
// "needs review" result to stderr, and returns the violations of impact
// serious or critical, one line each.
export async function axe(page, name) {
  const results = await new AxeBuilder({ page }).analyze();
  for (const [kind, list, into] of [['violation', results.violations, axeFindings],
    ['needs review', results.incomplete, axeReview]]) {
    for (const v of list) {
      into.push({ page: name, id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => n.target.join(' ')) });
      process.stderr.write(describe(kind, name, v));
    }
  }
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${name}: [${v.impact}] ${v.id}: ${v.help} — ` +
      v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', '));
}

// A full-page PNG in tests/artifacts/screenshots/NAME.png.
export async function screenshot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// "HH:MM" of a time (ms since the epoch) in Beijing time (UTC+8, no DST).
export function beijingClock(ms) {
  const d = new Date(ms + 8 * 3600 * 1000);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}
