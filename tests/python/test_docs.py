"""The documentation site (issue 17): it builds with warnings as errors, its API reference
describes every public name, and the code on its pages runs.

The build takes about 15 s of CPU. It needs Sphinx and MyST-NB (docs/requirements.txt, which
scripts/install-test-deps.sh installs); without them these tests skip and say so.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import retentionkit

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

needs_sphinx = pytest.mark.skipif(
    importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_nb") is None,
    reason="Sphinx and MyST-NB are not installed (pip install -r docs/requirements.txt)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {k: v for k, v in os.environ.items() if k != "RETENTIONKIT_DOCS_EXECUTE"}
    env["MPLBACKEND"] = "Agg"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q", "-E"]
    result = subprocess.run(
        [*command, "-d", str(out / ".doctrees"), str(DOCS), str(out / "html")],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert result.returncode == 0, (
        f"the documentation does not build without warnings:\n{result.stderr[-6000:]}"
    )
    return out / "html"


def _public_modules() -> list[str]:
    """retentionkit and its direct submodules without a leading underscore."""
    names = [
        f"retentionkit.{info.name}"
        for info in pkgutil.iter_modules(retentionkit.__path__)
        if not info.name.startswith("_")
    ]
    return ["retentionkit", *sorted(names)]


def _public_names(module: Any) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and getattr(value, "__module__", module.__name__) == module.__name__
    ]


def _inventory(site: Path) -> dict[str, set[str]]:
    from sphinx.util.inventory import InventoryFile

    with open(site / "objects.inv", "rb") as f:
        inventory = InventoryFile.load(f, "", lambda base, uri: uri)
    data = getattr(inventory, "data", inventory)  # an Inventory object from Sphinx 8.2 on
    return {kind: set(entries) for kind, entries in data.items()}


def _resolve(path: str) -> Any:
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


@needs_sphinx
def test_every_public_name_is_in_the_reference(site: Path) -> None:
    inventory = _inventory(site)
    described: dict[int, list[str]] = {}
    for kind, paths in inventory.items():
        if kind.startswith("py:") and kind != "py:module":
            for path in paths:
                try:
                    described.setdefault(id(_resolve(path)), []).append(path)
                except (ImportError, AttributeError):
                    pass
    modules = inventory.get("py:module", set())
    every_entry = set().union(*(p for k, p in inventory.items() if k.startswith("py:")))
    missing = []
    for module_name in _public_modules():
        assert module_name in modules, f"no page for the module {module_name}"
        module = importlib.import_module(module_name)
        for name in _public_names(module):
            value = getattr(module, name)
            path = f"{module_name}.{name}"
            if inspect.ismodule(value):
                ok = value.__name__ in modules
            elif inspect.isclass(value) or callable(value):
                ok = path in every_entry or id(value) in described
            else:  # a value (string, tuple, dict) is described where it is exported
                ok = path in every_entry
            if not ok:
                missing.append(path)
    assert not missing, f"public names missing from the API reference: {missing}"


@needs_sphinx
def test_the_site_has_every_page_and_notebook(site: Path) -> None:
    for page in ("index", "getting-started", "lifetimes", "changelog", "api/index"):
        assert (site / f"{page}.html").is_file(), page
    for guide in ("fit-and-check", "score", "value", "subscriptions", "scale-out", "report"):
        assert (site / "guide" / f"{guide}.html").is_file(), guide
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        assert (site / "notebooks" / f"{notebook.stem}.html").is_file(), notebook.name
    html = (site / "api" / "generated" / "retentionkit.html").read_text(encoding="utf-8")
    # the per-model docstrings reached the page, formulas and sections parsed
    assert "Fader" in html and 'class="field-list' in html


# The pages' code ------------------------------------------------------------------------
# Blocks fenced as ```python run, in order, one namespace per page; blocks fenced as ```py
# are shown but not run (the Spark example needs a Java runtime).

PAGES = [DOCS / "getting-started.md", *sorted((DOCS / "guide").glob("*.md"))]


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.M | re.S)


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_page_code_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    if page.stem == "scale-out":
        pytest.importorskip("dask.dataframe")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": f"docs_{page.stem}"}
    blocks = _python_blocks(page)
    assert blocks, f"{page.name} has no python block"
    try:
        for i, block in enumerate(blocks, 1):
            exec(compile(block, f"{page.relative_to(ROOT)} block {i}", "exec"), namespace)
    finally:
        plt.close("all")
