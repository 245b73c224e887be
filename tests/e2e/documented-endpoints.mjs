// Every CRM endpoint crmsync may call, each with the official page that documents it. The
// harness checks the sandbox's request log against this table when a sandbox stops (after
// every e2e file, the soak and the bench), so a call the docs do not define fails its test.
// Zoho operations are also checked field by field against the official OpenAPI files
// (tests/zoho_contract.rs); here they are listed by path.
const V = String.raw`v\d+\.\d+`;
const ID = String.raw`[^/]+`;

/** [crm, method, path pattern, doc page] */
export const DOCUMENTED = [
  // Zoho CRM v8 (zoho/crm-oas v8.0, file named per row) and Zoho Accounts OAuth.
  ['zoho-accounts', 'GET', '/oauth/v2/auth', 'https://www.zoho.com/accounts/protocol/oauth/web-apps/authorization-request.html'],
  ['zoho-accounts', 'POST', '/oauth/v2/token', 'https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html'],
  ['zoho-accounts', 'POST', '/oauth/v2/token/revoke', 'https://www.zoho.com/accounts/protocol/oauth/web-apps/revoke-tokens.html'],
  ['zoho', 'GET', String.raw`/crm/v8/(Contacts|Leads)/search`, 'crm-oas v8.0 module_search.json / record.json: searchRecords'],
  ['zoho', 'POST', String.raw`/crm/v8/(Contacts|Leads)`, 'crm-oas v8.0 record.json: createRecords'],
  ['zoho', 'PUT', String.raw`/crm/v8/(Contacts|Leads)`, 'crm-oas v8.0 record.json: updateRecords'],
  ['zoho', 'GET', String.raw`/crm/v8/(Contacts|Leads|Deals)/${ID}`, 'crm-oas v8.0 record.json: getRecord'],
  ['zoho', 'POST', '/crm/v8/Notes', 'crm-oas v8.0 notes.json: createNotes'],
  ['zoho', 'PUT', '/crm/v8/Notes', 'crm-oas v8.0 notes.json: updateNotes'],
  ['zoho', 'GET', String.raw`/crm/v8/(Contacts|Leads|Deals)/${ID}/Notes`, 'crm-oas v8.0 related_records.json: getRelatedRecords (Notes)'],
  ['zoho', 'GET', String.raw`/crm/v8/Contacts/${ID}/Deals`, 'crm-oas v8.0 related_records.json: getRelatedRecords (Deals)'],
  ['zoho', 'GET', String.raw`/crm/v8/(Contacts|Leads)/${ID}/Attachments`, 'crm-oas v8.0 attachments.json: getAttachments'],
  ['zoho', 'POST', String.raw`/crm/v8/(Contacts|Leads)/${ID}/Attachments`, 'crm-oas v8.0 attachments.json: uploadAttachment'],
  ['zoho', 'GET', '/crm/v8/org', 'crm-oas v8.0 org.json: getOrganization'],
  ['zoho', 'GET', '/crm/v8/settings/modules', 'crm-oas v8.0 modules.json: Get Modules'],
  ['zoho', 'GET', '/crm/v8/settings/related_lists', 'https://www.zoho.com/crm/developer/docs/api/v8/related-list-meta.html'],
  ['zoho', 'GET', '/crm/v8/settings/fields', 'crm-oas v8.0 fields.json: Get Fields; https://www.zoho.com/crm/developer/docs/api/v8/field-meta.html'],
  // Salesforce: OAuth (Salesforce Help) and the REST API Developer Guide.
  ['salesforce-login', 'GET', '/services/oauth2/authorize', 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm'],
  ['salesforce-login', 'POST', '/services/oauth2/token', 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm (code) / sf.remoteaccess_oauth_refresh_token_flow.htm (refresh)'],
  ['salesforce-login', 'GET', '/services/oauth2/userinfo', 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_using_userinfo_endpoint.htm'],
  ['salesforce', 'GET', String.raw`/services/data/${V}/search`, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_search.htm'],
  ['salesforce', 'GET', String.raw`/services/data/${V}/query`, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm'],
  ['salesforce', 'GET', String.raw`/services/data/${V}/query/${ID}`, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm (nextRecordsUrl)'],
  ['salesforce', 'GET', String.raw`/services/data/${V}/sobjects/${ID}`, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_basic_info.htm'],
  ['salesforce', 'POST', String.raw`/services/data/${V}/sobjects/${ID}`, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_create.htm'],
  ['salesforce', 'GET', String.raw`/services/data/${V}/sobjects/${ID}/${ID}`, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_get_field_values.htm'],
  ['salesforce', 'PATCH', String.raw`/services/data/${V}/sobjects/${ID}/${ID}`, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm'],
  ['salesforce', 'POST', String.raw`/services/data/${V}/composite/sobjects`, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_create.htm'],
  ['salesforce', 'PATCH', String.raw`/services/data/${V}/composite/sobjects`, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm'],
  ['salesforce', 'PATCH', String.raw`/services/data/${V}/composite/sobjects/${ID}/${ID}`, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_upsert.htm'],
  ['salesforce', 'POST', String.raw`/services/data/${V}/composite`, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_composite_post.htm'],
  // Metadata API createMetadata() over SOAP (the Tooling API's CustomObject is Query/GET only:
  // tooling_api_objects_customobject.htm, "Supported REST HTTP Methods").
  ['salesforce', 'POST', String.raw`/services/Soap/m/\d+\.\d+`, 'https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_createMetadata.htm'],
  // LeadSquared API v2 (apidocs.leadsquared.com).
  ['leadsquared', 'GET', '/v2/Authentication.svc/UserByAccessKey.Get', 'https://apidocs.leadsquared.com/user-authentication/'],
  ['leadsquared', 'GET', '/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber', 'https://apidocs.leadsquared.com/get-lead-by-phone/'],
  ['leadsquared', 'GET', '/v2/LeadManagement.svc/Leads.GetByQuickSearch', 'https://apidocs.leadsquared.com/quick-search/'],
  ['leadsquared', 'GET', '/v2/LeadManagement.svc/Leads.GetById', 'https://apidocs.leadsquared.com/get-lead-by-id/'],
  ['leadsquared', 'POST', '/v2/LeadManagement.svc/Lead.Create', 'https://apidocs.leadsquared.com/create-a-lead/'],
  ['leadsquared', 'POST', '/v2/ProspectActivity.svc/CreateType', 'https://apidocs.leadsquared.com/create-new-activity-type-api/'],
  // "Get List of Activity Types"; the path as LeadSquared's own php-library calls it.
  ['leadsquared', 'GET', '/v2/ProspectActivity.svc/ActivityTypes.Get', 'https://apidocs.leadsquared.com/get-list-of-activity-types/ (path: github.com/LeadSquared/php-library)'],
  ['leadsquared', 'POST', '/v2/ProspectActivity.svc/Create', 'https://apidocs.leadsquared.com/post-an-activity-to-lead/'],
  ['leadsquared', 'POST', '/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId', 'https://apidocs.leadsquared.com/post-bulk-activities-on-leads/'],
  ['leadsquared', 'POST', '/v2/ProspectActivity.svc/Retrieve', 'https://apidocs.leadsquared.com/get-activities-of-a-lead/'],
  ['leadsquared', 'POST', '/v2/ProspectActivity.svc/CustomActivity/Update', 'https://apidocs.leadsquared.com/update-activity/'],
  ['leadsquared', 'POST', '/v2/OpportunityManagement.svc/GetOpportunitiesOfLead', 'https://apidocs.leadsquared.com/get-opportunities-by-lead-id/'],
// A trailing slash is the same resource (the REST guide writes `/query/?q=`).
].map(([api, method, path, doc]) => ({ api, method, path: new RegExp(`^${path}/?$`), doc }));

/** Which API a host serves; null for hosts that are not a CRM API (pages, WhatsApp). */
export function apiOf(host) {
  if (/^accounts\.zoho(cloud)?\./.test(host)) return 'zoho-accounts';
  if (/\.zohoapis\./.test(host)) return 'zoho';
  if (/^(login|test)\.salesforce\.com$/.test(host)) return 'salesforce-login';
  if (/\.my\.salesforce\.com$/.test(host)) return 'salesforce';
  if (/^api(-[a-z]+\d+)?\.leadsquared\.com$/.test(host)) return 'leadsquared';
  return null;
}

/** The logged requests no documented endpoint covers (the sandbox's own `/__sandbox/*` aside). */
export function undocumented(requests) {
  return requests.filter((r) => {
    if (r.path.startsWith('/__sandbox/')) return false;
    const api = apiOf(r.host);
    if (!api) return false;
    // A My Domain host also serves the OAuth endpoints.
    const apis = api === 'salesforce' ? ['salesforce', 'salesforce-login'] : [api];
    return !DOCUMENTED.some((e) => apis.includes(e.api) && e.method === r.method && e.path.test(r.path));
  });
}
