// Capture from the live DOM of the fake WhatsApp Web (real 2026 markup) in headless Chromium
// with the real extension: exact fields, live changes, chat switches, the worker's outbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, contentEval, until } from './harness.mjs';

let sandbox, browser, ext;
before(async () => {
  sandbox = await startSandbox();
  browser = await launch(sandbox);
  ext = await browser.ctx.newPage();
  await ext.goto(`chrome-extension://${browser.extensionId}/popup.html`);
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const diag = (page) => contentEval(browser.ctx, page, 'globalThis.__crmsync');
const messages = async (page) => ((await diag(page))?.messages) || [];
const exported = async (chat) => (await ext.evaluate(() => chrome.runtime.sendMessage({ kind: 'export' })))
  .messages.filter((m) => m.message.chat === chat).map((m) => m.message);
async function openWA(query) {
  const page = await browser.ctx.newPage();
  await page.goto(`https://web.whatsapp.com/${query}`);
  await page.evaluate(() => window.fakeWAReady);
  return page;
}
const byKey = (ms, k) => ms.find((m) => m.key === k);

test('a saved contact chat: every kind captured with exact fields, identity from IndexedDB, stored by the worker', async () => {
  const page = await openWA('?chat=ana');
  const ms = await until(async () => { const m = await messages(page); return m.length === 14 && m; }, { what: '14 messages' });
  const d = await diag(page);
  assert.deepEqual(d.identity, { phone: '+5511987654321', lid: null, name: 'Ana Souza', is_group: false });
  // Counters are cumulative over scans (the page's own render triggers one more).
  assert.ok(d.capture.scans >= 1);
  assert.equal(d.capture.parsed, 14 * d.capture.scans);
  assert.equal(d.capture.skipped['not a message (no direction)'], d.capture.scans);
  const first = byKey(ms, '3EB0A1B2C3D4E5F60718');
  const yesterday = await page.evaluate(() => window.fakeWA.day(-1));
  assert.deepEqual(first, {
    key: '3EB0A1B2C3D4E5F60718', chat: 'pn:+5511987654321', direction: 'in', sender: { name: 'Ana Souza', phone: null },
    time: { ...yesterday, hour: 10, minute: 1 }, text: 'Olá! Podemos falar da proposta? 🙂', quoted: null,
    media: [], kind: { type: 'text' }, forwarded: false, edited: false, reactions: [],
  });
  assert.deepEqual(byKey(ms, '3EB0A1B2C3D4E5F6071A').quoted, { sender: 'Você', text: 'Claro, Ana. Envio hoje.' });
  assert.equal(byKey(ms, '3EB0A1B2C3D4E5F6071A').text, 'Perfeito <script>alert(1)</script> & obrigada');
  assert.deepEqual(byKey(ms, '3EB0A1B2C3D4E5F6071C').kind, { type: 'document', file_name: 'Proposta 2026.pdf', size: '1.2 MB' });
  assert.deepEqual(byKey(ms, '3EB0A1B2C3D4E5F6071E').kind, { type: 'voice', duration: '0:42' });
  assert.deepEqual(ms.map((m) => m.kind.type).sort(), ['contact_card', 'deleted', 'document', 'gif', 'image', 'location', 'sticker', 'text', 'text', 'text', 'text', 'text', 'video', 'voice']);
  const stored = await until(async () => { const s = await exported('pn:+5511987654321'); return s.length === 14 && s; }, { what: 'worker outbox' });
  assert.equal(byKey(stored, '3EB0A1B2C3D4E5F6071B').kind.type, 'image');
  await page.close();
});

test('live additions, re-renders, edits and older rows: each message once, edits updated', async () => {
  const page = await openWA('?chat=ana');
  await until(async () => (await messages(page)).length === 14, { what: 'initial scan' });
  const id = await page.evaluate(() => window.fakeWA.receive('Nova mensagem <b>hoje</b>'));
  const sent = await page.evaluate(() => window.fakeWA.send('Respondendo agora'));
  await until(async () => (await messages(page)).length === 16, { what: 'two live messages' });
  const ms = await messages(page);
  assert.equal(byKey(ms, id).text, 'Nova mensagem <b>hoje</b>');
  assert.equal(byKey(ms, sent).direction, 'out');
  const before = (await diag(page)).capture.parsed;
  await page.evaluate(() => window.fakeWA.rerender());
  await until(async () => (await diag(page)).capture.parsed > before, { what: 're-render scanned' });
  await page.evaluate((k) => window.fakeWA.edit(k, 'Nova mensagem (corrigida)'), id);
  await until(async () => byKey(await messages(page), id).text === 'Nova mensagem (corrigida)', { what: 'edit captured' });
  assert.equal(byKey(await messages(page), id).edited, true);
  await page.evaluate(() => window.fakeWA.prependOlder(3));
  await until(async () => (await messages(page)).length === 19, { what: 'older rows' });
  const stored = await until(async () => {
    const s = await exported('pn:+5511987654321');
    return s.length === 19 && byKey(s, id).text === 'Nova mensagem (corrigida)' && s;
  }, { what: 'worker has 19 messages, edit applied' });
  assert.equal(new Set(stored.map((m) => m.key)).size, 19, 'no duplicates');
  await page.close();
});

test('chat switches: group, unsaved number, @lid-only identity', async () => {
  const page = await openWA('?chat=ana');
  await until(async () => (await messages(page)).length === 14, { what: 'ana' });
  await page.evaluate(() => window.fakeWA.open('group'));
  await until(async () => (await diag(page)).identity?.name === 'Obra Paulista', { what: 'group identity' });
  const g = await diag(page);
  assert.equal(g.identity.is_group, true);
  const gm = await until(async () => { const m = await messages(page); return m.length === 5 && m; }, { what: 'group messages' });
  assert.deepEqual(gm.find((m) => m.key === '3EB0B00000000000G002').sender, { name: '+91 77378 87058', phone: '+917737887058' });
  await page.evaluate(() => window.fakeWA.open('unknown'));
  await until(async () => (await diag(page)).identity?.phone === '+5521998765432', { what: 'unsaved number from header' });
  await page.evaluate(() => window.fakeWA.open('lid'));
  const lid = await until(async () => { const d = await diag(page); return d.identity?.name === 'Marina (LID)' && d.identity; }, { what: 'lid identity' });
  assert.deepEqual(lid, { phone: null, lid: '196271432331425@lid', name: 'Marina (LID)', is_group: false });
  await page.close();
});

test('month-first and day-first locales, and a 2,000-message chat', async () => {
  // The page writes every chat in its own locale: month-first in en-US, day-first in pt-BR;
  // each is read in the order it was written (the same day either way).
  const us = await openWA('?chat=us&lang=en-US');
  const ms = await until(async () => { const m = await messages(us); return m.length === 3 && m; }, { what: 'us chat' });
  const first = byKey(ms, 'false_14155552671@c.us_3EB0C0FFEE000001');
  const yesterday = await us.evaluate(() => window.fakeWA.day(-1));
  assert.deepEqual(first.time, { ...yesterday, hour: 22, minute: 54 });
  assert.equal(first.sender.phone, '+14155552671');
  await us.close();
  const dayFirst = await openWA('?chat=us&lang=pt-BR');
  const md = await until(async () => { const m = await messages(dayFirst); return m.length === 3 && m; }, { what: 'us chat as pt-BR' });
  const yesterdayBR = await dayFirst.evaluate(() => window.fakeWA.day(-1));
  assert.deepEqual(byKey(md, 'false_14155552671@c.us_3EB0C0FFEE000001').time, { ...yesterdayBR, hour: 22, minute: 54 }, 'the page locale decides the order');
  await dayFirst.close();
  const long = await openWA('?chat=long');
  await until(async () => (await diag(long))?.capture?.parsed >= 2000, { what: '2000 messages', timeout: 30000 });
  assert.equal((await messages(long)).length, 2000);
  await long.close();
});

test('strict page CSP: the content script relays HTML and the panel frame parses it with the same scraper', async () => {
  const page = await openWA('?chat=ana&csp=strict');
  const d = await until(async () => { const x = await diag(page); return x && x.wasm === false && x; }, { what: 'wasm blocked' });
  assert.match(d.error, /WebAssembly|wasm|Content Security Policy/i);
  // No IndexedDB lookup in the fallback: the chat is known by its header title.
  const stored = await until(async () => { const s = await exported('name:Ana Souza'); return s.length === 14 && s; }, { what: 'relayed messages stored' });
  assert.equal(byKey(stored, '3EB0A1B2C3D4E5F6071A').text, 'Perfeito <script>alert(1)</script> & obrigada');
  const id = await page.evaluate(() => window.fakeWA.receive('chegou pelo relay'));
  await until(async () => byKey(await exported('name:Ana Souza'), id)?.text === 'chegou pelo relay', { what: 'live relay' });
  const frame = page.frames().find((f) => f.url().includes('/panel.html'));
  const counters = await frame.evaluate(() => globalThis.__crmsync_relay);
  assert.ok(counters.parsed >= 15, JSON.stringify(counters));
  await page.close();
});
