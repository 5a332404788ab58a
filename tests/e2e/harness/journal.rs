//! The bookkeeping the fake Slack and the fake Discord share: every call golive made, in the
//! order it arrived; which of them the test has been handed, so `Ctx::finish` can fail a story
//! on a post it never read; the posts a story said it does not read; the answers a test
//! scripted for the next calls; and the `arrivals` channel the harness's waits wake on.
//!
//! A `Fake` is that journal behind a server on 127.0.0.1. Each fake keeps what is its
//! platform's (routes, answers, its `Call`'s fields) and its own state in `Book::own`, under
//! the same lock as the calls: taking a scripted reply and recording the call it answered are
//! one step, so the n-th scripted reply is the n-th call's.

#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::fmt::Debug;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;

/// A call a fake recorded.
pub trait Recorded: Clone + Debug {
    /// How a test tells the fake to answer the next call.
    type Reply;
    /// Its place among the calls (given by `Book::push`), to count it as read.
    fn seq(&self) -> usize;
    /// A message golive showed to people, which the story must read (or skip).
    fn is_shown(&self) -> bool;
    /// Everything a person sees of it, for stories that check what a post says.
    fn seen(&self) -> String;
}

/// Posts a story says up front it does not read: what they are, and why.
pub type Skip<C> = (String, Arc<dyn Fn(&C) -> bool + Send + Sync>);

/// The calls, the read marks, the skips and the script, with the fake's own state `S`.
pub(crate) struct Book<C: Recorded, S> {
    calls: Vec<C>,
    /// The calls the test has been handed.
    read: HashSet<usize>,
    /// Posts the test said it does not read.
    skips: Vec<Skip<C>>,
    script: VecDeque<C::Reply>,
    arrivals: watch::Sender<usize>,
    pub own: S,
}

impl<C: Recorded, S> Book<C, S> {
    /// The scripted answer for this call, if the script has one left.
    pub fn next_reply(&mut self) -> Option<C::Reply> {
        self.script.pop_front()
    }

    /// Records the call `made` makes of its place among the calls, and wakes the waits.
    pub fn push(&mut self, made: impl FnOnce(usize) -> C) {
        let call = made(self.calls.len());
        debug_assert_eq!(call.seq(), self.calls.len(), "a call keeps the place it is given");
        self.calls.push(call);
        self.arrivals.send_replace(self.calls.len());
    }
}

/// One fake's journal; clones share it.
pub struct Journal<C: Recorded, S> {
    /// Who the fake plays, for the failures of `wait_for`.
    name: &'static str,
    book: Arc<Mutex<Book<C, S>>>,
}

impl<C: Recorded, S> Clone for Journal<C, S> {
    fn clone(&self) -> Self {
        Journal { name: self.name, book: self.book.clone() }
    }
}

impl<C: Recorded, S> Journal<C, S> {
    pub fn new(name: &'static str, own: S) -> Self {
        let book = Book {
            calls: Vec::new(),
            read: HashSet::new(),
            skips: Vec::new(),
            script: VecDeque::new(),
            arrivals: watch::channel(0).0,
            own,
        };
        Journal { name, book: Arc::new(Mutex::new(book)) }
    }

    /// The book, for the fake's handlers.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Book<C, S>> {
        self.book.lock().unwrap()
    }

    /// The next calls get these answers, in order; after them, success.
    pub fn script(&self, replies: impl IntoIterator<Item = C::Reply>) {
        self.lock().script.extend(replies);
    }

    /// Forgets the scripted answers not used yet: from now on, success.
    pub fn clear_script(&self) {
        self.lock().script.clear();
    }

    /// Every call, all counted as read.
    pub fn calls(&self) -> Vec<C> {
        let calls = self.peek_calls();
        self.read(&calls);
        calls
    }

    /// Every call, without counting them as read (for the harness's waits).
    pub fn peek_calls(&self) -> Vec<C> {
        self.lock().calls.clone()
    }

    /// Counts these calls as read by the test.
    pub fn read(&self, calls: &[C]) {
        self.lock().read.extend(calls.iter().map(C::seq));
    }

    /// golive's posts the test has not been handed (nor said it does not read), oldest first.
    pub fn unread_posts(&self) -> Vec<C> {
        let book = self.lock();
        let skipped = |c: &C| book.skips.iter().any(|(_, matches)| matches(c));
        book.calls.iter().filter(|c| c.is_shown() && !book.read.contains(&c.seq()) && !skipped(c)).cloned().collect()
    }

    /// From now on, posts that `matches` are not the story's to read (`what` names them, `why`
    /// says where they are read instead); they are never handed out as the next post.
    pub fn skip(&self, what: &str, why: &str, matches: impl Fn(&C) -> bool + Send + Sync + 'static) {
        let named = format!("{what} ({why})");
        self.lock().skips.push((named, Arc::new(matches)));
    }

    /// Changes whenever a call arrives.
    pub fn arrivals(&self) -> watch::Receiver<usize> {
        self.lock().arrivals.subscribe()
    }

    /// Waits (at most `patience`, in real time) until the calls so far satisfy `done`, waking as
    /// each call arrives; for tests of a `golive serve` process, whose clock is the wall's.
    pub async fn wait_for(&self, what: &str, patience: Duration, done: impl Fn(&[C]) -> bool) {
        let mut arrivals = self.arrivals();
        let waited = tokio::time::timeout(patience, async {
            while !done(&self.peek_calls()) {
                let _ = arrivals.changed().await;
            }
        });
        if waited.await.is_err() {
            panic!("the fake {} never got {what} within {patience:?}; it got {:#?}", self.name, self.peek_calls());
        }
    }
}

/// A fake API served on 127.0.0.1: the base URL golive is pointed at, and the journal of the
/// calls it took, which it dereferences to (`calls`, `read`, `script`, `wait_for`…).
pub struct Fake<C: Recorded, S> {
    pub url: String,
    journal: Journal<C, S>,
}

impl<C: Recorded, S> Clone for Fake<C, S> {
    fn clone(&self) -> Self {
        Fake { url: self.url.clone(), journal: self.journal.clone() }
    }
}

impl<C: Recorded, S> std::ops::Deref for Fake<C, S> {
    type Target = Journal<C, S>;
    fn deref(&self) -> &Journal<C, S> {
        &self.journal
    }
}

impl<C, S> Fake<C, S>
where
    C: Recorded + Send + 'static,
    C::Reply: Send,
    S: Send + 'static,
{
    /// Serves `routes` on a free port, as the fake `name` with its own state `own`; golive is
    /// pointed at `base` (such as `/api/`) below the address.
    pub async fn serve(name: &'static str, own: S, base: &str, routes: Router<Journal<C, S>>) -> Self {
        let journal = Journal::new(name, own);
        let app = routes.with_state(journal.clone());
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind the fake {name}: {e}"));
        let url = format!("http://{}{base}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap_or_else(|e| panic!("the fake {name} serves: {e}"))
        });
        Fake { url, journal }
    }
}
