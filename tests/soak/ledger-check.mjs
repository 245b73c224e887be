// Compares the messages crmsync captured with what the sandbox CRMs hold: every captured
// message must sit exactly once in each named document slot its chat backs up to
// (`expectedSlots`, from the seeded records), and nowhere else. Pure (no I/O), so the soak test and its self-check use the same function.

/** Where a message token was found: one entry per CRM document that contains it.
 *  `slot` names the place a document belongs (the record, or a deal/opportunity of it);
 *  a slot must hold a given message once. */
export function holdersOf(ledger, token) {
  const out = [];
  // A deal's note belongs to the deal's contact (the unit's record).
  const dealContact = new Map(ledger.zoho.deals.map((d) => [d.id, d.Contact_Name?.id]));
  for (const n of ledger.zoho.notes) {
    if (!n.content?.includes(token)) continue;
    const record = n.parent_module === 'Deals' ? dealContact.get(n.parent_id) : n.parent_id;
    out.push({ crm: 'zoho', record, slot: `zoho:${n.parent_module}:${n.parent_id}`, id: n.id });
  }
  for (const c of ledger.salesforce.WhatsApp_Chat__c) {
    const record = c.Contact__c || c.Lead__c;
    if (c.Transcript__c?.includes(token)) out.push({ crm: 'salesforce', record, slot: `salesforce:chat:${record}`, id: c.Id });
  }
  // A stock org (no WhatsApp_Chat__c): the day's completed Task on the contact or lead.
  for (const t of ledger.salesforce.Task || []) {
    if (t.Description?.includes(token)) out.push({ crm: 'salesforce', record: t.WhoId, slot: `salesforce:task:${t.WhoId}`, id: t.Id });
  }
  for (const n of ledger.salesforce.ContentNote) {
    if (!n.Content?.includes(token)) continue;
    const links = ledger.salesforce.ContentDocumentLink.filter((l) => l.ContentDocumentId === n.Id).map((l) => l.LinkedEntityId);
    if (links.length === 0) out.push({ crm: 'salesforce', record: null, slot: 'salesforce:note:unlinked', id: n.Id });
    for (const record of links) out.push({ crm: 'salesforce', record, slot: `salesforce:note:${record}`, id: n.Id });
  }
  for (const a of ledger.leadsquared.activities) {
    if (a.ActivityNote?.includes(token)) {
      out.push({ crm: 'leadsquared', record: a.RelatedProspectId, slot: `leadsquared:${a.RelatedProspectId}:${a.RelatedOpportunityId || 'lead'}`, id: a.ProspectActivityId || a.Id });
    }
  }
  return out;
}

/**
 * The slots a message of a chat linked to `record` in `crm` belongs in, named, from the
 * records as seeded (a ledger read before any sync), per "Where a backup lands" (README):
 * Zoho, the contact (or lead) and the contact's 5 most recently modified deals
 * (`Modified_Time`); Salesforce, the day's chat record (a Task on the contact or lead in a
 * stock org) and a ContentNote linked to it; LeadSquared, the lead and each of its
 * opportunities.
 */
export function expectedSlots(seeded, crm, record) {
  if (crm === 'zoho') {
    const module = seeded.zoho.leads.some((l) => l.id === record) ? 'Leads' : 'Contacts';
    const deals = module === 'Contacts'
      ? seeded.zoho.deals.filter((d) => d.Contact_Name?.id === record)
        // ISO 8601 times of one offset sort as text; newest first.
        .sort((a, b) => String(b.Modified_Time).localeCompare(String(a.Modified_Time)))
        .slice(0, 5)
      : [];
    return [`zoho:${module}:${record}`, ...deals.map((d) => `zoho:Deals:${d.id}`)];
  }
  if (crm === 'salesforce') {
    const chat = seeded.salesforce.has_chat_object ? 'chat' : 'task';
    return [`salesforce:${chat}:${record}`, `salesforce:note:${record}`];
  }
  if (crm === 'leadsquared') {
    const opps = seeded.leadsquared.opportunities.filter((o) => o.RelatedProspectId === record);
    return [`leadsquared:${record}:lead`, ...opps.map((o) => `leadsquared:${record}:${o.OpportunityId}`)];
  }
  throw new Error(`unknown CRM ${crm}`);
}

/**
 * captured: [{ token, record, slots }]: `record` is the CRM record id the message's chat
 * is linked to, `slots` the named slots that must hold it (`expectedSlots`). Returns
 * { present, missing, duplicated, misplaced } where `present` counts messages held exactly
 * once in each of their slots and nowhere else; a copy in any other slot (another record,
 * or a deal that is not one of the 5) is misplaced.
 */
export function compareLedger(captured, ledger) {
  const missing = [];
  const duplicated = [];
  const misplaced = [];
  let present = 0;
  for (const m of captured) {
    const want = new Set(m.slots);
    const holders = holdersOf(ledger, m.token);
    const bySlot = new Map();
    for (const h of holders) bySlot.set(h.slot, [...(bySlot.get(h.slot) || []), h.id]);
    const wrong = holders.filter((h) => !want.has(h.slot));
    const dups = [...bySlot].filter(([slot, ids]) => want.has(slot) && ids.length > 1);
    const absent = [...want].filter((slot) => !bySlot.has(slot));
    let ok = true;
    if (wrong.length) { ok = false; misplaced.push({ token: m.token, holders: wrong }); }
    if (dups.length) { ok = false; duplicated.push({ token: m.token, slots: Object.fromEntries(dups) }); }
    if (absent.length) { ok = false; missing.push({ token: m.token, absent, found: [...bySlot.keys()] }); }
    if (ok) present += 1;
  }
  return { captured: captured.length, present, missing, duplicated, misplaced };
}
