"""Which environment variables hold a provider's credentials, and stand-ins for them.

``releasegate validate`` builds every provider as ``eval`` does; CI usually validates
without secrets, so a credential variable that is not set must not stop it. Validate
builds again with a placeholder in each unset variable (never sent: validate calls
nothing) and reports the variables the build needed as warnings.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator

from releasegate import settings
from releasegate.config import ProviderConfig

__all__ = ["key_vars", "placeholder_keys"]

# The variable a built-in provider type reads its API key from when ``api_key_env`` is
# not set (an ``openai`` provider with a ``base_url`` needs none).
_DEFAULT_KEY_VARS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
# Stands in for an unset key while validate builds (never sent: validate calls nothing).
_PLACEHOLDER_KEY = "releasegate-validate-placeholder"


# ``{{ env.TOKEN }}`` or ``{{ env["TOKEN"] }}`` in a header template (``http`` providers).
_ENV_REF = re.compile(r"""\benv(?:\.([A-Za-z_]\w*)|\[\s*['"]([^'"]+)['"]\s*\])""")


def key_vars(cfg: ProviderConfig) -> list[str]:
    """The environment variables holding a provider's credentials: ``api_key_env`` (or
    its type's default) and any variable a header template reads."""
    names: list[str] = []
    if cfg.api_key_env:
        names.append(cfg.api_key_env)
    elif cfg.type in _DEFAULT_KEY_VARS:
        names.append(_DEFAULT_KEY_VARS[cfg.type])
    for value in cfg.headers.values():
        names.extend(m.group(1) or m.group(2) for m in _ENV_REF.finditer(value))
    return list(dict.fromkeys(names))


@contextlib.contextmanager
def placeholder_keys(names: Iterable[str]) -> Iterator[None]:
    """Within the block, providers built through the settings see a placeholder in each
    unset variable in ``names`` (the process environment itself is left alone)."""
    with settings.placeholders(names, _PLACEHOLDER_KEY):
        yield
