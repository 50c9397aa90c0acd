"""What users install is what is tested: the built wheel holds every subpackage and the
bundled models, installs into a fresh virtual environment, imports every module
without the optional extras, and runs ``tiedhmm msa``; versions agree everywhere."""

import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import tomllib

import tiedhmm as th

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("dask", "distributed", "matplotlib", "python_speech_features", "hmmlearn",
          "sklearn", "pysam")

#: Run in the fresh environment: optional extras made unimportable, then every module
#: of the installed package imported; prints where tiedhmm was found.
IMPORT_ALL = f"""
import importlib, importlib.abc, pkgutil, sys
class NoExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {EXTRAS!r}:
            raise ImportError(f"{{name}} is an optional extra, absent here")
sys.meta_path.insert(0, NoExtras())
import tiedhmm
names = [m.name for m in pkgutil.walk_packages(tiedhmm.__path__, "tiedhmm.")
         if m.name != "tiedhmm.__main__"]  # (running it is the command line)
for name in names:
    importlib.import_module(name)
print(tiedhmm.__file__, len(names))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    # Built from a copy of what is tracked, so that no earlier build's leftovers (an old
    # build/ folder, __pycache__) can reach the wheel.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "tiedhmm", source / "tiedhmm",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(folder)],
                   check=True, capture_output=True, timeout=300)
    [built] = folder.glob("tiedhmm-*.whl")
    return built


def test_the_wheel_holds_every_subpackage_and_the_bundled_models(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {path.parent.relative_to(ROOT).as_posix()
                for path in (ROOT / "tiedhmm").rglob("__init__.py")}
    assert {"tiedhmm/speech", "tiedhmm/pair", "tiedhmm/msa", "tiedhmm/_kernels"} <= packages
    for package in packages:
        assert f"{package}/__init__.py" in names, package
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "tiedhmm").rglob("*.py")}
    assert modules <= names
    assert {"tiedhmm/py.typed", "tiedhmm/data/protein.json", "tiedhmm/data/dna.json"} <= names


def test_the_installed_wheel_imports_without_extras_and_aligns(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    # The dependencies (numpy, numba, scipy, biopython, tqdm) come from this environment,
    # appended after the fresh one's own packages, so tiedhmm is the wheel's copy (no
    # network at test time); the extras are made unimportable by IMPORT_ALL.
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "outer_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    found = subprocess.run([str(python), "-c", IMPORT_ALL], capture_output=True, text=True,
                           cwd=tmp_path, timeout=600)
    assert found.returncode == 0, found.stderr
    where, count = found.stdout.split()
    assert Path(where).is_relative_to(venv) and int(count) > 40
    aligned = subprocess.run([str(venv / "bin" / "tiedhmm"), "msa",
                              str(ROOT / "data" / "example_proteins.fa"), "--refinement", "5"],
                             capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert aligned.returncode == 0, aligned.stderr
    family = (ROOT / "data" / "example_proteins.fa").read_text()
    assert aligned.stdout.count(">") == family.count(">")
    version = subprocess.run([str(venv / "bin" / "tiedhmm"), "--version"],
                             capture_output=True, text=True, cwd=tmp_path, check=True)
    assert version.stdout.strip() == f"tiedhmm {th.__version__}"


def test_versions_agree_package_metadata_changelog():
    assert metadata.version("tiedhmm") == th.__version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["dynamic"] == ["version"]  # read from tiedhmm.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(r"^## (\S+)", changelog, re.MULTILINE).group(1) == th.__version__
