// ./build.sh demo [--headless]: the sandbox CRMs + the fake WhatsApp Web + Chromium with the extension.
// Headless mode takes screenshots into target/demo/ and exits by itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, launch, panelFrame, ROOT } from './harness.mjs';

const headless = process.argv.includes('--headless');
const out = join(ROOT, 'target/demo');
mkdirSync(out, { recursive: true });

const sandbox = await startSandbox({ seed: 'demo' });
const browser = await launch(sandbox, { headless });
const shutdown = async () => { await browser.close().catch(() => {}); await sandbox.stop(); };
process.on('SIGINT', () => shutdown().then(() => process.exit(0)));

const page = await browser.ctx.newPage();
await page.goto('https://web.whatsapp.com/');
const frame = await panelFrame(page);
await frame.waitForSelector('#worker');
await page.screenshot({ path: join(out, '01-whatsapp-with-panel.png') });
writeFileSync(join(out, 'ledger.json'), JSON.stringify(await sandbox.ledger(), null, 2));

if (headless) {
  console.log(`demo: screenshots and ledger in ${out}`);
  await shutdown();
} else {
  console.log(`demo: Chromium is open on https://web.whatsapp.com (sandbox on port ${sandbox.port}); Ctrl-C to stop`);
  browser.ctx.on('close', () => sandbox.stop().then(() => process.exit(0)));
}
