#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for the test suite and prints the environment the
# suite reads. Usage: eval "$(scripts/test-postgres.sh)"
# Installs Debian's postgresql package when no server is present (needs root). The cluster lives
# in a temporary directory, listens on 127.0.0.1:${PGPORT:-55432} and trusts local connections:
# tests only, never a real deployment.
set -euo pipefail
port="${PGPORT:-55432}"
root="${GATEWAY_TEST_PGROOT:-/tmp/alipay-gateway-pg}"

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
  echo "installing postgresql from Debian's packages" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home "$root" postgres
  as_pg=(runuser -u postgres --)
fi
ctl="${as_pg[*]} $bindir/pg_ctl -D $root/data -w"

if [ ! -f "$root/data/PG_VERSION" ]; then
  mkdir -p "$root"
  [ ${#as_pg[@]} -gt 0 ] && chown postgres "$root"
  "${as_pg[@]}" "$bindir/initdb" -D "$root/data" -U postgres -A trust --no-sync >/dev/null
fi
opts="-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
$ctl status >/dev/null 2>&1 || $ctl -o "$opts" -l "$root/log" start >&2
"$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'gateway_test'" \
  | grep -q 1 || "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres gateway_test

echo "export GATEWAY_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/gateway_test'"
# The durability tests crash the server (immediate shutdown: no checkpoint, recovery on start).
echo "export GATEWAY_TEST_POSTGRES_STOP='$ctl stop -m immediate'"
echo "export GATEWAY_TEST_POSTGRES_START='$ctl -o \"$opts\" -l $root/log start'"
