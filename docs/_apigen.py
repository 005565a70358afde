"""Writes the API reference pages from the package itself, so that new names appear unasked.

The public modules are ``retentionkit`` and each of its direct submodules whose name does not
start with an underscore; a module's public names are its ``__all__`` (else its attributes
without a leading underscore that it defines). A name re-exported by several modules (say
``BetaGeoFitter`` by ``retentionkit`` and ``retentionkit.fitters``) is described once, where
users import it from (the module that defines it if that one is public, else the first module
in the order below), and the other pages link to it. ``tests/python/test_docs.py`` checks the
built site's inventory against the same modules, found independently.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "retentionkit"


def public_modules() -> list[str]:
    """``retentionkit`` first, then its public submodules in alphabetical order."""
    package = importlib.import_module(PACKAGE)
    names = sorted(
        f"{PACKAGE}.{info.name}"
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    )
    return [PACKAGE, *names]


def public_names(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and not inspect.ismodule(value)
            and getattr(value, "__module__", module.__name__) == module.__name__
        ]
    return list(names)


def _kind(value: Any) -> str:
    if inspect.ismodule(value):
        return "module"
    if inspect.isclass(value):
        return "exception" if issubclass(value, BaseException) else "class"
    if callable(value):
        return "function"
    return "data"


def _title(text: str) -> str:
    return f"{text}\n{'=' * len(text)}\n"


def canonical_paths(modules: list[str]) -> dict[int, str]:
    """id(object) -> the one dotted path where it is described."""
    loaded = {name: importlib.import_module(name) for name in modules}
    paths: dict[int, str] = {}
    for module_name in modules:  # first pass: the defining module, when it is public
        module = loaded[module_name]
        for name in public_names(module):
            value = getattr(module, name)
            home = getattr(value, "__module__", None)
            if _kind(value) != "data" and home == module_name:
                paths.setdefault(id(value), f"{module_name}.{name}")
    for module_name in modules:  # then the first public module that exports it
        module = loaded[module_name]
        for name in public_names(module):
            value = getattr(module, name)
            if _kind(value) in ("module", "data"):  # values are described on each page
                continue
            paths.setdefault(id(value), f"{module_name}.{name}")
    return paths


def _entry(module_name: str, name: str, value: Any, paths: dict[int, str]) -> str:
    kind = _kind(value)
    path = f"{module_name}.{name}"
    if kind == "module":
        return f"* Module :py:mod:`{value.__name__}`\n"
    if kind == "data":
        options = "" if name == "__version__" else "   :no-value:\n"
        return f".. autodata:: {path}\n{options}\n"
    canonical = paths[id(value)]
    if canonical != path:
        return f"* ``{name}``: see :py:obj:`{canonical}`\n"
    if kind == "exception":
        return f".. autoexception:: {path}\n   :members:\n\n"
    if kind == "class":
        options = "   :members:\n"
        base = getattr(importlib.import_module(f"{PACKAGE}.fitters"), "BaseFitter", None)
        if base is not None and issubclass(value, base):
            options += "   :inherited-members:\n"
        return f".. autoclass:: {path}\n{options}\n"
    return f".. autofunction:: {path}\n\n"


def module_page(module_name: str, paths: dict[int, str]) -> str:
    module = importlib.import_module(module_name)
    described: list[str] = []
    elsewhere: list[str] = []
    for name in public_names(module):
        text = _entry(module_name, name, getattr(module, name), paths)
        (elsewhere if text.startswith("* ") else described).append(text)
    page = [_title(f"``{module_name}``"), f".. automodule:: {module_name}\n   :no-members:\n"]
    page.extend(described)
    if elsewhere:
        page.append("\nAlso available here\n-------------------\n\n")
        page.extend(elsewhere)
    return "\n".join(page)


def write_pages(target: Path) -> list[str]:
    """Write one page per public module and an index; return the module names."""
    modules = public_modules()
    paths = canonical_paths(modules)
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.rst"):
        old.unlink()
    for module_name in modules:
        (target / f"{module_name}.rst").write_text(module_page(module_name, paths), "utf-8")
    toc = "\n".join(f"   {name}" for name in modules)
    index = (
        _title("Modules")
        + "\nGenerated from each public module's ``__all__`` at build time.\n\n"
        + f".. toctree::\n   :maxdepth: 1\n\n{toc}\n"
    )
    (target / "index.rst").write_text(index, "utf-8")
    return modules
