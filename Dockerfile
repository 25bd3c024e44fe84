# syntax=docker/dockerfile:1
#
# docker build -t rapport .
# docker run -p 8080:8080 -v rapport-data:/data rapport
#
# With no configuration the container serves on SQLite in the /data volume and
# prints the first admin's password once (see `docker logs`). For PostgreSQL:
# -e RAPPORT_DATABASE_URL=postgres://user:password@host:5432/rapport

FROM rust:1-slim-bookworm AS builder
WORKDIR /src
# Dependencies first, against stub sources, so that a change to the code does
# not rebuild them. sqlx's migrate! macro embeds migrations/ at compile time.
# build.rs maps handlers to their files for the route table (src/openapi/routes_table.rs).
# .cargo/config.toml sets the bundled SQLite's compile-time options.
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo ./.cargo
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src ./src
COPY migrations ./migrations
# touch: the stubs were built later than the real sources' timestamps.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && cp target/release/rapport /usr/local/bin/rapport

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 rapport \
    && useradd --system --uid 10001 --gid rapport --home-dir /data --shell /usr/sbin/nologin rapport \
    && mkdir -p /data \
    && chown rapport:rapport /data
COPY --from=builder /usr/local/bin/rapport /usr/local/bin/rapport
ENV RAPPORT_DATABASE_URL=sqlite:///data/rapport.db \
    RAPPORT_LISTEN=0.0.0.0:8080
USER rapport
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# No curl in the image: bash's /dev/tcp asks /healthz and checks for a 200.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/rapport"]
CMD ["serve"]
