// Secrets stay in the worker: the page world and the content script's world cannot read
// tokens, and there is no chrome.storage to hold any.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, contentEval, until } from './harness.mjs';

let sandbox, browser;
before(async () => { sandbox = await startSandbox(); browser = await launch(sandbox); });
after(async () => { await browser?.close(); await sandbox?.stop(); });

const SECRET = 'zoho-refresh-token-SENTINEL-1000.abc';

test('a token in the worker vault is unreadable from the page and the content script', async () => {
  // Store a secret exactly where the worker keeps tokens: the extension-origin
  // `crmsync-secrets` database (written here through the worker's own global).
  const sw = await browser.worker();
  await sw.evaluate(async (secret) => {
    await new Promise((ok, fail) => {
      // The worker's schema (store.rs SCHEMA_VERSION/STORES); closed after, like the worker does.
      const r = indexedDB.open('crmsync-secrets', 2);
      r.onupgradeneeded = () => { for (const s of ['messages', 'days', 'pending', 'docs', 'chats', 'meta', 'files']) if (!r.result.objectStoreNames.contains(s)) r.result.createObjectStore(s); };
      r.onsuccess = () => { const tx = r.result.transaction('meta', 'readwrite'); tx.objectStore('meta').put(JSON.stringify({ refresh_token: secret }), 'zoho'); tx.oncomplete = () => { r.result.close(); ok(); }; tx.onerror = fail; };
      r.onerror = fail;
    });
  }, SECRET);
  const page = await browser.ctx.newPage();
  await page.goto('https://web.whatsapp.com/?chat=ana');
  await until(() => contentEval(browser.ctx, page, 'globalThis.__crmsync && globalThis.__crmsync.wasm'), { what: 'content script' });
  const dumpIdb = `(async () => {
    const names = (await indexedDB.databases()).map((d) => d.name);
    let found = '';
    for (const n of names) {
      const db = await new Promise((ok) => { const r = indexedDB.open(n); r.onsuccess = () => ok(r.result); r.onerror = () => ok(null); });
      if (!db) continue;
      for (const s of db.objectStoreNames) {
        const all = await new Promise((ok) => { const r = db.transaction(s).objectStore(s).getAll(); r.onsuccess = () => ok(r.result); r.onerror = () => ok([]); });
        found += JSON.stringify(all);
      }
      db.close();
    }
    return { names, found };
  })()`;
  const fromPage = await page.evaluate(dumpIdb);
  assert.ok(!fromPage.found.includes(SECRET), 'page world');
  assert.ok(!fromPage.names.includes('crmsync-secrets'));
  const fromContent = await contentEval(browser.ctx, page, dumpIdb);
  assert.ok(!fromContent.found.includes(SECRET), 'content script world');
  // No chrome.storage at all: the extension does not ask for it, so the content script has none.
  assert.equal(await contentEval(browser.ctx, page, 'typeof chrome.storage'), 'undefined');
  assert.equal(await page.evaluate(() => JSON.stringify(localStorage).includes('SENTINEL')), false);
  // And the worker itself still has it.
  const inWorker = await sw.evaluate(() => new Promise((ok) => { const r = indexedDB.open('crmsync-secrets'); r.onsuccess = () => { const g = r.result.transaction('meta').objectStore('meta').get('zoho'); g.onsuccess = () => ok(g.result); }; }));
  assert.ok(inWorker.includes(SECRET));
  await page.close();
});
