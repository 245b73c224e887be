// The Mini-CRM panel in headless Chromium: every state, driven by what the worker has stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, launch, until, ROOT } from './harness.mjs';

let sandbox, browser, sw;
const shots = join(ROOT, 'target/screenshots');
before(async () => {
  sandbox = await startSandbox(); browser = await launch(sandbox); sw = await browser.worker();
  mkdirSync(shots, { recursive: true });
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const store = (v) => sw.evaluate((v) => chrome.storage.local.set(v), v);
const clear = () => sw.evaluate(() => chrome.storage.local.clear());

async function openPanel(hash, shot) {
  const page = await browser.ctx.newPage();
  await page.setViewportSize({ width: 320, height: 640 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`chrome-extension://${browser.extensionId}/panel.html#${hash}`);
  await page.waitForSelector('#worker');
  if (shot) await page.screenshot({ path: join(shots, `${shot}.png`) });
  return { page, errors };
}

const ana = {
  view: 'linked',
  card: { crm: 'zoho', kind: 'contact', name: 'Ana Souza', company: 'Souza Ltda', title: 'Buyer', email: 'ana@souza.example',
    phones: ['+55 11 98765-4321'], owner: 'Rep One', status: 'Qualified', url: 'https://crm.zoho.com/crm/org1/tab/Contacts/111' },
  deals: [1, 2, 3, 4, 5, 6].map((i) => ({ name: `Deal ${i}`, stage: 'Negotiation', amount: 1234.5 * i, currency: 'BRL', close_date: '2026-12-0' + i })),
  sync: { state: 'idle' },
};

test('not connected: says so and offers the options page', async () => {
  await clear();
  const { page, errors } = await openPanel('chat=pn:%2B5511987654321', 'panel-not-connected');
  assert.equal(await page.textContent('#message'),
    'No CRM is connected yet. Connect Zoho CRM, Salesforce or LeadSquared to see who you are chatting with.');
  assert.equal(await page.textContent('button#open-options'), 'Connect a CRM');
  assert.equal(await page.textContent('#worker'), 'Service worker: running');
  assert.deepEqual(errors, []);
  await page.close();
});

test('connecting: a connected CRM and a chat not looked up yet', async () => {
  await clear();
  await store({ connections: { zoho: { connected: true } } });
  const { page } = await openPanel('chat=pn:%2B5511000000000');
  assert.equal(await page.textContent('#message'), 'Looking up this chat in your CRM…');
  await page.close();
});

test('linked: card, 5 deals, last synced with absolute hover time, safe click-through in a new tab', async () => {
  await clear();
  const last = Date.now() - 2 * 60_000 - 5_000;
  await store({ connections: { zoho: { connected: true } }, panel_cache: { 'pn:+5511987654321': { ...ana, last_synced_ms: last } } });
  const { page, errors } = await openPanel('chat=pn:%2B5511987654321&theme=light', 'panel-linked-light');
  assert.equal(await page.textContent('#card-name'), 'Ana Souza');
  assert.equal(await page.textContent('#crm-badge'), 'Zoho CRM');
  assert.equal(await page.textContent('#card-company'), 'Souza Ltda');
  assert.equal(await page.textContent('#card-email'), 'ana@souza.example');
  assert.equal(await page.textContent('#card-status'), 'Qualified');
  assert.equal(await page.locator('#deals li').count(), 5);
  assert.equal(await page.textContent('#deals li:first-child'), 'Deal 1Negotiation · BRL 1,234.50 · closes 2026-12-01');
  assert.equal(await page.textContent('#last-synced'), 'Last synced 2 min ago');
  assert.match(await page.getAttribute('#last-synced', 'title'), /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  assert.equal(await page.textContent('#sync-state'), 'Up to date');
  assert.equal(await page.getAttribute('#sync-state', 'aria-live'), 'polite');
  assert.equal(await page.getAttribute('#open-record', 'href'), ana.card.url);
  assert.equal(await page.getAttribute('#open-record', 'target'), '_blank');
  const [tab] = await Promise.all([browser.ctx.waitForEvent('page'), page.click('#open-record')]);
  assert.equal(new URL(tab.url()).host, 'crm.zoho.com');
  await tab.close();
  assert.equal(await page.evaluate(() => document.body.classList.contains('dark')), false);
  assert.deepEqual(errors, []);
  await page.close();
});

test('click-through per CRM: https on the CRM host only', async () => {
  const cases = [
    ['salesforce', 'https://acme.lightning.force.com/lightning/r/Contact/003xx/view', true],
    ['leadsquared', 'https://run.leadsquared.com/LeadManagement/LeadDetails?LeadID=1', true],
    ['zoho', 'https://crm.zoho.eu/crm/tab/Leads/9', true],
    ['zoho', 'http://crm.zoho.com/crm/tab/Leads/9', false],
    ['salesforce', 'https://crm.zoho.com/x', false],
  ];
  for (const [crm, url, shown] of cases) {
    await clear();
    await store({ connections: { [crm]: { connected: true } }, panel_cache: { 'pn:+1': { ...ana, card: { ...ana.card, crm, url } } } });
    const { page } = await openPanel('chat=pn:%2B1');
    await page.waitForSelector('#card-name');
    assert.equal(await page.locator('#open-record').count(), shown ? 1 : 0, url);
    if (shown) assert.equal(await page.getAttribute('#open-record', 'href'), url);
    await page.close();
  }
});

test('sync states: plain-language reason and the fix', async () => {
  const now = Date.now();
  const cases = [
    [{ state: 'pending', count: 3 }, '3 messages waiting to sync'],
    [{ state: 'syncing' }, 'Syncing…'],
    [{ state: 'auth_expired' }, 'Sync stopped: the CRM sign-in expired. Reconnect to resume.'],
    [{ state: 'missing_permission', permission: 'Notes: create' }, 'Sync stopped: your CRM user lacks the "Notes: create" permission. Ask your CRM admin to grant it.'],
    [{ state: 'rate_limited', retry_at_ms: now + 4 * 60_000 + 30_000 }, "The CRM's API limit was reached. Retrying in 5 min."],
    [{ state: 'offline' }, 'You are offline. Messages are kept and sync when you are back online.'],
  ];
  for (const [sync, text] of cases) {
    await clear();
    await store({ connections: { zoho: { connected: true } }, panel_cache: { 'pn:+1': { ...ana, sync, last_synced_ms: null } } });
    const { page } = await openPanel('chat=pn:%2B1&theme=dark', `panel-sync-${sync.state}`);
    assert.equal(await page.textContent('#sync-state'), text);
    assert.equal(await page.textContent('#last-synced'), 'Not synced yet');
    assert.equal(await page.locator('button#reconnect').count(), sync.state === 'auth_expired' ? 1 : 0);
    assert.equal(await page.evaluate(() => document.body.classList.contains('dark')), true);
    await page.close();
  }
});

test('Sync now (keyboard) runs a worker sync cycle and updates the live status', async () => {
  await clear();
  await store({ connections: { zoho: { connected: true } }, panel_cache: { 'pn:+1': { ...ana, sync: { state: 'pending', count: 2 }, last_synced_ms: null } } });
  const { page } = await openPanel('chat=pn:%2B1');
  assert.equal(await page.textContent('#sync-state'), '2 messages waiting to sync');
  await page.focus('#sync-now');
  await page.keyboard.press('Enter');
  await until(async () => (await page.textContent('#sync-state')) === 'Up to date', { what: 'sync reply' });
  await page.close();
});

test('unknown number: prefilled create form, validation next to the field, then the worker request', async () => {
  await clear();
  await store({ connections: { zoho: { connected: true } }, panel_cache: { 'pn:+5511912345678': { view: 'unknown', name: 'Bruno Lima', phone: '+5511912345678', crms: ['zoho'] } } });
  const { page } = await openPanel('chat=pn:%2B5511912345678', 'panel-unknown');
  assert.equal(await page.textContent('#message'), '+5511912345678 is not in your CRM yet.');
  assert.equal(await page.inputValue('#f-first_name'), 'Bruno');
  assert.equal(await page.inputValue('#f-last_name'), 'Lima');
  assert.equal(await page.inputValue('#f-phone'), '+5511912345678');
  assert.equal(await page.textContent('label[for=f-last_name]'), 'Last name');
  await page.fill('#f-last_name', '');
  await page.fill('#f-email', 'bruno@');
  await page.click('#create-submit');
  assert.equal(await page.textContent('#err-last_name'), 'Required');
  assert.equal(await page.textContent('#err-email'), 'Not a valid email address');
  assert.equal(await page.textContent('#form-status'), '');
  await page.fill('#f-last_name', 'Lima');
  await page.fill('#f-email', 'bruno@lima.example');
  await page.selectOption('#f-kind', 'lead');
  await page.click('#create-submit');
  await until(async () => (await page.textContent('#form-status')) === 'No CRM is connected yet.', { what: 'create reply' });
  assert.equal(await page.textContent('#err-last_name'), '');
  await page.fill('#f-query', 'Bruno');
  await page.click('#link-search');
  await until(async () => (await page.textContent('#link-status')) === 'No CRM is connected yet.', { what: 'search reply' });
  await page.close();
});

test('ambiguous, group, lid-only and excluded chats', async () => {
  await clear();
  await store({ connections: { salesforce: { connected: true } }, panel_cache: {
    a: { view: 'ambiguous', name: 'Carla', candidates: [
      { crm: 'salesforce', kind: 'contact', id: '003A', name: 'Carla Dias', detail: 'Acme' },
      { crm: 'salesforce', kind: 'lead', id: '00QB', name: 'Carla D.' }] },
    g: { view: 'group', name: 'Acme buyers', participants: [{ name: 'Ana Souza', phone: '+5511987654321', record: 'Zoho CRM contact Ana Souza' }], backup_to: ['Ana Souza (Zoho CRM contact)'] },
    l: { view: 'lid_only', name: 'Dora' },
    x: { view: 'excluded', name: 'Family' },
  } });
  let { page } = await openPanel('chat=a', 'panel-ambiguous');
  assert.equal(await page.textContent('#message'), 'Several CRM records match Carla. Choose the right one:');
  assert.deepEqual(await page.locator('#candidates button').allTextContents(), ['Carla Dias · Salesforce · contact', 'Carla D. · Salesforce · lead']);
  await page.close();
  ({ page } = await openPanel('chat=g', 'panel-group'));
  assert.equal(await page.textContent('#group-name'), 'Acme buyers');
  assert.deepEqual(await page.locator('#participants li').allTextContents(), ['Ana Souza → Zoho CRM contact Ana Souza']);
  assert.equal(await page.textContent('#group-backup'), "This group's chat is backed up to: Ana Souza (Zoho CRM contact)");
  await page.close();
  ({ page } = await openPanel('chat=l'));
  assert.equal(await page.textContent('#message'), "WhatsApp does not show Dora's phone number, so crmsync cannot match it. Link a CRM record by hand.");
  assert.equal(await page.locator('#link-form').count(), 1);
  await page.close();
  ({ page } = await openPanel('chat=x'));
  assert.equal(await page.textContent('#message'), 'Family is excluded from sync in the options.');
  await page.close();
});

test('XSS-style CRM values render as inert text', async () => {
  await clear();
  const evil = '<img src=x onerror="window.__pwned=1">';
  await store({ connections: { zoho: { connected: true } }, panel_cache: { 'pn:+1': { ...ana, last_synced_ms: null,
    card: { ...ana.card, name: evil, company: 'Acme\u202Egnp.exe', title: '<script>window.__pwned=2</script>', url: 'javascript:window.__pwned=3' },
    deals: [{ name: '<b onmouseover=alert(1)>x</b>', stage: evil }] } } });
  const { page, errors } = await openPanel('chat=pn:%2B1', 'panel-xss');
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
  await clear();
  const { page } = await openPanel('chat=pn:%2B1');
  assert.equal(await page.getAttribute('#collapse', 'aria-label'), 'Collapse the crmsync panel');
  await page.click('#collapse');
  assert.equal(await page.getAttribute('#collapse', 'aria-expanded'), 'false');
  assert.equal(await page.getAttribute('#collapse', 'aria-label'), 'Expand the crmsync panel');
  assert.equal(await page.isVisible('#state'), false);
  await page.close();
});
