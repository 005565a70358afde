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
