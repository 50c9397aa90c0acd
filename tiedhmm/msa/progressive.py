"""Multiple sequence alignment from pair-HMM posteriors, as ProbCons does it.

1. sparse match posteriors (at least ``threshold``, ProbCons' 0.01) and the expected
   accuracy of every pair, each mixed from the model's and its local version's
   posterior passes (``local_weight``, by default chosen from the family's global
   expected accuracy: :mod:`tiedhmm.msa.pair_posteriors`), on threads (Dask tasks over
   chunks of pairs with a ``client``);
2. a UPGMA guide tree on ``1 - E[accuracy]`` (ProbCons joins by the same averaged
   expected accuracy); beyond ``ALL_PAIRS_LIMIT`` sequences (or with ``neighbours=``)
   the tree comes first, from k-mer distances, and only the pairs of guide-tree
   neighbourhoods get posteriors (:mod:`tiedhmm.msa.kmers`);
3. ``consistency`` passes of probabilistic consistency, each sequence weighted by its
   ClustalW weight on the tree (MSAProbs' form; ``sequence_weights=False``: ProbCons'
   plain mean; :meth:`~tiedhmm.msa.posteriors.FamilyPosteriors.consistency`);
4. progressive alignment up the tree: each join aligns two profiles so as to maximise
   the summed transformed posteriors of the residue pairs it puts in one column, gaps
   free (maximum expected accuracy);
5. ``refinement`` rounds: the sequences split at random in two, each half's alignment
   kept (all-gap columns dropped), the halves realigned. The pairs inside each half
   keep their columns and the realignment maximises the pairs across, so the objective
   never falls: ProbCons' always-accept rule and an objective test are the same here.

First, ``pretrain`` iterations (default 2) of pooled, symmetric EM train the model on the
family's pairs (real EM over all pairs at once, where ProbCons averages per-pair
estimates), each M-step pulled half way back to the given model (:data:`PRETRAIN_ANCHOR`;
a soft tie, so that a few sequences, or a family of close pairs with one orphan, cannot
drag the model far) and at most :data:`PRETRAIN_PAIRS` pairs drawn.

The result is a ``Bio.Align.Alignment`` with ``.tree`` (Newick),
``.mean_posterior`` (per column, the mean untransformed posterior of the residue pairs
it aligns; NaN for a column of one residue), ``.confidence`` (that score calibrated:
the chance the column is correct, :mod:`tiedhmm.msa.confidence`) and the confidence as
a digit string (``floor(10 p)``, ``*`` at least 0.95) in ``column_annotations`` under
Biopython's name of Stockholm's ``#=GC PP_cons`` line, which Stockholm output writes.
Memory: all pairs' sparse posteriors are estimated first
(:data:`FAMILY_ENTRIES_PER_RESIDUE` entries a residue of the shorter sequence) and a
family beyond ``memory`` raises MemoryLimitError.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import parallel
from .._kernels.profile import split_profiles
from ..errors import InvalidDataError, MemoryLimitError
from ..io.checks import check_random_state, memory_size
from ..io.fasta import detect_alphabet, read_fasta
from ..pair import posterior as pair_posterior
from ..pair.inference import encode_pair
from ..pair.model import PairHMM
from . import kmers
from .confidence import calibrated as confidence_of
from .guide_tree import Tree, upgma
from .pair_posteriors import (
    DEFAULT_LOCAL_WEIGHT,
    PairResults,
    check_local_weight,
    family_local_weight,
    mixed,
    mixture_parts,
)
from .posteriors import FamilyPosteriors

DEFAULT_THRESHOLD = 0.01
#: Biopython's name of Stockholm's ``#=GC PP_cons`` (posterior probability) line.
CONFIDENCE = "consensus posterior probability"
#: Bytes a kept posterior entry costs, each way (row, column and value while assembled;
#: consistency keeps only entries the matrix already holds, so it adds no more).
ENTRY_BYTES = 24
#: Pairs per call of the posterior pass (each call runs on every thread).
PAIR_BATCH = 512
#: What ``progress`` hears, in order.
STAGES = ("pair posterior passes", "progressive joins", "refinement rounds")
#: What :func:`msa_many`'s ``progress`` hears.
FAMILY_STAGE = "families"
#: Kept posterior entries a residue of a pair's shorter sequence is assumed to take in
#: the family estimate (1-10 measured on BAliBASE pairs at threshold 0.01, 1.5 on the
#: simulated family of ``scripts/bench_msa_scale.py``).
FAMILY_ENTRIES_PER_RESIDUE = 8
#: EM iterations on the family before its posteriors (``pretrain``).
DEFAULT_PRETRAIN = 2
#: How far each M-step of ``pretrain`` is pulled back to the given model
#: (:meth:`PairHMM.fit`'s ``anchor``): half way, so a family of a few sequences, or one
#: dominated by close pairs, cannot drag the model far (plain EM lost RV20 0.021 SP).
PRETRAIN_ANCHOR = 0.5
#: The most pairs ``pretrain`` fits on (all pairs of up to 20 sequences): a random draw
#: of a larger family's pairs estimates the same few hundred parameters.
PRETRAIN_PAIRS = 200


def msa(sequences: Any, model: PairHMM | None = None, *, consistency: int = 2,
        refinement: int = 100, pretrain: int = DEFAULT_PRETRAIN, random_state: int = 0,
        threshold: float = DEFAULT_THRESHOLD, memory: int | str | None = None,
        neighbours: int | None = None, sequence_weights: bool = True,
        local_weight: float | str = DEFAULT_LOCAL_WEIGHT, client: Any = None,
        progress: Callable[[str, int, int], None] | None = None,
        threads: int | None = None) -> Any:
    """Align a family of sequences from pair-HMM posteriors (ProbCons' method).

    See :mod:`tiedhmm.msa.progressive` for the steps: sparse pair posteriors,
    consistency, a guide tree, progressive maximum expected accuracy, refinement.

    Parameters
    ----------
    sequences : str, path or iterable
        A FASTA path (an aligned file's gaps, ``-`` and ``.``, are removed), or str /
        ``Seq`` / ``SeqRecord`` items (plain sequences are named ``seq1``, ``seq2``,
        ...).
    model : PairHMM, optional
        Default: the bundled model of the family's alphabet.
    consistency : int, default 2
        Passes of probabilistic consistency. More dilute the posteriors through the
        family's unrelated members (three lost 0.035 SP on BAliBASE RV11 and 0.079 on
        RV20).
    refinement : int, default 100
        Rounds of iterative refinement.
    pretrain : int, default 2
        Iterations of pooled, symmetric EM on the family's pairs first (at most
        :data:`PRETRAIN_PAIRS`, drawn), each pulled half way back to ``model``; 0 uses
        ``model`` as given.
    random_state : int, default 0
        Seeds refinement and the draw of pretraining pairs.
    threshold : float, default 0.01
        Posteriors below this are dropped.
    memory : int or str, optional
        The most bytes the posteriors may take (``"8G"``); a family beyond it is an
        error raised before any work.
    neighbours : int, optional
        Posteriors only for each sequence's K nearest by k-mer distance and across
        guide-tree joins (default: all pairs up to 200 sequences, 20 beyond; 0: all
        pairs whatever the size).
    sequence_weights : bool, default True
        Weight each sequence's terms in consistency by its ClustalW weight on the
        guide tree (MSAProbs' weighted consistency: a subfamily of near copies counts
        as a few sequences, not as many); False is ProbCons' unweighted mean.
    local_weight : float or "auto", default "auto"
        The share of each pair's posteriors that comes from the model's local version
        (unaligned flanks, :meth:`PairHMM.local`), the rest from the model itself
        (:mod:`tiedhmm.msa.pair_posteriors`); ``"auto"``: 0.7 for a close family (mean
        expected accuracy of its pairs under the model at least 0.78), else 0.3; 0 is
        the global model alone (ProbCons', one posterior pass a pair instead of two).
    client : dask.distributed.Client, optional
        Compute the pair posteriors on this cluster.
    progress : callable, optional
        ``progress(stage, done, total)`` hears the pair posterior passes (per batch;
        two a pair when local posteriors are mixed in), the progressive joins and the
        refinement rounds.
    threads : int, optional
        Threads for this call (default: :func:`tiedhmm.get_threads`).

    Returns
    -------
    Bio.Align.Alignment
        With ``.tree`` (the guide tree, Newick), ``.mean_posterior`` (per column, the
        mean posterior of the residue pairs it aligns), ``.confidence`` (per column,
        the calibrated chance that it is correct; :func:`tiedhmm.msa.confidence.trim`
        keeps the columns above a threshold) and that confidence as digits in
        ``column_annotations`` (Stockholm's ``#=GC PP_cons``).

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        No sequences, an empty sequence, repeated names, mixed alphabets, or a letter
        outside the alphabet.
    tiedhmm.errors.MemoryLimitError
        A family whose posteriors would exceed ``memory``.

    Examples
    --------
    >>> import tiedhmm as th
    >>> alignment = th.msa(["MKTAYIAKQRQISFVK", "MKTAYIAKQRISFVK", "MKTAYAKQRQISFVK"])
    >>> print(alignment.format("fasta"))
    >seq1
    MKTAYIAKQRQISFVK
    >seq2
    MKTAYIAKQR-ISFVK
    >seq3
    MKTAY-AKQRQISFVK
    <BLANKLINE>
    """
    with parallel.using_threads(threads):
        return _aligned(family_records(sequences), model, consistency, refinement, pretrain,
                        random_state, threshold, memory, neighbours, sequence_weights,
                        local_weight, client, progress or _silent)


def _aligned(records: list[Any], model: PairHMM | None, consistency: int, refinement: int,
             pretrain: int, random_state: int, threshold: float, memory: int | str | None,
             neighbours: int | None, sequence_weights: bool, local_weight: float | str,
             client: Any, progress: Callable[[str, int, int], None]) -> Any:
    """:func:`msa` of checked records (see there)."""
    model = model if model is not None else PairHMM.load(detect_alphabet(records))
    for name, value in (("consistency", consistency), ("refinement", refinement),
                        ("pretrain", pretrain), ("neighbours", neighbours or 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidDataError(f"{name} must be a whole number >= 0, got {value!r}")
    codes = [model.alphabet.encode(r, r.id) for r in records]
    if len(records) == 1:
        return _alignment(records, np.arange(len(codes[0])), 1, len(codes[0]),
                          np.full(len(codes[0]), np.nan), Tree(1, (), ()))
    pair_posterior.check_threshold(threshold)
    check_local_weight(local_weight)
    if neighbours is None and len(records) > kmers.ALL_PAIRS_LIMIT:
        neighbours = kmers.DEFAULT_NEIGHBOURS
    tree = None
    if neighbours:
        distances = kmers.kmer_distances(codes, model.alphabet)
        tree = upgma(distances)
        pairs = kmers.neighbourhood_pairs(distances, tree, neighbours)
    else:
        pairs = list(itertools.combinations(range(len(records)), 2))
    _check_family_memory(codes, pairs, threshold, memory)
    if pretrain:
        model = _family_trained(model, records, pairs, pretrain, random_state, memory, client)
    found = _pair_results(model, records, codes, pairs, local_weight, threshold, memory,
                          client, progress)
    original = FamilyPosteriors.from_pairs([len(c) for c in codes], pairs,
                                           [posterior for posterior, _ in found])
    if tree is None:
        distances = np.zeros((len(records), len(records)))
        for (x, y), (_, accuracy) in zip(pairs, found):
            distances[x, y] = distances[y, x] = 1.0 - accuracy
        tree = upgma(distances)
    weights = tree.leaf_weights() if sequence_weights else None
    transformed = original
    for _ in range(consistency):
        transformed = transformed.consistency(threshold, weights)
    columns, width = _progressive(transformed, tree, progress)
    columns, width = _refine(transformed, columns, width, refinement,
                             check_random_state(random_state), progress)
    return _alignment(records, columns, len(records), width,
                      original.column_confidence(columns, width), tree)


def _family_trained(model: PairHMM, records: Sequence[Any], pairs: Sequence[tuple[int, int]],
                    iterations: int, random_state: int, memory: int | str | None,
                    client: Any) -> PairHMM:
    """A copy of ``model`` after ``iterations`` of pooled EM on the family's pairs (at
    most :data:`PRETRAIN_PAIRS` of them, drawn with ``random_state``), each M-step pulled
    :data:`PRETRAIN_ANCHOR` of the way back to ``model``."""
    if len(pairs) > PRETRAIN_PAIRS:
        drawn = np.random.RandomState(random_state).choice(len(pairs), PRETRAIN_PAIRS,
                                                           replace=False)
        pairs = [pairs[index] for index in np.sort(drawn)]
    trained = copy.deepcopy(model)
    trained.n_iter, trained.tol = iterations, -np.inf
    trained.fit([(str(records[x].seq), str(records[y].seq)) for x, y in pairs],
                memory=memory, client=client, anchor=PRETRAIN_ANCHOR)
    return trained


def msa_many(families: Iterable[Any], model: PairHMM | None = None, *,
             progress: Callable[[str, int, int], None] | None = None,
             **settings: Any) -> Iterator[Any]:
    """Align several families in one process, one after another.

    The kernels are loaded once and each alphabet's bundled model is read once, so
    many small families cost one start-up instead of one each.

    Parameters
    ----------
    families : iterable
        Each a family as :func:`msa` takes it (a FASTA path, or str / ``Seq`` /
        ``SeqRecord`` items). Every family is read and checked before the first is
        aligned, so a bad family fails the call before any work.
    model : PairHMM, optional
        The pair HMM of every family; by default the bundled model of each family's
        alphabet.
    progress : callable, optional
        ``progress("families", done, total)`` hears each finished family.
    **settings
        :func:`msa`'s keyword arguments (``consistency``, ``refinement``, ...), the
        same for every family.

    Yields
    ------
    Bio.Align.Alignment
        Each family's alignment, in the order given, as soon as it is done.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        A family :func:`msa` would refuse (named by its position), or no families.

    Examples
    --------
    >>> import tiedhmm as th
    >>> families = [["MKVLAAGIV", "MKVLSAGIV"], ["GATTACA", "GATTTACA", "GACTACA"]]
    >>> [len(alignment.sequences) for alignment in th.msa_many(families)]
    [2, 3]
    """
    progress = progress or _silent
    checked = []
    for index, family in enumerate(families):
        try:
            checked.append(family_records(family))
        except InvalidDataError as error:
            raise InvalidDataError(f"family {index}: {error}") from None
    if not checked:
        raise InvalidDataError("no families to align")
    bundled: dict[str, PairHMM] = {}
    for done, records in enumerate(checked, start=1):
        chosen = model
        if chosen is None:
            kind = detect_alphabet(records)
            if kind not in bundled:
                bundled[kind] = PairHMM.load(kind)
            chosen = bundled[kind]
        yield msa(records, chosen, **settings)
        progress(FAMILY_STAGE, done, len(checked))


def family_records(sequences: Any) -> list[Any]:
    """A family as the ``SeqRecord`` list :func:`msa` aligns, checked.

    Parameters
    ----------
    sequences : str, path or iterable
        A FASTA path (an aligned file's gaps, ``-`` and ``.``, are removed), or str /
        ``Seq`` / ``SeqRecord`` items (plain sequences are named ``seq1``, ``seq2``,
        ...).

    Returns
    -------
    list of Bio.SeqRecord.SeqRecord

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        No sequences, an empty sequence, repeated names or mixed alphabets.
    """
    from Bio.Seq import Seq
    from Bio.SeqRecord import SeqRecord
    if isinstance(sequences, str | Path):
        records = read_fasta(sequences, dealign=True)
    else:
        if not isinstance(sequences, Iterable):
            raise InvalidDataError(f"sequences must be a FASTA path or str / Seq / SeqRecord "
                                   f"items, got {type(sequences).__name__}")
        records = []
        for index, item in enumerate(sequences):
            if isinstance(item, SeqRecord):
                records.append(item)
            elif isinstance(item, str | Seq):
                records.append(SeqRecord(Seq(str(item)), id=f"seq{index + 1}", description=""))
            else:
                raise InvalidDataError(f"sequence {index} is not a str, Seq or SeqRecord: "
                                       f"{item!r:.60}")
    if not records:
        raise InvalidDataError("no sequences to align")
    empty = [r.id for r in records if len(r.seq) == 0]
    if empty:
        raise InvalidDataError(f"empty sequences cannot be aligned: {', '.join(empty[:5])}")
    seen, duplicates = set(), []
    for record in records:
        if record.id in seen and record.id not in duplicates:
            duplicates.append(record.id)
        seen.add(record.id)
    if duplicates:
        raise InvalidDataError(f"sequence names must be unique; repeated: "
                               f"{', '.join(duplicates[:5])}")
    kinds = {record.id: detect_alphabet([record]) for record in records}
    if len(set(kinds.values())) > 1:
        dna = [name for name, kind in kinds.items() if kind == "dna"]
        protein = [name for name, kind in kinds.items() if kind == "protein"]
        raise InvalidDataError(f"mixed alphabets: {', '.join(dna[:3])} look like DNA, "
                               f"{', '.join(protein[:3])} like protein")
    return records


def _check_family_memory(codes: Sequence[np.ndarray], pairs: Sequence[tuple[int, int]],
                         threshold: float,
                         memory: int | str | None) -> None:
    lengths = [len(c) for c in codes]
    typical = FAMILY_ENTRIES_PER_RESIDUE
    entries = sum(min(pair_posterior.sparse_entries(lengths[x], lengths[y], threshold),
                      typical * min(lengths[x], lengths[y])) for x, y in pairs)
    needed = 2 * ENTRY_BYTES * entries
    limit = pair_posterior.memory_limit(memory)
    if needed > limit:
        raise MemoryLimitError(f"the posteriors of {len(codes)} sequences ({len(pairs)} pairs) "
                               f"may need about {memory_size(needed)}, but "
                               f"{memory_size(limit)} is the limit; raise memory= or align "
                               f"fewer or shorter sequences")


def _silent(stage: str, done: int, total: int) -> None:
    """The default progress callback: nothing."""


def _pair_results(model: PairHMM, records: Sequence[Any], codes: Sequence[np.ndarray],
                  pairs: Sequence[tuple[int, int]], local_weight: float | str,
                  threshold: float, memory: int | str | None, client: Any,
                  progress: Callable[[str, int, int], None]) -> PairResults:
    """Mixed sparse posteriors and expected accuracy of every pair
    (:mod:`tiedhmm.msa.pair_posteriors`): the global model's pass over all pairs, the
    family's local weight from its accuracies, then the local model's pass, mixed in
    batch by batch (each global result is let go once mixed, so the family's
    posteriors are held about once). ``progress`` hears each batch of each pass."""
    parts = mixture_parts(model, local_weight)
    total = len(parts) * len(pairs)
    found: PairResults = []
    for batch in _batches(parts[0], records, codes, pairs, threshold, memory, client):
        found += batch
        progress(STAGES[0], len(found), total)
    if len(parts) == 1:
        return found
    weight = family_local_weight(local_weight, [accuracy for _, accuracy in found])
    done = 0
    for batch in _batches(parts[1], records, codes, pairs, threshold, memory, client):
        found[done:done + len(batch)] = mixed(found[done:done + len(batch)], batch, weight,
                                              threshold)
        done += len(batch)
        progress(STAGES[0], len(pairs) + done, total)
    return found


def _batches(model: PairHMM, records: Sequence[Any], codes: Sequence[np.ndarray],
             pairs: Sequence[tuple[int, int]], threshold: float, memory: int | str | None,
             client: Any) -> Iterator[PairResults]:
    """One model's sparse posteriors and expected accuracy of every pair, in order:
    batches of :data:`PAIR_BATCH` pairs on threads, or all at once over Dask chunks."""
    if client is not None:
        texts = [(str(records[x].seq), str(records[y].seq)) for x, y in pairs]
        chunks = parallel.split(texts, parallel.n_chunks(client, len(texts)))
        results = parallel.map_chunks(client, _chunk_results, (model, threshold, memory),
                                      chunks)
        yield [item for chunk in results for item in chunk]
        return
    compiled = model.compiled()
    for start in range(0, len(pairs), PAIR_BATCH):
        yield pair_posterior.sparse_posteriors_and_accuracies(
            compiled, [(codes[x], codes[y]) for x, y in pairs[start:start + PAIR_BATCH]],
            threshold=threshold, memory=memory)


def _chunk_results(settings: tuple[PairHMM, float, int | str | None],
                   pairs: Sequence[tuple[str, str]]) -> PairResults:
    model, threshold, memory = settings
    codes = [encode_pair(model.alphabet, x, y) for x, y in pairs]
    found: PairResults = pair_posterior.sparse_posteriors_and_accuracies(
        model.compiled(), codes, threshold=threshold, memory=memory)
    return found


def _join(posteriors: FamilyPosteriors, columns: np.ndarray, first: list[int],
          second: list[int], widths: tuple[int, int]) -> int:
    """Align the profiles of sequences ``first`` and ``second`` (their residues' columns
    in ``columns``, within each profile) into one, in place; returns its width."""
    side = np.full(posteriors.offsets.size - 1, -1)
    side[first], side[second] = 0, 1
    return posteriors.join(columns, side, widths)


def _progressive(posteriors: FamilyPosteriors, tree: Tree, progress: Callable[[str, int, int], None]
                 ) -> tuple[np.ndarray, int]:
    """Columns of every residue after joining up the guide tree."""
    offsets = posteriors.offsets
    columns = np.concatenate([np.arange(offsets[s + 1] - offsets[s])
                              for s in range(offsets.size - 1)])
    widths = {s: int(offsets[s + 1] - offsets[s]) for s in range(offsets.size - 1)}
    for k, (a, b) in enumerate(tree.merges):
        widths[tree.n_leaves + k] = _join(posteriors, columns, tree.leaves(a), tree.leaves(b),
                                          (widths[a], widths[b]))
        progress(STAGES[1], k + 1, len(tree.merges))
    return columns, widths[tree.n_leaves + len(tree.merges) - 1]


def _refine(posteriors: FamilyPosteriors, columns: np.ndarray, width: int, rounds: int,
            rng: np.random.RandomState, progress: Callable[[str, int, int],
            None]) -> tuple[np.ndarray, int]:
    """Random two-way splits, each half realigned to the other (see the module text).

    A split drawn again while the alignment is still the one its last realignment
    produced is skipped: the realignment would start from the same two halves and give
    the same alignment (a family of a few sequences has few splits, drawn many times).
    """
    n_sequences = posteriors.offsets.size - 1
    version = 0  # how many realignments have changed the alignment
    realigned: dict[bytes, int] = {}  # split -> the version its last realignment left
    for done in range(rounds if n_sequences > 2 else 0):
        progress(STAGES[2], done, rounds)
        half = rng.rand(n_sequences) < 0.5
        if half.all() or not half.any():
            continue
        split = (half if half[0] else ~half).tobytes()
        if realigned.get(split) == version:
            continue
        joined, joined_width = _realigned_split(posteriors, columns, half)
        if joined_width != width or not np.array_equal(joined, columns):
            version += 1
        columns, width = joined, joined_width
        realigned[split] = version
    progress(STAGES[2], rounds, rounds)
    return columns, width


def _realigned_split(posteriors: FamilyPosteriors, columns: np.ndarray,
                     half: np.ndarray) -> tuple[np.ndarray, int]:
    """The columns and width after the sequences in ``half`` and the rest, each kept as
    aligned (all-gap columns dropped), are realigned to each other."""
    projected, widths = split_profiles(columns, half, posteriors.sequence_of)
    width = _join(posteriors, projected, list(np.flatnonzero(half)),
                  list(np.flatnonzero(~half)), widths)
    return projected, width


def _alignment(records: Sequence[Any], columns: np.ndarray, n_sequences: int, width: int,
               mean_posterior: np.ndarray, tree: Tree) -> Any:
    """A ``Bio.Align.Alignment`` of the records with ``.tree``, ``.mean_posterior`` and
    ``.confidence``."""
    from Bio.Align import Alignment
    occupied = np.zeros((n_sequences, width), dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum([len(r.seq) for r in records])))
    for s in range(n_sequences):
        occupied[s, columns[offsets[s]:offsets[s + 1]]] = 1
    coordinates = np.hstack([np.zeros((n_sequences, 1), dtype=np.int64),
                             np.cumsum(occupied, axis=1)])
    alignment = Alignment(records, coordinates)
    calibrated = confidence_of(mean_posterior)
    alignment.column_annotations = {CONFIDENCE: "".join(
        "*" if p >= 0.95 else str(int(10 * p)) for p in calibrated)}
    alignment.mean_posterior = mean_posterior
    alignment.confidence = calibrated
    alignment.tree = tree.newick([r.id for r in records])
    return alignment
