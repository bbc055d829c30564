// housing.test.mjs - browser tests of the rental-housing pages: a district
// account registers operators (errors first), an operator's account
// registers a unit (refused as listed without its verification code, then
// listed), records a lease for a registered talent (a tenant who is not
// registered and an overlapping lease are refused at their fields), sees the
// late-filing warning, ends the lease and finds the unit listed again; the
// list filters (selects through htmx, a rent range typed wrong); another
// operator's account sees only its own units and leases (the first one's
// unit is a 404); English status words; axe and screenshots of every page,
// and the phone width.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  PHONE, axe, keepServerLog, launchBrowser, openPage, removeDir, screenshot, signIn, startServer,
} from './lib.mjs';

const PW = 'Housing-Check-2026';
const EMPLOYER = '91310104MA1FL0001Q';
const TENANT = '310104199001010011'; // 李明, registered by the CLI import
const TENANT_2 = '440304199202020064'; // 王二, registered by the CLI import
const NOT_REGISTERED = '11010519491231002X'; // a valid number nobody registered
const OP_1 = { code: 'OP-XH-1', name: '徐汇人才安居有限公司', credit: '91350100M000100Y43' };
const OP_2 = { code: 'OP-XH-2', name: '滨江公寓运营有限公司', credit: '91310104MA1FL0002U' };
const VCODE = 'XH2026-000123';

let server;
let browser;
const urlPath = (page) => new URL(page.url()).pathname;
const text = async (loc) => (await loc.innerText()).trim();

// Civil dates in Beijing time, days from today.
function day(offset) {
  const d = new Date(Date.now() + 8 * 3600 * 1000 + offset * 86400 * 1000);
  return d.toISOString().slice(0, 10);
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  server.addUser('district', { name: '区房管窗口', roles: 'window_clerk', password: PW, keep: true });
  server.addUser('op.one', { name: '徐汇安居', roles: 'housing_operator', password: PW, keep: true,
    scope: `operator:${OP_1.code}` });
  server.addUser('op.two', { name: '滨江公寓', roles: 'housing_operator', password: PW, keep: true,
    scope: `operator:${OP_2.code}` });
  server.addUser('hr.one', { name: '单位人事', roles: 'employer_hr', password: PW, keep: true,
    scope: `employer:${EMPLOYER}` });
  const dir = server.dir;
  fs.writeFileSync(path.join(dir, 'e.csv'), `统一社会信用代码,单位名称,行业\n${EMPLOYER},某人工智能研究院有限公司,人工智能\n`);
  fs.writeFileSync(path.join(dir, 't.csv'), '姓名,身份证号码,学历,用人单位统一社会信用代码,入职日期\n' +
    `李明,${TENANT},硕士,${EMPLOYER},2024-07-01\n王二,${TENANT_2},博士,${EMPLOYER},2023-05-01\n`);
  for (const [kind, file] of [['employers', 'e.csv'], ['talents', 't.csv']]) {
    const r = server.cli(['import', kind, path.join(dir, file), '--commit']);
    assert.equal(r.status, 0, `qianlima import ${kind}: ${r.stdout}${r.stderr}`);
  }
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

async function submit(page, selector = 'main form.form button[type=submit]') {
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

const menu = (page) => page.locator('nav.main-nav a').evaluateAll((as) => as.map((a) => a.textContent.trim()));
const summaryLinks = (page) => page.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));

// Ids found on the way, for the later tests.
const ids = {};

// The id of the record a detail page shows (a saved form answers with the
// page at the form's address), from its edit link.
async function shownId(page, kind) {
  const href = await page.locator(`main a[href^="/registry/${kind}/"][href$="/edit"]`).first()
    .getAttribute('href');
  return Number(href.split('/')[3]);
}

test('a district account registers operators: bad fields first, each at its field, then the record',
  async () => {
    const s = await pageAs('district');
    s.expectStatus('/registry/operators');
    const { page } = s;
    const items = await menu(page);
    for (const m of ['房源', '租约', '住房租赁企业'])
      assert.ok(items.includes(m), `the district menu has ${m}: ${items}`);
    await page.click('nav.main-nav a:text-is("住房租赁企业")');
    assert.equal(urlPath(page), '/registry/operators');
    await page.click('a.button:text-is("登记住房租赁企业")');
    assert.equal(urlPath(page), '/registry/operators/new');
    await page.fill('#name', OP_1.name);
    await page.fill('#credit_code', '91350100M000100Y44'); // wrong check character
    await page.fill('#contact_phone', '12345');
    let resp = await submit(page);
    assert.equal(resp.status(), 400);
    const links = await summaryLinks(page);
    for (const f of ['#code', '#credit_code', '#contact_phone'])
      assert.ok(links.includes(f), `the error summary links to ${f} (got ${links})`);
    assert.equal(await page.getAttribute('#credit_code', 'aria-invalid'), 'true');
    assert.match(await page.getAttribute('#credit_code', 'aria-describedby'), /credit_code-error/);
    assert.ok((await text(page.locator('#credit_code-error'))).length > 0, 'the error is at the field');
    assert.equal(await page.inputValue('#name'), OP_1.name, 'what was typed is kept');
    await checkAxe(page, 'operator-new-errors');

    await page.fill('#code', OP_1.code);
    await page.fill('#credit_code', OP_1.credit);
    await page.fill('#contact_name', '张经理');
    await page.fill('#contact_phone', '021-64871234');
    resp = await submit(page);
    assert.equal(resp.status(), 201);
    assert.equal(await text(page.locator('h1')), OP_1.name);
    assert.equal(await text(page.locator('main .notice[role=status]')), '已登记。');
    const details = await text(page.locator('dl.summary'));
    assert.ok(details.includes(OP_1.code) && details.includes('021-64871234'), details);
    await checkAxe(page, 'operator');

    // The second operator, and its code is taken once.
    await page.goto('/registry/operators/new');
    await page.fill('#code', OP_1.code);
    await page.fill('#name', OP_2.name);
    await page.fill('#credit_code', OP_2.credit);
    resp = await submit(page);
    assert.equal(resp.status(), 409);
    assert.deepEqual(await summaryLinks(page), ['#code']);
    await page.fill('#code', OP_2.code);
    resp = await submit(page);
    assert.equal(resp.status(), 201);

    await page.goto('/registry/operators');
    assert.equal(await page.locator('#operator-table tbody tr').count(), 2);
    await checkAxe(page, 'operators');
    // The search: part of the name.
    await page.fill('#q', '滨江');
    await page.press('#q', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#operator-table tbody tr').length === 1);
    assert.equal(await text(page.locator('#operator-table tbody td').first()), OP_2.name);

    // Editing: the code is shown and cannot change; the history names the field.
    await page.goto('/registry/operators');
    await page.click(`#operator-table a:text-is("${OP_1.name}")`);
    ids.op1 = Number(urlPath(page).split('/').pop());
    assert.ok(ids.op1 > 0, page.url());
    await page.click('a.button:text-is("修改")');
    assert.equal(await page.getAttribute('#code', 'readonly'), '');
    assert.equal(await page.inputValue('#code'), OP_1.code);
    await page.fill('#contact_phone', '13800138000');
    await checkAxe(page, 'operator-edit');
    resp = await submit(page);
    assert.equal(resp.status(), 200);
    assert.equal(await text(page.locator('main .notice[role=status]')), '修改已保存。');
    const history = await text(page.locator('main table').last());
    assert.ok(history.includes('修改') && history.includes('联系电话'), `history: ${history}`);
    await s.done();
  });

test("an operator's account registers a unit: listing without the verification code is refused, then it is listed",
  async () => {
    const s = await pageAs('op.one');
    s.expectStatus('/registry/units');
    const { page } = s;
    await page.click('nav.main-nav a:text-is("房源")');
    assert.equal(urlPath(page), '/registry/units');
    assert.equal(await page.locator('#unit-table tbody tr').count(), 0);
    await page.click('a.button:text-is("登记房源")');
    assert.equal(urlPath(page), '/registry/units/new');
    assert.equal(await page.locator('#operator').count(), 0, 'an operator is not asked for its own code');
    await page.fill('#address', '徐汇区漕溪北路 88 号 12 楼 1203 室');
    await page.fill('#district', '徐汇区');
    await page.fill('#community', '漕溪公寓');
    await page.fill('#area', '45.5');
    await page.fill('#rooms', '1');
    await page.fill('#rent', '4500');
    await page.selectOption('#kind', 'talent_apartment');
    await page.selectOption('#status', 'listed');
    let resp = await submit(page);
    assert.equal(resp.status(), 400);
    assert.deepEqual(await summaryLinks(page), ['#verification_code']);
    assert.equal(await page.getAttribute('#verification_code', 'aria-invalid'), 'true');
    assert.match(await text(page.locator('#verification_code-error')), /房源核验码/);
    assert.equal(await page.inputValue('#address'), '徐汇区漕溪北路 88 号 12 楼 1203 室');
    assert.equal(await page.inputValue('#status'), 'listed', 'the chosen status is kept');
    await checkAxe(page, 'unit-new-errors');

    await page.fill('#verification_code', VCODE);
    resp = await submit(page);
    assert.equal(resp.status(), 201);
    ids.unit1 = await shownId(page, 'units');
    assert.ok(ids.unit1 > 0, page.url());
    assert.equal(await text(page.locator('h1')), '徐汇区漕溪北路 88 号 12 楼 1203 室');
    const details = await text(page.locator('dl.summary'));
    for (const want of ['已发布', '人才公寓', '45.50', '4500.00', VCODE, OP_1.name, '1 室'])
      assert.ok(details.includes(want), `the unit page shows ${want}: ${details}`);
    assert.ok((await text(page.locator('main table').last())).includes('登记'), 'the history lists the registration');
    await checkAxe(page, 'unit');

    // A second unit, a studio kept as a draft.
    await page.goto('/registry/units/new');
    await page.fill('#address', '徐汇区宜山路 200 弄 3 号 501 室');
    await page.fill('#district', '徐汇区');
    await page.fill('#area', '30');
    await page.fill('#rooms', '0');
    await page.fill('#rent', '3200.50');
    await page.selectOption('#kind', 'affordable_rental');
    assert.equal((await submit(page)).status(), 201);
    assert.ok((await text(page.locator('dl.summary'))).includes('开间'));

    await page.goto('/registry/units');
    assert.equal(await page.locator('#unit-table tbody tr').count(), 2);
    await checkAxe(page, 'units');
    await s.done();

    // The other operator registers one of its own, as a draft.
    const t = await pageAs('op.two');
    await t.page.goto('/registry/units/new');
    await t.page.fill('#address', '徐汇区龙腾大道 2000 号 8 楼');
    await t.page.fill('#area', '60');
    await t.page.fill('#rooms', '2');
    await t.page.fill('#rent', '6800');
    assert.equal((await submit(t.page)).status(), 201);
    ids.unit2 = await shownId(t.page, 'units');
    await t.done();
  });

test('the unit list: selects filter at once, a rent range typed wrong is pointed out, a good one filters',
  async () => {
    const s = await pageAs('district');
    s.expectStatus('/registry/units?rent_min=abc');
    const { page } = s;
    await page.goto('/registry/units');
    assert.equal(await page.locator('#unit-table tbody tr').count(), 3, 'district staff see every unit');
    await Promise.all([
      page.waitForResponse((r) => r.url().includes('status=listed') && r.request().headers()['hx-request']),
      page.selectOption('select#status', 'listed'),
    ]);
    await page.waitForFunction(() => new URL(location.href).searchParams.get('status') === 'listed');
    await page.waitForFunction(() => document.querySelectorAll('#unit-table tbody tr').length === 1);
    assert.match(await text(page.locator('#unit-table tbody tr')), /已发布/);
    await page.selectOption('select#status', '');
    await page.waitForFunction(() => document.querySelectorAll('#unit-table tbody tr').length === 3);
    // The operator select (district staff) filters by operator.
    await page.selectOption('select#operator_id', { label: `${OP_2.name}（${OP_2.code}）` });
    await page.waitForFunction(() => document.querySelectorAll('#unit-table tbody tr').length === 1);
    assert.match(await text(page.locator('#unit-table tbody tr')), /龙腾大道/);
    // The export link follows the filter chosen through htmx.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('a:text-is("导出 CSV")'),
    ]);
    assert.match(download.suggestedFilename(), /^房源-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    const lines = csv.trim().split(/\r\n/);
    assert.equal(lines.length, 2, `one unit under the header: ${csv}`);
    assert.ok(lines[1].includes('龙腾大道') && lines[1].includes(OP_2.code), lines[1]);
    await page.selectOption('select#operator_id', '');
    await page.waitForFunction(() => document.querySelectorAll('#unit-table tbody tr').length === 3);

    // Typed wrong: the error inside the results, linked to the field.
    await page.fill('#rent_min', 'abc');
    await page.press('#rent_min', 'Enter');
    await page.waitForSelector('#unit-table .error-summary');
    assert.equal(await page.locator('#unit-table .error-summary a').getAttribute('href'), '#rent_min');
    assert.equal(await page.locator('#unit-table tbody tr').count(), 0);
    await checkAxe(page, 'units-filter-error');
    // The same address loaded as a page answers 400.
    const bad = await page.goto('/registry/units?rent_min=abc');
    assert.equal(bad.status(), 400);
    assert.equal(await page.getAttribute('#rent_min', 'aria-invalid'), 'true');

    await page.goto('/registry/units');
    await page.fill('#rent_min', '3500');
    await page.fill('#rent_max', '5000');
    await page.press('#rent_max', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#unit-table tbody tr').length === 1);
    assert.match(await text(page.locator('#unit-table tbody tr')), /4500\.00/);
    // Sorted by rent, highest first.
    await page.goto('/registry/units?sort=-rent');
    const rents = await page.locator('#unit-table tbody td:nth-child(7)').allInnerTexts();
    assert.deepEqual(rents, ['6800.00', '4500.00', '3200.50']);
    await s.done();
  });

test('a lease for a registered talent: an unknown tenant and an overlapping period are refused at their fields',
  async () => {
    const s = await pageAs('op.one');
    s.expectStatus('/registry/leases');
    const { page } = s;
    await page.goto(`/registry/units/${ids.unit1}`);
    await page.click('a.button:text-is("登记租赁合同")');
    assert.equal(urlPath(page), '/registry/leases/new');
    assert.equal(await page.inputValue('#unit_id'), String(ids.unit1), 'the unit comes from its page');
    assert.equal(await page.inputValue('#rent'), '4500.00', 'the rent starts as the unit\'s');
    assert.equal(await page.locator('#address').count(), 0, 'an operator records leases of its own units only');
    // Signed 40 days ago and not filed: saved, with the late-filing warning.
    await page.fill('#talent_id_number', NOT_REGISTERED);
    await page.fill('#signed_date', day(-40));
    await page.fill('#start_date', day(-35));
    await page.fill('#end_date', day(330));
    await page.fill('#deposit', '9000');
    let resp = await submit(page);
    assert.equal(resp.status(), 400);
    assert.deepEqual(await summaryLinks(page), ['#talent_id_number']);
    assert.equal(await page.getAttribute('#talent_id_number', 'aria-invalid'), 'true');
    assert.match(await text(page.locator('#talent_id_number-error')), /请先登记/);
    assert.equal(await page.inputValue('#start_date'), day(-35), 'what was typed is kept');
    await checkAxe(page, 'lease-new-errors');

    await page.fill('#talent_id_number', TENANT);
    resp = await submit(page);
    assert.equal(resp.status(), 201);
    ids.lease1 = await shownId(page, 'leases');
    assert.equal(await text(page.locator('h1')), '李明的租赁合同');
    assert.equal(await text(page.locator('main .notice:not(.important)')), '已登记。');
    assert.match(await text(page.locator('main .notice.important')), /尚未网签备案/, 'the late filing is pointed out');
    const details = await text(page.locator('dl.summary'));
    for (const want of ['生效中', '4500.00', '9000.00', '310104********0011', '已逾期', OP_1.name])
      assert.ok(details.includes(want), `the lease page shows ${want}: ${details}`);
    await checkAxe(page, 'lease');
    // Links: the tenant, the unit; the unit is leased now.
    assert.equal(await page.locator('dl.summary a:text-is("李明")').count(), 1);
    await page.click('dl.summary a:text-is("徐汇区漕溪北路 88 号 12 楼 1203 室")');
    assert.equal(urlPath(page), `/registry/units/${ids.unit1}`);
    assert.ok((await text(page.locator('dl.summary'))).includes('已出租'));
    assert.equal(await page.locator('main table a:text-is("李明")').count(), 1, 'the unit lists its lease');

    // An overlapping period on the same unit: refused at the field.
    await page.goto(`/registry/leases/new?unit_id=${ids.unit1}`);
    await page.fill('#talent_id_number', TENANT_2);
    await page.fill('#signed_date', day(-1));
    await page.fill('#start_date', day(10));
    await page.fill('#end_date', day(400));
    await page.fill('#filing_no', 'WQ-2026-0001');
    await page.fill('#filed_date', day(0));
    resp = await submit(page);
    assert.equal(resp.status(), 409);
    assert.deepEqual(await summaryLinks(page), ['#start_date']);
    assert.equal(await page.getAttribute('#start_date', 'aria-invalid'), 'true');
    assert.match(await text(page.locator('#start_date-error')), /不能重叠/);
    assert.equal(await page.inputValue('#filing_no'), 'WQ-2026-0001');
    await checkAxe(page, 'lease-overlap');

    await page.goto('/registry/leases');
    assert.equal(await page.locator('#lease-table tbody tr').count(), 1);
    await checkAxe(page, 'leases');
    await page.goto(`/registry/leases/${ids.lease1}/edit`);
    assert.equal(await page.inputValue('#talent_id_number'), '', 'the ID number is not put in the form');
    assert.match(await text(page.locator('#talent_id_number-hint')), /李明/);
    await page.fill('#filing_no', 'WQ-2026-0002');
    await page.fill('#filed_date', day(0));
    await checkAxe(page, 'lease-edit');
    resp = await submit(page);
    assert.equal(resp.status(), 200);
    assert.match(await text(page.locator('main .notice.important')), /签约后第 40 天才备案/);
    assert.ok((await text(page.locator('dl.summary'))).includes('WQ-2026-0002'));
    assert.ok((await text(page.locator('dl.summary'))).includes('李明'), 'the tenant stayed');
    await s.done();
  });

test('ending the lease: errors at the fields, then ended, and the unit is listed again', async () => {
  const s = await pageAs('op.one');
  s.expectStatus(`/registry/leases/${ids.lease1}/end`);
  const { page } = s;
  await page.goto(`/registry/leases/${ids.lease1}`);
  await page.click('summary:text-is("结束租约")');
  let resp = await submit(page, 'form[action$="/end"] button[type=submit]');
  assert.equal(resp.status(), 400);
  const links = await summaryLinks(page);
  assert.ok(links.includes('#ended_on') && links.includes('#reason'), `links: ${links}`);
  assert.equal(await page.getAttribute('#reason', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('details.end-lease', 'open'), '', 'the form stays open');
  await checkAxe(page, 'lease-end-errors');
  await page.fill('#ended_on', day(0));
  await page.fill('#reason', '承租人提前退租');
  resp = await submit(page, 'form[action$="/end"] button[type=submit]');
  assert.equal(resp.status(), 200);
  assert.equal(await text(page.locator('main .notice[role=status]')), '租约已结束。');
  const details = await text(page.locator('dl.summary'));
  assert.ok(details.includes('已解除') && details.includes('承租人提前退租'), details);
  assert.equal(await page.locator('a.button:text-is("修改")').count(), 0, 'an ended lease is not edited');
  assert.equal(await page.locator('summary:text-is("结束租约")').count(), 0);
  assert.ok((await text(page.locator('main table').last())).includes('结束'), 'the history lists the end');
  await checkAxe(page, 'lease-ended');
  await page.goto(`/registry/units/${ids.unit1}`);
  assert.ok((await text(page.locator('dl.summary'))).includes('已发布'), 'the unit is listed again');
  // The lease list filters by status at once.
  await page.goto('/registry/leases');
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('status=active') && r.request().headers()['hx-request']),
    page.selectOption('select#status', 'active'),
  ]);
  await page.waitForFunction(() => document.querySelectorAll('#lease-table tbody tr').length === 0);
  await page.selectOption('select#status', 'terminated');
  await page.waitForFunction(() => document.querySelectorAll('#lease-table tbody tr').length === 1);
  await s.done();
});

test("another operator's account sees only its own units and leases", async () => {
  const s = await pageAs('op.two');
  const { page } = s;
  const items = await menu(page);
  for (const m of ['房源', '租约', '住房租赁企业'])
    assert.ok(items.includes(m), `the operator's menu has ${m}: ${items}`);
  assert.ok(!items.includes('批量导入'));
  await page.goto('/registry/units');
  const rows = await page.locator('#unit-table tbody tr').allInnerTexts();
  assert.equal(rows.length, 1, `rows: ${rows}`);
  assert.match(rows[0], /龙腾大道/);
  assert.equal(await page.locator('select#operator_id').count(), 0);
  s.expectStatus(`/registry/units/${ids.unit1}`);
  let resp = await page.goto(`/registry/units/${ids.unit1}`);
  assert.equal(resp.status(), 404, "another operator's unit is not found");
  await checkAxe(page, 'unit-not-found');
  s.expectStatus(`/registry/units/${ids.unit1}/edit`);
  resp = await page.goto(`/registry/units/${ids.unit1}/edit`);
  assert.equal(resp.status(), 404);
  s.expectStatus(`/registry/leases/${ids.lease1}`);
  resp = await page.goto(`/registry/leases/${ids.lease1}`);
  assert.equal(resp.status(), 404);
  await page.goto('/registry/leases');
  assert.equal(await page.locator('#lease-table tbody tr').count(), 0);
  await page.goto('/registry/operators');
  const ops = await page.locator('#operator-table tbody td:first-child').allInnerTexts();
  assert.deepEqual(ops, [OP_2.name]);
  assert.equal(await page.locator('a:text-is("登记住房租赁企业")').count(), 0);
  // A lease of the first operator's unit is refused at the unit field.
  await page.goto('/registry/leases/new');
  const options = await page.locator('#unit_id option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(!options.includes(String(ids.unit1)), `another operator's unit is offered: ${options}`);
  await s.done();

  // An employer's HR account: no operators in its menu, none listed.
  const h = await pageAs('hr.one');
  assert.ok(!(await menu(h.page)).includes('住房租赁企业'));
  await h.page.goto('/registry/operators');
  assert.equal(await h.page.locator('#operator-table tbody tr').count(), 0);
  await h.done();
});

test('in English the kinds and statuses are English words', async () => {
  const s = await pageAs('district');
  const { page } = s;
  await page.goto('/lang/en?next=' + encodeURIComponent('/registry/units?sort=id'));
  assert.equal(urlPath(page), '/registry/units');
  const first = await text(page.locator('#unit-table tbody tr').first());
  assert.ok(first.includes('Talent apartment') && first.includes('Listed'), first);
  await page.goto(`/registry/leases/${ids.lease1}`);
  assert.ok((await text(page.locator('dl.summary'))).includes('Terminated early'));
  await screenshot(page, 'lease-en');
  await page.goto('/lang/zh?next=%2F');
  await s.done();
});

test('phone width (375×812): the housing pages fit the screen', async () => {
  const s = await pageAs('district', { viewport: PHONE });
  const { page } = s;
  const overflow = () => page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth);
  for (const [p, name] of [['/registry/operators', 'operators-phone'],
    [`/registry/operators/${ids.op1}`, 'operator-phone'],
    ['/registry/units', 'units-phone'], [`/registry/units/${ids.unit1}`, 'unit-phone'],
    ['/registry/units/new', 'unit-new-phone'], ['/registry/leases', 'leases-phone'],
    [`/registry/leases/${ids.lease1}`, 'lease-phone'], ['/registry/leases/new', 'lease-new-phone']]) {
    await page.goto(p);
    await screenshot(page, name);
    assert.equal(await overflow(), 0, `${p} scrolls sideways`);
  }
  await s.done();
});
