"""The utility's electronic seal: its certificate, sealing a PDF, and checking a sealed one.

* The seal is a key and certificate in the utility's name. ``make_seal_certificate``
  makes a self-signed CA and a seal certificate issued by it (the demo and small
  utilities); production brings its own from a real CA through
  ``VOLTDESK_SEAL_KEY`` / ``VOLTDESK_SEAL_CERT`` (PEM), with the issuing chain in
  ``VOLTDESK_SEAL_CHAIN``. Otherwise the files live in ``VAR_DIR/seal``.
* ``seal_pdf`` adds a PAdES signature (pyHanko, SHA-256, subfilter
  ETSI.CAdES.detached): any PDF reader shows who sealed the file and when, and
  that it is unchanged since.
* ``check_seal`` answers what ``verify_invoice`` prints: intact (no byte changed,
  nothing appended), valid (the signature matches the certificate) and trusted
  (the certificate chains to the utility's own CA, or is the utility's own seal
  certificate). Anything else is refused with a reason the customer can act on.
"""

import datetime as dt
import io
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

KEY_ENV, CERT_ENV, CHAIN_ENV = "VOLTDESK_SEAL_KEY", "VOLTDESK_SEAL_CERT", "VOLTDESK_SEAL_CHAIN"
FIELD_NAME = "UtilitySeal"
INVOICE_KEY = "/VoltDeskInvoice"  # the invoice number, in the document information
CA_YEARS, SEAL_YEARS = 20, 5


class SealError(Exception):
    """The seal cannot be made or used; the message says what to do."""


@dataclass(frozen=True)
class SealPaths:
    key: Path
    cert: Path
    chain: Path | None  # the CA certificate(s): trust roots for checking


def seal_paths() -> SealPaths:
    """Where the seal's key, certificate and CA chain are (environment first)."""
    folder = Path(settings.VAR_DIR) / "seal"
    key = os.environ.get(KEY_ENV)
    cert = os.environ.get(CERT_ENV)
    chain = os.environ.get(CHAIN_ENV)
    if key or cert:
        if not (key and cert):
            raise SealError(
                _("Set both %(key)s and %(cert)s, or neither.") % {"key": KEY_ENV, "cert": CERT_ENV}
            )
        return SealPaths(Path(key), Path(cert), Path(chain) if chain else None)
    return SealPaths(folder / "seal-key.pem", folder / "seal-cert.pem", folder / "ca-cert.pem")


def seal_exists() -> bool:
    paths = seal_paths()
    return paths.key.exists() and paths.cert.exists()


# Making the certificate


def _name(common_name: str, organisation: str, country: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    parts = [
        x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
    ]
    if len(country) == 2:
        parts.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country.upper()))
    return x509.Name(parts)


def make_seal_certificate(
    utility_name: str, *, country: str = "", force: bool = False, paths: SealPaths | None = None
) -> SealPaths:
    """Make a CA and a seal certificate in the utility's name; refuse to overwrite unless forced.

    Invoices sealed with a replaced certificate stop validating against the new
    one: that is why overwriting needs ``force``.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

    paths = paths or seal_paths()
    if not force and (paths.key.exists() or paths.cert.exists()):
        raise SealError(
            _(
                "A seal certificate already exists at %(path)s. Invoices sealed with it would "
                "no longer validate against a new one; use --force to replace it anyway."
            )
            % {"path": paths.cert}
        )
    if not utility_name.strip():
        raise SealError(_("The utility has no name to put on its seal."))
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # a little slack for clock skew
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    # Certificate names stay in the utility's own spelling: they outlive any page language.
    ca_name = _name(f"{utility_name} seal CA", utility_name, country)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    seal_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{utility_name} electronic seal", utility_name, country))
        .issuer_name(ca_name)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * SEAL_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation: what a seal on a document means
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            # Adobe's "authentic documents" purpose and the generic e-mail/document one.
            x509.ExtendedKeyUsage(
                [ObjectIdentifier("1.2.840.113583.1.1.5"), ExtendedKeyUsageOID.EMAIL_PROTECTION]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(seal_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths.key.parent.mkdir(parents=True, exist_ok=True)
    paths.cert.parent.mkdir(parents=True, exist_ok=True)
    key_pem = seal_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # The key is readable by its owner only; write it before the certificate names it.
    fd = os.open(paths.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    os.chmod(paths.key, 0o600)
    paths.cert.write_bytes(seal_cert.public_bytes(serialization.Encoding.PEM))
    if paths.chain is not None:
        paths.chain.parent.mkdir(parents=True, exist_ok=True)
        paths.chain.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    _signer.cache_clear()
    _trust_roots.cache_clear()
    return paths


# Sealing


def _stamp(path: Path | None) -> tuple:
    if path is None or not path.exists():
        return (str(path), None)
    return (str(path), path.stat().st_mtime_ns)


def _cached_key_signer_class():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign import signers
    from pyhanko.sign.general import get_pyca_cryptography_hash

    class CachedKeySigner(signers.SimpleSigner):
        """pyHanko's signer, keeping the parsed RSA key: it re-parses (and re-checks)
        the key on every signature, twice per seal, which cost 0.3 s of a 0.4 s seal."""

        _pyca_key = None

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            if mechanism.signature_algo != "rsassa_pkcs1v15":
                return super().sign_raw(data, digest_algorithm)
            if self._pyca_key is None:
                self._pyca_key = serialization.load_der_private_key(
                    self.signing_key.dump(), password=None
                )
            return self._pyca_key.sign(
                data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)
            )

    return CachedKeySigner


@lru_cache(maxsize=4)
def _signer(key: tuple, cert: tuple, chain: tuple):
    from pyhanko.sign import signers

    chain_files = [chain[0]] if chain[1] is not None else None
    loaded = signers.SimpleSigner.load(key[0], cert[0], ca_chain_files=chain_files)
    signer = None
    if loaded is not None:
        signer = _cached_key_signer_class()(
            signing_cert=loaded.signing_cert,
            signing_key=loaded.signing_key,
            cert_registry=loaded.cert_registry,
        )
    if signer is None:
        raise SealError(
            _("The seal key or certificate cannot be read: %(path)s.") % {"path": key[0]}
        )
    return signer


def load_signer():
    """The utility's signer, loaded once per process (again when a file changes)."""
    paths = seal_paths()
    if not (paths.key.exists() and paths.cert.exists()):
        raise SealError(
            _("There is no seal certificate yet: run “voltdesk make_seal_certificate”.")
        )
    return _signer(_stamp(paths.key), _stamp(paths.cert), _stamp(paths.chain))


def seal_subject() -> str:
    """Who the seal names (the certificate's common name)."""
    return load_signer().signing_cert.subject.native.get("common_name", "")


def seal_pdf(
    pdf: bytes,
    *,
    reason: str = "",
    location: str = "",
    name: str = "",
    invoice_number: str = "",
) -> bytes:
    """``pdf`` with the utility's PAdES seal (an invisible signature field).

    ``invoice_number`` goes into the document information (``/VoltDeskInvoice``)
    inside the sealed revision, so ``check_seal`` can name the invoice it checked.
    """
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = load_signer()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if invoice_number:
        info = writer.trailer["/Info"]
        info[generic.NameObject(INVOICE_KEY)] = generic.TextStringObject(invoice_number)
        writer.update_container(info)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location=location or None,
        name=name or None,
        # A seal certifies the document: no later change is allowed by its author either.
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    out = signers.sign_pdf(writer, meta, signer=signer)
    return out.getvalue()


# Checking


class Verdict:
    VALID = "valid"
    NOT_PDF = "not_pdf"
    UNSIGNED = "unsigned"
    TAMPERED = "tampered"
    INVALID = "invalid"
    UNTRUSTED = "untrusted"


@dataclass(frozen=True)
class SealCheck:
    """What ``check_seal`` found; ``ok`` only when intact, valid and trusted."""

    verdict: str
    message: str
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    signer: str = ""
    signed_at: dt.datetime | None = None
    invoice_number: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == Verdict.VALID


@lru_cache(maxsize=4)
def _trust_roots(cert: tuple, chain: tuple) -> tuple:
    from pyhanko.keys import load_certs_from_pemder

    source = chain[0] if chain[1] is not None else cert[0]
    return tuple(load_certs_from_pemder([source]))


def trust_roots() -> tuple:
    """The certificates a seal must chain to: the utility's CA, else its seal certificate."""
    paths = seal_paths()
    if not paths.cert.exists():
        raise SealError(
            _("There is no seal certificate yet: run “voltdesk make_seal_certificate”.")
        )
    return _trust_roots(_stamp(paths.cert), _stamp(paths.chain))


def _invoice_number(reader) -> str:
    try:
        info = reader.trailer["/Info"].get_object()
    except KeyError:
        return ""
    return str(info.get(INVOICE_KEY) or "")


def check_seal(data: bytes) -> SealCheck:
    """Check a file's seal against the utility's certificate (see the module docstring)."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    roots = trust_roots()
    if data.lstrip()[:5] != b"%PDF-":
        return SealCheck(Verdict.NOT_PDF, _("This file is not a PDF."))
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        number = _invoice_number(reader)
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        return SealCheck(
            Verdict.NOT_PDF, _("This file cannot be read as a PDF (%(why)s).") % {"why": exc}
        )
    if not signatures:
        return SealCheck(
            Verdict.UNSIGNED,
            _(
                "This PDF carries no electronic seal: it is not one of our e-invoices, "
                "or its seal was removed."
            ),
            invoice_number=number,
        )
    context = ValidationContext(trust_roots=list(roots), allow_fetching=False)
    # pyHanko logs a traceback for a certificate it cannot chain: that is our "untrusted".
    logging.getLogger("pyhanko.sign.validation").setLevel(logging.ERROR)
    # The last signature must cover the whole file: anything appended after it is a change.
    signature = signatures[-1]
    try:
        status = validate_pdf_signature(signature, context)
    except Exception as exc:  # a mangled signature dictionary: pyHanko raises many kinds
        return SealCheck(
            Verdict.TAMPERED,
            _("The seal is damaged and cannot be checked (%(why)s): the file was changed.")
            % {"why": exc.__class__.__name__},
            invoice_number=number,
        )
    signer = status.signing_cert.subject.native.get("common_name", "") or ""
    found = {
        "intact": bool(status.intact),
        "valid": bool(status.valid),
        "trusted": bool(status.trusted),
        "signer": signer,
        "signed_at": status.signer_reported_dt,
        "invoice_number": number,
    }
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    if not status.intact or not whole:
        found["intact"] = False
        return SealCheck(
            Verdict.TAMPERED,
            _("The file was changed after it was sealed: do not rely on it."),
            **found,
        )
    if not status.valid:
        return SealCheck(
            Verdict.INVALID,
            _("The seal does not match its certificate: do not rely on it."),
            **found,
        )
    if not status.trusted:
        return SealCheck(
            Verdict.UNTRUSTED,
            _("The file is sealed, but not with the utility's certificate (sealed by %(signer)s).")
            % {"signer": signer or "?"},
            **found,
        )
    return SealCheck(Verdict.VALID, _("The seal is intact, valid and trusted."), **found)
