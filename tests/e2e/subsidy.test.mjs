// subsidy.test.mjs - browser tests of the rental-subsidy pages on the demo
// district (`qianlima demo`: the shipped calendar and policies, applications
// in every state): an applicant applies on a phone (task list, declarations
// refused until answered, check your answers, confirmation with the
// reference number and what happens next); the employer attests from its
// queue, a window accepts, the reviewer sees the registry facts beside the
// decision's trace and publishes the notice; the notice list masks the name;
// the applicant reads the decision in plain words; an administrator checks
// policy texts (a type error at its line, overlapping versions) and runs a
// what-if; the working-day calendar of 2026. axe on every page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  PHONE, axe, keepServerLog, launchBrowser, openPage, removeDir, screenshot, signIn, startServer,
} from './lib.mjs';

const PW = 'Subsidy-Check-2026';
const ANCHOR = '91350100M000100Y43'; // the demo's first employer
const APPLICANT_ID_NUMBER = '310104199001010011';

let server;
let browser;
let talentId;
let ref;
let appId;
const urlPath = (page) => new URL(page.url()).pathname;
const text = async (loc) => (await loc.innerText()).trim();

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  let r = server.cli(['demo', '--people', '300', '--seed', '1']);
  assert.equal(r.status, 0, `qianlima demo: ${r.stdout}${r.stderr}`);
  // A year after 2026 without holidays (a test fixture, not data), so that a
  // notice published late in December can end.
  fs.writeFileSync(path.join(server.dir, '2027-test.txt'), 'year 2027\n');
  r = server.cli(['calendar', 'load', path.join(server.dir, '2027-test.txt')]);
  assert.equal(r.status, 0, `qianlima calendar load: ${r.stdout}${r.stderr}`);
  // The applicant: a master of the first employer, category B.
  fs.writeFileSync(path.join(server.dir, 't.csv'),
    '姓名,身份证号码,学历,用人单位统一社会信用代码,入职日期,人才层次,本区社保缴纳月数\n' +
    `李明,${APPLICANT_ID_NUMBER},硕士,${ANCHOR},2024-07-01,B,20\n`);
  r = server.cli(['import', 'talents', path.join(server.dir, 't.csv'), '--commit']);
  assert.equal(r.status, 0, `qianlima import: ${r.stdout}${r.stderr}`);
  talentId = 301; // after the demo's 300; checked below through the API
  server.addUser('clerk', { name: '窗口 王受理', roles: 'window_clerk', password: PW, keep: true });
  server.addUser('reviewer', { name: '审核员 李审', roles: 'reviewer', password: PW, keep: true });
  server.addUser('hr.one', { name: '单位人事', roles: 'employer_hr', password: PW, keep: true,
    scope: `employer:${ANCHOR}` });
  server.addUser('admin', { name: '管理员', roles: 'admin', password: PW, keep: true });
  server.addUser('applicant', { name: '李明', roles: 'talent', password: PW, keep: true,
    scope: `self:${talentId}` });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    await server.stop();
    keepServerLog(server);
    removeDir(server.dir);
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

async function checkAxe(page, name) {
  await screenshot(page, name);
  assert.deepEqual(await axe(page, name), [], `axe found serious or critical violations on ${name}`);
}

const summaryLinks = (page) => page.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
const csrfOf = async (page) => JSON.parse(await page.getAttribute('body', 'hx-headers'))['X-CSRF-Token'];

test("a window clerk records the applicant's filed lease", async () => {
  const s = await pageAs('clerk');
  const { page } = s;
  const who = await page.request.get(`/api/v1/talents/${talentId}`);
  assert.equal(who.status(), 200);
  assert.equal((await who.json()).name, '李明');
  const resp = await page.request.post('/api/v1/leases', {
    headers: { 'X-CSRF-Token': await csrfOf(page) },
    data: { talent_id: talentId, address: '徐汇区漕溪北路 88 号 1203 室', start_date: '2026-01-01',
      end_date: '2027-12-31', signed_date: '2025-12-20', rent: '4500', filing_no: 'WQ-E2E-1',
      filed_date: '2025-12-26' },
  });
  assert.equal(resp.status(), 201, await resp.text());
  await s.done();
});

test('the applicant applies on a phone: task list, declarations, check answers, confirmation', async () => {
  const s = await pageAs('applicant', { viewport: PHONE });
  const { page } = s;
  await page.goto('/apply');
  assert.equal(await text(page.locator('h1')), '我的补贴申请');
  await checkAxe(page, 'apply-home-phone');
  await page.selectOption('#programme', 'district-rent');
  await submit(page, 'main form button[type=submit]');
  assert.match(urlPath(page), /^\/apply\/\d+$/);
  appId = Number(urlPath(page).split('/').pop());
  const tasks = page.locator('ol.task-list > li');
  assert.equal(await tasks.count(), 4);
  assert.match(await text(tasks.nth(0)), /已完成/);
  assert.match(await text(tasks.nth(0)), /李明/);
  assert.match(await text(tasks.nth(1)), /已完成/, 'the filed lease is found');
  assert.match(await text(tasks.nth(3)), /尚不能开始/);
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no sideways scrolling on a phone (width ${width})`);
  await checkAxe(page, 'apply-tasks-phone');

  await page.click('a:text-is("承诺事项")');
  assert.equal(urlPath(page), `/apply/${appId}/declare`);
  s.expectStatus(`/apply/${appId}/declare`);
  let resp = await submit(page, 'main form button[type=submit]');
  assert.equal(resp.status(), 400);
  assert.deepEqual(await summaryLinks(page), ['#family', '#other', '#declared']);
  await checkAxe(page, 'apply-declare-errors');
  await page.check('input[name=family][value=no]');
  await page.check('input[name=other][value=no]');
  await page.check('#declared');
  resp = await submit(page, 'main form button[type=submit]');
  assert.equal(urlPath(page), `/apply/${appId}/check`);
  const answers = await text(page.locator('dl.check-answers'));
  assert.ok(answers.includes('李明') && answers.includes('否'), answers);
  await checkAxe(page, 'apply-check-phone');
  resp = await submit(page, 'main form button[type=submit]');
  assert.equal(urlPath(page), `/apply/${appId}/done`);
  ref = await text(page.locator('.panel-confirm .ref'));
  assert.match(ref, /^RS2026-\d{6}$/);
  assert.equal(await page.locator('main ol li').count(), 3, 'what happens next, in three steps');
  await checkAxe(page, 'apply-done-phone');
  // The application's page now shows its progress.
  await page.click('a:text-is("查看申请")');
  assert.match(await text(page.locator('ol.timeline')), /提交/);
  await s.done();
});

async function act(user, label, wantState) {
  const s = await pageAs(user);
  const { page } = s;
  await page.goto(`/subsidy/${appId}`);
  await submit(page, `main form button:text-is("${label}")`);
  assert.equal(urlPath(page), `/subsidy/${appId}`);
  assert.match(await text(page.locator('main .notice[role=status]').first()), new RegExp(label));
  assert.equal(await text(page.locator('.title-row .status')), wantState);
  return s;
}

test('the employer attests from its queue; a window accepts', async () => {
  let s = await pageAs('hr.one');
  const { page } = s;
  await page.click('nav.main-nav a:text-is("补贴申请办理")');
  await page.selectOption('#state', 'submitted');
  await page.waitForFunction((r) => document.querySelector('#app-table').innerText.includes(r), ref);
  await checkAxe(page, 'subsidy-queue-employer');
  await page.click(`#app-table a:text-is("${ref}")`);
  assert.equal(urlPath(page), `/subsidy/${appId}`);
  assert.equal(await page.locator('main form button:text-is("受理")').count(), 0,
    'the employer cannot accept for the window');
  await submit(page, 'main form button:text-is("单位确认")');
  assert.equal(await text(page.locator('.title-row .status')), '单位已确认');
  await s.done();
  s = await act('clerk', '窗口受理', '窗口已受理');
  await s.done();
});

test('the reviewer sees the facts beside the trace, and publishes the notice', async () => {
  const s = await act('reviewer', '审核', '已审核');
  const { page } = s;
  const facts = await text(page.locator('dl.facts'));
  assert.ok(facts.includes('lease_filed') && facts.includes('true'), facts);
  const rows = page.locator('table.trace tbody tr');
  assert.equal(await rows.count(), 9, await text(page.locator('main')));
  assert.equal(await page.locator('table.trace tr.failed').count(), 0);
  assert.match(await text(rows.nth(1)), /第五条第（二）项/);
  assert.match(await text(rows.nth(1)), /age = 36/);
  assert.match(await text(page.locator('main p.notice').first()), /档次 B，每月 1500\.00 元/);
  await checkAxe(page, 'subsidy-reviewed');
  await submit(page, 'main form button:text-is("公示")');
  assert.equal(await text(page.locator('.title-row .status')), '公示中');
  assert.match(await text(page.locator('dl.summary').first()), /公示期/);
  // approval waits for the notice to end
  assert.equal(await page.locator('main form button:text-is("批准")').count(), 0);
  await page.goto('/subsidy/notices');
  const row = page.locator('table.data tbody tr', { hasText: ref });
  assert.match(await text(row), /李\*/);
  assert.ok(!(await text(row)).includes('李明'), 'the notice masks the name');
  await checkAxe(page, 'notices');
  await s.done();
});

test('the applicant reads the decision in plain words', async () => {
  const s = await pageAs('applicant', { viewport: PHONE });
  const { page } = s;
  await page.goto(`/apply/${appId}`);
  assert.match(await text(page.locator('main')), /您符合全部条件：档次 B，每月 1500\.00 元/);
  await checkAxe(page, 'apply-decided-phone');
  // another person's application is not there
  s.expectStatus('/apply/1');
  const resp = await page.goto('/apply/1');
  assert.equal(resp.status(), 404);
  await s.done();
});

test('an administrator checks policy texts and runs a what-if', async () => {
  const s = await pageAs('admin');
  const { page } = s;
  await page.click('nav.main-nav a:text-is("补贴政策")');
  assert.equal(await page.locator('table.data tbody tr').count(), 3);
  await checkAxe(page, 'policies');
  await page.click('a.button:text-is("新建或上传政策")');
  const shipped = fs.readFileSync('policies/district-rent.policy', 'utf8');
  await page.fill('#source', shipped.replace('require level != "none"', 'require level >= "B"'));
  s.expectStatus('/policies');
  let resp = await submit(page, 'button:text-is("检查")');
  assert.equal(resp.status(), 400);
  assert.deepEqual(await summaryLinks(page), ['#source']);
  assert.match(await text(page.locator('.error-summary')), /source:\d+:\d+/);
  await checkAxe(page, 'policy-edit-error');
  await page.fill('#source', shipped.replace('from 2026-01-01', 'from 2026-01-01\nto 2025-12-31'));
  resp = await submit(page, 'button:text-is("检查")');
  assert.equal(resp.status(), 400);
  await page.fill('#source', `${shipped}\nversion 2026.2\nfrom 2026-06-01\n` +
    'tier A\nclause 1\nwhen level == "A"\npay 1.00 for 1 month\nzh 档\nen T\n');
  resp = await submit(page, 'button:text-is("检查")');
  assert.equal(resp.status(), 200);
  assert.match(await text(page.locator('main table.data')), /时间重叠/);
  await checkAxe(page, 'policy-edit-findings');

  await page.goto('/policies/simulate');
  await page.fill('#source', shipped.replace('pay 1000.00 for 36 months', 'pay 1200.00 for 36 months'));
  await page.fill('#month', '2026-10');
  resp = await submit(page, 'main form button[type=submit]');
  assert.equal(resp.status(), 200);
  const change = await text(page.locator('#sim-change'));
  assert.ok(Number(change) > 0, `raising tier C costs more (change ${change})`);
  assert.ok(Number(await text(page.locator('#sim-gain'))) > 0);
  assert.equal(await text(page.locator('#sim-lose')), '0');
  await checkAxe(page, 'policy-simulate');
  await s.done();
});

test('the working-day calendar shows 2026 from the loaded data', async () => {
  const s = await pageAs('reviewer');
  const { page } = s;
  await page.goto('/calendar?year=2026');
  assert.match(await text(page.locator('main')), /放假 33 天，调休上班 6 天，共 248 个工作日/);
  const october = page.locator('table.cal').nth(9);
  assert.equal(await october.locator('td.off').count(), 7);
  assert.equal(await october.locator('td.work').count(), 1);
  await checkAxe(page, 'calendar');
  await s.done();
});
