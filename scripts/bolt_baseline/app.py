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
  BOLT_ASYNC=1          Bolt's async app (`slack_bolt.async_app.AsyncApp`), served by aiohttp
                        instead of `http.server`: many connections at once, one event loop

Bolt's default mode measures `http.server` (one request at a time, a listen backlog of 5, the
ack polled every 10 ms) more than Bolt; benches/load.rs compares golive with the faster of
process_before_response and the async app.
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

def insert(conn, command):
    with conn:  # commits, so the ack after it means the command is on disk
        conn.execute(
            "INSERT INTO commands (user, channel, text, at) VALUES (?, ?, ?, ?)",
            (
                command["user_id"],
                command["channel_id"],
                command.get("text", ""),
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            ),
        )


def serve_async():
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=AsyncWebClient(
            token=os.environ["SLACK_BOT_TOKEN"],
            base_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
        ),
    )
    # One event loop, one connection: the insert blocks the loop for its commit, as a
    # plain sqlite3 call in an async handler does.
    conn = db()

    @app.command("/deploy")
    async def deploy(ack, command):
        insert(conn, command)
        await ack()

    app.start(port=int(os.environ.get("PORT", "3000")), path="/slack/commands")


if os.environ.get("BOLT_ASYNC") == "1":
    serve_async()
    raise SystemExit(0)

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
    insert(db(), command)
    ack()


if __name__ == "__main__":
    app.start(port=int(os.environ.get("PORT", "3000")), path="/slack/commands")
