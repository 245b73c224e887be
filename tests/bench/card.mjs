// Time from opening a chat to its card in the panel, with the match already known (the worker
// has the chat's record): the rep's wait when switching between customers. Real extension,
// real worker, sandbox CRM; measured in the page from the chat switch to the card's name.
import { startSandbox, launch, panelFrame, until, CREDS } from '../e2e/harness.mjs';
import { median } from './browser.mjs';

export async function run({ ROOT }) {
  process.env.CRMSYNC_SANDBOX_BIN ||= `${ROOT}/target/debug/crm-sandbox`;
  const sandbox = await startSandbox({ seed: 'demo' });
  const browser = await launch(sandbox);
  try {
    const ext = await browser.ctx.newPage();
    await ext.goto(`chrome-extension://${browser.extensionId}/popup.html`);
    for (const c of CREDS.slice(0, 2)) await ext.evaluate((credentials) => chrome.runtime.sendMessage({ kind: 'connect', credentials }), c);
    const wa = await browser.ctx.newPage();
    await wa.goto('https://web.whatsapp.com/?chat=ana');
    await wa.evaluate(() => window.fakeWAReady);
    const frame = await panelFrame(wa);
    const cardIs = (name) => until(async () => (await frame.textContent('#card-name').catch(() => '')) === name, { what: name, timeout: 30000, interval: 5 });
    await cardIs('Ana Souza');
    await wa.evaluate(() => window.fakeWA.open('us'));
    await cardIs('Liam Carter');
    const times = [];
    for (let i = 0; i < 10; i++) {
      for (const [chat, name] of [['ana', 'Ana Souza'], ['us', 'Liam Carter']]) {
        const t0 = Date.now();
        await wa.evaluate((c) => window.fakeWA.open(c), chat);
        await cardIs(name);
        times.push(Date.now() - t0);
      }
    }
    return {
      chat_open_to_card_ms: { value: median(times), samples: times.length, min: Math.min(...times), max: Math.max(...times),
        note: 'fake WhatsApp chat switch → card name shown in the panel frame, match cached by the worker; includes the page re-render and a 5 ms poll' },
    };
  } finally {
    await browser.close();
    await sandbox.stop();
  }
}
