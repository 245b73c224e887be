// The worker's durable outbox: captured messages are stored once, survive a worker restart,
// and are exported to the extension's pages only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, contentEval, stopServiceWorkers, until } from './harness.mjs';

let sandbox, browser;
before(async () => { sandbox = await startSandbox(); browser = await launch(sandbox); });
after(async () => { await browser?.close(); await sandbox?.stop(); });

const identity = { phone: '+5511987654321', lid: null, name: 'Ana Souza', is_group: false };
const today = new Date();
const message = (key, text) => ({
  key, chat: '', direction: 'in', sender: { name: 'Ana Souza', phone: null },
  time: { year: today.getFullYear(), month: today.getMonth() + 1, day: today.getDate(), hour: 10, minute: 1 }, text, quoted: null, media: [],
  kind: { type: 'text' }, forwarded: false, edited: false, reactions: [],
});

async function extensionPage() {
  const page = await browser.ctx.newPage();
  await page.goto(`chrome-extension://${browser.extensionId}/popup.html`);
  return page;
}
const send = (page, msg) => page.evaluate((m) => chrome.runtime.sendMessage(m), msg);

test('captured messages are stored once, edits re-pend, and the store survives a worker restart', async () => {
  const page = await extensionPage();
  let r = await send(page, { kind: 'captured', identity, messages: [message('3EB0AA01', 'Olá'), message('3EB0AA02', '<b>x</b>')] });
  assert.deepEqual(r, { ok: true, added: 2, updated: 0 });
  r = await send(page, { kind: 'captured', identity, messages: [message('3EB0AA01', 'Olá')] });
  assert.deepEqual(r, { ok: true, added: 0, updated: 0 }, 're-rendered row is not a new message');
  r = await send(page, { kind: 'captured', identity, messages: [message('3EB0AA01', 'Olá!')] });
  assert.deepEqual(r, { ok: true, added: 0, updated: 1 }, 'edited row updates');

  await stopServiceWorkers(browser.ctx, page, browser.extensionId);
  const status = await until(() => send(page, { kind: 'diagnostics' }), { what: 'status after restart' });
  assert.equal(status.pending, 2);

  const exp = await send(page, { kind: 'export' });
  const texts = exp.messages.map((m) => [m.message.key, m.message.text, m.message.chat, m.synced]).sort();
  assert.deepEqual(texts, [['3EB0AA01', 'Olá!', 'pn:+5511987654321', false], ['3EB0AA02', '<b>x</b>', 'pn:+5511987654321', false]]);
  assert.equal(exp.chats[0].identity.name, 'Ana Souza');
  assert.ok(!JSON.stringify(exp).match(/token|secret|accessKey/i), 'export holds no credentials');
  await page.close();
});

test('the content script may not export, and unknown requests are rejected', async () => {
  const page = await browser.ctx.newPage();
  await page.goto('https://web.whatsapp.com/');
  await until(() => contentEval(browser.ctx, page, 'globalThis.__crmsync && globalThis.__crmsync.wasm'), { what: 'content script' });
  const exp = await contentEval(browser.ctx, page, `chrome.runtime.sendMessage({kind:'export'})`);
  assert.equal(exp.ok, false);
  assert.match(exp.error, /only available to the extension's pages/);
  const bad = await contentEval(browser.ctx, page, `chrome.runtime.sendMessage({kind:'read_tokens'})`);
  assert.equal(bad.ok, false);
  assert.match(bad.error, /bad request/);
  // The page's own world has no channel to the extension at all.
  assert.equal(await page.evaluate(() => typeof chrome === 'undefined' || !chrome.runtime || !chrome.runtime.sendMessage), true);
  await page.close();
});
