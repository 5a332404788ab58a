"""The simplest Slack app a team would otherwise write instead of golive, as the baseline of
benches/load.rs: Slack Bolt for Python, served by Bolt's own `app.start()`, verifying each
request's signature with Bolt's built-in check and inserting every `/deploy` command (user,
channel, text, time) into a SQLite file before acknowledging it.

SQLite is set up as golive's store sets it up (src/store/mod.rs): WAL journal,
`synchronous = FULL` (an acknowledged command survives a power cut), a 10 s busy timeout.

Configured by the environment, as the bench runs it:
  SLACK_SIGNING_SECRET  the signing secret the load generator signs with
  SLACK_BOT_TOKEN       any token; it is checked once with auth.test at the first request
  SLACK_API_URL         where that auth.test goes (the bench's fake Slack); default Slack's
  BOLT_DB               the SQLite file
  PORT                  where to listen
  BOLT_PROCESS_BEFORE_RESPONSE=1  run the listener in the request thread instead of Bolt's
                        default (a worker thread whose ack the request thread polls every 10 ms)
"""

import os
import sqlite3
import threading
import time

from slack_bolt import App
from slack_sdk import WebClient

DB = os.environ.get("BOLT_DB", "bolt.db")
local = threading.local()


def db():
    # sqlite3 connections belong to the thread that opened them, and Bolt runs listeners on a
    # pool of threads: one connection per thread.
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, timeout=10)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        local.conn = conn
    return conn


with sqlite3.connect(DB) as setup:
    setup.execute("PRAGMA journal_mode = WAL")
    setup.execute(
        "CREATE TABLE IF NOT EXISTS commands ("
        " id INTEGER PRIMARY KEY, user TEXT NOT NULL, channel TEXT NOT NULL,"
        " text TEXT NOT NULL, at TEXT NOT NULL)"
    )

app = App(
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    client=WebClient(
        token=os.environ["SLACK_BOT_TOKEN"],
        base_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
    ),
    token_verification_enabled=False,
    process_before_response=os.environ.get("BOLT_PROCESS_BEFORE_RESPONSE") == "1",
)


@app.command("/deploy")
def deploy(ack, command):
    conn = db()
    with conn:  # commits, so the ack below means the command is on disk
        conn.execute(
            "INSERT INTO commands (user, channel, text, at) VALUES (?, ?, ?, ?)",
            (
                command["user_id"],
                command["channel_id"],
                command.get("text", ""),
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            ),
        )
    ack()


if __name__ == "__main__":
    app.start(port=int(os.environ.get("PORT", "3000")), path="/slack/commands")
