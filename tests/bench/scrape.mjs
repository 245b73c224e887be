// Scrape speed: crmsync's capture path (outerHTML → Rust scan, as the content script runs
// it) vs a straightforward plain-JS DOM scraper, on the fake WhatsApp Web's 2,000-message
// chat, in one headless Chromium page. Full scan and incremental capture of 100 new rows.
import { join } from 'node:path';
import { benchPage, median } from './browser.mjs';

export async function run({ ROOT }) {
  const www = (p) => join(ROOT, 'www', p);
  const { page, close } = await benchPage({
    '/index.html': `<!doctype html><html lang="en-GB"><body><div id="app"><div id="pane-side"></div><div id="main"></div></div>
      <script src="/wa.js"></script><script src="/js-reference-scraper.js"></script></body></html>`,
    '/wa.js': www('wa.js'),
    '/fixtures/ana.html': www('fixtures/ana.html'),
    '/js-reference-scraper.js': join(ROOT, 'tests/bench/js-reference-scraper.js'),
    '/pkg/crmsync.js': join(ROOT, 'target/bench/pkg/crmsync.js'),
    '/pkg/crmsync_bg.wasm': join(ROOT, 'target/bench/pkg/crmsync_bg.wasm'),
  });
  const r = await page.evaluate(async () => {
    await window.fakeWAReady;
    await window.fakeWA.open('long');
    const core = await import('/pkg/crmsync.js');
    await core.default({ module_or_path: '/pkg/crmsync_bg.wasm' });
    const list = document.querySelector('#main [data-scrolltracepolicy="wa.web.conversation.messages"]');
    const ctx = { chat: 'c', monthFirst: false };
    const time = (f) => { const a = performance.now(); const n = f(); return [performance.now() - a, n]; };
    const full = { wasm: [], js: [] };
    let nW = 0, nJ = 0;
    for (let i = 0; i < 9; i++) {
      const [tw, w] = time(() => core.capture_scan_container(list, 'c', 'en-GB'));
      const [tj, j] = time(() => window.jsReferenceScrape([...list.querySelectorAll('[data-id]')], ctx).length);
      full.wasm.push(tw); full.js.push(tj); nW = w; nJ = j;
    }
    const inc = { wasm: [], js: [] };
    for (let i = 0; i < 9; i++) {
      const ids = [];
      for (let k = 0; k < 100; k++) ids.push(window.fakeWA.receive(`incremental ${i}-${k}`));
      const rows = ids.map((id) => list.querySelector(`[data-id="${id}"]`));
      const [tw] = time(() => core.capture_scan_elements(rows, 'c', 'en-GB'));
      const [tj] = time(() => window.jsReferenceScrape(rows, ctx).length);
      inc.wasm.push(tw); inc.js.push(tj);
    }
    // 50,000 messages captured the way a long session does: batches of 100 new rows,
    // which WhatsApp's virtualized list later removes from the DOM.
    const session = new core.CaptureSession('Long chat', 'en-GB');
    let captured = 0;
    for (let b = 0; b < 500; b++) {
      const ids = [];
      for (let k = 0; k < 100; k++) ids.push(window.fakeWA.receive(`session ${b}-${k} lorem ipsum dolor sit amet`));
      const rows = ids.map((id) => list.querySelector(`[data-id="${id}"]`));
      captured += session.ingest(rows);
      for (const r of rows) r.closest('[role="row"]').remove();
    }
    return { full, inc, nW, nJ, captured, memory: core.wasm_memory_bytes() };
  });
  await close();
  const fw = median(r.full.wasm), fj = median(r.full.js), iw = median(r.inc.wasm), ij = median(r.inc.js);
  return {
    scrape_speedup_vs_js_reference: {
      value: +(fj / fw).toFixed(3),
      rows: 2000, wasm_messages: r.nW, js_messages: r.nJ, wasm_full_scan_ms: +fw.toFixed(2), js_full_scan_ms: +fj.toFixed(2),
    },
    scrape_incremental_speedup_vs_js_reference: {
      value: +(ij / iw).toFixed(3),
      new_rows: 100, wasm_us_per_message: +(iw * 10).toFixed(2), js_us_per_message: +(ij * 10).toFixed(2),
    },
    wasm_memory_after_50k_messages_bytes: { value: r.memory, messages_captured: r.captured, mib: +(r.memory / 1048576).toFixed(1) },
  };
}
