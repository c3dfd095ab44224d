"""Say where a model name came from when a target does not serve it.

A prompt file's ``model:`` overrides the target provider's ``model:`` (the prompt pins the
model it was written and evaluated for). When the target then answers "not found" (HTTP
404) for that model -- a local server, a gateway or an API without it -- the bare error
never mentions the prompt file, and the provider's own ``model:`` looks ignored. This
module rewrites such an error to name the file that pinned the model.
"""

from __future__ import annotations

from releasegate.errors import ProviderError

__all__ = ["explain_unserved_model"]


def explain_unserved_model(
    exc: ProviderError, *, model: str, pinned_in: str | None, target: str
) -> str:
    """The message of a failed target call, naming the prompt file that pinned ``model``.

    Args:
        exc: The provider's error.
        model: The model name that was requested.
        pinned_in: The prompt file whose ``model:`` chose it, or None when the model came
            from the provider's config.
        target: The target provider's name in the config.

    Returns:
        ``str(exc)`` unchanged unless the target answered 404 for a model a prompt file
        pinned; then ``"model 'X' (pinned in prompts/foo.yaml) is not served by ..."``
        with a hint that the prompt's ``model:`` takes precedence.
    """
    message = str(exc)
    if exc.status != 404 or not pinned_in or not model:
        return message
    pin = f"model {model!r} (pinned in {pinned_in})"
    hint = (
        f"; a prompt's model: overrides the provider's model: -- change model: in {pinned_in} "
        "to a model the target serves"
    )
    quoted = f"model {model!r} is not served by "
    if quoted in message:
        return message.replace(quoted, f"{pin} is not served by ", 1) + hint
    return f"{pin} is not served by target {target!r}: {message}{hint}"
