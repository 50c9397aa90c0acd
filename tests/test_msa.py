"""Multiple alignment: its steps against brute force and dense formulas, its output,
its command and its errors."""

import collections
import gzip
import io
import itertools

import numpy as np
import pytest
import scipy.sparse
from Bio import Align, Phylo, SeqIO
from Bio.Seq import Seq
from Bio.SeqRecord import SeqRecord

import tiedhmm as th
from tests.naive import pair_reference
from tiedhmm._kernels.profile import profile_alignment
from tiedhmm.cli import main
from tiedhmm.msa import progressive as multiple_alignment
from tiedhmm.msa.confidence import calibrated
from tiedhmm.msa.guide_tree import upgma
from tiedhmm.msa.kmers import kmer_distances, neighbourhood_pairs
from tiedhmm.msa.pair_posteriors import (
    CLOSE_FAMILY_ACCURACY,
    CLOSE_LOCAL_WEIGHT,
    DISTANT_LOCAL_WEIGHT,
    family_local_weight,
    mixed,
    mixture_parts,
)
from tiedhmm.msa.posteriors import FamilyPosteriors
from tiedhmm.pair import posterior as pair_posterior
from tiedhmm.pair.alignment import for_writing

FAMILY = ["MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "MKTAYIAKQRQLSFVKSHFSRQLEELGLIEVQ",
          "MKVAYIAKQRQISFVKHFSRQAEERLGLIEV", "MRTAYIAKQRQISFVKSHFARQLEERLGLVEVQAP",
          "MKTAYLAKQRQISFVKSHFSRLEERLGLIEVQ"]


def _records(sequences=FAMILY):
    return [SeqRecord(Seq(s), id=f"s{k}", description="") for k, s in enumerate(sequences)]


def _alignment_paths(n, m):
    if n == 0 and m == 0:
        yield ()
        return
    for move, (a, b) in enumerate([(1, 1), (1, 0), (0, 1)]):
        if a <= n and b <= m:
            for rest in _alignment_paths(n - a, m - b):
                yield (*rest, move)


def _best_alignment_score(scores):
    """The most summed ``scores`` of the cells any alignment matches (enumerated)."""
    best = -np.inf
    for path in _alignment_paths(*scores.shape):
        i = j = total = 0
        for move in path:
            if move == 0:
                total += scores[i, j]
            i, j = i + (move != 2), j + (move != 1)
        best = max(best, total)
    return best


@pytest.mark.parametrize("n, m", [(1, 1), (2, 3), (3, 3), (4, 2), (0, 2)])
def test_profile_alignment_is_the_best_of_all_alignments(n, m):
    rng = np.random.RandomState(n * 10 + m)
    scores = rng.rand(n, m)
    best = _best_alignment_score(scores)
    total, moves = profile_alignment(scores)
    assert total == pytest.approx(best, abs=1e-12)
    i = j = 0
    achieved = 0.0
    for move in moves:
        if move == 0:
            achieved += scores[i, j]
        i, j = i + (move != 2), j + (move != 1)
    assert (i, j) == (n, m) and achieved == pytest.approx(best, abs=1e-12)


def _family_results(model, sequences, local_weight, threshold):
    """What multiple alignment computes for the pairs (0, 1), (2, 3), ... of
    ``sequences``: the mixed sparse posteriors and expected accuracies."""
    codes = [model.alphabet.encode(s) for s in sequences]
    pairs = [(k, k + 1) for k in range(0, len(codes), 2)]
    return codes, pairs, multiple_alignment._pair_results(
        model, _records(sequences), codes, pairs, local_weight, threshold, None, None,
        lambda *_: None)


@pytest.mark.parametrize("local_weight", [0.0, 0.3, 1.0])
def test_mixed_posteriors_are_the_weighted_enumerated_posteriors(local_weight):
    """Each pair's posteriors mix the global and local models' (each from an enumeration
    of all alignments); the expected accuracy mixes each model's best alignment score."""
    model = th.PairHMM.probcons("dna", symmetric=False)
    assert len(mixture_parts(model, local_weight)) == (1 if local_weight in (0.0, 1.0) else 2)
    codes, pairs, found = _family_results(model, ["ACG", "AGT", "GATT", "GA", "C", "TCA"],
                                          local_weight, 1e-300)
    for (x, y), (posterior, accuracy) in zip(pairs, found):
        x, y = codes[x], codes[y]
        expected_posterior, expected_accuracy = np.zeros((x.size, y.size)), 0.0
        for part, weight in ((model, 1.0 - local_weight), (model.local(100.0), local_weight)):
            compiled = part.compiled()
            reference = pair_reference(x, y, compiled.dx, compiled.dy, compiled.emission,
                                       compiled.start, compiled.transmat, compiled.end)
            expected_posterior += weight * reference["match_posterior"]
            expected_accuracy += weight * _best_alignment_score(reference["match_posterior"])
        np.testing.assert_allclose(posterior.toarray(), expected_posterior, atol=1e-12)
        assert accuracy == pytest.approx(expected_accuracy / min(x.size, y.size), abs=1e-12)


def test_mixed_posteriors_stay_symmetric_and_drop_entries_below_the_threshold():
    model = th.PairHMM.load("protein")
    x, y = FAMILY[0], FAMILY[3][3:]
    _, _, [(forward, accuracy), (backward, swapped)] = _family_results(model, [x, y, y, x],
                                                                       0.5, 0.01)
    np.testing.assert_allclose(forward.toarray(), backward.toarray().T, atol=1e-12)
    assert accuracy == pytest.approx(swapped, abs=1e-12)
    assert forward.data.min() >= 0.01
    _, _, [(dense, _), _] = _family_results(model, [x, y, y, x], 0.5, 1e-300)
    dense = dense.toarray()
    kept = forward.toarray() > 0
    # each model's entries below the threshold count as 0 before mixing
    assert np.abs(forward.toarray()[kept] - dense[kept]).max() < 0.01
    assert dense[~kept].max() < 2 * 0.01


def test_the_mixture_leaves_out_weightless_parts_and_runs_a_local_model_alone():
    model = th.PairHMM.load("protein")
    [alone] = mixture_parts(model, 0.0)
    assert alone is model
    [local] = mixture_parts(model, 1.0)
    assert len(local.states) == len(model.states) + 4
    already = model.local()
    assert mixture_parts(already, 0.5) == [already]  # already local: its own version
    assert [len(part.states) for part in mixture_parts(model, "auto")] == [5, 9]
    assert th.msa(FAMILY[:3], model.local(), refinement=2).length >= len(FAMILY[0])
    for bad in (-0.1, 1.5, "half", True, "AUTO"):
        with pytest.raises(th.InvalidDataError, match="local_weight must be 'auto' or a"):
            th.msa(FAMILY, local_weight=bad)


def test_the_automatic_local_weight_follows_the_family_s_expected_accuracy():
    """A close family (mean global expected accuracy at least 0.78) mixes in 0.7 of the
    local posteriors, a distant one 0.3: ``"auto"`` aligns each as that fixed weight
    does (and the two weights give different alignments of both families). The shipped
    model as given (no pretraining), whose accuracies the test computes."""
    assert family_local_weight("auto", [0.9, 0.7]) == CLOSE_LOCAL_WEIGHT == 0.7
    assert family_local_weight("auto", [0.9, 0.6]) == DISTANT_LOCAL_WEIGHT == 0.3
    assert family_local_weight(0.5, [0.9, 0.9]) == 0.5
    rng = np.random.RandomState(3)
    distant = ["".join(rng.choice(list("ARNDCQEGHILKMFPSTWYV"), 40)) for _ in range(4)]
    model = th.PairHMM.load("protein")
    for family, weight in ((FAMILY, 0.7), (distant, 0.3)):
        codes = [model.alphabet.encode(s) for s in family]
        accuracies = [accuracy for _, accuracy in pair_posterior.sparse_posteriors_and_accuracies(
            model.compiled(), list(itertools.combinations(codes, 2)), threshold=0.01,
            memory=None)]
        assert (np.mean(accuracies) >= CLOSE_FAMILY_ACCURACY) == (weight == 0.7)
        automatic, fixed, other = (th.msa(family, local_weight=w, refinement=5, pretrain=0)
                                   for w in ("auto", weight, 1.0 - weight))
        assert automatic.format("fasta") == fixed.format("fasta")
        np.testing.assert_array_equal(automatic.mean_posterior, fixed.mean_posterior)
        assert other.format("fasta") != fixed.format("fasta")


@pytest.mark.parametrize("weights", [None, np.array([0.5, 2.0, 1.0, 0.25])])
@pytest.mark.parametrize("missing", [(), ((0, 3), (1, 2))])
def test_consistency_equals_the_dense_formula(missing, weights):
    """All pairs (|S| = 4), and pairs missing as in a large family's neighbourhoods
    (|S| counts x, y and the z paired with both); unweighted (ProbCons) and with
    sequence weights (each term of z weighted by w_z, divided by the weights' sum)."""
    rng = np.random.RandomState(0)
    lengths = [4, 3, 5, 2]
    pairs = [p for p in itertools.combinations(range(4), 2) if p not in missing]
    dense = {(x, y): rng.rand(lengths[x], lengths[y]) / 3 * (rng.rand(lengths[x], lengths[y])
                                                            < 0.7) for x, y in pairs}
    family = FamilyPosteriors.from_pairs(lengths, pairs,
                                         [scipy.sparse.csr_matrix(dense[p]) for p in pairs])
    result = family.consistency(1e-300, weights).matrix
    assert result.has_sorted_indices and (result != result.T).nnz == 0  # exactly symmetric
    transformed = result.toarray()
    block = {**dense, **{(y, x): value.T for (x, y), value in dense.items()}}
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    w = np.ones(4) if weights is None else weights
    for x, y in pairs:
        expected, contributors = (w[x] + w[y]) * block[x, y], w[x] + w[y]
        for z in range(4):
            if z not in (x, y) and (x, z) in block and (z, y) in block:
                expected = expected + w[z] * block[x, z] @ block[z, y]
                contributors += w[z]
        expected = np.where(block[x, y] > 0, expected / contributors, 0.0)  # P's entries
        found = transformed[offsets[x]:offsets[x + 1], offsets[y]:offsets[y + 1]]
        np.testing.assert_allclose(found, expected, rtol=1e-12)
    cut = family.consistency(0.1, weights).matrix
    assert 0 < cut.nnz < np.count_nonzero(transformed) and cut.data.min() >= 0.1


def test_clustal_weights_split_a_branch_between_the_leaves_below_it():
    # a and b identical (joined at height 0), c at distance 1 (the root at 0.5): a and b
    # each take half of the 0.5 branch above them, c its own 0.5; scaled to mean 1
    tree = upgma(np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]))
    np.testing.assert_allclose(tree.leaf_weights(), [0.75, 0.75, 1.5])
    np.testing.assert_array_equal(upgma(np.zeros((3, 3))).leaf_weights(), np.ones(3))


def test_column_scores_sum_the_posteriors_each_column_pair_would_align():
    """Against the dense sum over the pairs across the split: profile 0 holds sequences
    0 and 2, profile 1 holds 1 and 3, sequence 4 neither; (0, 3) was not computed."""
    rng = np.random.RandomState(2)
    lengths = [3, 4, 2, 3, 2]
    pairs = [p for p in itertools.combinations(range(5), 2) if p != (0, 3)]
    dense = {p: rng.rand(lengths[p[0]], lengths[p[1]]) * (rng.rand(lengths[p[0]],
                                                                   lengths[p[1]]) < 0.6)
             for p in pairs}
    family = FamilyPosteriors.from_pairs(lengths, pairs,
                                         [scipy.sparse.csr_matrix(dense[p]) for p in pairs])
    side = np.array([0, 1, 0, 1, -1])
    widths = (5, 6)
    columns = np.concatenate([np.sort(rng.choice(widths[max(side[s], 0)], lengths[s],
                                                 replace=False)) for s in range(5)])
    offsets = family.offsets
    expected = np.zeros(widths)
    for (x, y), block in dense.items():
        if {side[x], side[y]} != {0, 1}:
            continue
        if side[x] == 1:
            x, y, block = y, x, block.T
        for i, j in zip(*np.nonzero(block)):
            expected[columns[offsets[x] + i], columns[offsets[y] + j]] += block[i, j]
    np.testing.assert_allclose(family.column_scores(columns, side, widths), expected,
                               rtol=1e-12)


def test_upgma_joins_the_closest_first_and_writes_newick():
    distances = np.array([[0, 2, 6, 10], [2, 0, 6, 10], [6, 6, 0, 10], [10, 10, 10, 0.0]])
    tree = upgma(distances)
    assert tree.merges == ((0, 1), (4, 2), (5, 3))
    assert tree.heights == (1.0, 3.0, 5.0)
    parsed = Phylo.read(io.StringIO(tree.newick(["a", "b", "c", "d"])), "newick")
    assert sorted(t.name for t in parsed.get_terminals()) == ["a", "b", "c", "d"]


def test_a_family_aligns_with_its_tree_and_confidence():
    alignment = th.msa(_records())
    rows = [str(alignment[k]) for k in range(len(FAMILY))]
    assert [row.replace("-", "") for row in rows] == FAMILY
    assert len(alignment.confidence) == alignment.length
    known = alignment.mean_posterior[~np.isnan(alignment.mean_posterior)]
    assert known.min() >= 0 and known.max() <= 1 and known.mean() > 0.5
    np.testing.assert_array_equal(alignment.confidence, calibrated(alignment.mean_posterior))
    assert len(alignment.column_annotations[multiple_alignment.CONFIDENCE]) == alignment.length
    parsed = Phylo.read(io.StringIO(alignment.tree), "newick")
    assert sorted(t.name for t in parsed.get_terminals()) == [f"s{k}" for k in range(5)]
    assert "KQRQ" in rows[0] and all(row[rows[0].index("KQRQ"):][:4] == "KQRQ" for row in rows)


def test_refinement_never_lowers_the_objective():
    records = _records()
    model = th.PairHMM.load("protein")
    codes = [model.alphabet.encode(str(r.seq)) for r in records]
    pairs = list(itertools.combinations(range(5), 2))
    found = pair_posterior.sparse_posteriors_and_accuracies(
        model.compiled(), [(codes[x], codes[y]) for x, y in pairs], threshold=0.01,
        memory=None)
    family = FamilyPosteriors.from_pairs([len(c) for c in codes], pairs,
                                         [p for p, _ in found]).consistency(0.01)
    # from a poor start: every sequence left-justified, gaps at the end only
    columns = np.concatenate([np.arange(len(c)) for c in codes])
    width = max(len(c) for c in codes)
    objectives = [family.objective(columns)]
    for rounds in range(1, 21):  # each run is the first `rounds` rounds of the same path
        refined, refined_width = multiple_alignment._refine(
            family, columns, width, rounds, np.random.RandomState(1),
            multiple_alignment._silent)
        objectives.append(family.objective(refined))
        assert np.bincount(refined, minlength=refined_width).min() >= 1  # no empty column
    assert np.all(np.diff(objectives) >= -1e-12), objectives
    assert objectives[-1] > objectives[0] + 50.0  # it does move


def _plain_refinement(posteriors, columns, width, rounds, rng):
    """Every drawn split realigned, none skipped: ProbCons' loop, for reference."""
    n_sequences = posteriors.offsets.size - 1
    for _ in range(rounds):
        half = rng.rand(n_sequences) < 0.5
        if half.all() or not half.any():
            continue
        columns, width = multiple_alignment._realigned_split(posteriors, columns, half)
    return columns, width


@pytest.mark.parametrize("n_sequences", [3, 4, 5])
def test_refinement_skips_only_realignments_that_would_change_nothing(n_sequences,
                                                                      monkeypatch):
    """A split drawn again while the alignment is what its last realignment left is
    skipped; the result is the plain loop's, with far fewer joins on a small family."""
    records = _records()[:n_sequences]
    model = th.PairHMM.load("protein")
    codes = [model.alphabet.encode(str(r.seq)) for r in records]
    pairs = list(itertools.combinations(range(n_sequences), 2))
    found = pair_posterior.sparse_posteriors_and_accuracies(
        model.compiled(), [(codes[x], codes[y]) for x, y in pairs], threshold=0.01,
        memory=None)
    family = FamilyPosteriors.from_pairs([len(c) for c in codes], pairs,
                                         [p for p, _ in found]).consistency(0.01)
    columns = np.concatenate([np.arange(len(c)) for c in codes])  # a poor start
    width = max(len(c) for c in codes)
    joins = []
    join = multiple_alignment._join
    monkeypatch.setattr(multiple_alignment, "_join",
                        lambda *args: joins.append(1) or join(*args))
    for seed in range(3):
        refined, refined_width = multiple_alignment._refine(
            family, columns, width, 100, np.random.RandomState(seed),
            multiple_alignment._silent)
        refined_joins = len(joins)
        plain, plain_width = _plain_refinement(family, columns, width, 100,
                                               np.random.RandomState(seed))
        plain_joins = len(joins) - refined_joins
        joins.clear()
        assert refined_width == plain_width
        np.testing.assert_array_equal(refined, plain)
        assert plain_joins > 50  # 100 rounds less those that draw no split
        assert 0 < refined_joins < plain_joins / 2, (refined_joins, plain_joins)


def test_permuting_the_input_permutes_the_rows_only():
    records = _records()
    order = [3, 0, 4, 2, 1]
    plain = th.msa(records, refinement=0)
    permuted = th.msa([records[k] for k in order], refinement=0)
    rows = {plain.sequences[k].id: str(plain[k]) for k in range(5)}
    assert {permuted.sequences[k].id: str(permuted[k]) for k in range(5)} == rows


def test_inputs_of_every_kind_and_one_sequence(tmp_path):
    fasta = tmp_path / "family.fa"
    fasta.write_text("".join(f">s{k}\n{s}\n" for k, s in enumerate(FAMILY[:3])))
    from_file = th.msa(str(fasta), refinement=5)
    from_strings = th.msa(FAMILY[:3], refinement=5)
    assert [str(from_file[k]) for k in range(3)] == [str(from_strings[k]) for k in range(3)]
    assert from_strings.sequences[0].id == "seq1"
    one = th.msa([Seq("MKTAYIAK")])
    assert one.length == 8 and str(one[0]) == "MKTAYIAK"


@pytest.mark.parametrize("sequences, message", [
    (["MKTAY", ""], "empty sequences"),
    ([], "no sequences"),
    ([SeqRecord(Seq("MKTAY"), id="a"), SeqRecord(Seq("MKVAY"), id="a")], "repeated: a"),
    (["ACGTACGTACGTAC", "MKVLWQERTYHHK"], "mixed alphabets"),
    (["MKTAY", 5], "sequence 1 is not a str"),
    (["MKTAY", "MK*AY"], "seq2: letter"),
])
def test_bad_families_are_named(sequences, message):
    with pytest.raises(th.InvalidDataError, match=message):
        th.msa(sequences)


def test_a_family_beyond_the_memory_limit_says_so_before_starting():
    with pytest.raises(th.MemoryLimitError, match=r"5 sequences \(10 pairs\)"):
        th.msa(FAMILY, memory="1K")
    with pytest.raises(th.InvalidDataError, match="refinement must be"):
        th.msa(FAMILY, refinement=-1)


@pytest.mark.parametrize("fmt", ["fasta", "clustal", "stockholm", "a2m", "phylip"])
def test_every_output_format_parses_back(tmp_path, fmt):
    fasta = tmp_path / "family.fa"
    fasta.write_text("".join(f">s{k}\n{s}\n" for k, s in enumerate(FAMILY)))
    out = tmp_path / f"out.{fmt}"
    assert main(["msa", str(fasta), "-o", str(out), "--format", fmt, "--quiet",
                 "--refinement", "10"]) == 0
    parsed = Align.read(out, fmt)
    assert [str(parsed[k]).replace("-", "").replace(".", "").upper()
            for k in range(len(FAMILY))] == FAMILY
    if fmt == "stockholm":
        assert "#=GC PP_cons" in out.read_text()


@pytest.mark.parametrize("fmt", ["fasta", "clustal", "stockholm", "phylip"])
def test_the_fast_writer_prints_what_biopython_prints(fmt):
    alignment = th.msa(FAMILY, refinement=5)
    texts = []
    for version in (alignment, for_writing(alignment)):
        handle = io.StringIO()
        Align.write(version, handle, fmt)
        texts.append(handle.getvalue())
    assert texts[0] == texts[1]


def test_neighbourhood_route_pairs_every_join_and_aligns_a_family():
    model = th.PairHMM.load("protein")
    codes = [model.alphabet.encode(s) for s in FAMILY]
    distances = kmer_distances(codes, model.alphabet)
    counts = [collections.Counter(s[k:k + 2] for k in range(len(s) - 1)) for s in FAMILY]
    for x, y in itertools.combinations(range(len(FAMILY)), 2):
        shared = sum((counts[x] & counts[y]).values())
        expected = 1 - shared / (min(len(FAMILY[x]), len(FAMILY[y])) - 1)
        assert distances[x, y] == pytest.approx(expected, rel=1e-12)
    tree = upgma(distances)
    pairs = neighbourhood_pairs(distances, tree, neighbours=1, per_join=1)
    for a, b in tree.merges:
        across = {(min(x, y), max(x, y)) for x in tree.leaves(a) for y in tree.leaves(b)}
        assert across & set(pairs)
    aligned = th.msa(FAMILY, neighbours=1)
    assert [str(aligned[k]).replace("-", "") for k in range(len(FAMILY))] == FAMILY


def test_the_command_reports_bad_input_with_exit_1(tmp_path, capsys):
    fasta = tmp_path / "twice.fa"
    fasta.write_text(">a\nMKTAY\n>a\nMKVAY\n")
    assert main(["msa", str(fasta), "--quiet"]) == 1
    assert "repeated: a" in capsys.readouterr().err
    good = tmp_path / "good.fa"
    good.write_text(">a\nMKTAYIAK\n>b\nMKTAYLAK\n")
    assert main(["msa", str(good), "--quiet", "--pretrain", "1", "--threads", "1"]) == 0
    records = list(SeqIO.parse(io.StringIO(capsys.readouterr().out), "fasta"))
    assert [str(r.seq) for r in records] == ["MKTAYIAK", "MKTAYLAK"]
    with pytest.raises(SystemExit, match="2"):
        main(["msa", str(good), "--quiet", "--local-weight", "2"])
    assert "must be auto or a number in [0, 1], got 2" in capsys.readouterr().err
    family = tmp_path / "family.fa"
    family.write_text(">a\nMKTAYIAKQRQISFVK\n>b\nMKTAYIAKQRISFVK\n>c\nMKTAYAKQRQISFVK\n")
    rows = {}
    for weight in (0.0, 0.5, "auto"):  # where the first two place the gaps differs
        assert main(["msa", str(family), "--quiet", "--local-weight", str(weight),
                     "--pretrain", "0"]) == 0
        rows[weight] = [str(r.seq) for r in
                        SeqIO.parse(io.StringIO(capsys.readouterr().out), "fasta")]
        assert rows[weight] == [str(row) for row in th.msa(str(family), local_weight=weight,
                                                           pretrain=0)]
    assert rows[0.0] != rows[0.5]


def test_progress_hears_every_stage_to_its_end():
    heard = []
    th.msa(FAMILY, refinement=3, progress=lambda *report: heard.append(report))
    stages = [stage for stage, _, _ in heard]
    assert stages == sorted(stages, key=multiple_alignment.STAGES.index)
    finals = {stage: (done, total) for stage, done, total in heard}
    assert finals == {"pair posterior passes": (20, 20), "progressive joins": (4, 4),
                      "refinement rounds": (3, 3)}


def test_several_families_in_one_call_equal_each_alone(tmp_path, capsys):
    dna = ["GATTACAGATTACA", "GATTTACAGATTACA", "GACTACAGATACA"]
    families = {"first.fa": FAMILY[:3], "second.fa.gz": FAMILY[2:], "third.fasta": dna}
    for name, family in families.items():
        text = "".join(f">{name[:2]}{k} seq {k}\n{s}\n" for k, s in enumerate(family)).encode()
        (tmp_path / name).write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    out = tmp_path / "aligned"
    inputs = [str(tmp_path / name) for name in families]
    assert main(["msa", *inputs, "-o", str(out), "--quiet", "--refinement", "5"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["first.fa", "second.fa", "third.fa"]
    for name, written in zip(families, ["first.fa", "second.fa", "third.fa"]):
        single = tmp_path / f"single-{written}"
        assert main(["msa", str(tmp_path / name), "-o", str(single), "--quiet",
                     "--refinement", "5"]) == 0
        assert (out / written).read_text() == single.read_text()
    heard = []
    found = list(th.msa_many([FAMILY[:3], FAMILY[2:], dna], refinement=5,
                             progress=lambda *args: heard.append(args)))
    assert [a.format("fasta") for a in found] == [
        th.msa(family, refinement=5).format("fasta") for family in (FAMILY[:3], FAMILY[2:], dna)]
    assert heard == [("families", k, 3) for k in (1, 2, 3)]


def test_several_families_check_every_input_before_writing(tmp_path, capsys):
    good = tmp_path / "good.fa"
    good.write_text(">a\nMKTAYIAK\n>b\nMKTAYLAK\n")
    bad = tmp_path / "bad.fa"
    bad.write_text(">a\nMKTAY\n>a\nMKVAY\n")
    out = tmp_path / "out"
    assert main(["msa", str(good), str(good), "-o", str(out), "--quiet"]) == 1
    assert "share the output" in capsys.readouterr().err
    assert main(["msa", str(good), str(tmp_path / "missing.fa"), "-o", str(out), "-q"]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["msa", str(good), str(bad), "-o", str(out), "--quiet"]) == 1
    assert "bad.fa: sequence names must be unique; repeated: a" in capsys.readouterr().err
    (tmp_path / "other.fa").write_text(good.read_text())
    assert main(["msa", str(good), str(tmp_path / "other.fa")]) == 1
    assert "need -o FOLDER" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(th.InvalidDataError, match="family 1: sequence names must be unique"):
        list(th.msa_many([["MKTAYIAK", "MKTAYLAK"], bad]))
    with pytest.raises(th.InvalidDataError, match="no families"):
        list(th.msa_many([]))


def test_confidence_is_a_monotone_map_into_zero_one():
    raw = np.linspace(0, 1, 201)
    confidence = calibrated(raw)
    assert np.all(np.diff(confidence) >= 0)
    assert confidence.min() >= 0 and confidence.max() <= 1
    assert confidence[-1] > confidence[0]
    assert calibrated(np.array([np.nan]))[0] == confidence[0]  # one residue: raw 0


def test_trimming_keeps_the_confident_columns_and_each_sequences_residues_there():
    family = [*FAMILY, "MSSWLQRRWGNPLQAYTVKH"]  # an unrelated sequence makes weak columns
    alignment = th.msa(family)
    minimum = float(np.median(alignment.confidence))
    trimmed = th.msa.trim(alignment, minimum)
    keep = alignment.confidence >= minimum
    assert 0 < trimmed.length == keep.sum() < alignment.length
    for k in range(len(family)):
        row = np.array(list(str(alignment[k])))
        assert str(trimmed[k]) == "".join(row[keep])
        assert str(trimmed.sequences[k].seq) == "".join(row[keep][row[keep] != "-"])
    np.testing.assert_array_equal(trimmed.confidence, alignment.confidence[keep])
    assert th.msa.trim(alignment, 0.0).length == alignment.length
    with pytest.raises(th.InvalidDataError, match=r"\[0, 1\]"):
        th.msa.trim(alignment, 1.5)


def test_the_command_trims_columns_below_the_threshold(tmp_path, capsys):
    fasta = tmp_path / "family.fa"
    fasta.write_text("".join(f">s{k}\n{s}\n" for k, s in enumerate(FAMILY)))
    assert main(["msa", str(fasta), "--quiet", "--format", "stockholm"]) == 0
    full = capsys.readouterr().out
    assert main(["msa", str(fasta), "--quiet", "--trim", "0.5"]) == 0
    trimmed = list(SeqIO.parse(io.StringIO(capsys.readouterr().out), "fasta"))
    confidence = "".join(line.split()[-1] for line in full.splitlines()
                         if line.startswith("#=GC PP_cons"))
    assert 0 < len(trimmed[0].seq) == sum(digit == "*" or int(digit) >= 5 for digit in confidence)
    with pytest.raises(SystemExit) as usage:
        main(["msa", str(fasta), "--quiet", "--trim", "2"])
    assert usage.value.code == 2 and "[0, 1]" in capsys.readouterr().err


def test_pretraining_fits_a_drawn_subset_of_pairs_anchored_to_the_given_model(monkeypatch):
    """``pretrain`` fits a copy of the model on at most ``PRETRAIN_PAIRS`` pairs, drawn
    by ``random_state``, each M-step pulled ``PRETRAIN_ANCHOR`` of the way back; the
    given model is left as it was, and ``pretrain=0`` fits nothing."""
    fits = []
    original_fit = th.PairHMM.fit

    def recorded_fit(self, pairs, **options):
        fits.append(([tuple(pair) for pair in pairs], options["anchor"], self.n_iter))
        return original_fit(self, pairs, **options)

    monkeypatch.setattr(th.PairHMM, "fit", recorded_fit)
    monkeypatch.setattr(multiple_alignment, "PRETRAIN_PAIRS", 4)
    model = th.PairHMM.load("protein")
    before = model.compiled().logs[0].copy()
    first = th.msa(FAMILY, model, refinement=2)
    again = th.msa(FAMILY, model, refinement=2)
    other_draw = th.msa(FAMILY, model, refinement=2, random_state=1)
    assert first.format("fasta") == again.format("fasta")
    assert [len(pairs) for pairs, _, _ in fits] == [4, 4, 4]
    assert {(anchor, iterations) for _, anchor, iterations in fits} == {
        (multiple_alignment.PRETRAIN_ANCHOR, multiple_alignment.DEFAULT_PRETRAIN)}
    assert fits[0][0] == fits[1][0] != fits[2][0]
    assert all(x in FAMILY and y in FAMILY and x != y for x, y in fits[0][0])
    np.testing.assert_array_equal(model.compiled().logs[0], before)
    assert other_draw.length >= len(max(FAMILY, key=len))
    th.msa(FAMILY, model, refinement=2, pretrain=0)
    assert len(fits) == 3


@pytest.mark.parametrize("threshold", [0.01, 0.3])
def test_mixing_gives_scipys_weighted_sum_with_small_entries_dropped(threshold):
    """The merged CSR sum equals scipy's ``(1 - w) A + w B`` with the entries below the
    threshold removed: the same entries, values bit for bit, columns sorted."""
    rng = np.random.RandomState(int(threshold * 100))
    shapes = [(6, 9), (1, 1), (40, 30), (3, 5)]
    matrices = [[scipy.sparse.random(n, m, density=d, format="csr", random_state=rng)
                 for d in (0.3, 0.5)] for n, m in shapes]
    matrices[3][1] = scipy.sparse.csr_matrix((3, 5))  # one side empty
    found = mixed([(a, 0.2) for a, _ in matrices], [(b, 0.6) for _, b in matrices], 0.3,
                  threshold)
    for (a, b), (posterior, accuracy) in zip(matrices, found):
        expected = (0.7 * a + 0.3 * b).tocsr()
        expected.data[expected.data < threshold] = 0.0
        expected.eliminate_zeros()
        assert posterior.shape == expected.shape and posterior.has_sorted_indices
        np.testing.assert_array_equal(posterior.indptr, expected.indptr)
        np.testing.assert_array_equal(posterior.indices, expected.indices)
        np.testing.assert_array_equal(posterior.data, expected.data)
        assert accuracy == 0.7 * 0.2 + 0.3 * 0.6
