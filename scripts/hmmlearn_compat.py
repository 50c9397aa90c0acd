"""hmmlearn's own test suite with tiedhmm's estimators substituted: how much of a drop-in.

Runs the tests shipped inside the installed hmmlearn package (nothing is copied into
this project) with every model class of ``hmmlearn.hmm`` (``CategoricalHMM``,
``GaussianHMM``, ``GMMHMM``, ``MultinomialHMM``, ``PoissonHMM``) and of ``hmmlearn.vhmm``
(``VariationalCategoricalHMM``, ``VariationalGaussianHMM``) replaced by tiedhmm's
before collection, and prints passed / failed per test file, then the causes of the
failures (the first line of each failure's exception, counted).
Usage: ``python scripts/hmmlearn_compat.py [-k EXPR]``.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
from pathlib import Path

import hmmlearn
import hmmlearn.hmm
import hmmlearn.vhmm
import pytest

import tiedhmm as th

SUBSTITUTES = {"CategoricalHMM": th.CategoricalHMM, "GaussianHMM": th.GaussianHMM,
               "GMMHMM": th.GMMHMM, "MultinomialHMM": th.MultinomialHMM,
               "PoissonHMM": th.PoissonHMM}
VARIATIONAL = {"VariationalCategoricalHMM": th.VariationalCategoricalHMM,
               "VariationalGaussianHMM": th.VariationalGaussianHMM}
OFFERED = ("test_categorical_hmm.py", "test_gaussian_hmm.py", "test_gmm_hmm.py",
           "test_gmm_hmm_multisequence.py", "test_gmm_hmm_new.py", "test_multinomial_hmm.py",
           "test_poisson_hmm.py", "test_variational_categorical.py",
           "test_variational_gaussian.py")
class Tally:
    """A pytest plugin: substitutes the classes, then counts outcomes per file."""

    def __init__(self) -> None:
        self.outcomes: dict[str, collections.Counter] = collections.defaultdict(
            collections.Counter)
        self.causes: collections.Counter = collections.Counter()
        self.private: collections.Counter = collections.Counter()
        self.examples: dict[str, str] = {}
        self.failed: list[str] = []

    def pytest_configure(self, config) -> None:
        for name, substitute in SUBSTITUTES.items():
            setattr(hmmlearn.hmm, name, substitute)
        for name, substitute in VARIATIONAL.items():
            setattr(hmmlearn.vhmm, name, substitute)

    def pytest_runtest_logreport(self, report) -> None:
        if report.when != "call" and not (report.failed or report.skipped):
            return
        if report.when != "call" and report.passed:
            return
        file = Path(report.nodeid.split("::")[0]).name
        self.outcomes[file][report.outcome] += 1
        if report.failed:
            self.failed.append(report.nodeid)
            crash = getattr(report.longrepr, "reprcrash", None)
            message = crash.message if crash is not None else str(report.longrepr)
            first = re.sub(r" at 0x[0-9a-f]+", "", message.splitlines()[0]) if message else "?"
            if re.search(r"has no attribute '_\w+'", first):
                self.private[file] += 1  # hmmlearn's private API, not part of the drop-in
            self.causes[first[:110]] += 1
            self.examples.setdefault(first[:110], report.nodeid.split("::", 1)[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", help="only tests matching this pytest expression")
    parser.add_argument("--all-classes", action="store_true",
                        help="every model class substituted (what runs with or without it)")
    args = parser.parse_args(argv)
    tests = Path(hmmlearn.__file__).resolve().parent / "tests"
    os.environ.setdefault("HMMLEARN_SEED", "0")
    tally = Tally()
    options = ["-q", "-rN", "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(tests),
               *(str(tests / name) for name in OFFERED)]
    if args.k:
        options += ["-k", args.k]
    pytest.main(options, plugins=[tally])
    print(f"\nhmmlearn {hmmlearn.__version__} test suite, tiedhmm {th.__version__} classes")
    print(f"{'file':34s} {'passed':>7s} {'failed':>7s} {'private':>8s} {'skipped':>8s}")
    totals = collections.Counter()
    for name in OFFERED:
        counts = tally.outcomes.get(name, collections.Counter())
        totals.update(counts)
        print(f"{name:34s} {counts['passed']:7d} {counts['failed']:7d} "
              f"{tally.private[name]:8d} {counts['skipped']:8d}")
    print(f"{'all offered':34s} {totals['passed']:7d} {totals['failed']:7d} "
          f"{sum(tally.private.values()):8d} {totals['skipped']:8d}")
    print("(failed counts every failure; private: of those, the ones that call a private "
          "hmmlearn method; skipped: hmmlearn's own xfail and skip marks)")
    if tally.causes:
        print("\nfailures by cause:")
        for message, count in tally.causes.most_common(25):
            print(f"{count:5d}  {message}\n       e.g. {tally.examples[message]}")


if __name__ == "__main__":
    main()
