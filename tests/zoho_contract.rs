//! Contract tests from Zoho's own OpenAPI files, not from our code: every Zoho CRM request the
//! connector and the backup writer build is checked against the official v8 operations
//! (zoho/crm-oas `v8.0/`, the copies named in `../shared/specs/zoho-crm-oas-v8/SOURCE.md`,
//! read from there, never copied here): the path and method exist, every query parameter
//! is declared (and the declared required ones are sent), path and query values have the
//! declared types and enums, and JSON bodies follow the request body schema (types,
//! declared properties, enums, lengths, item counts).
//!
//! The files share one schema between request and response (e.g. `Note` requires
//! `Created_Time`), so `required` is checked on the request body's top level only. Limits
//! Zoho states only in prose are checked here with their source:
//! - Note_Title ≤ 120 characters, on create and on update (notes/operations/createNotesModule
//!   and updateNotesModule operation.md; the v8 "Create Notes" / "Update Notes" pages);
//! - at most 100 notes per call; a note carries a title or content (same pages);
//! - a note's parent is `Parent_Id: {module: {api_name}, id}` (v5+ shape, same pages);
//! - a created Contact or Lead carries `Last_Name` (records/mds/createRecords.md);
//! - an attachment upload is multipart with the `file` field (attachments/mds/uploadAttachment.md;
//!   the OpenAPI operation declares no request body);
//! - the setup check's `GET /settings/related_lists` (no OpenAPI file) takes `module`
//!   (mandatory, a supported module) and `layout_id` only ("Related Lists Metadata" page);
//!   its `GET /settings/modules` is checked against modules.json.
//!
//! The specs live outside the repository. `CRMSYNC_ZOHO_OAS` names another folder; when the
//! folder is missing the test fails and says where it looked.
use crmsync::core::model::{Crm, RecordKind, RecordRef};
use crmsync::core::outbox::{Batch, DocKey, DocumentWriter, RenderedDoc, UnitKey, Write, WriteOp};
use crmsync::crm::auth::ZohoDc;
use crmsync::crm::http::{HttpRequest, Method};
use crmsync::crm::zoho::Zoho;
use crmsync::crm::zoho::ZohoWriter;
use crmsync::crm::{Connector, CreateKind, NewRecord};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn spec_dir() -> PathBuf {
    match std::env::var_os("CRMSYNC_ZOHO_OAS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/specs/zoho-crm-oas-v8"),
    }
}

struct Specs {
    files: BTreeMap<String, Value>,
}

struct Op<'a> {
    file: &'a str,
    template: &'a str,
    op: &'a Value,
}

impl Specs {
    fn load() -> Specs {
        let dir = spec_dir();
        let mut files = BTreeMap::new();
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
            panic!(
                "the Zoho OpenAPI files are read from {} ({e}); set CRMSYNC_ZOHO_OAS",
                dir.display()
            )
        });
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.ends_with(".json") {
                let text =
                    std::fs::read_to_string(e.path()).unwrap_or_else(|err| panic!("{name}: {err}"));
                files.insert(
                    name.clone(),
                    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{name}: {err}")),
                );
            }
        }
        for needed in ["notes.json", "related_records.json"] {
            assert!(
                files.contains_key(needed),
                "incomplete spec folder {}: {needed} (zoho/crm-oas v8.0/{needed}) is missing",
                dir.display()
            );
        }
        Specs { files }
    }

    /// A `$ref` (local `#/...` or another file's raw GitHub URL, mapped by file name).
    fn resolve<'a>(&'a self, file: &'a str, r: &str) -> (&'a str, &'a Value) {
        let (target, pointer) = r.split_once('#').unwrap_or((r, ""));
        let f: &str =
            if target.is_empty() { file } else { target.rsplit('/').next().unwrap_or(target) };
        let (name, doc) = self
            .files
            .get_key_value(f)
            .unwrap_or_else(|| panic!("$ref into a file not in the spec folder: {r}"));
        let v = doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {r}"));
        (name.as_str(), v)
    }

    fn deref<'a>(&'a self, file: &'a str, v: &'a Value) -> (&'a str, &'a Value) {
        let (mut f, mut v) = (file, v);
        while let Some(r) = v.get("$ref").and_then(Value::as_str) {
            (f, v) = self.resolve(f, r);
        }
        (f, v)
    }

    /// Operations whose method and path template match the request path.
    fn operations(&self, method: &str, path: &str) -> Vec<(Op<'_>, BTreeMap<String, String>)> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut out: Vec<(usize, Op<'_>, BTreeMap<String, String>)> = Vec::new();
        for (file, doc) in &self.files {
            let Some(paths) = doc.get("paths").and_then(Value::as_object) else { continue };
            for (template, item) in paths {
                let Some(op) = item.get(method) else { continue };
                let tsegs: Vec<&str> = template.trim_matches('/').split('/').collect();
                if tsegs.len() != segs.len() {
                    continue;
                }
                let mut vars = BTreeMap::new();
                let mut literals = 0;
                let ok = tsegs.iter().zip(&segs).all(|(t, s)| {
                    match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                        Some(var) => {
                            vars.insert(var.to_string(), s.to_string());
                            !s.is_empty()
                        }
                        None => {
                            literals += 1;
                            t == s
                        }
                    }
                });
                if ok {
                    out.push((literals, Op { file, template, op }, vars));
                }
            }
        }
        // The most specific templates first (most literal segments).
        let best = out.iter().map(|(l, ..)| *l).max().unwrap_or(0);
        out.into_iter().filter(|(l, ..)| *l == best).map(|(_, op, vars)| (op, vars)).collect()
    }

    fn parameters<'a>(&'a self, op: &Op<'a>) -> Vec<&'a Value> {
        op.op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| self.deref(op.file, p).1)
            .collect()
    }
}

/// A value (from a path segment or the query string) against a parameter schema.
fn check_scalar(what: &str, value: &str, schema: &Value) -> Result<(), String> {
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") if value.parse::<i64>().is_err() => {
            return Err(format!("{what}={value:?} is not an integer"))
        }
        Some("boolean") if value != "true" && value != "false" => {
            return Err(format!("{what}={value:?} is not a boolean"))
        }
        _ => {}
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.iter().any(|x| x.as_str() == Some(value) || *x == value) {
            return Err(format!("{what}={value:?} is not one of {e:?}"));
        }
    }
    let n = value.chars().count() as u64;
    if schema.get("maxLength").and_then(Value::as_u64).is_some_and(|m| n > m)
        || schema.get("minLength").and_then(Value::as_u64).is_some_and(|m| n < m)
    {
        return Err(format!("{what}: length {n} outside the declared bounds"));
    }
    Ok(())
}

/// A JSON body against a schema; `top` applies `required` (see the module comment).
fn check_json(
    specs: &Specs,
    file: &str,
    schema: &Value,
    v: &Value,
    at: &str,
    top: bool,
    errs: &mut Vec<String>,
) {
    let (file, schema) = specs.deref(file, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            let ok = alts.iter().any(|s| {
                let mut e = Vec::new();
                check_json(specs, file, s, v, at, top, &mut e);
                e.is_empty()
            });
            if !ok {
                errs.push(format!("{at}: matches none of {key}"));
            }
            return;
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check_json(specs, file, s, v, at, top, errs);
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errs.push(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    let ty = schema.get("type").and_then(Value::as_str);
    let type_ok = match (ty, v) {
        (None, _) => true,
        (Some("object"), Value::Object(_))
        | (Some("array"), Value::Array(_))
        | (Some("string"), Value::String(_))
        | (Some("boolean"), Value::Bool(_)) => true,
        (Some("integer"), Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Some("number"), Value::Number(_)) => true,
        (_, Value::Null) => schema.get("nullable").and_then(Value::as_bool) == Some(true),
        _ => false,
    };
    if !type_ok {
        errs.push(format!("{at}: {v} is not of type {}", ty.unwrap_or("?")));
        return;
    }
    match v {
        Value::Object(o) => {
            let props = schema.get("properties").and_then(Value::as_object);
            if top {
                for r in schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !o.contains_key(r) {
                        errs.push(format!("{at}: required {r} missing"));
                    }
                }
            }
            for (k, x) in o {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => check_json(specs, file, s, x, &format!("{at}.{k}"), false, errs),
                    // A schema naming its properties without `additionalProperties` is
                    // closed for our purposes: an undeclared key is most likely a typo.
                    None if props.is_some()
                        && schema
                            .get("additionalProperties")
                            .is_none_or(|a| a == &Value::Bool(false)) =>
                    {
                        errs.push(format!("{at}: {k} is not a declared property"))
                    }
                    None => {}
                }
            }
        }
        Value::Array(a) => {
            if schema.get("maxItems").and_then(Value::as_u64).is_some_and(|m| a.len() as u64 > m) {
                errs.push(format!("{at}: {} items exceed maxItems", a.len()));
            }
            if let Some(items) = schema.get("items") {
                for (i, x) in a.iter().enumerate() {
                    check_json(specs, file, items, x, &format!("{at}[{i}]"), false, errs);
                }
            }
        }
        Value::String(s) => {
            let n = s.chars().count() as u64;
            if schema.get("maxLength").and_then(Value::as_u64).is_some_and(|m| n > m) {
                errs.push(format!("{at}: {n} characters exceed maxLength"));
            }
        }
        _ => {}
    }
}

fn query_pairs(url: &str) -> Vec<(String, String)> {
    url.split_once('?')
        .map(|(_, q)| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

fn method_name(m: &Method) -> &'static str {
    match m {
        Method::Get => "get",
        Method::Post => "post",
        Method::Put => "put",
        Method::Patch => "patch",
        Method::Delete => "delete",
    }
}

/// Parameters a file marks required through a component it shares between operations,
/// where the operation's own page says otherwise. Each is waived for that operation only.
const SHARED_COMPONENT_REQUIRED: &[(&str, &str, &str, &str)] = &[
    // uploadAttachment.md: the body's `file` or the `attachmentUrl` parameter, not both.
    ("post", "/crm/v8/{module}/{record_id}/Attachments", "attachmentUrl", "file or attachmentUrl"),
    // getAttachments.md lists the record's attachments; `ids` is DELETE's parameter (required there).
    ("get", "/crm/v8/{module}/{record_id}/Attachments", "ids", "list without ids"),
];

/// Every check of the module comment for one request; the errors, or the operation it is.
fn validate(specs: &Specs, req: &HttpRequest) -> Result<String, Vec<String>> {
    let rest = req.url.split_once("://").map(|(_, r)| r).unwrap_or(&req.url);
    let path_q = &rest[rest.find('/').unwrap_or(rest.len())..];
    let path = path_q.split('?').next().unwrap_or(path_q);
    let path = percent_encoding::percent_decode_str(path).decode_utf8_lossy().to_string();
    let method = method_name(&req.method);
    let ops = specs.operations(method, &path);
    if ops.is_empty() {
        return Err(vec![format!(
            "{} {path}: no such operation in the v8 OpenAPI files",
            method.to_uppercase()
        )]);
    }
    let query = query_pairs(&req.url);
    let mut all_errs = Vec::new();
    for (op, vars) in &ops {
        let mut errs = Vec::new();
        let params = specs.parameters(op);
        let declared = |name: &str, place: &str| {
            params.iter().find(|p| p["name"] == name && p["in"] == place).copied()
        };
        for (k, v) in &query {
            match declared(k, "query") {
                Some(p) => {
                    if let Err(e) = check_scalar(k, v, &p["schema"]) {
                        errs.push(e);
                    }
                }
                None => errs.push(format!("query parameter {k} is not declared")),
            }
        }
        for p in params.iter().filter(|p| p["in"] == "query" && p["required"] == Value::Bool(true))
        {
            if let Some(name) = p["name"].as_str() {
                let waived = SHARED_COMPONENT_REQUIRED
                    .iter()
                    .any(|(m, t, n, _)| *m == method && *t == op.template && *n == name);
                if !waived && !query.iter().any(|(k, _)| k == name) {
                    errs.push(format!("required query parameter {name} missing"));
                }
            }
        }
        for (var, value) in vars {
            if let Some(p) = declared(var, "path") {
                if let Err(e) = check_scalar(var, value, &p["schema"]) {
                    errs.push(e);
                }
            }
        }
        let json_body = req.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("content-type") && v.starts_with("application/json")
        });
        if let (true, Some(bytes)) = (json_body, req.body.as_deref()) {
            let body: Value = serde_json::from_slice(bytes)
                .map_err(|e| vec![format!("body is not JSON: {e}")])?;
            match op.op.pointer("/requestBody/content/application~1json/schema") {
                Some(schema) => check_json(specs, op.file, schema, &body, "$", true, &mut errs),
                None => errs.push("a JSON body for an operation that declares none".into()),
            }
        }
        if errs.is_empty() {
            return Ok(format!("{} {} ({})", method.to_uppercase(), op.template, op.file));
        }
        all_errs.push(format!(
            "as {} {} ({}): {}",
            method.to_uppercase(),
            op.template,
            op.file,
            errs.join("; ")
        ));
    }
    Err(all_errs)
}

/// The limits Zoho states in prose (see the module comment), for the requests that carry them.
fn prose_checks(req: &HttpRequest) -> Vec<String> {
    let mut errs = Vec::new();
    let path = req.url.split('?').next().unwrap_or("").to_string();
    let body: Option<Value> = req.body.as_deref().and_then(|b| serde_json::from_slice(b).ok());
    if path.ends_with("/crm/v8/Notes") {
        let data = body.as_ref().and_then(|b| b["data"].as_array()).cloned().unwrap_or_default();
        if data.len() > 100 {
            errs.push(format!("{} notes in one call (100 at most)", data.len()));
        }
        for (i, n) in data.iter().enumerate() {
            if n["Note_Title"].as_str().is_some_and(|t| t.chars().count() > 120) {
                errs.push(format!("data[{i}].Note_Title longer than 120 characters"));
            }
            if n["Note_Title"].as_str().is_none_or(str::is_empty)
                && n["Note_Content"].as_str().is_none_or(str::is_empty)
            {
                errs.push(format!("data[{i}] has neither title nor content"));
            }
            match req.method {
                Method::Post
                    if n["Parent_Id"]["module"]["api_name"].as_str().is_none()
                        || n["Parent_Id"]["id"].as_str().is_none() =>
                {
                    errs.push(format!("data[{i}].Parent_Id is not {{module: {{api_name}}, id}}"))
                }
                Method::Put if n["id"].as_str().is_none() => {
                    errs.push(format!("data[{i}] updates no note id"))
                }
                _ => {}
            }
        }
    }
    if req.method == Method::Post
        && (path.ends_with("/crm/v8/Contacts") || path.ends_with("/crm/v8/Leads"))
    {
        for (i, r) in
            body.as_ref().and_then(|b| b["data"].as_array()).into_iter().flatten().enumerate()
        {
            if r["Last_Name"].as_str().is_none_or(str::is_empty) {
                errs.push(format!("data[{i}] without Last_Name"));
            }
        }
    }
    if path.ends_with("/Attachments") && req.method == Method::Post {
        let multipart = req.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("content-type")
                && v.starts_with("multipart/form-data; boundary=")
        });
        let has_file = req.body.as_deref().is_some_and(|b| {
            String::from_utf8_lossy(b)
                .contains("Content-Disposition: form-data; name=\"file\"; filename=")
        });
        if !multipart || !has_file {
            errs.push("an upload is multipart/form-data with a `file` field".into());
        }
    }
    errs
}

/// Zoho's "Fields Meta Data" page (https://www.zoho.com/crm/developer/docs/api/v8/field-meta.html):
/// `GET /settings/fields?module={module_API_name}`, `module` mandatory. Only `module` is
/// accepted here: the page's optional parameters are not ones crmsync needs.
fn fields_metadata_check(req: &HttpRequest) -> Result<(), String> {
    if req.method != Method::Get {
        return Err("the fields metadata is read with GET".into());
    }
    let q = query_pairs(&req.url);
    if !q.iter().any(|(k, v)| k == "module" && !v.is_empty()) {
        return Err("`module` is mandatory".into());
    }
    match q.iter().find(|(k, _)| k != "module") {
        Some((k, _)) => Err(format!("`{k}` is not a documented parameter")),
        None => Ok(()),
    }
}

#[test]
fn the_fields_metadata_check_refuses_what_the_page_does_not_list() {
    let get = |url: &str| HttpRequest {
        method: Method::Get,
        url: url.into(),
        headers: vec![],
        body: None,
    };
    let base = "https://www.zohoapis.com/crm/v8/settings/fields";
    assert_eq!(fields_metadata_check(&get(&format!("{base}?module=Leads"))), Ok(()));
    assert!(fields_metadata_check(&get(base)).is_err());
    assert!(fields_metadata_check(&get(&format!("{base}?module=Leads&sort_by=x"))).is_err());
    let mut post = get(&format!("{base}?module=Leads"));
    post.method = Method::Post;
    assert!(fields_metadata_check(&post).is_err());
}

/// `GET /settings/related_lists`, which Zoho's v8 OpenAPI files do not cover, held against
/// its page ("Related Lists Metadata",
/// https://www.zoho.com/crm/developer/docs/api/v8/related-list-meta.html): GET, `module`
/// mandatory and one of the supported modules the page lists, `layout_id` optional, nothing
/// else.
fn related_lists_metadata_check(req: &HttpRequest) -> Result<(), String> {
    const SUPPORTED: &[&str] = &[
        "Leads",
        "Accounts",
        "Contacts",
        "Deals",
        "Campaigns",
        "Tasks",
        "Cases",
        "Events",
        "Calls",
        "Solutions",
        "Products",
        "Vendors",
        "Price_Books",
        "Quotes",
        "Sales_Orders",
        "Purchase_Orders",
        "Invoices",
        "Appointments",
        "Services",
    ];
    if req.method != Method::Get {
        return Err("the related lists metadata is read with GET".into());
    }
    let q = query_pairs(&req.url);
    match q.iter().find(|(k, _)| k == "module") {
        None => return Err("`module` is mandatory".into()),
        // Custom modules are supported too; theirs end in `__c`-like suffixes we never send.
        Some((_, m)) if !SUPPORTED.contains(&m.as_str()) => {
            return Err(format!("`module={m}` is not a supported module"))
        }
        Some(_) => {}
    }
    match q.iter().find(|(k, _)| k != "module" && k != "layout_id") {
        Some((k, _)) => Err(format!("`{k}` is not a documented parameter")),
        None => Ok(()),
    }
}

#[test]
fn the_related_lists_check_refuses_what_the_page_does_not_list() {
    let get = |url: &str| HttpRequest::get(url.to_string());
    let base = "https://www.zohoapis.com/crm/v8/settings/related_lists";
    assert_eq!(related_lists_metadata_check(&get(&format!("{base}?module=Contacts"))), Ok(()));
    assert_eq!(
        related_lists_metadata_check(&get(&format!("{base}?module=Contacts&layout_id=1"))),
        Ok(())
    );
    assert!(related_lists_metadata_check(&get(base)).is_err());
    assert!(related_lists_metadata_check(&get(&format!("{base}?module=Notes"))).is_err());
    assert!(
        related_lists_metadata_check(&get(&format!("{base}?module=Contacts&per_page=5"))).is_err()
    );
    let mut post = get(&format!("{base}?module=Contacts"));
    post.method = Method::Post;
    assert!(related_lists_metadata_check(&post).is_err());
}

/// The setup check's calls (`crm::setup::steps`) on a signed-in Zoho connection.
fn setup_requests() -> Vec<(String, HttpRequest)> {
    use crmsync::crm::auth::{Session, Tokens};
    use crmsync::crm::connect::{Connection, Credentials};
    let conn = Connection::new(
        Credentials::Zoho {
            dc: ZohoDc::Us,
            client_id: "1000.c".into(),
            client_secret: "s".into(),
            refresh_token: "1000.r".into(),
        },
        Some(Session::new(Tokens {
            access_token: "1000.t".into(),
            refresh_token: Some("1000.r".into()),
            expires_at_ms: u64::MAX,
            api_base: "https://www.zohoapis.com".into(),
        })),
        None,
    );
    crmsync::crm::setup::steps(&conn, 0)
        .expect("the setup steps")
        .into_iter()
        .enumerate()
        .map(|(i, s)| (format!("setup check {i}"), s.request))
        .collect()
}

fn zoho() -> Zoho {
    Zoho {
        dc: ZohoDc::Us,
        api_domain: "https://www.zohoapis.com".into(),
        access_token: "1000.t".into(),
        org_domain: Some("org1".into()),
        lead_sources: Default::default(),
    }
}

/// Every Zoho request the product builds, with a name for the failure message.
fn every_request() -> Vec<(String, HttpRequest)> {
    let z = zoho();
    let mut out: Vec<(String, HttpRequest)> = Vec::new();
    for (i, r) in
        z.search_requests(&["+5511987654321".into(), "11987654321".into()]).into_iter().enumerate()
    {
        out.push((format!("phone search {i}"), r));
    }
    out.push(("search page 2".into(), z.search_page(RecordKind::Lead, "+5511987654321", 2)));
    for q in ["ana@example.com", "+55 11 98765-4321", "Ana Souza"] {
        for (i, r) in z.text_search_requests(q).into_iter().enumerate() {
            out.push((format!("text search {q:?} {i}"), r));
        }
    }
    out.push(("org".into(), z.org_request()));
    let contact =
        RecordRef { crm: Crm::Zoho, kind: RecordKind::Contact, id: "5843104000000624001".into() };
    if let Some(r) = z.deals_request(&contact) {
        out.push(("card deals".into(), r));
    }
    out.push(("recent deals".into(), z.recent_deals_request(&contact.id)));
    let typed = NewRecord {
        name: "Ana Maria Souza".into(),
        phone: "+5511987654321".into(),
        email: Some("ana@example.com".into()),
        company: Some("Souza Têxteis".into()),
    };
    out.push(("create contact".into(), z.create_request(CreateKind::Contact, &typed)));
    out.push(("create lead".into(), z.create_request(CreateKind::Lead, &typed)));
    // The fields metadata a create reads first, and a create in an org whose Lead_Source
    // picklist has a WhatsApp value.
    out.push(("lead fields".into(), z.fields_request("Leads")));
    out.push(("contact fields".into(), z.fields_request("Contacts")));
    let mut sourced = zoho();
    sourced.lead_sources.insert("Leads".into(), Some("WhatsApp".into()));
    out.push(("create lead with source".into(), sourced.create_request(CreateKind::Lead, &typed)));
    out.push((
        "create lead, name and number only".into(),
        z.create_request(CreateKind::Lead, &NewRecord::new("Souza", "+5511987654321")),
    ));

    // The backup writer's calls, from a rendered day with a long chat name (its title is cut).
    let mut w = ZohoWriter::new(zoho());
    w.seed_related(&contact, vec!["d1".into(), "d2".into()]);
    let unit = crmsync::core::outbox::Unit {
        key: UnitKey { record: contact.clone(), chat: "g:1203630@g.us".into(), day: "2026-11-21".into() },
        title: "Família Souza, obra da Rua Augusta e fornecedores de acabamento — grupo de trabalho com arquitetos".into(),
        is_group: true,
        messages: vec![],
        files: vec![crmsync::core::outbox::FileBlob { key: "3EB0#0".into(), name: "planta.png".into(), mime: "image/png".into(), data_b64: "iVBORw0KGgo=".into(), ..Default::default() }],
        mask: Default::default(),
    };
    let docs: Vec<RenderedDoc> = w.render(&unit);
    let by_key: BTreeMap<DocKey, RenderedDoc> =
        docs.iter().map(|d| (d.key.clone(), d.clone())).collect();
    let notes: Vec<&RenderedDoc> =
        docs.iter().filter(|d| !d.key.target.starts_with("file:")).collect();
    let file = docs.iter().find(|d| d.key.target.starts_with("file:")).expect("a file document");
    let batch = |class: &str, op: WriteOp, ds: &[&RenderedDoc], id: Option<&str>| Batch {
        crm: Crm::Zoho,
        class: class.into(),
        op: op.clone(),
        writes: ds
            .iter()
            .map(|d| Write {
                doc: d.key.clone(),
                op: op.clone(),
                remote_id: id.map(str::to_string),
            })
            .collect(),
    };
    for (name, b) in [
        ("notes create", batch("note", WriteOp::Create, &notes, None)),
        ("notes update", batch("note", WriteOp::Update, &notes, Some("4876876000006021002"))),
        ("contact notes reconcile", batch("note", WriteOp::Reconcile, &notes[..1], None)),
        ("deal notes reconcile", batch("deal", WriteOp::Reconcile, &notes[1..2], None)),
        ("attachment upload", batch("file", WriteOp::Create, &[file], None)),
        ("attachments reconcile", batch("file", WriteOp::Reconcile, &[file], None)),
    ] {
        out.push((name.into(), w.request(&b, &by_key).unwrap_or_else(|e| panic!("{name}: {e}"))));
    }
    let first = z.list_notes_request(RecordKind::Contact, &contact.id);
    let more = crmsync::crm::http::HttpResponse {
        status: 200,
        headers: vec![],
        body: br#"{"data":[],"info":{"page":1,"per_page":200,"more_records":true}}"#.to_vec(),
    };
    out.push(("notes page 2".into(), Zoho::next_related_page(&first, &more).expect("a next page")));
    out.extend(setup_requests());
    out
}

#[test]
fn every_zoho_request_matches_the_official_openapi_operations() {
    let specs = Specs::load();
    let mut failures = Vec::new();
    let mut seen = Vec::new();
    for (name, req) in every_request() {
        // The spec folder may lack Zoho's fields.json: the fields metadata read is then held
        // against its documented form instead.
        if req.url.split('?').next().is_some_and(|p| p.ends_with("/crm/v8/settings/fields"))
            && !specs.files.contains_key("fields.json")
        {
            match fields_metadata_check(&req) {
                Ok(()) => seen.push(format!("{name}: GET /settings/fields (documented form)")),
                Err(e) => failures.push(format!("{name} ({}): {e}", req.url)),
            }
            continue;
        }
        // Related Lists Metadata has no OpenAPI file among Zoho's v8 ones: held against its
        // page (were one added to the folder, it would be used instead).
        if req.url.split('?').next().is_some_and(|p| p.ends_with("/crm/v8/settings/related_lists"))
            && !specs.files.contains_key("related_lists.json")
        {
            match related_lists_metadata_check(&req) {
                Ok(()) => {
                    seen.push(format!("{name}: GET /settings/related_lists (documented form)"))
                }
                Err(e) => failures.push(format!("{name} ({}): {e}", req.url)),
            }
            continue;
        }
        match validate(&specs, &req) {
            Ok(op) => seen.push(format!("{name}: {op}")),
            Err(e) => failures.push(format!("{name} ({}):\n    {}", req.url, e.join("\n    "))),
        }
        for e in prose_checks(&req) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "requests that do not follow Zoho's v8 contract:\n{}\n(matched: {seen:#?})",
        failures.join("\n")
    );
    // The setup check's calls were held against their own operations (the modules list
    // against modules.json, not a record read that the same path shape could match).
    for want in [
        "GET /crm/v8/org (org.json)",
        "GET /crm/v8/settings/modules (modules.json)",
        "GET /settings/related_lists (documented form)",
    ] {
        assert!(
            seen.iter().any(|s| s.starts_with("setup check") && s.ends_with(want)),
            "no setup call matched {want}: {seen:#?}"
        );
    }
}

#[test]
fn the_validator_refuses_what_zoho_does_not_declare() {
    // The checks themselves, on requests Zoho would refuse (each was a real bug or a typo class).
    let specs = Specs::load();
    let z = zoho();
    let get = |url: &str| HttpRequest::get(url.to_string());
    let sorted = get("https://www.zohoapis.com/crm/v8/Contacts/1/Deals?fields=Deal_Name&sort_by=Modified_Time&sort_order=desc&per_page=5");
    assert!(validate(&specs, &sorted).unwrap_err().join(" ").contains("sort_by is not declared"));
    assert!(validate(
        &specs,
        &get("https://www.zohoapis.com/crm/v8/Contacts/1/Deals?fields=Deal_Name&per_page=five")
    )
    .unwrap_err()
    .join(" ")
    .contains("not an integer"));
    let mut patch = get("https://www.zohoapis.com/crm/v8/Notes");
    patch.method = Method::Patch;
    assert!(validate(&specs, &patch).unwrap_err()[0].contains("no such operation"));
    assert!(validate(
        &specs,
        &get("https://www.zohoapis.com/crm/v8/Contacts/1/Attachments?per_page=200")
    )
    .unwrap_err()
    .join(" ")
    .contains("required query parameter fields missing"));
    let long = "t".repeat(121);
    let put = z.update_notes(&[("n1".into(), long.clone(), "c".into())]).unwrap();
    assert!(prose_checks(&put).is_empty(), "the connector cuts the title");
    let mut raw = put.clone();
    raw.body = Some(
        serde_json::json!({"data": [{"id": "n1", "Note_Title": long, "Note_Content": "c"}]})
            .to_string()
            .into_bytes(),
    );
    assert!(prose_checks(&raw)[0].contains("longer than 120"));
    raw.body =
        Some(serde_json::json!({"data": [{"id": "n1", "Note_Title": 7}]}).to_string().into_bytes());
    assert!(validate(&specs, &raw).unwrap_err().join(" ").contains("is not of type string"));
    raw.body = Some(
        serde_json::json!({"data": [{"id": "n1", "Note_Titel": "x"}]}).to_string().into_bytes(),
    );
    assert!(validate(&specs, &raw)
        .unwrap_err()
        .join(" ")
        .contains("Note_Titel is not a declared property"));
    raw.body = Some(serde_json::json!({"notes": []}).to_string().into_bytes());
    assert!(validate(&specs, &raw).unwrap_err().join(" ").contains("required data missing"));
}
