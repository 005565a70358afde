"""Dump the public API of the installed ``lifetimes`` to JSON (names and signatures).

The output, ``tests/fixtures/lifetimes_0_11_3_api.json``, is what
``tests/python/test_lifetimes_api.py`` checks retentionkit against: every name
we claim to have must exist here and accept every keyword ``lifetimes`` accepts.
Regenerate it in a virtualenv holding lifetimes 0.11.3 (which needs pandas < 3):

    python -m venv /tmp/lt && /tmp/lt/bin/pip install lifetimes==0.11.3 "pandas<3"
    /tmp/lt/bin/python scripts/lifetimes_api.py > tests/fixtures/lifetimes_0_11_3_api.json

A module's public names are its ``__all__`` when it has one, else the names not
starting with ``_`` that are defined in the module itself (not imported into
it). A class's public members are its callables and properties not starting
with ``_``, inherited ones included. A signature is the list of its parameters
(name, kind, default) as ``inspect.signature`` gives them, without ``self``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from typing import Any

MODULES = (
    "lifetimes",
    "lifetimes.fitters",
    "lifetimes.utils",
    "lifetimes.plotting",
    "lifetimes.generate_data",
    "lifetimes.datasets",
)


def parameters(func: Any) -> list[dict[str, Any]]:
    """The parameters of ``func`` (``self`` dropped), JSON-ready."""
    out = []
    for p in inspect.signature(func).parameters.values():
        if p.name == "self":
            continue
        entry: dict[str, Any] = {"name": p.name, "kind": p.kind.name}
        if p.default is not inspect.Parameter.empty:
            entry["default"] = repr(p.default)
        out.append(entry)
    return out


def public_names(module: Any) -> list[str]:
    if hasattr(module, "__all__"):
        return sorted(n for n in module.__all__ if n != "__version__")
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and getattr(value, "__module__", None) == module.__name__
    )


def describe_class(cls: type) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        value = inspect.getattr_static(cls, name)
        if isinstance(value, property):
            members[name] = {"type": "property"}
        elif isinstance(value, (staticmethod, classmethod)) or inspect.isfunction(value):
            members[name] = {"type": "method", "parameters": parameters(getattr(cls, name))}
    return {
        "type": "class",
        "parameters": parameters(cls.__init__),
        "members": members,
    }


def describe(value: Any) -> dict[str, Any]:
    if inspect.isclass(value):
        return describe_class(value)
    return {"type": "function", "parameters": parameters(value)}


def main() -> None:
    import lifetimes

    api: dict[str, Any] = {"lifetimes_version": lifetimes.__version__, "modules": {}}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        api["modules"][module_name] = {
            name: describe(getattr(module, name)) for name in public_names(module)
        }
    json.dump(api, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
