#!/usr/bin/env bash
# Fuzzes a running gateway from its own /openapi.json with schemathesis: every API and the admin
# API, requests signed by tests/schemathesis/hooks.py. Fails on any 5xx, any answer the document
# does not describe, and (with GATEWAY_PUBLIC_KEY) any signed answer that does not verify.
# Starts nothing: run the gateway first. Bounded to about a minute.
#
#   GATEWAY_URL=http://127.0.0.1:18090 scripts/schemathesis.sh
#
# Environment (defaults are the dev config's, config/dev.toml):
#   GATEWAY_URL            required, e.g. http://127.0.0.1:18090
#   GATEWAY_CLIENT_ID      SANDBOX_DEV_MERCHANT
#   GATEWAY_CLIENT_KEY     config/dev-keys/DEV-ONLY-merchant-private.pem (PEM)
#   GATEWAY_ADMIN_TOKEN    dev-admin-token; set it empty to leave the admin API out
#   GATEWAY_PUBLIC_KEY     config/dev-keys/DEV-ONLY-gateway-public.pem; empty: no signature check
#   SCHEMATHESIS           the schemathesis executable (pip install -r tests/schemathesis/requirements.txt)
#   SCHEMATHESIS_MAX_TIME  60 (seconds for the whole run)
#   SCHEMATHESIS_MAX_EXAMPLES  20 (per operation and phase)
#   SCHEMATHESIS_SEED      random unless set; the run prints the one it used
#   SCHEMATHESIS_CACHE_DIR $TMPDIR/alipay-gateway-schemathesis (crashes, for `schemathesis replay`)
set -euo pipefail
cd "$(dirname "$0")/.."

: "${GATEWAY_URL:?set GATEWAY_URL to the running gateway, e.g. http://127.0.0.1:18090}"
export GATEWAY_CLIENT_ID="${GATEWAY_CLIENT_ID:-SANDBOX_DEV_MERCHANT}"
export GATEWAY_CLIENT_KEY="${GATEWAY_CLIENT_KEY:-config/dev-keys/DEV-ONLY-merchant-private.pem}"
export GATEWAY_ADMIN_TOKEN="${GATEWAY_ADMIN_TOKEN-dev-admin-token}"
export GATEWAY_PUBLIC_KEY="${GATEWAY_PUBLIC_KEY-config/dev-keys/DEV-ONLY-gateway-public.pem}"
export SCHEMATHESIS_HOOKS="$PWD/tests/schemathesis/hooks.py"
export SCHEMATHESIS_CACHE_DIR="${SCHEMATHESIS_CACHE_DIR:-${TMPDIR:-/tmp}/alipay-gateway-schemathesis}"
schemathesis="${SCHEMATHESIS:-schemathesis}"

checks=not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance
[ -n "$GATEWAY_PUBLIC_KEY" ] && checks="$checks,signed_answer"

args=(
  --config-file tests/schemathesis/schemathesis.toml
  run "$GATEWAY_URL/openapi.json"
  --url "$GATEWAY_URL"
  --checks "$checks"
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-20}"
  --max-time "${SCHEMATHESIS_MAX_TIME:-60}"
  --request-timeout 10
  --wait-for-schema 30
  # A rule added through the admin API may break answers on purpose (fault = "http_500").
  --exclude-operation-id addRule
)
[ -n "${SCHEMATHESIS_SEED:-}" ] && args+=(--seed "$SCHEMATHESIS_SEED")
# The stateful phase follows the admin API's links (seed -> read, complete, notifications).
if [ -n "$GATEWAY_ADMIN_TOKEN" ]; then
  args+=(--phases examples,coverage,fuzzing,stateful)
else
  args+=(--phases examples,coverage,fuzzing --exclude-path-regex '^/admin')
fi

echo "schemathesis: $GATEWAY_URL/openapi.json as $GATEWAY_CLIENT_ID, checks $checks"
exec "$schemathesis" "${args[@]}"
