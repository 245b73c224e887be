//! Performs the `HttpRequest`s that pure connectors build (gloo-net fetch).
//! host_permissions let the service worker reach CRM hosts without CORS.
use crate::crm::http::{HttpRequest, HttpResponse, Method};
use gloo_net::http::RequestBuilder;

pub async fn perform(req: &HttpRequest) -> HttpResponse {
    // Defence in depth: whatever built the request, the worker talks to CRM hosts only.
    if !crate::crm::registry::request_allowed(&req.url) {
        let why = format!("refused: {} is not a CRM host", req.url);
        return HttpResponse { status: 0, headers: vec![], body: why.into_bytes() };
    }
    match perform_inner(req).await {
        Ok(r) => r,
        // status 0 = no response; the retry policy treats it like a timeout.
        Err(e) => HttpResponse { status: 0, headers: vec![], body: e.into_bytes() },
    }
}

async fn perform_inner(req: &HttpRequest) -> Result<HttpResponse, String> {
    let mut b = RequestBuilder::new(&req.url).method(match req.method {
        Method::Get => gloo_net::http::Method::GET,
        Method::Post => gloo_net::http::Method::POST,
        Method::Put => gloo_net::http::Method::PUT,
        Method::Patch => gloo_net::http::Method::PATCH,
        Method::Delete => gloo_net::http::Method::DELETE,
    });
    for (k, v) in &req.headers {
        b = b.header(k, v);
    }
    let request = match &req.body {
        Some(bytes) => {
            let arr = js_sys::Uint8Array::from(bytes.as_slice());
            b.body(arr).map_err(|e| e.to_string())?
        }
        None => b.build().map_err(|e| e.to_string())?,
    };
    let resp = request.send().await.map_err(|e| e.to_string())?;
    let headers = resp.headers().entries().collect();
    let body = resp.binary().await.map_err(|e| e.to_string())?;
    Ok(HttpResponse { status: resp.status(), headers, body })
}
