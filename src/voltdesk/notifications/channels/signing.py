"""HMAC-SHA256 signatures shared by the SMS gateway adapter, its simulator and the webhook."""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    # compare_digest: a timing side channel must not reveal the expected signature.
    return bool(signature) and hmac.compare_digest(sign(secret, body), signature)
