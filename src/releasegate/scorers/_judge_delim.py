"""Delimiters that fence untrusted text (the answer under test, context, claims) in a
judge prompt.

The fence tag is derived from a hash of the fenced text itself, so it is deterministic
(the response cache keeps working across runs) yet cannot be written into the text in
advance: doing so would require the text to contain a hash of itself. As a second line
of defence, anything shaped like one of our fences is removed from the text before it is
fenced, so an answer can never close its own block early and talk to the judge.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["FENCE_RE", "fence", "fence_tag", "strip_fences"]

# Matches any fence we could emit (and near misses: lower case, spaces, extra brackets),
# e.g. "<<<DATA 1a2b3c4d5e6f7a8b>>>" and "<<</DATA 1a2b3c4d5e6f7a8b>>>".
FENCE_RE = re.compile(r"<{2,}\s*/?\s*data\b[^<>\n]{0,80}>{2,}", re.IGNORECASE)


def fence_tag(text: str, label: str = "") -> str:
    """A 16-hex-digit tag that depends on ``text`` and ``label``."""
    digest = hashlib.sha256(f"releasegate-fence\x00{label}\x00{text}".encode())
    return digest.hexdigest()[:16]


def strip_fences(text: str) -> str:
    """Remove everything that looks like a fence marker from ``text``."""
    previous = None
    # Repeat: removing one marker can join the halves of another ("<<<DA<<<DATA x>>>TA y>>>").
    while previous != text:
        previous = text
        text = FENCE_RE.sub("", text)
    return text


def fence(text: str, label: str) -> str:
    """Wrap untrusted ``text`` in a labelled block with an unguessable tag.

    Args:
        text: the data (stripped of fence look-alikes first).
        label: a short name shown to the judge, like ``ANSWER`` or ``CONTEXT 2``.

    Returns:
        ``<<<DATA label tag>>>`` + text + ``<<</DATA label tag>>>`` on separate lines.
    """
    clean = strip_fences(text)
    tag = fence_tag(clean, label)
    return f"<<<DATA {label} {tag}>>>\n{clean}\n<<</DATA {label} {tag}>>>"
