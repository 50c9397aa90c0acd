"""The tiedhmm command line: align, score, train and plot posteriors of sequence pairs; msa;
read likelihoods against haplotypes, and the read model they may use.

Exit codes: 0 success; 1 a problem with the data, files or settings (every
:class:`~tiedhmm.errors.TiedHMMError`: missing or unreadable file, empty or non-FASTA
input, unknown letters, a model file of the wrong kind or alphabet, an output folder
that does not exist, not enough memory); 2 a usage error; 3 an internal error (a bug:
one line asking for a report, the traceback with ``--debug``). Messages are one line
on stderr; an output file is written only when the whole command succeeded
(temporary name, then rename). FASTA inputs may be gzip-compressed, or ``-`` for stdin.
Without ``--model`` the input's alphabet picks the bundled model. ``main`` changes no
process-wide state: numpy's error settings are scoped and only the ``tiedhmm`` logger
gets a handler, for the command's duration.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, parallel
from .errors import BUG_REPORT, InvalidDataError, TiedHMMError
from .io import files as model_files
from .io.fasta import detect_alphabet, read_fasta
from .io.reads import ReadRecord, read_alignments, read_sequence_reads
from .msa.compare import compare
from .msa.confidence import trim
from .msa.kmers import ALL_PAIRS_LIMIT, DEFAULT_NEIGHBOURS
from .msa.pair_posteriors import AUTO, DEFAULT_LOCAL_WEIGHT
from .msa.progressive import DEFAULT_PRETRAIN, family_records, msa
from .pair.alignment import for_writing, with_headers_as_read
from .pair.alphabets import ALPHABETS
from .pair.model import PairHMM
from .pair.reads import ReadContextModel, gatk_qualities, read_likelihoods
from .parallel import connect
from .plotting import save_posterior_plot

ALIGNMENT_FORMATS = ("fasta", "clustal", "stockholm", "sam", "tsv")
MSA_FORMATS = ("fasta", "clustal", "stockholm", "a2m", "phylip")
#: The file name ending of each format, for families written to a folder.
MSA_EXTENSIONS = {"fasta": "fa", "clustal": "aln", "stockholm": "sto", "a2m": "a2m",
                  "phylip": "phy"}
PRESETS = ("probcons", "durbin")
PAIRINGS = ("all", "consecutive")
BATCH = 256
EXIT_DATA, EXIT_INTERNAL = 1, 3  # argparse exits 2 on usage errors itself

log = logging.getLogger("tiedhmm")


# -- input --------------------------------------------------------------------------
def _pairs(args: argparse.Namespace) -> list[tuple[Any, ...]]:
    first = read_fasta(args.a, dealign=True)
    if args.b is not None:
        if args.all_vs_all:
            raise InvalidDataError("--all-vs-all takes one FASTA file, not two")
        return [(first[0], record) for record in read_fasta(args.b, dealign=True)]
    if args.all_vs_all:
        return list(combinations(first, 2))
    if len(first) < 2:
        raise InvalidDataError(f"{args.a}: one record only; give a second file or more "
                               f"records")
    return [(first[0], record) for record in first[1:]]


def _load_model(args: argparse.Namespace, records: Sequence[Any]) -> PairHMM:
    """The ``--model`` pair HMM (by default the bundled model of the input's alphabet,
    said once on stderr), made local (unaligned flanks) with ``--local``. A model whose
    alphabet does not fit the input is an error naming both."""
    found = detect_alphabet(records)
    if args.model is None:
        log.warning("the input looks like %s: using the bundled %s model (--model to "
                    "choose another)", "DNA" if found == "dna" else "protein", found)
        model = PairHMM.load(found)
    else:
        model = PairHMM.load(args.model)
        if model.alphabet.name != found:
            raise InvalidDataError(f"the input looks like {found} but model {args.model!r} "
                                   f"is a {model.alphabet.name} model; pass a {found} "
                                   f"model or leave --model out")
    chosen: PairHMM = model.local() if getattr(args, "local", False) else model
    return chosen


def _check_output(args: argparse.Namespace) -> None:
    """Fail before any work when an output file's folder does not exist."""
    for output in (getattr(args, "output", None), getattr(args, "plot", None)):
        if output not in (None, "-"):
            model_files.check_folder(output)


def _batches(items: Sequence[Any], args: argparse.Namespace, what: str) -> Iterator[Sequence[Any]]:
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
def _iteration_bar(args: argparse.Namespace
                   ) -> Iterator[Callable[[int, float], None] | None]:
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


@contextlib.contextmanager
def _family_bar(args: argparse.Namespace, total: int) -> Iterator[Callable[[], None]]:
    """A ``finished()`` callback advancing one bar over ``total`` families on a terminal
    (nothing for one family, with ``--quiet`` or off a terminal)."""
    if total < 2 or args.quiet or not sys.stderr.isatty():
        yield lambda: None
        return
    from tqdm import tqdm
    with tqdm(total=total, unit="family", file=sys.stderr) as bar:
        def finished() -> None:
            bar.update(1)
        yield finished


@contextlib.contextmanager
def _stage_bars(args: argparse.Namespace | None
                ) -> Iterator[Callable[[str, int, int], None] | None]:
    """A ``progress(stage, done, total)`` callback drawing one bar per stage on a
    terminal, else None (also for ``args`` None: no bars)."""
    if args is None or args.quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr)
        bars[stage].update(done - bars[stage].n)
    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()


# -- output -------------------------------------------------------------------------
def _emit(text: str, output: str | None) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    model_files.write_text(output, text)


def _format_alignments(alignments: list[Any], pairs: list[tuple[Any, ...]], fmt: str) -> str:
    if fmt == "tsv":
        rows = ["x\ty\tscore"] + [f"{x.id}\t{y.id}\t{a.score:.6f}"
                                  for a, (x, y) in zip(alignments, pairs)]
        return "\n".join(rows) + "\n"
    from Bio import Align
    for alignment in alignments:
        alignment.column_annotations = {}
        with_headers_as_read(alignment)
    handle = io.StringIO()
    if fmt in ("fasta", "clustal"):  # one alignment per block: Biopython reads one per file
        for number, alignment in enumerate(alignments):
            handle.write("\n" if number else "")
            Align.write(alignment, handle, fmt)
    else:
        Align.write(alignments, handle, fmt)
    return handle.getvalue()


# -- commands -----------------------------------------------------------------------
def _cluster(args: argparse.Namespace) -> contextlib.AbstractContextManager[Any]:
    """A context giving a Dask client for ``--scheduler`` (closed after the command), or
    None to work in this process."""
    if not args.scheduler:
        return contextlib.nullcontext()
    client: contextlib.AbstractContextManager[Any] = connect(args.scheduler)
    return client


def _align(args: argparse.Namespace) -> None:
    pairs = _pairs(args)
    model = _load_model(args, _records_of(pairs))
    alignments = []
    with _cluster(args) as client:
        for chunk in _batches(pairs, args, "pairs"):
            alignments.extend(model.align_many(list(chunk), method=args.method,
                                               client=client))
    _emit(_format_alignments(alignments, pairs, args.format), args.output)


def _records_of(pairs: Sequence[tuple[Any, ...]]) -> list[Any]:
    return [record for pair in pairs for record in pair]


def _score(args: argparse.Namespace) -> None:
    pairs = _pairs(args)
    model = _load_model(args, _records_of(pairs))
    rows = ["x\ty\tloglik\texpected_accuracy"]
    with _cluster(args) as client:
        for chunk in _batches(pairs, args, "pairs"):
            logliks = model.loglik_many(list(chunk), client=client)
            accuracies = model.expected_accuracy_many(list(chunk), client=client)
            for (x, y), loglik, accuracy in zip(chunk, logliks, accuracies):
                rows.append(f"{x.id}\t{y.id}\t{loglik:.6f}\t{accuracy:.6f}")
    _emit("\n".join(rows) + "\n", args.output)


def _training_pairs(records: list[Any], args: argparse.Namespace) -> list[tuple[Any, ...]]:
    """Every pair within the family (``--pairs all``) or consecutive records as pairs,
    at most ``--max-pairs`` of them drawn without replacement (seeded)."""
    rng = np.random.RandomState(args.seed)
    if args.pairs == "consecutive":
        if len(records) % 2:
            raise InvalidDataError(f"{args.family}: {len(records)} records; --pairs "
                                   f"consecutive reads consecutive records as pairs, so "
                                   f"the count must be even")
        pairs = [(records[k], records[k + 1]) for k in range(0, len(records), 2)]
        if args.max_pairs is not None and len(pairs) > args.max_pairs:
            pairs = [pairs[k] for k in sorted(rng.choice(len(pairs), args.max_pairs,
                                                         replace=False))]
        return pairs
    n = len(records)
    if n < 2:
        raise InvalidDataError(f"{args.family}: one record only; training needs pairs")
    if args.max_pairs is None or args.max_pairs >= n * (n - 1) // 2:
        return list(combinations(records, 2))
    chosen: set[tuple[int, int]] = set()  # drawn without listing all n^2 / 2 pairs
    while len(chosen) < args.max_pairs:
        i, j = rng.randint(n, size=2)
        if i != j:
            chosen.add((min(i, j), max(i, j)))
    return [(records[i], records[j]) for i, j in sorted(chosen)]


def _train(args: argparse.Namespace) -> None:
    records = read_fasta(args.family, dealign=True)
    pairs = _training_pairs(records, args)
    alphabet = args.alphabet or detect_alphabet(records)
    build = PairHMM.probcons if args.preset == "probcons" else PairHMM.durbin
    model = build(alphabet, symmetric=args.symmetric, n_iter=args.iter, tol=args.tol,
                  verbose=args.verbose)
    for state in model.states:
        if state.emits == "match" and "match" in args.freeze:
            state.emission.trainable = False
    log.info("training on %d pairs of %d records", len(pairs), len(records))
    with _cluster(args) as client, _iteration_bar(args) as callback:
        model.fit(pairs, client=client, callback=callback)
    if model.monitor_.history:
        log.info("EM stopped after %d iterations, log-likelihood %.6f",
                 model.monitor_.iter, model.monitor_.history[-1])
    model.save(args.output)


def _msa(args: argparse.Namespace) -> None:
    from Bio import Align
    families = [_read_family(name) for name in args.family]  # every input checked first
    targets = _family_outputs(args) if len(families) > 1 else [args.output]
    kinds = [detect_alphabet(records) for records in families]
    models = {}  # each alphabet's model, loaded (and checked against it) before any work
    for kind, records in zip(kinds, families):
        if kind not in models:
            models[kind] = _load_model(args, records)
    with _cluster(args) as client, _family_bar(args, len(families)) as finished:
        for records, kind, target in zip(families, kinds, targets):
            log.info("aligning %d sequences", len(records))
            with _stage_bars(args if len(families) == 1 else None) as progress:
                alignment = msa(records, models[kind], consistency=args.consistency,
                                refinement=args.refinement, pretrain=args.pretrain,
                                random_state=args.seed, neighbours=args.neighbours,
                                memory=args.memory, local_weight=args.local_weight,
                                client=client, progress=progress)
            if args.trim is not None:
                alignment = trim(alignment, args.trim)
            if args.format == "a2m":  # every column a match state (upper case, '-' gaps)
                alignment.column_annotations = {"state": "D" * alignment.length}
            elif args.format != "stockholm":
                alignment.column_annotations = {}
            handle = io.StringIO()
            Align.write(for_writing(alignment), handle, args.format)
            _emit(handle.getvalue(), target)
            finished()


def _read_family(name: str) -> list[Any]:
    """A FASTA file's records, checked as ``msa`` checks a family (errors name the file)."""
    records = read_fasta(name, dealign=True)
    try:
        return family_records(records)
    except InvalidDataError as error:
        raise InvalidDataError(f"{name}: {error}") from None


def _family_outputs(args: argparse.Namespace) -> list[str]:
    """One output file per input family, in the ``-o`` folder (made if missing), named
    by the input's stem and the format; two inputs of one stem are an error."""
    if args.output in (None, "-"):
        raise InvalidDataError("several families need -o FOLDER: each is written to a "
                               "file of its own there")
    if "-" in args.family:
        raise InvalidDataError("stdin ('-') can be one family only")
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise InvalidDataError(f"{args.output}: not a folder (several families are written "
                               f"to a folder, one file each)")
    names = [_stem(name) + "." + MSA_EXTENSIONS[args.format] for name in args.family]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidDataError(f"inputs would share the output file(s) {repeated}; give "
                               f"families distinct file names")
    folder.mkdir(exist_ok=True)
    return [str(folder / name) for name in names]


def _stem(name: str) -> str:
    """A FASTA file's name without its folder and its ``.gz`` and FASTA suffixes."""
    stem = Path(name).name.removesuffix(".gz")
    return Path(stem).stem if Path(stem).suffix else stem


def _read_records(args: argparse.Namespace) -> list[ReadRecord]:
    """The reads of ``--bam`` (in ``--region``) or ``--reads``; at least one."""
    if args.bam is not None:
        records = read_alignments(args.bam, args.region, args.soft_clipped)
        where = f"{args.bam}{f' in {args.region}' if args.region else ''}"
    else:
        if args.region:
            raise InvalidDataError("--region needs --bam (FASTQ and FASTA have no positions)")
        records = read_sequence_reads(args.reads, args.default_quality)
        where = args.reads
    if not records:
        raise InvalidDataError(f"{where}: no reads (unmapped, secondary, supplementary, "
                               f"QC-failed and duplicate records are skipped)")
    return records


def _read_columns(records: Sequence[ReadRecord], args: argparse.Namespace
                  ) -> tuple[list[str], list[str], list[list[np.ndarray]]]:
    """Names, letters, and GATK's preprocessed qualities (base, insertion, deletion,
    gap continuation) of reads."""
    qualities = [gatk_qualities(r.base_quals, r.ins_quals, r.del_quals,
                                base_quality_threshold=args.base_quality_threshold,
                                mapping_quality=r.mapping_quality if args.cap_by_mapq
                                else None)
                 for r in records]
    return ([r.name for r in records], [r.sequence for r in records],
            [[q[k] for q in qualities] for k in range(4)])


def _reads(args: argparse.Namespace) -> None:
    haplotypes = read_fasta(args.haplotypes)
    model = ReadContextModel.load(args.model) if args.model else None
    records = _read_records(args)
    rows = ["read\t" + "\t".join(h.id for h in haplotypes)]
    letters = [str(h.seq) for h in haplotypes]
    with _cluster(args) as client:
        for chunk in _batches(records, args, "reads"):
            names, reads, qualities = _read_columns(chunk, args)
            table = read_likelihoods(letters, reads, *qualities, model=model,
                                     precision=args.precision, names=names, client=client)
            rows += [name + "\t" + "\t".join(f"{value:.6f}" for value in row)
                     for name, row in zip(names, table)]
    _emit("\n".join(rows) + "\n", args.output)


def _train_reads(args: argparse.Namespace) -> None:
    haplotypes = read_fasta(args.haplotypes)
    names, reads, qualities = _read_columns(_read_records(args), args)
    model = ReadContextModel(args.max_period, args.max_repeat, soft_tie=args.soft_tie,
                             n_iter=args.iter, tol=args.tol, verbose=args.verbose)
    log.info("training on %d reads against %d haplotypes", len(reads), len(haplotypes))
    with _iteration_bar(args) as callback:
        model.fit([str(h.seq) for h in haplotypes], reads, qualities[0], names=names,
                  callback=callback)
    model.save(args.output)


def _compare(args: argparse.Namespace) -> None:
    scores = compare(args.test, args.reference, official_rounding=args.official)
    lines = [f"SP\t{scores.sp:.4f}", f"TC\t{scores.tc:.4f}",
             f"counted_columns\t{scores.counted_columns}"]
    if args.pairs:
        lines += ["", "x\ty\tQ"] + [f"{a}\t{b}\t{q:.4f}"
                                     for (a, b), q in scores.pair_q.items()]
    _emit("\n".join(lines) + "\n", args.output)


def _posterior(args: argparse.Namespace) -> None:
    x, y = read_fasta(args.a)[0], read_fasta(args.b)[0]
    model = _load_model(args, [x, y])
    posterior = model.posterior(x, y)
    alignment = model.align(x, y, args.method)
    save_posterior_plot(posterior, alignment, x.id, y.id, Path(args.plot))


# -- parser -------------------------------------------------------------------------
def _common(parser: argparse.ArgumentParser, model: bool = True, cluster: bool = True) -> None:
    if model:
        parser.add_argument("--model",
                            help="bundled model (protein, dna) or a model file from "
                                 "'tiedhmm train' (default: the bundled model of the "
                                 "input's alphabet)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar and no notes on stderr")
    if cluster:
        parser.add_argument("--scheduler", metavar="ADDRESS",
                            help="run on a Dask cluster (needs tiedhmm[distributed])")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log progress (EM log-likelihood per iteration) on stderr")
    parser.add_argument("--threads", type=_positive, metavar="N",
                        help="threads for the kernels (default: TIEDHMM_NUM_THREADS, "
                             "else all cores)")
    parser.add_argument("--debug", action="store_true",
                        help="print the traceback of an internal error")


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


def _read_inputs(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--bam", metavar="READS.bam",
                        help="reads from a BAM/SAM/CRAM file (needs tiedhmm[bam])")
    source.add_argument("--reads", metavar="READS.fq",
                        help="reads from FASTQ, or FASTA (see --default-quality); gzip or "
                             "'-' for stdin")
    parser.add_argument("--haplotypes", required=True, metavar="HAPS.fa",
                        help="candidate haplotypes (FASTA)")
    parser.add_argument("--region", metavar="CHR:START-END",
                        help="only the reads there (an indexed --bam)")
    parser.add_argument("--soft-clipped", action="store_true",
                        help="keep soft-clipped read ends (default: dropped)")
    parser.add_argument("--default-quality", type=_count, default=20, metavar="Q",
                        help="base quality of FASTA reads (default 20)")
    parser.add_argument("--base-quality-threshold", type=_count, default=0, metavar="Q",
                        help="base qualities below Q become 6 (HaplotypeCaller uses 18; "
                             "default 0)")
    parser.add_argument("--cap-by-mapq", action="store_true",
                        help="cap base qualities at the read's mapping quality, as "
                             "HaplotypeCaller does")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tiedhmm", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"tiedhmm {__version__}")
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

    train = commands.add_parser("train", help="fit a pair HMM to unaligned sequences",
                                description="Pooled EM on unaligned pairs: every pair "
                                            "within a family (default) or consecutive "
                                            "records as pairs.")
    train.add_argument("family", metavar="FAMILY.fa")
    train.add_argument("--pairs", choices=PAIRINGS, default="all",
                       help="all pairs within the file (default) or consecutive records")
    train.add_argument("--max-pairs", type=_positive, metavar="N",
                       help="train on N pairs drawn at random (big families)")
    train.add_argument("--seed", type=int, default=0, help="seed of --max-pairs (default 0)")
    train.add_argument("-o", "--output", required=True, help="model file to write (JSON)")
    train.add_argument("--preset", choices=PRESETS, default="probcons")
    train.add_argument("--alphabet", choices=sorted(ALPHABETS),
                       help="default: detected from the input")
    train.add_argument("--symmetric", action=argparse.BooleanOptionalAction, default=True,
                       help="tie the x and y insert states (default: on)")
    train.add_argument("--freeze", action="append", choices=("match",), default=[],
                       help="keep a group fixed during EM")
    train.add_argument("--iter", type=int, default=20, help="maximum EM iterations")
    train.add_argument("--tol", type=float, default=1e-2, help="stop when the gain is below")
    _common(train, model=False)
    train.set_defaults(run=_train)

    family = commands.add_parser("msa", help="align a family of sequences",
                                 description="Multiple alignment from pair-HMM posteriors "
                                             "(ProbCons' method): consistency, a guide "
                                             "tree, progressive MEA, refinement.")
    family.add_argument("family", metavar="IN.fa", nargs="+",
                        help="FASTA file(s), one family each (gzip, or '-' for stdin)")
    family.add_argument("-o", "--output",
                        help="output file (default: stdout); with several families a "
                             "folder, each family written there as its input's name with "
                             "the format's ending (IN.fa -> OUT/IN.fa, IN.aln, IN.sto)")
    family.add_argument("--format", choices=MSA_FORMATS, default="fasta",
                        help="output format (stockholm adds the column confidence as "
                             "#=GC PP_cons)")
    family.add_argument("--consistency", type=_count, default=2, metavar="K",
                        help="consistency passes (default 2; more dilute the posteriors "
                             "through unrelated members)")
    family.add_argument("--refinement", type=_count, default=100, metavar="R",
                        help="refinement rounds (default 100)")
    family.add_argument("--pretrain", type=_count, default=DEFAULT_PRETRAIN, metavar="E",
                        help="EM iterations on the family's pairs first, each pulled half way "
                             f"back to the model (default {DEFAULT_PRETRAIN}; 0: the model "
                             "as given)")
    family.add_argument("--local-weight", type=_share_or_auto, default=DEFAULT_LOCAL_WEIGHT,
                        metavar="W",
                        help="share of each pair's posteriors from the model with unaligned "
                             f"flanks, in [0, 1], or {AUTO} (default: 0.7 for a close family, "
                             "0.3 for others; 0: the global model alone)")
    family.add_argument("--seed", type=int, default=0, help="seed of refinement (default 0)")
    family.add_argument("--neighbours", type=_positive, metavar="K",
                        help="posteriors only for each sequence's K nearest (by k-mer "
                             "distance) and across guide-tree joins (default: all pairs "
                             f"up to {ALL_PAIRS_LIMIT} sequences, {DEFAULT_NEIGHBOURS} "
                             "beyond)")
    family.add_argument("--memory", metavar="SIZE",
                        help="memory the posteriors may take, e.g. 8G (default 2G or what "
                             "is available)")
    family.add_argument("--trim", type=_share, metavar="MIN",
                        help="keep only the columns whose confidence (the calibrated chance "
                             "that the column is correct) is at least MIN, in [0, 1]")
    _common(family)
    family.set_defaults(run=_msa)

    scoring = commands.add_parser(
        "compare", help="SP and TC of an alignment against a reference",
        description="Score a test alignment against a reference as BAliBASE's bali_score "
                    "does: SP, TC (core columns of a BAliBASE .xml; upper-case columns of "
                    "a mixed-case FASTA reference; else columns with under 20%% gaps), and "
                    "per sequence pair Q with --pairs.")
    scoring.add_argument("test", metavar="TEST", help="the alignment (aligned FASTA or MSF)")
    scoring.add_argument("reference", metavar="REF",
                         help="the reference (BAliBASE .xml, MSF or aligned FASTA)")
    scoring.add_argument("--official", action="store_true",
                         help="SP rounded to 3 decimals and TC truncated to 2, as bali_score "
                              "prints them")
    scoring.add_argument("--pairs", action="store_true", help="also Q per sequence pair")
    scoring.add_argument("-o", "--output", help="output file (default: stdout)")
    _common(scoring, model=False, cluster=False)
    scoring.set_defaults(run=_compare)

    reads = commands.add_parser(
        "reads", help="log10 P(read | haplotype) of every read and haplotype (TSV)",
        description="GATK's read-likelihood pair HMM: a reads x haplotypes TSV of log10 "
                    "likelihoods, after GATK's quality preprocessing (base qualities "
                    "floored at 6; BI/BD tags, else 45; gap continuation 10).")
    _read_inputs(reads)
    reads.add_argument("-o", "--output", help="output TSV (default: stdout)")
    reads.add_argument("--model", metavar="FILE",
                       help="a read context model from 'tiedhmm train-reads' (its gap "
                            "probabilities replace the BI/BD ones)")
    reads.add_argument("--precision", choices=("mixed", "double"), default="mixed",
                       help="float32 with a float64 rescue (default) or float64")
    _common(reads, model=False)
    reads.set_defaults(run=_reads)

    train_reads = commands.add_parser(
        "train-reads", help="fit a read model with gaps tied by repeat context",
        description="Baum-Welch on reads against the haplotypes they come from (each "
                    "read's most likely one): gap-open and gap-continuation "
                    "probabilities per short-tandem-repeat context.")
    _read_inputs(train_reads)
    train_reads.add_argument("-o", "--output", required=True, help="model file (JSON)")
    train_reads.add_argument("--max-period", type=_positive, default=8,
                             help="longest repeat period told apart (default 8)")
    train_reads.add_argument("--max-repeat", type=_positive, default=20,
                             help="repeat lengths above count as it (default 20)")
    train_reads.add_argument("--soft-tie", type=float, metavar="S",
                             help="pull every context toward the pooled estimate with S "
                                  "pseudo-observations")
    train_reads.add_argument("--iter", type=int, default=10, help="maximum EM iterations")
    train_reads.add_argument("--tol", type=float, default=1e-2,
                             help="stop when the gain is below")
    _common(train_reads, model=False, cluster=False)
    train_reads.set_defaults(run=_train_reads)

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


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _share_or_auto(text: str) -> float | str:
    if text == AUTO:
        return AUTO
    try:
        return _share(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be {AUTO} or a number in [0, 1], "
                                         f"got {text}") from None


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text}")
    return value


@contextlib.contextmanager
def _logging(args: argparse.Namespace) -> Iterator[None]:
    """The ``tiedhmm`` logger writes one-line messages to stderr for this command only."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("tiedhmm: %(message)s"))
    level = logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    previous = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous[0])
        log.propagate = previous[1]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (see the module docstring)."""
    args = build_parser().parse_args(argv)
    try:
        with _logging(args), np.errstate(all="ignore"), \
                parallel.using_threads(args.threads):
            _check_output(args)
            args.run(args)
    except (TiedHMMError, ImportError) as error:  # ImportError: a missing extra
        print(f"tiedhmm: error: {error}", file=sys.stderr)
        return EXIT_DATA
    except BrokenPipeError:
        return 0
    except Exception as error:
        if args.debug:
            traceback.print_exc()
        print(f"tiedhmm: internal error: {type(error).__name__}: {error}; {BUG_REPORT}",
              file=sys.stderr)
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main())
