# clt-v8 tenant image: one container = one tenant process (`--port` chosen at run time, config file mounted).
#   docker build -t registry.example.com/clt-v8:1.0.0 .
#   npm run tenant:k8s -- --image registry.example.com/clt-v8:1.0.0 --out ../clt-v8-k8s
# No tenant file, database, log or secret is copied in (see .dockerignore): they arrive at run time.
# Pin the base by digest in production (node:20-bookworm-slim@sha256:...) for repeatable builds.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript with the dev dependencies --------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc before the sources are here, and tsc needs no native addon.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && mkdir -p src/http/public

# ---- runtime: production dependencies, compiled code, static page --------------------------------------
FROM ${NODE_IMAGE}
# tini as PID 1: forwards SIGTERM to node and reaps zombies (Kubernetes has no `docker run --init`).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts skips `prepare` (no tsc here); better-sqlite3 is then built on its own: its prebuilt
# binary when one matches, else from source with a compiler that is installed and removed in this same layer.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && if ! npm rebuild better-sqlite3; then \
      apt-get update \
      && apt-get install -y --no-install-recommends python3 make g++ \
      && npm rebuild better-sqlite3 --build-from-source \
      && apt-get purge -y --auto-remove python3 make g++ \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()" \
 && npm cache clean --force
COPY bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/src/http/public ./src/http/public
# tenants/ holds config-<PORT>.env and data-<PORT>.sqlite: a volume in Kubernetes, writable by the app user.
RUN mkdir -p tenants logs && chown 1000:1000 tenants logs && chmod 0700 tenants
# The `node` user of the base image, numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# Documentation only: each tenant listens on its own port (6000 is the first by convention).
EXPOSE 6000
ENTRYPOINT ["/usr/bin/tini", "--"]
# Logs as JSON lines on stdout, listening on every interface; give the port with --port (or PORT=) and
# mount the tenant's config at /app/tenants/config-<PORT>.env. The Kubernetes manifests pass the full args.
CMD ["node", "--max-old-space-size=192", "--max-semi-space-size=2", "bin/clt-v8-api.js", "--log-target", "stdout", "--host", "0.0.0.0"]
