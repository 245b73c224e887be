// Capture from the live DOM of the fake WhatsApp Web (real 2026 markup) in headless Chromium
// with the real extension: exact fields, live changes, chat switches, the worker's outbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, contentEval, until, panelFrame } from './harness.mjs';

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
  // The contact row (a bare data-id with a bubble class but no bubble) is not a message.
  assert.equal(d.capture.skipped['not a message (no bubble)'], d.capture.scans);
  // Nothing else read wrong ("no chat open" is a scan before the page rendered its chat).
  assert.deepEqual(Object.keys(d.capture.skipped).filter((k) => k !== 'no chat open'), ['not a message (no bubble)'], JSON.stringify(d.capture.skipped));
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
  // A body without data-testid="selectable-text" (only span[dir]) is read whole, nothing around it.
  const fwd = byKey(ms, '3EB0A1B2C3D4E5F6071D');
  assert.deepEqual([fwd.text, fwd.forwarded, fwd.edited, fwd.kind.type], ['Segue o contrato', true, true, 'text']);
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
  const gm = await until(async () => { const m = await messages(page); return m.length === 12 && m; }, { what: 'group messages' });
  // Real group markup: the push name as shown (no "Maybe"), the same sender for a row without
  // an author block, captionless media without text, the corner clock for rows without a stamp.
  const rafa = { name: 'Rafa', phone: '+919000012345' };
  assert.deepEqual(byKey(gm, '3EB0B00000000000G001').sender, rafa);
  assert.deepEqual(byKey(gm, '3EB0B00000000000G002').sender, rafa);
  // A saved sender whose body has no selectable-text test id: the body, not the author's name.
  const oi = byKey(gm, '3EB0B00000000000G003');
  assert.deepEqual([oi.text, oi.sender.name], ['Oi pessoal', 'Ana Souza']);
  for (const k of ['3EB0B00000000000G006', '3EB0B00000000000G007', '3EB0B00000000000G008', '3EB0B00000000000G009', '3EB0B00000000000G00A']) {
    assert.equal(byKey(gm, k).text, '', k);
  }
  assert.deepEqual(byKey(gm, '3EB0B00000000000G006').sender, { name: 'Lucía', phone: '+34612345678' });
  const gif = byKey(gm, '3EB0B00000000000G008');
  assert.deepEqual([gif.kind.type, gif.sender.name], ['gif', 'Liam Carter']);
  const yesterday = await page.evaluate(() => window.fakeWA.day(-1));
  assert.deepEqual(gif.time, { ...yesterday, hour: 12, minute: 33 });
  assert.equal(byKey(gm, '3EB0B00000000000G005').kind.type, 'system');
  // An author block holding only an icon, right after Lucía's row: unknown, never inherited.
  assert.deepEqual(byKey(gm, '3EB0B00000000000G00C').sender, { name: '', phone: null });
  assert.ok(!gm.some((m) => m.key === '20461937518264093715'), 'the contact row is not a message');
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

test("served with the real page's security headers (CSP without frame-src, COOP, COEP), the panel frame and the content script's wasm work", async () => {
  const r = await sandbox.fetch('web.whatsapp.com', '/?chat=ana');
  const csp = r.headers['content-security-policy'];
  assert.match(csp, /^default-src 'self' blob: 'wasm-unsafe-eval';script-src blob: 'self' 'nonce-[0-9a-f]+' https:\/\/static\.whatsapp\.net 'wasm-unsafe-eval';/);
  assert.doesNotMatch(csp, /frame-src|chrome-extension/);
  assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
  assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp');
  const page = await openWA('?chat=ana');
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true, 'the page is cross-origin isolated');
  await until(async () => (await messages(page)).length === 14, { what: 'wasm capture under the real headers' });
  assert.equal((await diag(page)).wasm, true);
  const frame = await panelFrame(page);
  await until(async () => (await frame.getAttribute('#state', 'data-view')) && (await frame.getAttribute('#state', 'data-view')) !== 'unbound',
    { what: 'panel frame loaded and bound' });
  await page.close();
});

test('a page that reads wrong pauses capture of the chat, says so in the panel and in diagnostics; the page read right again resumes it', async () => {
  const page = await openWA('?chat=ana');
  await until(async () => (await messages(page)).length === 14, { what: 'ana' });
  const frame = await panelFrame(page);
  const chat = 'pn:+5511987654321';
  await page.evaluate(() => window.fakeWA.drift(true));
  await until(async () => (await diag(page)).capture.health?.[chat]?.paused === true, { what: 'paused' });
  const h = (await diag(page)).capture.health[chat];
  assert.ok(h.unclassified >= 3, JSON.stringify(h));
  await until(async () => (await frame.textContent('#capture')) === 'WhatsApp changed its page; crmsync paused this chat so nothing wrong is written.',
    { what: 'panel says paused' });
  // A message arriving while paused is not handed on.
  const id = await page.evaluate(() => window.fakeWA.receive('chegou durante a pausa'));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(byKey(await exported(chat), id), undefined, 'nothing stored while paused');
  const diagnostics = await ext.evaluate(() => chrome.runtime.sendMessage({ kind: 'diagnostics' }));
  assert.equal(diagnostics.capture?.health?.[chat]?.paused, true, JSON.stringify(diagnostics.capture));
  // The options page's diagnostics name the paused chat with its counters.
  const options = await browser.ctx.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await options.waitForSelector('#diag-health');
  assert.match(await options.textContent('#diag-health'), new RegExp(`^${chat.replace('+', '\\+')}: (\\d+ / ){4}\\d+ ⏸`));
  await options.close();
  await page.evaluate(() => window.fakeWA.drift(false));
  await until(async () => (await diag(page)).capture.health?.[chat]?.paused === false, { what: 'resumed' });
  await until(async () => (await frame.textContent('#capture')) === '', { what: 'panel line cleared' });
  await until(async () => byKey(await exported(chat), id)?.text === 'chegou durante a pausa', { what: 'the held message stored after resuming' });
  await page.close();
});

test("a chat opened with a header that names no chat: nothing is filed under the chat open before, capture pauses and resumes once the header reads again", async () => {
  const page = await openWA('?chat=ana');
  await until(async () => (await messages(page)).length === 14, { what: 'ana' });
  const frame = await panelFrame(page);
  const ana = 'pn:+5511987654321';
  const paused = 'WhatsApp changed its page; crmsync paused this chat so nothing wrong is written.';
  await page.evaluate(() => window.fakeWA.driftHeader(true));
  await page.evaluate(() => window.fakeWA.open('unknown'));
  const d = await until(async () => { const x = await diag(page); return x.identity === null && x; }, { what: 'the open chat forgotten' });
  assert.ok(d.capture.skipped['unreadable chat header'] >= 1, JSON.stringify(d.capture.skipped));
  assert.deepEqual(d.messages, [], 'diagnostics no longer show the chat open before');
  await until(async () => (await frame.textContent('#capture')) === paused, { what: 'panel says paused' });
  // A message arrives in the chat whose header cannot be read.
  const id = await page.evaluate(() => window.fakeWA.receive('para o outro chat'));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(byKey(await exported(ana), id), undefined, "not stored under the previous chat's key");
  const all = (await ext.evaluate(() => chrome.runtime.sendMessage({ kind: 'export' }))).messages;
  assert.equal(all.find((m) => m.message.key === id), undefined, 'not stored under any chat');
  // The header reads again: that chat's message is captured under its own key, the line clears.
  await page.evaluate(() => window.fakeWA.driftHeader(false));
  await until(async () => (await diag(page)).identity?.phone === '+5521998765432', { what: 'header read again' });
  await until(async () => byKey(await exported('pn:+5521998765432'), id)?.text === 'para o outro chat', { what: 'stored under its own chat' });
  await until(async () => (await frame.textContent('#capture')) === '', { what: 'panel line cleared' });
  assert.equal(byKey(await exported(ana), id), undefined);
  await page.close();
});

test("where WhatsApp's own database has the message, its time dates a row the page's text could not", async () => {
  // Browser day-first, page month-first, nothing in the chat to decide: the bubble's date is
  // ambiguous. WhatsApp's database keeps the message's time in seconds since the epoch.
  const gb = await launch(sandbox, { locale: 'en-GB' });
  try {
    const ext2 = await gb.ctx.newPage();
    await ext2.goto(`chrome-extension://${gb.extensionId}/popup.html`);
    const stored = (id) => until(async () => (await ext2.evaluate(() => chrome.runtime.sendMessage({ kind: 'export' })))
      .messages.find((m) => m.message.key === id), { what: `${id} stored` });
    const d = new Date();
    d.setDate(d.getDate() - 8);
    // Both readings (day-month and month-day) in the past: the text alone cannot tell them apart.
    const swappedPast = (x) => new Date(x.getFullYear(), x.getDate() - 1, x.getMonth() + 1) < new Date(Date.now() - 86400000);
    while (d.getDate() > 12 || d.getDate() === d.getMonth() + 1 || !swappedPast(d)) d.setDate(d.getDate() - 1);
    d.setHours(14, 7, 0, 0);
    const iso = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}T14:07:00`;
    const want = { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: 14, minute: 7 };
    for (const [query, dated] of [['?chat=priya&lang=en-US', true], ['?chat=priya&lang=en-US&noidb', false]]) {
      const page = await gb.ctx.newPage();
      await page.goto(`https://web.whatsapp.com/${query}`);
      await page.evaluate(() => window.fakeWAReady);
      const id = await page.evaluate((t) => window.fakeWA.receive('quando foi isso?', { time: t }), iso);
      const m = await stored(id);
      if (dated) assert.deepEqual(m.message.time, want, "dated from WhatsApp's database");
      else assert.equal(m.message.time, null, 'no row in the database: undated, never guessed');
      await page.close();
    }
  } finally {
    await gb.close();
  }
});

test("a bare lang=\"en\" page reads dates in the browser's own order; when the page and the browser disagree and nothing in the chat decides, the time stays unknown, never guessed", async () => {
  // A browser set to en-GB (day-first), as many WhatsApp users' are.
  const gb = await launch(sandbox, { locale: 'en-GB' });
  try {
    const open = async (query) => {
      const page = await gb.ctx.newPage();
      await page.goto(`https://web.whatsapp.com/${query}`);
      await page.evaluate(() => window.fakeWAReady);
      return page;
    };
    const gbMessages = async (page) => ((await contentEval(gb.ctx, page, 'globalThis.__crmsync'))?.messages) || [];
    // A date at least 8 days back whose day and month are both 12 or less, and differ, and
    // whose other reading is in the past too: only the order tells 10/05 from 05/10 (the chip
    // over it shows the same digits).
    const ambiguous = () => {
      const d = new Date();
      d.setDate(d.getDate() - 8);
      const swappedPast = (x) => new Date(x.getFullYear(), x.getDate() - 1, x.getMonth() + 1) < new Date(Date.now() - 86400000);
      while (d.getDate() > 12 || d.getDate() === d.getMonth() + 1 || !swappedPast(d)) d.setDate(d.getDate() - 1);
      return { iso: `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}T09:30:00`, want: { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: 9, minute: 30 } };
    };
    const { iso, want } = ambiguous();
    // The page says only "en" and writes day-first, as an en-GB user's WhatsApp does.
    const bare = await open('?chat=unknown&lang=en-GB&htmllang=en');
    assert.equal(await bare.evaluate(() => document.documentElement.lang), 'en');
    const id = await bare.evaluate((t) => window.fakeWA.receive('reunião marcada', { time: t }), iso);
    const m = await until(async () => (await gbMessages(bare)).find((x) => x.key === id), { what: 'ambiguous-date message' });
    assert.deepEqual(m.time, want, 'read day-first, as the browser writes dates');
    await bare.close();
    // The page's language says month-first (en-US) and writes so; the browser says day-first.
    const clash = await open('?chat=priya&lang=en-US');
    const id2 = await clash.evaluate((t) => window.fakeWA.receive('which one?', { time: t }), iso);
    const m2 = await until(async () => (await gbMessages(clash)).find((x) => x.key === id2), { what: 'message under disagreeing signals' });
    assert.equal(m2.time, null, 'undated: kept, never written with a guessed date');
    const d = await contentEval(gb.ctx, clash, 'globalThis.__crmsync');
    assert.ok(d.capture.skipped['uncertain date order'] >= 1, JSON.stringify(d.capture.skipped));
    // A message today puts a "Today" chip above it: the chat proves its order, and the
    // earlier message is dated again, month-first as the page wrote it.
    const id3 = await clash.evaluate(() => window.fakeWA.receive('today then'));
    const m3 = await until(async () => (await gbMessages(clash)).find((x) => x.key === id3 && x.time), { what: 'dated by the Today chip' });
    const today = await clash.evaluate(() => window.fakeWA.day(0));
    assert.deepEqual({ year: m3.time.year, month: m3.time.month, day: m3.time.day }, today);
    await clash.close();
  } finally {
    await gb.close();
  }
});
