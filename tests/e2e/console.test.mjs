// console.test.mjs - browser tests of the console: signing in (with the
// first-password change), wrong passwords and the lock-out, the language
// switch, creating a user, signing out; axe on every page, screenshots at
// desktop and phone widths, and no console errors anywhere.
//
// One server (fresh store in a temporary directory) for the file, one
// Chromium, a fresh browser context per test. Run by tests/e2e/run.sh;
// QL_BIN names the binary under test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PHONE, SECURITY_PW, axe, axeFindings, axeReview, keepServerLog, beijingClock, changePassword,
  launchBrowser, openPage, removeDir, screenshot, signIn, startServer, submitSignin,
} from './lib.mjs';

const TEMP_PW = 'Some-Password-2026'; // what the CLI gives new accounts here
const ADMIN_PW = 'Tiger-Moon-2027'; // root's password after its first change

let server;
let browser;

const path = (page) => new URL(page.url()).pathname;
const text = async (loc) => (await loc.innerText()).trim();

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // alice: test 1 signs in for the first time. root: the administrator the
  // other tests use (its first change is made here). bob: locked out by
  // test 3. carol: an account whose page the administration tests open.
  server.addUser('alice', { name: '张三', roles: 'admin', password: TEMP_PW });
  server.addUser('root', { name: '系统管理员', roles: 'admin', password: TEMP_PW });
  server.addUser('bob', { name: '李四', roles: 'reviewer', password: TEMP_PW });
  server.addUser('carol', { name: '赵六', roles: 'auditor', password: TEMP_PW });
  // dave: locked by someone else's guessing while his own browser still
  // gets in (test 3b).
  server.addUser('dave', { name: '钱七', roles: 'window_clerk', password: TEMP_PW });
  const s = await openPage(browser, server.base);
  await submitSignin(s.page, 'root', TEMP_PW);
  assert.equal(path(s.page), '/account/password');
  await changePassword(s.page, TEMP_PW, ADMIN_PW);
  assert.equal(await s.page.locator('.notice[role=status]').count(), 1, 'root: password not changed');
  await s.done();
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    await server.stop();
    keepServerLog(server);
    removeDir(server.dir);
  }
  for (const [what, list] of [['violation', axeFindings], ['needs review', axeReview]]) {
    process.stderr.write(`axe: ${list.length} ${what} result(s) in all\n`);
    for (const f of list)
      process.stderr.write(`  ${f.page}: [${f.impact}] ${f.id}: ${f.help} (${f.nodes.length} element(s), ` +
        `first ${f.nodes[0]})\n`);
  }
});

// An administrator's page, signed in as root.
async function adminPage(opts) {
  const s = await openPage(browser, server.base, opts);
  await s.page.goto('/signin');
  await signIn(s.page, 'root', ADMIN_PW);
  return s;
}

// ---- 1. signing in -------------------------------------------------------

test('sign-in with the first-password change lands on the home page with the admin menu',
  async () => {
    const s = await openPage(browser, server.base);
    const { page } = s;
    await page.goto('/');
    assert.equal(path(page), '/signin', 'an anonymous visit to / goes to /signin');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal(await text(page.locator('h1')), '登录千里马人才服务平台');

    const resp = await submitSignin(page, 'alice', TEMP_PW);
    assert.ok(resp.status() >= 300 && resp.status() < 400, `POST /signin answered ${resp.status()}`);
    assert.equal(path(page), '/account/password', 'a new account must change its password first');
    await assert.doesNotReject(page.locator('.notice', { hasText: '首次登录或口令被重置后' })
      .waitFor(), 'the must-change notice is shown');
    assert.equal(await page.locator('nav.main-nav').count(), 0, 'no menu before the change');
    // Other pages are closed until the password is changed.
    await page.goto('/admin/users');
    assert.equal(path(page), '/account/password', '/admin/users before the change');

    await changePassword(page, TEMP_PW, 'Spring-Rain-2027');
    assert.equal(await text(page.locator('main .notice[role=status]')),
      '口令已修改。其他设备上的登录已退出。');

    await page.goto('/');
    assert.equal(path(page), '/');
    assert.equal(await text(page.locator('h1')), '欢迎，张三');
    assert.match(await text(page.locator('header .me')), /张三/);
    const menu = page.locator('nav.main-nav a');
    const items = await menu.evaluateAll((as) => as.map((a) => [a.textContent.trim(),
      a.getAttribute('href')]));
    assert.deepEqual(items, [['首页', '/'], ['人才信息', '/registry/talents'],
      ['用人单位', '/registry/employers'], ['批量导入', '/registry/import'],
      ['房源', '/registry/units'], ['租约', '/registry/leases'], ['住房租赁企业', '/registry/operators'],
      ['公示', '/subsidy/notices'], ['补贴政策', '/policies'], ['工作日历', '/calendar'],
      ['用户管理', '/admin/users'], ['待确认授权', '/admin/role-requests'],
      ['角色与权限', '/admin/roles'], ['操作日志', '/admin/audit'],
      ['登录日志', '/admin/signins']]);
    assert.equal(await page.locator('nav.main-nav a[aria-current=page]').getAttribute('href'), '/');
    // The next sign-in goes straight home.
    await s.context.clearCookies();
    await page.goto('/signin');
    await signIn(page, 'alice', 'Spring-Rain-2027');
    await s.done();
  });

// ---- 2. a wrong password -------------------------------------------------

test('a wrong password stays on /signin with an error summary linking to the password field',
  async () => {
    const s = await openPage(browser, server.base);
    s.expectStatus('/signin'); // the refused sign-in answers 401
    const { page } = s;
    await page.goto('/signin');
    const resp = await submitSignin(page, 'root', 'Not-The-Password-1');
    assert.equal(resp.status(), 401);
    assert.equal(path(page), '/signin');
    assert.equal(await page.locator('#username').inputValue(), 'root', 'the username is kept');
    assert.equal(await page.locator('#password').inputValue(), '', 'the password is not');

    const summary = page.locator('.error-summary');
    await summary.waitFor();
    assert.equal(await summary.getAttribute('role'), 'alert');
    assert.equal(await text(summary.locator('h2')), '请修改以下问题');
    const link = summary.locator('a[href="#password"]');
    assert.equal(await text(link), '用户名或口令错误');
    await link.focus();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('href')),
      '#password', 'the summary link takes the focus');
    await link.click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password',
      'following the link focuses the password field');

    assert.equal(await text(page.locator('#password-error')), '用户名或口令错误');
    assert.equal(await page.getAttribute('#password', 'aria-invalid'), 'true');
    assert.match(await page.getAttribute('#password', 'aria-describedby'), /\bpassword-error\b/);
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    await s.done();
  });

// ---- 3. the lock-out -----------------------------------------------------

test('five wrong passwords lock the account until a stated time; the right one is refused too',
  async () => {
    const s = await openPage(browser, server.base);
    s.expectStatus('/signin');
    const { page } = s;
    await page.goto('/signin');
    const errorText = () => text(page.locator('.error-summary li'));
    for (let i = 1; i <= 4; i++) {
      const resp = await submitSignin(page, 'bob', `Wrong-Password-${i}`);
      assert.equal(resp.status(), 401, `attempt ${i}`);
      assert.equal(await errorText(), '用户名或口令错误', `attempt ${i}`);
    }
    const t0 = Date.now();
    const resp = await submitSignin(page, 'bob', 'Wrong-Password-5');
    const t1 = Date.now();
    assert.equal(resp.status(), 403, 'the fifth wrong password');
    assert.equal(path(page), '/signin');
    const msg = await errorText();
    const m = new RegExp('^登录失败次数过多：该账户已锁定至 (\\d\\d:\\d\\d)（北京时间），此前未登录过该账户的' +
      '浏览器暂不能登录；请届时再试、使用以前登录过的浏览器，或联系管理员解锁$').exec(msg);
    assert.ok(m, `lock-out message: ${msg}`);
    const allowed = new Set([beijingClock(t0 + 15 * 60e3 - 1000), beijingClock(t1 + 15 * 60e3 + 1000)]);
    assert.ok(allowed.has(m[1]), `locked until ${m[1]}, expected ${[...allowed].join(' or ')} ` +
      '(15 minutes from now, Beijing time)');
    // The summary links to the username field, and the field shows it too.
    assert.equal(await page.locator('.error-summary a[href="#username"]').count(), 1);
    assert.equal(await text(page.locator('#username-error')), msg);

    const resp2 = await submitSignin(page, 'bob', TEMP_PW);
    assert.equal(resp2.status(), 403, 'the right password while locked');
    assert.equal(path(page), '/signin');
    assert.equal(await errorText(), msg, 'the same locked message');
    const cookies = await s.context.cookies();
    assert.ok(!cookies.some((c) => c.name === 'ql_session' && c.value), 'no session was given');
    await page.goto('/');
    assert.equal(path(page), '/signin');
    await s.done();
  });

test('guessing from another browser does not lock the owner out of a browser that signed in before',
  async () => {
    // The owner signs in once (first sign-in: on to the password page).
    const own = await openPage(browser, server.base);
    own.expectStatus('/signin');
    await submitSignin(own.page, 'dave', TEMP_PW);
    assert.equal(path(own.page), '/account/password');
    assert.ok((await own.context.cookies()).some((c) => c.name === 'ql_device' && c.httpOnly),
      'a known-device cookie (HttpOnly) is kept');
    await own.page.click('header form[action="/signout"] button');
    await own.page.waitForURL('**/signin');
    // Someone else guesses five times: locked for browsers new to it.
    const other = await openPage(browser, server.base);
    other.expectStatus('/signin');
    for (let i = 1; i <= 5; i++) await submitSignin(other.page, 'dave', `Wrong-Guess-${i}`);
    const refused = await submitSignin(other.page, 'dave', TEMP_PW);
    assert.equal(refused.status(), 403, 'the right password from a new browser while locked');
    // The owner's browser gets in with the right password.
    const resp = await submitSignin(own.page, 'dave', TEMP_PW);
    assert.ok(resp.status() >= 300 && resp.status() < 400, `the owner's browser: ${resp.status()}`);
    assert.equal(path(own.page), '/account/password');
    await other.done();
    await own.done();
  });

// ---- 4. the language switch ------------------------------------------------

test('the language switch turns the console into English, remembers it, and switches back',
  async () => {
    const s = await openPage(browser, server.base);
    const { page } = s;
    await page.goto('/signin');
    const sw = page.locator('header a.lang-switch');
    assert.equal(await text(sw), 'English');
    assert.equal(await sw.getAttribute('lang'), 'en');
    await Promise.all([page.waitForURL('**/signin'), sw.click()]);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await text(page.locator('h1')), 'Sign in to Qianlima');
    assert.equal(await text(page.locator('label[for=username]')), 'Username');

    // Remembered across signing in and from page to page.
    await signIn(page, 'root', ADMIN_PW);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await text(page.locator('h1')), 'Welcome, 系统管理员');
    await page.click('nav.main-nav a[href="/admin/users"]');
    await page.waitForURL('**/admin/users');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await text(page.locator('h1')), 'Users');
    assert.equal(await text(sw), '中文');
    assert.equal(await sw.getAttribute('lang'), 'zh');
    await screenshot(page, 'users-en');

    // ...and back, staying on the same page.
    await Promise.all([page.waitForURL('**/admin/users'), sw.click()]);
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal(await text(page.locator('h1')), '用户');
    await page.goto('/admin/roles');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal(await text(page.locator('h1')), '角色与权限');
    await s.done();
  });

// ---- 5. creating a user ----------------------------------------------------

test('creating a user: an invalid username is refused with a linked error, a valid one is created',
  async () => {
    const s = await adminPage();
    s.expectStatus('/admin/users'); // the refused form answers 400
    const { page } = s;
    await page.goto('/admin/users');
    const before = await text(page.locator('#user-table .count'));
    await page.click('a[href="/admin/users/new"]');
    await page.waitForURL('**/admin/users/new');
    assert.equal(await text(page.locator('h1')), '新建用户');

    await page.fill('#username', 'Wang Wu');
    await page.fill('#display_name', '王五');
    await page.check('#role-reviewer');
    await page.selectOption('#scope', 'district');
    const [bad] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('form.form button[type=submit]'),
    ]);
    await page.waitForLoadState('load');
    assert.equal(bad.status(), 400);
    const usernameMsg = '用户名只能包含小写字母、数字、“.”、“_”和“-”';
    const link = page.locator('.error-summary a[href="#username"]');
    assert.equal(await text(link), usernameMsg);
    assert.equal(await text(page.locator('#username-error')), usernameMsg);
    assert.equal(await page.getAttribute('#username', 'aria-invalid'), 'true');
    assert.match(await page.getAttribute('#username', 'aria-describedby'), /\busername-error\b/);
    await link.click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'username');
    // What was typed is kept.
    assert.equal(await page.locator('#username').inputValue(), 'Wang Wu');
    assert.equal(await page.locator('#display_name').inputValue(), '王五');
    assert.ok(await page.locator('#role-reviewer').isChecked());
    // Nothing was created.
    const r = await page.request.get('/admin/users?q=wang');
    assert.match(await r.text(), /没有记录/);

    await page.fill('#username', 'wang.wu');
    const [good] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('form.form button[type=submit]'),
    ]);
    await page.waitForLoadState('load');
    assert.equal(good.status(), 200);
    assert.equal(await text(page.locator('main .notice[role=status]').first()), '用户已创建。');
    assert.equal(await text(page.locator('h1')), '王五 (wang.wu)');
    const secret = await text(page.locator('.notice.important code.secret'));
    assert.match(secret, /^\S{12,}$/, 'a temporary password is shown');
    await screenshot(page, 'user-created');

    // Shown once: the user's own page does not show it again.
    await page.goto('/admin/users');
    assert.notEqual(await text(page.locator('#user-table .count')), before);
    const row = page.locator('#user-table tr', { has: page.locator('a', { hasText: 'wang.wu' }) });
    assert.equal(await row.count(), 1, 'the user is listed');
    assert.match(await text(row), /王五/);
    // a system administrator's grant of the reviewer role waits for a second person
    assert.match(await text(row), /审核人员 （待确认）/);
    await row.locator('a').click();
    await page.waitForURL(/\/admin\/users\/\d+$/);
    assert.equal(await text(page.locator('h1')), '王五 (wang.wu)');
    assert.equal(await page.locator('code.secret').count(), 0, 'the temporary password is gone');
    assert.equal(await page.content().then((h) => h.includes(secret)), false);

    // The live search (htmx): typing swaps the table without a page load.
    await page.goto('/admin/users');
    await page.evaluate(() => { window.__samePage = true; });
    const [sr] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).searchParams.get('q') === '王五' &&
        r.request().headers()['hx-request'] === 'true'),
      page.locator('#q').pressSequentially('王五', { delay: 20 }),
    ]);
    assert.equal(sr.status(), 200);
    await page.waitForFunction(() => document.querySelectorAll('#user-table tbody tr').length === 1);
    assert.ok(await page.evaluate(() => window.__samePage), 'no full page load');
    assert.match(await text(page.locator('#user-table tbody tr')), /wang\.wu/);
    assert.equal(await text(page.locator('#user-table .count')), '共 1 条');
    assert.equal(new URL(page.url()).searchParams.get('q'), '王五', 'the address keeps the search');

    // The temporary password works (and must be changed).
    const s2 = await openPage(browser, server.base);
    await submitSignin(s2.page, 'wang.wu', secret);
    assert.equal(path(s2.page), '/account/password');
    await s2.done();
    await s.done();
  });

// ---- 5b. separation of duties ---------------------------------------------------

test('a money role an administrator grants waits until the security administrator confirms it',
  async () => {
    const s = await adminPage();
    const { page } = s;
    await page.goto('/admin/users?q=wang.wu');
    await page.click('#user-table a:text-is("wang.wu")');
    await page.waitForURL(/\/admin\/users\/\d+$/);
    const userUrl = page.url();
    assert.match(await text(page.locator('dl.summary')), /审核人员 （待确认）/);
    // The administrator who asked sees it waiting, without a button to confirm it.
    await page.click('main a[href="/admin/role-requests"]');
    await page.waitForURL('**/admin/role-requests');
    const row = page.locator('table.data tbody tr', { hasText: 'wang.wu' });
    assert.equal(await row.count(), 1);
    assert.match(await text(row), /审核人员/);
    assert.match(await text(row), /root/);
    assert.equal(await row.locator('button:text-is("确认授予")').count(), 0);
    assert.match(await text(row), /须由另一人确认/);
    await screenshot(page, 'role-requests');
    assert.deepEqual(await axe(page, 'role-requests'), []);
    // Two duty roles on one account: refused beside the field, nothing changed.
    s.expectStatus(new URL(userUrl).pathname + '/roles');
    await page.goto(userUrl);
    await page.check('#grant-finance');
    const [bad] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('form[action$="/roles"] button[type=submit]'),
    ]);
    await page.waitForLoadState('load');
    assert.equal(bad.status(), 400);
    assert.match(await text(page.locator('.error-summary a[href="#roles"]')), /职责分离/);
    assert.deepEqual(await axe(page, 'user-roles-error'), []);
    await s.done();

    // The security administrator confirms it.
    const sec = await openPage(browser, server.base);
    await sec.page.goto('/signin');
    await signIn(sec.page, 'e2e.security', SECURITY_PW);
    const menu = await sec.page.locator('nav.main-nav a').evaluateAll((as) =>
      as.map((a) => a.textContent.trim()));
    assert.deepEqual(menu, ['首页', '公示', '工作日历', '用户管理', '待确认授权', '角色与权限']);
    await sec.page.click('nav.main-nav a:text-is("待确认授权")');
    const secRow = sec.page.locator('table.data tbody tr', { hasText: 'wang.wu' });
    await Promise.all([
      sec.page.waitForResponse((r) => r.request().method() === 'POST'),
      secRow.locator('button:has-text("确认授予")').click(),
    ]);
    await sec.page.waitForLoadState('load');
    assert.equal(await text(sec.page.locator('main .notice[role=status]')), '已确认，角色已生效。');
    assert.equal(await sec.page.locator('table.data tbody tr', { hasText: 'wang.wu' }).count(), 0);
    await sec.page.goto(userUrl);
    const roles = await text(sec.page.locator('dl.summary dd').first());
    assert.match(roles, /审核人员/);
    assert.doesNotMatch(roles, /待确认/);
    await screenshot(sec.page, 'user-roles-security');
    assert.deepEqual(await axe(sec.page, 'user-roles-security'), []);
    await sec.done();

    // The audit log names who granted what.
    const a = await adminPage();
    await a.page.goto('/admin/audit?action=user.role_confirm');
    assert.match(await text(a.page.locator('main table')), /e2e\.security.*roles_granted.*reviewer/s);
    await a.done();
  });

// ---- 5c. administration on a phone, and the new-user form's words ----------------

const PHONE390 = { width: 390, height: 844 };
const sideways = (page) => page.evaluate(() => document.documentElement.scrollWidth);
async function onScreen(loc, what) {
  const box = await loc.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE390.width,
    `${what} is off-screen at 390 px: ${JSON.stringify(box)}`);
}

test('on a 390 px phone the grants to confirm and the users list fit, with each account\'s state',
  async () => {
    // a finance grant waiting for the security administrator
    server.addUser('erin', { name: '财务 孙五', roles: 'finance', password: TEMP_PW, confirm: false });
    const sec = await openPage(browser, server.base, { viewport: PHONE390, locale: 'en-US' });
    await sec.page.goto('/signin');
    await signIn(sec.page, 'e2e.security', SECURITY_PW);
    await sec.page.goto('/lang/en?next=%2Fadmin%2Frole-requests');
    const row = sec.page.locator('table.data tbody tr', { hasText: 'erin' });
    assert.equal(await row.count(), 1);
    assert.ok(await sideways(sec.page) <= PHONE390.width, 'the page scrolls sideways');
    await onScreen(row.locator('button:has-text("Confirm")'), 'Confirm');
    await onScreen(row.locator('button:has-text("Refuse")'), 'Refuse');
    await screenshot(sec.page, 'role-requests-en-phone');
    assert.deepEqual(await axe(sec.page, 'role-requests-en-phone'), []);
    await sec.done();

    // a disabled account: its state stays on the screen of a phone
    const s = await adminPage({ viewport: PHONE390 });
    await s.page.goto('/admin/users?q=carol');
    await s.page.click('#user-table a:text-is("carol")');
    await s.page.waitForURL(/\/admin\/users\/\d+$/);
    await Promise.all([
      s.page.waitForResponse((r) => r.request().method() === 'POST'),
      s.page.click('form[action$="/disable"] button[type=submit]'),
    ]);
    await s.page.waitForLoadState('load');
    await s.page.goto('/admin/users');
    assert.ok(await sideways(s.page) <= PHONE390.width, 'the users list scrolls sideways');
    const carol = s.page.locator('#user-table tbody tr', { has: s.page.locator('a', { hasText: 'carol' }) });
    const state = carol.locator('td[data-label="状态"]');
    assert.equal(await text(state), '已停用');
    await onScreen(state, 'the state of a disabled account');
    await screenshot(s.page, 'users-phone');
    assert.deepEqual(await axe(s.page, 'users-phone'), []);
    await s.done();
  });

test('the new-user form names a role bound to a scope by their titles, not their codes', async () => {
  const s = await adminPage();
  s.expectStatus('/admin/users');
  const { page } = s;
  await page.goto('/admin/users/new');
  assert.match(await text(page.locator('#scope_id-hint')), /本人.*人才编号/);
  await page.fill('#username', 'zhou.ba');
  await page.fill('#display_name', '周八');
  await page.check('#role-talent');
  await page.selectOption('#scope', 'district');
  const [bad] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.click('form.form button[type=submit]'),
  ]);
  await page.waitForLoadState('load');
  assert.equal(bad.status(), 400);
  const msg = await text(page.locator('.error-summary a[href="#scope"]'));
  assert.match(msg, /人才（申请人）/);
  assert.match(msg, /“本人”/);
  assert.match(msg, /人才编号/);
  assert.doesNotMatch(msg, /talent|self/);
  // and in English
  await page.goto('/lang/en?next=%2Fadmin%2Fusers%2Fnew');
  await page.fill('#username', 'zhou.ba');
  await page.fill('#display_name', 'Zhou Ba');
  await page.check('#role-talent');
  await page.selectOption('#scope', 'district');
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.click('form.form button[type=submit]'),
  ]);
  await page.waitForLoadState('load');
  const en = await text(page.locator('.error-summary a[href="#scope"]'));
  assert.match(en, /Talent \(applicant\)/);
  assert.doesNotMatch(en, /'self'|role talent/);
  assert.deepEqual(await axe(page, 'user-new-scope-error-en'), []);
  await s.done();
});

// ---- 6. signing out ----------------------------------------------------------

test('after signing out, / goes to /signin and the old session cookie no longer works',
  async () => {
    const s = await adminPage();
    const { page } = s;
    const saved = await s.context.cookies();
    assert.ok(saved.some((c) => c.name === 'ql_session' && c.value), 'a session cookie was set');
    await Promise.all([
      page.waitForURL('**/signin'),
      page.click('header form[action="/signout"] button[type=submit]'),
    ]);
    assert.equal(await page.locator('header .me').count(), 0);
    await page.goto('/');
    assert.equal(path(page), '/signin', '/ after signing out');
    await s.done();

    // The cookie saved before signing out, put back into a new context.
    const s2 = await openPage(browser, server.base);
    await s2.context.addCookies(saved);
    await s2.page.goto('/');
    assert.equal(path(s2.page), '/signin', 'the old session cookie still opens /');
    await s2.page.goto('/admin/users');
    assert.equal(path(s2.page), '/signin', 'the old session cookie still opens /admin/users');
    await s2.done();
  });

// ---- 7. axe and screenshots of every page -------------------------------------

// Each page: how to reach it, its expected heading; checked with axe
// (serious and critical violations fail) and saved as NAME.png.
const PAGES = [
  { name: 'signin', anon: true, go: (p) => p.goto('/signin'), h1: '登录千里马人才服务平台' },
  {
    name: 'signin-error', anon: true, status: '/signin', h1: '登录千里马人才服务平台',
    go: async (p) => { await p.goto('/signin'); await submitSignin(p, 'nobody', 'Wrong-1-wrong'); },
  },
  { name: 'password', go: (p) => p.goto('/account/password'), h1: '修改口令' },
  { name: 'home', go: (p) => p.goto('/'), h1: '欢迎，系统管理员' },
  { name: 'users', go: (p) => p.goto('/admin/users'), h1: '用户' },
  { name: 'user-new', go: (p) => p.goto('/admin/users/new'), h1: '新建用户' },
  {
    name: 'user-new-errors', status: '/admin/users', h1: '新建用户',
    go: async (p) => {
      await p.goto('/admin/users/new');
      await p.fill('#username', 'x');
      await Promise.all([p.waitForResponse((r) => r.request().method() === 'POST'),
        p.click('form.form button[type=submit]')]);
      await p.waitForLoadState('load');
    },
  },
  {
    name: 'user', h1: '赵六 (carol)',
    go: async (p) => {
      await p.goto('/admin/users?q=carol');
      await p.click('#user-table a:text-is("carol")');
      await p.waitForURL(/\/admin\/users\/\d+$/);
    },
  },
  { name: 'roles', go: (p) => p.goto('/admin/roles'), h1: '角色与权限' },
  { name: 'audit', go: (p) => p.goto('/admin/audit'), h1: '操作日志' },
  { name: 'signins', go: (p) => p.goto('/admin/signins'), h1: '登录日志' },
  { name: 'error-404', status: '/admin/users/99999', go: (p) => p.goto('/admin/users/99999'), h1: '页面不存在' },
];

for (const spec of PAGES) {
  test(`axe and screenshot: ${spec.name}`, async () => {
    const s = spec.anon ? await openPage(browser, server.base) : await adminPage();
    if (spec.status) s.expectStatus(spec.status);
    const { page } = s;
    await spec.go(page);
    await page.waitForLoadState('load');
    assert.equal(await text(page.locator('h1')), spec.h1);
    await screenshot(page, spec.name);
    const serious = await axe(page, spec.name);
    assert.deepEqual(serious, [], `axe found serious or critical violations on ${spec.name}`);
    await s.done();
  });
}

// ---- 8. phone width -------------------------------------------------------------

test('phone width (375×812): sign-in and home fit the screen', async () => {
  const s = await openPage(browser, server.base, { viewport: PHONE });
  const { page } = s;
  const overflow = () => page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.goto('/signin');
  await screenshot(page, 'signin-phone');
  assert.equal(await overflow(), 0, 'the sign-in page scrolls sideways');
  await signIn(page, 'root', ADMIN_PW);
  await screenshot(page, 'home-phone');
  assert.equal(await overflow(), 0, 'the home page scrolls sideways');
  await page.goto('/admin/users');
  await screenshot(page, 'users-phone');
  await s.done();
});

// ---- the site icon ------------------------------------------------------------------

// The layout names no icon, so the browser asks for /favicon.ico, which the
// server does not have: a 404 that Chromium logs as a console error on the
// first page of every visit. The other tests set those errors apart; this
// one fails until it is fixed (a <link rel="icon"> in layout.mustache, or
// an icon the server answers for).
test('the site icon: the pages name one, or /favicon.ico exists (no 404 logged)', async () => {
  const s = await openPage(browser, server.base);
  const { page } = s;
  await page.goto('/signin');
  const icon = await page.evaluate(() =>
    document.querySelector('link[rel~="icon"]')?.getAttribute('href') ?? null);
  const status = icon === null ? (await page.request.get('/favicon.ico')).status() : 0;
  assert.ok(icon !== null || status < 400,
    `the sign-in page names no icon and GET /favicon.ico answers ${status}, so the browser ` +
    `logs "Failed to load resource: ... 404" on every first page`);
  await s.done();
});

// ---- the stylesheet -----------------------------------------------------------------

// The templates rely on the usual helper classes: text for screen readers
// only (.visually-hidden: "当前用户" before the name, table captions, "否" in
// the role matrix) and a skip link that appears when it gets the focus.
test('the stylesheet hides .visually-hidden text and shows the skip link only when focused',
  async () => {
    const s = await adminPage();
    const { page } = s;
    await page.goto('/admin/roles');
    const shown = await page.evaluate(() => [...document.querySelectorAll('.visually-hidden')]
      .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 1 || r.height > 1; })
      .map((e) => e.textContent.trim()));
    const skip = page.locator('a.skip-link');
    const inView = () => skip.evaluate((e) => {
      const r = e.getBoundingClientRect();
      return r.width > 1 && r.height > 1 && r.bottom > 0 && r.right > 0 &&
        r.top < innerHeight && r.left < innerWidth;
    });
    const before = await inView();
    await page.keyboard.press('Tab');
    const focused = await skip.evaluate((e) => e === document.activeElement);
    const after = await inView();
    await s.done();
    assert.deepEqual(shown.slice(0, 5), [],
      `${shown.length} .visually-hidden element(s) are visible on /admin/roles ` +
      '(web/static/css/app.css has no .visually-hidden rule)');
    assert.equal(before, false, 'the skip link is visible before it has the focus ' +
      '(app.css has no .skip-link rule)');
    assert.ok(focused && after, 'the skip link is the first tab stop and visible when focused');
  });

// ---- the server ends cleanly ------------------------------------------------------

test('the server stops on SIGTERM with exit status 0 and no sanitizer report', async () => {
  assert.ok(server.running, 'the server died during the tests:\n' + server.log());
  const { code, signal } = await server.stop();
  const log = server.log();
  assert.doesNotMatch(log, /AddressSanitizer|LeakSanitizer|runtime error:/, log);
  assert.equal(signal, null, `killed by ${signal}`);
  assert.equal(code, 0, `exit status ${code}:\n${log}`);
});
