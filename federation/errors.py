"""Typed errors of the federation layer.

Each error carries the HTTP status an inbox or endpoint answers with, so handlers map
errors to responses in one place and nothing is swallowed.
"""

from __future__ import annotations


class FederationError(Exception):
    """Base of every error raised by `federation`."""

    status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignatureError(FederationError):
    """A request's signature is missing, malformed, expired or does not verify.

    401, because peers such as Fedify retry with another signature scheme only after a 401.
    """

    status = 401


class DigestError(SignatureError):
    """A `Digest` or `Content-Digest` header does not match the raw body."""


class KeyNotFound(SignatureError):
    """The signer's key could not be found or fetched."""


class ValidationError(FederationError):
    """An activity or document is malformed or breaks a protocol rule."""

    status = 400


class ForbiddenActivity(FederationError):
    """The activity is well formed but not allowed (signer is not the actor, foreign ids...)."""

    status = 403


class PayloadTooLarge(FederationError):
    status = 413


class UnsupportedMediaType(FederationError):
    status = 415


class RateLimited(FederationError):
    """Too many requests from one remote host; `retry_after` says when to come back."""

    status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FetchError(FederationError):
    """A remote document could not be fetched (network, status, size, time)."""

    status = 502


class Unreachable(FetchError):
    """The remote server could not be reached, or answered with a passing failure (a time
    out, a refused or reset connection, 429 or a 5xx): worth trying again later. The inbox
    processor retries an activity whose handler met one, with backoff."""


class UnsafeURLError(FetchError):
    """A URL points at a private, loopback or special-use address, or a refused scheme."""

    status = 400


class BlockedDomain(FetchError):
    """The hub's staff blocked this domain: it is never contacted."""

    status = 403


class NotFound(FederationError):
    status = 404


class RemoteNotFound(NotFound, FetchError):
    """A remote server answered 404 or 410 for a document we fetched.

    Both a `NotFound` and a `FetchError`, so callers that handle either see it. `gone` is
    True for 410, which servers send for deleted actors and objects.
    """

    status = 404

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone
