// The Mini-CRM panel in headless Chromium: every state, computed by the real service worker
// from what it has stored (chats seeded into its IndexedDB where a state needs a history),
// and the actions (create, search + link, choose, unlink, exclude) against the sandbox CRMs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, launch, until, ROOT, CREDS } from './harness.mjs';

let sandbox, browser, ext;
const shots = join(ROOT, 'target/screenshots');
const ANA = '5843104000000624001';
const DIEGO = '5843104000000624002';
const LIAM = '003RO0000035WQgYAM';

before(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  browser = await launch(sandbox);
  mkdirSync(shots, { recursive: true });
  ext = await browser.ctx.newPage();
  await ext.goto(`chrome-extension://${browser.extensionId}/popup.html`);
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const send = (msg) => ext.evaluate((m) => chrome.runtime.sendMessage(m), msg);

/** Write records into the worker's own database, as the worker stores them (JSON text). */
const seeded = new Map();
async function seed(entries) {
  for (const [s, k, v] of entries) if (s === 'chats' && v?.identity) seeded.set(k, v.identity);
  await ext.evaluate(async (entries) => {
    const db = await new Promise((res, rej) => { const r = indexedDB.open('crmsync'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const tx = db.transaction([...new Set(entries.map((e) => e[0]))], 'readwrite');
    for (const [s, k, v] of entries) { if (v === null) tx.objectStore(s).delete(k); else tx.objectStore(s).put(JSON.stringify(v), k); }
    await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
    db.close();
  }, entries);
}

const ident = (phone, name, extra = {}) => ({ phone, lid: null, name, is_group: false, ...extra });
const rec = (crm, kind, id, name, more = {}) => ({ crm, kind, id, name, phones: [], email: null, company: null, title: null, owner: null, status: null, ...more });
function linkedChat(identity, card, extra = {}) {
  return {
    identity, links: [{ crm: card.crm, kind: card.kind, id: card.id }], last_synced_at_ms: null, excluded: false,
    matched: { outcome: 'linked', records: [{ record: { crm: card.crm, kind: card.kind, id: card.id }, name: card.name, how: 'exact', field: null }] },
    matched_at_ms: Date.now(), cards: [card], deals: [], urls: {}, participants: [], ...extra,
  };
}
const anaCard = rec('zoho', 'contact', ANA, 'Ana Souza', { company: 'Souza Ltda', title: 'Buyer', email: 'ana@souza.example',
  phones: [['Mobile', '+55 11 98765-4321']], owner: 'Rep One', status: 'Qualified' });
/** The local calendar day `n` days from now, as a CRM writes a close date. */
const dayFromNow = (n) => { const d = new Date(Date.now() + n * 86_400_000); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; };
const deals = [1, 2, 3, 4, 5, 6].map((i) => ({ name: `Deal ${i}`, stage: 'Negotiation', amount: 1234.5 * i, currency: 'BRL', close_date: dayFromNow(i * 3 - 2) }));

/** The identity a chat key stands for (as the content script would report it). */
function identityOf(key, name) {
  const [kind, ...rest] = key.split(':');
  const v = rest.join(':');
  if (kind === 'pn') return ident(v, name || v);
  if (kind === 'lid') return { phone: null, lid: v, name: name || v, is_group: false };
  return { phone: null, lid: null, name: name || v, is_group: kind === 'group' };
}

/** Open the panel page in a tab of its own, bound for that tab the way the worker binds the
 *  frame a content script inserted (its `panel:<tab>` and `tabchat:<tab>` records), showing
 *  the chat of `hash` (`chat=<key>&theme=…`, read here by the test, never by the panel). */
async function openPanel(hash, shot) {
  const page = await browser.ctx.newPage();
  await page.setViewportSize({ width: 320, height: 640 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`chrome-extension://${browser.extensionId}/panel.html`);
  await page.waitForSelector('#state[data-view]');
  const tab = await page.evaluate(() => chrome.tabs.getCurrent().then((t) => t.id));
  const q = new URLSearchParams(hash);
  const key = q.get('chat');
  // The identity as WhatsApp shows it: the seeded chat's, else one made from the key.
  const chat = key ? (seeded.get(key) || identityOf(key, q.get('name'))) : null;
  await seed([['meta', `panel:${tab}`, { nonce: 'bound-by-the-test-0001', frame: 0, blocked: null }],
    ['meta', `tabchat:${tab}`, { chat, previous_chat: null, theme: q.get('theme') }]]);
  await page.reload();
  await page.waitForSelector('#state[data-view]:not([data-view="unbound"])');
  if (shot) await page.screenshot({ path: join(shots, `${shot}.png`) });
  return { page, errors };
}
/** Confirm the action the panel asks about (it names the chat as the worker knows it). */
async function confirmed(page, re) {
  await page.waitForSelector('#confirm-yes');
  if (re) assert.match(await page.textContent('#confirm-text'), re);
  await page.click('#confirm-yes');
}
const view = (page) => page.getAttribute('#state', 'data-view');

test('not connected: says so and offers the options page', async () => {
  const { page, errors } = await openPanel('chat=pn:%2B5511987654321', 'panel-not-connected');
  assert.equal(await page.textContent('#message'),
    'No CRM is connected yet. Connect Zoho CRM, Salesforce or LeadSquared to see who you are chatting with.');
  assert.equal(await page.textContent('button#open-options'), 'Connect a CRM');
  // Developer details live in the diagnostics, folded away.
  assert.equal(await page.textContent('#diagnostics #worker'), 'Service worker: running');
  assert.equal(await page.isVisible('#worker'), false);
  assert.deepEqual(errors, []);
  await page.close();
  for (const c of CREDS) assert.equal((await send({ kind: 'connect', credentials: c })).ok, true);
});

test('connecting: a connected CRM and a chat not looked up yet', async () => {
  const { page } = await openPanel('chat=pn:%2B5511000000000');
  assert.equal(await page.textContent('#message'), 'Looking up this chat in your CRM…');
  await page.close();
});

test('no chat open', async () => {
  const { page } = await openPanel('theme=light');
  assert.equal(await view(page), 'no_chat');
  await page.close();
});

test('linked: card, 5 deals, last synced with absolute hover time, safe click-through in a new tab', async () => {
  const last = Date.now() - 2 * 60_000 - 5_000;
  const url = `https://crm.zoho.com/crm/org20079892132/tab/Contacts/${ANA}`;
  await seed([['chats', 'pn:+5511987654321', linkedChat(ident('+5511987654321', 'Ana'), anaCard, { deals, last_synced_at_ms: last, urls: { [ANA]: url } })]]);
  const { page, errors } = await openPanel('chat=pn:%2B5511987654321&theme=light', 'panel-linked-light');
  assert.equal(await page.textContent('#card-name'), 'Ana Souza');
  assert.equal(await page.textContent('#crm-badge'), 'Zoho CRM');
  assert.equal(await page.textContent('#card-company'), 'Souza Ltda');
  assert.equal(await page.textContent('#card-email'), 'ana@souza.example');
  assert.equal(await page.textContent('#card-status'), 'Qualified');
  assert.equal(await page.textContent('#card-owner'), 'Rep One');
  assert.equal(await page.locator('#deals li').count(), 5);
  // Stage as a chip, the amount in the deal's currency for the browser's locale, the close
  // date relative to today.
  assert.equal(await page.textContent('#deals li:first-child .deal-name'), 'Deal 1');
  assert.equal(await page.textContent('#deals li:first-child .chip'), 'Negotiation');
  assert.equal(await page.textContent('#deals li:first-child .deal-amount'), 'R$1,234.50');
  assert.equal(await page.textContent('#deals li:first-child .deal-close'), 'closes tomorrow');
  assert.equal(await page.textContent('#deals li:nth-child(2) .deal-close'), 'closes in 4 days');
  assert.equal(await page.textContent('#card-phones'), '+55 11 98765-4321');
  assert.equal(await page.textContent('#last-synced'), 'Last synced 2 min ago');
  // The exact local time on hover, in the browser's locale (en-US here: "Dec 2, 2026, 9:57 AM").
  assert.match(await page.getAttribute('#last-synced', 'title'), /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d\s[AP]M$/);
  assert.equal(await page.textContent('#sync-state'), 'Up to date');
  assert.equal(await page.getAttribute('#sync-state', 'aria-live'), 'polite');
  assert.equal(await page.getAttribute('#open-record', 'href'), url);
  assert.equal(await page.getAttribute('#open-record', 'target'), '_blank');
  const [tab] = await Promise.all([browser.ctx.waitForEvent('page'), page.click('#open-record')]);
  await tab.waitForLoadState();
  assert.equal(new URL(tab.url()).host, 'crm.zoho.com');
  assert.match(await tab.textContent('body'), /Ana/);
  await tab.close();
  assert.equal(await page.evaluate(() => document.body.classList.contains('dark')), false);
  assert.deepEqual(errors, []);
  await page.close();
});

test('click-through per CRM: https on the CRM host only', async () => {
  const cases = [
    ['salesforce', 'https://crmsync-dev.lightning.force.com/lightning/r/Contact/003xx/view', true],
    ['leadsquared', 'https://in21.leadsquared.com/LeadManagement/LeadDetails?LeadID=1', true],
    ['zoho', 'https://crm.zoho.eu/crm/org1/tab/Leads/9', true],
    ['zoho', 'http://crm.zoho.com/crm/tab/Leads/9', false],
    ['salesforce', 'https://crm.zoho.com/x', false],
  ];
  for (const [crm, url, shown] of cases) {
    const card = rec(crm, 'contact', 'r1', 'Someone');
    await seed([['chats', 'pn:+1555', linkedChat(ident('+1555', 'x'), card, { urls: { r1: url } })]]);
    const { page } = await openPanel('chat=pn:%2B1555');
    await page.waitForSelector('#card-name');
    assert.equal(await page.locator('#open-record').count(), shown ? 1 : 0, url);
    if (shown) assert.equal(await page.getAttribute('#open-record', 'href'), url);
    await page.close();
  }
});

test('sync states from the worker: pending, syncing, missing permission, rate limit, offline', async () => {
  const now = Date.now();
  const chat = linkedChat(ident('+1666', 'Liam'), rec('zoho', 'contact', 'z9', 'Liam'));
  const pending = [['pending', 'm1', 'pn:+1666|2026-11-20'], ['pending', 'm2', 'pn:+1666|2026-11-21'], ['pending', 'm3', 'pn:+1666|2026-11-21']];
  const state = (s) => ['meta', 'state', { syncing: false, last_started_ms: null, last_finished_ms: null, last_error: null, retry_not_before_ms: null, ...s }];
  const cases = [
    [[state({})], '3 messages waiting to sync'],
    [[state({ syncing: true })], 'Syncing…'],
    [[state({}), ['meta', 'parked', [{ doc: 'd', reason: 'missing permission in the CRM: NO_PERMISSION Notes', at_ms: now }]]],
      'Sync stopped: your CRM user lacks the "missing permission in the CRM: NO_PERMISSION Notes" permission. Ask your CRM admin to grant it.'],
    [[state({ retry_not_before_ms: now + 4 * 60_000 + 30_000 }), ['meta', 'parked', []]], "The CRM's API limit was reached. Retrying in 5 min."],
    [[state({ last_error: 'Zoho CRM: temporary CRM error (no response from the CRM); will retry' })], 'You are offline. Messages are kept and sync when you are back online.'],
  ];
  for (const [entries, text] of cases) {
    await seed([['chats', 'pn:+1666', chat], ...pending, ...entries]);
    const { page } = await openPanel('chat=pn:%2B1666&theme=dark', `panel-sync-${text.slice(0, 12).replace(/\W/g, '_')}`);
    assert.equal(await page.textContent('#sync-state'), text);
    assert.equal(await page.textContent('#last-synced'), 'Not synced yet');
    assert.equal(await page.evaluate(() => document.body.classList.contains('dark')), true);
    await page.close();
  }
  await seed([state({}), ['meta', 'parked', []], ...pending.map(([s, k]) => [s, k, null])]);
});

test('unknown number: prefilled form, validation next to the field, a real lead in Zoho, then the card', async () => {
  const phone = '+5511912340000';
  await seed([['chats', `pn:${phone}`, { identity: ident(phone, 'Bruno Costa'), links: [], excluded: false, last_synced_at_ms: null,
    matched: { outcome: 'no_match', reason: 'none' }, matched_at_ms: Date.now(), cards: [] }]]);
  const { page, errors } = await openPanel(`chat=pn:${encodeURIComponent(phone)}`, 'panel-unknown');
  // The number in international format (the rep's region is the default, US).
  assert.equal(await page.textContent('#message'), '+55 11 91234-0000 is not in your CRM yet.');
  assert.equal(await page.inputValue('#f-first_name'), 'Bruno');
  assert.equal(await page.inputValue('#f-last_name'), 'Costa');
  assert.equal(await page.inputValue('#f-phone'), phone);
  assert.deepEqual(await page.locator('#f-crm option').allTextContents(), ['Zoho CRM', 'Salesforce', 'LeadSquared']);
  await page.fill('#f-last_name', '');
  await page.fill('#f-email', 'bruno@');
  await page.click('#create-submit');
  assert.equal(await page.textContent('#err-last_name'), 'Required');
  assert.equal(await page.textContent('#err-email'), 'Not a valid email address');
  await page.fill('#f-last_name', 'Costa');
  await page.fill('#f-email', 'bruno@costa.example');
  await page.selectOption('#f-kind', 'lead');
  await page.selectOption('#f-crm', 'zoho');
  await page.click('#create-submit');
  await confirmed(page, /^Create this record in Zoho CRM and link it to Bruno Costa \(\+5511912340000\)\?$/);
  await until(async () => (await view(page)) === 'linked', { what: 'the new lead card' });
  assert.equal(await page.textContent('#card-name'), 'Bruno Costa');
  const led = await sandbox.ledger();
  const leads = led.zoho.leads.filter((l) => l.Mobile === phone);
  assert.equal(leads.length, 1, 'exactly one lead created');
  assert.equal(leads[0].Last_Name, 'Costa');
  assert.match(await page.getAttribute('#open-record', 'href'), new RegExp(`^https://crm\\.zoho\\.com/crm/org20079892132/tab/Leads/${leads[0].id}$`));
  assert.deepEqual(errors, []);
  await page.close();
});

test("Zoho lead source: none in a stock org's picklist, WhatsApp once the org has it; the picklist read once per connection", async () => {
  const create = async (phone, first, last) => {
    await seed([['chats', `pn:${phone}`, { identity: ident(phone, `${first} ${last}`), links: [], excluded: false, last_synced_at_ms: null,
      matched: { outcome: 'no_match', reason: 'none' }, matched_at_ms: Date.now(), cards: [] }]]);
    const { page } = await openPanel(`chat=pn:${encodeURIComponent(phone)}`, `panel-lead-source-${last}`);
    await page.selectOption('#f-kind', 'lead');
    await page.selectOption('#f-crm', 'zoho');
    await page.click('#create-submit');
    await confirmed(page, /^Create this record in Zoho CRM and link it to /);
    await until(async () => (await view(page)) === 'linked', { what: `${last}: the new lead card` });
    await page.close();
    return (await sandbox.ledger()).zoho.leads.filter((l) => l.Mobile === phone);
  };
  const fieldReads = async () => (await sandbox.ledger()).requests.filter((r) => r.host === 'www.zohoapis.com'
    && r.method === 'GET' && r.path === '/crm/v8/settings/fields' && r.status === 200).length;
  const before = await fieldReads();
  // A stock org's picklist has no WhatsApp: no Lead_Source is sent.
  const [stock] = await create('+5511912340001', 'Caio', 'Stock');
  assert.equal(stock.Lead_Source, undefined, JSON.stringify(stock));
  const [again] = await create('+5511912340002', 'Caio', 'Again');
  assert.equal(again.Lead_Source, undefined);
  // Read once for this connection (an earlier create in this file may have read it already).
  const once = await fieldReads();
  assert.equal(once, Math.max(before, 1), 'the Leads picklist is read once for this connection');
  // The admin adds WhatsApp to the picklist; a new connection reads it and sends it.
  const cfg = await sandbox.fetch('www.zohoapis.com', '/__sandbox/config', { method: 'POST',
    body: JSON.stringify({ zoho_lead_sources: ['-None-', 'Advertisement', 'Cold Call', 'WhatsApp'] }) });
  assert.equal(cfg.status, 200);
  assert.equal((await send({ kind: 'connect', credentials: CREDS[0] })).ok, true);
  const [sourced] = await create('+5511912340003', 'Caio', 'Sourced');
  assert.equal(sourced.Lead_Source, 'WhatsApp', JSON.stringify(sourced));
  assert.equal(await fieldReads(), once + 1, 'a new connection reads it again');
});

test('link existing record by search, its opportunities on the card, then unlink (remembered)', async () => {
  const phone = '+447700900123';
  await seed([['chats', `pn:${phone}`, { identity: ident(phone, 'L. Carter (UK)'), links: [], excluded: false, last_synced_at_ms: null,
    matched: { outcome: 'no_match', reason: 'none' }, matched_at_ms: Date.now(), cards: [] }]]);
  const { page } = await openPanel(`chat=pn:${encodeURIComponent(phone)}`);
  await page.fill('#f-query', 'Liam');
  await page.click('#link-search');
  await until(async () => (await page.locator('#results li').count()) > 0, { what: 'search results' });
  assert.match(await page.textContent('#link-status'), /^\d+ records found$/);
  const texts = await page.locator('#results li .deal-name').allTextContents();
  const i = texts.indexOf('Liam Carter · Salesforce · contact');
  assert.ok(i >= 0, JSON.stringify(texts));
  await page.click(`#results-${i}`);
  await confirmed(page, /^Link L\. Carter \(UK\) \(\+447700900123\) to Liam Carter \(Salesforce contact\)\?$/);
  await until(async () => (await view(page)) === 'linked', { what: 'linked card' });
  assert.equal(await page.textContent('#card-name'), 'Liam Carter');
  assert.equal(await page.textContent('#crm-badge'), 'Salesforce');
  assert.deepEqual(await page.locator('#deals .deal-name').allTextContents(), ['Warehouse sensors', 'Fleet tracking rollout']);
  assert.equal(await page.getAttribute('#open-record', 'href'), `https://crmsync-dev.lightning.force.com/lightning/r/Contact/${LIAM}/view`);
  await page.click('#unlink');
  await confirmed(page, /^Unlink L\. Carter \(UK\) \(\+447700900123\) from its CRM record\?$/);
  await until(async () => (await view(page)) === 'unknown', { what: 'unlinked' });
  const chats = (await send({ kind: 'export' })).chats.filter((c) => c.identity.phone === phone);
  assert.deepEqual(chats[0].links, []);
  await page.close();
});

test('ambiguous: a chooser; choosing links the record', async () => {
  const a = rec('zoho', 'contact', ANA, 'Ana Souza'), d = rec('zoho', 'contact', DIEGO, 'Diego Hernández');
  await seed([['chats', 'pn:+5511999990000', { identity: ident('+5511999990000', 'Carla'), links: [], excluded: false, last_synced_at_ms: null,
    matched: { outcome: 'ambiguous', candidates: [
      { record: { crm: 'zoho', kind: 'contact', id: ANA }, name: 'Ana Souza', how: 'exact', field: ['Mobile', '+55 11 99999-0000'] },
      { record: { crm: 'zoho', kind: 'contact', id: DIEGO }, name: 'Diego Hernández', how: 'exact', field: null }] },
    matched_at_ms: Date.now(), cards: [a, d] }]]);
  const { page } = await openPanel('chat=pn:%2B5511999990000', 'panel-ambiguous');
  assert.equal(await page.textContent('#message'), 'Several CRM records match Carla. Choose the right one:');
  assert.deepEqual(await page.locator('#candidates .deal-name').allTextContents(), ['Ana Souza · Zoho CRM · contact', 'Diego Hernández · Zoho CRM · contact']);
  assert.equal(await page.getAttribute('#candidates-1', 'aria-label'), 'This one: Diego Hernández');
  await page.click('#candidates-1');
  await confirmed(page, /^Link Carla \(\+5511999990000\) to Diego Hernández \(Zoho CRM contact\)\?$/);
  await until(async () => (await view(page)) === 'linked', { what: 'chosen' });
  assert.equal(await page.textContent('#card-name'), 'Diego Hernández');
  await page.close();
});

test('group, lid-only and excluded chats', async () => {
  await seed([
    ['chats', 'group:Acme buyers', { identity: { phone: null, lid: null, name: 'Acme buyers', is_group: true }, links: [{ crm: 'zoho', kind: 'contact', id: ANA }],
      excluded: false, matched: { outcome: 'linked', records: [] }, matched_at_ms: Date.now(), cards: [anaCard],
      participants: [{ name: 'Ana Souza', phone: '+5511987654321', record: 'Ana Souza (Zoho CRM)' }, { name: 'Unsaved', phone: '+5511900001111', record: null }] }],
    ['chats', 'lid:196271432331425@lid', { identity: { phone: null, lid: '196271432331425@lid', name: 'Dora', is_group: false }, links: [],
      excluded: false, matched: { outcome: 'no_match', reason: 'lid' }, matched_at_ms: Date.now(), cards: [] }],
  ]);
  let { page } = await openPanel('chat=group%3AAcme%20buyers', 'panel-group');
  assert.equal(await page.textContent('#group-name'), 'Acme buyers');
  assert.deepEqual(await page.locator('#participants .deal-name').allTextContents(), ['Ana Souza', 'Unsaved']);
  assert.deepEqual(await page.locator('#participants .deal-meta').allTextContents(), ['Ana Souza (Zoho CRM)', '+55 11 90000-1111']);
  // The unmatched participant with a number: create or link, inline.
  assert.equal(await page.getAttribute('#participant-create-1', 'aria-label'), 'Create a CRM record for Unsaved');
  await page.click('#participant-create-1');
  assert.equal(await page.inputValue('#participant-action #f-phone'), '+5511900001111');
  assert.equal(await page.inputValue('#participant-action #f-last_name'), 'Unsaved');
  await page.click('#participant-link-1');
  assert.equal(await page.inputValue('#participant-action #f-query'), '+5511900001111');
  assert.equal(await page.textContent('#group-backup'), "This group's chat is backed up to: Ana Souza (Zoho CRM contact)");
  await page.close();
  ({ page } = await openPanel('chat=lid%3A196271432331425%40lid', 'panel-lid'));
  assert.equal(await page.textContent('#message'), "WhatsApp does not show Dora's phone number, so crmsync cannot match it. Link a CRM record by hand.");
  assert.equal(await page.locator('#link-form').count(), 1);
  await page.close();
  // Excluding from the panel: remembered in the settings, undone the same way.
  ({ page } = await openPanel('chat=group%3AAcme%20buyers'));
  await page.click('#exclude');
  await confirmed(page, /^Stop syncing Acme buyers\?$/);
  await until(async () => (await view(page)) === 'excluded', { what: 'excluded' });
  assert.equal(await page.textContent('#message'), 'Acme buyers is excluded from sync in the options.');
  assert.deepEqual((await send({ kind: 'get_settings' })).excluded_chats, ['group:Acme buyers']);
  await page.screenshot({ path: join(shots, 'panel-excluded.png') });
  await page.click('#exclude');
  await confirmed(page, /^Sync Acme buyers again\?$/);
  await until(async () => (await view(page)) === 'group', { what: 'included again' });
  assert.deepEqual((await send({ kind: 'get_settings' })).excluded_chats, []);
  await page.close();
});

test('XSS-style CRM values render as inert text', async () => {
  const evil = '<img src=x onerror="window.__pwned=1">';
  const card = rec('zoho', 'contact', 'x1', evil, { company: 'Acme\u202Egnp.exe', title: '<script>window.__pwned=2</script>' });
  await seed([['chats', 'pn:+1777', linkedChat(ident('+1777', 'x'), card, { urls: { x1: 'javascript:window.__pwned=3' },
    deals: [{ name: '<b onmouseover=alert(1)>x</b>', stage: evil, amount: null, currency: null, close_date: null }] })]]);
  const { page, errors } = await openPanel('chat=pn:%2B1777', 'panel-xss');
  assert.equal(await page.textContent('#card-name'), evil);
  assert.equal(await page.textContent('#card-company'), 'Acmegnp.exe');
  assert.equal(await page.locator('img, script:not([src]), b').count(), 0);
  assert.equal(await page.locator('#open-record').count(), 0);
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(errors, []);
  await page.close();
});

test('collapse button toggles the panel and its label', async () => {
  const { page } = await openPanel('chat=pn:%2B1');
  assert.equal(await page.getAttribute('#collapse', 'aria-label'), 'Collapse the crmsync panel');
  await page.click('#collapse');
  assert.equal(await page.getAttribute('#collapse', 'aria-expanded'), 'false');
  assert.equal(await page.getAttribute('#collapse', 'aria-label'), 'Expand the crmsync panel');
  assert.equal(await page.isVisible('#state'), false);
  await page.close();
});
