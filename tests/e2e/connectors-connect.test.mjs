// The CRM connectors through the real service worker and gloo-net transport, against the
// sandbox: paste-credentials connect for each CRM, then a captured chat's number is looked up
// in every connected CRM and the records (with their phone fields) reach the chat's card.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, until } from './harness.mjs';

let sandbox, browser, page;
before(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  browser = await launch(sandbox);
  page = await browser.ctx.newPage();
  await page.goto(`chrome-extension://${browser.extensionId}/options.html`);
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const send = (msg) => page.evaluate((m) => chrome.runtime.sendMessage(m), msg);
const SECRETS = ['sandbox-secret', '1000.sandbox.refresh', 'sandbox-consumer-secret', 'sandbox-sf-refresh', 'sandbox-secret-key'];
const noSecrets = (v) => { const t = JSON.stringify(v); for (const s of SECRETS) assert.ok(!t.includes(s), `leaks ${s}`); };

test('empty pasted keys are refused before any call', async () => {
  const before = (await sandbox.ledger()).requests.length;
  const reply = await send({ kind: 'connect', credentials: { crm: 'leadsquared', access_key: ' ', secret_key: 'x' } });
  assert.deepEqual(reply, { ok: false, crm: 'leadsquared', api_host: '', error: 'access key is empty' });
  assert.equal((await sandbox.ledger()).requests.slice(before).filter((r) => r.host.endsWith('leadsquared.com')).length, 0);
});

test('paste-credentials connect: Zoho refresh at the accounts server, Salesforce refresh, LeadSquared region discovery', async () => {
  const before = (await sandbox.ledger()).requests.length;
  const zoho = await send({ kind: 'connect', credentials: { crm: 'zoho', dc: 'Us', client_id: '1000.SANDBOXCLIENT', client_secret: 'sandbox-secret', refresh_token: '1000.sandbox.refresh' } });
  assert.deepEqual(zoho, { ok: true, crm: 'zoho', api_host: 'https://www.zohoapis.com', error: null });
  const sf = await send({ kind: 'connect', credentials: { crm: 'salesforce', login_host: 'login.salesforce.com', client_id: 'sandbox-consumer-key', client_secret: 'sandbox-consumer-secret', refresh_token: 'sandbox-sf-refresh' } });
  assert.deepEqual(sf, { ok: true, crm: 'salesforce', api_host: 'https://crmsync-dev.my.salesforce.com', error: null });
  const lsq = await send({ kind: 'connect', credentials: { crm: 'leadsquared', access_key: 'u$sandbox-access', secret_key: 'sandbox-secret-key' } });
  assert.deepEqual(lsq, { ok: true, crm: 'leadsquared', api_host: 'api-in21.leadsquared.com', error: null });
  const calls = (await sandbox.ledger()).requests.slice(before);
  assert.equal(calls.filter((r) => r.host === 'accounts.zoho.com' && r.path === '/oauth/v2/token').length, 1);
  assert.equal(calls.filter((r) => r.host === 'login.salesforce.com' && r.path === '/services/oauth2/token').length, 1);
  assert.equal(calls.filter((r) => r.path.endsWith('UserByAccessKey.Get')).length, 1);
  noSecrets([zoho, sf, lsq]);
});

test('a wrong LeadSquared secret fails the connect with a clear reason', async () => {
  const r = await send({ kind: 'connect', credentials: { crm: 'leadsquared', access_key: 'u$sandbox-access', secret_key: 'wrong' } });
  assert.equal(r.ok, false);
  assert.match(r.error, /\S/);
});

async function cardsFor(identity) {
  await send({ kind: 'captured', identity, messages: [] });
  return until(async () => {
    const ex = await send({ kind: 'export' });
    noSecrets(ex);
    const chat = ex.chats.find((c) => c.identity.phone === identity.phone);
    return chat && chat.cards.length ? chat.cards : null;
  }, { what: `cards for ${identity.name}`, timeout: 20000 });
}

test('find by phone: each CRM returns its record with every phone field', async () => {
  const ana = await cardsFor({ phone: '+5511987654321', lid: null, name: 'Ana Souza', is_group: false });
  const zohoAna = ana.find((c) => c.crm === 'zoho' && c.name === 'Ana Souza');
  assert.ok(zohoAna, JSON.stringify(ana));
  assert.deepEqual(zohoAna.phones.map(([f]) => f).sort(), ['Mobile', 'Phone']);
  const liam = await cardsFor({ phone: '+14155552671', lid: null, name: 'Liam', is_group: false });
  assert.ok(liam.find((c) => c.crm === 'salesforce' && c.name === 'Liam Carter' && c.kind === 'contact'), JSON.stringify(liam));
  const priya = await cardsFor({ phone: '+919876543210', lid: null, name: 'Priya', is_group: false });
  const p = priya.find((c) => c.crm === 'leadsquared' && c.name === 'Priya Sharma');
  assert.ok(p, JSON.stringify(priya));
  // LeadSquared's lookup covers Phone and Mobile; the seed keeps the number in one of them.
  assert.ok(p.phones.some(([f, v]) => ['Phone', 'Mobile'].includes(f) && v === '+91-9876543210'), JSON.stringify(p.phones));
});
