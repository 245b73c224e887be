// The sync engine end to end: messages typed into the fake WhatsApp Web reach Zoho CRM,
// Salesforce and LeadSquared (the sandbox) after one cycle, exactly once, through faults
// and service-worker kills; the first backup covers exactly the past 3 days.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, contentEval, stopServiceWorkers, until } from './harness.mjs';

let sandbox, browser, ext;
const ANA = '5843104000000624001';
const LIAM = '003RO0000035WQgYAM';
const PRIYA = '3131ea6a-bb20-4457-b183-ddf6d8716dfe';

before(async () => {
  sandbox = await startSandbox({ seed: 'demo-chat-object' });
  browser = await launch(sandbox);
  ext = await browser.ctx.newPage();
  await ext.goto(`chrome-extension://${browser.extensionId}/options.html`);
  const creds = [
    { crm: 'zoho', dc: 'Us', client_id: '1000.SANDBOXCLIENT', client_secret: 'sandbox-secret', refresh_token: '1000.sandbox.refresh' },
    { crm: 'salesforce', login_host: 'login.salesforce.com', client_id: 'sandbox-consumer-key', client_secret: 'sandbox-consumer-secret', refresh_token: 'sandbox-sf-refresh' },
    { crm: 'leadsquared', access_key: 'u$sandbox-access', secret_key: 'sandbox-secret-key' },
  ];
  for (const c of creds) {
    const r = await ext.evaluate((credentials) => chrome.runtime.sendMessage({ kind: 'connect', credentials }), c);
    assert.equal(r.ok, true, JSON.stringify(r));
  }
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const send = (msg) => ext.evaluate((m) => chrome.runtime.sendMessage(m), msg);
async function waOpen(chat) {
  const page = await browser.ctx.newPage();
  await page.goto(`https://web.whatsapp.com/?chat=${chat}`);
  await page.evaluate(() => window.fakeWAReady);
  await until(() => contentEval(browser.ctx, page, 'globalThis.__crmsync && globalThis.__crmsync.identity'), { what: `${chat} identity` });
  return page;
}
const zohoNotesOf = (led, id) => led.zoho.notes.filter((n) => n.parent_id === id);

test('messages typed in WhatsApp reach all three CRMs after one (shortened) cycle', async () => {
  assert.deepEqual(await send({ kind: 'set_sync_period', minutes: 0.5 }), { ok: true, product: (await send({ kind: 'diagnostics' })).product });
  const ana = await waOpen('ana');
  await ana.evaluate(() => window.fakeWA.send('Proposta enviada hoje'));
  const liam = await waOpen('us');
  await liam.evaluate(() => window.fakeWA.send('Plan details attached'));
  const priya = await waOpen('priya');
  await priya.evaluate(() => window.fakeWA.send('Namaste Priya, the quote is ready'));
  // No "sync now": the alarm's cycle does it.
  let got = {};
  const led = await until(async () => {
    const l = await sandbox.ledger();
    const z = zohoNotesOf(l, ANA).some((n) => n.content.includes('Proposta enviada hoje'));
    const s = l.salesforce.WhatsApp_Chat__c.some((c) => c.Contact__c === LIAM && c.Transcript__c.includes('Plan details attached'));
    const q = l.leadsquared.activities.some((a) => a.RelatedProspectId === PRIYA && a.ActivityNote.includes('Namaste Priya'));
    got = { zoho: z, salesforce: s, leadsquared: q };
    return z && s && q && l;
  }, { what: 'backups in all three CRMs', timeout: 90000, interval: 1000 }).catch(async (e) => {
    // Which CRM is missing its backup, and what the worker says of it.
    const exp = await send({ kind: 'export' });
    const mine = exp.messages.filter((m) => /Proposta enviada hoje|Plan details attached|Namaste Priya/.test(m.message.text));
    throw new Error(`${e.message}; got ${JSON.stringify(got)}; messages: ${JSON.stringify(mine.map((m) => [m.message.chat, m.state]))}; chats: ${JSON.stringify(exp.chats.map((c) => [c.identity.phone, c.links, c.matched]))}; parked: ${JSON.stringify(exp.parked)}; log: ${exp.log.slice(-10).map((l) => l.text).join(' | ')}`);
  });
  // Zoho: the contact's note, and the same note on her 5 most recent deals.
  const anaNote = zohoNotesOf(led, ANA).find((n) => n.content.includes('Proposta enviada hoje'));
  assert.match(anaNote.title, /^\[wa-\d{8}-[0-9a-f]{16}#0\] WhatsApp · Ana Souza · \d{4}-\d{2}-\d{2}/);
  const dealNotes = led.zoho.notes.filter((n) => n.parent_module === 'Deals' && n.content.includes('Proposta enviada hoje'));
  assert.equal(dealNotes.length, 5);
  // Salesforce: the chat record and a ContentNote linked to the contact, HTML-escaped.
  const note = led.salesforce.ContentNote.find((n) => n.Content.includes('Plan details attached'));
  assert.ok(note && led.salesforce.ContentDocumentLink.some((l) => l.ContentDocumentId === note.Id && l.LinkedEntityId === LIAM));
  assert.ok(!note.Content.includes('\n'));
  // LeadSquared: the activity on the lead and on its opportunity.
  assert.ok(led.leadsquared.activities.some((a) => a.RelatedOpportunityId && a.ActivityNote.includes('Namaste Priya')));
  const status = await until(async () => { const s = await send({ kind: 'diagnostics' }); return s.state.last_finished_ms && s; }, { what: 'status' });
  assert.equal(status.parked.length, 0, JSON.stringify(status.parked));
  // Last sync per contact/lead, and per chat.
  const exp = await until(async () => { const e = await send({ kind: 'export' }); return e.record_synced[`leadsquared:lead:${PRIYA}`] && e; }, { what: 'record sync times' });
  for (const k of [`zoho:contact:${ANA}`, `salesforce:contact:${LIAM}`, `leadsquared:lead:${PRIYA}`]) assert.ok(exp.record_synced[k] > 0, k);
  assert.ok(exp.chats.find((c) => c.identity.phone === '+5511987654321').last_synced_at_ms > 0);
  for (const p of [ana, liam, priya]) await p.close();
});

test('faults and worker kills during sync: every captured message lands exactly once', async () => {
  await send({ kind: 'set_sync_period', minutes: 60 }); // this test drives cycles itself
  const ana = await waOpen('ana');
  const texts = [];
  for (let i = 0; i < 6; i++) {
    const t = `fault-run message ${i} <b>&amp;</b>`;
    texts.push(t);
    await ana.evaluate((x) => window.fakeWA.send(x), t);
  }
  const liam = await waOpen('us');
  const sfText = 'fault-run for Salesforce';
  await liam.evaluate((x) => window.fakeWA.send(x), sfText);
  await until(async () => (await send({ kind: 'diagnostics' })).pending >= 7, { what: 'captured' });
  await sandbox.fetch('www.zohoapis.com', '/__sandbox/faults', { method: 'POST', body: JSON.stringify({ faults: [
    { crm: 'zoho', method: 'PUT', path_prefix: '/crm/v8/Notes', kind: { type: 'drop_after_commit' } },
    { crm: 'zoho', method: 'PUT', path_prefix: '/crm/v8/Notes', kind: { type: 'status', status: 429, retry_after: 1 } },
    { crm: 'zoho', path_prefix: '/crm/', kind: { type: 'expire_tokens' } },
    { crm: 'salesforce', path_prefix: '/services/data/', kind: { type: 'status', status: 503 } },
    { crm: 'salesforce', method: 'PATCH', path_prefix: '/services/data/v62.0/composite/sobjects', kind: { type: 'drop_after_commit' } },
  ] }) });
  let status;
  for (let round = 0; round < 25; round++) {
    const p = send({ kind: 'sync_now' }).catch((e) => ({ error: String(e) }));
    if (round % 3 === 1) {
      // Kill the worker while the cycle runs.
      await new Promise((r) => setTimeout(r, 30 + round * 7));
      await stopServiceWorkers(browser.ctx, ext, browser.extensionId).catch(() => {});
    }
    await p;
    status = await until(() => send({ kind: 'diagnostics' }), { what: 'status after round' });
    if (process.env.SYNC_DEBUG) console.log(JSON.stringify(status));
    if (status.pending === 0 && !status.state.syncing) break;
    await new Promise((r) => setTimeout(r, 1200));
  }
  if (process.env.SYNC_DEBUG && status.pending) {
    const e = await send({ kind: 'export' });
    console.log('EXPORT ' + JSON.stringify(e).slice(0, 600));
    console.log(JSON.stringify(e.log.slice(-12)));
    console.log(JSON.stringify(e.documents.filter(([k]) => k.unit.record.crm === 'zoho').map(([k, s]) => [k.target, k.part, s])));
    console.log(JSON.stringify(e.chats.map((c) => [c.identity.name, c.links, c.matched && c.matched.outcome])));
  }
  assert.equal(status.pending, 0, JSON.stringify(status));
  const led = await sandbox.ledger();
  for (const t of texts) {
    const holders = led.zoho.notes.filter((n) => n.content.includes(t));
    const parents = holders.map((n) => n.parent_id);
    assert.equal(new Set(parents).size, parents.length, `"${t}" is in two notes of one record`);
    assert.ok(parents.includes(ANA), `"${t}" missing on the contact`);
    assert.equal(holders.length, 6, `"${t}": the contact and 5 deals`);
  }
  const chats = led.salesforce.WhatsApp_Chat__c.filter((c) => c.Transcript__c.includes(sfText));
  assert.equal(chats.length, 1);
  const notes = led.salesforce.ContentNote.filter((n) => n.Content.includes(sfText));
  assert.equal(notes.length, 1, 'one ContentNote despite a lost answer');
  // One note per contact per day: rewritten, not multiplied.
  const anaDays = zohoNotesOf(led, ANA).map((n) => n.title.split('·')[2]);
  assert.equal(new Set(anaDays).size, anaDays.length);
  await ana.close();
  await liam.close();
});

test('the first backup sends exactly the past 3 days', async () => {
  const ana = await waOpen('ana');
  // Messages from well before the connection: outside the window.
  const d = new Date(Date.now() - 60 * 86400000);
  const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}T09:00:00`;
  await ana.evaluate((x) => window.fakeWA.prependOlder(3, { day: x }), day);
  await until(async () => (await send({ kind: 'export' })).messages.some((m) => m.message.text === 'older 2'), { what: 'old rows captured' });
  await send({ kind: 'sync_now' });
  await until(async () => (await send({ kind: 'diagnostics' })).pending === 0, { what: 'queue drained' });
  const led = await sandbox.ledger();
  const all = JSON.stringify(led.zoho.notes);
  assert.ok(!all.includes('older 0') && !all.includes('older 2'), 'messages before the window are never sent');
  const exp = await send({ kind: 'export' });
  assert.ok(exp.messages.some((m) => m.message.text === 'older 0'), 'but they stay in the export');
  assert.deepEqual(exp.messages.filter((m) => /^older \d$/.test(m.message.text)).map((m) => m.state), ['older', 'older', 'older'], 'and say why they were not sent');
  await ana.close();
});
