// Attachments: a photo WhatsApp shows (a blob: URL of the page) is copied by the content
// script and uploaded with the day's backup: Zoho Attachments on the contact, a Salesforce
// ContentVersion published to the day's chat record. A lost answer after the upload does not upload twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, panelFrame, until, CREDS } from './harness.mjs';

let sandbox, browser, ext;
const ANA = '5843104000000624001';
const LIAM = '003RO0000035WQgYAM';

before(async () => {
  sandbox = await startSandbox({ seed: 'demo-chat-object' });
  browser = await launch(sandbox);
  ext = await browser.ctx.newPage();
  await ext.goto(`chrome-extension://${browser.extensionId}/popup.html`);
  for (const c of CREDS.slice(0, 2)) assert.equal((await send({ kind: 'connect', credentials: c })).ok, true);
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const send = (msg) => ext.evaluate((m) => chrome.runtime.sendMessage(m), msg);

/** The worker's stored files, read from its own database. */
const storedFiles = () => ext.evaluate(async () => {
  const db = await new Promise((ok, fail) => { const r = indexedDB.open('crmsync'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const all = await new Promise((ok, fail) => { const r = db.transaction('files').objectStore('files').getAll(); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  db.close();
  return all.map((v) => JSON.parse(v));
});

async function photoIn(chat, caption) {
  const wa = await browser.ctx.newPage();
  await wa.goto(`https://web.whatsapp.com/?chat=${chat}`);
  await wa.evaluate(() => window.fakeWAReady);
  const frame = await panelFrame(wa);
  await until(async () => (await frame.getAttribute('#state', 'data-view')) === 'linked', { what: `${chat} linked`, timeout: 30000 });
  const { id, size } = await wa.evaluate((c) => window.fakeWA.receiveImage(c), caption);
  return { wa, id, size };
}

test('a photo reaches Zoho as an attachment of the contact, once, even when the upload answer is lost', async () => {
  const { wa, size } = await photoIn('ana', 'Foto da obra');
  await sandbox.faults([{ crm: 'zoho', method: 'POST', path_prefix: `/crm/v8/Contacts/${ANA}/Attachments`, count: 1, kind: { type: 'drop_after_commit' } }]);
  const mine = (l) => l.zoho.attachments.filter((a) => a.Parent_Id.id === ANA && /^waf-[0-9a-f]{16}_image-.*\.png$/.test(a.File_Name));
  // The lost answer leaves the upload uncertain; the next cycle finds it instead of uploading again.
  await until(async () => { await send({ kind: 'sync_now' }); const l = await sandbox.ledger(); return mine(l).length > 0 && (await send({ kind: 'diagnostics' })).pending === 0; },
    { what: 'attachment uploaded and confirmed', timeout: 120000, interval: 1000 });
  await send({ kind: 'sync_now' });
  const files = mine(await sandbox.ledger());
  assert.equal(files.length, 1, JSON.stringify(files));
  assert.equal(Number(files[0].Size), size);
  // The dropped answer was followed by a lookup, not a second upload.
  const reqs = (await sandbox.ledger()).requests.filter((r) => r.path.startsWith(`/crm/v8/Contacts/${ANA}/Attachments`));
  assert.equal(reqs.filter((r) => r.method === 'POST').length, 1, JSON.stringify(reqs));
  assert.ok(reqs.some((r) => r.method === 'GET'), 'reconciled by listing the attachments');
  // The day's note names the photo; the message settled.
  const note = (await sandbox.ledger()).zoho.notes.find((n) => n.parent_id === ANA && n.content.includes('Foto da obra'));
  assert.match(note.content, /Foto da obra\n {2}Attachment: image/);
  assert.ok(note.content.includes(`Files: ${files[0].File_Name}`), 'the note names the uploaded file');
  // Confirmed by every record it goes to: its bytes left the worker's store; name and size stayed.
  const stored = await storedFiles();
  assert.equal(stored.length, 1, JSON.stringify(stored));
  assert.deepEqual([stored[0].uploaded, stored[0].data_b64, stored[0].size], [true, '', size]);
  assert.ok(files[0].File_Name.endsWith(`_${stored[0].name}`), `${files[0].File_Name} / ${stored[0].name}`);
  await wa.close();
});

test('a photo reaches Salesforce as a ContentVersion published to the day\'s chat record', async () => {
  const { wa } = await photoIn('us', 'Site photo');
  // Published to the day's WhatsApp_Chat__c record of Liam's chat.
  const chatIds = async () => (await sandbox.ledger()).salesforce.WhatsApp_Chat__c.filter((c) => c.Contact__c === LIAM && c.Transcript__c.includes('Site photo')).map((c) => c.Id);
  const of = async () => { const ids = await chatIds(); return (await sandbox.ledger()).salesforce.ContentVersion.filter((v) => ids.includes(v.FirstPublishLocationId)); };
  await until(async () => { await send({ kind: 'sync_now' }); return (await of()).length > 0 && (await send({ kind: 'diagnostics' })).pending === 0; },
    { what: 'ContentVersion uploaded', timeout: 120000, interval: 1000 });
  await send({ kind: 'sync_now' });
  const versions = await of();
  assert.equal(versions.length, 1, JSON.stringify(versions.map((v) => v.Title)));
  assert.match(versions[0].Title, /^waf-[0-9a-f]{16}_image-.*\.png$/);
  assert.ok(Buffer.from(versions[0].VersionData, 'base64').subarray(1, 4).toString() === 'PNG');
  await wa.close();
});
