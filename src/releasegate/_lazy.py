"""Package attributes imported on first use (PEP 562), for cheap package imports.

A package whose public names pull in heavy modules (numpy, scipy, the eval engine)
declares where each name lives and gets ``__getattr__`` and ``__dir__`` from here::

    __getattr__, __dir__ = lazy_exports(__name__, {"analyze_canary": "pkg.analysis"}, __all__)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, where: Mapping[str, str], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` for ``package``.

    Args:
        package: The package's ``__name__``.
        where: Public name -> the module that defines it.
        public: The package's ``__all__`` (listed by ``dir()`` before first use).

    Returns:
        ``(__getattr__, __dir__)``. The first look-up of a name imports its module and
        stores the value in the package, so later look-ups are plain attribute reads.
        An unknown name raises ``AttributeError`` as a module attribute would.
    """

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(public))

    return __getattr__, __dir__
