#!/usr/bin/env bash
# Makes the env files of the local docker-compose stack from the examples:
#
#   bash deploy/init-env.sh          # random secrets
#   bash deploy/init-env.sh --demo   # the public *-demo-only values, verbatim
#
# deploy/NAME.env.example → deploy/NAME.env (git-ignored, mode 0600), for every
# file that does not exist yet. Each distinct *-demo-only value becomes one
# random secret, the same in every file that holds it (modgate's LDAP password
# equals the directory's service account password, and so on); a secret already
# in an existing env file is reused for the files made now. Safe to run again.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
demo=0
[ "${1:-}" = "--demo" ] && demo=1

declare -A secret=()
value_of() { sed -n "s/^$2=//p" "$1" | head -n 1; }

# Secrets already chosen, keyed by the demo value they replaced.
for example in "$here"/*.env.example; do
  target="${example%.example}"
  [ -e "$target" ] || continue
  while IFS='=' read -r name value; do
    [[ "$value" == *-demo-only ]] || continue
    current="$(value_of "$target" "$name")"
    [ -n "$current" ] && secret[$value]="$current"
  done < <(grep -E '^[A-Z_][A-Z0-9_]*=' "$example")
done

for example in "$here"/*.env.example; do
  target="${example%.example}"
  if [ -e "$target" ]; then
    echo "init-env: keeping $target"
    continue
  fi
  out="$(mktemp)"
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$demo" -eq 0 && "$line" =~ ^([A-Z_][A-Z0-9_]*)=(.*-demo-only)$ ]]; then
      value="${BASH_REMATCH[2]}"
      [ -n "${secret[$value]:-}" ] || secret[$value]="$(openssl rand -hex 24)"
      line="${BASH_REMATCH[1]}=${secret[$value]}"
    fi
    printf '%s\n' "$line" >>"$out"
  done <"$example"
  install -m 600 "$out" "$target"
  rm -f "$out"
  echo "init-env: wrote $target"
done
