// registry.test.mjs - browser tests of the registry pages: registering an
// employer and a talent through the forms (errors first), the talent list's
// filters, the detail page with the reason-gated full number and the history
// of changes, editing without retyping personal data, exports, the CSV
// import with its preview and confirmation, an employer HR account that sees
// its own staff only, axe on every page and the phone width.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  PHONE, axe, keepServerLog, launchBrowser, openPage, removeDir, screenshot, signIn, startServer,
} from './lib.mjs';

const PW = 'Registry-Check-2026';
const EMPLOYER = '91310104MA1FL0001Q'; // registered through the form
const OTHER = '91310104MA1FL0002U'; // registered by the CLI import
const ID_1 = '310104199001010011';
const ID_BAD = '310104199001010012'; // wrong check character
const ID_HR = '31010419900101002X';
const ID_OTHER = '440304199202020064';

let server;
let browser;
const urlPath = (page) => new URL(page.url()).pathname;
const text = async (loc) => (await loc.innerText()).trim();

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // A window clerk who also reviews (an administrator may not review:
  // separation of duties).
  server.addUser('clerk', { name: '窗口审核员', roles: 'window_clerk,reviewer', password: PW,
    keep: true });
  server.addUser('hr.one', { name: '单位人事', roles: 'employer_hr', password: PW, keep: true,
    scope: `employer:${EMPLOYER}` });
  // Another employer with one person, which the HR account must never see.
  const dir = server.dir;
  fs.writeFileSync(path.join(dir, 'e.csv'), `统一社会信用代码,单位名称,行业\n${OTHER},某金融科技有限公司,金融科技\n`);
  fs.writeFileSync(path.join(dir, 't.csv'), `姓名,身份证号码,学历,用人单位统一社会信用代码,入职日期\n王外单位,${ID_OTHER},博士,${OTHER},2023-05-01\n`);
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

test('registering an employer: a bad credit code is refused with a linked error, a good one is registered',
  async () => {
    const s = await pageAs('clerk');
    s.expectStatus('/registry/employers');
    const { page } = s;
    await page.click('nav.main-nav a:text-is("用人单位")');
    assert.equal(urlPath(page), '/registry/employers');
    await page.click('a.button:text-is("登记用人单位")');
    assert.equal(urlPath(page), '/registry/employers/new');
    await page.fill('#credit_code', '91310104MA1FL00010');
    await page.fill('#name', '某人工智能研究院有限公司');
    let resp = await submit(page);
    assert.equal(resp.status(), 400);
    const summary = page.locator('.error-summary');
    assert.equal(await summary.locator('a').first().getAttribute('href'), '#credit_code');
    assert.equal(await page.getAttribute('#credit_code', 'aria-invalid'), 'true');
    assert.match(await page.getAttribute('#credit_code', 'aria-describedby'), /credit_code-error/);
    assert.equal(await page.inputValue('#name'), '某人工智能研究院有限公司', 'what was typed is kept');
    await checkAxe(page, 'employer-new-errors');

    await page.fill('#credit_code', EMPLOYER);
    await page.selectOption('#industry', 'ai');
    await page.selectOption('#registered', 'yes');
    resp = await submit(page);
    assert.equal(resp.status(), 201);
    assert.equal(await text(page.locator('h1')), '某人工智能研究院有限公司');
    assert.equal(await text(page.locator('main .notice[role=status]')), '已登记。');
    assert.match(await text(page.locator('dl.summary')), /人工智能/);
    await checkAxe(page, 'employer');
    await page.goto('/registry/employers');
    assert.equal(await page.locator('#employer-table tbody tr').count(), 2);
    await checkAxe(page, 'employers');
    await s.done();
  });

test('registering a talent: every bad field at once, then the record with its ID masked', async () => {
  const s = await pageAs('clerk');
  s.expectStatus('/registry/talents');
  const { page } = s;
  await page.goto('/registry/talents/new');
  await page.fill('#name', '李明');
  await page.fill('#id_number', ID_BAD);
  await page.fill('#phone', '1380013800');
  await page.fill('#employer', EMPLOYER);
  let resp = await submit(page);
  assert.equal(resp.status(), 400);
  const links = await page.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  for (const f of ['#id_number', '#phone', '#employed_since'])
    assert.ok(links.includes(f), `the error summary links to ${f} (got ${links})`);
  assert.equal(await page.inputValue('#name'), '李明');
  await checkAxe(page, 'talent-new-errors');

  await page.fill('#id_number', ID_1);
  await page.fill('#phone', '13800138000');
  await page.fill('#employed_since', '2025-07-01');
  await page.selectOption('#education', 'master');
  await page.fill('#bank_account', '6222000000000009');
  resp = await submit(page);
  assert.equal(resp.status(), 201);
  assert.equal(await text(page.locator('h1')), '李明');
  const details = await text(page.locator('main'));
  assert.ok(details.includes('310104********0011'), 'the ID number is shown masked');
  assert.ok(!details.includes(ID_1), 'the plain ID number is not on the page');
  assert.ok(details.includes('138****8000'));
  // The year of birth comes from the ID number; the date itself is what the
  // mask hides, so it is not shown.
  assert.match(await text(page.locator('dt:text-is("出生年份") + dd')), /^1990$/);
  assert.ok(!details.includes('1990-01-01'), 'the birth date would unmask the ID number');
  assert.ok(details.includes('登记'), 'the history lists the registration');
  await checkAxe(page, 'talent');
  await s.done();
});

test('the full number is shown only with a reason, and that view is in the history', async () => {
  const s = await pageAs('clerk');
  s.expectStatus('/registry/talents/1/unmask');
  s.expectStatus('/registry/talents/2/unmask');
  const { page } = s;
  await page.goto('/registry/talents?q=' + encodeURIComponent('李明'));
  await page.click('#talent-table a:text-is("李明")');
  await page.click('summary:text-is("查看完整号码")');
  await page.fill('#reason', '短');
  let resp = await submit(page, 'form[action$="/unmask"] button[type=submit]');
  assert.equal(resp.status(), 400);
  assert.equal(await page.getAttribute('#reason', 'aria-invalid'), 'true');
  assert.equal(await page.locator('code.secret').count(), 0);
  await page.selectOption('#field', 'id_number');
  await page.fill('#reason', '核对补贴申请材料');
  resp = await submit(page, 'form[action$="/unmask"] button[type=submit]');
  assert.equal(resp.status(), 200);
  assert.equal(await text(page.locator('code.secret')), ID_1);
  assert.ok((await text(page.locator('main table').last())).includes('查看完整号码'));
  // A reload does not show it again.
  await page.goto(page.url().replace(/\/unmask$/, ''));
  assert.equal(await page.locator('code.secret').count(), 0);
  await s.done();
});

test('editing keeps the personal data that is not retyped, and the history names the changed field',
  async () => {
    const s = await pageAs('clerk');
    const { page } = s;
    await page.goto('/registry/talents?q=' + encodeURIComponent('李明'));
    await page.click('#talent-table a:text-is("李明")');
    await page.click('a.button:text-is("修改")');
    assert.match(urlPath(page), /\/registry\/talents\/\d+\/edit$/);
    // the ID number and card are changed elsewhere (docs/registry.md, Payee
    // data): not asked for here, and the name is shown, not edited
    assert.equal(await page.locator('#id_number').count(), 0, 'the ID number is not in the form');
    assert.equal(await page.locator('#bank_account').count(), 0, 'the card is not in the form');
    assert.equal(await page.getAttribute('#name', 'readonly'), '');
    assert.equal(await page.inputValue('#employer'), EMPLOYER);
    await page.selectOption('#education', 'doctor');
    // the dated facts: the day a home was bought; the last day of an
    // employment, offered on an edit only
    assert.equal(await page.locator('#employed_until').count(), 1);
    await page.selectOption('#owns_housing', 'yes');
    await page.fill('#owns_housing_since', '2025-06-01');
    await checkAxe(page, 'talent-edit');
    const resp = await submit(page);
    assert.equal(resp.status(), 200);
    assert.equal(await text(page.locator('main .notice[role=status]')), '修改已保存。');
    const main = await text(page.locator('main'));
    assert.ok(main.includes('博士'));
    assert.ok(main.includes('在沪有住房日期 2025-06-01'), `the home's day: ${main}`);
    assert.ok(main.includes('310104********0011'), 'the ID number stayed');
    assert.ok(main.includes('138****8000'), 'the phone stayed');
    const history = await text(page.locator('main table').last());
    assert.ok(history.includes('修改') && history.includes('学历'), `history: ${history}`);
    await s.done();
  });

test('the talent list: filters by select and exact ID number, and exports the filtered rows masked',
  async () => {
    const s = await pageAs('clerk');
    const { page } = s;
    await page.goto('/registry/talents');
    assert.equal(await page.locator('#talent-table tbody tr').count(), 2);
    await checkAxe(page, 'talents');
    // Choosing in a select filters at once (htmx) and keeps the address.
    await Promise.all([
      page.waitForResponse((r) => r.url().includes('education=doctor') && r.request().headers()['hx-request']),
      page.selectOption('select#education', 'doctor'),
    ]);
    await page.waitForFunction(() => new URL(location.href).searchParams.get('education') === 'doctor');
    assert.equal(await page.locator('#talent-table tbody tr').count(), 2, 'both are doctors now');
    await page.selectOption('select#education', '');
    await page.fill('#q', ID_OTHER);
    await page.press('#q', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#talent-table tbody tr').length === 1);
    assert.equal(await text(page.locator('#talent-table tbody tr td').first()), '王外单位');
    // The export link carries the filter.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('a:text-is("导出 CSV")'),
    ]);
    assert.match(download.suggestedFilename(), /^人才-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    const lines = csv.trim().split(/\r\n/);
    assert.equal(lines.length, 2, `one row under the header: ${csv}`);
    assert.ok(lines[1].includes('440304********0064'));
    assert.ok(!csv.includes(ID_OTHER));
    await s.done();
  });

test('import: a bad row is listed with its row and column and nothing is stored; the fixed file imports after confirmation',
  async () => {
    const s = await pageAs('clerk');
    s.expectStatus('/registry/import');
    const { page } = s;
    await page.click('nav.main-nav a:text-is("批量导入")');
    assert.equal(urlPath(page), '/registry/import');
    await checkAxe(page, 'import');
    const [tpl] = await Promise.all([page.waitForEvent('download'),
      page.click('a:text-is("人才导入模板")')]);
    assert.ok(fs.readFileSync(await tpl.path(), 'utf8').startsWith('\uFEFF姓名,身份证号码'));

    const header = '姓名,身份证号码,学历,用人单位统一社会信用代码,入职日期\n';
    const bad = header + `张一,310104198511110034,本科,${EMPLOYER},2024-01-01\n` +
      `张二,310104198511110043,硕士,${EMPLOYER},2024-01-01\n` +
      `张三,310104198511110050,博士,${EMPLOYER},2024-01-01\n`;
    await page.setInputFiles('#file', { name: '人才名单.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    let resp = await submit(page);
    assert.equal(resp.status(), 422);
    const rows = await page.locator('main table tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
    assert.equal(rows.length, 1);
    assert.equal(rows[0][0], '3');
    assert.equal(rows[0][1], '身份证号码');
    assert.equal(await page.locator('button:text-matches("确认导入")').count(), 0);
    await checkAxe(page, 'import-problems');

    await page.goto('/registry/import');
    const good = bad.replace('310104198511110043', '310104198511110042');
    await page.setInputFiles('#file', { name: '人才名单.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    resp = await submit(page);
    assert.equal(resp.status(), 200);
    assert.match(await text(page.locator('main .notice')), /所有 3 行均无问题/);
    await checkAxe(page, 'import-preview');
    // Nothing is stored before the confirmation.
    const list = await openPage(browser, server.base);
    await list.page.goto('/signin');
    await signIn(list.page, 'clerk', PW);
    await list.page.goto('/registry/talents?q=' + encodeURIComponent('张'));
    assert.equal(await list.page.locator('#talent-table tbody tr').count(), 0);
    resp = await submit(page, 'button:text-is("确认导入 3 行")');
    assert.equal(resp.status(), 200);
    assert.match(await text(page.locator('main .notice')), /已导入 3 行/);
    await list.page.reload();
    assert.equal(await list.page.locator('#talent-table tbody tr').count(), 3);
    await list.done();
    await s.done();
  });

test("an employer's HR account sees its own staff only and registers only its own", async () => {
  const s = await pageAs('hr.one');
  const { page } = s;
  const items = await page.locator('nav.main-nav a').evaluateAll((as) => as.map((a) => a.textContent.trim()));
  // Housing: the listed units, and the leases of its own staff (no operators);
  // the subsidy queue (its staff's applications to attest), the notices and
  // the working-day calendar.
  assert.deepEqual(items, ['首页', '人才信息', '用人单位', '批量导入', '房源', '租约', '补贴申请办理',
    '公示', '工作日历']);
  await page.goto('/registry/talents');
  const names = await page.locator('#talent-table tbody tr td:first-child').allInnerTexts();
  assert.ok(!names.includes('王外单位'), `another employer's person is listed: ${names}`);
  assert.equal(names.length, 4); // 李明 and the three imported
  // Another employer's person by exact ID number: nothing.
  await page.goto('/registry/talents?q=' + ID_OTHER);
  assert.equal(await page.locator('#talent-table tbody tr').count(), 0);
  const other = await page.request.get('/api/v1/talents?q=' + ID_OTHER);
  assert.equal(other.status(), 200);
  assert.equal((await other.json()).total, 0);
  // Nor by address: the first person registered (by the CLI import) is theirs.
  s.expectStatus('/registry/talents/1');
  const resp = await page.goto('/registry/talents/1');
  assert.equal(resp.status(), 404);
  // The form starts with the employer's own code; no employers to register.
  await page.goto('/registry/talents/new');
  assert.equal(await page.inputValue('#employer'), EMPLOYER);
  await page.fill('#name', '赵人事');
  await page.fill('#id_number', ID_HR);
  await page.fill('#employed_since', '2025-01-01');
  assert.equal((await submit(page)).status(), 201);
  await page.goto('/registry/employers');
  assert.equal(await page.locator('#employer-table tbody tr').count(), 1);
  assert.equal(await page.locator('a:text-is("登记用人单位")').count(), 0);
  await s.done();
});

test('phone width (375×812): the talent list and a talent fit the screen', async () => {
  const s = await pageAs('clerk', { viewport: PHONE });
  const { page } = s;
  const overflow = () => page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.goto('/registry/talents');
  await screenshot(page, 'talents-phone');
  assert.equal(await overflow(), 0, 'the talent list scrolls sideways');
  await page.click('#talent-table a:text-is("李明")');
  await screenshot(page, 'talent-phone');
  assert.equal(await overflow(), 0, 'the talent page scrolls sideways');
  await s.done();
});
