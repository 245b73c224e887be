// The walking skeleton, end to end: extension loaded in Chromium, wasm running in the content
// script, the panel frame and the service worker, and the worker reaching a "real" CRM host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, contentEval, stopServiceWorkers, until, panelFrame, VERSION } from './harness.mjs';

let sandbox, browser;
before(async () => { sandbox = await startSandbox(); browser = await launch(sandbox); });
after(async () => { await browser?.close(); await sandbox?.stop(); });

const zohoRequests = async () => (await sandbox.ledger()).requests
  .filter((r) => r.host === 'www.zohoapis.com' && r.path === '/crm/v8/org').length;

test('content script runs wasm and inserts the panel frame, which renders Rust text', async () => {
  const page = await browser.ctx.newPage();
  await page.goto('https://web.whatsapp.com/');
  const frame = await panelFrame(page);
  assert.match(frame.url(), new RegExp(`^chrome-extension://${browser.extensionId}/panel.html`));
  await frame.waitForSelector('#product');
  assert.equal(await frame.textContent('#product'), 'crmsync');
  assert.equal(await frame.textContent('#diagnostics #version'), `Version ${VERSION}`);
  await until(async () => (await frame.textContent('#worker')) === 'Service worker: running', { what: 'worker line' });
  const diag = await until(() => contentEval(browser.ctx, page, 'globalThis.__crmsync'), { what: 'content diag' });
  assert.equal(diag.wasm, true);
  assert.equal(diag.panel, true);
  // The page's own scripts see no extension state.
  assert.equal(await page.evaluate(() => typeof globalThis.__crmsync), 'undefined');
  await page.close();
});

test('service worker registers the 3-minute alarm', async () => {
  const sw = await browser.worker();
  const alarm = await until(() => sw.evaluate(() => chrome.alarms.get('crmsync-sync')), { what: 'alarm' });
  assert.equal(alarm.periodInMinutes, 3);
});

test('a page load sends no CRM request (no unauthenticated probe); the worker answers again after being stopped', async () => {
  // Before: every WhatsApp page load had the worker send `GET /crm/v8/org` without
  // credentials as a "reachability" probe.
  const page = await browser.ctx.newPage();
  const before = await zohoRequests();
  await page.goto('https://web.whatsapp.com/');
  const hello = await until(() => contentEval(browser.ctx, page, 'globalThis.__crmsync && globalThis.__crmsync.hello'), { what: 'hello reply' });
  assert.equal(hello.ok, true);
  // Chrome stops a worker only once its in-flight events finish: let the page's first
  // capture reach it first.
  await until(() => contentEval(browser.ctx, page, 'globalThis.__crmsync && globalThis.__crmsync.capture && globalThis.__crmsync.capture.scans > 0'), { what: 'first scan' });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await zohoRequests(), before, 'no Zoho call from a page load');

  await stopServiceWorkers(browser.ctx, page, browser.extensionId);

  await page.reload();
  const again = await until(() => contentEval(browser.ctx, page, 'globalThis.__crmsync && globalThis.__crmsync.hello'), { what: 'hello after restart' });
  assert.equal(again.ok, true);
  assert.equal(await zohoRequests(), before);
  await page.close();
});

test('under a strict page CSP the content script reports the wasm failure; panel and worker still work', async () => {
  const page = await browser.ctx.newPage();
  await page.goto('https://web.whatsapp.com/?csp=strict');
  const diag = await until(() => contentEval(browser.ctx, page, 'globalThis.__crmsync'), { what: 'content diag' });
  assert.equal(diag.wasm, false);
  assert.match(diag.error, /WebAssembly|wasm|Content Security Policy/i);
  const frame = await panelFrame(page);
  await frame.waitForSelector('#capture');
  assert.match(await frame.textContent('#capture'), /^Capture is off: this page blocked the extension's WebAssembly/);
  await until(async () => (await frame.textContent('#worker')) === 'Service worker: running', { what: 'worker line' });
  await page.close();
});
