"""The documentation: the site builds with warnings as errors (running the example
gallery, whose figures come from the examples), and every docstring example runs."""

import doctest
import importlib
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tiedhmm

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> list[str]:
    return ["tiedhmm", *sorted(m.name for m in pkgutil.walk_packages(tiedhmm.__path__, "tiedhmm.")
                               if m.name != "tiedhmm.__main__")]


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may write files
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name, globs={}):
        if test.name.startswith(name):  # its own docstrings, not re-exported ones
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_docstring_examples_exist_for_the_public_api():
    public = [getattr(tiedhmm, name) for name in tiedhmm.__all__
              if callable(getattr(tiedhmm, name))]
    with_examples = [obj for obj in public if ">>> " in (obj.__doc__ or "")]
    assert len(with_examples) >= 10


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("pydata_sphinx_theme")
    # A clean copy of the sources, so that no earlier build's gallery output is reused:
    # every example runs here.
    built_here = shutil.ignore_patterns("_build", "auto_examples", "generated",
                                        "sg_execution_times.rst")
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=built_here)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    built = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                            "html", str(tmp_path / "docs"), str(tmp_path / "html")],
                           capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-4000:]
    gallery = tmp_path / "html" / "_images"
    examples = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))
    assert len(examples) >= 5
    for example in examples:  # every example ran and drew its figure
        assert (gallery / f"sphx_glr_{example}_001.png").is_file(), example
    assert (tmp_path / "html" / "generated" / "tiedhmm.PairHMM.html").is_file()
