// Contract tests for the CRM sandbox, over real TLS: each endpoint crmsync uses, its
// error shapes (as shared/reference/crm-api.md documents them), faults, the ledger and
// persistence across restarts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from './harness.mjs';

const dataDir = mkdtempSync(join(tmpdir(), 'crmsync-contract-'));
let sb;
// Calls this file makes on purpose to see the sandbox refuse an undocumented path.
const probes = (r) => r.path === '/v2/ProspectActivity.svc/Update' || r.path.endsWith('/tooling/sobjects/CustomObject');
before(async () => { sb = await startSandbox({ seed: 'demo', dataDir, probes }); });
after(async () => { await sb?.stop(); });

const form = (o) => new URLSearchParams(o).toString();
async function call(host, path, { method = 'GET', body, headers = {} } = {}) {
  const b = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const r = await sb.fetch(host, path, { method, body: b, headers: { 'content-type': typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json', ...headers } });
  let json = null;
  try { json = r.body ? JSON.parse(r.body) : null; } catch { /* html pages */ }
  return { status: r.status, headers: r.headers, json, text: r.body };
}
// An authorize URL as the browser meets it: the CRM's consent page (200, HTML), then the
// rep's answer on it (the form's fields with `decision`), which redirects to the app.
const unescape = (v) => v.replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
async function authorize(host, path, decision = 'accept') {
  const page = await call(host, path);
  assert.equal(page.status, 200, page.text);
  assert.match(page.headers['content-type'], /text\/html/);
  const action = unescape(/<form id="crm-consent" method="get" action="([^"]*)"/.exec(page.text)[1]);
  const fields = [...page.text.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map(([, k, v]) => [unescape(k), unescape(v)]);
  return call(host, `${action}?${new URLSearchParams([...fields, ['decision', decision]])}`);
}
async function zohoToken() {
  const r = await call('accounts.zoho.com', '/oauth/v2/token', { method: 'POST', body: form({ grant_type: 'refresh_token', client_id: '1000.SANDBOXCLIENT', client_secret: 'sandbox-secret', refresh_token: '1000.sandbox.refresh' }) });
  return r.json.access_token;
}
async function sfToken() {
  const r = await call('login.salesforce.com', '/services/oauth2/token', { method: 'POST', body: form({ grant_type: 'refresh_token', client_id: 'sandbox-consumer-key', client_secret: 'sandbox-consumer-secret', refresh_token: 'sandbox-sf-refresh' }) });
  return r.json;
}
const Z = 'www.zohoapis.com';
const sbConfig = (c) => call(Z, '/__sandbox/config', { method: 'POST', body: c });
const SF = 'crmsync-dev.my.salesforce.com';
const LSQ = 'api-in21.leadsquared.com';
const lsqKeys = { 'x-LSQ-AccessKey': 'u$sandbox-access', 'x-LSQ-SecretKey': 'sandbox-secret-key' };

test('zoho oauth: refresh grant, api_domain, token errors with HTTP 200', async () => {
  const ok = await call('accounts.zoho.eu', '/oauth/v2/token', { method: 'POST', body: form({ grant_type: 'refresh_token', client_id: '1000.SANDBOXCLIENT', client_secret: 'sandbox-secret-eu', refresh_token: '1000.sandbox.refresh' }) });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.api_domain, 'https://www.zohoapis.eu');
  assert.equal(ok.json.expires_in, 3600);
  assert.match(ok.json.access_token, /^1000\./);
  const bad = await call('accounts.zoho.com', '/oauth/v2/token', { method: 'POST', body: form({ grant_type: 'refresh_token', client_id: '1000.SANDBOXCLIENT', client_secret: 'sandbox-secret', refresh_token: 'nope' }) });
  assert.deepEqual([bad.status, bad.json], [200, { error: 'invalid_code' }]);
  const client = await call('accounts.zoho.com', '/oauth/v2/token', { method: 'POST', body: form({ grant_type: 'refresh_token', client_id: 'x', client_secret: 'y', refresh_token: '1000.sandbox.refresh' }) });
  assert.deepEqual(client.json, { error: 'invalid_client' });
  const auth = await authorize('accounts.zoho.com', '/oauth/v2/auth?client_id=1000.SANDBOXCLIENT&redirect_uri=https%3A%2F%2Fext.chromiumapp.org%2F&state=s1&response_type=code');
  assert.equal(auth.status, 302);
  assert.match(auth.headers.location, /^https:\/\/ext\.chromiumapp\.org\/\?code=1000\.code\.[0-9a-f]+&location=us&accounts-server=https%3A%2F%2Faccounts\.zoho\.com&state=s1$/);
  // The consent page answers only once, and only through its own form; Reject sends access_denied.
  const path = '/oauth/v2/auth?client_id=1000.SANDBOXCLIENT&redirect_uri=https%3A%2F%2Fext.chromiumapp.org%2F&state=s2&response_type=code';
  const page = await call('accounts.zoho.com', path);
  assert.match(page.text, /<button[^>]*data-decision="accept"[^>]*>Accept<\/button>/);
  assert.equal((await call('accounts.zoho.com', `${path}&consent=forged&decision=accept`)).status, 400, 'a made-up consent token');
  const rejected = await authorize('accounts.zoho.com', path, 'deny');
  assert.equal(rejected.headers.location, 'https://ext.chromiumapp.org/?error=access_denied&state=s2');
});

test('zoho oauth: each data centre has its own client secret unless Multi-DC shares one (multi-dc.html)', async () => {
  const refresh = (host, secret) => call(host, '/oauth/v2/token', { method: 'POST', body: form({ grant_type: 'refresh_token', client_id: '1000.SANDBOXCLIENT', client_secret: secret, refresh_token: '1000.sandbox.refresh' }) });
  // The US secret sent to another data centre's accounts server is refused, as Zoho does, with HTTP 200.
  for (const [host, dc] of [['accounts.zoho.eu', 'eu'], ['accounts.zoho.in', 'in'], ['accounts.zoho.com.cn', 'cn'], ['accounts.zohocloud.ca', 'ca']]) {
    const wrong = await refresh(host, 'sandbox-secret');
    assert.deepEqual([wrong.status, wrong.json], [200, { error: 'invalid_client_secret' }], host);
    const own = await refresh(host, `sandbox-secret-${dc}`);
    assert.equal(own.status, 200);
    assert.match(own.json.access_token ?? '', /^1000\./, host);
  }
  // Another data centre's secret is refused too, in the US as elsewhere.
  assert.deepEqual((await refresh('accounts.zoho.com', 'sandbox-secret-eu')).json, { error: 'invalid_client_secret' });
  assert.deepEqual((await refresh('accounts.zoho.in', 'sandbox-secret-eu')).json, { error: 'invalid_client_secret' });
  // "The same client secret for all data centres": the one secret works everywhere, the per-DC ones no longer do.
  await sbConfig({ zoho_same_secret_all_dcs: true });
  try {
    assert.match((await refresh('accounts.zoho.eu', 'sandbox-secret')).json.access_token ?? '', /^1000\./);
    assert.deepEqual((await refresh('accounts.zoho.eu', 'sandbox-secret-eu')).json, { error: 'invalid_client_secret' });
  } finally {
    await sbConfig({ zoho_same_secret_all_dcs: false });
  }
});

test('zoho api: INVALID_TOKEN, search by phone (partial, 204), org', async () => {
  const none = await call(Z, '/crm/v8/Contacts/search?phone=987654321');
  assert.deepEqual([none.status, none.json], [401, { code: 'INVALID_TOKEN', details: {}, message: 'invalid oauth token', status: 'error' }]);
  const h = { authorization: `Zoho-oauthtoken ${await zohoToken()}` };
  const hit = await call(Z, '/crm/v8/Contacts/search?phone=%2B5511987654321', { headers: h });
  assert.equal(hit.status, 204, 'stored as (11) 98765-4321: the +55 form is not a substring');
  const partial = await call(Z, '/crm/v8/Contacts/search?phone=11987654321', { headers: h });
  assert.equal(partial.status, 200);
  assert.equal(partial.json.data[0].Full_Name, 'Ana Souza');
  assert.deepEqual(partial.json.info, { per_page: 200, count: 1, page: 1, more_records: false });
  // criteria: several conditions OR-ed, `equals` as "contains", at most 10 conditions.
  const fields = ['Phone', 'Mobile', 'Home_Phone', 'Other_Phone', 'Asst_Phone'];
  const crit = (terms) => encodeURIComponent(`(${terms.flatMap((t) => fields.map((f) => `(${f}:equals:${t})`)).join('or')})`);
  const byCriteria = await call(Z, `/crm/v8/Contacts/search?criteria=${crit(['11987654321', '1187654321'])}&page=1&per_page=200`, { headers: h });
  assert.equal(byCriteria.status, 200);
  assert.equal(byCriteria.json.data[0].Full_Name, 'Ana Souza');
  const overLimit = await call(Z, `/crm/v8/Contacts/search?criteria=${crit(['1', '2', '3'])}`, { headers: h });
  assert.equal(overLimit.json.code, 'CRITERIA_LIMIT_EXCEEDED');
  const single = await call(Z, `/crm/v8/Contacts/search?criteria=${encodeURIComponent('(Mobile:equals:987654321)')}`, { headers: h });
  assert.equal(single.status, 204, 'one condition: equals is exact (a part of the number finds nothing)');
  const badq = await call(Z, '/crm/v8/Contacts/search?phone=abc', { headers: h });
  assert.equal(badq.json.code, 'INVALID_QUERY');
  const missing = await call(Z, '/crm/v8/Contacts/search', { headers: h });
  assert.equal(missing.json.code, 'EXPECTED_PARAM_MISSING');
  const org = await call(Z, '/crm/v8/org', { headers: h });
  assert.equal(org.json.org[0].domain_name, 'org20079892132');
});

test('zoho records and notes: 201/207/400, duplicates, limits, update, related deals sorted', async () => {
  const h = { authorization: `Zoho-oauthtoken ${await zohoToken()}` };
  const created = await call(Z, '/crm/v8/Leads', { method: 'POST', headers: h, body: { data: [{ Last_Name: 'Nova', Mobile: '+55 21 99876-5432' }, { First_Name: 'NoLast' }] } });
  assert.equal(created.status, 207);
  assert.equal(created.json.data[0].code, 'SUCCESS');
  assert.equal(created.json.data[1].code, 'MANDATORY_NOT_FOUND');
  const dup = await call(Z, '/crm/v8/Contacts', { method: 'POST', headers: h, body: { data: [{ Last_Name: 'X', Email: 'ANA.SOUZA@example.com.br' }] } });
  assert.equal(dup.status, 400);
  assert.equal(dup.json.data[0].code, 'DUPLICATE_DATA');
  assert.equal(dup.json.data[0].details.duplicate_record.id, '5843104000000624001');
  const notes = await call(Z, '/crm/v8/Notes', { method: 'POST', headers: h, body: { data: [
    { Note_Title: 'WhatsApp 2026-11-20', Note_Content: 'a\nb', Parent_Id: { module: { api_name: 'Contacts' }, id: '5843104000000624001' } },
    { Note_Title: 't', Note_Content: 'x'.repeat(65536), Parent_Id: { module: { api_name: 'Contacts' }, id: '5843104000000624001' } },
    { Note_Content: 'x', Parent_Id: { module: { api_name: 'Contacts' }, id: '999' } },
    {},
  ] } });
  assert.equal(notes.status, 207);
  assert.deepEqual(notes.json.data.map((d) => d.code), ['SUCCESS', 'INVALID_DATA', 'INVALID_DATA', 'EXPECTED_FIELD_MISSING']);
  assert.equal(notes.json.data[1].details.maximum_length, 65535);
  const id = notes.json.data[0].details.id;
  const upd = await call(Z, '/crm/v8/Notes', { method: 'PUT', headers: h, body: { data: [{ id, Note_Content: 'a\nb\nc' }] } });
  assert.equal(upd.status, 200);
  assert.equal(upd.json.data[0].message, 'record updated');
  const rel = await call(Z, '/crm/v8/Contacts/5843104000000624001/Notes', { headers: h });
  assert.equal(rel.json.data.find((n) => n.id === id).Note_Content, 'a\nb\nc');
  const nofields = await call(Z, '/crm/v8/Contacts/5843104000000624001/Deals', { headers: h });
  assert.equal(nofields.json.code, 'REQUIRED_PARAM_MISSING');
  // related_records.json declares fields, page and per_page: pages, no sort.
  const deals = await call(Z, '/crm/v8/Contacts/5843104000000624001/Deals?fields=Deal_Name,Stage,Modified_Time&page=1&per_page=5', { headers: h });
  assert.equal(deals.json.data.length, 5);
  assert.equal(deals.json.info.more_records, true);
  const page2 = await call(Z, '/crm/v8/Contacts/5843104000000624001/Deals?fields=Deal_Name,Stage,Modified_Time&page=2&per_page=5', { headers: h });
  assert.ok(page2.json.data.every((d) => !deals.json.data.some((e) => e.id === d.id)), 'page 2 holds other deals');
  for (const [mode, status, code] of [['hidden', 400, 'INVALID_DATA'], ['no_permission', 403, 'NO_PERMISSION']]) {
    await sb.fetch(Z, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ zoho_deals_list: mode }) });
    const r = await call(Z, '/crm/v8/Contacts/5843104000000624001/Deals?fields=Deal_Name&page=1&per_page=5', { headers: h });
    assert.deepEqual([r.status, r.json.code], [status, code], mode);
  }
  await sb.fetch(Z, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ zoho_deals_list: 'visible' }) });
  // Note_Title maxLength 120 on update too (crm-oas v8 notes updateNotesModule).
  const longTitle = await call(Z, '/crm/v8/Notes', { method: 'PUT', headers: h, body: { data: [{ id, Note_Title: 'x'.repeat(121) }] } });
  assert.equal(longTitle.json.data[0].code, 'INVALID_DATA');
  assert.equal(longTitle.json.data[0].details.maximum_length, 120);
  const over = await call(Z, '/crm/v8/Notes', { method: 'POST', headers: h, body: { data: Array.from({ length: 101 }, () => ({ Note_Content: 'x' })) } });
  assert.equal(over.json.code, 'INVALID_DATA');
});

test('salesforce: token, INVALID_SESSION_ID, SOSL phone search, upsert by external id, composite ContentNote + link', async () => {
  const bad = await call('login.salesforce.com', '/services/oauth2/token', { method: 'POST', body: form({ grant_type: 'refresh_token', client_id: 'sandbox-consumer-key', client_secret: 'sandbox-consumer-secret', refresh_token: 'x' }) });
  assert.deepEqual([bad.status, bad.json.error], [400, 'invalid_grant']);
  const tok = await sfToken();
  assert.equal(tok.instance_url, 'https://crmsync-dev.my.salesforce.com');
  const unauth = await call(SF, '/services/data/v60.0/query?q=SELECT+Id+FROM+Contact');
  assert.deepEqual([unauth.status, unauth.json], [401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]]);
  const h = { authorization: `Bearer ${tok.access_token}` };
  const either = await call(SF, `/services/data/v60.0/search?q=${encodeURIComponent('FIND {"\\+99999999" OR "4155552671"} IN PHONE FIELDS RETURNING Contact(Id, Name, Phone, MobilePhone), Lead(Id, Name, Phone, MobilePhone)')}`, { headers: h });
  assert.ok(either.json.searchRecords.length >= 1, 'any of the OR-ed phrases finds the record');
  const sosl = await call(SF, `/services/data/v60.0/search?q=${encodeURIComponent('FIND {4155552671} IN PHONE FIELDS RETURNING Contact(Id, Name, Phone, MobilePhone), Lead(Id, Name, Phone, MobilePhone)')}`, { headers: h });
  assert.equal(sosl.status, 200);
  assert.deepEqual(sosl.json.searchRecords.map((r) => [r.attributes.type, r.Name]), [['Contact', 'Liam Carter']]);
  assert.match(sosl.headers['sforce-limit-info'], /^api-usage=\d+\/15000$/);
  // A stock org: no WhatsApp_Chat__c until an admin deploys it; Task and OpportunityContactRole exist.
  const LIAM = '003RO0000035WQgYAM';
  assert.equal((await call(SF, '/services/data/v62.0/sobjects/WhatsApp_Chat__c', { headers: h })).status, 404);
  assert.equal((await call(SF, '/services/data/v62.0/composite/sobjects/WhatsApp_Chat__c/External_Key__c', { method: 'PATCH', headers: h, body: { allOrNone: false, records: [] } })).status, 404);
  assert.equal((await call(SF, `/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id FROM WhatsApp_Chat__c')}`, { headers: h })).json[0].errorCode, 'INVALID_TYPE');
  assert.equal((await call(SF, '/services/data/v62.0/sobjects/Task', { headers: h })).status, 200);
  const task = await call(SF, '/services/data/v62.0/sobjects/Task', { method: 'POST', headers: h, body: { WhoId: LIAM, Subject: '[k#0] WhatsApp · Liam Carter · 2026-11-20', Description: 'a\nb', Status: 'Completed', ActivityDate: '2026-11-20' } });
  assert.equal(task.status, 201);
  const tooLong = await call(SF, '/services/data/v62.0/sobjects/Task', { method: 'POST', headers: h, body: { WhoId: LIAM, Subject: 's', Description: 'x'.repeat(32001) } });
  assert.equal(tooLong.json[0].errorCode, 'STRING_TOO_LONG');
  const found = await call(SF, `/services/data/v62.0/query?q=${encodeURIComponent(`SELECT Id FROM Task WHERE WhoId = '${LIAM}' AND Subject = '[k#0] WhatsApp · Liam Carter · 2026-11-20'`)}`, { headers: h });
  assert.deepEqual(found.json.records.map((r) => r.Id), [task.json.id]);
  const roles = await call(SF, `/services/data/v62.0/query?q=${encodeURIComponent(`SELECT OpportunityId, Opportunity.Name FROM OpportunityContactRole WHERE ContactId = '${LIAM}' ORDER BY Opportunity.LastModifiedDate DESC LIMIT 5`)}`, { headers: h });
  assert.deepEqual(roles.json.records.map((r) => r.Opportunity.Name), ['Warehouse sensors', 'Fleet tracking rollout']);
  const byContactId = await call(SF, `/services/data/v62.0/query?q=${encodeURIComponent(`SELECT Id FROM Opportunity WHERE ContactId = '${LIAM}'`)}`, { headers: h });
  assert.equal(byContactId.json.totalSize, 0, 'Opportunity.ContactId is not how contacts are tied');
  // The Tooling API's CustomObject is Query/GET only: no object is created there (404 as any
  // undocumented path). The Metadata API's createMetadata() deploys it (an admin's call).
  const tooling = await call(SF, '/services/data/v62.0/tooling/sobjects/CustomObject', { method: 'POST', headers: h, body: { FullName: 'WhatsApp_Chat__c' } });
  assert.equal(tooling.status, 404);
  const token = h.authorization.replace(/^Bearer /, '');
  const soap = (type, items) => `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Header><SessionHeader><sessionId>${token}</sessionId></SessionHeader></soapenv:Header><soapenv:Body><createMetadata>${items.map((i) => `<metadata xsi:type="${type}">${i}</metadata>`).join('')}</createMetadata></soapenv:Body></soapenv:Envelope>`;
  const meta = (body) => sb.fetch(SF, '/services/Soap/m/62.0', { method: 'POST', headers: { 'content-type': 'text/xml', soapaction: '""' }, body });
  const objectXml = soap('CustomObject', ['<fullName>WhatsApp_Chat__c</fullName><label>WhatsApp Chat</label><pluralLabel>WhatsApp Chats</pluralLabel><nameField><label>Title</label><type>Text</type></nameField><deploymentStatus>Deployed</deploymentStatus><sharingModel>ReadWrite</sharingModel>']);
  // A user without "Modify All Data" / "Modify Metadata Through Metadata API Functions".
  await sb.fetch(SF, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ salesforce_user: 'no_customize' }) });
  const denied = await meta(objectXml);
  assert.equal(denied.status, 500);
  assert.match(denied.body, /<faultcode>sf:INSUFFICIENT_ACCESS<\/faultcode>/);
  await sb.fetch(SF, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ salesforce_user: 'full' }) });
  const mixed = await meta(objectXml.replace('xsi:type="CustomObject">', 'xsi:type="CustomField"><fullName>WhatsApp_Chat__c.A__c</fullName><label>A</label><type>Text</type></metadata><metadata xsi:type="CustomObject">'));
  assert.match(mixed.body, /same type/, 'one type per call');
  const deployed = await meta(objectXml);
  assert.equal(deployed.status, 200);
  assert.match(deployed.body, /<result><fullName>WhatsApp_Chat__c<\/fullName><success>true<\/success><\/result>/);
  assert.match((await meta(objectXml)).body, /DUPLICATE_DEVELOPER_NAME/);
  const fields = await meta(soap('CustomField', ['<fullName>WhatsApp_Chat__c.Chat_Date__c</fullName><label>Chat Date</label><type>Date</type>']));
  assert.match(fields.body, /<success>true<\/success>/);
  assert.equal((await call(SF, '/services/data/v62.0/sobjects/WhatsApp_Chat__c', { headers: h })).status, 200);
  const rec = (k, t) => ({ attributes: { type: 'WhatsApp_Chat__c' }, Chat_Key__c: k, Contact__c: '003RO0000035WQgYAM', Transcript__c: t, Name: 'WhatsApp · Liam Carter · 2026-11-20' });
  const up1 = await call(SF, '/services/data/v60.0/composite/sobjects/WhatsApp_Chat__c/Chat_Key__c', { method: 'PATCH', headers: h, body: { allOrNone: false, records: [rec('k1', 'one')] } });
  assert.equal(up1.json[0].created, true);
  const up2 = await call(SF, '/services/data/v60.0/composite/sobjects/WhatsApp_Chat__c/Chat_Key__c', { method: 'PATCH', headers: h, body: { allOrNone: false, records: [rec('k1', 'one two')] } });
  assert.deepEqual([up2.json[0].created, up2.json[0].id], [false, up1.json[0].id], 'same key, same record');
  const html = Buffer.from('<p>[10:01] Liam: hi &amp; bye</p>\n<p>[10:02] You: ok</p>').toString('base64');
  const comp = await call(SF, '/services/data/v60.0/composite', { method: 'POST', headers: h, body: { allOrNone: true, compositeRequest: [
    { method: 'POST', url: '/services/data/v60.0/sobjects/ContentNote', referenceId: 'note', body: { Title: 'WhatsApp chat', Content: html } },
    { method: 'POST', url: '/services/data/v60.0/sobjects/ContentDocumentLink', referenceId: 'link', body: { ContentDocumentId: '@{note.id}', LinkedEntityId: '003RO0000035WQgYAM', ShareType: 'V' } },
  ] } });
  assert.deepEqual(comp.json.compositeResponse.map((c) => c.httpStatusCode), [201, 201]);
  const led = await sb.ledger();
  const note = led.salesforce.ContentNote.find((n) => n.Id === comp.json.compositeResponse[0].body.id);
  assert.equal(note.Content, '<p>[10:01] Liam: hi &amp; bye</p><p>[10:02] You: ok</p>', 'newlines stripped');
  assert.equal(led.salesforce.ContentDocumentLink.at(-1).ContentDocumentId, note.Id);
  // Notes, then their links, each in one sObject Collections create; a link is queried by its document or record.
  const notes = await call(SF, '/services/data/v62.0/composite/sobjects', { method: 'POST', headers: h, body: { allOrNone: false, records: [
    { attributes: { type: 'ContentNote' }, Title: 'n1', Content: html }, { attributes: { type: 'ContentNote' }, Content: html }] } });
  assert.deepEqual(notes.json.map((r) => r.success), [true, false], 'the untitled note is refused alone');
  const links = await call(SF, '/services/data/v62.0/composite/sobjects', { method: 'POST', headers: h, body: { allOrNone: false, records: [
    { attributes: { type: 'ContentDocumentLink' }, ContentDocumentId: notes.json[0].id, LinkedEntityId: '003RO0000035WQgYAM', ShareType: 'V', Visibility: 'AllUsers' }] } });
  assert.equal(links.json[0].success, true);
  const q = (soql) => call(SF, `/services/data/v62.0/query?q=${encodeURIComponent(soql)}`, { headers: h });
  assert.equal((await q(`SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId = '${notes.json[0].id}' AND LinkedEntityId = '003RO0000035WQgYAM'`)).json.records[0].Id, links.json[0].id);
  assert.equal((await q('SELECT Id FROM ContentDocumentLink')).json[0].errorCode, 'MALFORMED_QUERY');
  const lead = await call(SF, '/services/data/v60.0/sobjects/Lead', { method: 'POST', headers: h, body: { LastName: 'X' } });
  assert.equal(lead.json[0].errorCode, 'REQUIRED_FIELD_MISSING');
  const dup = await call(SF, '/services/data/v60.0/sobjects/Contact', { method: 'POST', headers: h, body: { LastName: 'Dup', Email: 'liam.carter@example.com' } });
  assert.equal(dup.json[0].errorCode, 'DUPLICATES_DETECTED');
  assert.equal(dup.json[0].duplicateResult.matchResults[0].matchRecords[0].record.Id, '003RO0000035WQgYAM');
  const before = (await sb.ledger()).salesforce.Contact.length;
  const aon = await call(SF, '/services/data/v60.0/composite/sobjects', { method: 'POST', headers: h, body: { allOrNone: true, records: [{ attributes: { type: 'Contact' }, LastName: 'Ok' }, { attributes: { type: 'Lead' }, LastName: 'NoCompany' }] } });
  assert.deepEqual(aon.json.map((r) => r.success), [false, false]);
  assert.equal((await sb.ledger()).salesforce.Contact.length, before, 'allOrNone rolled back');
});

test('leadsquared: keys, region discovery, lookups, duplicates, activity types and bulk activities', async () => {
  const wrong = await call(LSQ, '/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber?phone=9876543210', { headers: { 'x-LSQ-AccessKey': 'x', 'x-LSQ-SecretKey': 'y' } });
  assert.deepEqual([wrong.status, wrong.json.Status], [401, 'Error']);
  const who = await call('api.leadsquared.com', `/v2/Authentication.svc/UserByAccessKey.Get?accessKey=${encodeURIComponent('u$sandbox-access')}&secretKey=sandbox-secret-key`);
  assert.deepEqual(who.json.LSQCommonServiceURLs, { api: 'api-in21.leadsquared.com', app: 'in21.leadsquared.com' });
  const otherRegion = await call('api.leadsquared.com', '/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber?phone=9876543210', { headers: lsqKeys });
  assert.equal(otherRegion.status, 401);
  const found = await call(LSQ, '/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber?phone=919876543210', { headers: lsqKeys });
  assert.deepEqual(found.json.map((l) => l.FirstName), ['Priya']);
  const spaces = await call(LSQ, '/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber?phone=98765%2043210', { headers: lsqKeys });
  assert.equal(spaces.json.ExceptionType, 'MXInvalidInputException');
  const dup = await call(LSQ, '/v2/LeadManagement.svc/Lead.Create', { method: 'POST', headers: lsqKeys, body: [{ Attribute: 'FirstName', Value: 'P' }, { Attribute: 'Phone', Value: '+91 98765 43210' }] });
  assert.equal(dup.json.ExceptionType, 'MXDuplicateEntryException');
  const type = await call(LSQ, '/v2/ProspectActivity.svc/CreateType', { method: 'POST', headers: lsqKeys, body: { ActivityEventName: 'WhatsApp Chats' } });
  const code = Number(type.json.Message.Id);
  assert.ok(code >= 200);
  const again = await call(LSQ, '/v2/ProspectActivity.svc/CreateType', { method: 'POST', headers: lsqKeys, body: { ActivityEventName: 'WhatsApp Chats' } });
  assert.equal(again.json.ExceptionType, 'MXDuplicateEntryException');
  await sb.fetch(LSQ, '/__sandbox/faults', { method: 'POST', body: JSON.stringify({ faults: [{ crm: 'leadsquared', path_prefix: '/v2/ProspectActivity.svc/Bulk', kind: { type: 'record_failure', index: 1 } }] }) });
  const lead = '3131ea6a-bb20-4457-b183-ddf6d8716dfe';
  const bulk = await call(LSQ, '/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId', { method: 'POST', headers: lsqKeys, body: [
    { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'a' }, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'b' },
    { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'x'.repeat(2001) }] });
  assert.ok(bulk.json.Response[0].ProspectActivityId);
  assert.equal(bulk.json.Response[1].ExceptionType, 'MXInvalidActivityFieldsException');
  assert.match(bulk.json.Response[2].ExceptionMessage, /2000/);
  // Get Activities of a Lead: custom fields under Data; Update an Activity: the documented path only.
  const keyed = await call(LSQ, '/v2/ProspectActivity.svc/Create', { method: 'POST', headers: lsqKeys, body: { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'k', Fields: [{ SchemaName: 'mx_Custom_1', Value: 'wa-key#0' }] } });
  const acts = await call(LSQ, `/v2/ProspectActivity.svc/Retrieve?leadId=${lead}`, { method: 'POST', headers: lsqKeys, body: { Parameter: { ActivityEvent: code }, Paging: { Offset: '0', RowCount: '50' } } });
  const mine = acts.json.ProspectActivities.find((a) => a.Id === keyed.json.Message.Id);
  assert.deepEqual(mine.Data, [{ Key: 'mx_Custom_1', Value: 'wa-key#0' }]);
  assert.equal(mine.ActivityData, undefined);
  const undocumented = await call(LSQ, '/v2/ProspectActivity.svc/Update', { method: 'POST', headers: lsqKeys, body: { ProspectActivityId: mine.Id, ActivityEvent: code, ActivityNote: 'grown' } });
  assert.equal(undocumented.status, 404);
  const upd = await call(LSQ, '/v2/ProspectActivity.svc/CustomActivity/Update', { method: 'POST', headers: lsqKeys, body: { ProspectActivityId: mine.Id, ActivityEvent: code, ActivityNote: 'grown', Fields: [{ SchemaName: 'mx_Custom_1', Value: 'wa-key#0' }] } });
  assert.equal(upd.json.Status, 'Success');
  const types = await call(LSQ, '/v2/ProspectActivity.svc/ActivityTypes.Get', { headers: lsqKeys });
  assert.equal(types.json.find((t) => t.ActivityEventName === 'WhatsApp Chats').ActivityEvent, code);
  const opps = await call(LSQ, `/v2/OpportunityManagement.svc/GetOpportunitiesOfLead?leadId=${lead}`, { method: 'POST', headers: lsqKeys, body: {} });
  assert.equal(opps.json.List[0].OpportunityName, 'Bulk cotton order Q1');
  await sb.fetch(LSQ, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ lsq_calls_per_5s: 2 }) });
  let limited;
  for (let i = 0; i < 4 && !limited; i++) {
    const r = await call(LSQ, '/v2/LeadManagement.svc/Leads.GetByQuickSearch?key=priya', { headers: lsqKeys });
    if (r.status === 429) limited = r;
  }
  assert.equal(limited.json.ExceptionType, 'MXAPIRateLimitExceededException');
  await sb.fetch(LSQ, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ lsq_calls_per_5s: 25 }) });
});

test('faults: 429 with Retry-After, drop after commit, expiring tokens, revoked grants', async () => {
  const h = { authorization: `Zoho-oauthtoken ${await zohoToken()}` };
  await sb.fetch(Z, '/__sandbox/faults', { method: 'POST', body: JSON.stringify({ faults: [
    { crm: 'zoho', path_prefix: '/crm/v8/org', kind: { type: 'status', status: 429, retry_after: 3 } },
    { crm: 'zoho', method: 'POST', path_prefix: '/crm/v8/Notes', kind: { type: 'drop_after_commit' } },
  ] }) });
  const limited = await call(Z, '/crm/v8/org', { headers: h });
  assert.deepEqual([limited.status, limited.headers['retry-after'], limited.json.code], [429, '3', 'TOO_MANY_REQUESTS']);
  assert.equal((await call(Z, '/crm/v8/org', { headers: h })).status, 200, 'count 1: next call passes');
  const before = (await sb.ledger()).zoho.notes.length;
  await assert.rejects(call(Z, '/crm/v8/Notes', { method: 'POST', headers: h, body: { data: [{ Note_Content: 'committed', Parent_Id: { module: { api_name: 'Contacts' }, id: '5843104000000624001' } }] } }));
  assert.equal((await sb.ledger()).zoho.notes.length, before + 1, 'the write happened although the answer was lost');
  await sb.fetch(Z, '/__sandbox/faults', { method: 'POST', body: JSON.stringify({ faults: [{ crm: 'zoho', path_prefix: '/crm/', kind: { type: 'expire_tokens' } }] }) });
  assert.equal((await call(Z, '/crm/v8/org', { headers: h })).json.code, 'INVALID_TOKEN');
  assert.equal((await call(Z, '/crm/v8/org', { headers: { authorization: `Zoho-oauthtoken ${await zohoToken()}` } })).status, 200, 'refresh works');
});

test('ledger shape and persistence across a restart; record pages escape CRM text', async () => {
  const h = { authorization: `Zoho-oauthtoken ${await zohoToken()}` };
  await call(Z, '/crm/v8/Notes', { method: 'POST', headers: h, body: { data: [{ Note_Title: '<script>alert(1)</script>', Note_Content: '<img src=x onerror=alert(1)>', Parent_Id: { module: { api_name: 'Contacts' }, id: '5843104000000624001' } }] } });
  const led = await sb.ledger();
  assert.deepEqual(Object.keys(led).sort(), ['leadsquared', 'requests', 'salesforce', 'zoho']);
  assert.deepEqual(Object.keys(led.zoho).sort(), ['attachments', 'contacts', 'deals', 'leads', 'notes']);
  const n = led.zoho.notes[0];
  for (const k of ['id', 'parent_module', 'parent_id', 'title', 'content']) assert.ok(k in n, k);
  assert.equal(n.parent_module, 'Contacts');
  assert.ok(led.requests.some((r) => r.host === 'www.zohoapis.com' && r.path === '/crm/v8/Notes' && r.method === 'POST'));
  const page = await call('crm.zoho.com', '/crm/org20079892132/tab/Contacts/5843104000000624001');
  assert.equal(page.status, 200);
  assert.ok(page.text.includes('Ana Souza'));
  assert.ok(page.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;') && !page.text.includes('<script>alert'));
  const count = (await sb.ledger()).zoho.notes.length;
  await sb.stop();
  sb = await startSandbox({ seed: 'demo', dataDir, probes });
  assert.equal((await sb.ledger()).zoho.notes.length, count, 'state survives a restart; seeding again changes nothing');
});

test('zoho attachments (multipart, list), credit exhaustion 429; salesforce SOQL paging with nextRecordsUrl', async () => {
  const h = { authorization: `Zoho-oauthtoken ${await zohoToken()}` };
  const boundary = 'b0undary';
  const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="proposta.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 demo\r\n--${boundary}--\r\n`;
  const up = await call(Z, '/crm/v8/Contacts/5843104000000624001/Attachments', { method: 'POST', body: multipart, headers: { ...h, 'content-type': `multipart/form-data; boundary=${boundary}` } });
  assert.equal(up.status, 200);
  assert.equal(up.json.data[0].message, 'attachment uploaded successfully');
  const list = await call(Z, '/crm/v8/Contacts/5843104000000624001/Attachments', { headers: h });
  assert.deepEqual(list.json.data.map((a) => [a.File_Name, a.Size]), [['proposta.pdf', '13']]);
  const none = await call(Z, '/crm/v8/Contacts/5843104000000624001/Attachments', { method: 'POST', body: `--${boundary}--\r\n`, headers: { ...h, 'content-type': `multipart/form-data; boundary=${boundary}` } });
  assert.equal(none.json.code, 'REQUIRED_PARAM_MISSING');
  await sb.fetch(Z, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ zoho_daily_credits: 0 }) });
  const spent = await call(Z, '/crm/v8/org', { headers: h });
  assert.deepEqual([spent.status, spent.json.code], [429, 'TOO_MANY_REQUESTS']);
  await sb.fetch(Z, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ zoho_daily_credits: 100000 }) });

  const tok = await sfToken();
  const sh = { authorization: `Bearer ${tok.access_token}` };
  await sb.fetch(SF, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ salesforce_query_batch: 1 }) });
  const first = await call(SF, `/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id, Name FROM Contact')}`, { headers: sh });
  assert.equal(first.json.done, false);
  assert.equal(first.json.records.length, 1);
  const names = [first.json.records[0].Name];
  let next = first.json.nextRecordsUrl;
  while (next) {
    const page = await call(SF, next, { headers: sh });
    names.push(...page.json.records.map((r) => r.Name));
    next = page.json.done ? null : page.json.nextRecordsUrl;
  }
  assert.equal(names.length, first.json.totalSize);
  assert.ok(names.includes('Liam Carter'));
  await sb.fetch(SF, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ salesforce_query_batch: 2000 }) });
});

// The sandbox's answers have the structure of the official examples (tests/data/crm, see its README).
function shape(v) {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).map((k) => [k, shape(v[k])]));
  return typeof v;
}
function covers(official, ours, path = '$') {
  if (Array.isArray(official)) { if (official.length) covers(official[0], ours[0], `${path}[0]`); return; }
  if (official && typeof official === 'object') {
    for (const k of Object.keys(official)) {
      assert.ok(ours && typeof ours === 'object' && k in ours, `${path}.${k} missing from the sandbox's answer`);
      covers(official[k], ours[k], `${path}.${k}`);
    }
  }
}
const golden = async (p) => JSON.parse((await import('node:fs')).readFileSync(new URL(`../data/crm/${p}`, import.meta.url), 'utf8'));

test('answers follow the official examples: Zoho search, writes, errors; Salesforce search, errors, token; LeadSquared lookups', async () => {
  const h = { authorization: `Zoho-oauthtoken ${await zohoToken()}` };
  const pairs = [
    ['zoho/search-200.json', await call(Z, '/crm/v8/Contacts/search?phone=11987654321', { headers: h })],
    ['zoho/invalid-token-401.json', await call(Z, '/crm/v8/org')],
    ['zoho/create-207-mixed.json', await call(Z, '/crm/v8/Leads', { method: 'POST', headers: h, body: { data: [{ Last_Name: 'Shape' }, { First_Name: 'x' }] } })],
    ['zoho/notes-201.json', await call(Z, '/crm/v8/Notes', { method: 'POST', headers: h, body: { data: [{ Note_Content: 'shape', Parent_Id: { module: { api_name: 'Contacts' }, id: ANA_ID } }] } })],
    ['zoho/deals-200.json', await call(Z, `/crm/v8/Contacts/${ANA_ID}/Deals?fields=Deal_Name,Stage,Modified_Time&page=1&per_page=5`, { headers: h })],
  ];
  // token-200.json is the authorization-code exchange (it carries the refresh token).
  const auth = await authorize('accounts.zoho.com', '/oauth/v2/auth?client_id=1000.SANDBOXCLIENT&redirect_uri=https%3A%2F%2Fext.chromiumapp.org%2F&response_type=code&access_type=offline');
  const code = new URL(auth.headers.location).searchParams.get('code');
  pairs.push(['zoho/token-200.json', await call('accounts.zoho.com', '/oauth/v2/token', { method: 'POST', body: form({ grant_type: 'authorization_code', client_id: '1000.SANDBOXCLIENT', client_secret: 'sandbox-secret', redirect_uri: 'https://ext.chromiumapp.org/', code }) })]);
  const tok = await sfToken();
  const sh = { authorization: `Bearer ${tok.access_token}` };
  pairs.push(
    ['salesforce/search-200.json', await call(SF, `/services/data/v62.0/search?q=${encodeURIComponent('FIND {4155552671} IN PHONE FIELDS RETURNING Contact(Id, Name, Phone)')}`, { headers: sh })],
    ['salesforce/session-401.json', await call(SF, '/services/data/v62.0/query?q=SELECT+Id+FROM+Contact')],
    ['salesforce/token-400-invalid-grant.json', await call('login.salesforce.com', '/services/oauth2/token', { method: 'POST', body: form({ grant_type: 'refresh_token', client_id: 'sandbox-consumer-key', client_secret: 'sandbox-consumer-secret', refresh_token: 'nope' }) })],
    ['salesforce/create-201.json', await call(SF, '/services/data/v62.0/sobjects/Contact', { method: 'POST', headers: sh, body: { LastName: 'Shape' } })],
    ['leadsquared/lead-by-phone.json', await call(LSQ, '/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber?phone=9876543210', { headers: lsqKeys })],
  );
  for (const [file, ours] of pairs) {
    const official = await golden(file);
    // Lists of records: compare the keys every record must carry, not the sample's extras.
    const trim = (v) => (file.includes('search-200') || file.includes('lead-by-phone') || file.includes('deals-200') ? pick(v) : v);
    covers(shape(trim(official)), shape(ours.json), file);
  }
});
const ANA_ID = '5843104000000624001';
// The envelope of a record list, and in records only their id field (samples carry other orgs' fields).
function pick(v) {
  if (Array.isArray(v)) return v.slice(0, 1).map((r) => ('Id' in r ? { Id: r.Id } : 'ProspectID' in r ? { ProspectID: r.ProspectID } : { id: r.id }));
  if (v.data) return { ...v, data: pick(v.data) };
  if (v.searchRecords) return { ...v, searchRecords: pick(v.searchRecords) };
  return v;
}

test('zoho record update and the concurrency limit', async () => {
  const h = { authorization: `Zoho-oauthtoken ${await zohoToken()}` };
  const upd = await call(Z, '/crm/v8/Contacts', { method: 'PUT', headers: h, body: { data: [{ id: ANA_ID, Title: 'Diretora de Compras' }, { id: '404', Title: 'x' }] } });
  assert.equal(upd.status, 207);
  assert.deepEqual(upd.json.data.map((d) => d.code), ['SUCCESS', 'INVALID_DATA']);
  assert.equal((await call(Z, `/crm/v8/Contacts/${ANA_ID}`, { headers: h })).json.data[0].Title, 'Diretora de Compras');
  await sb.fetch(Z, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ zoho_concurrency: 1 }) });
  await sb.fetch(Z, '/__sandbox/faults', { method: 'POST', body: JSON.stringify({ faults: [{ crm: 'zoho', path_prefix: '/crm/v8/org', kind: { type: 'delay', ms: 800 } }] }) });
  const slow = call(Z, '/crm/v8/org', { headers: h });
  await new Promise((r) => setTimeout(r, 200));
  const second = await call(Z, '/crm/v8/org', { headers: h });
  assert.deepEqual([second.status, second.json.code], [429, 'TOO_MANY_REQUESTS']);
  assert.equal((await slow).status, 200);
  await sb.fetch(Z, '/__sandbox/config', { method: 'POST', body: JSON.stringify({ zoho_concurrency: 10 }) });
});

// The product's own clients and the setup-check endpoints (the answers imitate the pages cited
// in tests/crm-sandbox/src: Zoho "Mobile-based Applications" and "Multi DC support", Salesforce
// help 005132365 and the REST API's sObject Basic Information, Zoho v8 settings/modules and
// Related Lists Metadata, LeadSquared UserByAccessKey.Get).
const s256 = async (v) => Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(v))).toString('base64url');

test('zoho product client: PKCE S256 required and checked, no secret, Multi-DC per data centre, the account\'s DC in the redirect', async () => {
  const verifier = 'v'.repeat(50);
  const noPkce = await call('accounts.zoho.eu', '/oauth/v2/auth?client_id=1000.SANDBOXMOBILE&redirect_uri=https%3A%2F%2Fext.chromiumapp.org%2F&state=s&response_type=code');
  assert.deepEqual(noPkce.json, { error: 'invalid_request' }, 'a mobile-based client must send PKCE');
  await sbConfig({ zoho_user_dc: 'in' });
  const auth = await authorize('accounts.zoho.eu', `/oauth/v2/auth?client_id=1000.SANDBOXMOBILE&redirect_uri=https%3A%2F%2Fext.chromiumapp.org%2F&state=s&response_type=code&code_challenge=${await s256(verifier)}&code_challenge_method=S256`);
  assert.equal(auth.status, 302);
  const loc = new URL(auth.headers.location);
  assert.equal(loc.searchParams.get('accounts-server'), 'https://accounts.zoho.in');
  assert.equal(loc.searchParams.get('location'), 'in');
  const code = loc.searchParams.get('code');
  const exchange = (v, host = 'accounts.zoho.in') => call(host, '/oauth/v2/token', { method: 'POST', body: form({ grant_type: 'authorization_code', client_id: '1000.SANDBOXMOBILE', redirect_uri: 'https://ext.chromiumapp.org/', code, code_verifier: v }) });
  assert.deepEqual((await exchange('w'.repeat(50))).json, { error: 'invalid_code' }, 'a wrong verifier');
  // (the code is single-use: a fresh one for the right verifier)
  const auth2 = await authorize('accounts.zoho.in', `/oauth/v2/auth?client_id=1000.SANDBOXMOBILE&redirect_uri=https%3A%2F%2Fext.chromiumapp.org%2F&state=s&response_type=code&code_challenge=${await s256(verifier)}&code_challenge_method=S256`);
  const code2 = new URL(auth2.headers.location).searchParams.get('code');
  const ok = await call('accounts.zoho.in', '/oauth/v2/token', { method: 'POST', body: form({ grant_type: 'authorization_code', client_id: '1000.SANDBOXMOBILE', redirect_uri: 'https://ext.chromiumapp.org/', code: code2, code_verifier: verifier }) });
  assert.equal(ok.json.api_domain, 'https://www.zohoapis.in');
  assert.match(ok.json.refresh_token, /^1000\.refresh\./, 'access_type=offline gives a public client a refresh token');
  const refresh = await call('accounts.zoho.in', '/oauth/v2/token', { method: 'POST', body: form({ grant_type: 'refresh_token', client_id: '1000.SANDBOXMOBILE', refresh_token: ok.json.refresh_token }) });
  assert.match(refresh.json.access_token, /^1000\./, 'refresh without a secret');
  await sbConfig({ zoho_multi_dc: ['us'] });
  const off = await call('accounts.zoho.in', '/oauth/v2/token', { method: 'POST', body: form({ grant_type: 'refresh_token', client_id: '1000.SANDBOXMOBILE', refresh_token: ok.json.refresh_token }) });
  assert.deepEqual([off.status, off.json], [200, { error: 'invalid_client' }], 'Multi-DC off for India');
  await sbConfig({ zoho_multi_dc: ['us', 'eu', 'in', 'au', 'jp', 'ca', 'sa', 'uk', 'cn'], zoho_user_dc: null });
});

test('salesforce product app: PKCE checked, no secret; an org that has not installed it redirects with the documented error', async () => {
  const verifier = 'p'.repeat(60);
  const auth = await authorize('login.salesforce.com', `/services/oauth2/authorize?response_type=code&client_id=sandbox-eca-key&redirect_uri=https%3A%2F%2Fext.chromiumapp.org%2F&state=s&code_challenge=${await s256(verifier)}&code_challenge_method=S256`);
  const code = new URL(auth.headers.location).searchParams.get('code');
  const denied = await authorize('login.salesforce.com', `/services/oauth2/authorize?response_type=code&client_id=sandbox-eca-key&redirect_uri=https%3A%2F%2Fext.chromiumapp.org%2F&state=s&code_challenge=${await s256(verifier)}&code_challenge_method=S256`, 'deny');
  assert.equal(new URL(denied.headers.location).searchParams.get('error'), 'access_denied', 'Deny on "Allow Access?"');
  const ok = await call('login.salesforce.com', '/services/oauth2/token', { method: 'POST', body: form({ grant_type: 'authorization_code', client_id: 'sandbox-eca-key', redirect_uri: 'https://ext.chromiumapp.org/', code, code_verifier: verifier }) });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(ok.json.refresh_token);
  await sbConfig({ salesforce_app_installed: false });
  const blocked = await call('login.salesforce.com', '/services/oauth2/authorize?response_type=code&client_id=sandbox-eca-key&redirect_uri=https%3A%2F%2Fext.chromiumapp.org%2F&state=s&code_challenge=x&code_challenge_method=S256');
  assert.equal(blocked.status, 302);
  const loc = new URL(blocked.headers.location);
  assert.deepEqual([loc.searchParams.get('error'), loc.searchParams.get('error_description')], ['invalid_client', 'app must be installed into org']);
  await sbConfig({ salesforce_app_installed: true });
});

test('setup-check endpoints and the user variants: module rights, related lists, API access', async () => {
  const h = { authorization: `Zoho-oauthtoken ${await zohoToken()}` };
  const mods = await call(Z, '/crm/v8/settings/modules', { headers: h });
  const notes = mods.json.modules.find((m) => m.api_name === 'Notes');
  assert.deepEqual([notes.api_supported, notes.creatable], [true, true]);
  const rl = await call(Z, '/crm/v8/settings/related_lists?module=Contacts', { headers: h });
  assert.ok(rl.json.related_lists.some((l) => l.api_name === 'Deals' && l.visible === true));
  assert.equal((await call(Z, '/crm/v8/settings/related_lists', { headers: h })).json.code, 'REQUIRED_PARAM_MISSING');
  await sbConfig({ zoho_user: 'read_only', zoho_deals_list: 'hidden', salesforce_user: 'read_only', lsq_role: 'Sales_User' });
  assert.equal((await call(Z, '/crm/v8/settings/modules', { headers: h })).json.modules.find((m) => m.api_name === 'Notes').creatable, false);
  assert.ok(!(await call(Z, '/crm/v8/settings/related_lists?module=Contacts', { headers: h })).json.related_lists.some((l) => l.api_name === 'Deals'));
  const note = await call(Z, '/crm/v8/Notes', { method: 'POST', headers: h, body: { data: [{ Note_Title: 't', Note_Content: 'c', Parent_Id: { module: { api_name: 'Contacts' }, id: '1' } }] } });
  assert.deepEqual([note.status, note.json.code], [403, 'NO_PERMISSION']);
  const sfh = { authorization: `Bearer ${(await sfToken()).access_token}` };
  const task = await call(SF, '/services/data/v62.0/sobjects/Task', { headers: sfh });
  assert.equal(task.json.objectDescribe.createable, false);
  assert.equal((await call(SF, '/services/data/v62.0/sobjects/Contact', { headers: sfh })).json.objectDescribe.queryable, true);
  const user = await call('api.leadsquared.com', '/v2/Authentication.svc/UserByAccessKey.Get', { headers: lsqKeys });
  assert.equal(user.json.Role, 'Sales_User');
  const type = await call(LSQ, '/v2/ProspectActivity.svc/CreateType', { method: 'POST', headers: lsqKeys, body: { ActivityEventName: 'X' } });
  assert.equal(type.status, 401);
  await sbConfig({ zoho_user: 'no_api', salesforce_user: 'no_api' });
  const org = await call(Z, '/crm/v8/org', { headers: h });
  assert.deepEqual([org.status, org.json.code, org.json.details.permissions], [403, 'NO_PERMISSION', ['Crm_Implied_Api_Access']]);
  const sfOff = await call(SF, '/services/data/v62.0/sobjects/Contact', { headers: sfh });
  assert.deepEqual([sfOff.status, sfOff.json[0].errorCode], [403, 'API_DISABLED_FOR_ORG']);
  await sbConfig({ zoho_user: 'full', zoho_deals_list: 'visible', salesforce_user: 'full', lsq_role: 'Administrator' });
});

test('seeds for the setup variants start the sandbox already configured', async () => {
  const json = async (r) => JSON.parse((await r).body);
  const form2 = (o) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(o).toString() });
  const tokens = async (s) => ({
    zoho: (await json(s.fetch('accounts.zoho.com', '/oauth/v2/token', form2({ grant_type: 'refresh_token', client_id: '1000.SANDBOXCLIENT', client_secret: 'sandbox-secret', refresh_token: '1000.sandbox.refresh' })))).access_token,
    sf: (await json(s.fetch('login.salesforce.com', '/services/oauth2/token', form2({ grant_type: 'refresh_token', client_id: 'sandbox-consumer-key', client_secret: 'sandbox-consumer-secret', refresh_token: 'sandbox-sf-refresh' })))).access_token,
  });
  for (const [seed, check] of [
    ['demo-read-only', async (s, t) => {
      assert.match((await s.fetch('api.leadsquared.com', '/v2/Authentication.svc/UserByAccessKey.Get', { headers: lsqKeys })).body, /"Role":"Sales_User"/);
      const mods = await json(s.fetch(Z, '/crm/v8/settings/modules', { headers: { authorization: `Zoho-oauthtoken ${t.zoho}` } }));
      assert.equal(mods.modules.find((m) => m.api_name === 'Notes').creatable, false);
    }],
    ['demo-hidden-deals', async (s, t) => {
      const rl = await json(s.fetch(Z, '/crm/v8/settings/related_lists?module=Contacts', { headers: { authorization: `Zoho-oauthtoken ${t.zoho}` } }));
      assert.ok(!rl.related_lists.some((l) => l.api_name === 'Deals'));
    }],
    ['demo-no-api', async (s, t) => {
      const r = await s.fetch(SF, '/services/data/v62.0/sobjects/Contact', { headers: { authorization: `Bearer ${t.sf}` } });
      assert.deepEqual([r.status, JSON.parse(r.body)[0].errorCode], [403, 'API_DISABLED_FOR_ORG']);
    }],
  ]) {
    const s = await startSandbox({ seed });
    try { await check(s, await tokens(s)); } finally { await s.stop(); }
  }
});
