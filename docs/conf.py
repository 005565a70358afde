"""Sphinx configuration of the retentionkit documentation site.

Build it from the repository root with ``bash scripts/build-docs.sh`` (warnings are errors),
or ``python -m sphinx -W --keep-going -b html docs docs/_build/html``. The package must be
installed (``pip install .`` or ``maturin develop``): the API reference imports it.

Two folders are written at build time and are not committed: ``docs/api/generated`` (one page
per public module, from its ``__all__``) and ``docs/notebooks`` (copies of ../notebooks).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

import _apigen  # noqa: E402  (docs/_apigen.py, beside this file)

import retentionkit  # noqa: E402

project = "retentionkit"
author = "The retentionkit authors"
copyright = "2026, The retentionkit authors"
release = retentionkit.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_nb",  # Markdown pages (MyST) and the notebooks
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "requirements.txt", "**/.ipynb_checkpoints"]
root_doc = "index"

# Docstrings are numpydoc-style.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# "Attributes" sections as fields: the properties they name are described by autodoc already.
napoleon_use_ivar = True
autodoc_member_order = "bysource"
# Signatures without annotations: the numpydoc "Parameters" sections give the types in words
# (the annotations expand numpy's ArrayLike into a screenful).
autodoc_typehints = "none"
autodoc_default_options = {"show-inheritance": True}

# MyST: anchors for headings (docs/lifetimes.md links to its own sections), $math$.
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath", "colon_fence"]

# The notebooks are rendered as stored (without outputs): the test command already runs
# them with nbmake. RETENTIONKIT_DOCS_EXECUTE=1 runs them during the build to show outputs.
nb_execution_mode = "force" if os.environ.get("RETENTIONKIT_DOCS_EXECUTE") == "1" else "off"
nb_execution_timeout = 600
nb_execution_raise_on_error = True

html_theme = "alabaster"
html_title = f"retentionkit {release}"
html_theme_options = {
    "description": "Buy 'Til You Die customer-base models with a Rust core",
    "fixed_sidebar": True,
}


def _copy_notebooks() -> None:
    target = DOCS / "notebooks"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    for notebook in sorted((DOCS.parent / "notebooks").glob("*.ipynb")):
        shutil.copy2(notebook, target / notebook.name)


_copy_notebooks()
_apigen.write_pages(DOCS / "api" / "generated")
