// The guided backfill of the first backup: from the panel, crmsync opens each chat of the
// chat list active in the last 3 days that was never captured, scrolls it back until 3 days are
// covered (WhatsApp loads older pages lazily), shows progress with cancel, reports honestly,
// and the captured messages are backed up to the CRM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startSandbox, launch, panelFrame, until, ROOT, CREDS } from './harness.mjs';

let sandbox, browser, ext, wa, frame;
before(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  browser = await launch(sandbox);
  ext = await browser.ctx.newPage();
  await ext.goto(`chrome-extension://${browser.extensionId}/popup.html`);
  assert.equal((await send({ kind: 'connect', credentials: CREDS[0] })).ok, true);
  wa = await browser.ctx.newPage();
  await wa.goto('https://web.whatsapp.com/?chat=ana');
  await wa.evaluate(() => window.fakeWAReady);
  frame = await panelFrame(wa);
  await until(async () => (await frame.getAttribute('#state', 'data-view')) === 'linked', { what: "Ana's card", timeout: 30000 });
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const send = (msg) => ext.evaluate((m) => chrome.runtime.sendMessage(m), msg);
const captured = async (chatKey) => (await send({ kind: 'export' })).messages.filter((m) => m.message.chat === chatKey);
const daysAgo = (t) => Math.round((new Date(new Date().toDateString()) - new Date(t.year, t.month - 1, t.day)) / 86400000);

test('backfill opens unopened recent chats, covers 3 days, reports, and returns to the open chat', async () => {
  assert.equal((await captured('pn:+5511955554444')).length, 0);
  await frame.click('#backfill-start');
  await frame.click('#confirm-yes');
  await until(async () => (await frame.textContent('#backfill-status').catch(() => '')).startsWith('Backing up'), { what: 'progress' });
  assert.ok(await frame.locator('#backfill-cancel').count());
  await (await wa.$('#crmsync-panel')).screenshot({ path: join(ROOT, 'target/screenshots/panel-backfill-progress.png') });
  await until(async () => (await frame.textContent('#backfill-status')).startsWith('Done:'), { what: 'backfill done', timeout: 60000 });
  const results = await frame.locator('#backfill-results li').allTextContents();
  // Carlos: 6 days of lazily loaded history; scrolled back past the 3-day window.
  assert.ok(results.some((r) => /^Carlos Mendes: the last 3 days are captured \(\d+ messages\)\.$/.test(r)), JSON.stringify(results));
  // Julia: her history starts yesterday; WhatsApp has nothing older, said so.
  assert.ok(results.some((r) => /^Julia Costa: WhatsApp loaded nothing older than \d{4}-\d\d-\d\d; everything it showed is captured \(6 messages\)\.$/.test(r)), JSON.stringify(results));
  // Last active 10 days ago: not part of the first backup.
  assert.ok(!results.some((r) => r.startsWith('Old supplier')), JSON.stringify(results));
  // Ana was captured before: not opened again.
  assert.ok(!results.some((r) => r.startsWith('Ana Souza')));
  assert.match(await frame.textContent('#backfill-unreadable'), /^Not opened, because their last activity could not be read: /);
  await (await wa.$('#crmsync-panel')).screenshot({ path: join(ROOT, 'target/screenshots/panel-backfill-done.png') });
  const carlos = await captured('pn:+5511955554444');
  assert.ok(carlos.length >= 6 * 3, `${carlos.length} messages`);
  assert.ok(Math.max(...carlos.map((m) => daysAgo(m.message.time))) >= 3);
  // Back where the rep was.
  await until(async () => (await wa.evaluate(() => window.fakeWA.current())) === 'ana', { what: 'back to Ana' });
});

test('cancel stops the backfill and says which chats were skipped', async () => {
  // A fresh profile, so Carlos and Julia are unopened again.
  const b2 = await launch(sandbox);
  try {
    const e2 = await b2.ctx.newPage();
    await e2.goto(`chrome-extension://${b2.extensionId}/popup.html`);
    const w2 = await b2.ctx.newPage();
    await w2.goto('https://web.whatsapp.com/?chat=ana');
    await w2.evaluate(() => window.fakeWAReady);
    const f2 = await panelFrame(w2);
    await f2.waitForSelector('#backfill-start');
    await f2.click('#backfill-start');
    await f2.click('#confirm-yes');
    await until(async () => (await f2.locator('#backfill-cancel').count()) > 0, { what: 'cancel button' });
    await f2.click('#backfill-cancel');
    await until(async () => (await f2.textContent('#backfill-status')).startsWith('Done:'), { what: 'stopped', timeout: 30000 });
    const results = await f2.locator('#backfill-results li').allTextContents();
    assert.ok(results.filter((r) => r.endsWith('skipped (cancelled).')).length >= 1, JSON.stringify(results));
  } finally {
    await b2.close();
  }
});
