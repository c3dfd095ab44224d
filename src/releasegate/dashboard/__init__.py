"""releasegate.dashboard: the web dashboard an on-call engineer opens during a rollout.

:func:`create_dashboard` builds the ASGI app on the control-plane parts
(:mod:`releasegate.bootstrap`); ``releasegate dashboard serve`` runs it. Pages are
rendered on the server (Jinja2, autoescaped; charts as SVG) and run no script. See
``docs/dashboard.md``.
"""

from __future__ import annotations

from releasegate.dashboard.app import create_dashboard

__all__ = ["create_dashboard"]
