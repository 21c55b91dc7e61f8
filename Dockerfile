# Production image: build with the locked dependencies and the committed .sqlx query data
# (no database needed at build time), then run as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
ENV SQLX_OFFLINE=true
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin cdconcerns
WORKDIR /app
COPY --from=build /src/target/release/cdconcerns /usr/local/bin/cdconcerns
COPY --from=build /src/static /app/static
USER cdconcerns
ENV CDC_BIND=0.0.0.0:8080 \
    CDC_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3"]
ENTRYPOINT ["cdconcerns"]
CMD ["serve"]
