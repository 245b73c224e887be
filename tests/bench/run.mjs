// ./build.sh bench: every benchmark in one run on this machine, written to
// target/bench/results.json and summarised in BENCHMARKS.md. Each metric reports raw
// numbers and, where there is an alternative a user would pick, the ratio against it.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { ROOT } from '../e2e/harness.mjs';

const results = { machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }, metrics: {} };
const put = (name, value) => { results.metrics[name] = value; console.log(`${name}: ${JSON.stringify(value)}`); };

// Payload: what a user downloads (wasm + its JS glue), gzip -9.
{
  const wasm = readFileSync(join(ROOT, 'extension/pkg/crmsync_bg.wasm'));
  const glue = readFileSync(join(ROOT, 'extension/pkg/crmsync.js'));
  put('payload_gzip_bytes', {
    value: gzipSync(wasm, { level: 9 }).length + gzipSync(glue, { level: 9 }).length,
    wasm_raw: wasm.length, wasm_gzip: gzipSync(wasm, { level: 9 }).length,
    glue_raw: glue.length, glue_gzip: gzipSync(glue, { level: 9 }).length,
  });
}

// Further benchmarks register themselves as modules next to this file.
for (const name of ['plan.mjs', 'phone.mjs', 'scrape.mjs', 'runtime.mjs', 'card.mjs']) {
  const file = join(ROOT, 'tests/bench', name);
  if (!existsSync(file)) continue;
  const mod = await import(file);
  for (const [k, v] of Object.entries(await mod.run({ ROOT, execFileSync }))) put(k, v);
}

const out = join(ROOT, 'target/bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2));

const rows = Object.entries(results.metrics).map(([k, v]) => {
  const { value, ...rest } = v;
  return `| \`${k}\` | ${value} | ${Object.entries(rest).map(([a, b]) => `${a}=${typeof b === 'number' ? +b.toFixed(3) : JSON.stringify(b)}`).join(', ')} |`;
});
writeFileSync(join(ROOT, 'BENCHMARKS.md'), `# Benchmarks

Produced by \`./build.sh bench\` (raw results: \`target/bench/results.json\`) on ${results.machine.cpus} × ${results.machine.cpu}, ${new Date().toISOString().slice(0, 10)}.
Ratios above 1 mean crmsync is faster (or, for \`api_calls_over_minimum\`, makes more calls than the minimum).

| metric | value | details |
|---|---|---|
${rows.join('\n')}

## How \`api_calls_over_minimum\` is measured

A first sync of 500 records × 20 messages (one conversation day each) per CRM. \`crmsync sync-calls\` runs the real
planner (\`build_units\`, \`plan_writes\`, \`batch_writes\`) and the real CRM writers in the worker cycle's order; every
request is performed against the sandbox CRMs (\`tests/bench/plan.mjs\`), and the sandbox's request log must
agree with the count. The minimum (\`*_minimum\`) is \`core::outbox::minimum_calls\` over the same writes with the
CRMs' documented per-call limits (shared/reference/crm-api.md), not our writers' own: per (CRM, document class,
operation), ceil(writes / limit) with Zoho Notes 100, Salesforce sObject Collections 200 (chat upserts and
ContentNotes, plus one collection insert of ≤200 ContentDocumentLinks per 200 new notes), LeadSquared bulk
activities 25. Reads are not in the minimum. As in the worker, each record's deals/opportunities were already
read when its chat was matched (the card shows them; one read per record per day, \`*_card_reads_per_record\`),
and the sync reuses them; what remains in \`*_reads\` is e.g. LeadSquared's activity-type lookup.
\`*_writes_at_our_batch_limits\` is the same formula with our writers' limits (\`*_writes\` equals it when the
planner batches optimally); the gap to \`*_minimum\` is Salesforce's ContentNote, which our writer creates one per
call (note + link in one Composite call) rather than through collections.
`);
console.log(`bench: wrote ${join(out, 'results.json')} and BENCHMARKS.md`);
