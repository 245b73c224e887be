// Privacy before upload, end to end: a card number typed in a chat reaches the CRM as
// "[card number removed]" while the browser keeps the message as typed; the rep turns masking
// off for one chat from the panel (confirmed), and that chat's day is written again unmasked.
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

/** Ana's contact notes in the sandbox that hold `text`. */
const anaNotes = async (text) => (await sandbox.ledger()).zoho.notes.filter((n) => n.parent_id === ANA && n.content.includes(text));

test('a card number is masked in the CRM, kept in the browser; the per-chat switch sends it as typed', async () => {
  const wa = await browser.ctx.newPage();
  await wa.goto('https://web.whatsapp.com/?chat=ana');
  await wa.evaluate(() => window.fakeWAReady);
  const frame = await panelFrame(wa);
  await until(async () => (await frame.textContent('#card-name').catch(() => '')) === 'Ana Souza', { what: "Ana's card", timeout: 30000 });
  await until(async () => (await frame.textContent('#mask-state')) === "Card numbers and other sensitive data are masked in this chat's backups.", { what: 'the masking line' });
  const typed = 'Pode cobrar no cartão 4111 1111 1111 1111, validade 12/28';
  await wa.evaluate((t) => window.fakeWA.send(t), typed);
  await until(async () => (await send({ kind: 'export' })).messages.some((m) => m.message.text === typed), { what: 'captured' });
  assert.equal((await send({ kind: 'sync_now' })).ran, true);
  const masked = await anaNotes('Pode cobrar no cartão [card number removed], validade 12/28');
  assert.equal(masked.length, 1, 'the contact note carries the marker');
  assert.equal((await anaNotes('4111 1111 1111 1111')).length, 0, 'the number never reached the CRM');
  // Stored as typed: the export (local) has the number.
  assert.ok((await send({ kind: 'export' })).messages.some((m) => m.message.text === typed && m.state === 'synced'));

  // The rep turns masking off for this chat, confirming it.
  await frame.click('#mask-toggle');
  await frame.waitForSelector('#confirm-yes');
  assert.match(await frame.textContent('#confirm-text'), /^Send Ana Souza \(\+5511987654321\)'s backups without masking card numbers and other sensitive data\?$/);
  await frame.click('#confirm-yes');
  await until(async () => (await frame.textContent('#mask-state').catch(() => '')) === "This chat's backups are sent without masking.", { what: 'unmasked' });
  assert.deepEqual((await send({ kind: 'get_settings' })).unmasked_chats, ['pn:+5511987654321']);
  await wa.evaluate(() => window.fakeWA.send('E o outro: 5555 5555 5555 4444'));
  await until(async () => (await send({ kind: 'export' })).messages.some((m) => m.message.text.endsWith('5555 5555 5555 4444')), { what: 'captured' });
  assert.equal((await send({ kind: 'sync_now' })).ran, true);
  await until(async () => (await anaNotes('cartão 4111 1111 1111 1111')).length === 1 && (await anaNotes('5555 5555 5555 4444')).length === 1,
    { what: 'the day rewritten without masking' });
  // And back on: confirmed, remembered.
  await frame.click('#mask-toggle');
  await frame.click('#confirm-yes');
  await until(async () => (await send({ kind: 'get_settings' })).unmasked_chats.length === 0, { what: 'masked again' });
  await wa.close();
});
