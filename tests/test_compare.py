"""Scoring alignments against references: hand-counted SP, TC and Q on small cases, the
three ways a reference marks the columns that count, the official scorer's figures on
BAliBASE dev cases, and the command line."""

from __future__ import annotations

import csv
import math
import shutil
import subprocess

import pytest
from Bio.Seq import Seq
from Bio.SeqRecord import SeqRecord

import tiedhmm as th
from tiedhmm.cli import main
from tiedhmm.msa import column_agreement, compare, read_reference

from .shared_data import shared_folder


def aligned(*rows, names="abcd"):
    return [SeqRecord(Seq(row), id=name) for name, row in zip(names, rows)]


REFERENCE = aligned("AC-GT", "ACAGT", "A--GT")
TEST = aligned("ACG-T", "ACAGT", "A-G-T")


def test_hand_counted_without_core_marks():
    # columns with a gap in a fifth of the sequences or more do not count: A, G and T
    # columns count, 3 pairs each; the test keeps all A and T pairs and the a-c G pair
    scores = compare(TEST, REFERENCE)
    assert scores.counted_columns == 3
    assert scores.sp == pytest.approx(7 / 9)
    assert scores.tc == pytest.approx(2 / 3)
    assert scores.pair_q[("a", "b")] == pytest.approx(2 / 3)
    assert scores.pair_q[("a", "c")] == pytest.approx(1.0)
    assert scores.pair_q[("b", "c")] == pytest.approx(2 / 3)
    assert th.msa.compare is compare  # also reached as tiedhmm.msa.compare


def test_identical_alignment_scores_one_and_order_and_case_do_not_matter():
    shuffled = [SeqRecord(Seq(str(r.seq).lower()), id=r.id.upper()) for r in REFERENCE[::-1]]
    scores = compare(shuffled, REFERENCE)
    assert (scores.sp, scores.tc) == (1.0, 1.0)


def test_column_agreement_marks_exact_copies_of_counted_columns():
    # counted reference columns: A, G, T (the C and A columns have too many gaps). Test
    # columns: AAA (a copy), CC- (no counted residue), GAG (a's and c's G with b's A:
    # not a copy), -G- (b's G alone), TTT (a copy)
    agreement = column_agreement(TEST, REFERENCE)
    assert agreement.tolist() == [1, -1, 0, 0, 1]
    assert column_agreement(REFERENCE, REFERENCE).tolist() == [1, -1, -1, 1, 1]


def test_mixed_case_reference_counts_upper_case_columns():
    reference = aligned("ACgGT", "ACaGT", "ACa-T")  # column 2 is not core (lower case)
    test = aligned("AC-GGT", "ACA-GT", "AC-A-T")
    scores = compare(test, reference)
    # core columns 0, 1, 4 (3 pairs each) and 3 (2 residues: 1 pair): 10 pairs
    assert scores.counted_columns == 4
    assert scores.sp == pytest.approx((3 + 3 + 1 + 3) / 10)  # only the G-G pair is split
    # G column: rows a and b hold G, the test puts a's G at 4 and b's at 4: kept
    assert scores.tc == pytest.approx(1.0)


def test_balibase_xml_core_blocks(tmp_path):
    # core columns 1-3; column 2 has a gap, which bali_score still counts as 3 pairs
    rows = {"s1": "MKV-LA", "s2": "MKVALA", "s3": "MK--LA"}
    sequences = "".join(f"<sequence><seq-name>{n}</seq-name><seq-data>{r.lower()}"
                        f"</seq-data></sequence>" for n, r in rows.items())
    (tmp_path / "ref.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE macsim SYSTEM "http://gone/macsim.dtd">\n'
        f"<macsim><alignment>{sequences}<column-score><colsco-name>coreblock</colsco-name>"
        "<colsco-data>0 1 1 1 0 0</colsco-data></column-score></alignment></macsim>")
    reference = read_reference(tmp_path / "ref.xml")
    assert reference.counted.tolist() == [0, 3, 3, 3, 0, 0]
    perfect = compare(aligned(*rows.values(), names=list(rows)), tmp_path / "ref.xml")
    # column 1 holds 3 pairs, column 2 one (V-V), column 3 none: 4 of the 9 counted
    assert perfect.sp == pytest.approx(4 / 9)
    # TC looks at columns 1 and 2 (s1 has a residue there): only column 1 is whole
    assert perfect.tc == pytest.approx(1 / 2)


def test_official_rounding():
    scores = compare(TEST, REFERENCE, official_rounding=True)
    assert (scores.sp, scores.tc) == (0.778, 0.66)  # TC truncated, not rounded


def test_msf_files(tmp_path):
    (tmp_path / "ref.msf").write_text(
        "PileUp\n\n MSF: 5  Type: P  Check: 0 ..\n\n Name: a oo Len: 5\n Name: b oo Len: 5\n"
        " Name: c oo Len: 5\n\n//\n\na   AC.GT\nb   ACAGT\nc   A~.GT\n")
    assert compare(TEST, tmp_path / "ref.msf").sp == pytest.approx(7 / 9)


@pytest.mark.parametrize(("test", "message"), [
    (aligned("ACGT", "ACAGT"), "sequence 'c' of the reference is not in the test"),
    (aligned("ACG-T", "ACAGT", "A-C-T"), "sequence 'c' has other residues"),
])
def test_bad_test_alignments(test, message):
    if len({len(r.seq) for r in test}) > 1:
        message = "rows of different lengths"
    with pytest.raises(th.InvalidDataError, match=message):
        compare(test, REFERENCE)


def test_command_line(tmp_path, capsys):
    from Bio import SeqIO
    SeqIO.write(TEST, tmp_path / "test.fa", "fasta")
    SeqIO.write(REFERENCE, tmp_path / "ref.fa", "fasta")
    assert main(["compare", str(tmp_path / "test.fa"), str(tmp_path / "ref.fa"),
                 "--pairs", "--official"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["SP\t0.7780", "TC\t0.6600"]
    assert "a\tc\t1.0000" in out
    assert main(["compare", str(tmp_path / "test.fa"), str(tmp_path / "none.fa")]) == 1


#: Peers whose Debian packages reproduce the alignments the official scores were
#: computed from (deterministic tools only).
PEERS = {"probcons": (lambda i, o: ["probcons", i], True),
         "clustalo": (lambda i, o: ["clustalo", "-i", i, "-o", o, "--force"], False)}


@pytest.mark.parametrize("case", ["RV11/BB11001", "RV11/BB11003", "RV12/BB12001",
                                  "RV12/BB12003"])
def test_official_scores_on_dev_cases(tmp_path, case):
    folder = shared_folder("balibase3-dev")
    with (folder / "official_scores.tsv").open() as handle:
        rows = [r for r in csv.reader(handle, delimiter="\t") if r and not r[0].startswith("#")]
    official = {(r[0], f"{r[1]}/{r[2]}"): (float(r[3]), float(r[4])) for r in rows[1:]}
    checked = 0
    for tool, (command, to_stdout) in PEERS.items():
        if (tool, case) not in official or shutil.which(tool) is None:
            continue
        out = tmp_path / f"{tool}.fa"
        result = subprocess.run(command(str(folder / f"{case}.tfa"), str(out)),
                                capture_output=True, text=True, check=True)
        if to_stdout:
            out.write_text(result.stdout)
        scores = compare(out, folder / f"{case}.xml", official_rounding=True)
        sp, tc = official[(tool, case)]
        assert scores.sp == pytest.approx(sp, abs=1e-9), tool
        assert scores.tc == pytest.approx(tc, abs=1e-9), tool
        checked += 1
    if not checked:
        pytest.skip("needs probcons or clustalo (Debian packages) on the PATH")
    assert not math.isnan(scores.sp)
