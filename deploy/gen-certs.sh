#!/usr/bin/env bash
# TLS for the local docker-compose stack, with openssl:
#
#   bash deploy/gen-certs.sh                       # once, before docker compose up
#   bash deploy/gen-certs.sh --name goproxy.corp.example --force   # other names, new cert
#
# Makes a private CA (deploy/ca/: ca.pem, ca-key.pem — the key never leaves
# this folder) and a server certificate for modgate signed by it
# (deploy/tls/: modgate.pem, modgate-key.pem, and a copy of ca.pem), valid for
# localhost, modgate (its compose service name), 127.0.0.1 and ::1, plus every
# --name; and modgate's personal-token signing key (token-signing-key.pem,
# Ed25519, made once). deploy/tls is mounted read-only into the modgate container.
#
# Clients trust the CA with SSL_CERT_FILE=deploy/tls/ca.pem (the go command)
# or curl --cacert deploy/tls/ca.pem. This is for a local stack: production
# certificates come from your PKI (see docs/operations.md).
#
# Safe to run again: existing files are kept unless --force.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tls_dir="$here/tls"
ca_dir="$here/ca"
force=0
names=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --tls-dir) tls_dir="$2"; shift ;;
    --ca-dir) ca_dir="$2"; shift ;;
    --name) names+=("$2"); shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "gen-certs: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# Validity in days: the CA outlives a few server certificates.
ca_days=1825
server_days=365

mkdir -p "$tls_dir" "$ca_dir"
umask 077
work_key="$(mktemp)"

if [ "$force" -eq 1 ] || [ ! -s "$ca_dir/ca.pem" ] || [ ! -s "$ca_dir/ca-key.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$ca_dir/ca-key.pem" -out "$ca_dir/ca.pem" -days "$ca_days" -sha256 \
    -subj "/CN=modgate local CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 600 "$ca_dir/ca-key.pem"
  chmod 644 "$ca_dir/ca.pem"
  force=1 # a new CA needs a new server certificate
  echo "gen-certs: new CA in $ca_dir"
fi

if [ "$force" -eq 1 ] || [ ! -s "$tls_dir/modgate.pem" ] || [ ! -s "$tls_dir/modgate-key.pem" ]; then
  sans="DNS:localhost,DNS:modgate,IP:127.0.0.1,IP:::1"
  for n in "${names[@]+"${names[@]}"}"; do
    if [[ "$n" =~ ^[0-9.]+$ || "$n" == *:* ]]; then sans="$sans,IP:$n"; else sans="$sans,DNS:$n"; fi
  done
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/key.pem" -out "$work/req.csr" -subj "/CN=modgate" 2>/dev/null
  printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=$sans" >"$work/ext.cnf"
  openssl x509 -req -in "$work/req.csr" -CA "$ca_dir/ca.pem" -CAkey "$ca_dir/ca-key.pem" \
    -CAcreateserial -CAserial "$work/ca.srl" -out "$work/cert.pem" -days "$server_days" -sha256 \
    -extfile "$work/ext.cnf" 2>/dev/null
  # 0644: the container runs as another user (uid 10001) and must read the
  # key through the read-only bind mount. Local stack only; see docs/operations.md.
  install -m 644 "$work/key.pem" "$tls_dir/modgate-key.pem"
  install -m 644 "$work/cert.pem" "$tls_dir/modgate.pem"
  echo "gen-certs: new certificate for $sans in $tls_dir"
fi

# modgate's key for signing personal access tokens (personal_tokens.keys in
# gateway.yaml): Ed25519, kept across runs (a new key would void every token).
if [ ! -s "$tls_dir/token-signing-key.pem" ]; then
  openssl genpkey -algorithm ed25519 -out "$work_key" 2>/dev/null
  install -m 644 "$work_key" "$tls_dir/token-signing-key.pem"
  rm -f "$work_key"
  echo "gen-certs: new token-signing key in $tls_dir"
fi

install -m 644 "$ca_dir/ca.pem" "$tls_dir/ca.pem"
echo "gen-certs: trust it with SSL_CERT_FILE=$tls_dir/ca.pem"
