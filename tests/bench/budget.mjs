// budget_per_rep_day: the CRM API calls (Zoho: credits) one rep spends on a typical working
// day, per CRM, measured by performing them against the sandbox CRMs with the real matching
// and the real sync engine: 100 chat opens of 40 distinct chats (`crmsync lookup-calls`, with
// the card's deals read after each lookup, as the worker does), and 300 messages over 8 hours
// backed up by an engine cycle every 3 minutes (`crmsync day-calls`). Each CRM is measured
// as the only one connected (a team works in one CRM); the sandbox's request log must agree.
//
// Allowances (shared/reference/crm-api.md, with the pages cited there):
// - Zoho credits per rolling 24 h: the org's base 50,000 plus per user licence Standard 250,
//   Professional 500, Enterprise 1,000, Ultimate 2,000 (maxima Standard 100,000, Enterprise
//   5,000,000); inserts and updates cost a credit per 10 records.
// - Salesforce daily API requests: Enterprise 100,000 + 1,000 per licence, Unlimited
//   100,000 + 5,000 per licence.
// - LeadSquared: calls per 5 seconds per plan, and on newer plans a daily framework of
//   10,000 (Pro) / 100,000 (Super) + 1,000 per user.
import { startSandbox } from '../e2e/harness.mjs';
import { harness } from './plan.mjs';
import { chatNumbers, opens, seedChats, unlimited } from './lookup.mjs';

const MESSAGES = 300;
const HOURS = 8;
const CYCLE_MINUTES = 3;

/** How many reps an allowance of `base + perRep × reps` (capped at `max`) carries at `cost`
 *  per rep; "any" when each licence brings more than a rep spends and nothing caps it. */
export function repsThatFit(cost, base, perRep, max = Infinity) {
  // base + perRep·n ≥ cost·n, and cost·n ≤ max.
  const byGrowth = cost <= perRep ? Infinity : Math.floor(base / (cost - perRep));
  const n = Math.min(byGrowth, cost > 0 ? Math.floor(max / cost) : Infinity);
  return Number.isFinite(n) ? n : 'any';
}

export async function run({ ROOT }) {
  const sandbox = await startSandbox({ seed: 'demo' });
  try {
    await unlimited(sandbox);
    const numbers = chatNumbers();
    const crms = await seedChats(sandbox, numbers);
    const d = new Date();
    const start = { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: 9, minute: 0 };
    const out = {};
    for (const { ids, ...c } of crms) {
      const before = (await sandbox.ledger()).requests.length;
      const look = await harness(ROOT, sandbox, 'lookup-calls', { crms: [c], opens: opens(numbers), minutes_between: 5, region: 'US', card_reads: true });
      const day = await harness(ROOT, sandbox, 'day-calls', { crm: c.crm, base: c.base, token: c.token, records: ids,
        messages: MESSAGES, hours: HOURS, cycle_minutes: CYCLE_MINUTES, start });
      const logged = (await sandbox.ledger()).requests.length - before;
      if (logged !== look.calls + day.calls) throw new Error(`budget ${c.crm}: counted ${look.calls + day.calls} calls, the sandbox logged ${logged}`);
      if (day.pending_at_end !== 0 || day.confirmed !== MESSAGES) throw new Error(`budget ${c.crm}: ${day.confirmed} of ${MESSAGES} messages confirmed, ${day.pending_at_end} pending`);
      out[c.crm] = { lookups: look.calls, backups: day.calls, calls: look.calls + day.calls,
        credits: c.crm === 'zoho' ? look.calls + day.zoho_credits : undefined,
        cycles: day.cycles, cycles_with_calls: day.cycles_with_calls, peak_calls_in_a_cycle: day.peak_calls_in_a_cycle };
    }
    const z = out.zoho, s = out.salesforce, l = out.leadsquared;
    return {
      zoho_credits_per_rep_day: {
        value: z.credits, goal: 250, lookup_calls: z.lookups, backup_calls: z.backups, cycles_with_calls: z.cycles_with_calls,
        reps_standard: repsThatFit(z.credits, 50_000, 250, 100_000), reps_professional: repsThatFit(z.credits, 50_000, 500),
        reps_enterprise: repsThatFit(z.credits, 50_000, 1_000, 5_000_000), reps_ultimate: repsThatFit(z.credits, 50_000, 2_000),
      },
      salesforce_calls_per_rep_day: {
        value: s.calls, lookup_calls: s.lookups, backup_calls: s.backups, cycles_with_calls: s.cycles_with_calls,
        reps_enterprise: repsThatFit(s.calls, 100_000, 1_000), reps_unlimited: repsThatFit(s.calls, 100_000, 5_000),
      },
      leadsquared_calls_per_rep_day: {
        value: l.calls, lookup_calls: l.lookups, backup_calls: l.backups, peak_calls_in_a_cycle: l.peak_calls_in_a_cycle,
        reps_pro_daily: repsThatFit(l.calls, 10_000, 1_000, 250_000), reps_super_daily: repsThatFit(l.calls, 100_000, 1_000, 1_000_000),
      },
    };
  } finally {
    await sandbox.stop();
  }
}
