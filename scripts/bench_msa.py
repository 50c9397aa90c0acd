"""Multiple alignment accuracy and wall time on BAliBASE 3 (dev split) against the tools
a user would pick instead, all in one run.

Each case's ``.tfa`` goes through ``tiedhmm msa IN.fa -o OUT.fa --quiet``, ProbCons,
MUSCLE 5 (``-align``), MAFFT L-INS-i (``--localpair --maxiterate 1000``), MAFFT
``--auto`` and Clustal Omega (those found on the PATH; Debian: ``apt-get install -y
probcons muscle mafft clustalo``); the output is scored against the case's ``.xml`` core
blocks by ``tiedhmm.msa.compare`` with the official rounding (it reproduces bali_score
3.01's figures; ``tests/test_compare.py`` checks it against the official scores). Prints
mean SP and TC per reference set and the wall time of the whole set per tool (its
cases' wall times summed).
Ends with each tool's mean over the sets and its total time. All six sets with every peer
take about three hours on a 2-core machine (ProbCons and MUSCLE 5 about an hour each);
name sets, ``--tools`` or ``--cases N`` for less, or ``--jobs 2``: cases run two at a
time, every tool on one thread (tiedhmm ``--threads 1``, MUSCLE 5 ``-threads 1``,
Clustal Omega ``--threads=1``; ProbCons and MAFFT use one by default), and each tool's
time is also given as the CPU seconds its processes used, which other work on the
machine hardly changes.
Usage: ``python scripts/bench_msa.py [RV11 RV12 ...] [--cases N] [--model FILE]
[--tiedhmm-options "..."] [--tools NAME ...] [--jobs N] [--log FILE]``
(``--tiedhmm-options``: more options of ``tiedhmm msa``, such as ``"--local-weight
0.5"``; ``--tools``: only those, tiedhmm included when named; ``--log`` appends one
tab-separated line per case and tool: set, tool, case, SP, TC, seconds, CPU seconds).
"""

from __future__ import annotations

import argparse
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
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
#: What makes each tool use one thread, for ``--jobs`` above 1 (the others use one).
ONE_THREAD = {"tiedhmm": ["--threads", "1"], "MUSCLE 5": ["-threads", "1"],
              "Clustal Omega": ["--threads=1"]}


def score(reference: Path, alignment: Path) -> tuple[float, float]:
    """SP and TC of an aligned FASTA file against a BAliBASE reference (0 and 0 for
    output that is not an alignment of the case's sequences)."""
    try:
        scores = compare(alignment, reference, official_rounding=True)
    except InvalidDataError:
        return 0.0, 0.0
    return scores.sp, scores.tc


def run_case(command: list[str], to_stdout: bool, case: Path,
             out: Path) -> tuple[float, float, float, float]:
    """Align ``case`` with ``command`` (writing ``out``) and score it: SP, TC, wall
    seconds and the CPU seconds of the tool's process (run in a worker process, one
    case at a time, so its children's CPU time is this case's)."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime
           - cpu_before.ru_utime - cpu_before.ru_stime)
    if to_stdout:
        out.write_text(result.stdout)
    sp = tc = 0.0
    if result.returncode == 0 and out.exists():
        sp, tc = score(case.with_suffix(".xml"), out)
    out.unlink(missing_ok=True)
    return sp, tc, elapsed, cpu


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
    parser.add_argument("--jobs", type=int, default=1,
                        help="cases at a time, each tool on one thread when above 1")
    parser.add_argument("--log", type=Path, help="append per-case scores and times here")
    args = parser.parse_args()
    extra = shlex.split(args.tiedhmm_options) + (["--model", args.model] if args.model else [])
    TOOLS["tiedhmm"] = lambda i, o: [*_tiedhmm(), "msa", i, "-o", o, "--quiet", *extra]
    if not CASES.is_dir():
        sys.exit(f"no BAliBASE cases at {CASES}")
    tools = {name: command for name, command in TOOLS.items()
             if (name == "tiedhmm" or shutil.which(command("x", "y")[0]))
             and (not args.tools or name in args.tools)}
    with tempfile.TemporaryDirectory() as scratch, \
            ProcessPoolExecutor(max(1, args.jobs)) as pool:
        scratch = Path(scratch)
        if "tiedhmm" in tools:
            subprocess.run(tools["tiedhmm"](str(next((CASES / args.sets[0]).glob("*.tfa"))),
                                            str(scratch / "warm.fa")), check=True)  # compile
        groups = {}
        for reference_set in args.sets:
            cases = sorted((CASES / reference_set).glob("*.tfa"))[:args.cases]
            for name, command in tools.items():
                threads = ONE_THREAD.get(name, []) if args.jobs > 1 else []
                groups[reference_set, name] = [
                    (case, pool.submit(run_case, [*command(str(case), str(out)), *threads],
                                       name in TO_STDOUT, case, out))
                    for case in cases for out in [scratch / f"{name}.{case.stem}.fa"]]
        cpu_column = f"{'CPU s':>9}" if args.jobs > 1 else ""
        print(f"{'set':<6}{'tool':<16}{'SP':>7}{'TC':>7}{'seconds':>9}{cpu_column}"
              f"{'cases':>7}")
        totals: dict[str, list[tuple[float, float, float, float]]] = {
            name: [] for name in tools}
        for (reference_set, name), runs in groups.items():
            results = [(case, future.result()) for case, future in runs]
            if args.log:
                with args.log.open("a") as log:
                    for case, (sp, tc, elapsed, cpu) in results:
                        log.write(f"{reference_set}\t{name}\t{case.stem}\t{sp:.3f}\t"
                                  f"{tc:.3f}\t{elapsed:.2f}\t{cpu:.2f}\n")
            sps, tcs, seconds, cpus = (list(column) for column in
                                       zip(*(result for _, result in results)))
            row = (sum(sps) / len(sps), sum(tcs) / len(tcs), sum(seconds), sum(cpus))
            totals[name].append(row)
            _print_row(reference_set, name, row, args.jobs > 1, f"{len(results):>7}")
        if len(args.sets) > 1:
            for name, rows in totals.items():
                set_sps, set_tcs, set_seconds, set_cpus = zip(*rows)
                _print_row("mean", name, (sum(set_sps) / len(rows), sum(set_tcs) / len(rows),
                                          sum(set_seconds), sum(set_cpus)),
                           args.jobs > 1, f"{len(rows):>5} sets")


def _print_row(label: str, name: str, row: tuple[float, float, float, float], cpu: bool,
               count: str) -> None:
    sp, tc, seconds, cpu_seconds = row
    cpu_text = f"{cpu_seconds:>9.1f}" if cpu else ""
    print(f"{label:<6}{name:<16}{sp:>7.3f}{tc:>7.3f}{seconds:>9.1f}{cpu_text}{count}",
          flush=True)


if __name__ == "__main__":
    main()
