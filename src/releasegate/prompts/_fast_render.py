"""A direct renderer for templates that are only text and ``{{ name }}`` substitutions.

Most prompt templates (``"{{ input }}"``, ``"Question: {{ input }}\\n"``) use nothing of
Jinja but plain variable output. Jinja renders even these through a new context per call
(a chain of mappings, the sandbox's checks), which dominates the gateway's cost of applying
a prompt to a request. :func:`simple_renderer` reads a template's syntax tree once and, when
it holds nothing but literal text and bare variable names, returns a function that joins
the pieces directly; for anything else (filters, attributes, tags, expressions) it returns None and
the caller keeps Jinja.

The output is exactly Jinja's for these templates: literal text comes from the same parse
(so the environment's whitespace options apply as they do in Jinja), and a variable's
value is converted with ``str`` as Jinja does for non-autoescaped output. A variable the
caller does not provide makes the renderer raise :class:`KeyError`: the caller then
renders through Jinja itself, which resolves the name as Jinja does (a global such as
``range``) or raises its own error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from jinja2 import nodes

__all__ = ["simple_renderer"]

SimpleRender = Callable[[Mapping[str, Any]], str]


def simple_renderer(env: jinja2.Environment, source: str) -> SimpleRender | None:
    """A direct renderer of ``source`` when it is only text and ``{{ name }}``
    substitutions, else None.

    The returned function takes the variables and returns the rendered text; it raises
    :class:`KeyError` when a variable the template names is missing.

    Raises:
        jinja2.TemplateSyntaxError: ``source`` does not parse (as Jinja would raise).
    """
    tree = env.parse(source)
    parts: list[str | tuple[str]] = []  # literal text, or (variable name,)
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(child.data)
            elif isinstance(child, nodes.Name) and child.ctx == "load":
                parts.append((child.name,))
            else:
                return None
    if env.finalize is not None or env.autoescape is not False:
        return None
    pieces = tuple(parts)

    def render(variables: Mapping[str, Any]) -> str:
        return "".join(p if isinstance(p, str) else str(variables[p[0]]) for p in pieces)

    return render
