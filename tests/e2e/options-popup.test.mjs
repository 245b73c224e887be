// The options page and the popup, driven like a rep would: connect with pasted keys, change
// settings (validated), exclude a chat, export the data as a JSON download, read diagnostics,
// and the popup's state and "Sync now".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, launch, contentEval, until, ROOT, CREDS } from './harness.mjs';

let sandbox, browser, options;
before(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  browser = await launch(sandbox);
  options = await browser.ctx.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await options.waitForSelector('#crm-zoho');
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const send = (msg) => options.evaluate((m) => chrome.runtime.sendMessage(m), msg);

test('connect each CRM from the options page; secrets are password fields and never shown again', async () => {
  assert.equal(await options.textContent('#state-zoho'), 'Not connected');
  assert.equal(await options.getAttribute('#f-zoho-refresh-token', 'type'), 'password');
  // Pasting keys is for admins: under Advanced.
  assert.equal(await options.isVisible('#f-zoho-client-id'), false);
  await options.click('#advanced-zoho summary');
  const z = CREDS[0];
  await options.fill('#f-zoho-client-id', z.client_id);
  await options.fill('#f-zoho-client-secret', z.client_secret);
  await options.fill('#f-zoho-refresh-token', 'wrong-token');
  await options.click('#connect-zoho-submit');
  await until(async () => (await options.textContent('#connect-zoho-status')).startsWith('Could not connect:'), { what: 'failed connect' });
  await options.fill('#f-zoho-refresh-token', z.refresh_token);
  await options.click('#connect-zoho-submit');
  await until(async () => (await options.textContent('#state-zoho').catch(() => '')) === 'Connected', { what: 'zoho connected' });
  // LeadSquared's keys are its documented way in: no Advanced needed.
  const l = CREDS[2];
  assert.match(await options.textContent('#signin-block-leadsquared'), /API and Webhooks/);
  await options.fill('#f-signin-lsq-access', l.access_key);
  await options.fill('#f-signin-lsq-secret', l.secret_key);
  assert.equal(await options.getAttribute('#f-signin-lsq-secret', 'type'), 'password');
  await options.click('#signin-leadsquared');
  await until(async () => (await options.textContent('#state-leadsquared').catch(() => '')) === 'Connected', { what: 'lsq connected' });
  const html = await options.content();
  for (const secret of [z.client_secret, z.refresh_token, l.secret_key]) assert.ok(!html.includes(secret), 'secret shown in the page');
  await options.screenshot({ path: join(ROOT, 'target/screenshots/options.png'), fullPage: true });
  // Disconnect forgets the keys.
  await options.click('#disconnect-leadsquared');
  await until(async () => (await options.textContent('#state-leadsquared').catch(() => '')) === 'Not connected', { what: 'lsq disconnected' });
  assert.deepEqual((await send({ kind: 'diagnostics' })).connected, ['zoho']);
});

test('settings: validated, saved, and used (excluded chat never captured)', async () => {
  await options.fill('#f-default_region', 'Brazil');
  await options.click('#settings-save');
  await until(async () => (await options.textContent('#err-default_region')) !== '', { what: 'region error' });
  assert.equal(await options.textContent('#settings-status'), 'Please fix the fields marked.');
  await options.fill('#f-default_region', 'br');
  await options.uncheck('#f-backup_activities');
  await options.fill('#f-excluded_chats', 'pn:+14155552671');
  await options.click('#settings-save');
  await until(async () => (await options.textContent('#settings-status')) === 'Saved.', { what: 'saved' });
  const s = await send({ kind: 'get_settings' });
  assert.equal(s.default_region, 'BR');
  assert.equal(s.backup_activities, false);
  assert.deepEqual(s.excluded_chats, ['pn:+14155552671']);
  // The excluded chat is opened and typed into: nothing of it reaches the worker's store.
  const wa = await browser.ctx.newPage();
  await wa.goto('https://web.whatsapp.com/?chat=us');
  await wa.evaluate(() => window.fakeWAReady);
  await until(() => contentEval(browser.ctx, wa, 'globalThis.__crmsync && globalThis.__crmsync.identity'), { what: 'identity' });
  await wa.evaluate(() => window.fakeWA.send('private note'));
  await wa.waitForTimeout(500);
  const exp = await send({ kind: 'export' });
  assert.equal(exp.messages.filter((m) => m.message.chat === 'pn:+14155552671').length, 0);
  await wa.close();
});

test('export downloads all captured data as JSON, without credentials', async () => {
  const wa = await browser.ctx.newPage();
  await wa.goto('https://web.whatsapp.com/?chat=ana');
  await wa.evaluate(() => window.fakeWAReady);
  await until(async () => (await send({ kind: 'export' })).messages.length > 0, { what: 'captured messages' });
  await wa.close();
  await options.reload();
  await options.waitForSelector('#export-button');
  const [download] = await Promise.all([options.waitForEvent('download'), options.click('#export-button')]);
  assert.equal(download.suggestedFilename(), 'crmsync-export.json');
  const path = await download.path();
  const text = readFileSync(path, 'utf8');
  const data = JSON.parse(text);
  assert.ok(data.messages.length > 0);
  assert.ok(data.messages.every((m) => m.message.chat));
  for (const c of CREDS) for (const v of Object.values(c)) if (typeof v === 'string' && v.length > 8) assert.ok(!text.includes(v), 'credential in export');
  assert.match(await options.textContent('#export-status'), /^Exported \d+ messages\.$/);
});

test('diagnostics show capture counters and pending work', async () => {
  await options.reload();
  await options.waitForSelector('#diag-capture');
  assert.match(await options.textContent('#diag-capture'), /^\d+ \/ \d+ \/ \{/);
  assert.match(await options.textContent('#diag-pending'), /^\d+$/);
});

test('popup: connected CRMs, last sync, pending, errors, Sync now', async () => {
  const popup = await browser.ctx.newPage();
  await popup.setViewportSize({ width: 340, height: 420 });
  await popup.goto(`chrome-extension://${browser.extensionId}/popup.html`);
  await popup.waitForSelector('#popup-zoho');
  // The product's name is the title; the version is a muted line for support.
  assert.equal(await popup.textContent('h1#product'), 'crmsync');
  const version = JSON.parse(readFileSync(join(ROOT, 'extension/manifest.json'), 'utf8')).version;
  assert.equal(await popup.textContent('#popup-version.muted'), `Version ${version}`);
  assert.equal(await popup.textContent('#popup-zoho'), 'Zoho CRM: Connected');
  assert.equal(await popup.textContent('#popup-leadsquared'), 'LeadSquared: Not connected');
  assert.match(await popup.textContent('#popup-last'), /^(Not synced yet|Last synced .+)$/);
  const pending = Number((await popup.textContent('#popup-pending')).match(/^(\d+) messages waiting to sync$/)[1]);
  assert.ok(pending > 0);
  await popup.screenshot({ path: join(ROOT, 'target/screenshots/popup.png') });
  // Zoho reports remaining credits once half the day's are spent: make this sync cross that line.
  const used = (await sandbox.ledger()).requests.filter((r) => r.host === 'www.zohoapis.com' && r.status !== 401 && !r.path.startsWith('/__sandbox')).length;
  const cfg = await sandbox.fetch('www.zohoapis.com', '/__sandbox/config', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ zoho_daily_credits: 2 * used + 2 }) });
  assert.ok(cfg.status < 300, cfg.body);
  await popup.click('#sync-now');
  await until(async () => /^Sync done: \d+ messages confirmed\.$/.test(await popup.textContent('#sync-status')), { what: 'sync done', timeout: 30000 });
  // The CRM's reported allowance reaches the diagnostics after a sync.
  await options.reload();
  await options.waitForSelector('#diag-budget');
  assert.match(await options.textContent('#diag-budget'), /^Zoho CRM: \d+ API calls left today$/);
  await popup.reload();
  await popup.waitForSelector('#popup-last');
  assert.equal(await popup.textContent('#popup-last'), 'Last synced just now');
  await popup.close();
});
