"""The public API is what each package's ``__all__`` says, derived rather than restated.

The model is httpx's test of exported members: walk ``__all__`` and check each member.
For every public package: each name in ``__all__`` exists and imports (lazy names
included), classes and functions are documented, and every public class or function the
package's namespace holds that is defined inside the package is exported (or is a
submodule). Only the top-level list is restated: it is the documented promise.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

import pytest

import releasegate

TOP_LEVEL = {
    "AssertSpec",
    "CanaryPolicy",
    "Case",
    "Dataset",
    "Decision",
    "EvalOptions",
    "EvalReport",
    "Observation",
    "Project",
    "ReleasegateError",
    "Router",
    "__version__",
    "analyze_canary",
    "arun_eval",
    "bucket",
    "feedback",
    "load_dataset",
    "load_project",
    "record",
    "run_eval",
}


PACKAGES = [
    "releasegate",
    "releasegate.canary",
    "releasegate.control",
    "releasegate.datasets",
    "releasegate.deploy",
    "releasegate.evals",
    "releasegate.evals.gate",
    "releasegate.prompts",
    "releasegate.providers",
    "releasegate.reports",
    "releasegate.results",
    "releasegate.scorers",
    "releasegate.stats",
]


def _exported(package: str) -> tuple[ModuleType, list[str]]:
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    assert names is not None, f"{package} has no __all__"
    return module, list(names)


def _defined_in(obj: object, package: str) -> bool:
    where = getattr(obj, "__module__", None)
    return isinstance(where, str) and (where == package or where.startswith(package + "."))


def _auto_doc(obj: type) -> bool:
    # A dataclass without a docstring gets its signature as ``__doc__``.
    return (obj.__doc__ or "").startswith(obj.__name__ + "(")


def test_top_level_all_is_exactly_the_public_names() -> None:
    assert set(releasegate.__all__) == TOP_LEVEL


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_exists_and_is_documented(package: str) -> None:
    module, names = _exported(package)
    assert len(names) == len(set(names)), f"{package}.__all__ lists a name twice"
    for name in names:
        obj = getattr(module, name)  # resolves lazy names: importable, or AttributeError
        assert name in dir(module), f"{package}.{name} is missing from dir()"
        if inspect.isclass(obj) or inspect.isroutine(obj):
            assert _defined_in(obj, "releasegate"), f"{package}.{name} re-exports a third party"
            assert obj.__doc__ and obj.__doc__.strip(), f"{package}.{name} has no docstring"
            assert not (inspect.isclass(obj) and _auto_doc(obj)), (
                f"{package}.{name} has only the dataclass signature as docstring"
            )


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_member_defined_in_the_package_is_exported(package: str) -> None:
    module, names = _exported(package)
    for name in names:
        getattr(module, name)  # lazy names land in the namespace like eager ones
    stray = []
    for name, obj in vars(module).items():
        if name.startswith("_") or name in names:
            continue
        if inspect.ismodule(obj):
            if obj.__name__.startswith("releasegate.") and obj.__name__ != f"{package}.{name}":
                stray.append(f"{name} (module {obj.__name__}, not a submodule)")
        elif (inspect.isclass(obj) or inspect.isroutine(obj)) and _defined_in(obj, package):
            stray.append(name)
    assert not stray, f"{package} holds public names missing from __all__: {stray}"


def test_lazy_names_resolve_to_their_modules() -> None:
    from releasegate.bootstrap import run_eval
    from releasegate.canary import analyze_canary
    from releasegate.deploy import bucket

    assert releasegate.run_eval is run_eval
    assert releasegate.bucket is bucket
    assert releasegate.analyze_canary is analyze_canary
    assert "run_eval" in dir(releasegate)
    with pytest.raises(AttributeError):
        _ = releasegate.no_such_name  # type: ignore[attr-defined]


@pytest.mark.parametrize("package", ["releasegate.evals", "releasegate.stats"])
def test_lazy_packages_refuse_unknown_names(package: str) -> None:
    module = importlib.import_module(package)
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = module.no_such_name
