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

// Payload: what a user downloads (every module: wasm + its JS glue), gzip -9; and what the
// content script instantiates in WhatsApp's tab (its own module).
{
  const size = (pkg) => {
    const wasm = readFileSync(join(ROOT, `extension/${pkg}/crmsync_bg.wasm`));
    const glue = readFileSync(join(ROOT, `extension/${pkg}/crmsync.js`));
    const wasm_gzip = gzipSync(wasm, { level: 9 }).length, glue_gzip = gzipSync(glue, { level: 9 }).length;
    return { wasm_raw: wasm.length, wasm_gzip, glue_raw: glue.length, glue_gzip, gzip: wasm_gzip + glue_gzip };
  };
  const full = size('pkg'), content = size('pkg/content');
  put('payload_gzip_bytes', {
    value: full.gzip + content.gzip, note: 'every module shipped: pkg (worker, panel, options, popup) + pkg/content (content script)',
    ...Object.fromEntries(Object.entries(full).map(([k, v]) => [`pkg_${k}`, v])),
    ...Object.fromEntries(Object.entries(content).map(([k, v]) => [`content_${k}`, v])),
  });
  put('content_script_module_gzip_bytes', { value: content.gzip, goal: 150 * 1024, full_module_gzip: full.gzip, ratio_to_full_module: +(content.gzip / full.gzip).toFixed(3) });
}

// Further benchmarks register themselves as modules next to this file.
for (const name of ['plan.mjs', 'lookup.mjs', 'budget.mjs', 'phone.mjs', 'scrape.mjs', 'coldstart.mjs', 'switch.mjs', 'runtime.mjs', 'card.mjs', 'churn.mjs']) {
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
operation), ceil(writes / limit) with Zoho Notes 100, Salesforce sObject Collections 200 (chat upserts,
ContentNotes, and their ContentDocumentLinks, a document class of their own: one collection insert of ≤200 links
after the notes it names), LeadSquared bulk activities 25. Reads are not in the minimum. As in the worker, each
record's deals/opportunities were already read when its chat was matched (the card shows them; one read per
record per day, \`*_card_reads_per_record\`), and the sync reuses them. The options page's setup check runs first,
as after connecting (\`*_setup_calls\`, once per connection): what it read (whether the org has the chat object,
LeadSquared's activity type) is kept with the connection, so the sync does not read it again; what remains in
\`*_reads\` is e.g. the creation of a missing LeadSquared activity type.
\`*_writes_at_our_batch_limits\` is the same formula with our writers' limits (\`*_writes\` equals it when the
planner batches optimally).

## How \`lookup_calls_per_chat\` is measured

A rep's day of chat opens (100 opens of 40 distinct chats, one every 5 minutes; every fifth number Brazilian, whose
old and new line forms are both searched) with Zoho, Salesforce and LeadSquared all connected, each holding one
record per chat typed in national format (\`tests/bench/lookup.mjs\`). \`crmsync lookup-calls\` runs what the worker
runs on an open: the day-long match cache (\`ChatRecord::match_is_fresh\`), else every connector's
\`search_requests\` for the number's \`search_variants\`, each answer parsed by the connector and decided by
\`core::matching::match_chat\`; every request is performed against the sandbox, whose log must agree with the
count, and every CRM must find every chat's record. \`value\` is calls per cache miss over the three CRMs;
\`*_per_miss\` per CRM (\`*_modules\`: modules searched: Zoho Contacts and Leads, Salesforce one SOSL over both,
LeadSquared leads); a cached open makes no call.

## How the budget per rep and day is measured

One rep's typical working day, per CRM, each measured as the only CRM connected (\`tests/bench/budget.mjs\`): 100
chat opens of 40 distinct chats (as for \`lookup_calls_per_chat\`, plus the card's deals read after each lookup, as
the worker does) and 300 messages arriving over 8 hours in those chats (a fixed, skewed spread: a few busy chats,
many quiet ones), backed up by one engine cycle every 3 minutes (\`crmsync day-calls\`: \`core::engine::run_cycle\`
with the real writers, as the worker's alarm runs it). Every call is performed against the sandbox, whose log
must agree, and all 300 messages must be confirmed at the end of the day. Zoho credits: one per call, inserts and
updates one per 10 records (Zoho's API limits page). \`reps_*\`: how many reps the edition's daily allowance
carries at that cost (base plus the per-licence share, within the edition's maximum; "any" when each licence adds
more than a rep spends): Zoho base 50,000 plus 250 (Standard, max 100,000), 500 (Professional), 1,000 (Enterprise,
max 5,000,000) or 2,000 (Ultimate) per licence; Salesforce 100,000 plus 1,000 (Enterprise) or 5,000 (Unlimited)
per licence; LeadSquared's daily framework 10,000 (Pro, max 250,000) or 100,000 (Super, max 1,000,000) plus 1,000
per user. LeadSquared's tighter limit is per 5 seconds: \`peak_calls_in_a_cycle\` is the most one cycle sends.

## How \`churn_main_thread_share\` is measured

WhatsApp's page mutates all the time outside the open chat. \`tests/bench/churn.mjs\` opens a chat in the fake
WhatsApp Web and makes its chat list churn at 20 row updates per second for 60 s (previews, unread counts,
"typing…", rows moved to the top) while the open chat stays idle, once with crmsync installed and once in the same
browser without it. \`value\` is the difference in the page's main-thread script time (CDP
\`Performance.getMetrics\` ScriptDuration) as a share of wall time, in percent (goal below 1); \`rescans_caused\` is
how many chat scans the churn caused (the content script's own counter; goal 0).

## How the content script's cold start and jank are measured

\`content_script_cold_start_ms\` (\`tests/bench/coldstart.mjs\`): in a fresh browser per run, the module's files
already fetched and the browser settled (two frames and a second: a browser just launched is still starting up),
the fake WhatsApp Web's 2,000-row chat is opened, and two frames later (the page has drawn it; the content script
starts its scan a 40 ms debounce and a worker round trip after a chat's rows change) the clock runs over compile +
instantiate and the content script's
first scan as it runs it (\`capture_first_scan\`: the chat opened with today's date, the browser's own date order
read only if the rows prove none, the list read with one \`innerHTML\`, then parsed a run of whole rows at a time,
its date order proved, judged and handed on in steps with a \`scheduler.yield()\` between them; the yields are in
the time). Median of 11 runs, alternated with the full module (\`full_module_ms\`, what the content
script loaded before it had its own) and with the content module in a browser whose V8 does not tier wasm up
(\`without_v8_tier_up_ms\`; V8's \`--wasm-tier-up-filter\`, a measuring aid, never the product's setting). V8 runs
wasm first as baseline (Liftoff) code and recompiles hot functions with its optimizing compiler on background
threads; on this two-core machine the page's main thread runs measurably slower while they do (with V8 held to one
compile thread, \`--wasm-num-compilation-tasks=1\`, no faster: not only a matter of threads outnumbering cores).
\`v8_tier_up_share\` is the part of the cold start that goes to that. \`rows_left_idle_1s_ms\` is the same
pages with the chat left a second after it was drawn before the clock starts, as this was measured until
2026-12-07: the rows' first read then finds them out of the CPU's caches, and the one \`innerHTML\` read takes
about twice as long (about 20 ms against 10 for these rows, measured in the page; a second read is fast either way).
Nothing in the product waits a second between a chat's rows being drawn and their first read. The build keeps it down:
wasm-opt does not inline large functions into their one caller in the content module (\`CONTENT_OPT\` in
\`build.sh\`): V8 counts code run against a per-function tier-up budget (\`--wasm-tiering-budget\`, "a rough
approximation of bytes executed"), and a scan loop with large functions inlined used it up within the first rows
and set off a compile of the whole of it (V8's \`--trace-wasm-compilation-times\`).
\`longest_task_ms\` counts PerformanceObserver \`longtask\` entries that start once crmsync's work starts
(the fake page's own rendering of the 2,000 rows before it is \`page_own_longest_task_ms\`, not ours);
\`longest_step_ms\` is crmsync's longest stretch between two yields over all runs.

\`chat_switch_longest_task_ms\` (\`tests/bench/switch.mjs\`): the real extension in Chromium, a rep switching from a
short chat to the 2,000-row one, 3 times. A Chrome trace (CDP Tracing, \`devtools.timeline\`) attributes each call
into a script to its file; crmsync's time in a task is the sum of the calls into the content script's module
within that task on WhatsApp's main thread (goal: none over 50 ms). \`crmsync_ms_per_switch\` is all of it: the
rescan in steps and the hand-on of 2,000 messages to the worker (one chunk of 200 a task).
`);
console.log(`bench: wrote ${join(out, 'results.json')} and BENCHMARKS.md`);
