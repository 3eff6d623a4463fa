/** The init container's shell script: copy the tenant's config from its Secret onto the writable volume, once per Secret version. */

/**
 * POSIX sh; run as `sh -c SEED_SCRIPT seed-config <secret file> <volume file>`.
 * The volume's copy is the one the tenant reads and rewrites (saves from /config-v8 go there, with a .bak).
 * It is replaced by the Secret's file only when the Secret differs from the one last copied (a hash kept
 * next to it): a restart keeps page edits; applying a changed Secret (re-rendered from tenants/) wins.
 */
export const SEED_SCRIPT = `set -eu
src="$1"
dst="$2"
name="$(basename "$dst")"
mark="$(dirname "$dst")/.$name.seeded-sha256"
if [ ! -f "$src" ]; then
  echo "$name: $src is missing (is the Secret mounted?)" >&2
  exit 1
fi
want="$(sha256sum "$src" | cut -d ' ' -f 1)"
have="$(cat "$mark" 2>/dev/null || true)"
if [ -f "$dst" ] && [ "$want" = "$have" ]; then
  echo "$name: kept the volume's copy (the Secret has not changed since it was copied)"
  exit 0
fi
if [ -f "$dst" ]; then
  cp -p "$dst" "$dst.bak"
  why="the Secret changed; previous file kept as $name.bak"
else
  why="first start"
fi
cp "$src" "$dst.seed-tmp"
chmod 600 "$dst.seed-tmp"
mv -f "$dst.seed-tmp" "$dst"
printf '%s\\n' "$want" > "$mark.tmp"
mv -f "$mark.tmp" "$mark"
sync
echo "$name: copied from the Secret ($why)"
`
