# modgate's image: Node 24 runs the TypeScript sources directly (type
# stripping), so there is no build step, only the production dependencies.
#
#   docker build -t modgate .
#   docker run --read-only --tmpfs /tmp -v …/conf:/etc/modgate/conf:ro -v …/tls:/etc/modgate/tls:ro modgate
#
# The root filesystem may be read-only: modgate writes only its audit log
# (/var/log/modgate, a volume) and temporary files (/tmp, a tmpfs).

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the native modules (argon2) ship prebuilt in their packages.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production \
    MODGATE_CONFIG=/etc/modgate/conf/gateway.yaml \
    MODGATE_HEALTHCHECK_URL=https://127.0.0.1:8443/healthz
# A dedicated user with fixed ids, so file permissions on mounts can be planned.
RUN groupadd --system --gid 10001 modgate \
 && useradd --system --uid 10001 --gid modgate --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin modgate \
 && mkdir -p /etc/modgate/conf /etc/modgate/tls /var/log/modgate \
 && chown modgate:modgate /var/log/modgate
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY auth ./auth
COPY core ./core
COPY gateway ./gateway
COPY policies ./policies
COPY bin ./bin
COPY deploy/image ./deploy/image
USER modgate:modgate
EXPOSE 8443 9464
VOLUME ["/var/log/modgate"]
# /healthz answers while the process is alive; /readyz (per component) is for load balancers.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "deploy/image/healthcheck.ts"]
# SIGTERM reaches node directly (exec form, no shell): modgate drains and exits.
# --max-semi-space-size=8: see the comment at the top of bin/modgate.ts (it only works at launch).
ENTRYPOINT ["node", "--max-semi-space-size=8", "bin/modgate.ts"]
CMD ["serve", "--config", "/etc/modgate/conf/gateway.yaml"]
