// Shared by the CRM response targets: fuzz bytes → an HTTP answer. The first byte picks a
// status the connectors branch on (or a raw one), the second an optional Retry-After
// header; the rest is the body, which is where CRMs put everything that matters.
use crmsync::crm::http::HttpResponse;

const STATUSES: [u16; 16] =
    [200, 201, 202, 204, 207, 400, 401, 403, 404, 405, 413, 429, 500, 502, 503, 0];

pub fn response(data: &[u8]) -> HttpResponse {
    let (head, body) = data.split_at(data.len().min(2));
    let status = match head.first() {
        Some(b) if (*b as usize) < STATUSES.len() * 8 => STATUSES[*b as usize % STATUSES.len()],
        Some(b) => 100 + u16::from(*b) * 2,
        None => 200,
    };
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    match head.get(1) {
        Some(b) if b % 3 == 0 => headers.push(("Retry-After".into(), b.to_string())),
        Some(b) if b % 3 == 1 => {
            headers.push(("Sforce-Limit-Info".into(), format!("api-usage={b}/15000")))
        }
        _ => {}
    }
    HttpResponse { status, headers, body: body.to_vec() }
}
