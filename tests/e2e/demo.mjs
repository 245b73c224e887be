// ./build.sh demo [--headless]: the sandbox CRMs + the fake WhatsApp Web + Chromium with the
// extension, connected to all three sandbox CRMs through the real connect path.
// Headless mode runs a short tour (chat, sync, back up to each CRM), writes screenshots and
// the sandbox ledger to target/demo/, prints a summary and exits. Each state is also shot in
// WhatsApp's light and dark themes into target/demo/gallery/ (with --gallery: docs/gallery/,
// the README's gallery).
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, launch, panelFrame, contentEval, until, answerConsent, ROOT } from './harness.mjs';

const headless = process.argv.includes('--headless');
const out = join(ROOT, 'target/demo');
mkdirSync(out, { recursive: true });

const sandbox = await startSandbox({ seed: 'demo-chat-object' });
const browser = await launch(sandbox, { headless });
const shutdown = async () => { await browser.close().catch(() => {}); await sandbox.stop(); };
process.on('SIGINT', () => shutdown().then(() => process.exit(0)));

// Connect the three CRMs as a rep does: Zoho CRM and Salesforce with one click through the
// product's own apps (the sandbox's distribution config, built in by build.sh), LeadSquared
// with its two keys (tests/crm-sandbox/README.md), accepting each CRM's consent page; then
// each CRM's setup check.
const options = await browser.ctx.newPage();
await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
const send = (m) => options.evaluate((x) => chrome.runtime.sendMessage(x), m);
for (const [crm, req] of [
  ['zoho', { kind: 'sign_in', crm: 'zoho', zoho_dc: 'Us' }],
  ['salesforce', { kind: 'sign_in', crm: 'salesforce', login_host: 'login.salesforce.com' }],
  ['leadsquared', { kind: 'connect', credentials: { crm: 'leadsquared', access_key: 'u$sandbox-access', secret_key: 'sandbox-secret-key' } }],
]) {
  // Sign-in opens the CRM's consent page in its own window; the demo clicks its Accept/Allow.
  const [r] = await Promise.all([send(req), req.kind === 'sign_in' ? answerConsent(browser.ctx, { timeout: 30000 }) : null]);
  console.log(`demo: connect ${crm}: ${r.ok ? 'ok' : r.error}`);
  const report = await send({ kind: 'setup_check', crm });
  console.log(`demo: setup check ${crm}: ${report.lines.map((l) => `${l.state === 'pass' ? '✓' : l.state === 'warn' ? '!' : '✗'} ${l.text}`).join('; ')}`);
}

const page = await browser.ctx.newPage();
await page.goto('https://web.whatsapp.com/?chat=ana');
await page.evaluate(() => window.fakeWAReady);
const frame = await panelFrame(page);
await frame.waitForSelector('#product');
await page.screenshot({ path: join(out, '01-whatsapp-with-panel.png') });

if (headless) {
  // The tour: each panel state, a message in each linked chat, one alarm-driven sync cycle
  // (test period 0.5 min; the product's is 3), a lead created from the panel.
  const shot = async (name) => {
    await (await page.$('#crmsync-panel')).screenshot({ path: join(out, `${name}.png`) });
    console.log(`demo: ${name}.png`);
  };
  // The gallery: a state in the light theme and in the dark one (the panel follows WhatsApp's
  // theme: the class the panel sets from the worker's theme, set here for the shot).
  const galleryDir = join(out, 'gallery');
  mkdirSync(galleryDir, { recursive: true });
  const gallery = [];
  const both = async (name) => {
    for (const theme of ['light', 'dark']) {
      const dark = theme === 'dark';
      await page.evaluate((d) => document.body.classList.toggle('dark', d), dark);
      await frame.evaluate((d) => document.body.classList.toggle('dark', d), dark);
      const file = `${name}-${theme}.png`;
      await (await page.$('#crmsync-panel')).screenshot({ path: join(galleryDir, file) });
      gallery.push(file);
    }
    await page.evaluate(() => document.body.classList.remove('dark'));
    await frame.evaluate(() => document.body.classList.remove('dark'));
  };
  const viewIs = (v) => until(async () => (await frame.getAttribute('#state', 'data-view')) === v, { what: `panel ${v}`, timeout: 30000 });
  // Opened means crmsync has read this chat's header, not the previous chat's.
  const open = async (chat) => {
    const title = await page.evaluate(async (c) => { await window.fakeWA.open(c); return document.querySelector('#main header span[title]').title; }, chat);
    await until(async () => (await contentEval(browser.ctx, page, 'globalThis.__crmsync && globalThis.__crmsync.identity && globalThis.__crmsync.identity.name')) === title, { what: `${chat} open` });
  };
  const failures = [];
  await viewIs('linked');
  await shot('01-panel-linked-zoho');
  await send({ kind: 'set_sync_period', minutes: 0.5 });
  const chats = [['ana', 'Olá Ana, segue a proposta revisada.'], ['us', 'Hi Liam, the contract is attached.'], ['priya', 'Namaste Priya, the samples ship Monday.']];
  for (const [chat, text] of chats) {
    await open(chat);
    await viewIs('linked');
    await page.evaluate((t) => window.fakeWA.send(t), text);
    if (chat === 'us') { await shot('02-panel-linked-salesforce'); await both('linked-salesforce-pending'); }
    if (chat === 'priya') await shot('03-panel-linked-leadsquared');
  }
  // Wait for the very messages typed (older ones could satisfy a count), each stored once.
  const typed = chats.map(([, t]) => t);
  await until(async () => {
    const ms = (await send({ kind: 'export' })).messages;
    return typed.every((t) => ms.filter((m) => m.message.text === t).length === 1);
  }, { what: 'the typed messages captured', timeout: 30000 });
  await shot('04-panel-pending');
  const started = Date.now();
  await until(async () => {
    const ms = (await send({ kind: 'export' })).messages;
    return typed.every((t) => ms.some((m) => m.message.text === t && m.state === 'synced'));
  }, { what: 'the alarm-driven sync cycle to confirm the typed messages', timeout: 120000, interval: 1000 });
  console.log(`demo: the sync alarm confirmed the typed messages ${((Date.now() - started) / 1000).toFixed(0)} s after they were typed`);
  await open('ana');
  await until(async () => (await frame.textContent('#last-synced').catch(() => '')).startsWith('Last synced'), { what: 'last synced' });
  await until(async () => (await frame.locator('#saved li').count().catch(() => 0)) > 0, { what: 'what was saved' });
  await shot('05-panel-synced');
  await both('linked-synced');
  // Rows from before the backup window (WhatsApp loaded older history): offered, not waiting.
  const tenDaysAgo = new Date(Date.now() - 10 * 86400000);
  await page.evaluate((t) => window.fakeWA.prependOlder(3, { day: t }), tenDaysAgo.toISOString().slice(0, 10) + 'T09:00:00');
  await until(async () => (await frame.textContent('#older').catch(() => '')).length > 0, { what: 'older messages offered' });
  await shot('05b-panel-older-messages');
  await both('older-messages');
  await open('unknown');
  await viewIs('unknown');
  await shot('06-panel-unknown-number');
  await both('unknown-number');
  await frame.fill('#f-first_name', 'Rafael');
  await frame.fill('#f-last_name', 'Moreira');
  await frame.selectOption('#f-kind', 'lead');
  await frame.click('#create-submit');
  await frame.click('#confirm-yes');
  await viewIs('linked');
  await shot('07-panel-lead-created');
  await open('group');
  await page.evaluate(() => window.fakeWA.receive('Liam here: can we move the delivery to Friday?', { author: 'Liam Carter', authorPhone: '+1 415 555 2671' }));
  await viewIs('group');
  await until(async () => (await frame.textContent('#group-backup')).includes('Liam Carter'), { what: 'group participant matched' });
  await shot('08-panel-group');
  await both('group');
  await open('lid');
  await viewIs('lid_only');
  await shot('09-panel-lid-only');
  await both('lid-only');
  await frame.click('#collapse');
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, '10-whatsapp-panel-collapsed.png') });
  await frame.click('#collapse');
  const report = await send({ kind: 'sync_now' });
  const status = await send({ kind: 'diagnostics' });
  const ledger = await sandbox.ledger();
  writeFileSync(join(out, 'ledger.json'), JSON.stringify(ledger, null, 2));
  writeFileSync(join(out, 'export.json'), JSON.stringify(await send({ kind: 'export' }), null, 2));
  const has = (list, f) => list.filter(f).length;
  console.log(`demo: last "Sync now" made ${report.calls} CRM calls, wrote ${report.written} documents, confirmed ${report.settled} messages; ${status.pending} pending`);
  console.log(`demo: Zoho notes mentioning the new message: ${has(ledger.zoho.notes, (n) => n.content.includes('proposta revisada'))} (Ana's contact + her 5 latest deals)`);
  console.log(`demo: Salesforce chat records for Liam Carter: ${has(ledger.salesforce.WhatsApp_Chat__c, (c) => c.Transcript__c.includes('contract is attached'))}, ContentNotes: ${has(ledger.salesforce.ContentNote, (n) => n.Content.includes('contract is attached'))}; group backup on his record: ${has(ledger.salesforce.WhatsApp_Chat__c, (c) => c.Name.includes('Obra Paulista'))}`);
  console.log(`demo: LeadSquared activities for Priya Sharma: ${has(ledger.leadsquared.activities, (a) => a.ActivityNote.includes('samples ship Monday'))} (lead + opportunity)`);
  console.log(`demo: lead created from the panel: ${has(ledger.zoho.leads, (l) => l.Last_Name === 'Moreira')} in Zoho CRM`);
  console.log(`demo: screenshots and ledger in ${out}; the light/dark gallery in ${galleryDir}`);
  if (process.argv.includes('--gallery')) {
    const docs = join(ROOT, 'docs/gallery');
    mkdirSync(docs, { recursive: true });
    for (const f of gallery) copyFileSync(join(galleryDir, f), join(docs, f));
    console.log(`demo: gallery copied to ${docs}`);
  }
  // Each typed message must be in its CRM: Ana's contact + 5 deals, Liam's chat record, Priya's activities.
  const expect = [
    ['Zoho CRM', has(ledger.zoho.notes, (n) => n.content.includes(chats[0][1])), 6],
    ['Salesforce', has(ledger.salesforce.WhatsApp_Chat__c, (c) => c.Transcript__c.includes(chats[1][1])), 1],
    ['LeadSquared', has(ledger.leadsquared.activities, (a) => a.ActivityNote.includes(chats[2][1])), 1],
  ];
  for (const [crm, got, want] of expect) if (got < want) failures.push(`${crm}: the typed message is in ${got} documents, expected ${want}`);
  await shutdown();
  if (failures.length) {
    console.error(`demo: FAILED\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
} else {
  writeFileSync(join(out, 'ledger.json'), JSON.stringify(await sandbox.ledger(), null, 2));
  console.log(`demo: Chromium is open on https://web.whatsapp.com (sandbox on port ${sandbox.port}); Ctrl-C to stop`);
  browser.ctx.on('close', () => sandbox.stop().then(() => process.exit(0)));
}
