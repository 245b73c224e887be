// api_calls_over_minimum: the CRM API calls a first sync of 500 contacts × 20 messages
// (one conversation day each) really makes, per CRM, over the fewest calls the CRM's batch
// limits allow for the same writes. `crmsync sync-calls` runs the real planner and the real
// CRM writers (the worker cycle's order: per-record reads, then write passes); this module
// is its transport to the sandbox CRMs, so every counted call was performed and answered,
// and the sandbox's own request log must agree with the count.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { startSandbox } from '../e2e/harness.mjs';

const RECORDS = 500;
const MESSAGES = 20;

async function json(sandbox, host, path, { method = 'GET', body, headers = {} } = {}) {
  const r = await sandbox.fetch(host, path, { method, body, headers });
  try { return { status: r.status, body: JSON.parse(r.body || 'null') }; } catch { return { status: r.status, body: r.body }; }
}

/** Access tokens for the sandbox's Zoho and Salesforce orgs (refresh grants). */
export async function tokens(sandbox) {
  const form = (o) => new URLSearchParams(o).toString();
  const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
  const z = (await json(sandbox, 'accounts.zoho.com', '/oauth/v2/token', { method: 'POST', headers: formHeaders,
    body: form({ grant_type: 'refresh_token', client_id: '1000.SANDBOXCLIENT', client_secret: 'sandbox-secret', refresh_token: '1000.sandbox.refresh' }) })).body;
  const s = (await json(sandbox, 'login.salesforce.com', '/services/oauth2/token', { method: 'POST', headers: formHeaders,
    body: form({ grant_type: 'refresh_token', client_id: 'sandbox-consumer-key', client_secret: 'sandbox-consumer-secret', refresh_token: 'sandbox-sf-refresh' }) })).body;
  return { z, s, lsqHost: 'api-in21.leadsquared.com', lsqKeys: 'accessKey=u%24sandbox-access&secretKey=sandbox-secret-key', lsqToken: 'u$sandbox-access sandbox-secret-key' };
}

export { json };

/** 500 contacts (leads for LeadSquared) created through each CRM's API; not counted. */
async function seedRecords(sandbox) {
  const { z, s } = await tokens(sandbox);
  const zohoIds = [];
  for (let b = 0; b < RECORDS / 100; b++) {
    const data = Array.from({ length: 100 }, (_, i) => ({ Last_Name: `Bench ${b * 100 + i}`, Mobile: `+1 555 ${String(b * 100 + i).padStart(7, '0')}` }));
    const r = await json(sandbox, 'www.zohoapis.com', '/crm/v8/Contacts', { method: 'POST', body: JSON.stringify({ data }),
      headers: { authorization: `Zoho-oauthtoken ${z.access_token}`, 'content-type': 'application/json' } });
    zohoIds.push(...r.body.data.map((d) => d.details.id));
  }
  const sfHost = new URL(s.instance_url).host;
  const sfIds = [];
  for (let b = 0; b < Math.ceil(RECORDS / 200); b++) {
    const n = Math.min(200, RECORDS - b * 200);
    const records = Array.from({ length: n }, (_, i) => ({ attributes: { type: 'Contact' }, LastName: `Bench ${b * 200 + i}`, Phone: `+1 555 ${String(b * 200 + i).padStart(7, '0')}` }));
    const r = await json(sandbox, sfHost, '/services/data/v62.0/composite/sobjects', { method: 'POST', body: JSON.stringify({ allOrNone: false, records }),
      headers: { authorization: `Bearer ${s.access_token}`, 'content-type': 'application/json' } });
    sfIds.push(...r.body.map((x) => x.id));
  }
  const lsqHost = 'api-in21.leadsquared.com';
  const keys = 'accessKey=u%24sandbox-access&secretKey=sandbox-secret-key';
  const lsqIds = [];
  for (let i = 0; i < RECORDS; i++) {
    const r = await json(sandbox, lsqHost, `/v2/LeadManagement.svc/Lead.Create?${keys}`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ Attribute: 'LastName', Value: `Bench ${i}` }, { Attribute: 'Phone', Value: `+1-555${String(i).padStart(7, '0')}` }]) });
    lsqIds.push(r.body.Message.Id);
  }
  if (zohoIds.length !== RECORDS || sfIds.length !== RECORDS || lsqIds.length !== RECORDS || [...zohoIds, ...sfIds, ...lsqIds].some((x) => !x)) {
    throw new Error(`seeding ${RECORDS} records per CRM failed: ${zohoIds.length}/${sfIds.length}/${lsqIds.length}`);
  }
  return [
    { crm: 'zoho', base: z.api_domain, token: z.access_token, records: zohoIds },
    { crm: 'salesforce', base: s.instance_url, token: s.access_token, records: sfIds },
    { crm: 'leadsquared', base: lsqHost, token: 'u$sandbox-access sandbox-secret-key', records: lsqIds },
  ];
}

/** Run `crmsync sync-calls` for one CRM, performing each request against the sandbox. */
async function syncCalls(ROOT, sandbox, job) {
  const d = new Date();
  return harness(ROOT, sandbox, 'sync-calls', { ...job, messages_per_record: MESSAGES,
    day: { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: 0, minute: 0 } });
}

/** Run a `crmsync` harness subcommand (job JSON on line 1), performing each request it prints. */
export async function harness(ROOT, sandbox, command, job) {
  // CRMSYNC_HARNESS_BIN runs another build (e.g. an older revision, for before/after numbers).
  const proc = spawn(process.env.CRMSYNC_HARNESS_BIN || join(ROOT, 'target/release/crmsync'), [command], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  proc.stdin.write(`${JSON.stringify(job)}\n`);
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${command} for ${job.crm ?? 'all CRMs'} ended without an answer`);
    const msg = JSON.parse(value);
    if (msg.done) { proc.stdin.end(); return msg.done; }
    if (msg.error) throw new Error(`${command} for ${job.crm ?? 'all CRMs'}: ${msg.error}`);
    const req = msg.request;
    const url = new URL(req.url);
    const headers = Object.fromEntries(req.headers.map(([k, v]) => [k.toLowerCase(), v]));
    const body = req.body ? Buffer.from(req.body) : undefined;
    if (body) headers['content-length'] = String(body.length);
    const r = await sandbox.fetch(url.host, url.pathname + url.search, { method: req.method.toUpperCase(), headers, body });
    const resp = { status: r.status, headers: Object.entries(r.headers).map(([k, v]) => [k, String(v)]), body: [...Buffer.from(r.body)] };
    proc.stdin.write(`${JSON.stringify(resp)}\n`);
  }
}

export async function run({ ROOT }) {
  const sandbox = await startSandbox({ seed: 'demo' });
  try {
    // Bench volume, not a rate-limit test: lift the sandbox's per-window and daily limits.
    await sandbox.fetch('www.zohoapis.com', '/__sandbox/config', { method: 'POST',
      body: JSON.stringify({ lsq_calls_per_5s: 1_000_000, zoho_daily_credits: 10_000_000, salesforce_daily_limit: 10_000_000 }) });
    const jobs = await seedRecords(sandbox);
    const per = {};
    for (const job of jobs) {
      const before = (await sandbox.ledger()).requests.length;
      const t0 = Date.now();
      // As the worker runs it: the chat's match (which the card needs anyway) already read each
      // record's deals/opportunities, and the sync reuses them; the setup check the options
      // page runs right after connecting read the chat object / activity type, and the
      // connection keeps what it read (its calls are reported apart, as `*_setup_calls`).
      const r = await syncCalls(ROOT, sandbox, { ...job, related_known: true, setup_check: true });
      const logged = (await sandbox.ledger()).requests.length - before; // test endpoints are not logged
      if (r.failed || r.written !== r.documents) throw new Error(`${job.crm}: ${r.failed} failed writes (${JSON.stringify(r.failures)})`);
      if (logged !== r.calls + r.setup_calls) throw new Error(`${job.crm}: counted ${r.calls} + ${r.setup_calls} setup calls, the sandbox logged ${logged}`);
      per[job.crm] = { ...r, ratio: r.calls / r.documented_minimum_calls, ms: Date.now() - t0 };
    }
    const worst = Object.entries(per).sort((a, b) => b[1].ratio - a[1].ratio)[0];
    const detail = Object.fromEntries(Object.entries(per).flatMap(([crm, r]) => [
      [`${crm}_calls`, r.calls], [`${crm}_reads`, r.prepare_calls], [`${crm}_writes`, r.write_calls],
      [`${crm}_minimum`, r.documented_minimum_calls], [`${crm}_writes_at_our_batch_limits`, r.minimum_write_calls],
      [`${crm}_documents`, r.documents], [`${crm}_ratio`, +r.ratio.toFixed(3)],
      // Once per connection (the options page's setup check), not per sync.
      [`${crm}_setup_calls`, r.setup_calls],
      // Made once per chat per day by matching for the card, not by the sync.
      [`${crm}_card_reads_per_record`, 1],
    ]));
    return {
      api_calls_over_minimum: { value: +worst[1].ratio.toFixed(3), worst: worst[0], contacts: RECORDS, messages_per_contact: MESSAGES, ...detail },
    };
  } finally {
    await sandbox.stop();
  }
}
