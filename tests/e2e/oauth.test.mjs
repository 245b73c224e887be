// Browser sign-in (OAuth) from the options page: chrome.identity.launchWebAuthFlow opens the
// CRM's consent page (the sandbox consents at once), the worker checks the redirect and
// exchanges the code (PKCE for Salesforce), and the CRM works like a pasted connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, until } from './harness.mjs';

let sandbox, browser, options;
before(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  browser = await launch(sandbox);
  options = await browser.ctx.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await options.waitForSelector('#oauth-zoho');
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const send = (msg) => options.evaluate((m) => chrome.runtime.sendMessage(m), msg);

test('Zoho: sign in through the browser, then the stored connection finds the chat record', async () => {
  await options.fill('#f-zoho-client-id', '1000.SANDBOXCLIENT');
  await options.fill('#f-zoho-client-secret', 'sandbox-secret');
  await options.click('#oauth-zoho');
  await until(async () => (await options.textContent('#state-zoho').catch(() => '')) === 'Connected', { what: 'zoho connected by OAuth', timeout: 30000 });
  const reqs = (await sandbox.ledger()).requests;
  assert.ok(reqs.some((r) => r.host === 'accounts.zoho.com' && r.path === '/oauth/v2/auth'), 'consent page opened');
  assert.ok(reqs.some((r) => r.host === 'accounts.zoho.com' && r.path === '/oauth/v2/token'), 'code exchanged');
  // The stored connection works: a chat is looked up with it.
  await send({ kind: 'captured', identity: { phone: '+5511987654321', lid: null, name: 'Ana', is_group: false }, messages: [] }).catch(() => {});
  const view = await until(async () => { const v = await send({ kind: 'panel_view', chat: 'pn:+5511987654321' }); return v.view === 'linked' && v; }, { what: 'card through the OAuth connection' });
  assert.equal(view.card.name, 'Ana Souza');
});

test('Salesforce: PKCE sign-in; a bad consumer key fails with the reason', async () => {
  await options.fill('#f-sf-client-id', 'not-our-app');
  await options.click('#oauth-salesforce');
  await until(async () => (await options.textContent('#connect-salesforce-status')).startsWith('Could not connect'), { what: 'refused', timeout: 30000 });
  assert.equal(await options.textContent('#state-salesforce'), 'Not connected');
  await options.fill('#f-sf-client-id', 'sandbox-consumer-key');
  // The connected app requires its secret in the web-server flow (the sandbox's default,
  // like a new connected app): without it the exchange is refused.
  await options.fill('#f-sf-client-secret', '');
  await options.click('#oauth-salesforce');
  await until(async () => (await options.textContent('#connect-salesforce-status')).startsWith('Could not connect'), { what: 'refused without the secret', timeout: 30000 });
  await options.fill('#f-sf-client-secret', 'sandbox-consumer-secret');
  await options.click('#oauth-salesforce');
  await until(async () => (await options.textContent('#state-salesforce').catch(() => '')) === 'Connected', { what: 'salesforce connected by OAuth', timeout: 30000 });
  const exchange = (await sandbox.ledger()).requests.filter((r) => r.host === 'login.salesforce.com' && r.path === '/services/oauth2/token').at(-1);
  assert.ok(exchange, 'code exchanged');
  assert.deepEqual((await send({ kind: 'diagnostics' })).connected, ['zoho', 'salesforce']);
});
