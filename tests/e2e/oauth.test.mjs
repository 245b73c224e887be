// Browser sign-in (OAuth) from the options page: chrome.identity.launchWebAuthFlow opens the
// CRM's consent page in its own window (the sandbox serves one like Zoho's and Salesforce's;
// answerConsent clicks Accept/Allow there), the worker checks the redirect and exchanges the
// code (PKCE), and the CRM works like a pasted connection.
// One click with the product's own apps (the sandbox's distribution config, built in by
// build.sh): Zoho in the rep's data centre with the code exchanged where the redirect says,
// Salesforce production / sandbox / My Domain; each refusal in a sentence naming who can fix it.
// Under Advanced, an admin's own app.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, until, answerConsent } from './harness.mjs';

let sandbox, browser, options;
before(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  browser = await launch(sandbox);
  options = await browser.ctx.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await options.waitForSelector('#signin-zoho');
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const consent = (decision) => answerConsent(browser.ctx, { decision });
const send = (msg) => options.evaluate((m) => chrome.runtime.sendMessage(m), msg);
const config = async (c) => {
  const r = await sandbox.fetch('www.zohoapis.com', '/__sandbox/config', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c) });
  assert.ok(r.status < 300, r.body);
};
const requestsSince = async (n) => (await sandbox.ledger()).requests.slice(n);
const state = (crm) => options.textContent(`#state-${crm}`).catch(() => '');
// "Connected", or an error carrying what the sign-in block says (so a timeout shows why).
const refusal = async (crm) => {
  const t = await options.textContent(`#signin-${crm}-status`);
  if (t.startsWith('Could not connect')) return t;
  throw new Error(`sign-in says: ${t}`);
};
const connected = async (crm) => {
  if ((await state(crm)) === 'Connected') return true;
  throw new Error(`state ${await state(crm)}; sign-in says: ${await options.textContent(`#signin-${crm}-status`).catch(() => '?')}`);
};
const disconnect = async (crm) => {
  await send({ kind: 'disconnect', crm });
  await options.reload();
  await options.waitForSelector(`#signin-${crm}`);
};

beforeEach(async () => {
  await config({ zoho_user_dc: null, zoho_multi_dc: ['us', 'eu', 'in', 'au', 'jp', 'ca', 'sa', 'uk', 'cn'], salesforce_app_installed: true });
});

test('one click, nothing to paste: Zoho sign-in starts in the chosen data centre and the code goes where the redirect says', async () => {
  // The rep's account lives in India; the rep picked Europe (or the guess did).
  await config({ zoho_user_dc: 'in' });
  const n = (await sandbox.ledger()).requests.length;
  assert.equal(await options.isVisible('#f-zoho-client-id'), false, 'own-app fields are under Advanced');
  await options.selectOption('#f-signin-zoho-dc', 'Eu');
  await options.click('#signin-zoho');
  await consent('accept');
  await until(() => connected('zoho'), { what: 'zoho connected by one-click sign-in', timeout: 30000 });
  const reqs = await requestsSince(n);
  assert.ok(reqs.some((r) => r.host === 'accounts.zoho.eu' && r.path === '/oauth/v2/auth'), 'consent at the chosen data centre');
  assert.ok(reqs.some((r) => r.host === 'accounts.zoho.in' && r.path === '/oauth/v2/token' && r.status === 200), 'code exchanged at the redirect\'s accounts-server');
  assert.ok(!reqs.some((r) => r.host === 'accounts.zoho.eu' && r.path === '/oauth/v2/token'), 'not at the start host');
  // The setup check ran after connecting and passed (the stock demo org).
  await until(async () => (await options.getAttribute('#setup-zoho', 'data-passed').catch(() => null)) === 'true', { what: 'setup check passed', timeout: 30000 });
  assert.match(await options.textContent('#setup-zoho-api'), /API access works/);
  // The stored connection works: a chat is looked up with it (api domain of India).
  await send({ kind: 'captured', identity: { phone: '+5511987654321', lid: null, name: 'Ana', is_group: false }, messages: [] }).catch(() => {});
  const cards = await until(async () => {
    const chat = (await send({ kind: 'export' })).chats.find((c) => c.identity.phone === '+5511987654321');
    return chat && chat.cards.some((c) => c.crm === 'zoho') && chat.cards;
  }, { what: 'card through the one-click connection' });
  assert.ok(cards.some((c) => c.crm === 'zoho' && c.name === 'Ana Souza'), JSON.stringify(cards));
  assert.ok((await requestsSince(n)).some((r) => r.host === 'www.zohoapis.in' && r.path.startsWith('/crm/v8/Contacts/search')));
  await disconnect('zoho');
});

test('the CRM\'s consent page waits for the rep: nothing is exchanged before the click; Reject and Deny are told in a sentence', async () => {
  for (const [crm, pick] of [['zoho', () => options.selectOption('#f-signin-zoho-dc', 'Us')], ['salesforce', () => options.selectOption('#f-signin-sf-login', 'production')]]) {
    await pick();
    const n = (await sandbox.ledger()).requests.length;
    await options.click(`#signin-${crm}`);
    const page = await until(async () => { for (const p of browser.ctx.pages()) if (await p.$('#crm-consent').catch(() => null)) return p; return null; }, { what: `${crm} consent page`, timeout: 20000 });
    // The page names the access asked for, and waits.
    assert.match(await page.textContent('#crm-consent'), crm === 'zoho' ? /Accept[\s\S]*Reject/ : /Allow[\s\S]*Deny/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(!(await requestsSince(n)).some((r) => /\/token$/.test(r.path)), 'no code before the rep answers');
    assert.notEqual(await state(crm), 'Connected');
    await consent('deny');
    assert.match(await until(() => refusal(crm), { what: `${crm} denied`, timeout: 20000 }), crm === 'zoho' ? /You chose not to allow crmsync.*choose Accept/ : /You chose not to allow crmsync.*choose Allow/);
    assert.equal(await state(crm), 'Not connected');
  }
});

test('Zoho: a data centre the app is not enabled in is refused with what to do and who does it; China starts at its own server', async () => {
  await config({ zoho_user_dc: 'in', zoho_multi_dc: ['us', 'eu'] });
  await options.selectOption('#f-signin-zoho-dc', 'Us');
  await options.click('#signin-zoho');
  await consent('accept');
  const text = await until(() => refusal('zoho'), { what: 'refused', timeout: 30000 });
  assert.match(text, /India \(zoho\.in\)/);
  assert.match(text, /crmsync's publisher must enable that data centre under Multi-DC/);
  assert.equal(await state('zoho'), 'Not connected');
  await config({ zoho_user_dc: 'cn', zoho_multi_dc: ['cn'] });
  const n = (await sandbox.ledger()).requests.length;
  await options.selectOption('#f-signin-zoho-dc', 'Cn');
  await options.click('#signin-zoho');
  await consent('accept');
  await until(() => connected('zoho'), { what: 'zoho china connected', timeout: 30000 });
  const reqs = await requestsSince(n);
  assert.ok(reqs.some((r) => r.host === 'accounts.zoho.com.cn' && r.path === '/oauth/v2/auth'));
  assert.ok(reqs.some((r) => r.host === 'accounts.zoho.com.cn' && r.path === '/oauth/v2/token' && r.status === 200));
  await disconnect('zoho');
});

test('Salesforce one click: sandbox and My Domain logins with PKCE and no secret; a blocked app asks for the admin', async () => {
  await config({ salesforce_app_installed: false });
  await options.selectOption('#f-signin-sf-login', 'production');
  await options.click('#signin-salesforce');
  const text = await until(() => refusal('salesforce'), { what: 'blocked', timeout: 30000 });
  assert.match(text, /ask your Salesforce admin to install or approve crmsync/);
  await config({ salesforce_app_installed: true });
  let n = (await sandbox.ledger()).requests.length;
  await options.selectOption('#f-signin-sf-login', 'sandbox');
  await options.click('#signin-salesforce');
  await consent('accept');
  await until(() => connected('salesforce'), { what: 'salesforce sandbox login', timeout: 30000 });
  let reqs = await requestsSince(n);
  assert.ok(reqs.some((r) => r.host === 'test.salesforce.com' && r.path === '/services/oauth2/authorize'));
  assert.ok(reqs.some((r) => r.host === 'test.salesforce.com' && r.path === '/services/oauth2/token' && r.status === 200));
  await until(async () => (await options.getAttribute('#setup-salesforce', 'data-passed').catch(() => null)) === 'true', { what: 'setup check passed', timeout: 30000 });
  // A stock org: the standard-object fallback is named.
  assert.match(await options.textContent('#setup-salesforce-chat-object'), /backups go to Tasks and notes/);
  await disconnect('salesforce');
  n = (await sandbox.ledger()).requests.length;
  await options.selectOption('#f-signin-sf-login', 'mydomain');
  await options.fill('#f-signin-sf-domain', 'crmsync-dev');
  await options.click('#signin-salesforce');
  await consent('accept');
  await until(() => connected('salesforce'), { what: 'salesforce my domain login', timeout: 30000 });
  reqs = await requestsSince(n);
  assert.ok(reqs.some((r) => r.host === 'crmsync-dev.my.salesforce.com' && r.path === '/services/oauth2/authorize'));
  // A phished host is refused before any call.
  await disconnect('salesforce');
  await options.selectOption('#f-signin-sf-login', 'mydomain');
  await options.fill('#f-signin-sf-domain', 'login.salesforce.com.attacker.example');
  await options.click('#signin-salesforce');
  assert.match(await until(() => refusal('salesforce'), { what: 'phished host refused' }), /not a Salesforce login host/);
});

test('Advanced, Zoho: an admin\'s own server-based client through the browser', async () => {
  await options.click('#advanced-zoho summary');
  await options.fill('#f-zoho-client-id', '1000.SANDBOXCLIENT');
  await options.fill('#f-zoho-client-secret', 'sandbox-secret');
  const n = (await sandbox.ledger()).requests.length;
  await options.click('#oauth-zoho');
  await consent('accept');
  await until(async () => (await state('zoho')) === 'Connected', { what: 'zoho connected by OAuth', timeout: 30000 });
  const reqs = await requestsSince(n);
  assert.ok(reqs.some((r) => r.host === 'accounts.zoho.com' && r.path === '/oauth/v2/auth'), 'consent page opened');
  assert.ok(reqs.some((r) => r.host === 'accounts.zoho.com' && r.path === '/oauth/v2/token'), 'code exchanged');
});

test('Advanced, Salesforce: PKCE sign-in with an own app; a bad consumer key fails with the reason', async () => {
  await options.click('#advanced-salesforce summary');
  await options.fill('#f-sf-client-id', 'not-our-app');
  await options.click('#oauth-salesforce');
  await until(async () => (await options.textContent('#connect-salesforce-status')).startsWith('Could not connect'), { what: 'refused', timeout: 30000 });
  assert.equal(await state('salesforce'), 'Not connected');
  await options.fill('#f-sf-client-id', 'sandbox-consumer-key');
  // The connected app requires its secret in the web-server flow (the sandbox's default,
  // like a new connected app): without it the exchange is refused, and the page says why.
  await options.fill('#f-sf-client-secret', '');
  await options.click('#oauth-salesforce');
  await consent('accept');
  const why = await until(async () => { const t = await options.textContent('#connect-salesforce-status'); return t.startsWith('Could not connect') && t; }, { what: 'refused without the secret', timeout: 30000 });
  assert.match(why, /consumer secret/);
  await options.fill('#f-sf-client-secret', 'sandbox-consumer-secret');
  await options.click('#oauth-salesforce');
  await consent('accept');
  await until(async () => (await state('salesforce')) === 'Connected', { what: 'salesforce connected by OAuth', timeout: 30000 });
  const exchange = (await sandbox.ledger()).requests.filter((r) => r.host === 'login.salesforce.com' && r.path === '/services/oauth2/token').at(-1);
  assert.ok(exchange, 'code exchanged');
  assert.deepEqual((await send({ kind: 'diagnostics' })).connected, ['zoho', 'salesforce']);
});
