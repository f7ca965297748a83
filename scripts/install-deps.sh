#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real, when missing:
# slapd + ldap-utils (LDAP), golang-go + golang-golang-x-mod-dev (Debian's go
# 1.19, the old generation the client-compatibility tests drive beside the
# machine's current go at /usr/local/go, and x/mod for differential tests; on a
# machine with no go at all it is the only go, and the suite says so), redis-server, openssl, docker-compose (only
# `docker-compose config`, to validate docker-compose.yml), chromium (the
# browser-login test drives it through playwright-core), wrk (test/bench-paced
# drives the bench's paced load script with it). Non-interactive;
# safe to run again. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(slapd ldap-utils golang-go golang-golang-x-mod-dev redis-server openssl docker-compose chromium wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all Debian packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# slapd's post-install asks questions and may start a system daemon; the tests
# run their own slapd on free loopback ports and never use that one.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
