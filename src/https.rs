//! The HTTPS client connector golive's outbound clients share (Slack's Web API, paging
//! webhooks): the system's trust roots, HTTP/1.1, and plain HTTP allowed, because the tests'
//! fakes and local relays speak it.

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

pub fn connector() -> std::io::Result<HttpsConnector<HttpConnector>> {
    Ok(HttpsConnectorBuilder::new().with_native_roots()?.https_or_http().enable_http1().build())
}
