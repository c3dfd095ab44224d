"""Documented limits of the recording API (also enforced by the Python client's server).

A batch over :data:`MAX_BATCH_RECORDS` records or a body over :data:`MAX_BODY_BYTES`
is refused whole with HTTP 413; a field over its limit with 422 naming the record and
the field. Nothing of a refused batch is written.
"""

from __future__ import annotations

__all__ = [
    "MAX_BATCH_RECORDS",
    "MAX_BODY_BYTES",
    "MAX_CHUNK",
    "MAX_CHUNKS",
    "MAX_COMMENT",
    "MAX_ERROR",
    "MAX_FALLBACK_DEPTH",
    "MAX_FEEDBACK_KEY",
    "MAX_MESSAGES",
    "MAX_METADATA_KEY",
    "MAX_METADATA_KEYS",
    "MAX_METADATA_VALUE",
    "MAX_REQUEST_ID",
    "MAX_ROLE",
    "MAX_SESSION_ID",
    "MAX_TEXT",
    "MAX_TOOLS",
    "MAX_TOOLS_TEXT",
    "MAX_TOOL_CALLS",
    "MAX_UNIT_KEY",
]

MAX_BATCH_RECORDS = 500
"""Records (or feedback items) in one request."""
MAX_BODY_BYTES = 8 * 1024 * 1024
"""Bytes of one request body."""
MAX_REQUEST_ID = 64
"""Characters of a request id."""
MAX_SESSION_ID = 200
"""Characters of a session id."""
MAX_UNIT_KEY = 200
"""Characters of a unit key."""
MAX_MESSAGES = 200
"""Prompt messages in one record."""
MAX_ROLE = 40
"""Characters of a message role."""
MAX_TEXT = 200_000
"""Characters of a response, and of one message's content (as JSON when not a string)."""
MAX_TOOL_CALLS = 128
"""Tool calls of one answer (the whole list at most :data:`MAX_TEXT` characters as JSON)."""
MAX_TOOLS = 128
"""Tools offered in one request."""
MAX_TOOLS_TEXT = 1_000_000
"""Characters of the tools offered in one request, as JSON."""
MAX_CHUNKS = 100
"""Context chunks in one record."""
MAX_CHUNK = 50_000
"""Characters of one context chunk."""
MAX_ERROR = 4_000
"""Characters of an error message."""
MAX_FALLBACK_DEPTH = 20
"""Largest fallback depth."""
MAX_METADATA_KEYS = 50
"""Keys of a record's metadata."""
MAX_METADATA_KEY = 100
"""Characters of a metadata key."""
MAX_METADATA_VALUE = 1_000
"""Characters of a metadata string value."""
MAX_COMMENT = 4_000
"""Characters of a feedback comment."""
MAX_FEEDBACK_KEY = 64
"""Characters of a feedback idempotency key."""
