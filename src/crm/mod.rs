//! Sans-IO CRM connectors: they build `HttpRequest`s and parse `HttpResponse`s.
pub mod http;
