"""The tiedhmm command line: align, score, train and plot posteriors of sequence pairs.

Exit codes: 0 success, 1 a data error (missing or unreadable file, empty or non-FASTA
input, unknown letters, a model file of the wrong kind), 2 a usage error. Errors are
one line on stderr; an output file is written only when the whole command succeeded
(temporary name, then rename). FASTA inputs may be gzip-compressed, or ``-`` for stdin.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import logging
import sys
from collections.abc import Iterator, Sequence
from itertools import combinations
from pathlib import Path

import numpy as np

from .alphabets import ALPHABETS

ALIGNMENT_FORMATS = ("fasta", "clustal", "stockholm", "sam", "tsv")
PRESETS = ("probcons", "durbin")
BATCH = 256

log = logging.getLogger("tiedhmm")


class DataError(Exception):
    """A problem with the user's data or files: exit code 1, one line on stderr."""


# -- input --------------------------------------------------------------------------
def read_fasta(name: str) -> list:
    """All records of a FASTA file (gzip or plain, ``-`` for stdin); at least one."""
    from Bio import SeqIO
    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except OSError as error:
        raise DataError(f"{name}: cannot read ({error.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataError(f"{name}: corrupt gzip data ({error})") from None
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise DataError(f"{name}: not a FASTA file (binary data)") from None
    if not text.strip():
        raise DataError(f"{name}: no FASTA records (the input is empty)")
    if not text.lstrip().startswith(">"):
        raise DataError(f"{name}: not a FASTA file (no '>' header at the start)")
    records = list(SeqIO.parse(io.StringIO(text), "fasta"))
    if not records:
        raise DataError(f"{name}: no FASTA records")
    empty = [record.id for record in records if len(record.seq) == 0]
    if empty:
        raise DataError(f"{name}: record {empty[0]!r} has an empty sequence")
    return records


def _pairs(args) -> list[tuple]:
    first = read_fasta(args.a)
    if args.b is not None:
        if args.all_vs_all:
            raise DataError("--all-vs-all takes one FASTA file, not two")
        return [(first[0], record) for record in read_fasta(args.b)]
    if args.all_vs_all:
        return list(combinations(first, 2))
    if len(first) < 2:
        raise DataError(f"{args.a}: one record only; give a second file or more records")
    return [(first[0], record) for record in first[1:]]


def _load_model(args):
    """The ``--model`` pair HMM, made local (unaligned flanks) with ``--local``."""
    from .pairhmm import PairHMM
    try:
        model = PairHMM.load(args.model)
    except (FileNotFoundError, ValueError) as error:
        raise DataError(str(error).strip('"')) from None
    return _checked(model.local) if getattr(args, "local", False) else model


def _batches(items: Sequence, args, what: str) -> Iterator[Sequence]:
    """``items`` in batches, with a progress bar on a terminal unless ``--quiet``."""
    chunks = [items[k:k + BATCH] for k in range(0, len(items), BATCH)]
    if args.quiet or not sys.stderr.isatty() or len(chunks) < 2:
        yield from chunks
        return
    from tqdm import tqdm
    with tqdm(total=len(items), unit=what, file=sys.stderr) as bar:
        for chunk in chunks:
            yield chunk
            bar.update(len(chunk))


@contextlib.contextmanager
def _iteration_bar(args):
    """A per-iteration EM callback drawing a progress bar on a terminal, else None."""
    if args.quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm
    with tqdm(total=args.iter, unit="iteration", file=sys.stderr) as bar:
        def report(iteration: int, loglik: float) -> None:
            bar.update(iteration - bar.n)
            bar.set_postfix(loglik=f"{loglik:.4f}")
        yield report


# -- output -------------------------------------------------------------------------
def _emit(text: str, output: str | None) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    from .io import write_atomic
    write_atomic(Path(output), text)


def _format_alignments(alignments: list, pairs: list[tuple], fmt: str) -> str:
    if fmt == "tsv":
        rows = ["x\ty\tscore"] + [f"{x.id}\t{y.id}\t{a.score:.6f}"
                                  for a, (x, y) in zip(alignments, pairs)]
        return "\n".join(rows) + "\n"
    from Bio import Align
    for alignment in alignments:
        alignment.column_annotations = {}
    handle = io.StringIO()
    if fmt in ("fasta", "clustal"):  # one alignment per block: Biopython reads one per file
        for number, alignment in enumerate(alignments):
            handle.write("\n" if number else "")
            Align.write(alignment, handle, fmt)
    else:
        Align.write(alignments, handle, fmt)
    return handle.getvalue()


# -- commands -----------------------------------------------------------------------
def _cluster(args):
    """A context giving a Dask client for ``--scheduler`` (closed after the command), or
    None to work in this process."""
    if not args.scheduler:
        return contextlib.nullcontext()
    from .parallel import connect
    return _checked(connect, args.scheduler)


def _align(args) -> None:
    model = _load_model(args)
    pairs = _pairs(args)
    alignments = []
    with _cluster(args) as client:
        for chunk in _batches(pairs, args, "pairs"):
            alignments.extend(_checked(model.align_many, list(chunk), method=args.method,
                                       client=client))
    _emit(_format_alignments(alignments, pairs, args.format), args.output)


def _score(args) -> None:
    model = _load_model(args)
    pairs = _pairs(args)
    rows = ["x\ty\tloglik\texpected_accuracy"]
    with _cluster(args) as client:
        for chunk in _batches(pairs, args, "pairs"):
            logliks = _checked(model.loglik_many, list(chunk), client=client)
            accuracies = _checked(model.expected_accuracy_many, list(chunk), client=client)
            for (x, y), loglik, accuracy in zip(chunk, logliks, accuracies):
                rows.append(f"{x.id}\t{y.id}\t{loglik:.6f}\t{accuracy:.6f}")
    _emit("\n".join(rows) + "\n", args.output)


def _train(args) -> None:
    from .pairhmm import PairHMM
    records = read_fasta(args.pairs)
    if len(records) % 2:
        raise DataError(f"{args.pairs}: {len(records)} records; training reads consecutive "
                        f"records as pairs, so the count must be even")
    pairs = [(records[k], records[k + 1]) for k in range(0, len(records), 2)]
    build = PairHMM.probcons if args.preset == "probcons" else PairHMM.durbin
    model = build(args.alphabet, symmetric=args.symmetric)
    model.n_iter, model.tol, model.verbose = args.iter, args.tol, args.verbose
    for state in model.states:
        if state.emits == "match" and "match" in args.freeze:
            state.emission.trainable = False
    with _cluster(args) as client, _iteration_bar(args) as callback:
        _checked(model.fit, pairs, client=client, callback=callback)
    log.info("EM stopped after %d iterations, log-likelihood %.6f",
             model.monitor_.iter, model.monitor_.history[-1])
    model.save(args.output)


def _posterior(args) -> None:
    model = _load_model(args)
    x, y = read_fasta(args.a)[0], read_fasta(args.b)[0]
    posterior = _checked(model.posterior, x, y)
    alignment = _checked(model.align, x, y, args.method)
    from .plotting import save_posterior_plot
    save_posterior_plot(posterior, alignment, x.id, y.id, Path(args.plot))


def _checked(call, *args, **kwargs):
    """Library ValueErrors about the data become DataErrors (exit 1, one line)."""
    try:
        return call(*args, **kwargs)
    except ValueError as error:
        raise DataError(str(error)) from None


# -- parser -------------------------------------------------------------------------
def _common(parser: argparse.ArgumentParser, model: bool = True, cluster: bool = True) -> None:
    if model:
        parser.add_argument("--model", default="protein",
                            help="bundled model (protein, dna) or a model file from "
                                 "'tiedhmm train' (default: protein)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    if cluster:
        parser.add_argument("--scheduler", metavar="ADDRESS",
                            help="run on a Dask cluster (needs tiedhmm[distributed])")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log progress (EM log-likelihood per iteration) on stderr")


def _pair_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A.fa", help="FASTA file (gzip or '-' for stdin)")
    parser.add_argument("b", metavar="B.fa", nargs="?",
                        help="align the first record of A with each record of B "
                             "(default: the first record of A with the rest of A)")
    parser.add_argument("--all-vs-all", action="store_true", help="every pair within A")
    parser.add_argument("-o", "--output", help="output file (default: stdout)")
    _local_option(parser)


def _local_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--local", action="store_true",
                        help="local alignment: unaligned flanks before and after the "
                             "aligned core (reported alignments cover the core only)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tiedhmm", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    align = commands.add_parser("align", help="align sequence pairs",
                                description="Align pairs with a pair HMM.")
    _pair_inputs(align)
    align.add_argument("--method", choices=("viterbi", "mea"), default="viterbi",
                       help="most probable path or maximum expected accuracy")
    align.add_argument("--format", choices=ALIGNMENT_FORMATS, default="fasta",
                       help="output format (fasta and clustal: one block per pair; "
                            "tsv: scores only)")
    _common(align)
    align.set_defaults(run=_align)

    score = commands.add_parser("score", help="log-likelihood and expected accuracy (TSV)",
                                description="Forward log-likelihood and posterior "
                                            "expected accuracy of each pair, as TSV.")
    _pair_inputs(score)
    _common(score)
    score.set_defaults(run=_score)

    train = commands.add_parser("train", help="fit a pair HMM to unaligned pairs",
                                description="EM on unaligned pairs: consecutive records "
                                            "of PAIRS.fa form a pair.")
    train.add_argument("pairs", metavar="PAIRS.fa")
    train.add_argument("-o", "--output", required=True, help="model file to write (JSON)")
    train.add_argument("--preset", choices=PRESETS, default="probcons")
    train.add_argument("--alphabet", choices=sorted(ALPHABETS), default="protein")
    train.add_argument("--symmetric", action=argparse.BooleanOptionalAction, default=True,
                       help="tie the x and y insert states (default: on)")
    train.add_argument("--freeze", action="append", choices=("match",), default=[],
                       help="keep a group fixed during EM")
    train.add_argument("--iter", type=int, default=20, help="maximum EM iterations")
    train.add_argument("--tol", type=float, default=1e-2, help="stop when the gain is below")
    _common(train, model=False)
    train.set_defaults(run=_train)

    posterior = commands.add_parser("posterior", help="plot the match-posterior matrix",
                                    description="Heatmap of P(x_i ~ y_j) with the "
                                                "alignment path (needs tiedhmm[plot]).")
    posterior.add_argument("a", metavar="A.fa")
    posterior.add_argument("b", metavar="B.fa")
    posterior.add_argument("--plot", required=True, metavar="OUT.png")
    posterior.add_argument("--method", choices=("viterbi", "mea"), default="mea")
    _local_option(posterior)
    _common(posterior, cluster=False)
    posterior.set_defaults(run=_posterior)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(format="tiedhmm: %(message)s", stream=sys.stderr,
                        level=logging.INFO if args.verbose else logging.WARNING)
    np.seterr(all="ignore")
    try:
        args.run(args)
    except (DataError, ImportError) as error:
        print(f"tiedhmm: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
