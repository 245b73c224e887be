// E.164 parsing throughput: crmsync's wasm vs the google-libphonenumber npm package, same
// corpus (tests/data/phone/corpus.tsv), same headless Chromium page, median of 7 rounds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchPage, median } from './browser.mjs';

export async function run({ ROOT }) {
  const corpus = readFileSync(join(ROOT, 'tests/data/phone/corpus.tsv'), 'utf8')
    .trim().split('\n').map((l) => l.split('\t').slice(0, 2).join('\t')).join('\n');
  const { page, close } = await benchPage({
    '/index.html': '<!doctype html><script src="/libphonenumber.js"></script>',
    '/libphonenumber.js': join(ROOT, 'node_modules/google-libphonenumber/dist/libphonenumber.js'),
    '/pkg/crmsync.js': join(ROOT, 'target/bench/pkg/crmsync.js'),
    '/pkg/crmsync_bg.wasm': join(ROOT, 'target/bench/pkg/crmsync_bg.wasm'),
  });
  const r = await page.evaluate(async (corpus) => {
    const core = await import('/pkg/crmsync.js');
    await core.default({ module_or_path: '/pkg/crmsync_bg.wasm' });
    const lines = corpus.split('\n').map((l) => l.split('\t'));
    const lib = globalThis.libphonenumber;
    const util = lib.PhoneNumberUtil.getInstance();
    const js = () => {
      let out = '';
      for (const [raw, region] of lines) {
        try {
          const n = util.parse(raw, region === 'ZZ' ? undefined : region);
          out += (util.isValidNumber(n) ? util.format(n, lib.PhoneNumberFormat.E164) : 'invalid') + '\n';
        } catch { out += 'invalid\n'; }
      }
      return out;
    };
    const wasm = () => core.phone_e164_batch(corpus);
    const time = (f) => { const t0 = performance.now(); const out = f(); return [performance.now() - t0, out]; };
    const rounds = { wasm: [], js: [] };
    let agree = 0;
    for (let i = 0; i < 7; i++) {
      const [tw, ow] = time(wasm); const [tj, oj] = time(js);
      rounds.wasm.push(tw); rounds.js.push(tj);
      if (i === 0) { const a = ow.split('\n'), b = oj.split('\n'); agree = a.filter((x, k) => x === b[k]).length / a.length; }
    }
    return { n: lines.length, rounds, agree, memory: core.wasm_memory_bytes ? core.wasm_memory_bytes() : null };
  }, corpus);
  await close();
  const wasmMs = median(r.rounds.wasm), jsMs = median(r.rounds.js);
  return {
    phone_speedup_vs_google_libphonenumber: {
      value: +(jsMs / wasmMs).toFixed(3),
      numbers: r.n,
      wasm_numbers_per_s: Math.round(r.n / (wasmMs / 1000)),
      google_libphonenumber_numbers_per_s: Math.round(r.n / (jsMs / 1000)),
      same_answer_share: +r.agree.toFixed(4),
      wasm_memory_bytes_after: r.memory,
    },
  };
}
