// The lookup limit per tab (core::ratelimit: 5 lookups, one back every 12 s) in the real
// extension: a chat opened after a quick run of chats is looked up once a token is back, on
// the worker's own, without waiting for another capture, the panel's refresh or a sync.
import { test, before, after } from 'node:test';
import { startSandbox, launchConnected, panelFrame, until } from './harness.mjs';

let sandbox, browser;

before(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  ({ browser } = await launchConnected(sandbox));
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const viewOf = (frame) => frame.getAttribute('#state', 'data-view');

// A rep opening chats in a quick run spends the tab's lookup tokens (5, one back every 12 s);
// the chat opened after them is looked up once a token is back, not at the next capture.
test('a chat opened after a quick run of lookups gets its card once the limit allows', async () => {
  const rush = await browser.ctx.newPage();
  try {
    await rush.goto('https://web.whatsapp.com/?chat=carlos');
    await rush.evaluate(() => window.fakeWAReady);
    const frame = await panelFrame(rush);
    await until(async () => (await viewOf(frame)) === 'unknown', { what: 'no match for Carlos', timeout: 30000 });
    // Four more chats in a quick run, then Ana's: each open reaches the worker (a chat opened
    // with nothing new is still reported) and spends a token while there is one.
    for (const chat of ['julia', 'old', 'unknown', 'priya']) {
      await rush.evaluate((c) => window.fakeWA.open(c), chat);
      await new Promise((r) => setTimeout(r, 400));
    }
    // Five lookups spent: Ana's waits for a token, then comes without another capture.
    await rush.evaluate(() => window.fakeWA.open('ana'));
    await until(async () => (await viewOf(frame)) === 'connecting', { what: 'Ana waiting for the limit', timeout: 10000 });
    // A token is back after 12 s; the panel's own 30-second refresh must not be what brings it.
    await until(async () => (await frame.textContent('#card-name').catch(() => '')) === 'Ana Souza', { what: "Ana's card once a token is back", timeout: 22000 });
  } finally {
    await rush.close();
  }
});
