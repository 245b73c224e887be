// The paste-credentials connect path through the real service worker and gloo-net transport.
// Until the CRM emulator answers token endpoints, this checks the wiring: who may connect,
// that the worker calls the data centre's real token endpoint, and that no secret is echoed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, until } from './harness.mjs';

let sandbox, browser;
before(async () => { sandbox = await startSandbox({ seed: 'demo' }); browser = await launch(sandbox); });
after(async () => { await browser?.close(); await sandbox?.stop(); });

const zohoCreds = { crm: 'zoho', dc: 'Eu', client_id: '1000.SANDBOXCLIENT', client_secret: 'sandbox-secret', refresh_token: '1000.sandbox.refresh' };

test('an extension page can connect Zoho: the worker refreshes at the EU accounts server and never echoes secrets', async () => {
  const page = await browser.ctx.newPage();
  await page.goto(`chrome-extension://${browser.extensionId}/options.html`);
  const before = (await sandbox.ledger()).requests.length;
  const reply = await page.evaluate((credentials) => chrome.runtime.sendMessage({ kind: 'connect', credentials }), zohoCreds);
  assert.equal(reply.crm, 'zoho');
  assert.equal(typeof reply.ok, 'boolean');
  const text = JSON.stringify(reply);
  for (const secret of ['sandbox-secret', '1000.sandbox.refresh']) assert.ok(!text.includes(secret), `reply leaks ${secret}`);
  const calls = await until(async () => (await sandbox.ledger()).requests.slice(before)
    .filter((r) => r.host === 'accounts.zoho.eu' && r.path === '/oauth/v2/token' && r.method === 'POST'), { what: 'token call' });
  assert.equal(calls.length, 1, 'exactly one refresh call, no retry loop');
  if (!reply.ok) assert.match(reply.error, /\S/);
  await page.close();
});

test('empty pasted keys are refused before any call', async () => {
  const page = await browser.ctx.newPage();
  await page.goto(`chrome-extension://${browser.extensionId}/options.html`);
  const before = (await sandbox.ledger()).requests.length;
  const reply = await page.evaluate(() => chrome.runtime.sendMessage({ kind: 'connect', credentials: { crm: 'leadsquared', access_key: ' ', secret_key: 'x' } }));
  assert.deepEqual(reply, { ok: false, crm: 'leadsquared', api_host: '', error: 'access key is empty' });
  const after = (await sandbox.ledger()).requests.slice(before).filter((r) => r.host.endsWith('leadsquared.com'));
  assert.equal(after.length, 0);
  await page.close();
});
