//! Who may read the web pages: everyone when `[web] open = true`, otherwise whoever presents
//! `GOLIVE_WEB_TOKEN` as `Authorization: Bearer TOKEN` or `?token=TOKEN`. Anyone else gets a
//! bare 401 that says nothing about any deployment, not even whether it exists.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracing::debug;

use crate::config::WebConfig;

/// The environment variable holding the pages' read-only token.
pub const TOKEN_VAR: &str = "GOLIVE_WEB_TOKEN";

/// The access rule the pages are served under.
#[derive(Clone)]
pub enum Access {
    /// `[web] open = true`: no token needed.
    Open,
    /// The SHA-256 of the token: presented tokens are hashed and compared in constant time,
    /// so neither the comparison's time nor a length check tells how close a guess was.
    Token([u8; 32]),
    /// Not open and no token set: nobody may read the pages.
    Closed,
}

impl Access {
    /// The rule `[web]` and the token (from `GOLIVE_WEB_TOKEN`) make.
    pub fn new(web: &WebConfig, token: Option<&str>) -> Access {
        match token.map(str::trim).filter(|t| !t.is_empty()) {
            _ if web.open => Access::Open,
            Some(token) => Access::Token(Sha256::digest(token.as_bytes()).into()),
            None => Access::Closed,
        }
    }

    /// `GOLIVE_WEB_TOKEN` from the environment, under `[web]`.
    pub fn from_env(web: &WebConfig) -> Access {
        Access::new(web, std::env::var(TOKEN_VAR).ok().as_deref())
    }

    /// Whether `presented` is the token (or none is needed).
    pub fn admits(&self, presented: Option<&str>) -> bool {
        match self {
            Access::Open => true,
            Access::Closed => false,
            Access::Token(expected) => presented.is_some_and(|p| {
                let digest: [u8; 32] = Sha256::digest(p.as_bytes()).into();
                bool::from(digest.ct_eq(expected))
            }),
        }
    }

    pub fn needs_token(&self) -> bool {
        !matches!(self, Access::Open)
    }
}

/// The token a request presents: the bearer token, else the `token` query parameter.
pub fn presented(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_string());
    bearer.or_else(|| query_token(query))
}

/// The `token` query parameter, decoded.
pub fn query_token(query: Option<&str>) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    pairs.into_iter().find(|(k, _)| k == "token").map(|(_, v)| v)
}

/// Lets a request through to the pages only with access; every answer gets headers that
/// keep the token out of other sites' logs and the pages out of frames and caches.
pub async fn guard(State(access): State<Access>, request: Request, next: Next) -> Response {
    let token = presented(request.headers(), request.uri().query());
    let mut response = if access.admits(token.as_deref()) {
        next.run(request).await
    } else {
        debug!(path = %request.uri().path(), "web page refused: no valid token");
        let mut refused = (StatusCode::UNAUTHORIZED, "401 Unauthorized\n").into_response();
        refused.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        refused
    };
    let headers = response.headers_mut();
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(open: bool) -> WebConfig {
        WebConfig { enabled: true, open, ..WebConfig::default() }
    }

    #[test]
    fn only_the_token_admits_unless_the_pages_are_open() {
        let token = Access::new(&web(false), Some("s3cret"));
        assert!(token.admits(Some("s3cret")));
        assert!(!token.admits(Some("s3cret ")));
        assert!(!token.admits(Some("s3cre")));
        assert!(!token.admits(Some("")));
        assert!(!token.admits(None));
        assert!(!Access::new(&web(false), None).admits(Some("")));
        assert!(!Access::new(&web(false), Some("  ")).admits(Some("")), "a blank token is no token");
        assert!(Access::new(&web(true), None).admits(None));
        assert!(Access::new(&web(true), Some("s3cret")).admits(None), "open means open");
    }

    #[test]
    fn the_token_comes_from_the_bearer_header_or_the_query() {
        let mut headers = HeaderMap::new();
        assert_eq!(presented(&headers, Some("a=1&token=x%2By")), Some("x+y".into()));
        assert_eq!(presented(&headers, Some("a=1")), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(presented(&headers, Some("token=other")), Some("abc".into()));
    }
}
