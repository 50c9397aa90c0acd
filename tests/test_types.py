"""The package type-checks under ``mypy --strict`` with the configuration in
``pyproject.toml`` (whose only relaxations are for the Numba kernels and for the
untyped parts of Numba and Biopython, each with its reason there)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_strict_passes(tmp_path):
    pytest.importorskip("mypy")
    checked = subprocess.run([sys.executable, "-m", "mypy", "--strict",
                              "--cache-dir", str(tmp_path / "cache"), "tiedhmm"],
                             cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-2000:]
    assert "Success" in checked.stdout


def test_the_relaxations_are_the_documented_ones():
    import tomllib
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    relaxed = {module for override in overrides for module in override["module"]
               if any(key.startswith("disallow") or key in ("warn_return_any",
                                                             "follow_imports")
                      for key in override)}
    assert relaxed == {"tiedhmm._kernels.*", "numba", "numba.*", "Bio", "Bio.*"}
