// payee.test.mjs - browser tests of a person's payee data (docs/registry.md
// "Payee data"): the registry's edit form asks for no card or ID number and
// refuses a crafted form that changes them; the person changes their card on
// their own page (我的收款账户) and confirms it, and reads the notifications;
// a window clerk enters a change with the person present that only another
// clerk confirms; a reviewer corrects a name, the payments are held until a
// second reviewer reviews it; a card on record for another person is refused
// by the registration form; the person's page works without JavaScript; axe
// in Chinese and English; 390 px phones.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  axe, keepServerLog, launchBrowser, openPage, removeDir, screenshot, signIn, startServer,
} from './lib.mjs';

const PW = 'Payee-Check-2026';
const EMPLOYER = '91350100M000100Y43';
const PHONE390 = { width: 390, height: 844 };
// three people (GB 11643 check characters computed), each with a card
const PEOPLE = [
  ['张收款', '310104199001010011', '6222021001000000011'],
  ['李窗口', '31010419900101002X', '6222021001000000029'],
  ['王无脚本', '310104199001010038', '6222021001000000037'],
];
const NEW_CARD = '6222021001000000045';
const WINDOW_CARD = '6222021001000000052';
const NOJS_CARD = '6222021001000000060';

let server;
let browser;
const urlPath = (page) => new URL(page.url()).pathname;
const text = async (loc) => (await loc.innerText()).trim();

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const dir = server.dir;
  fs.writeFileSync(path.join(dir, 'e.csv'), `统一社会信用代码,单位名称,行业\n${EMPLOYER},某人工智能有限公司,人工智能\n`);
  fs.writeFileSync(path.join(dir, 't.csv'), '姓名,身份证号码,学历,用人单位统一社会信用代码,入职日期,银行卡号\n' +
    PEOPLE.map(([n, id, card]) => `${n},${id},硕士,${EMPLOYER},2024-03-01,${card}\n`).join(''));
  for (const [kind, file] of [['employers', 'e.csv'], ['talents', 't.csv']]) {
    const r = server.cli(['import', kind, path.join(dir, file), '--commit']);
    assert.equal(r.status, 0, `qianlima import ${kind}: ${r.stdout}${r.stderr}`);
  }
  server.addUser('clerk1', { name: '窗口 王一', roles: 'window_clerk', password: PW, keep: true });
  server.addUser('clerk2', { name: '窗口 李二', roles: 'window_clerk', password: PW, keep: true });
  server.addUser('rev1', { name: '审核 赵一', roles: 'reviewer', password: PW, keep: true });
  server.addUser('rev2', { name: '审核 钱二', roles: 'reviewer', password: PW, keep: true });
  server.addUser('hr.one', { name: '单位人事', roles: 'employer_hr', password: PW, keep: true,
    scope: `employer:${EMPLOYER}` });
  server.addUser('zhang', { name: '张收款', roles: 'talent', password: PW, keep: true, scope: 'self:1' });
  server.addUser('wang', { name: '王无脚本', roles: 'talent', password: PW, keep: true, scope: 'self:3' });
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

const overflow = (page) => page.evaluate(() =>
  document.documentElement.scrollWidth - document.documentElement.clientWidth);

test('the edit form asks for no card or ID number, and a form that changes them is refused', async () => {
  const s = await pageAs('hr.one');
  s.expectStatus('/registry/talents/1');
  s.expectStatus('/registry/talents/1/payee');
  const { page } = s;
  await page.goto('/registry/talents/1/edit');
  assert.equal(await page.locator('#bank_account').count(), 0);
  assert.equal(await page.locator('#id_number').count(), 0);
  assert.equal(await page.getAttribute('#name', 'readonly'), '');
  assert.match(await text(page.locator('main p.hint').first()), /我的收款账户/);
  await checkAxe(page, 'payee-talent-edit');
  // a crafted form: the card and the name changed
  await page.evaluate((card) => {
    const f = document.querySelector('main form.form');
    const i = document.createElement('input');
    i.type = 'hidden';
    i.name = 'bank_account';
    i.value = card;
    f.appendChild(i);
    document.querySelector('#name').removeAttribute('readonly');
  }, NEW_CARD);
  await page.fill('#name', '改个名字');
  const resp = await submit(page, 'main form.form button[type=submit]');
  assert.equal(resp.status(), 403);
  const summary = await text(page.locator('.error-summary'));
  assert.match(summary, /此处不能修改银行卡/);
  assert.match(summary, /此处不能修改姓名/);
  assert.equal(await page.getAttribute('#name', 'aria-invalid'), 'true');
  await page.goto('/registry/talents/1');
  const main = await text(page.locator('main'));
  assert.ok(main.includes('张收款'), 'the name is unchanged');
  assert.ok(main.includes('622202*********0011'), 'the card is unchanged');
  // HR has no payee page
  assert.equal((await page.goto('/registry/talents/1/payee')).status(), 403);
  await s.done();
});

test('the person changes their card on their own page and confirms it (390 px)', async () => {
  const s = await pageAs('zhang', { viewport: PHONE390 });
  s.expectStatus('/payee/changes');
  const { page } = s;
  await page.click('nav.main-nav a:text-is("我的收款账户")');
  assert.equal(urlPath(page), '/payee');
  assert.match(await text(page.locator('dl.summary')), /622202\*{9}0011/);
  await checkAxe(page, 'payee-self');
  assert.equal(await overflow(page), 0, 'the page scrolls sideways');
  // every bad field at once, linked
  await page.fill('#bank_account', '4111');
  await page.fill('#reason', '短');
  let resp = await submit(page, 'form[action="/payee/changes"] button[type=submit]');
  assert.equal(resp.status(), 400);
  const links = await page.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(links, ['#bank_account', '#reason']);
  // each error names its field by the label on the form, not by its key
  const summaryText = await text(page.locator('.error-summary'));
  assert.doesNotMatch(summaryText, /bank_account|reason/);
  assert.match(summaryText, /银行卡号：[\s\S]*原因：/);
  assert.doesNotMatch(await text(page.locator('#reason-error')), /reason/);
  assert.equal(await page.inputValue('#reason'), '短', 'what was typed is kept');
  await checkAxe(page, 'payee-self-errors');
  // asked: waits for the person's confirmation; the card is unchanged
  await page.fill('#bank_account', NEW_CARD);
  await page.fill('#reason', '原卡挂失，更换新卡');
  resp = await submit(page, 'form[action="/payee/changes"] button[type=submit]');
  assert.equal(resp.status(), 201);
  assert.match(await text(page.locator('#pending-h')), /待确认/);
  assert.match(await text(page.locator('dl.summary').first()), /0011/);
  assert.equal(await page.locator('form[action="/payee/changes"]').count(), 0, 'one change at a time');
  await checkAxe(page, 'payee-self-pending');
  resp = await submit(page, 'form[action$="/confirm"] button[type=submit]');
  assert.equal(resp.status(), 200);
  assert.equal(await text(page.locator('main .notice[role=status]')), '银行卡已变更。');
  assert.match(await text(page.locator('dl.summary').first()), /622202\*{9}0045/);
  const notes = page.locator('#notifications-h + p + ul li');
  assert.equal(await notes.count(), 2);
  assert.match(await text(notes.first()), /已变更为 622202\*{9}0045/);
  assert.ok(!(await text(page.locator('main'))).includes(NEW_CARD), 'no card in the clear');
  assert.equal(await overflow(page), 0);
  // in English
  await page.goto('/lang/en?next=%2Fpayee');
  assert.equal(await text(page.locator('h1')), 'My payment account');
  assert.match(await text(notes.first()), /Your payment card is now/);
  await checkAxe(page, 'payee-self-english');
  await s.done();
});

test('a window clerk enters a change with the person present; another clerk confirms it', async () => {
  const s = await pageAs('clerk1');
  s.expectStatus('/registry/talents/2/payee/changes');
  const { page } = s;
  await page.goto('/registry/talents/2');
  await page.click('a.button:text-is("收款账户与身份信息")');
  assert.equal(urlPath(page), '/registry/talents/2/payee');
  await checkAxe(page, 'payee-staff');
  await page.fill('#bank_account', WINDOW_CARD);
  await page.fill('#reason', '本人持新卡到窗口办理');
  let resp = await submit(page, 'form[action$="/payee/changes"] button[type=submit]');
  assert.equal(resp.status(), 400);
  assert.equal(await page.locator('.error-summary a').first().getAttribute('href'), '#person_present');
  await checkAxe(page, 'payee-staff-errors');
  await page.check('#person_present');
  resp = await submit(page, 'form[action$="/payee/changes"] button[type=submit]');
  assert.equal(resp.status(), 201);
  assert.equal(await page.locator('form[action$="/confirm"]').count(), 0, 'not by the clerk who entered it');
  assert.match(await text(page.locator('#pending-h + dl + p')), /另一名窗口工作人员/);
  await s.done();

  const s2 = await pageAs('clerk2');
  await s2.page.goto('/registry/talents/2/payee');
  resp = await submit(s2.page, 'form[action$="/confirm"] button[type=submit]');
  assert.equal(resp.status(), 200);
  assert.match(await text(s2.page.locator('dl.summary').first()), /622202\*{9}0052/);
  const row = await text(s2.page.locator('#changes-h + div table tbody tr').first());
  assert.match(row, /已确认生效/);
  assert.match(row, /窗口 李二|clerk2/);
  await checkAxe(s2.page, 'payee-staff-confirmed');
  await s2.done();
});

test('a reviewer corrects a name; payments are held until a second reviewer reviews it', async () => {
  const s = await pageAs('rev1');
  s.expectStatus('/registry/talents/2/identity');
  const { page } = s;
  await page.goto('/registry/talents/2/payee');
  await page.fill('#new_name', '李窗囗');
  let resp = await submit(page, 'form[action$="/identity"] button[type=submit]');
  assert.equal(resp.status(), 400, 'a reason is needed');
  assert.equal(await page.locator('.error-summary a').first().getAttribute('href'), '#correction_reason');
  // the reason's hint is about identity papers, not a lost bank card
  assert.doesNotMatch(await text(page.locator('#correction_reason-hint')), /挂失|银行/);
  assert.match(await text(page.locator('#correction_reason-hint')), /身份证件/);
  await page.fill('#correction_reason', '姓名录入有误，核对原件');
  resp = await submit(page, 'form[action$="/identity"] button[type=submit]');
  assert.equal(resp.status(), 201);
  assert.match(await text(page.locator('h1')), /李窗囗/);
  // what was corrected, old -> new; no ID number line for a name correction
  const change = page.locator('section[aria-labelledby=corrections-h] td.change');
  assert.match(await text(change), /^姓名\s+李窗口[\s\S]*李窗囗$/);
  assert.doesNotMatch(await text(change), /身份证号码/);
  assert.match(await text(page.locator('main .notice.important')), /暂缓发放/);
  assert.equal(await page.locator('form[action$="/review"]').count(), 0, 'not by the same reviewer');
  await checkAxe(page, 'payee-corrected');
  await s.done();

  // the second reviewer on a phone: the review form is on the screen, not
  // in the last column of a table scrolled sideways
  const s2 = await pageAs('rev2', { viewport: PHONE390 });
  s2.expectStatus('/registry/identity-corrections/1/review');
  await s2.page.goto('/registry/talents/2/payee');
  assert.equal(await overflow(s2.page), 0, 'the page scrolls sideways');
  for (const sel of ['input[id^="note-"]', 'form[action$="/review"] button[type=submit]',
    'section[aria-labelledby=corrections-h] td.change']) {
    const box = await s2.page.locator(sel).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE390.width, `${sel} is off-screen: ${JSON.stringify(box)}`);
  }
  await checkAxe(s2.page, 'payee-review-phone');
  resp = await submit(s2.page, 'form[action$="/review"] button[type=submit]');
  assert.equal(resp.status(), 400, 'a note is needed');
  await s2.page.fill('input[id^="note-"]', '复核无误，恢复发放');
  resp = await submit(s2.page, 'form[action$="/review"] button[type=submit]');
  assert.equal(resp.status(), 200);
  assert.equal(await s2.page.locator('main .notice.important').count(), 0, 'no longer held');
  await s2.page.goto('/lang/en?next=%2Fregistry%2Ftalents%2F2%2Fpayee');
  await checkAxe(s2.page, 'payee-staff-english');
  await s2.done();
});

test('the registration form refuses a card on record for another person', async () => {
  const s = await pageAs('clerk1');
  s.expectStatus('/registry/talents');
  const { page } = s;
  await page.goto('/registry/talents/new');
  await page.fill('#name', '重卡');
  await page.fill('#id_number', '310104199001010046');
  await page.selectOption('#education', 'master');
  await page.fill('#bank_account', PEOPLE[2][2]);
  const resp = await submit(page, 'main form.form button[type=submit]');
  assert.equal(resp.status(), 409);
  assert.equal(await page.locator('.error-summary a').first().getAttribute('href'), '#bank_account');
  assert.match(await text(page.locator('#bank_account-error')), /其他人员/);
  await s.done();
});

test('without JavaScript the person asks for and confirms a change with plain forms', async () => {
  const context = await browser.newContext({ baseURL: server.base, javaScriptEnabled: false,
    locale: 'zh-CN', viewport: PHONE390 });
  const page = await context.newPage();
  await page.goto('/signin');
  await signIn(page, 'wang', PW);
  await page.goto('/payee');
  await page.fill('#bank_account', NOJS_CARD);
  await page.fill('#reason', '更换工资卡');
  await page.click('form[action="/payee/changes"] button[type=submit]');
  await page.waitForLoadState('load');
  assert.match(await text(page.locator('#pending-h')), /待确认/);
  await page.click('form[action$="/confirm"] button[type=submit]');
  await page.waitForLoadState('load');
  assert.equal(await text(page.locator('main .notice[role=status]')), '银行卡已变更。');
  assert.match(await text(page.locator('dl.summary').first()), /622202\*{9}0060/);
  await screenshot(page, 'payee-no-js');
  await context.close();
});

test('the person asks for a card that fails the Luhn check, and cancels it apart from confirming (390 px)', async () => {
  const s = await pageAs('zhang', { viewport: PHONE390 });
  s.expectStatus('/payee/changes');
  const { page } = s;
  await page.goto('/payee');
  await page.fill('#bank_account', '6222021001000000078');
  await page.fill('#reason', '更换工资卡');
  const resp = await submit(page, 'form[action="/payee/changes"] button[type=submit]');
  assert.equal(resp.status(), 201);
  // the person checks their own card, not "the card holder"
  const warning = await text(page.locator('main .notice.important').first());
  assert.match(warning, /Luhn/);
  assert.match(warning, /您的银行卡/);
  assert.doesNotMatch(warning, /持卡人/);
  // the optional note belongs to cancelling, in a group of its own below confirming
  const cancel = page.locator('.cancel-box');
  assert.equal(await cancel.locator('h3').count(), 1);
  assert.equal(await cancel.locator('#note').count(), 1);
  assert.equal(await cancel.locator('form[action$="/cancel"]').count(), 1);
  assert.equal(await cancel.locator('form[action$="/confirm"]').count(), 0);
  assert.equal(await page.locator('form[action$="/confirm"] #note').count(), 0);
  await checkAxe(page, 'payee-self-pending-phone');
  await page.fill('#note', '卡号填错');
  await submit(page, 'form[action$="/cancel"] button[type=submit]');
  assert.equal(await text(page.locator('main .notice[role=status]')), '变更已取消。');
  // the history's state is on the screen of a phone
  assert.equal(await overflow(page), 0, 'the page scrolls sideways');
  const state = page.locator('section[aria-labelledby=changes-h] tbody tr').first().locator('td').nth(1);
  assert.match(await text(state), /已取消/);
  const box = await state.boundingBox();
  assert.ok(box && box.x + box.width <= PHONE390.width, `the state is off-screen: ${JSON.stringify(box)}`);
  await checkAxe(page, 'payee-self-cancelled-phone');
  await s.done();
});
