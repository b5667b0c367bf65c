#!/usr/bin/env python3
"""Drive a running alipay-gateway with the official, unmodified Python SDK.

SDK: global-open-sdk-python 1.7.1 (import root com.alipay.ams.api), see requirements.txt.
Only the SDK's public pieces are used: DefaultAlipayClient, AlipayRequest (the request base
class), signature_tool and webhook_tool. Nothing in the SDK is monkeypatched.

Environment:
  GATEWAY_URL          e.g. http://127.0.0.1:8080 (or https://host when the gateway itself
                       serves TLS on port 443 and SSL_CERT_FILE trusts its certificate)
  SDK_CLIENT_ID        client id registered in the gateway
  SDK_PRIVATE_KEY      that client's private key, base64 PKCS#8 DER, one line
  GATEWAY_PUBLIC_KEY   the gateway's response-signing public key, base64 SPKI DER, one line
  SDK_TLS_SHIM_HOST    optional loopback address for the TLS shim (default 127.0.0.1)
  GATEWAY_ADMIN_TOKEN  optional: the admin token; with it, a payment result notification the
                       gateway sends is checked with the SDK's webhook_tool.check_signature
  GATEWAY_NAMESPACE    optional: the namespace SDK_CLIENT_ID was registered in at run time; the
                       admin calls name it (Gateway-Namespace), and GATEWAY_ADMIN_TOKEN may be
                       its own token

Why a TLS shim: the SDK's transport (com/alipay/ams/api/net/default_http_rpc.py, __get_http_connection)
always opens http.client.HTTPSConnection(hostname, port=443, context=ssl.create_default_context()),
ignoring the scheme and port of the gateway URL.  So for an http://host:port gateway this script
starts a byte-for-byte TLS->TCP forwarder on <SDK_TLS_SHIM_HOST>:443 with a throw-away CA that is
trusted through SSL_CERT_FILE (read by OpenSSL when the SDK builds its default SSL context), and
hands the SDK "https://<SDK_TLS_SHIM_HOST>".  Binding port 443 needs root/CAP_NET_BIND_SERVICE.
The forwarder does not touch the HTTP bytes: the gateway sees exactly what the SDK sent, including
the absolute-form request target ("POST https://127.0.0.1/aps/api/... HTTP/1.1").

Output: one line per check, "ok - <what>" or "FAIL - <what>: <detail>", then "N passed, M failed";
exit code 0 only when nothing failed.
"""

import base64
import datetime
import ipaddress
import json
import os
import select
import socket
import ssl
import sys
import tempfile
import threading
import uuid
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from com.alipay.ams.api._version import VERSION as SDK_VERSION
from com.alipay.ams.api.default_alipay_client import DefaultAlipayClient
from com.alipay.ams.api.request.alipay_request import AlipayRequest
from com.alipay.ams.api.tools import signature_tool, webhook_tool

PASSED = 0
FAILED = 0


def report(ok, what, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print("ok - " + what, flush=True)
    else:
        FAILED += 1
        print("FAIL - " + what + ": " + detail, flush=True)


def check(what, fn):
    """Run fn(); an AssertionError or any exception (e.g. AlipayApiException) is a FAIL."""
    try:
        fn()
    except AssertionError as e:
        report(False, what, str(e))
        return False
    except Exception as e:  # noqa: BLE001 - every SDK error is a test failure
        report(False, what, "%s: %s" % (type(e).__name__, e))
        return False
    report(True, what)
    return True


def uid(prefix):
    return prefix + uuid.uuid4().hex[:24]


class JsonRequest(AlipayRequest):
    """Minimal request: the SDK has no classes for the Alipay+ (/aps) APIs, so use its base class.

    DefaultAlipayClient.execute() needs exactly: .path, .http_method, .key_version (all from
    AlipayRequest) and .to_ams_json() (the exact body string that is signed and sent).
    indent=3 mimics the SDK's own request classes (json.dumps(..., indent=3): multi-line bodies).
    """

    def __init__(self, path, body, indent=None):
        super(JsonRequest, self).__init__(path)
        self._body = body
        self._indent = indent

    def to_ams_json(self):
        if self._indent is None:
            return json.dumps(self._body, separators=(",", ":"))
        return json.dumps(self._body, indent=self._indent)


def call(client, request):
    """execute() returns the response body (str) after the SDK verified the response; parse it."""
    rsp = json.loads(client.execute(request))
    assert isinstance(rsp, dict) and isinstance(rsp.get("result"), dict), "no result in %r" % (rsp,)
    return rsp


def expect_result(rsp, status, code=None):
    r = rsp["result"]
    assert r.get("resultStatus") == status, "result.resultStatus=%r, want %r (%s)" % (
        r.get("resultStatus"), status, json.dumps(rsp))
    if code is not None:
        assert r.get("resultCode") == code, "result.resultCode=%r, want %r (%s)" % (
            r.get("resultCode"), code, json.dumps(rsp))


# --------------------------------------------------------------------------- TLS shim


def _make_tls_material(host, directory):
    def key():
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, leaf_key = key(), key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "python_sdk_check throw-away CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    try:
        san = [x509.IPAddress(ipaddress.ip_address(host))]
    except ValueError:
        san = [x509.DNSName(host)]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name).public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = os.path.join(directory, "ca.pem")
    cert_path = os.path.join(directory, "leaf.pem")
    key_path = os.path.join(directory, "leaf.key")
    with open(ca_path, "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(cert_path, "wb") as f:
        f.write(leaf.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return ca_path, cert_path, key_path


class TlsShim(object):
    """Accept TLS on host:443 and copy bytes unchanged to the gateway's plain TCP (or TLS) port."""

    def __init__(self, host, upstream_host, upstream_port, upstream_tls):
        self.upstream = (upstream_host, upstream_port)
        self.upstream_tls = upstream_tls
        self.tmp = tempfile.mkdtemp(prefix="python_sdk_check_")
        ca_path, cert_path, key_path = _make_tls_material(host, self.tmp)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert_path, key_path)
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 443))
        self.sock.listen(16)
        # The SDK calls ssl.create_default_context() per request; OpenSSL reads SSL_CERT_FILE then.
        os.environ["SSL_CERT_FILE"] = ca_path
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        client = upstream = None
        try:
            conn.settimeout(30)
            client = self.ctx.wrap_socket(conn, server_side=True)
            upstream = socket.create_connection(self.upstream, timeout=30)
            if self.upstream_tls:
                uctx = ssl.create_default_context()
                uctx.check_hostname = False
                uctx.verify_mode = ssl.CERT_NONE
                upstream = uctx.wrap_socket(upstream, server_hostname=self.upstream[0])
            peers = {client: upstream, upstream: client}
            while True:
                ready = [s for s in (client, upstream) if isinstance(s, ssl.SSLSocket) and s.pending()]
                if not ready:
                    ready, _, _ = select.select([client, upstream], [], [], 30)
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    peers[s].sendall(data)
        except (OSError, ssl.SSLError):
            return
        finally:
            for s in (client, upstream, conn):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass


def sdk_gateway_url(gateway_url):
    u = urlsplit(gateway_url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError("GATEWAY_URL must be http(s)://host[:port], got %r" % gateway_url)
    if u.scheme == "https" and (u.port in (None, 443)):
        return "https://" + u.netloc.rstrip("/"), None  # the SDK can talk to it directly
    shim_host = os.environ.get("SDK_TLS_SHIM_HOST", "127.0.0.1")
    port = u.port or (443 if u.scheme == "https" else 80)
    shim = TlsShim(shim_host, u.hostname, port, u.scheme == "https")
    host = "[%s]" % shim_host if ":" in shim_host else shim_host
    return "https://" + host, shim


# --------------------------------------------------------------------------- checks


def main():
    missing = [n for n in ("GATEWAY_URL", "SDK_CLIENT_ID", "SDK_PRIVATE_KEY", "GATEWAY_PUBLIC_KEY")
               if not os.environ.get(n)]
    if missing:
        report(False, "configuration", "missing environment variable(s): " + ", ".join(missing))
        return finish()
    gateway_url = os.environ["GATEWAY_URL"].rstrip("/")
    client_id = os.environ["SDK_CLIENT_ID"]
    private_key = os.environ["SDK_PRIVATE_KEY"].strip()
    gateway_public_key = os.environ["GATEWAY_PUBLIC_KEY"].strip()
    print("# global-open-sdk-python %s against %s as client %s" % (SDK_VERSION, gateway_url, client_id), flush=True)

    # 0. local pre-flight: keys load, and the SDK's signer and webhook verifier agree on them.
    def keys_roundtrip():
        priv = serialization.load_der_private_key(base64.b64decode(private_key), None)
        serialization.load_der_public_key(base64.b64decode(gateway_public_key))
        own_pub = base64.b64encode(priv.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
        t, body = "2026-01-01T00:00:00+00:00", '{"selfCheck":"1"}'
        sig = signature_tool.sign("POST", "/self/check", client_id, t, body, private_key)
        header = "algorithm=RSA256,keyVersion=1,signature=" + sig
        assert webhook_tool.check_signature("POST", "/self/check", client_id, t, body, header, own_pub), \
            "webhook_tool.check_signature rejected signature_tool.sign output"

    if not check("keys load; SDK signature_tool.sign verifies with webhook_tool.check_signature", keys_roundtrip):
        return finish()

    try:
        url, _shim = sdk_gateway_url(gateway_url)
    except Exception as e:  # noqa: BLE001
        report(False, "set up TLS shim for the SDK (it always uses https on port 443)", "%s: %s" % (type(e).__name__, e))
        return finish()
    if _shim is not None:
        print("# SDK talks to %s (TLS shim on port 443 -> %s)" % (url, gateway_url), flush=True)

    client = DefaultAlipayClient(url, client_id, private_key, gateway_public_key)

    payment_request_id = uid("PRQ")
    payment_id = uid("PAY")

    # 1. notifyPushPayment (ACQP -> Alipay+), signed response verified by the SDK.
    def notify_push():
        rsp = call(client, JsonRequest("/aps/api/v1/payments/notifyPushPayment", {
            "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "paymentId": payment_id,
            "paymentRequestId": payment_request_id,
            "paymentTime": "2026-01-01T12:01:01+08:00",
        }))
        expect_result(rsp, "S")

    check("notifyPushPayment accepted (result S, response signature verified by SDK)", notify_push)

    # 2. inquiryPayment for the pushed payment.
    def inquiry_known():
        rsp = call(client, JsonRequest("/aps/api/v1/payments/inquiryPayment", {
            "acquirerId": "ACQ1", "pspId": "PSP1", "paymentRequestId": payment_request_id}))
        expect_result(rsp, "S")
        pr = rsp.get("paymentResult") or {}
        assert pr.get("resultStatus") == "S", "paymentResult.resultStatus=%r (%s)" % (pr.get("resultStatus"), json.dumps(rsp))
        assert rsp.get("paymentId") == payment_id, "paymentId=%r, want %r" % (rsp.get("paymentId"), payment_id)

    check("inquiryPayment of the pushed payment: result S, paymentResult S, same paymentId", inquiry_known)

    # 3. inquiryPayment for an unknown id: signed F / ORDER_NOT_EXIST.
    def inquiry_unknown():
        rsp = call(client, JsonRequest("/aps/api/v1/payments/inquiryPayment", {
            "acquirerId": "ACQ1", "pspId": "PSP1", "paymentRequestId": uid("UNKNOWN")}))
        expect_result(rsp, "F", "ORDER_NOT_EXIST")

    check("inquiryPayment of an unknown paymentRequestId: result F / ORDER_NOT_EXIST", inquiry_unknown)

    # 4. sendPaymentResult (merchant -> Antom). The SDK ships
    # com.alipay.ams.api.request.risks.send_payment_result_request.SendPaymentResultRequest, but in
    # 1.7.1 it is broken: its __init__ calls super(AlipayRequest, self).__init__(path), i.e.
    # object.__init__(path) -> TypeError, and the module never imports json, so to_ams_json() would
    # raise NameError too. Use it if it works (a fixed SDK); otherwise fall back to a minimal
    # AlipayRequest subclass with the same path and the same indent=3 JSON the SDK class would emit.
    # With a SANDBOX_ client id the SDK rewrites /ams/api to /ams/sandbox/api (gateway accepts both).
    spr = {"referenceTransactionId": uid("REF"), "paymentStatus": "SUCCESS", "paymentMethodProvider": "VISA"}

    def build_send_payment_result():
        try:
            from com.alipay.ams.api.request.risks.send_payment_result_request import SendPaymentResultRequest
            req = SendPaymentResultRequest()
            req.reference_transaction_id = spr["referenceTransactionId"]
            req.payment_status = spr["paymentStatus"]
            req.payment_method_provider = spr["paymentMethodProvider"]
            req.to_ams_json()
            return req, "SDK SendPaymentResultRequest"
        except Exception as e:  # noqa: BLE001
            print("# note: SDK SendPaymentResultRequest unusable (%s: %s); using AlipayRequest subclass"
                  % (type(e).__name__, e), flush=True)
            return JsonRequest("/ams/api/v1/risk/payments/sendPaymentResult", spr, indent=3), "AlipayRequest subclass"

    req, how = build_send_payment_result()

    def send_payment_result():
        expect_result(call(client, req), "S")

    check("sendPaymentResult accepted (result S; %s, multi-line JSON body)" % how, send_payment_result)

    # 5. wrong private key: the gateway must refuse with F / INVALID_SIGNATURE and the SDK must accept
    # that answer without raising. 1.7.1 (DefaultAlipayClient.__assert_response_verified) accepts a
    # response with an empty signature value AND an empty response-time only when result.resultStatus
    # is F or U; but __parse_header still requires the three lower-case headers `signature` (with a
    # "signature=" part), `response-time` and `client-id` to be present, else it raises
    # "response header exception，signature not exist." A normally signed F answer is accepted too.
    def wrong_key():
        bad = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        bad_b64 = base64.b64encode(bad.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption())).decode()
        bad_client = DefaultAlipayClient(url, client_id, bad_b64, gateway_public_key)
        rsp = call(bad_client, JsonRequest("/aps/api/v1/payments/inquiryPayment", {
            "acquirerId": "ACQ1", "pspId": "PSP1", "paymentRequestId": payment_request_id}))
        expect_result(rsp, "F", "INVALID_SIGNATURE")

    check("request signed with a wrong private key: F / INVALID_SIGNATURE, answer accepted by the SDK", wrong_key)

    # 6. A payment result notification the gateway sends: the SDK's own webhook check accepts it.
    admin_token = os.environ.get("GATEWAY_ADMIN_TOKEN")
    if admin_token:
        check("payment result notification: signature accepted by webhook_tool.check_signature",
              lambda: notification_check(gateway_url, admin_token, client_id, gateway_public_key))

    return finish()


def notification_check(gateway_url, admin_token, client_id, gateway_public_key):
    import http.server
    import urllib.request

    got = {}
    arrived = threading.Event()

    class Merchant(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got.update(path=self.path, headers=dict(self.headers.items()), body=body.decode("utf-8"))
            answer = b'{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            arrived.set()

        def log_message(self, *args):
            pass

    merchant = http.server.HTTPServer(("127.0.0.1", 0), Merchant)
    threading.Thread(target=merchant.serve_forever, daemon=True).start()
    notify_url = "http://127.0.0.1:%d/alipay/notify" % merchant.server_address[1]

    def admin(path, body):
        headers = {"Authorization": "Bearer " + admin_token, "Content-Type": "application/json"}
        if os.environ.get("GATEWAY_NAMESPACE"):
            headers["Gateway-Namespace"] = os.environ["GATEWAY_NAMESPACE"]
        req = urllib.request.Request(gateway_url + path, data=json.dumps(body).encode(), method="POST",
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=10) as rsp:
            return json.load(rsp)

    request_id = uid("NTF")
    admin("/admin/payments", {"paymentRequestId": request_id, "clientId": client_id, "notifyUrl": notify_url,
                              "paymentAmount": {"currency": "USD", "value": "1000"}})
    admin("/admin/payments/%s/complete" % request_id, {})
    try:
        assert arrived.wait(10), "no notification arrived within 10 s"
    finally:
        merchant.shutdown()
    headers = {k.lower(): v for k, v in got["headers"].items()}
    assert got["path"] == "/alipay/notify", got["path"]
    assert headers.get("client-id") == client_id, headers.get("client-id")
    ok = webhook_tool.check_signature("POST", got["path"], headers["client-id"], headers["request-time"],
                                      got["body"], headers["signature"], gateway_public_key)
    assert ok, "webhook_tool.check_signature rejected the notification (headers %r)" % headers
    body = json.loads(got["body"])
    assert body["notifyType"] == "PAYMENT_RESULT" and body["paymentRequestId"] == request_id, got["body"]


def finish():
    print("%d passed, %d failed" % (PASSED, FAILED), flush=True)
    return 0 if FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
