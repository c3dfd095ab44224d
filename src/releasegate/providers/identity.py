"""Building blocks of a provider's cache identity.

A provider's :meth:`~releasegate.llm.ChatProvider.cache_identity` is a plain
mapping of every option that can change an answer (endpoint, model, default parameters,
headers, templates, credentials ...). It is computed once per provider and digested into
every response-cache key (:class:`releasegate.providers.cache.CacheKeyer`), so it must be
stable across processes (no object ids, no randomness) and must not hold a secret in
clear text. These helpers keep both promises:

* :func:`secret_digest` replaces a secret by a salted SHA-256 digest: a changed key still
  changes the identity, but the key itself is never stored.
* :func:`headers_identity` lower-cases header names and digests the values of credential
  headers (``Authorization``, ``x-api-key``, anything naming a key, token, secret,
  password, cookie, session or signature) and of headers rendered from the environment.
* :func:`url_identity` digests a password in the URL and credential-like query values.
* :func:`redact` walks JSON-like data and digests values stored under credential-like keys.
* :func:`code_digest` stands for an in-process function's code.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from releasegate import settings as _settings

if TYPE_CHECKING:
    from releasegate.config import ProviderConfig

__all__ = [
    "CALL_POLICY_KEYS",
    "code_digest",
    "config_identity",
    "headers_identity",
    "is_secret_name",
    "redact",
    "secret_digest",
    "url_identity",
]

CALL_POLICY_KEYS = frozenset({"concurrency", "rate_limit", "timeout_s", "max_retries"})
"""Common provider keys that shape how a call is made, never its answer."""

# A fixed salt: digests stay comparable across processes and machines (so a cache can be
# shared), while a digest found in the wild cannot be matched against unsalted tables.
_SALT = b"releasegate/cache-identity/secret/v1\x00"

_SECRET_NAME = re.compile(
    r"auth|key|token|secret|passw|pwd|cookie|session|signature|sig$|credential|bearer",
    re.IGNORECASE,
)


def secret_digest(value: str) -> str:
    """A salted SHA-256 of ``value``, as ``"sha256:<hex>"``; equal inputs, equal digests.

    Args:
        value: the secret (an API key, a token, a header value).

    Returns:
        The digest text (71 characters); it never contains ``value``.
    """
    return "sha256:" + hashlib.sha256(_SALT + value.encode("utf-8")).hexdigest()


def is_secret_name(name: str) -> bool:
    """Whether a header, query parameter or option called ``name`` holds a credential."""
    return bool(_SECRET_NAME.search(name))


def headers_identity(headers: Mapping[str, str], *, secret: Iterable[str] = ()) -> dict[str, str]:
    """Headers as they count for the cache: names lower-cased (HTTP names are
    case-insensitive), values of credential headers digested.

    Args:
        headers: header name to the value sent.
        secret: further header names whose values are secret (for example headers
            rendered from environment variables).

    Returns:
        A new mapping, sorted by name.
    """
    forced = {name.lower() for name in secret}
    out: dict[str, str] = {}
    for name, value in headers.items():
        low = name.lower()
        text = str(value)
        out[low] = secret_digest(text) if low in forced or is_secret_name(low) else text
    return dict(sorted(out.items()))


def url_identity(url: str) -> str:
    """``url`` with its password and credential-like query values digested (a URL that
    cannot be parsed is digested whole).

    ``https://user:pw@host/v1?api-version=2024-06-01&api-key=K`` keeps its user, host,
    path and ``api-version`` but carries digests in place of ``pw`` and ``K``.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # malformed (an unbalanced "["): keep it whole, as a digest
        return secret_digest(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, sep, password = userinfo.partition(":")
        netloc = f"{user}:{secret_digest(password)}@{host}" if sep else f"{user}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, secret_digest(v) if is_secret_name(k) else v) for k, v in pairs], safe=":/"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact(data: Any) -> Any:
    """JSON-like ``data`` with every string stored under a credential-like key digested
    (recursively through mappings and lists); other values are kept as they are."""
    if isinstance(data, Mapping):
        return {
            str(k): (
                secret_digest(v) if isinstance(v, str) and is_secret_name(str(k)) else redact(v)
            )
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [redact(v) for v in data]
    return data


def config_identity(cfg: ProviderConfig) -> dict[str, Any]:
    """A provider config as it counts for the cache: every key but the type and the call
    policies (:data:`CALL_POLICY_KEYS`), the API key's value digested, credential
    headers, URL parts and options digested. The default identity of plugin providers.
    """
    key = _settings.current().secret(cfg.api_key_env) if cfg.api_key_env else None
    return {
        "model": cfg.model,
        "base_url": url_identity(cfg.base_url) if cfg.base_url else None,
        "params": cfg.params,
        "headers": headers_identity(cfg.headers),
        "api_key": secret_digest(key) if key else None,
        "options": redact(cfg.options),
    }


def code_digest(func: Callable[..., Any]) -> str | None:
    """SHA-256 (hex) of the source file defining ``func`` (else of its own source), or
    None when neither can be read (a builtin)."""
    module = inspect.getmodule(func)
    file = getattr(module, "__file__", None)
    if isinstance(file, str):
        try:
            return hashlib.sha256(Path(file).read_bytes()).hexdigest()
        except OSError:
            pass
    try:
        return hashlib.sha256(inspect.getsource(func).encode("utf-8")).hexdigest()
    except (OSError, TypeError):
        return None
