// Backups against CRMs as they ship: a stock Salesforce org (no custom object), Zoho with a
// lost first answer and with a Deals list the API user can't read, LeadSquared with a lost
// bulk answer and a growing day. Every target of every message is checked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, contentEval, until, CREDS } from './harness.mjs';

let sandbox, browser, ext;
const ANA = '5843104000000624001';
const LIAM = '003RO0000035WQgYAM';
const PRIYA = '3131ea6a-bb20-4457-b183-ddf6d8716dfe';

before(async () => {
  sandbox = await startSandbox({ seed: 'demo' }); // a stock org: no WhatsApp_Chat__c
  browser = await launch(sandbox);
  ext = await browser.ctx.newPage();
  await ext.goto(`chrome-extension://${browser.extensionId}/options.html`);
  for (const c of CREDS) {
    const { crm, ...rest } = c;
    const r = await ext.evaluate((credentials) => chrome.runtime.sendMessage({ kind: 'connect', credentials }), { crm, ...rest });
    assert.equal(r.ok, true, JSON.stringify(r));
  }
  await send({ kind: 'set_sync_period', minutes: 60 }); // the tests drive cycles themselves
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
/** Sync until nothing is pending (or give up after `rounds`). */
async function drain(rounds = 12) {
  let status;
  for (let i = 0; i < rounds; i++) {
    await send({ kind: 'sync_now' }).catch(() => {});
    status = await until(() => send({ kind: 'diagnostics' }), { what: 'status' });
    if (status.pending === 0 && !status.state.syncing) return status;
    // A CRM rate limit (LeadSquared allows 25 calls in 5 s; lookups of earlier tests count)
    // pauses that CRM's writes: wait it out rather than spend the rounds.
    const wait = Math.min(Math.max((status.state.retry_not_before_ms || 0) - Date.now(), 0), 70000);
    await new Promise((r) => setTimeout(r, 1500 + wait));
  }
  return status;
}
const faults = (list) => sandbox.fetch('www.zohoapis.com', '/__sandbox/faults', { method: 'POST', body: JSON.stringify({ faults: list }) });
const config = (c) => sandbox.fetch('www.zohoapis.com', '/__sandbox/config', { method: 'POST', body: JSON.stringify(c) });

test('a Deals list the API user cannot read: the contact note still lands and the messages are confirmed', async () => {
  // Before Ana's chat was ever matched: the card's deals read fails too, so the match is not
  // trusted and each cycle reads the deals again (the writer's own read is what is tested).
  // Hidden list: 400 INVALID_DATA; no Deals permission: 403 NO_PERMISSION.
  for (const mode of ['hidden', 'no_permission']) {
    await config({ zoho_deals_list: mode });
    const ana = await waOpen('ana');
    const text = `deals list ${mode} check`;
    await ana.evaluate((x) => window.fakeWA.send(x), text);
    await until(async () => (await send({ kind: 'diagnostics' })).pending >= 1, { what: 'captured' });
    const status = await drain();
    assert.equal(status.pending, 0, `${mode}: ${JSON.stringify(status)}`);
    const led = await sandbox.ledger();
    assert.equal(led.zoho.notes.filter((n) => n.parent_id === ANA && n.content.includes(text)).length, 1, mode);
    const reads = led.requests.filter((r) => r.host === 'www.zohoapis.com' && r.path === `/crm/v8/Contacts/${ANA}/Deals`);
    assert.ok(reads.some((r) => r.status === (mode === 'hidden' ? 400 : 403)), `${mode}: the deals read was refused`);
    const log = (await send({ kind: 'export' })).log.map((e) => e.text).join('\n');
    assert.match(log, /backing up to the record only/, 'the skipped deals are reported');
    await ana.close();
  }
  await config({ zoho_deals_list: 'visible' });
});

test('a lost answer to the first POST /Notes: the contact and each of its 5 deals get the note once', async () => {
  const ana = await waOpen('ana');
  const text = 'lost-first-answer check for Ana';
  await ana.evaluate((x) => window.fakeWA.send(x), text);
  await until(async () => (await send({ kind: 'diagnostics' })).pending >= 1, { what: 'captured' });
  await faults([{ crm: 'zoho', method: 'POST', path_prefix: '/crm/v8/Notes', kind: { type: 'drop_after_commit' } }]);
  const status = await drain();
  assert.equal(status.pending, 0, JSON.stringify(status));
  const led = await sandbox.ledger();
  const holders = led.zoho.notes.filter((n) => n.content.includes(text));
  const deals = new Set(led.zoho.deals.filter((d) => d.Contact_Name?.id === ANA).map((d) => d.id));
  assert.equal(holders.filter((n) => n.parent_id === ANA).length, 1, 'the contact: once');
  const onDeals = holders.filter((n) => n.parent_module === 'Deals');
  assert.equal(onDeals.length, 5, `5 deals: ${JSON.stringify(holders.map((n) => [n.parent_module, n.parent_id]))}`);
  assert.equal(new Set(onDeals.map((n) => n.parent_id)).size, 5, 'each deal once');
  assert.ok(onDeals.every((n) => deals.has(n.parent_id)), "Ana's own deals");
  assert.ok(holders.every((n) => n.title.length <= 120));
  await ana.close();
});

test('a stock Salesforce org: a completed Task and a ContentNote on the contact, no custom object', async () => {
  const liam = await waOpen('us');
  const text = 'stock org: plan details attached';
  await liam.evaluate((x) => window.fakeWA.send(x), text);
  await until(async () => (await send({ kind: 'diagnostics' })).pending >= 1, { what: 'captured' });
  const status = await drain();
  assert.equal(status.pending, 0, JSON.stringify(status));
  const led = await sandbox.ledger();
  assert.equal(led.salesforce.has_chat_object, false);
  assert.equal(led.salesforce.WhatsApp_Chat__c.length, 0);
  const tasks = led.salesforce.Task.filter((t) => t.Description?.includes(text));
  assert.equal(tasks.length, 1, JSON.stringify(led.salesforce.Task));
  assert.equal(tasks[0].WhoId, LIAM);
  assert.equal(tasks[0].Status, 'Completed');
  assert.match(tasks[0].Subject, /^\[wa-\d{8}-[0-9a-f]{16}#0\] WhatsApp · .+ · \d{4}-\d{2}-\d{2}$/);
  const note = led.salesforce.ContentNote.find((n) => n.Content.includes('stock org: plan details attached'));
  assert.ok(note && led.salesforce.ContentDocumentLink.some((l) => l.ContentDocumentId === note.Id && l.LinkedEntityId === LIAM));
  // The object check is a documented call; no write went to the missing object.
  const reqs = led.requests.filter((r) => r.host === 'crmsync-dev.my.salesforce.com');
  assert.ok(reqs.some((r) => r.method === 'GET' && /\/sobjects\/WhatsApp_Chat__c$/.test(r.path) && r.status === 404));
  assert.ok(!reqs.some((r) => r.method !== 'GET' && r.path.includes('WhatsApp_Chat__c')));
  await liam.close();
});

test('LeadSquared: the activity type is looked up once, a lost bulk answer is reconciled, a growing day is updated as documented', async () => {
  const priya = await waOpen('priya');
  const first = 'lsq lost-answer first line';
  await priya.evaluate((x) => window.fakeWA.send(x), first);
  await until(async () => (await send({ kind: 'diagnostics' })).pending >= 1, { what: 'captured' });
  await faults([{ crm: 'leadsquared', method: 'POST', path_prefix: '/v2/ProspectActivity.svc/Bulk', kind: { type: 'drop_after_commit' } }]);
  let status = await drain();
  assert.equal(status.pending, 0, JSON.stringify(status));
  const second = 'lsq growing day second line';
  await priya.evaluate((x) => window.fakeWA.send(x), second);
  await until(async () => (await send({ kind: 'diagnostics' })).pending >= 1, { what: 'captured again' });
  status = await drain();
  assert.equal(status.pending, 0, JSON.stringify(status));
  const led = await sandbox.ledger();
  const onLead = led.leadsquared.activities.filter((a) => a.RelatedProspectId === PRIYA && !a.RelatedOpportunityId && a.ActivityNote.includes(first));
  assert.equal(onLead.length, 1, 'one activity on the lead despite the lost answer');
  assert.ok(onLead[0].ActivityNote.includes(second), 'the same activity grew');
  const onOpp = led.leadsquared.activities.filter((a) => a.RelatedOpportunityId && a.ActivityNote.includes(first));
  assert.equal(onOpp.length, 1, 'and one on the opportunity');
  const lsq = led.requests.filter((r) => r.host === 'api-in21.leadsquared.com');
  if (process.env.SYNC_DEBUG) console.log(JSON.stringify(lsq.filter((r) => r.path.includes('Activity')).map((r) => [r.seq, r.path, r.status])));
  assert.ok(lsq.some((r) => r.path === '/v2/ProspectActivity.svc/CustomActivity/Update' && r.status === 200), 'updated through the documented path');
  // Created once (a rate-limited attempt, refused by the limiter, is retried); once the code
  // is known no cycle looks the type up or creates it again: it is kept with the connection.
  const created = lsq.filter((r) => r.path === '/v2/ProspectActivity.svc/CreateType' && r.status === 200);
  assert.equal(created.length, 1, 'the type is created once');
  const typeCalls = lsq.filter((r) => /ActivityTypes\.Get|CreateType/.test(r.path) && r.seq > created[0].seq);
  assert.deepEqual(typeCalls, [], 'no type call once the code is known');
  assert.ok(lsq.some((r) => r.path === '/v2/ProspectActivity.svc/ActivityTypes.Get' && r.seq < created[0].seq), 'looked up by name before creating');
  assert.equal(led.leadsquared.activity_types.filter((t) => t.ActivityEventName === 'WhatsApp Chats').length, 1);
  await priya.close();
});

test('an admin creates the WhatsApp Chat object from the options page; a user without the permission is told plainly; then chats go to chat records', async () => {
  await send({ kind: 'finish_onboarding' });
  const sfConfig = (c) => sandbox.fetch('crmsync-dev.my.salesforce.com', '/__sandbox/config', { method: 'POST', body: JSON.stringify(c) });
  const options = await browser.ctx.newPage();
  const open = async () => {
    await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
    await options.waitForSelector('#chat-object-create');
  };
  const create = async () => {
    // State-changing: nothing happens before the admin confirms.
    assert.equal(await options.isVisible('#chat-object-confirm'), false);
    await options.click('#chat-object-create');
    assert.match(await options.textContent('#chat-object-confirm-text'), /adds the custom object WhatsApp Chat \(WhatsApp_Chat__c\)/);
    await options.click('#chat-object-yes');
    return until(async () => {
      const t = await options.textContent('#chat-object-status').catch(() => '');
      return t && !/Working/i.test(t) ? t : null;
    }, { what: 'chat object status', timeout: 30000 });
  };
  const soapCalls = async () => (await sandbox.ledger()).requests.filter((r) => r.host === 'crmsync-dev.my.salesforce.com' && r.path === '/services/Soap/m/62.0');
  // Cancel leaves the org alone.
  await open();
  await options.click('#chat-object-create');
  await options.click('#chat-object-no');
  assert.equal(await options.isVisible('#chat-object-confirm'), false);
  assert.equal((await soapCalls()).length, 0, 'no call before the admin confirms');
  // A standard user: neither "Modify All Data" nor "Modify Metadata Through Metadata API Functions".
  await sfConfig({ salesforce_user: 'no_customize' });
  assert.match(await create(), /may not change the org.s setup: creating the object needs the .Modify All Data. or .Modify Metadata Through Metadata API Functions. permission/);
  assert.equal((await sandbox.ledger()).salesforce.has_chat_object, false);
  assert.deepEqual((await soapCalls()).map((r) => r.status), [500], 'refused once, the fields not tried');
  // The admin.
  await sfConfig({ salesforce_user: 'full' });
  await open();
  assert.match(await create(), /The WhatsApp Chat object was created/);
  assert.equal((await sandbox.ledger()).salesforce.has_chat_object, true);
  assert.deepEqual((await soapCalls()).map((r) => r.status), [500, 200, 200], 'object, then its fields');
  // The setup check ran again and says where backups go now.
  assert.match(await options.textContent('#setup-salesforce-chat-object'), /The WhatsApp Chat object is deployed: backups go to WhatsApp Chat records/);
  await options.close();
  // The next backup writes a chat record, not a Task.
  const liam = await waOpen('us');
  const text = 'after the object was created';
  await liam.evaluate((x) => window.fakeWA.send(x), text);
  await until(async () => (await send({ kind: 'diagnostics' })).pending >= 1, { what: 'captured' });
  const status = await drain();
  assert.equal(status.pending, 0, JSON.stringify(status));
  const led = await sandbox.ledger();
  const chats = led.salesforce.WhatsApp_Chat__c.filter((c) => c.Transcript__c?.includes(text));
  assert.equal(chats.length, 1, JSON.stringify(led.salesforce.WhatsApp_Chat__c));
  assert.equal(chats[0].Contact__c, LIAM);
  assert.equal(led.salesforce.Task.filter((t) => t.Description?.includes(text)).length, 0, 'no Task fallback once the object exists');
  await liam.close();
});
