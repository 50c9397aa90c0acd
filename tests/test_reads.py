"""Read likelihoods (GATK's pair HMM): GATK's own rows, brute force, the plain
recurrence, precision and underflow, threads, and bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from Bio.Seq import Seq

import tiedhmm as th
from tiedhmm.pair.reads import gatk_qualities, read_likelihoods

from .naive import gatk_brute_force, gatk_log_recurrence, gatk_recurrence
from .shared_data import shared_folder

TEST_ROWS = Path(__file__).parent / "data" / "gatk_pairhmm_testdata.txt"


def _rows():
    return [line.split() for line in TEST_ROWS.read_text().splitlines()
            if line and not line.startswith("#")]


def _random_read(rng, length, letters="ACGT"):
    return "".join(rng.choice(list(letters), length))


def _random_case(rng, n_reads, n_haps, n_letters=(3, 12), with_n=True):
    letters = "ACGTN" if with_n else "ACGT"
    haps = [_random_read(rng, rng.integers(*n_letters), letters) for _ in range(n_haps)]
    reads = [_random_read(rng, rng.integers(*n_letters), letters) for _ in range(n_reads)]
    quals = [[rng.integers(0, 60, len(r)) for _ in range(4)] for r in reads]
    return haps, reads, quals


def test_every_gatk_test_row():
    rows = _rows()
    assert len(rows) == 104
    prepared = [gatk_qualities(*row[2:6]) for row in rows]
    expected = np.array([float(row[6]) for row in rows])
    for precision in ("mixed", "double"):
        got = np.array([read_likelihoods([row[0]], [row[1]], *([q] for q in quals),
                                         precision=precision)[0, 0]
                        for row, quals in zip(rows, prepared, strict=True)])
        # the expected values have 7 significant digits
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_gatk_rows_in_one_batch_equal_one_at_a_time():
    rows = _rows()[:30]
    haps = sorted({row[0] for row in rows})
    reads = [row[1] for row in rows]
    prepared = [gatk_qualities(*row[2:6]) for row in rows]
    table = read_likelihoods(haps, reads, *([q[k] for q in prepared] for k in range(4)))
    for r, (row, quals) in enumerate(zip(rows, prepared, strict=True)):
        single = read_likelihoods([row[0]], [row[1]], *([q] for q in quals))[0, 0]
        assert table[r, haps.index(row[0])] == single


def test_brute_force_over_all_alignments():
    rng = np.random.default_rng(1)
    for _ in range(12):
        haps, reads, quals = _random_case(rng, 2, 3, n_letters=(1, 5))
        got = read_likelihoods(haps, reads, *([q[k] for q in quals] for k in range(4)),
                               precision="double")
        for r, read in enumerate(reads):
            for h, hap in enumerate(haps):
                assert got[r, h] == pytest.approx(gatk_brute_force(hap, read, *quals[r]),
                                                  abs=1e-9)


@pytest.mark.parametrize("n_haps", [3, 7, 20])  # 4, 8 and 16 lanes, padded
def test_plain_recurrence_on_random_batches(n_haps):
    rng = np.random.default_rng(n_haps)
    haps, reads, quals = _random_case(rng, 6, n_haps, n_letters=(1, 40))
    arrays = [[q[k] for q in quals] for k in range(4)]
    double = read_likelihoods(haps, reads, *arrays, precision="double")
    mixed = read_likelihoods(haps, reads, *arrays)
    for r, read in enumerate(reads):
        for h, hap in enumerate(haps):
            reference = gatk_recurrence(hap, read, *quals[r])
            assert double[r, h] == pytest.approx(reference, abs=1e-9)
            assert mixed[r, h] == pytest.approx(reference, abs=1e-5)


def test_few_and_many_haplotypes_agree():
    # up to 7 haplotypes per read go one haplotype against 16 reads (a transposed
    # programme), more go one read against 16 haplotypes: the same numbers either way
    rng = np.random.default_rng(12)
    haps, reads, quals = _random_case(rng, 40, 20, n_letters=(20, 90))
    arrays = [[q[k] for q in quals] for k in range(4)]
    many = read_likelihoods(haps, reads, *arrays)
    for chosen in ([0, 1, 2], [5], list(range(7, 14))):
        few = read_likelihoods([haps[k] for k in chosen], reads, *arrays)
        np.testing.assert_allclose(few, many[:, chosen], rtol=0, atol=1e-5)


def test_inputs_in_every_form_agree():
    rng = np.random.default_rng(5)
    haps, reads, quals = _random_case(rng, 3, 4, n_letters=(5, 30), with_n=False)
    arrays = [[q[k] for q in quals] for k in range(4)]
    expected = read_likelihoods(haps, reads, *arrays)
    codes = {c: k for k, c in enumerate("ACGTN")}
    forms = [
        ([h.lower() for h in haps], [r.encode() for r in reads]),
        ([Seq(h) for h in haps], [np.frombuffer(r.encode(), np.uint8) for r in reads]),
        ([np.array([codes[c] for c in h], np.uint8) for h in haps], reads),
    ]
    for form_haps, form_reads in forms:
        np.testing.assert_array_equal(read_likelihoods(form_haps, form_reads, *arrays),
                                      expected)
    as_text = [["".join(chr(33 + v) for v in q[k]) for q in quals] for k in range(4)]
    as_uint8 = [[np.asarray(q[k], np.uint8) for q in quals] for k in range(4)]
    np.testing.assert_array_equal(read_likelihoods(haps, reads, *as_text), expected)
    np.testing.assert_array_equal(read_likelihoods(haps, reads, *as_uint8), expected)


def test_one_number_for_every_gap_quality():
    reads, haps = ["ACGTTGCA", "TTGCA"], ["GGACGTTGCATT", "ACGTAGCA"]
    base = ["I" * len(r) for r in reads]
    np.testing.assert_array_equal(
        read_likelihoods(haps, reads, base, 45, 40, 10),
        read_likelihoods(haps, reads, base, [[45] * len(r) for r in reads],
                         [[40] * len(r) for r in reads], ["+" * len(r) for r in reads]))


def test_underflowing_pairs_are_rescued():
    # long reads, low qualities and unrelated haplotypes underflow float32
    rng = np.random.default_rng(7)
    haps = [_random_read(rng, 900) for _ in range(3)]
    reads = [haps[0][100:700], _random_read(rng, 600), haps[1][:300] + _random_read(rng, 300)]
    quals = [[rng.integers(5, 20, len(r)), np.full(len(r), 20), np.full(len(r), 20),
              np.full(len(r), 5)] for r in reads]
    arrays = [[q[k] for q in quals] for k in range(4)]
    mixed = read_likelihoods(haps, reads, *arrays)
    double = read_likelihoods(haps, reads, *arrays, precision="double")
    assert np.all(np.isfinite(mixed))
    assert mixed.min() < -200  # far below float32's range: these went through the rescue
    np.testing.assert_allclose(mixed, double, rtol=0, atol=1e-5)
    for r in range(len(reads)):
        reference = gatk_log_recurrence(haps[1], reads[r], *quals[r])
        assert double[r, 1] == pytest.approx(reference, abs=1e-9 * abs(reference))


def test_long_reads_stay_finite_and_exact():
    rng = np.random.default_rng(3)
    hap = _random_read(rng, 20_000)
    read = list(hap[5_000:15_000])
    for k in rng.choice(len(read), 100, replace=False):
        read[k] = "ACGT"[("ACGT".index(read[k]) + 1) % 4]
    read = "".join(read)
    quals = [np.full(len(read), q) for q in (30, 45, 45, 10)]
    got = read_likelihoods([hap, _random_read(rng, 20_000)], [read], *([q] for q in quals))
    assert np.all(np.isfinite(got))
    # above the one path that aligns the read where it came from, below certainty
    match, mismatch = 1 - 1e-3, 1e-3 / 3
    one_path = (np.log10(1 / len(hap)) + np.log10(0.9) + 9_900 * np.log10(match)
                + 100 * np.log10(mismatch) + 9_999 * np.log10(1 - 2 * 10 ** -4.5))
    assert one_path <= got[0, 0] < one_path + 1
    assert got[0, 1] < got[0, 0] - 1000  # an unrelated haplotype, far below, finite


def test_threads_give_identical_results():
    rng = np.random.default_rng(11)
    haps = [_random_read(rng, rng.integers(200, 400)) for _ in range(9)]
    reads = [h[50:200] for h in haps] * 3
    quals = [[rng.integers(10, 40, len(r)), 45, 45, 10] for r in reads]
    arrays = [[q[k] for q in quals] for k in range(4)]
    one = read_likelihoods(haps, reads, *arrays, threads=1)
    two = read_likelihoods(haps, reads, *arrays, threads=2)
    np.testing.assert_array_equal(one, two)


def test_workload_rows_match_gkl():
    folder = shared_folder("gatk-pairhmm")
    with gzip.open(folder / "workload.txt.gz", "rt") as text:
        lines = [line.split() for line in text if not line.startswith("#")][:64 * 20]
    with gzip.open(folder / "workload.results.double_native.txt.gz", "rt") as text:
        expected = np.loadtxt(text)  # read-major: the first 20 reads x 64 haplotypes
    haps = [line[0] for line in lines[:64]]
    reads = [line[1] for line in lines[::64]]
    prepared = [gatk_qualities(*line[2:6]) for line in lines[::64]]
    got = read_likelihoods(haps, reads, *([q[k] for q in prepared] for k in range(4)))
    np.testing.assert_allclose(got.ravel(), expected[:64 * 20], rtol=0, atol=1e-4)


def test_top_level_name():
    assert th.read_likelihoods is read_likelihoods


@pytest.mark.parametrize(("change", "message"), [
    (lambda a: a.update(reads=["ACGT", ""]), "read 1 is empty"),
    (lambda a: a.update(haplotypes=["ACGT", ""]), "haplotype 1 is empty"),
    (lambda a: a.update(reads=["ACGT", "ACXT"]), "read 1: letter 'X' at position 2"),
    (lambda a: a.update(haplotypes=["AC-T"]), "haplotype 0: letter '-'"),
    (lambda a: a.update(base_quals=["IIII", "III"]),
     "base qualities of read 1: 3 qualities for 4 letters"),
    (lambda a: a.update(base_quals=["IIII", [30, 30, 94, 30]]),
     "base qualities of read 1: quality 94 at position 2 is outside 0-93"),
    (lambda a: a.update(ins_quals=[[45] * 4, [45, -1, 45, 45]]),
     "insertion qualities of read 1: quality -1"),
    (lambda a: a.update(base_quals=["IIII"]), "base qualities: 1 entries for 2 reads"),
    (lambda a: a.update(gcp=None), "gap continuation penalties are required"),
    (lambda a: a.update(precision="half"), "precision must be one of"),
])
def test_bad_input_names_the_read(change, message):
    arguments = {"haplotypes": ["ACGTACGT"], "reads": ["ACGT", "CGTA"],
                 "base_quals": ["IIII", "IIII"], "ins_quals": 45, "del_quals": 45, "gcp": 10}
    change(arguments)
    with pytest.raises(th.InvalidDataError, match=message):
        read_likelihoods(**arguments)


def test_bad_input_names_the_read_by_name():
    with pytest.raises(th.InvalidDataError, match=r"read 1 \('r2'\): letter 'Z'"):
        read_likelihoods(["ACGT"], ["ACG", "AZG"], ["III", "III"], 45, 45, 10,
                         names=["r1", "r2"])


def test_gatk_preprocessing():
    base, ins, dele, gcp = gatk_qualities([2, 10, 17, 30, 60], mapping_quality=40,
                                          base_quality_threshold=18)
    assert base.tolist() == [6, 6, 6, 30, 40]
    assert ins.tolist() == dele.tolist() == [45] * 5
    assert gcp.tolist() == [10] * 5
    base, ins, dele, gcp = gatk_qualities("+++", "!!!", [50, 50, 50], 12)
    assert base.tolist() == [10] * 3 and ins.tolist() == [6] * 3
    assert dele.tolist() == [50] * 3 and gcp.tolist() == [12] * 3
