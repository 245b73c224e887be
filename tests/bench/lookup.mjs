// lookup_calls_per_chat: the CRM calls a chat open costs to find its records, per CRM, with
// Zoho, Salesforce and LeadSquared all connected. `crmsync lookup-calls` runs the real
// connectors' searches for each number's variants, core matching, and the worker's day-long
// match cache over a rep's day of opens; this module seeds the sandbox CRMs (not counted) and
// performs every printed request against them; the sandbox's request log must agree.
import { startSandbox } from '../e2e/harness.mjs';
import { harness, json, tokens } from './plan.mjs';

const DISTINCT = 40;
const OPENS = 100;

/** The rep's chats: US numbers, and every fifth a Brazilian mobile (old and new line forms). */
export function chatNumbers() {
  return Array.from({ length: DISTINCT }, (_, i) => (i % 5 === 4
    ? { e164: `+55119${String(87000000 + i * 1013).padStart(8, '0')}`, br: true }
    : { e164: `+1415${String(2000000 + i * 7919).padStart(7, '0')}`, br: false }));
}

/** 100 opens of 40 chats: each once, then the busiest again and again, deterministic. */
export function opens(numbers) {
  const out = numbers.map((n) => n.e164);
  for (let i = 0; out.length < OPENS; i++) out.push(numbers[(i * 7) % 12].e164);
  return out;
}

/** The way a rep types each number into the CRM (national, formatted). */
function typed({ e164, br }) {
  return br ? `(${e164.slice(3, 5)}) ${e164.slice(5, 10)}-${e164.slice(10)}` : `(${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}`;
}

/** The sandbox CRMs without rate limits or daily caps: a count, not a throttle, is measured. */
export async function unlimited(sandbox) {
  await sandbox.fetch('www.zohoapis.com', '/__sandbox/config', { method: 'POST',
    body: JSON.stringify({ lsq_calls_per_5s: 1_000_000, zoho_daily_credits: 10_000_000, salesforce_daily_limit: 10_000_000 }) });
}

export async function seedChats(sandbox, numbers) {
  const t = await tokens(sandbox);
  const data = numbers.map((n, i) => ({ Last_Name: `Lookup ${i}`, Mobile: typed(n) }));
  const z = await json(sandbox, 'www.zohoapis.com', '/crm/v8/Contacts', { method: 'POST', body: JSON.stringify({ data }),
    headers: { authorization: `Zoho-oauthtoken ${t.z.access_token}`, 'content-type': 'application/json' } });
  const sfHost = new URL(t.s.instance_url).host;
  const records = numbers.map((n, i) => ({ attributes: { type: 'Contact' }, LastName: `Lookup ${i}`, Phone: typed(n) }));
  const s = await json(sandbox, sfHost, '/services/data/v62.0/composite/sobjects', { method: 'POST', body: JSON.stringify({ allOrNone: false, records }),
    headers: { authorization: `Bearer ${t.s.access_token}`, 'content-type': 'application/json' } });
  let lsq = 0;
  const lsqIds = [];
  for (const [i, n] of numbers.entries()) {
    const r = await json(sandbox, t.lsqHost, `/v2/LeadManagement.svc/Lead.Create?${t.lsqKeys}`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ Attribute: 'LastName', Value: `Lookup ${i}` }, { Attribute: 'Phone', Value: `+${n.e164.slice(1, n.br ? 3 : 2)}-${n.e164.slice(n.br ? 3 : 2)}` }]) });
    if (r.body?.Message?.Id) { lsq++; lsqIds.push(r.body.Message.Id); }
  }
  if (z.body?.data?.length !== numbers.length || s.body?.length !== numbers.length || lsq !== numbers.length) {
    throw new Error(`seeding the lookup chats failed: ${z.body?.data?.length}/${s.body?.length}/${lsq}`);
  }
  return [
    // ids: the record created for each chat, in the chats' order.
    { crm: 'zoho', base: t.z.api_domain, token: t.z.access_token, ids: z.body.data.map((d) => d.details.id) },
    { crm: 'salesforce', base: t.s.instance_url, token: t.s.access_token, ids: s.body.map((r) => r.id) },
    { crm: 'leadsquared', base: t.lsqHost, token: t.lsqToken, ids: lsqIds },
  ];
}

export async function run({ ROOT }) {
  const sandbox = await startSandbox({ seed: 'demo' });
  try {
    await unlimited(sandbox);
    const numbers = chatNumbers();
    const crms = await seedChats(sandbox, numbers);
    const before = (await sandbox.ledger()).requests.length;
    // 100 opens over 8 hours: one every ~5 minutes.
    const r = await harness(ROOT, sandbox, 'lookup-calls', { crms: crms.map(({ ids, ...c }) => c), opens: opens(numbers), minutes_between: 5, region: 'US' });
    const logged = (await sandbox.ledger()).requests.length - before;
    if (logged !== r.calls) throw new Error(`lookup-calls: counted ${r.calls} calls, the sandbox logged ${logged}`);
    // Every CRM finds every chat's record and matching links each (each CRM is ranked on its
    // own: Zoho's and Salesforce's contacts do not hide LeadSquared's leads).
    for (const name of ['Zoho CRM', 'Salesforce', 'LeadSquared']) {
      if ((r.found_misses_by_crm[name] ?? 0) !== DISTINCT) throw new Error(`lookup-calls: ${name} found ${r.found_misses_by_crm[name]} of ${DISTINCT} chats`);
    }
    for (const name of ['Zoho CRM', 'Salesforce', 'LeadSquared']) {
      if ((r.linked_misses_by_crm[name] ?? 0) !== DISTINCT) throw new Error(`lookup-calls: ${name} linked ${r.linked_misses_by_crm[name]} of ${DISTINCT} chats`);
    }
    const per = (name) => +((r.calls_by_crm[name] ?? 0) / r.misses).toFixed(3);
    return {
      lookup_calls_per_chat: {
        value: +(r.calls / r.misses).toFixed(3), note: 'calls per chat whose match is not cached (Zoho, Salesforce, LeadSquared all connected)',
        opens: r.opens, distinct_chats: r.distinct, cache_misses: r.misses, calls: r.calls,
        cached_opens: r.cached_opens, calls_per_cached_open: r.calls_on_cached_opens / Math.max(1, r.cached_opens),
        zoho_per_miss: per('Zoho CRM'), zoho_max_per_miss: r.max_calls_per_miss_by_crm['Zoho CRM'], zoho_modules: 2,
        salesforce_per_miss: per('Salesforce'), salesforce_max_per_miss: r.max_calls_per_miss_by_crm.Salesforce, salesforce_modules: 1,
        leadsquared_per_miss: per('LeadSquared'), leadsquared_max_per_miss: r.max_calls_per_miss_by_crm.LeadSquared, leadsquared_modules: 1,
        brazilian_share: numbers.filter((n) => n.br).length / DISTINCT,
      },
    };
  } finally {
    await sandbox.stop();
  }
}
