# golive in a container: built in a Rust image, run from a slim Debian image as an
# unprivileged user, with its SQLite history on a volume.
#
#   docker build -t golive .
#   docker run -d --name golive -p 3000:3000 \
#     -v golive-data:/var/lib/golive \
#     -v "$PWD/golive.toml:/etc/golive/golive.toml:ro" \
#     -e GOLIVE_SLACK_BOT_TOKEN -e GOLIVE_SLACK_SIGNING_SECRET -e GOLIVE_WEB_TOKEN \
#     golive
#
# The mounted golive.toml must listen on all interfaces inside the container
# ([server] listen = "0.0.0.0:3000") and keep its database on the volume
# ([database] url = "sqlite:///var/lib/golive/golive.db", or a relative path: the working
# directory is the volume).

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so a change to golive's own code does not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches/common \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs benches/scheduler.rs benches/load.rs benches/history.rs benches/pages.rs \
    && cargo fetch --locked
COPY . .
RUN cargo build --release --locked --bin golive \
    && strip target/release/golive

FROM debian:bookworm-slim
# ca-certificates: golive verifies Slack's and the pager's TLS certificates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/golive --shell /usr/sbin/nologin golive \
    && mkdir -p /var/lib/golive /etc/golive \
    && chown golive:golive /var/lib/golive
COPY --from=build /src/target/release/golive /usr/local/bin/golive
COPY config.example.toml /etc/golive/golive.example.toml

USER 10001:10001
WORKDIR /var/lib/golive
VOLUME ["/var/lib/golive"]
ENV GOLIVE_CONFIG=/etc/golive/golive.toml \
    GOLIVE_LOG_FORMAT=json
EXPOSE 3000
# Orchestrators should probe GET /healthz (alive) and GET /readyz (database, migrations and
# background workers); the slim image has no HTTP client for a HEALTHCHECK of its own.
STOPSIGNAL SIGTERM
ENTRYPOINT ["golive"]
CMD ["serve"]
