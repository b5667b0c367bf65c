"""schemathesis hooks for alipay-gateway: sign every generated request the way the SDKs do, so the
fuzzing gets past the signature check and into the validators and handlers.

Loaded through SCHEMATHESIS_HOOKS by scripts/schemathesis.sh. Environment:
  GATEWAY_CLIENT_ID     a client registered in the gateway (dev: SANDBOX_DEV_MERCHANT)
  GATEWAY_CLIENT_KEY    that client's private key, PEM (dev: config/dev-keys/DEV-ONLY-merchant-private.pem)
  GATEWAY_ADMIN_TOKEN   the admin bearer token, sent on /admin calls (empty: none is sent)
  GATEWAY_PUBLIC_KEY    optional: the gateway's public key, PEM; with it the `signed_answer` check
                        verifies every signed answer

A request is signed over `POST <path>\\n<client-id>.<request-time>.<body>` (RSA-SHA256, PKCS#1
v1.5) with the exact bytes sent: the hook serialises the generated body itself and hands those
bytes to the transport, so nothing re-serialises them after signing.
"""

import base64
import json
import os
import time
from urllib.parse import quote, unquote

import schemathesis
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from schemathesis.core import NotSet

CLIENT_ID = os.environ["GATEWAY_CLIENT_ID"]
ADMIN_TOKEN = os.environ.get("GATEWAY_ADMIN_TOKEN", "")


def _load(path, loader):
    with open(path, "rb") as f:
        return loader(f.read())


CLIENT_KEY = _load(
    os.environ["GATEWAY_CLIENT_KEY"],
    lambda pem: serialization.load_pem_private_key(pem, password=None),
)
GATEWAY_KEY = (
    _load(os.environ["GATEWAY_PUBLIC_KEY"], serialization.load_pem_public_key)
    if os.environ.get("GATEWAY_PUBLIC_KEY")
    else None
)


def _content(path, client_id, time_text, body):
    return f"POST {path}\n{client_id}.{time_text}.".encode() + body


def _body_bytes(case):
    """The exact bytes to send, or None when the case has no body."""
    body = case.body
    if isinstance(body, NotSet):
        return None
    if isinstance(body, bytes):
        return body
    # Non-ASCII goes as UTF-8, the way the SDKs send it; a lone surrogate the generator may
    # produce goes as the invalid bytes it is (the gateway must refuse them, not fail).
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.formatted_path
    if case.headers is None:
        case.headers = {}
    if path.startswith("/admin"):
        if ADMIN_TOKEN:
            case.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        return
    if case.method.upper() != "POST":
        return
    body = _body_bytes(case)
    if body is not None:
        kwargs["data"] = body
    request_time = str(int(time.time() * 1000))
    signature = CLIENT_KEY.sign(
        _content(path, CLIENT_ID, request_time, body or b""),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    encoded = quote(base64.b64encode(signature).decode(), safe="")
    case.headers["Client-Id"] = CLIENT_ID
    case.headers["Request-Time"] = request_time
    case.headers["Signature"] = f"algorithm=RSA256,keyVersion=1,signature={encoded}"


if GATEWAY_KEY is not None:

    @schemathesis.check
    def signed_answer(ctx, response, case):
        """A signed answer verifies with the gateway's public key over the exact bytes."""
        if case.formatted_path.startswith("/admin"):
            return None
        header = (response.headers.get("signature") or [""])[0]
        value = unquote(header.split("signature=", 1)[-1]) if header else ""
        if not value:
            return None  # deliberately unsigned: INVALID_SIGNATURE, INVALID_CLIENT, KEY_NOT_FOUND
        time_text = (response.headers.get("response-time") or [""])[0]
        client_id = (response.headers.get("client-id") or [""])[0]
        # The gateway signs every answer as to a POST, the only method the APIs take.
        content = _content(case.formatted_path, client_id, time_text, response.content)
        try:
            GATEWAY_KEY.verify(base64.b64decode(value), content, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError) as e:
            raise AssertionError(f"the answer's signature does not verify ({e!r}): {header}")
        return None
