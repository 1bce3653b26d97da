"""Sign the peer delivery fixtures: `python tests/data/make_fixtures.py`.

Each fixture is one inbox delivery shaped as that server sends it: header names, case and
order, the signed header list or covered components, the signature parameters and the
body layout, written from each project's public source (see README.md). The real servers'
private keys are unknown, so every fixture actor has a key pair under fixture_keys/ and
the fixture is signed with it here. Bodies (`*.body.json`, raw bytes) and actor documents
are written by hand; this script fills in the actors' keys, writes each delivery's
headers and request line, and adds Fedify's eddsa-jcs-2022 proof to its note.

The signing below is deliberately written from scratch with `cryptography`, following
each server's code path, and never calls `federation/`: the fixtures must be an
independent check of our verifier, not a mirror of our signer. RSA PKCS#1 v1.5 and
Ed25519 are deterministic, so re-running this script reproduces the same files.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import json
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

DATA = Path(__file__).parent
KEYS = DATA / "fixture_keys"
HUB_HOST = "hub.example.org"
HUB_ACTOR = f"https://{HUB_HOST}/actors/riverside"
INBOX = f"{HUB_ACTOR}/inbox"
SHARED_INBOX = f"https://{HUB_HOST}/inbox"


def key(name: str, kind: str = "rsa") -> Any:
    """The fixture key `fixture_keys/<name>.pem`, created on first use."""
    path = KEYS / f"{name}.pem"
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    private = rsa.generate_private_key(65537, 2048) if kind == "rsa" else (
        ed25519.Ed25519PrivateKey.generate())
    KEYS.mkdir(exist_ok=True)
    path.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return private


def public_pem(private: Any) -> str:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def rsa_sign_b64(private: Any, text: str) -> str:
    signed = private.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signed).decode()


def sha256_b64(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def timestamp(text: str) -> int:
    """'2026-11-20 09:30:00' (UTC) as a Unix time."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


def http_date(ts: int) -> str:
    return formatdate(ts, usegmt=True)


def cavage_string(lines: list[tuple[str, str]]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in lines)


def write(name: str, *, url: str, sent: int, headers: dict[str, str], body_file: str,
          actor: str, key_id: str, scheme: str, source: str) -> None:
    (DATA / f"{name}.headers.json").write_text(json.dumps(headers, indent=2) + "\n")
    request = {"method": "POST", "url": url, "received_at": sent + 1, "body": body_file,
               "actor": actor, "key_id": key_id, "scheme": scheme, "source": source}
    (DATA / f"{name}.request.json").write_text(json.dumps(request, indent=2) + "\n")


def patch_actor(name: str, keys: dict[str, tuple[str, str]]) -> None:
    """Put each key's PEM and Multikey into the hand-written actor document, by key id."""
    document = json.loads((DATA / name).read_text())
    for field, value_field, index in (("publicKey", "publicKeyPem", 0),
                                      ("assertionMethod", "publicKeyMultibase", 1)):
        entries = document.get(field, [])
        for entry in entries if isinstance(entries, list) else [entries]:
            entry[value_field] = keys[entry["id"]][index]
    (DATA / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def base58(data: bytes) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, rem = divmod(number, 58)
        out = alphabet[rem] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def multikey(public: Any) -> str:
    """FEP-521a publicKeyMultibase: ed25519-pub 0xed01 + raw, rsa-pub 0x8524 + PKCS#1 DER."""
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return "z" + base58(b"\xed\x01" + raw)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return "z" + base58(b"\x85\x24" + der)


def key_entry(private: Any) -> tuple[str, str]:
    return public_pem(private), multikey(private.public_key())


def jcs(value: Any) -> bytes:
    # RFC 8785 for these ASCII-keyed, integer-free documents is sorted compact JSON.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fedify_body(ed_key: Any, created: str) -> bytes:
    """The unsecured note plus an eddsa-jcs-2022 DataIntegrityProof, as Fedify attaches to
    activities when the actor has an Ed25519 key (packages/fedify/src/sig/proof.ts)."""
    document = json.loads((DATA / "fedify_create_note.unsecured.json").read_text())
    proof = {"@context": document["@context"], "type": "DataIntegrityProof",
             "cryptosuite": "eddsa-jcs-2022", "verificationMethod": f"{FEDIFY_ACTOR}#key-2",
             "proofPurpose": "assertionMethod", "created": created}
    digest = hashlib.sha256(jcs(proof)).digest() + hashlib.sha256(jcs(document)).digest()
    del proof["@context"]
    proof["proofValue"] = "z" + base58(ed_key.sign(digest))
    document["proof"] = proof
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


# --- Mastodon: app/lib/request.rb (headers, signature) and the delivery worker ----------

MASTODON_ACTOR = "https://mastodon.example/users/alice"
MASTODON_KEY_ID = f"{MASTODON_ACTOR}#main-key"
MASTODON_SOURCE = "mastodon app/lib/request.rb, app/workers/activitypub/delivery_worker.rb"


def mastodon_delivery(name: str, url: str, when: str) -> None:
    """Request#set_common_headers! then set_digest!, then the worker's Content-Type; every
    header but User-Agent and Accept-Encoding is signed, in insertion order."""
    private, sent = key("mastodon_alice"), timestamp(when)
    body = (DATA / f"{name}.body.json").read_bytes()
    path = url.split(HUB_HOST, 1)[1]
    signed = [("(request-target)", f"post {path}"), ("host", HUB_HOST),
              ("date", http_date(sent)), ("digest", f"SHA-256={sha256_b64(body)}"),
              ("content-type", "application/activity+json")]
    signature = (f'keyId="{MASTODON_KEY_ID}",algorithm="rsa-sha256",'
                 f'headers="{" ".join(n for n, _ in signed)}",'
                 f'signature="{rsa_sign_b64(private, cavage_string(signed))}"')
    headers = {"User-Agent": "http.rb/5.2.0 (Mastodon/4.3.2; +https://mastodon.example/)",
               "Host": HUB_HOST, "Date": http_date(sent), "Accept-Encoding": "gzip",
               "Digest": signed[3][1], "Content-Type": "application/activity+json",
               "Signature": signature, "Content-Length": str(len(body))}
    write(name, url=url, sent=sent, headers=headers, body_file=f"{name}.body.json",
          actor="mastodon_actor.json",
          key_id=MASTODON_KEY_ID, scheme="draft-cavage", source=MASTODON_SOURCE)


# --- GoToSocial: internal/transport (go-fed/httpsig signer, Go's net/http writer) ------

GTS_ACTOR = "https://gts.example/users/bob"
GTS_KEY_ID = f"{GTS_ACTOR}/main-key"
GTS_SOURCE = "gotosocial internal/transport/signing.go, deliver.go; go-fed/httpsig signing.go"
GTS_CONTENT_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def gotosocial_delivery(name: str, url: str, when: str) -> None:
    """httpsig.NewSigner(RSA_SHA256, DigestSha256, (request-target) host date digest):
    the header always says algorithm="hs2019"; Go writes Host, User-Agent and
    Content-Length first, then the other headers sorted, then Accept-Encoding."""
    private, sent = key("gotosocial_bob"), timestamp(when)
    body = (DATA / f"{name}.body.json").read_bytes()
    path = url.split(HUB_HOST, 1)[1]
    signed = [("(request-target)", f"post {path}"), ("host", HUB_HOST),
              ("date", http_date(sent)), ("digest", f"SHA-256={sha256_b64(body)}")]
    signature = (f'keyId="{GTS_KEY_ID}",algorithm="hs2019",'
                 f'headers="{" ".join(n for n, _ in signed)}",'
                 f'signature="{rsa_sign_b64(private, cavage_string(signed))}"')
    headers = {"Host": HUB_HOST, "User-Agent": "gotosocial/0.17.3 (+https://gts.example)",
               "Content-Length": str(len(body)), "Accept-Charset": "utf-8",
               "Content-Type": GTS_CONTENT_TYPE, "Date": http_date(sent),
               "Digest": signed[3][1], "Signature": signature, "Accept-Encoding": "gzip"}
    write(name, url=url, sent=sent, headers=headers, body_file=f"{name}.body.json",
          actor="gotosocial_actor.json",
          key_id=GTS_KEY_ID, scheme="draft-cavage", source=GTS_SOURCE)


# --- Misskey: packages/backend/src/core/activitypub/ApRequestService.ts ----------------

MISSKEY_ACTOR = "https://misskey.example/users/9z8y7x6w5v"
MISSKEY_KEY_ID = f"{MISSKEY_ACTOR}#main-key"
MISSKEY_SOURCE = "misskey packages/backend/src/core/activitypub/ApRequestService.ts"


def misskey_delivery(name: str, url: str, when: str) -> None:
    """createSignedPost: Date, Host, Content-Type, User-Agent, Digest; signed as
    `(request-target) date host digest` (date before host), algorithm rsa-sha256."""
    private, sent = key("misskey_9z8y7x6w5v"), timestamp(when)
    body = (DATA / f"{name}.body.json").read_bytes()
    path = url.split(HUB_HOST, 1)[1]
    signed = [("(request-target)", f"post {path}"), ("date", http_date(sent)),
              ("host", HUB_HOST), ("digest", f"SHA-256={sha256_b64(body)}")]
    signature = (f'keyId="{MISSKEY_KEY_ID}",algorithm="rsa-sha256",'
                 f'headers="{" ".join(n for n, _ in signed)}",'
                 f'signature="{rsa_sign_b64(private, cavage_string(signed))}"')
    headers = {"Date": http_date(sent), "Host": HUB_HOST,
               "Content-Type": "application/activity+json",
               "User-Agent": "Misskey/2025.4.1 (https://misskey.example)",
               "Digest": signed[3][1], "Signature": signature,
               "Content-Length": str(len(body))}
    write(name, url=url, sent=sent, headers=headers, body_file=f"{name}.body.json",
          actor="misskey_actor.json",
          key_id=MISSKEY_KEY_ID, scheme="draft-cavage", source=MISSKEY_SOURCE)


# --- Fedify: packages/fedify/src/sig/http.ts (signRequestRfc9421, signRequestDraft) ----

FEDIFY_ACTOR = "https://fedify.example/users/carol"
FEDIFY_KEY_ID = f"{FEDIFY_ACTOR}#main-key"
FEDIFY_SOURCE = "fedify packages/fedify/src/sig/http.ts, federation/send.ts"
# What Node's fetch (undici) adds to every request; unsigned, sent after the Request's own.
UNDICI = {"accept": "*/*", "accept-language": "*", "sec-fetch-mode": "cors",
          "user-agent": "node", "accept-encoding": "gzip, deflate"}


def fedify_rfc9421(name: str, when: str, body_file: str) -> None:
    """components @method @target-uri @authority host date content-digest; params
    alg;keyid;created; label sig1. Fetch sends the Request's headers sorted, lowercase."""
    private, sent = key("fedify_carol_rsa"), timestamp(when)
    body = (DATA / body_file).read_bytes()
    digest = f"sha-256=:{sha256_b64(body)}:"
    components = ["@method", "@target-uri", "@authority", "host", "date", "content-digest"]
    params = f'alg="rsa-v1_5-sha256";keyid="{FEDIFY_KEY_ID}";created={sent}'
    values = ["POST", SHARED_INBOX, HUB_HOST, HUB_HOST, http_date(sent), digest]
    inner = "(" + " ".join(f'"{c}"' for c in components) + ")"
    base = "\n".join(f'"{c}": {v}' for c, v in zip(components, values, strict=True))
    base += f'\n"@signature-params": {inner};{params}'
    headers = {"content-digest": digest, "content-type": "application/activity+json",
               "date": http_date(sent), "host": HUB_HOST,
               "signature": f"sig1=:{rsa_sign_b64(private, base)}:",
               "signature-input": f"sig1={inner};{params}", **UNDICI,
               "content-length": str(len(body))}
    write(name, url=SHARED_INBOX, sent=sent, headers=headers, body_file=body_file,
          actor="fedify_actor.json", key_id=FEDIFY_KEY_ID, scheme="rfc9421",
          source=FEDIFY_SOURCE)


def fedify_cavage(name: str, when: str, body_file: str) -> None:
    """The double-knock retry after a 401: signRequestDraft signs (request-target), path
    only, then every header of the Request in Fetch's sorted order."""
    private, sent = key("fedify_carol_rsa"), timestamp(when)
    body = (DATA / body_file).read_bytes()
    headers = {"content-type": "application/activity+json", "date": http_date(sent),
               "digest": f"SHA-256={sha256_b64(body)}", "host": HUB_HOST}
    signed = [("(request-target)", "post /inbox"), *headers.items()]
    headers["signature"] = (f'keyId="{FEDIFY_KEY_ID}",algorithm="rsa-sha256",'
                            f'headers="{" ".join(n for n, _ in signed)}",'
                            f'signature="{rsa_sign_b64(private, cavage_string(signed))}"')
    headers.update(UNDICI, **{"content-length": str(len(body))})
    write(name, url=SHARED_INBOX, sent=sent, headers=headers, body_file=body_file,
          actor="fedify_actor.json", key_id=FEDIFY_KEY_ID, scheme="draft-cavage",
          source=FEDIFY_SOURCE)


def main() -> None:
    alice, bob, hana = key("mastodon_alice"), key("gotosocial_bob"), key("misskey_9z8y7x6w5v")
    carol_rsa, carol_ed = key("fedify_carol_rsa"), key("fedify_carol_ed25519", "ed25519")
    patch_actor("mastodon_actor.json", {MASTODON_KEY_ID: key_entry(alice)})
    patch_actor("gotosocial_actor.json", {GTS_KEY_ID: key_entry(bob)})
    patch_actor("misskey_actor.json", {MISSKEY_KEY_ID: key_entry(hana)})
    patch_actor("fedify_actor.json", {FEDIFY_KEY_ID: key_entry(carol_rsa),
                                      f"{FEDIFY_ACTOR}#key-2": key_entry(carol_ed)})
    mastodon_delivery("mastodon_create_note", SHARED_INBOX, "2026-11-20 09:30:00")
    mastodon_delivery("mastodon_follow", INBOX, "2026-11-20 09:31:12")
    mastodon_delivery("mastodon_delete", SHARED_INBOX, "2026-11-20 10:02:45")
    gotosocial_delivery("gotosocial_follow", INBOX, "2026-11-21 14:05:09")
    gotosocial_delivery("gotosocial_create_note", SHARED_INBOX, "2026-11-21 14:07:30")
    misskey_delivery("misskey_create_note", SHARED_INBOX, "2026-11-22 03:15:42")
    misskey_delivery("misskey_follow", INBOX, "2026-11-22 03:16:05")
    body_file = "fedify_create_note.body.json"
    (DATA / body_file).write_bytes(fedify_body(carol_ed, "2026-11-22T18:40:04Z"))
    fedify_rfc9421("fedify_create_note", "2026-11-22 18:40:05", body_file)
    # Fedify double-knocks: a 401 to RFC 9421 makes it resend with draft-cavage.
    fedify_cavage("fedify_create_note_cavage", "2026-11-22 18:40:06", body_file)


if __name__ == "__main__":
    main()
