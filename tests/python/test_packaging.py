"""The package as shipped (issue 17): one version number, the changelog, the crate's contents.

These tests read the repository's manifests beside the installed package, so they run from a
source checkout (as the README's test command does).
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import retentionkit

ROOT = Path(__file__).resolve().parents[2]


def _toml_value(path: Path, table: str, key: str) -> str | None:
    """``key = "..."`` in ``[table]`` of a TOML file (tomllib is not in Python 3.9 and 3.10)."""
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^\s*\[([^\]]+)\]\s*$", line)
        if header:
            current = header.group(1).strip()
            continue
        if current == table:
            m = re.match(rf'^\s*{re.escape(key)}\s*=\s*"([^"]*)"', line)
            if m:
                return m.group(1)
    return None


def _cargo_version() -> str:
    version = _toml_value(ROOT / "Cargo.toml", "package", "version")
    assert version is not None, "Cargo.toml has no [package] version"
    return version


# One version -------------------------------------------------------------------------------


def test_pyproject_takes_its_version_from_cargo() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert _toml_value(ROOT / "pyproject.toml", "project", "version") is None, (
        "pyproject.toml sets [project] version: it must come from Cargo.toml (dynamic)"
    )
    assert re.search(r'^dynamic\s*=\s*\[[^\]]*"version"', pyproject, re.MULTILINE), (
        'pyproject.toml must declare dynamic = ["version"]'
    )


def test_one_version_everywhere() -> None:
    cargo = _cargo_version()
    # A plain X.Y.Z is spelled the same by Cargo (SemVer) and Python (PEP 440); a pre-release
    # such as 1.0.0-rc.1 would be respelled by maturin (1.0.0rc1) and break the equality below.
    assert re.fullmatch(r"\d+\.\d+\.\d+", cargo), f"Cargo.toml version {cargo!r} is not X.Y.Z"
    assert retentionkit.__version__ == cargo, (
        f"retentionkit.__version__ is {retentionkit.__version__}, Cargo.toml says {cargo}: "
        "rebuild the extension (maturin develop) after changing the version"
    )
    assert importlib.metadata.version("retentionkit") == cargo


def test_command_line_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "retentionkit", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"retentionkit {_cargo_version()}"
    script = shutil.which("retentionkit", path=str(Path(sys.executable).parent))
    if script is not None:  # the console script pip installs beside this interpreter
        result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"retentionkit {_cargo_version()}"


def test_changelog_has_the_current_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\](.*)$", text, re.MULTILINE)
    assert headings, "CHANGELOG.md has no '## [version]' sections"
    assert headings[0][0] == "Unreleased", "the first section of CHANGELOG.md is [Unreleased]"
    for version, rest in headings[1:]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"CHANGELOG.md: bad version {version!r}"
        assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", rest), (
            f"CHANGELOG.md: '## [{version}]' needs ' - YYYY-MM-DD' after it"
        )
    versions = [v for v, _ in headings[1:]]
    assert _cargo_version() in versions, (
        f"CHANGELOG.md has no section for {_cargo_version()}, the version in Cargo.toml"
    )
    for section in re.findall(r"^### (.+)$", text, re.MULTILINE):
        assert section in {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


# The crate ---------------------------------------------------------------------------------

# The Rust crate is the core: what only the Python package, the notebooks, the test suites or
# the benchmarks use stays out of it (it would make every download bigger for nothing).
CRATE_EXCLUDED_DIRS = ("python/", "notebooks/", "tests/", "bench/", "docs/", "scripts/", ".ci/")
CRATE_REQUIRED = ("Cargo.toml", "README.md", "LICENSE", "CHANGELOG.md", "src/lib.rs")
CRATE_MAX_BYTES = 2_000_000  # the sources are ~0.8 MB; crates.io refuses more than 10 MB


def _cargo_package_list() -> list[str]:
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo is not on PATH: the crate's file list cannot be checked")
    base = [cargo, "package", "--list", "--allow-dirty"]
    # Offline first: the dependencies are already in cargo's cache after `cargo test`.
    result = subprocess.run(
        [*base, "--offline"], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    if result.returncode != 0:
        result = subprocess.run(base, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, f"cargo package --list failed:\n{result.stderr}"
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def test_crate_holds_the_rust_core_only() -> None:
    files = _cargo_package_list()
    for required in CRATE_REQUIRED:
        assert required in files, f"the crate lacks {required}"
    assert any(f.startswith("src/python/") for f in files), "the python feature's sources"
    stray = [f for f in files if f.startswith(CRATE_EXCLUDED_DIRS)]
    assert not stray, f"files that do not belong in the crate: {stray[:10]}"
    data = [
        f
        for f in files
        if f != ".cargo_vcs_info.json"
        and f.endswith((".py", ".pyi", ".ipynb", ".csv", ".json", ".parquet"))
    ]
    assert not data, f"Python or data files in the crate: {data[:10]}"
    # Files cargo generates (.cargo_vcs_info.json, Cargo.toml.orig) are not on disk.
    size = sum((ROOT / f).stat().st_size for f in files if (ROOT / f).is_file())
    assert size < CRATE_MAX_BYTES, f"the crate's files take {size:,} bytes"


def test_crate_metadata_for_publishing() -> None:
    cargo_toml = ROOT / "Cargo.toml"
    for key in ("description", "license", "readme", "rust-version"):
        assert _toml_value(cargo_toml, "package", key), f"Cargo.toml [package] lacks {key}"
    text = cargo_toml.read_text(encoding="utf-8")
    keywords = re.search(r"^keywords\s*=\s*\[([^\]]*)\]", text, re.MULTILINE)
    assert keywords, "Cargo.toml [package] lacks keywords"
    words = re.findall(r'"([^"]*)"', keywords.group(1))
    assert 0 < len(words) <= 5, "crates.io takes at most five keywords"
    for word in words:  # crates.io's rule for a keyword
        assert re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_-]{0,19}", word), f"bad keyword {word!r}"
    assert re.search(r"^categories\s*=\s*\[", text, re.MULTILINE)
    assert "[package.metadata.docs.rs]" in text
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert _toml_value(cargo_toml, "package", "license") == "MIT"
    assert license_text.startswith("MIT License")
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


# The test command -------------------------------------------------------------------------


def test_readme_test_command_runs_the_packaging_checks() -> None:
    """README's second command (what CI runs) keeps the wheel smoke test and the docs build."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    marker = next(i for i, line in enumerate(readme) if line.startswith("# 2. Install the test"))
    command = readme[marker + 1]
    assert "bash scripts/wheel-smoke.sh" in command
    assert "python -m pytest tests/python" in command  # runs test_docs.py, which builds docs/
    assert "docs/requirements.txt" in (ROOT / "scripts/install-test-deps.sh").read_text("utf-8")
