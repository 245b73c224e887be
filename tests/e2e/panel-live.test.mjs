// The panel inside the fake WhatsApp Web with the three sandbox CRMs connected: the open
// chat's card from real matching, chat switches, theme, docking and collapse, groups backed
// up to every linked participant's record, and a revoked grant shown as "reconnect".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startSandbox, launch, panelFrame, until, ROOT, CREDS } from './harness.mjs';

let sandbox, browser, ext, wa;
const ANA = '5843104000000624001';
const LIAM = '003RO0000035WQgYAM';

before(async () => {
  sandbox = await startSandbox({ seed: 'demo-chat-object' });
  browser = await launch(sandbox);
  ext = await browser.ctx.newPage();
  await ext.goto(`chrome-extension://${browser.extensionId}/popup.html`);
  for (const c of CREDS) assert.equal((await send({ kind: 'connect', credentials: c })).ok, true);
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const send = (msg) => ext.evaluate((m) => chrome.runtime.sendMessage(m), msg);
const viewOf = (frame) => frame.getAttribute('#state', 'data-view');

test('open chat → card from the CRM in the docked panel; CRM data stays out of the page', async () => {
  wa = await browser.ctx.newPage();
  await wa.goto('https://web.whatsapp.com/?chat=ana&theme=dark');
  await wa.evaluate(() => window.fakeWAReady);
  const frame = await panelFrame(wa);
  await until(async () => (await frame.textContent('#card-name').catch(() => '')) === 'Ana Souza', { what: "Ana's card", timeout: 30000 });
  assert.equal(await frame.textContent('#crm-badge'), 'Zoho CRM');
  assert.equal(await frame.textContent('#card-company'), 'Construtora Paulista');
  // 7 deals in the CRM: the 5 most recently changed, newest first.
  assert.deepEqual(await frame.locator('#deals .deal-name').allTextContents(),
    [7, 6, 5, 4, 3].map((i) => `Reforma escritório fase ${i}`));
  assert.equal(await frame.getAttribute('#open-record', 'href'), `https://crm.zoho.com/crm/org20079892132/tab/Contacts/${ANA}`);
  assert.equal(await frame.evaluate(() => document.body.classList.contains('dark')), true);
  // The page sees neither the frame's document nor CRM text.
  assert.equal(await wa.evaluate(() => document.getElementById('crmsync-panel').contentDocument), null);
  assert.equal(await wa.evaluate(() => document.documentElement.outerHTML.includes('Construtora')), false);
  // Docked: WhatsApp's app is narrowed by the panel's width, so nothing of it is covered.
  const layout = () => wa.evaluate(() => ({
    app: document.getElementById('app').getBoundingClientRect().right,
    panel: document.getElementById('crmsync-panel').getBoundingClientRect().left,
    width: document.getElementById('crmsync-panel').getBoundingClientRect().width,
  }));
  let l = await layout();
  assert.equal(l.width, 320);
  assert.ok(l.app <= l.panel + 1, JSON.stringify(l));
  await wa.screenshot({ path: join(ROOT, 'target/screenshots/whatsapp-with-panel.png') });
  await frame.click('#collapse');
  await until(async () => (await layout()).width === 44, { what: 'collapsed to a tab' });
  l = await layout();
  assert.ok(l.app <= l.panel + 1, JSON.stringify(l));
  await frame.click('#collapse');
  await until(async () => (await layout()).width === 320, { what: 'expanded' });
  // Keyboard: Tab reaches "Sync now", Enter runs a cycle, the live line reports it.
  assert.match(await frame.textContent('#sync-state'), /^\d+ messages waiting to sync$/);
  await frame.focus('#open-record');
  for (let i = 0; i < 10 && (await frame.evaluate(() => document.activeElement?.id)) !== 'sync-now'; i++) await wa.keyboard.press('Tab');
  assert.equal(await frame.evaluate(() => document.activeElement?.id), 'sync-now');
  await wa.keyboard.press('Enter');
  await until(async () => (await frame.textContent('#sync-state')) === 'Up to date', { what: 'synced from the keyboard', timeout: 30000 });
  assert.ok((await sandbox.ledger()).zoho.notes.some((n) => n.parent_id === ANA));
});

test('switching chats follows the open chat: Salesforce contact, unknown number, @lid chat', async () => {
  const frame = await panelFrame(wa);
  await wa.evaluate(() => window.fakeWA.open('us'));
  await until(async () => (await frame.textContent('#card-name').catch(() => '')) === 'Liam Carter', { what: "Liam's card", timeout: 30000 });
  assert.equal(await frame.textContent('#crm-badge'), 'Salesforce');
  assert.deepEqual(await frame.locator('#deals .deal-name').allTextContents(), ['Warehouse sensors', 'Fleet tracking rollout']);
  // Opportunity amounts carry no currency in a single-currency org: the org's default
  // (Organization.DefaultCurrencyIsoCode, USD in the sandbox), read at connect.
  assert.deepEqual(await frame.locator('#deals .deal-amount').allTextContents(), ['$12,500.00', '$84,000.00']);
  assert.equal(await frame.getAttribute('#open-record', 'href'), `https://crmsync-dev.lightning.force.com/lightning/r/Contact/${LIAM}/view`);
  await wa.evaluate(() => window.fakeWA.open('unknown'));
  await until(async () => (await viewOf(frame)) === 'unknown', { what: 'unknown number', timeout: 30000 });
  assert.equal(await frame.inputValue('#f-phone'), '+5521998765432');
  await wa.evaluate(() => window.fakeWA.open('lid'));
  await until(async () => (await viewOf(frame)) === 'lid_only', { what: '@lid chat', timeout: 30000 });
  // No number: records are suggested by the chat's name, and searched at once.
  await until(async () => (await frame.inputValue('#f-query').catch(() => '')) === 'Marina (LID)', { what: 'the name suggested', timeout: 30000 });
  assert.match(await frame.textContent('#suggested'), /chat's name/);
  // An e-mail address the contact writes is a better suggestion: it finds the lead it belongs to.
  await wa.evaluate(() => window.fakeWA.receive('Hi! my e-mail is Noah@Example.com, send the quote there'));
  await until(async () => (await frame.inputValue('#f-query').catch(() => '')) === 'noah@example.com', { what: 'the e-mail suggested', timeout: 60000 });
  assert.match(await frame.textContent('#suggested'), /e-mail address/);
  await until(async () => (await frame.locator('#results li').allTextContents()).some((t) => t.includes('Noah Miller')),
    { what: 'the suggested lead listed', timeout: 30000 });
  // Only a suggestion: nothing is linked until the rep picks a result and confirms.
  const lid = (await send({ kind: 'export' })).chats.find((c) => c.identity.lid);
  assert.ok(lid, 'the @lid chat is stored');
  assert.deepEqual(lid.links ?? [], []);
  // A username chat (a name, no number, no @lid) is offered the same: its name searched.
  await wa.evaluate(() => window.fakeWA.open('username'));
  await until(async () => (await frame.inputValue('#f-query').catch(() => '')) === 'Marina Lopes', { what: 'the username chat suggested by name', timeout: 30000 });
  assert.equal(await viewOf(frame), 'lid_only');
});

test('a group is backed up to every linked participant, titled with the group name', async () => {
  const frame = await panelFrame(wa);
  await wa.evaluate(() => window.fakeWA.open('group'));
  await until(async () => (await viewOf(frame)) === 'group', { what: 'group view', timeout: 30000 });
  await wa.evaluate(() => window.fakeWA.receive('Can we move the delivery to Friday?', { author: 'Liam Carter', authorPhone: '+1 415 555 2671' }));
  await until(async () => (await frame.locator('#participants .deal-meta').allTextContents()).includes('Liam Carter (Salesforce)'),
    { what: 'Liam matched as a participant', timeout: 30000 });
  assert.match(await frame.textContent('#group-backup'), /Liam Carter \(Salesforce contact\)/);
  // The matched participant opens his record in Salesforce, as a card does.
  const href = await frame.locator('#participants a.deal-meta', { hasText: 'Liam Carter (Salesforce)' }).getAttribute('href');
  assert.ok(href?.startsWith('https://') && href.includes(`/${LIAM}/`), href);
  const r = await send({ kind: 'sync_now' });
  assert.equal(r.ran, true, JSON.stringify(r));
  const led = await sandbox.ledger();
  const chats = led.salesforce.WhatsApp_Chat__c.filter((c) => c.Contact__c === LIAM && c.Transcript__c.includes('move the delivery'));
  assert.equal(chats.length, 1, JSON.stringify(led.salesforce.WhatsApp_Chat__c.map((c) => c.Name)));
  assert.match(chats[0].Name, /Obra Paulista/);
});

// Confirm the question the panel asks (its text must match `re`).
async function confirm(frame, re) {
  await until(async () => re.test(await frame.textContent('#confirm-text').catch(() => '')), { what: `the question ${re}` });
  await frame.click('#confirm-yes');
}

test("a group participant without a record: Create makes one and Link links one, and each row then opens its record", async () => {
  const frame = await panelFrame(wa);
  await until(async () => (await viewOf(frame)) === 'group', { what: 'group view', timeout: 30000 });
  const row = (name) => frame.locator('#participants li', { hasText: name });
  const meta = async (name) => (await row(name).locator('.deal-meta').allTextContents()).join('|');
  // Create: a participant nobody has in a CRM, the form prefilled from the row.
  await wa.evaluate(() => window.fakeWA.receive('Oi, aqui é a Rita do financeiro.', { author: 'Rita Nova', authorPhone: '+55 21 97777-1234' }));
  await until(async () => (await row('Rita Nova').locator('[id^="participant-create-"]').count()) === 1, { what: 'Rita with Create', timeout: 30000 });
  await row('Rita Nova').locator('[id^="participant-create-"]').click();
  assert.equal(await frame.inputValue('#participant-action #f-phone'), '+5521977771234');
  assert.equal(await frame.inputValue('#participant-action #f-last_name'), 'Nova');
  await frame.selectOption('#participant-action #f-crm', 'zoho');
  await frame.selectOption('#participant-action #f-kind', 'contact');
  await frame.click('#participant-action #create-submit');
  await confirm(frame, /^Create this record in Zoho CRM and link it to /);
  await until(async () => (await meta('Rita Nova')) === 'Rita Nova (Zoho CRM)', { what: "Rita's row names her new record", timeout: 30000 });
  const rita = (await sandbox.ledger()).zoho.contacts.filter((c) => c.Mobile === '+5521977771234');
  assert.equal(rita.length, 1, 'one contact created');
  assert.equal(await row('Rita Nova').locator('a.deal-meta').getAttribute('href'), `https://crm.zoho.com/crm/org20079892132/tab/Contacts/${rita[0].id}`);
  assert.equal(await row('Rita Nova').locator('[id^="participant-create-"]').count(), 0, 'no Create once linked');
  assert.match(await frame.textContent('#group-backup'), /Rita Nova \(Zoho CRM contact\)/);
  // Link: a participant whose record is added to the CRM after the group was matched; the
  // search by their number finds it, and linking backs the group up to it.
  await wa.evaluate(() => window.fakeWA.receive('Tomás aqui, da obra.', { author: 'Tomás Prado', authorPhone: '+55 21 96666-4321' }));
  await until(async () => (await row('Tomás Prado').locator('[id^="participant-link-"]').count()) === 1, { what: 'Tomás with Link', timeout: 30000 });
  const form = (o) => Object.entries(o).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const tok = JSON.parse((await sandbox.fetch('accounts.zoho.com', '/oauth/v2/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ grant_type: 'refresh_token', client_id: '1000.SANDBOXCLIENT', client_secret: 'sandbox-secret', refresh_token: '1000.sandbox.refresh' }) })).body).access_token;
  const made = await sandbox.fetch('www.zohoapis.com', '/crm/v8/Contacts', { method: 'POST', headers: { authorization: `Zoho-oauthtoken ${tok}`, 'content-type': 'application/json' },
    body: JSON.stringify({ data: [{ First_Name: 'Tomás', Last_Name: 'Prado', Mobile: '+55 21 96666-4321' }] }) });
  assert.equal(made.status, 201, made.body);
  const tomas = JSON.parse(made.body).data[0].details.id;
  await row('Tomás Prado').locator('[id^="participant-link-"]').click();
  assert.equal(await frame.inputValue('#participant-action #f-query'), '+5521966664321');
  await frame.click('#participant-action #link-search');
  await until(async () => (await frame.locator('#participant-action #results li').count()) > 0, { what: 'search results', timeout: 30000 });
  const hit = frame.locator('#participant-action #results li', { hasText: 'Tomás Prado' });
  await hit.locator('button').click();
  await confirm(frame, /^Link .+ to Tomás Prado \(Zoho CRM contact\)\?$/);
  await until(async () => (await meta('Tomás Prado')) === 'Tomás Prado (Zoho CRM)', { what: "Tomás's row names his record", timeout: 30000 });
  assert.equal(await row('Tomás Prado').locator('a.deal-meta').getAttribute('href'), `https://crm.zoho.com/crm/org20079892132/tab/Contacts/${tomas}`);
  assert.match(await frame.textContent('#group-backup'), /Tomás Prado \(Zoho CRM contact\)/);
});

test('a revoked CRM grant: the card says reconnect, and the button opens the options page', async () => {
  const frame = await panelFrame(wa);
  await wa.evaluate(() => window.fakeWA.open('ana'));
  await until(async () => (await frame.textContent('#card-name').catch(() => '')) === 'Ana Souza', { what: "Ana's card" });
  // Waiting before: earlier tests leave messages of unlinked chats (the @lid chat's) queued.
  const before = (await send({ kind: 'diagnostics' })).pending;
  await wa.evaluate(() => window.fakeWA.send('Segue o orçamento'));
  await until(async () => (await send({ kind: 'diagnostics' })).pending > before, { what: 'message queued' });
  await sandbox.faults([{ crm: 'zoho', kind: { type: 'revoke_refresh' } }, { crm: 'zoho', kind: { type: 'expire_tokens' } }]);
  await send({ kind: 'sync_now' });
  await until(async () => (await frame.textContent('#sync-state')) === 'Sync stopped: the CRM sign-in expired. Reconnect to resume.',
    { what: 'reconnect state', timeout: 20000 });
  await (await wa.$('#crmsync-panel')).screenshot({ path: join(ROOT, 'target/screenshots/panel-reconnect.png') });
  const [options] = await Promise.all([browser.ctx.waitForEvent('page'), frame.click('#reconnect')]);
  await options.waitForLoadState();
  assert.match(options.url(), /options\.html$/);
  await options.waitForSelector('#state-zoho');
  assert.equal(await options.textContent('#state-zoho'), 'Reconnect needed: the CRM no longer accepts the saved access');
  await options.close();
  await sandbox.clearFaults?.();
});
