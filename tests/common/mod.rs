//! The example plan's cast, shared by the pure suites (domain, grammar, …) and the
//! end-to-end harness (tests/e2e/harness): who ticks which item and who signs off in each
//! phase, and a tiny deterministic generator for random-input tests. No I/O here, so the
//! pure suites that include it compile nothing they do not use.

#![allow(dead_code)]

use std::time::Duration;

/// Who ticks which required item, and who signs off, in the example plan's phases.
pub const PRE_DEPLOYMENT_TICKS: &[(&str, &str)] = &[
    ("bruno", "tests"),
    ("sam", "security-scan"),
    ("bruno", "migrations-tested"),
    ("olga", "db-backup"),
    ("olga", "secrets"),
    ("alice", "rollback-plan"),
];
pub const PRE_DEPLOYMENT_SIGNOFFS: &[(&str, &str)] = &[("sam", "security"), ("alice", "tech-lead")];
pub const STAGING_TICKS: &[(&str, &str)] = &[
    ("olga", "staging-deploy"),
    ("bruno", "staging-migrate"),
    ("fei", "e2e"),
    ("bruno", "load-test"),
    ("priya", "acceptance"),
];
pub const STAGING_SIGNOFFS: &[(&str, &str)] = &[("priya", "product"), ("alice", "tech-lead")];
pub const PRODUCTION_TICKS: &[(&str, &str)] = &[
    ("olga", "prod-deploy"),
    ("bruno", "prod-migrate"),
    ("olga", "health"),
    ("olga", "error-rate"),
    ("bruno", "latency"),
    ("olga", "old-version-warm"),
];
pub const POST_DEPLOYMENT_TICKS: &[(&str, &str)] =
    &[("fei", "user-flows"), ("olga", "monitoring"), ("bruno", "error-tracking"), ("priya", "announce")];
pub const POST_DEPLOYMENT_SIGNOFFS: &[(&str, &str)] =
    &[("alice", "tech-lead"), ("priya", "product"), ("sam", "security"), ("olga", "ops")];
pub const PRODUCTION_SIGNOFFS: &[(&str, &str)] = &[("olga", "ops")];
/// Who ticks each phase's optional items.
pub const PRE_DEPLOYMENT_OPTIONAL: &[(&str, &str)] = &[("olga", "certificates")];
pub const STAGING_OPTIONAL: &[(&str, &str)] = &[("fei", "bundle-size")];
pub const PRODUCTION_OPTIONAL: &[(&str, &str)] = &[("priya", "maintenance-notice")];
pub const POST_DEPLOYMENT_OPTIONAL: &[(&str, &str)] = &[("alice", "runbook")];

/// xorshift64: a tiny deterministic generator, so random-input tests see the same cases on
/// every run without a new dependency.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}
