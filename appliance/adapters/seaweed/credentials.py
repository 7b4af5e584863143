"""The keys that let only the appliance talk to its ``weed``.

weed listens on loopback, which every process on the box can reach (a webhook
target, another local user), so loopback is not a boundary. Each install makes:

- a small private CA and, signed by it, a certificate for weed (server and
  weed-to-weed client, IP SAN 127.0.0.1) and one for the appliance (client). The
  CA's private key is thrown away once both are signed, so nobody can mint a
  third. weed requires a certificate of this CA on its gRPC ports and on the
  master's HTTP port (whose ``/dir/assign`` would hand anyone a write token);
- four random JWT signing keys (volume write and read, filer write and read):
  weed requires a token signed with them for every read and write on the volume
  and filer HTTP ports (``tokens.py``). Tokens instead of TLS there, because TLS
  on every byte costs a third more CPU per ingested byte (docs/blobstore.md).

``security.toml`` is written by ``WeedServer`` before each start. Everything
lives in ``<weed data dir>/security`` (mode 0700, files 0600) and is reused on
restart; a set that is incomplete or expires within 30 days is made anew. Keys
are read from their files when used and never logged.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from appliance.adapters.seaweed.tokens import JwtKeys

CA_CERT = "ca.crt"
WEED_CERT, WEED_KEY = "weed.crt", "weed.key"
CLIENT_CERT, CLIENT_KEY = "client.crt", "client.key"
JWT_KEYS = "jwt-keys.json"
CONFIG = "security.toml"
_FILES = (CA_CERT, WEED_CERT, WEED_KEY, CLIENT_CERT, CLIENT_KEY, JWT_KEYS)
# security.toml section → JwtKeys field
_JWT_SECTIONS = {
    "jwt.signing": "volume_write",
    "jwt.signing.read": "volume_read",
    "jwt.filer_signing": "filer_write",
    "jwt.filer_signing.read": "filer_read",
}
_VALID = dt.timedelta(days=3650)
_RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class WeedCredentials:
    """Paths of one install's CA, certificates and JWT keys (never their contents)."""

    dir: Path

    @property
    def ca(self) -> Path:
        return self.dir / CA_CERT

    @property
    def weed_cert(self) -> Path:
        return self.dir / WEED_CERT

    @property
    def weed_key(self) -> Path:
        return self.dir / WEED_KEY

    @property
    def client_cert(self) -> Path:
        return self.dir / CLIENT_CERT

    @property
    def client_key(self) -> Path:
        return self.dir / CLIENT_KEY

    @classmethod
    def ensure(cls, directory: Path) -> WeedCredentials:
        """The set in ``directory``, made there first if it is missing or about to
        expire."""
        creds = cls(Path(directory).absolute())
        if not creds.usable():
            creds._create()
        return creds

    def usable(self) -> bool:
        if not all((self.dir / name).is_file() for name in _FILES):
            return False
        try:
            certs = [x509.load_pem_x509_certificate(p.read_bytes()) for p in self._certs()]
            self.jwt_keys()
        except (OSError, ValueError, KeyError, TypeError):
            return False
        soon = dt.datetime.now(dt.UTC) + _RENEW_BEFORE
        return all(c.not_valid_after_utc > soon for c in certs)

    @property
    def config(self) -> Path:
        return self.dir / CONFIG

    def jwt_keys(self) -> JwtKeys:
        doc = json.loads((self.dir / JWT_KEYS).read_text())
        # weed signs with the key string's bytes, as written in security.toml
        return JwtKeys(**{f: str(doc[f]).encode() for f in _JWT_SECTIONS.values()})

    def write_config(self) -> Path:
        """weed's ``security.toml`` (read with ``weed -config_dir=<dir>``): mTLS on
        every gRPC port and on the master's HTTP port, JWTs for reads and writes
        on the volume and filer HTTP ports. weed's own components dial each other
        with the weed certificate and sign their own tokens."""
        cert, key, ca = _q(self.weed_cert), _q(self.weed_key), _q(self.ca)
        parts = [f"[grpc]\nca = {ca}\n"]
        for role in ("master", "volume", "filer", "client"):
            parts.append(f"[grpc.{role}]\ncert = {cert}\nkey = {key}\n")
        parts.append(f"[https.master]\ncert = {cert}\nkey = {key}\nca = {ca}\n")
        keys = self.jwt_keys()
        for section, field in _JWT_SECTIONS.items():
            value = _q(getattr(keys, field).decode())
            parts.append(f"[{section}]\nkey = {value}\nexpires_after_seconds = 60\n")
        text = "\n".join(parts)
        tmp = self.config.with_name(f".{CONFIG}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        _write_private(tmp, text.encode())
        os.replace(tmp, self.config)
        return self.config

    def _certs(self) -> tuple[Path, Path, Path]:
        return self.ca, self.weed_cert, self.client_cert

    def _create(self) -> None:
        """Write a fresh set beside the old one, then swap it in by renames."""
        parent = self.dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        tmp = parent / f".{self.dir.name}.{os.getpid()}.new"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(mode=0o700)
        for name, data in _make_set().items():
            _write_private(tmp / name, data)
        old = parent / f".{self.dir.name}.{os.getpid()}.old"
        if self.dir.exists():
            os.replace(self.dir, old)
        os.replace(tmp, self.dir)
        shutil.rmtree(old, ignore_errors=True)


def _make_set() -> dict[str, bytes]:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate small clock steps
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ahoy weed CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
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
        .sign(ca_key, hashes.SHA256())
    )
    out = {CA_CERT: ca.public_bytes(serialization.Encoding.PEM)}
    keys = {field: secrets.token_hex(32) for field in _JWT_SECTIONS.values()}
    out[JWT_KEYS] = json.dumps(keys).encode()
    # weed's components present their server certificate when they dial each
    # other over gRPC, so it is for both ends.
    both = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    for cert_name, key_name, cn, usages in (
        (WEED_CERT, WEED_KEY, "ahoy-weed", both),
        (CLIENT_CERT, CLIENT_KEY, "ahoy-appliance", [ExtendedKeyUsageOID.CLIENT_AUTH]),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        cert = (
            _builder(subject, ca_name, key.public_key(), now)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        out[cert_name] = cert.public_bytes(serialization.Encoding.PEM)
        out[key_name] = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return out  # the CA's key goes out of scope here: no third certificate can be signed


def _builder(
    subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey, now: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALID)
    )


def _q(value: object) -> str:
    """A TOML basic string (its escapes are JSON's)."""
    return json.dumps(str(value))


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
