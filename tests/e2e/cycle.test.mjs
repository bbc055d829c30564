// cycle.test.mjs - browser tests of the monthly cycles on the demo district
// (`qianlima demo`: applications in every state, active ones among them):
// a finance officer computes a month and watches the job's progress bar
// reach done (htmx polling the job every second, then drawing the page
// again); a second officer sets the year's budget, approves and exports
// the bank files; the first takes in the bank's result file and sees the
// mismatch listed, and re-sends the failed payment; the page in English;
// without JavaScript a plain link follows the job; a reviewer has no
// access. axe on every page, with no finding of any impact.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  axe, axeFindings, keepServerLog, launchBrowser, openPage, removeDir, screenshot,
  signIn, startServer,
} from './lib.mjs';

const PW = 'Cycle-Check-2026';
const MONTH = '2026-09';

let server;
let browser;
const urlPath = (page) => new URL(page.url()).pathname;
const text = async (loc) => (await loc.innerText()).trim();

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const r = server.cli(['demo', '--people', '300', '--seed', '1']);
  assert.equal(r.status, 0, `qianlima demo: ${r.stdout}${r.stderr}`);
  server.addUser('finance', { name: '财务 赵会计', roles: 'finance', password: PW, keep: true });
  server.addUser('finance2', { name: '财务 孙复核', roles: 'finance', password: PW, keep: true });
  server.addUser('reviewer', { name: '审核员 李审', roles: 'reviewer', password: PW, keep: true });
  server.addUser('reviewer2', { name: '审核员 吴复核', roles: 'reviewer', password: PW, keep: true });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    const exit = await server.stop();
    keepServerLog(server);
    const log = server.log();
    removeDir(server.dir);
    // the jobs' threads ended cleanly with the server
    assert.deepEqual(exit, { code: 0, signal: null }, 'the server stops with status 0');
    assert.doesNotMatch(log, /AddressSanitizer|LeakSanitizer|runtime error/);
  }
});

async function pageAs(user, opts) {
  const s = await openPage(browser, server.base, opts);
  await s.page.goto('/signin');
  await signIn(s.page, user, PW);
  return s;
}

async function submit(page, selector) {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.click(selector),
  ]);
  await page.waitForLoadState('load');
  return resp;
}

// axe finds nothing at all on the page, whatever the impact.
async function checkAxe(page, name) {
  await screenshot(page, name);
  const seen = axeFindings.length;
  await axe(page, name);
  assert.deepEqual(axeFindings.slice(seen).map((f) => `${f.id} (${f.impact}): ${f.nodes.join(', ')}`),
    [], `axe findings on ${name}`);
}

// Writes to the server's SQLite store as another server process would
// (sqlite3, the command-line shell).
function sql(statement) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', path.join(server.dir, 'q.db'), statement],
    { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'the sqlite3 shell is needed (apt-get install sqlite3; make setup)');
  assert.equal(r.status, 0, `sqlite3: ${r.stderr}`);
  return r.stdout.trim();
}

async function waitJobDone(page) {
  await page.waitForFunction(() => {
    const p = document.querySelector('#job progress');
    return p && p.hasAttribute('value') && p.value === p.max &&
      document.querySelector('#job .status').textContent.trim() === '已完成';
  }, null, { timeout: 30000 });
}

test('finance computes a month and watches the progress bar reach done', async () => {
  const s = await pageAs('finance');
  const { page } = s;
  await page.click('nav.main-nav a:text-is("月度发放")');
  assert.equal(urlPath(page), '/cycles');
  assert.equal(await text(page.locator('h1')), '月度发放批次');
  assert.match(await text(page.locator('main')), /没有记录/);
  await checkAxe(page, 'cycles-empty');

  // a bad month is named beside its field
  await page.fill('#month', '2026-13');
  s.expectStatus('/cycles');
  let resp = await submit(page, 'form[action="/cycles"] button[type=submit]');
  assert.equal(resp.status(), 400);
  assert.deepEqual(await page.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), ['#month']);
  assert.equal(await page.getAttribute('#month', 'aria-invalid'), 'true');
  await checkAxe(page, 'cycles-error');
  // a month that cannot be paid yet is refused when asked for: no cycle made
  const d = new Date();
  const ahead = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 3, 1)).toISOString().slice(0, 7);
  await page.fill('#month', ahead);
  resp = await submit(page, 'form[action="/cycles"] button[type=submit]');
  assert.equal(resp.status(), 400);
  assert.match(await text(page.locator('.error-summary')), /尚不能发放/);
  assert.equal(sql(`SELECT count(*) FROM cycles WHERE month = '${ahead}'`), '0');

  await page.fill('#month', MONTH);
  await submit(page, 'form[action="/cycles"] button[type=submit]');
  assert.equal(urlPath(page), `/cycles/${MONTH}`);
  assert.match(await text(page.locator('main .notice[role=status]')), /已开始计算/);
  await waitJobDone(page);
  const count = await text(page.locator('#job .job-count'));
  const m = count.match(/已处理 (\d+) \/ (\d+)/);
  assert.ok(m && m[1] === m[2] && Number(m[1]) > 0, count);
  assert.match(await text(page.locator('#job .job-message')), new RegExp(`发放批次 ${MONTH} 已计算`));
  assert.equal(await text(page.locator('.title-row .status')), '已计算');
  assert.equal(await text(page.locator('ol.steps li[aria-current=step]')), '已计算');
  // the entitlements, each linked to its application's trace
  const first = page.locator('#items tbody tr a').first();
  assert.match(await first.getAttribute('href'), /^\/subsidy\/\d+$/);
  // 第几个月 is the policy's own count of the month (from 1), as stored
  const appId = (await first.getAttribute('href')).split('/').pop();
  const monthIndex = sql(`SELECT e.month_index FROM entitlements e JOIN cycles c ON c.id = e.cycle_id WHERE c.month = '${MONTH}' AND e.application_id = ${appId} ORDER BY e.id LIMIT 1`);
  assert.equal(await text(page.locator('#items tbody tr').first().locator('td.num').first()), monthIndex);
  // the one who computed it does not approve it
  assert.equal(await page.locator('form[action$="/approve"]').count(), 0);
  assert.match(await text(page.locator('#actions')), /须由另一人复核/);
  await checkAxe(page, 'cycle-computed');
  // the trace: the application's decision, read without any action
  const app = await first.getAttribute('href');
  await first.click();
  assert.equal(urlPath(page), app);
  assert.match(await text(page.locator('#decision-h')), /审核结论与依据/);
  assert.ok(await page.locator('table.trace tbody tr').count() > 0, 'the criteria with their clauses');
  assert.equal(await page.locator('form[action$="/action"]').count(), 0);
  await checkAxe(page, 'cycle-trace');

  // the progress of a running job, polled every second until it is done:
  // the job is written back as running (as its thread does while it runs)
  const id = sql(`SELECT id FROM jobs WHERE month = '${MONTH}' ORDER BY id DESC LIMIT 1`);
  const total = Number(m[2]);
  sql(`UPDATE jobs SET state = 'running', done = ${total - 1}, finished_at = NULL, ` +
    `heartbeat_at = strftime('%s', 'now') WHERE id = ${id}`);
  await page.goto(`/cycles/${MONTH}`);
  assert.equal(await page.getAttribute('#job', 'hx-trigger'), 'every 1s');
  assert.equal(await text(page.locator('#job .status')), '进行中');
  assert.equal(await page.getAttribute('#job progress', 'value'), String(total - 1));
  assert.equal(await page.locator('#job a:text-is("刷新查看进度")').count(), 1);
  await page.waitForRequest((r) => r.url().endsWith(`/cycles/${MONTH}/progress`) &&
    r.headers()['hx-request'] === 'true');
  await checkAxe(page, 'cycle-job-running');
  sql(`UPDATE jobs SET state = 'done', done = ${total}, finished_at = strftime('%s', 'now') ` +
    `WHERE id = ${id}`);
  await waitJobDone(page);
  assert.equal(await page.getAttribute('#job', 'hx-trigger'), null, 'polling stops when done');
  assert.equal(await text(page.locator('#job .job-count')), `已处理 ${total} / ${total}`);
  await s.done();
});

// A person paid by the month whose name a reviewer corrects before the
// export: the export holds their payment (the test after the English one).
let talent;
test('a reviewer corrects the name of a person the month pays', async () => {
  talent = sql(`SELECT e.payee_id FROM entitlements e JOIN cycles c ON c.id = e.cycle_id WHERE c.month = '${MONTH}' AND e.payee_type = 'person' AND e.amount_fen > 0 ORDER BY e.payee_id LIMIT 1`);
  assert.match(talent, /^\d+$/, 'a person paid by the month');
  const rv = await pageAs('reviewer');
  await rv.page.goto(`/registry/talents/${talent}/payee`);
  await rv.page.fill('#new_name', '更正测试');
  await rv.page.fill('#correction_reason', '与身份证件不符，依原件更正');
  const resp = await submit(rv.page, 'form[action$="/identity"] button[type=submit]');
  assert.equal(resp.status(), 201);
  await rv.done();
});

test('a second officer sets the budget, approves and exports', async () => {
  const s = await pageAs('finance2');
  const { page } = s;
  await page.goto('/cycles');
  const row = page.locator('table.data tbody tr', { hasText: MONTH });
  assert.match(await text(row), /已计算/);
  await page.click(`a:text-is("${MONTH}")`);
  // approval needs a budget: refused, the reason in the error summary
  s.expectStatus(`/cycles/${MONTH}/approve`);
  let resp = await submit(page, 'form[action$="/approve"] button');
  assert.equal(resp.status(), 409);
  assert.match(await text(page.locator('.error-summary')), /budget|预算/);
  // no budget: said so, with what to do, the programme by its name
  const refusal = await text(page.locator('.error-summary'));
  assert.match(refusal, /区人才租房补贴 2026 年尚未设置预算/);
  assert.match(refusal, /设置该项目 2026 年的预算/);
  assert.doesNotMatch(refusal, /none|district-rent/);
  assert.deepEqual(await page.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), ['#actions']);
  await checkAxe(page, 'cycle-approve-refused');

  await page.goto('/cycles');
  await page.fill('#amount', '500000');
  await submit(page, 'form[action="/cycles/budgets"] button');
  assert.match(await text(page.locator('main .notice[role=status]')), /预算已保存/);
  assert.match(await text(page.locator('section[aria-labelledby=budgets-h] table')), /district-rent\s+2026\s+500000\.00/);
  await checkAxe(page, 'cycles-budget');

  await page.click(`a:text-is("${MONTH}")`);
  await submit(page, 'form[action$="/approve"] button');
  assert.match(await text(page.locator('main .notice[role=status]')), /已复核通过/);
  assert.equal(await text(page.locator('.title-row .status')), '已复核');
  assert.match(await text(page.locator('#summary')), /复核人\s*finance2/);

  await page.fill('#batch_size', '3');
  await submit(page, 'form[action$="/export"] button');
  assert.match(await text(page.locator('main .notice[role=status]')), /已开始导出/);
  await waitJobDone(page);
  assert.match(await text(page.locator('#job .job-message')), /已导出/);
  assert.equal(await text(page.locator('.title-row .status')), '已导出');
  const files = page.locator('#files tbody tr a');
  assert.ok(await files.count() >= 2);
  assert.equal(await text(files.first()), 'QLM202609-0001.csv');
  const dl = await page.request.get(await files.first().getAttribute('href'));
  assert.equal(dl.status(), 200);
  assert.match(await dl.text(), /^batch_no,seq,request_id,account,name,amount/);
  await checkAxe(page, 'cycle-exported');
  await s.done();
});

// The bank's answer to the batch files: each payment paid, but the second
// failed and the third with a wrong amount.
async function resultFile(page) {
  const hrefs = await page.locator('#files tbody tr a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  const rows = [];
  for (const href of hrefs) {
    const body = await (await page.request.get(href)).text();
    for (const line of body.split('\r\n').slice(1).filter(Boolean)) rows.push(line.split(','));
  }
  let csv = 'batch_no,request_id,account,amount,status,message\n';
  rows.forEach((f, i) => {
    csv += `${f[0]},${f[2]},${f[3]},${i === 2 ? '1.00' : f[5]},${i === 1 ? 'F,账户已销户' : 'S,'}\n`;
  });
  return { csv, failed: rows[1][2], odd: rows[2][2] };
}

test('finance takes in the result file and sees every mismatch', async () => {
  const s = await pageAs('finance');
  const { page } = s;
  await page.goto(`/cycles/${MONTH}`);
  const { csv, failed, odd } = await resultFile(page);
  // no file chosen: named beside the field
  s.expectStatus(`/cycles/${MONTH}/results`);
  let resp = await submit(page, `form[action="/cycles/${MONTH}/results"] button`);
  assert.equal(resp.status(), 400);
  assert.deepEqual(await page.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), ['#file']);
  await checkAxe(page, 'cycle-results-error');

  await page.setInputFiles('#file', { name: '回盘-202609.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await submit(page, `form[action="/cycles/${MONTH}/results"] button`);
  assert.match(await text(page.locator('main .notice[role=status]')), /回盘文件已导入/);
  const report = page.locator('#reconciliation details[open]');
  assert.match(await text(report.locator('summary')), /回盘-202609\.csv：\d+ 行，成功 \d+，失败 1，不符 1/);
  const mismatches = report.locator('table.mismatches tbody tr');
  assert.equal(await mismatches.count(), 1);
  assert.match(await text(mismatches.first()), new RegExp(`${odd}\\s+金额不符`));
  assert.match(await text(mismatches.first()), /文件中为“1\.00”/);
  await checkAxe(page, 'cycle-reconciliation');

  // the failed payment, its account masked, sent again with a reason
  await page.selectOption('#state', 'failed');
  await page.waitForFunction((rid) => document.querySelector('#payments-table').innerText.includes(rid) &&
    document.querySelectorAll('#payments-table tbody tr').length === 1, failed);
  const payment = page.locator('#payments-table tbody tr');
  assert.match(await text(payment), /\*{4}/);
  assert.match(await text(payment), /账户已销户/);
  assert.equal(await payment.locator('button:text-is("核销")').count(), 1);
  await checkAxe(page, 'cycle-payments-failed');
  s.expectStatus(`/cycles/${MONTH}/payments/${failed}/requeue`);
  resp = await submit(page, '#payments-table button:text-is("重新发送")');
  assert.equal(resp.status(), 400, 'a reason is needed');
  assert.deepEqual(await page.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), [`#reason-${failed}`]);
  await checkAxe(page, 'cycle-requeue-error');
  await page.fill(`#reason-${failed}`, '收款人已提供新账户');
  await submit(page, '#payments-table button:text-is("重新发送")');
  assert.match(await text(page.locator('main .notice[role=status]')), /付款已重新排队/);
  assert.equal(await page.locator('#payments-table tbody tr').count(), 0, 'no failed payment is left');
  await s.done();
});

test('the month in English, and without JavaScript', async () => {
  const s = await pageAs('finance2');
  let { page } = s;
  await page.goto(`/lang/en?next=${encodeURIComponent(`/cycles/${MONTH}`)}`);
  assert.equal(await text(page.locator('h1')), `Cycle ${MONTH}`);
  assert.equal(await text(page.locator('ol.steps li[aria-current=step]')), 'Exported');
  assert.match(await text(page.locator('#reconciliation')), /Amount differs/);
  // the job's summary in words, with singular and plural as they fall
  const job = await text(page.locator('#job'));
  assert.match(job, /Cycle \d{4}-\d{2} (exported|was exported before)/);
  assert.doesNotMatch(job, /\b1 (payments|batches|payees|pages)\b/);
  assert.doesNotMatch(job, /\b[a-z]+_[a-z_]+\b/, 'no code names');
  await checkAxe(page, 'cycle-english');
  // a phone: the scrolling tables are regions to be focused and named
  await page.setViewportSize({ width: 390, height: 844 });
  await checkAxe(page, 'cycle-english-phone');
  for (const wrap of await page.locator('.table-wrap').all()) {
    assert.equal(await wrap.getAttribute('tabindex'), '0');
    assert.equal(await wrap.getAttribute('role'), 'region');
    assert.ok(await wrap.getAttribute('aria-label'), 'a scrolling table has a name');
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto('/cycles');
  assert.equal(await text(page.locator('h1')), 'Monthly disbursement cycles');
  await checkAxe(page, 'cycles-english');
  await s.done();

  // a job running, followed with a plain link; the fragment's address
  // takes a browser without htmx back to the page
  const id = sql(`SELECT id FROM jobs WHERE month = '${MONTH}' ORDER BY id DESC LIMIT 1`);
  sql(`UPDATE jobs SET state = 'running', finished_at = NULL, heartbeat_at = strftime('%s', 'now') WHERE id = ${id}`);
  const context = await browser.newContext({ baseURL: server.base, javaScriptEnabled: false, locale: 'zh-CN' });
  page = await context.newPage();
  await page.goto('/signin');
  await signIn(page, 'finance', PW);
  await page.goto(`/cycles/${MONTH}`);
  assert.equal(await text(page.locator('#job .status')), '进行中');
  await page.click('#job a:text-is("刷新查看进度")');
  assert.equal(urlPath(page), `/cycles/${MONTH}`);
  await page.goto(`/cycles/${MONTH}/progress`);
  assert.equal(urlPath(page), `/cycles/${MONTH}`, 'the fragment without htmx redirects to the page');
  // (axe runs in the page's JavaScript: this page was checked with it above,
  // as cycle-job-running)
  await screenshot(page, 'cycle-no-js');
  await context.close();
  sql(`UPDATE jobs SET state = 'done', finished_at = strftime('%s', 'now') WHERE id = ${id}`);
});

test('the export held the corrected payee: the reason in words, then resolved once reviewed', async () => {
  const s = await pageAs('finance2');
  const { page } = s;
  await page.goto(`/cycles/${MONTH}`);
  assert.match(await text(page.locator('#job .job-message')), /暂缓发放 1 个收款方，[\d.]+ 元（身份信息更正待复核：1）/);
  await page.goto(`/lang/en?next=${encodeURIComponent(`/cycles/${MONTH}`)}`);
  const message = await text(page.locator('#job .job-message'));
  assert.match(message, /Held: 1 payee, [\d.]+ yuan \(identity correction awaiting review: 1\)/);
  assert.doesNotMatch(message, /identity_review/);
  const held = page.locator('#holds tbody tr', { has: page.locator(`a[href="/registry/talents/${talent}/payee"]`) });
  assert.match(await text(held), /awaits another reviewer/);
  assert.doesNotMatch(await text(held), /Resolved/);
  // another reviewer reviews it: the hold is shown resolved, to be paid by the next export
  const rv2 = await pageAs('reviewer2');
  await rv2.page.goto(`/registry/talents/${talent}/payee`);
  await rv2.page.fill('input[id^="note-"]', '复核无误，恢复发放');
  const resp = await submit(rv2.page, 'form[action$="/review"] button[type=submit]');
  assert.equal(resp.status(), 200);
  await rv2.done();
  await page.reload();
  assert.match(await text(held), /Resolved/);
  assert.match(await text(held), /next export/);
  await checkAxe(page, 'cycle-hold-resolved');
  await s.done();
});

test('a reviewer has no access to the cycles', async () => {
  const s = await pageAs('reviewer');
  const { page } = s;
  assert.equal(await page.locator('nav.main-nav a:text-is("月度发放")').count(), 0);
  s.expectStatus('/cycles');
  const resp = await page.goto('/cycles');
  assert.equal(resp.status(), 403);
  s.expectStatus(`/cycles/${MONTH}/files/QLM202609-0001.csv`);
  const dl = await page.request.get(`/cycles/${MONTH}/files/QLM202609-0001.csv`);
  assert.equal(dl.status(), 403);
  await s.done();
});
