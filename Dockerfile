# The Porthole gateway as an OCI image (docs/operations.md, "Run it in containers").
#
#   docker build -t porthole .
#
# Builds with the classic builder and BuildKit alike (no BuildKit-only syntax). Both bases are
# build arguments: a registry mirror's copies, or the Debian stand-ins `npm run test:image` makes
# where no registry is reachable (scripts/image-bases.sh).
ARG BASE_IMAGE=node:20-bookworm-slim
# The build stage compiles native modules (better-sqlite3; argon2 and ssh2 when no prebuilt
# binary fits): it needs npm, python3, make and g++, which node:20-bookworm has and -slim has not.
ARG BUILD_IMAGE=node:20-bookworm

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# node-gyp takes Node's headers from the image instead of downloading them.
ENV npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
# Where npm installs from, and extra CA certificates (PEM text) for a network whose TLS is
# intercepted. Only this stage sees them: the certificates are written, used and deleted in one
# RUN, so no layer holds them, and the runtime image has neither. Never pass a credential here
# (the classic builder records build arguments in this stage's history).
ARG NPM_REGISTRY=https://registry.npmjs.org/
ARG BUILD_CA_CERTS=
# Dependencies first: this layer is reused until package-lock.json or patches/ change.
COPY package.json package-lock.json ./
COPY patches ./patches
RUN set -eu; \
    if [ -n "$BUILD_CA_CERTS" ]; then \
      printf '%s\n' "$BUILD_CA_CERTS" > /tmp/build-ca.pem; \
      export NODE_EXTRA_CA_CERTS=/tmp/build-ca.pem; \
    fi; \
    npm ci --registry="$NPM_REGISTRY"; \
    rm -f /tmp/build-ca.pem
COPY tsconfig.base.json tsconfig.json vite.config.ts ./
COPY shared ./shared
COPY server ./server
COPY client ./client
# Then only what runs: production dependencies without what Node never loads from them (source
# maps, TypeScript sources and types, READMEs: ~20 MB), and of each native module's build only the
# module itself (better-sqlite3's SQLite sources and object files: ~25 MB).
RUN set -eu; \
    npm run build; \
    npm prune --omit=dev; \
    find node_modules -type f \( -name '*.map' -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' \
      -o -name '*.md' \) ! -iname 'licen[cs]e*' -delete; \
    find node_modules -type d -path '*/build/Release' -prune \
      -exec sh -c 'find "$1" -mindepth 1 -maxdepth 1 ! -name "*.node" -exec rm -rf {} +' _ {} \; ; \
    rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
      node_modules/cpu-features/deps dist/.tsbuild

FROM ${BASE_IMAGE}
WORKDIR /app
# Listens on every interface of the container; the address browsers use must be set
# (PORTHOLE_PUBLIC_URL): the gateway refuses a non-loopback HOST without it.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    PORTHOLE_DATABASE=sqlite:/var/lib/porthole/porthole.db \
    PORTHOLE_RECORDINGS_DIR=/var/lib/porthole/recordings
# The code belongs to root and is read-only to the gateway; only its data directory is writable.
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
RUN mkdir -p /var/lib/porthole/recordings && chown -R node:node /var/lib/porthole && chmod -R 0700 /var/lib/porthole
USER node
EXPOSE 8080
# SIGTERM starts the drain (PORTHOLE_DRAIN_SECONDS, default 10 s). Give the container longer to
# stop than that: `docker stop -t 20`, compose `stop_grace_period`, Kubernetes
# `terminationGracePeriodSeconds`.
STOPSIGNAL SIGTERM
# Liveness: the process serves HTTP. Node's own fetch, so the image needs no curl; each check
# starts a Node process, which takes seconds on a busy host.
HEALTHCHECK --interval=10s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/server/src/main.js"]
