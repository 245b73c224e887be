// A plain headless Chromium page on a made-up origin whose files come from disk, so a
// benchmark can load our wasm and the JS alternative side by side in one page.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

// \`jsFlags\`: V8 flags for this browser (the cold-start bench runs one set of pages without
// wasm tier-up, to show what the optimizing compiler's background work costs on this machine);
// BENCH_JS_FLAGS in the environment sets them for every page, for looking into a result by hand
// (e.g. --trace-wasm-compilation-times, with DEBUG=pw:browser to see the browser's output).
export async function benchPage(files, { jsFlags } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CRMSYNC_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', ...(jsFlags || process.env.BENCH_JS_FLAGS ? ['--js-flags=' + (jsFlags || process.env.BENCH_JS_FLAGS)] : [])],
  });
  const page = await browser.newPage();
  await page.route('https://bench.local/**', (route) => {
    const path = new URL(route.request().url()).pathname;
    const file = files[path];
    if (!file) return route.fulfill({ status: 404, body: 'not found' });
    const body = typeof file === 'string' && !file.startsWith('/') ? file : readFileSync(file);
    return route.fulfill({ status: 200, body, contentType: TYPES[extname(path)] || 'text/html' });
  });
  await page.goto('https://bench.local/index.html');
  return { page, close: () => browser.close() };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
