#!/usr/bin/env bash
# Smoke test of a running alipay-gateway, over HTTP with curl: /healthz, /readyz, and each of
# the four APIs with a request signed by `alipay-gateway sign`, every answer checked with jq;
# each API answer's own signature is checked with `alipay-gateway verify` when the gateway's
# public key is given; and a request whose body differs from what was signed must be refused.
# Exits non-zero when any check fails. Needs bash, curl and jq.
#
#   cargo run -- serve --config config/dev.toml &   # then:
#   scripts/smoke.sh
#
# Environment (the defaults fit a local gateway on config/dev.toml):
#   GATEWAY_URL               the gateway                     http://127.0.0.1:8080
#   GATEWAY_CLI               the command that runs the CLI, split on spaces, e.g.
#                             "docker run --rm -i -v /tmp/keys:/keys:ro alipay-gateway"
#                                                             alipay-gateway on PATH, else
#                                                             target/release or target/debug
#   SMOKE_CLIENT_ID           the [[clients]] entry to sign as  SANDBOX_DEV_MERCHANT
#   SMOKE_PRIVATE_KEY         its private key, a path as GATEWAY_CLI sees it
#                                                   config/dev-keys/DEV-ONLY-merchant-private.pem
#   SMOKE_GATEWAY_PUBLIC_KEY  the gateway's public key, a path as GATEWAY_CLI sees it: verify
#                             each API answer's signature (unset: not checked)
#   SMOKE_NOTIFY_PAYMENT_PATH the receiver's path (server.notify_payment_path)
#                                                   /aps/api/v1/payments/notifyPayment
#   SMOKE_WAIT                seconds to wait for /readyz first   30
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

url=${GATEWAY_URL:-http://127.0.0.1:8080}
url=${url%/}
client=${SMOKE_CLIENT_ID:-SANDBOX_DEV_MERCHANT}
key=${SMOKE_PRIVATE_KEY:-$repo/config/dev-keys/DEV-ONLY-merchant-private.pem}
gateway_public_key=${SMOKE_GATEWAY_PUBLIC_KEY:-}
notify_payment_path=${SMOKE_NOTIFY_PAYMENT_PATH:-/aps/api/v1/payments/notifyPayment}
wait_seconds=${SMOKE_WAIT:-30}

if [ -n "${GATEWAY_CLI:-}" ]; then
  read -r -a cli <<<"$GATEWAY_CLI"
elif command -v alipay-gateway >/dev/null; then
  cli=(alipay-gateway)
elif [ -x "$repo/target/release/alipay-gateway" ]; then
  cli=("$repo/target/release/alipay-gateway")
elif [ -x "$repo/target/debug/alipay-gateway" ]; then
  cli=("$repo/target/debug/alipay-gateway")
else
  echo "smoke: no alipay-gateway binary: set GATEWAY_CLI or run cargo build" >&2
  exit 2
fi
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "smoke: $tool is required" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

pass() {
  passed=$((passed + 1))
  printf 'ok    %s\n' "$1"
}

# fail NAME: records a failure and shows the last answer.
fail() {
  failed=$((failed + 1))
  printf 'FAIL  %s\n' "$1"
  if [ -s "$work/status" ]; then
    printf '      HTTP %s: %s\n' "$(cat "$work/status")" "$(head -c 600 "$work/response.json" 2>/dev/null)"
  fi
}

# get PATH: GET, answer in $work/response.json, HTTP status in $work/status.
get() {
  curl -s --max-time 10 -o "$work/response.json" -w '%{http_code}' "$url$1" >"$work/status" \
    || echo 000 >"$work/status"
}

# post_signed PATH BODY [SENT]: signs BODY as $client, POSTs SENT (default BODY) with the
# signature headers; answer in $work/response.json, its headers in $work/response.headers.
post_signed() {
  local path=$1 body=$2 sent=${3:-$2}
  printf '%s' "$body" >"$work/signed.json"
  printf '%s' "$sent" >"$work/request.json"
  : >"$work/status"
  # Signing has no side effect: a container runtime that drops the output is tried again.
  local try
  for try in 1 2 3; do
    if ! "${cli[@]}" sign --key "$key" --client-id "$client" --path "$path" --body - \
      <"$work/signed.json" >"$work/signature.headers"; then
      echo "smoke: alipay-gateway sign failed" >&2
      return 1
    fi
    [ "$(grep -cE '^(Client-Id|Request-Time|Signature): ' "$work/signature.headers")" = 3 ] && break
    echo "smoke: sign printed no headers (try $try): $(head -c 200 "$work/signature.headers")" >&2
  done
  curl -sS --max-time 10 -o "$work/response.json" -D "$work/response.headers" -w '%{http_code}' \
    -H @"$work/signature.headers" -H 'Content-Type: application/json; charset=UTF-8' \
    --data-binary @"$work/request.json" "$url$path" >"$work/status" \
    || echo 000 >"$work/status"
}

# expect NAME JQ_FILTER: the last answer is HTTP 200 and the filter holds.
expect() {
  if [ "$(cat "$work/status")" = 200 ] && jq -e "$2" "$work/response.json" >/dev/null 2>&1; then
    pass "$1"
  else
    fail "$1 (expected $2)"
    return 1
  fi
}

# header NAME: a header of the last answer.
header() {
  awk -v name="$1" '{
      sub(/\r$/, "")
      colon = index($0, ":")
      if (colon > 0 && tolower(substr($0, 1, colon - 1)) == tolower(name)) {
        value = substr($0, colon + 1)
        sub(/^[ \t]+/, "", value)
        print value
        exit
      }
    }' "$work/response.headers"
}

# signed_by_gateway NAME PATH: the last answer's signature verifies with the gateway's key.
signed_by_gateway() {
  [ -n "$gateway_public_key" ] || return 0
  local client_id time signature
  client_id=$(header client-id)
  time=$(header response-time)
  signature=$(header signature)
  if [ -n "$signature" ] && "${cli[@]}" verify --key "$gateway_public_key" \
    --client-id "$client_id" --path "$2" --time "$time" --signature "$signature" --body - \
    <"$work/response.json" >/dev/null 2>"$work/verify.err"; then
    pass "$1: the answer's signature verifies with the gateway's key"
  else
    fail "$1: the answer's signature does not verify ($(head -n 1 "$work/verify.err"))"
  fi
  return 0
}

echo "smoke: $url, signing as $client with ${cli[*]}"

# The gateway is up and its store answers; wait for it first.
deadline=$((SECONDS + wait_seconds))
until get /readyz && [ "$(cat "$work/status")" = 200 ]; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    break
  fi
  sleep 1
done
if ! expect "GET /readyz: ready" '.status == "ready"'; then
  echo "smoke: $url is not ready after ${wait_seconds}s; 0 passed, 1 failed"
  exit 1
fi
echo "      store: $(jq -r '.store // "?"' "$work/response.json" 2>/dev/null)"
get /healthz
expect "GET /healthz: ok" '.status == "ok"' || true

# Unique ids, so the script can run again against the same store.
run="SMOKE-$(date +%s)-$$"
payment_request_id="$run-REQ"
payment_id="$run-PAY"

# notifyPushPayment: the ACQP reports a payment's final result.
path=/aps/api/v1/payments/notifyPushPayment
post_signed "$path" "$(jq -cn --arg req "$payment_request_id" --arg pay "$payment_id" '{
  paymentResult: {resultCode: "SUCCESS", resultStatus: "S", resultMessage: "success"},
  paymentId: $pay, paymentRequestId: $req, paymentTime: "2026-11-22T10:00:00+08:00"}')"
expect "notifyPushPayment: S SUCCESS" \
  '.result.resultStatus == "S" and .result.resultCode == "SUCCESS"' \
  && signed_by_gateway notifyPushPayment "$path"

# inquiryPayment: the same payment, as the push reported it.
path=/aps/api/v1/payments/inquiryPayment
post_signed "$path" "$(jq -cn --arg req "$payment_request_id" \
  '{acquirerId: "SMOKE-ACQ", pspId: "SMOKE-PSP", paymentRequestId: $req}')"
expect "inquiryPayment: S, the pushed payment succeeded" \
  ".result.resultStatus == \"S\" and .paymentResult.resultCode == \"SUCCESS\" and .paymentId == \"$payment_id\"" \
  && signed_by_gateway inquiryPayment "$path"

# sendPaymentResult: the merchant reports a card payment to the risk engine.
path=/ams/api/v1/risk/payments/sendPaymentResult
post_signed "$path" "$(jq -cn --arg txn "$run-TXN" \
  '{referenceTransactionId: $txn, paymentStatus: "SUCCESS", paymentMethodProvider: "VISA"}')"
expect "sendPaymentResult: S SUCCESS" \
  '.result.resultStatus == "S" and .result.resultCode == "SUCCESS"' \
  && signed_by_gateway sendPaymentResult "$path"

# notifyPayment: a payment result notification to the gateway's merchant webhook.
path=$notify_payment_path
post_signed "$path" "$(jq -cn --arg req "$run-NOTIFY-REQ" --arg pay "$run-NOTIFY-PAY" '{
  notifyType: "PAYMENT_RESULT",
  result: {resultCode: "SUCCESS", resultStatus: "S", resultMessage: "success."},
  paymentRequestId: $req, paymentId: $pay,
  paymentAmount: {currency: "JPY", value: "200"},
  paymentCreateTime: "2026-11-22T10:00:00+08:00", paymentTime: "2026-11-22T10:00:05+08:00"}')"
expect "notifyPayment: acknowledged S SUCCESS" \
  '.result.resultStatus == "S" and .result.resultCode == "SUCCESS"' \
  && signed_by_gateway notifyPayment "$path"

# A body other than the one signed is refused.
path=/ams/api/v1/risk/payments/sendPaymentResult
post_signed "$path" \
  "$(jq -cn --arg txn "$run-TXN2" '{referenceTransactionId: $txn, paymentStatus: "SUCCESS", paymentMethodProvider: "VISA"}')" \
  "$(jq -cn --arg txn "$run-TXN2" '{referenceTransactionId: $txn, paymentStatus: "FAIL", paymentMethodProvider: "VISA"}')"
expect "a tampered body: F INVALID_SIGNATURE" \
  '.result.resultStatus == "F" and .result.resultCode == "INVALID_SIGNATURE"' || true

echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
