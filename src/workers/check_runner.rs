//! The checks worker of `golive serve`: runs the automatic checks of running deployments —
//! an HTTP GET expecting a status (and a text), or an instant Prometheus query against a
//! threshold — when their phase starts and then every `every`, and hands the results to the
//! engine, which decides (in `domain::checks`) what they mean. Waits on the injected clock,
//! so tests run a minute's interval in an instant.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{Method, Request};
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::watch;
use tracing::{error, info_span, Instrument};

use crate::domain::checks::{self, Measured};
use crate::domain::plan::{Check, Item, Probe};
use crate::engine::{Engine, Input};

/// Looked at this often even when no commit wakes the worker.
const IDLE_POLL: chrono::Duration = chrono::Duration::seconds(30);
/// A scan reads every running deployment; a burst of commits wakes it at most this often.
const LEAST_GAP: chrono::Duration = chrono::Duration::seconds(1);

type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

pub struct Prober {
    client: Client<Https, Empty<Bytes>>,
}

impl Prober {
    pub fn new() -> std::io::Result<Prober> {
        Ok(Prober { client: Client::builder(TokioExecutor::new()).build(crate::https::connector()?) })
    }

    async fn get(&self, url: &str) -> Result<(u16, String), String> {
        let request = Request::builder()
            .method(Method::GET)
            .uri(url)
            .body(Empty::new())
            .map_err(|e| format!("`{url}` is not a usable URL: {e}"))?;
        let response = self.client.request(request).await.map_err(|e| format!("could not reach {url}: {e}"))?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// Runs one check within its timeout.
    pub async fn measure(&self, item: &Item, check: &Check) -> Measured {
        let measured = match tokio::time::timeout(check.timeout, self.probe(&check.probe)).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {}", crate::render::human(check.timeout))),
        };
        match measured {
            Ok((ok, detail)) => Measured { item: item.id.clone(), ok, detail },
            Err(detail) => Measured { item: item.id.clone(), ok: false, detail },
        }
    }

    async fn probe(&self, probe: &Probe) -> Result<(bool, String), String> {
        match probe {
            Probe::Http { url, status, contains } => {
                let (got, body) = self.get(url).await?;
                let has_text = contains.as_ref().map_or(true, |t| body.contains(t.as_str()));
                let detail = match (got == *status, has_text, contains) {
                    (false, _, _) => format!("HTTP {got} (wants {status})"),
                    (true, false, Some(t)) => format!("HTTP {got} without `{t}` in the body"),
                    _ => format!("HTTP {got}"),
                };
                Ok((got == *status && has_text, detail))
            }
            Probe::Prometheus { url, query, below, above } => {
                let base = url.trim_end_matches('/');
                let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
                let (status, body) = self.get(&format!("{base}/api/v1/query?query={encoded}")).await?;
                if status != 200 {
                    return Err(format!("Prometheus answered HTTP {status}"));
                }
                let value = sample(&body).ok_or_else(|| "the query returned no sample".to_string())?;
                let pass = below.map_or(true, |b| value < b) && above.map_or(true, |a| value > a);
                let wants = match (below, above) {
                    (Some(b), Some(a)) => format!("between {a} and {b}"),
                    (Some(b), None) => format!("below {b}"),
                    (None, Some(a)) => format!("above {a}"),
                    (None, None) => String::new(),
                };
                Ok((pass, format!("{value} (wants {wants})")))
            }
        }
    }
}

/// The value of an instant query's first sample (a vector's or a scalar's).
fn sample(body: &str) -> Option<f64> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    let result = &json["data"]["result"];
    let value = match json["data"]["resultType"].as_str()? {
        "vector" => &result.as_array()?.first()?["value"][1],
        "scalar" => &result[1],
        _ => return None,
    };
    value.as_str()?.parse().ok()
}

/// Runs until `stop` changes.
pub async fn run(engine: Engine, mut stop: watch::Receiver<bool>) {
    let prober = match Prober::new() {
        Ok(p) => p,
        Err(e) => return error!(error = %e, "cannot set up HTTPS for automatic checks; they will not run"),
    };
    let clock = engine.clock();
    let changed = engine.signals().checks_changed.clone();
    // When each (deployment, item) was last measured. In memory: after a restart every
    // check runs at once, which is what a check that may have been missed should do.
    let mut last: HashMap<(i64, String), DateTime<Utc>> = HashMap::new();
    // Commits wake the worker only when some plan has checks: otherwise every command would
    // pay for a scan of every running deployment. (A deployment started on a plan that had
    // checks before a config change is still looked at every 30 s.)
    let plans_check =
        engine.config().plans.values().any(|p| p.phases.iter().any(|ph| ph.items.iter().any(|i| i.check.is_some())));
    let mut scanned: Option<DateTime<Utc>> = None;
    loop {
        if let Some(at) = scanned {
            // A burst of commits makes one scan, not one each.
            tokio::select! {
                _ = clock.sleep_until(at + LEAST_GAP) => {}
                _ = stop.changed() => break,
            }
        }
        let now = clock.now();
        scanned = Some(now);
        let mut wake = now + IDLE_POLL;
        match engine.store().open_deployments().await {
            Ok(open) => {
                for loaded in open {
                    let due: Vec<(&Item, &Check)> = checks::to_run(&loaded.state)
                        .into_iter()
                        .filter_map(|item| Some((item, item.check.as_ref()?)))
                        .filter(|(item, check)| {
                            let next = last.get(&(loaded.id, item.id.clone())).map(|t| *t + every(check));
                            match next {
                                Some(next) if next > now => {
                                    wake = wake.min(next);
                                    false
                                }
                                _ => true,
                            }
                        })
                        .collect();
                    if due.is_empty() {
                        continue;
                    }
                    let span = info_span!("checks", deployment = loaded.id);
                    let results =
                        join_all(due.iter().map(|(item, check)| prober.measure(item, check))).instrument(span).await;
                    for (item, check) in &due {
                        last.insert((loaded.id, item.id.clone()), now);
                        wake = wake.min(now + every(check));
                    }
                    if let Err(e) = engine.submit(Input::Checks { deployment: loaded.id, results }).await {
                        error!(deployment = loaded.id, error = %e, "could not record check results");
                    }
                }
            }
            Err(e) => error!(error = %e, "cannot read the running deployments for their checks"),
        }
        tokio::select! {
            _ = clock.sleep_until(wake) => {}
            _ = changed.notified(), if plans_check => {}
            _ = stop.changed() => break,
        }
    }
}

fn every(check: &Check) -> chrono::Duration {
    chrono::Duration::from_std(check.every).unwrap_or(IDLE_POLL).max(chrono::Duration::seconds(1))
}
