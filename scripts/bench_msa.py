"""Multiple alignment accuracy and wall time on BAliBASE 3 (dev split) against the tools
a user would pick instead, all in one run.

Each case's ``.tfa`` goes through ``tiedhmm msa IN.fa -o OUT.fa --quiet``, ProbCons,
MUSCLE 5 (``-align``), MAFFT L-INS-i (``--localpair --maxiterate 1000``), MAFFT
``--auto`` and Clustal Omega (those found on the PATH; Debian: ``apt-get install -y
probcons muscle mafft clustalo``); the output is scored against the case's ``.xml`` core
blocks by ``tiedhmm.msa.compare`` with the official rounding (it reproduces bali_score
3.01's figures; ``tests/test_compare.py`` checks it against the official scores). Prints
mean SP and TC per reference set and the wall time of the whole set per tool.
Ends with each tool's mean over the sets and its total time. All six sets with every peer
take about three and a half hours on a 2-core machine (ProbCons and MUSCLE 5 over an
hour each); name sets, ``--tools`` or ``--cases N`` for less.
Usage: ``python scripts/bench_msa.py [RV11 RV12 ...] [--cases N] [--model FILE]
[--tiedhmm-options "..."] [--tools NAME ...] [--log FILE]`` (``--tiedhmm-options``: more
options of ``tiedhmm msa``, such as ``"--local-weight 0.5"``; ``--tools``: only those,
tiedhmm included when named; ``--log`` appends one tab-separated line per case and
tool: set, tool, case, SP, TC, seconds).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tiedhmm.errors import InvalidDataError
from tiedhmm.msa import compare

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CASES = SHARED / "data" / "balibase3-dev"
SETS = ("RV11", "RV12", "RV20", "RV30", "RV40", "RV50")


def _tiedhmm() -> list[str]:
    script = Path(sys.executable).with_name("tiedhmm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tiedhmm"]


TOOLS = {
    "tiedhmm": lambda i, o: [*_tiedhmm(), "msa", i, "-o", o, "--quiet"],
    "ProbCons": lambda i, o: ["probcons", i],
    "MUSCLE 5": lambda i, o: ["muscle", "-align", i, "-output", o],
    "MAFFT L-INS-i": lambda i, o: ["mafft", "--localpair", "--maxiterate", "1000", "--quiet", i],
    "MAFFT auto": lambda i, o: ["mafft", "--auto", "--quiet", i],
    "Clustal Omega": lambda i, o: ["clustalo", "-i", i, "-o", o, "--force"],
}
#: Tools that write the alignment to stdout rather than to ``-o`` / ``-output``.
TO_STDOUT = {"ProbCons", "MAFFT L-INS-i", "MAFFT auto"}


def score(reference: Path, alignment: Path) -> tuple[float, float]:
    """SP and TC of an aligned FASTA file against a BAliBASE reference (0 and 0 for
    output that is not an alignment of the case's sequences)."""
    try:
        scores = compare(alignment, reference, official_rounding=True)
    except InvalidDataError:
        return 0.0, 0.0
    return scores.sp, scores.tc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="*", default=list(SETS),
                        help="reference sets (default: all six)")
    parser.add_argument("--cases", type=int, help="the first N cases of each set only")
    parser.add_argument("--model", help="tiedhmm's --model (default: the bundled one)")
    parser.add_argument("--tiedhmm-options", default="", metavar="OPTIONS",
                        help="more options of `tiedhmm msa`, one string, e.g. "
                             "'--local-weight 0.5' (how docs/msa.rst's weights were run)")
    parser.add_argument("--tools", nargs="+", choices=sorted(TOOLS), metavar="TOOL",
                        help=f"only these of {', '.join(TOOLS)}")
    parser.add_argument("--log", type=Path, help="append per-case scores and times here")
    args = parser.parse_args()
    extra = shlex.split(args.tiedhmm_options) + (["--model", args.model] if args.model else [])
    TOOLS["tiedhmm"] = lambda i, o: [*_tiedhmm(), "msa", i, "-o", o, "--quiet", *extra]
    if not CASES.is_dir():
        sys.exit(f"no BAliBASE cases at {CASES}")
    tools = {name: command for name, command in TOOLS.items()
             if (name == "tiedhmm" or shutil.which(command("x", "y")[0]))
             and (not args.tools or name in args.tools)}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        if "tiedhmm" in tools:
            subprocess.run(tools["tiedhmm"](str(next((CASES / args.sets[0]).glob("*.tfa"))),
                                            str(scratch / "warm.fa")), check=True)  # compile
        print(f"{'set':<6}{'tool':<16}{'SP':>7}{'TC':>7}{'seconds':>9}{'cases':>7}")
        totals: dict[str, list[tuple[float, float, float]]] = {name: [] for name in tools}
        for reference_set in args.sets:
            cases = sorted((CASES / reference_set).glob("*.tfa"))[:args.cases]
            for name, command in tools.items():
                sps, tcs, seconds = [], [], 0.0
                for case in cases:
                    out = scratch / f"{case.stem}.fa"
                    start = time.perf_counter()
                    result = subprocess.run(command(str(case), str(out)), capture_output=True,
                                            text=True)
                    elapsed = time.perf_counter() - start
                    seconds += elapsed
                    if name in TO_STDOUT:
                        out.write_text(result.stdout)
                    sp = tc = 0.0
                    if result.returncode == 0 and out.exists():
                        sp, tc = score(case.with_suffix(".xml"), out)
                    out.unlink(missing_ok=True)
                    sps.append(sp)
                    tcs.append(tc)
                    if args.log:
                        with args.log.open("a") as log:
                            log.write(f"{reference_set}\t{name}\t{case.stem}\t{sp:.3f}\t"
                                      f"{tc:.3f}\t{elapsed:.2f}\n")
                print(f"{reference_set:<6}{name:<16}{sum(sps) / len(sps):>7.3f}"
                      f"{sum(tcs) / len(tcs):>7.3f}{seconds:>9.1f}{len(cases):>7}", flush=True)
                totals[name].append((sum(sps) / len(sps), sum(tcs) / len(tcs), seconds))
        if len(args.sets) > 1:
            for name, rows in totals.items():
                set_sps, set_tcs, set_seconds = zip(*rows)
                print(f"{'mean':<6}{name:<16}{sum(set_sps) / len(rows):>7.3f}"
                      f"{sum(set_tcs) / len(rows):>7.3f}{sum(set_seconds):>9.1f}"
                      f"{len(rows):>5} sets")


if __name__ == "__main__":
    main()
