#!/usr/bin/env bash
# Installs the Debian packages `npm run bench` drives, when missing: nginx
# (the static upstream and the auth_basic + proxy_pass contender; nginx-light
# has the ssl and auth_basic modules), wrk (the load generator) and util-linux's
# taskset (CPU pinning), after what the tests need (scripts/install-deps.sh:
# slapd, the go command, openssl). Non-interactive; safe to run again. Needs
# root (or sudo) only when something is missing. The bench starts its own nginx
# on loopback ports; the package's system service is never used.
set -euo pipefail

bash "$(dirname "${BASH_SOURCE[0]}")/install-deps.sh"

want=()
# Any nginx flavour will do (nginx, nginx-light, nginx-full, nginx-extras).
[ -x /usr/sbin/nginx ] || want+=(nginx-light)
[ -x /usr/bin/wrk ] || want+=(wrk)
[ -x /usr/bin/taskset ] || want+=(util-linux)
if [ "${#want[@]}" -gt 0 ]; then
  as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  echo "install-bench-deps: installing ${want[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi
echo "install-bench-deps: nginx, wrk and taskset present"
