// Proof of what was saved: after a sync the card names, per CRM, the day's document (kind,
// title, messages, time) with a link that opens it; the popup lists the last few.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launchConnected, panelFrame, until } from './harness.mjs';

let sandbox, browser, send;
const ANA = '5843104000000624001';

before(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  ({ browser, send } = await launchConnected(sandbox));
});
after(async () => { await browser?.close(); await sandbox?.stop(); });


test("the card shows the day's Zoho note once the CRM confirmed it; the popup lists it", async () => {
  const wa = await browser.ctx.newPage();
  await wa.goto('https://web.whatsapp.com/?chat=ana');
  await wa.evaluate(() => window.fakeWAReady);
  const frame = await panelFrame(wa);
  await until(async () => (await frame.textContent('#card-name').catch(() => '')) === 'Ana Souza', { what: "Ana's card", timeout: 30000 });
  const typed = 'Segue o orçamento revisado.';
  await wa.evaluate((t) => window.fakeWA.send(t), typed);
  await until(async () => (await send({ kind: 'export' })).messages.some((m) => m.message.text === typed), { what: 'captured' });
  assert.equal((await send({ kind: 'sync_now' })).ran, true);
  const exp = await send({ kind: 'export' });
  const today = exp.messages.find((m) => m.message.text === typed).message.time;
  const dayKey = `${today.year}-${String(today.month).padStart(2, '0')}-${String(today.day).padStart(2, '0')}`;
  const synced = exp.messages.filter((m) => m.message.chat === 'pn:+5511987654321' && m.state === 'synced' && m.message.time
    && `${m.message.time.year}-${String(m.message.time.month).padStart(2, '0')}-${String(m.message.time.day).padStart(2, '0')}` === dayKey).length;
  const note = '#saved li[data-view="note"]';
  await until(async () => (await frame.locator(note).count()) === 1, { what: 'the receipt on the card', timeout: 30000 });
  const text = await frame.textContent(`${note} .receipt`);
  const count = synced === 1 ? '1 message' : `${synced} messages`;
  assert.match(text, new RegExp(`^Zoho CRM note “WhatsApp · Ana Souza · [A-Z][a-z]{2} \\d{1,2}, \\d{4}”: ${count}, saved \\d{1,2}:\\d\\d\\s[AP]M$`), text);
  assert.equal(await frame.getAttribute(`${note} a.open-doc`, 'href'), `https://crm.zoho.com/crm/org20079892132/tab/Contacts/${ANA}`);
  // The note it names is in the CRM, with the message.
  assert.ok((await sandbox.ledger()).zoho.notes.some((n) => n.parent_id === ANA && n.content.includes(typed)));
  const popup = await browser.ctx.newPage();
  await popup.goto(`chrome-extension://${browser.extensionId}/popup.html`);
  await popup.waitForSelector('#popup-saved li');
  assert.match(await popup.textContent('#popup-saved'), /Zoho CRM note “WhatsApp · Ana Souza · /);
  await popup.close();
  await wa.close();
});
