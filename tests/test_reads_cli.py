"""``tiedhmm reads`` and ``tiedhmm train-reads``: FASTQ, FASTA and BAM in (a BAM the
test writes with pysam), a TSV that equals the API, and bad input refused with exit 1
and nothing written."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tiedhmm as th
from tiedhmm.cli import main

LETTERS = "ACGT"


@pytest.fixture(scope="module")
def region():
    """Two haplotypes (one with a 2-letter deletion) and reads drawn from them."""
    rng = np.random.default_rng(8)
    reference = "".join(rng.choice(list(LETTERS), 300))
    haps = {"ref": reference, "alt": reference[:150] + reference[152:]}
    reads = []
    for k in range(12):
        hap = haps["ref" if k % 2 else "alt"]
        start = int(rng.integers(0, len(hap) - 80))
        reads.append((f"read{k}", hap[start:start + 80], rng.integers(15, 40, 80), start))
    return haps, reads


def _write_haplotypes(path, haps):
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in haps.items()))
    return path


def _table(path):
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    names = [line.split("\t")[0] for line in lines[1:]]
    values = np.array([[float(v) for v in line.split("\t")[1:]] for line in lines[1:]])
    return header, names, values


def _expected(haps, reads, model=None, ins=None, dele=None):
    qualities = [th.gatk_qualities(q, ins, dele) for _, _, q, _ in reads]
    return th.read_likelihoods(list(haps.values()), [s for _, s, _, _ in reads],
                               *([q[k] for q in qualities] for k in range(4)), model=model)


def test_fastq_reads_equal_the_api(tmp_path, region):
    haps, reads = region
    fastq = tmp_path / "reads.fq"
    fastq.write_text("".join(f"@{name} extra\n{seq}\n+\n{''.join(chr(33 + q) for q in quals)}\n"
                             for name, seq, quals, _ in reads))
    out = tmp_path / "out.tsv"
    assert main(["reads", "--reads", str(fastq), "--haplotypes",
                 str(_write_haplotypes(tmp_path / "haps.fa", haps)), "-o", str(out)]) == 0
    header, names, values = _table(out)
    assert header == ["read", "ref", "alt"]
    assert names == [name for name, _, _, _ in reads]
    np.testing.assert_allclose(values, _expected(haps, reads), atol=5e-7)
    # a read across the deletion is far more likely under the haplotype it came from
    across = [k for k, (_, _, _, start) in enumerate(reads) if start + 10 < 150 < start + 70]
    assert across
    for k in across:
        own = 1 - k % 2
        assert values[k, own] > values[k, 1 - own] + 1


def test_fasta_reads_take_the_default_quality(tmp_path, region, capsys):
    haps, reads = region
    fasta = tmp_path / "reads.fa"
    fasta.write_text("".join(f">{name}\n{seq}\n" for name, seq, _, _ in reads))
    assert main(["reads", "--reads", str(fasta), "--haplotypes",
                 str(_write_haplotypes(tmp_path / "haps.fa", haps)),
                 "--default-quality", "25"]) == 0
    header, _, values = _table_from_text(tmp_path, capsys.readouterr().out)
    assert header == ["read", "ref", "alt"]
    flat = [(name, seq, np.full(len(seq), 25), start) for name, seq, _, start in reads]
    np.testing.assert_allclose(values, _expected(haps, flat), atol=5e-7)


def _table_from_text(tmp_path, text):
    path = tmp_path / "stdout.tsv"
    path.write_text(text)
    return _table(path)


def _write_bam(path, haps, reads, with_tags):
    pysam = pytest.importorskip("pysam", reason="the bam extra (pysam) is not installed")
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": "chr1", "LN": 1000}]}
    unsorted = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as handle:
        for k, (name, seq, quals, start) in enumerate(reads):
            record = pysam.AlignedSegment(handle.header)
            record.query_name = name
            record.query_sequence = "TT" + seq  # two soft-clipped letters in front
            record.flag = 0
            record.reference_id = 0
            record.reference_start = 100 + start
            record.mapping_quality = 60
            record.cigarstring = f"2S{len(seq)}M"
            record.query_qualities = pysam.qualitystring_to_array(
                "II" + "".join(chr(33 + q) for q in quals))
            if with_tags:
                record.set_tag("BI", "!!" + "".join(chr(33 + 30 + k % 5) for _ in seq))
                record.set_tag("BD", "!!" + "".join(chr(33 + 35) for _ in seq))
            handle.write(record)
        for flag in (0x4, 0x100, 0x400):  # unmapped, secondary, duplicate: skipped
            record = pysam.AlignedSegment(handle.header)
            record.query_name, record.query_sequence, record.flag = f"skip{flag}", "ACGT", flag
            record.reference_id, record.reference_start = 0, 100
            record.cigarstring, record.query_qualities = "4M", pysam.qualitystring_to_array(
                "IIII")
            handle.write(record)
    pysam.sort("-o", str(path), str(unsorted))
    pysam.index(str(path))
    return path


@pytest.mark.parametrize("with_tags", [False, True])
def test_bam_round_trip(tmp_path, region, with_tags):
    haps, reads = region
    bam = _write_bam(tmp_path / "reads.bam", haps, reads, with_tags)
    out = tmp_path / "out.tsv"
    assert main(["reads", "--bam", str(bam), "--haplotypes",
                 str(_write_haplotypes(tmp_path / "haps.fa", haps)), "-o", str(out)]) == 0
    _, names, values = _table(out)
    order = sorted(range(len(reads)), key=lambda k: (reads[k][3], k))  # sorted BAM order
    assert sorted(names) == sorted(name for name, _, _, _ in reads)  # skipped ones gone
    by_name = {name: row for name, row in zip(names, values, strict=True)}
    if with_tags:
        ins = {name: np.full(80, 30 + k % 5) for k, (name, _, _, _) in enumerate(reads)}
        expected = np.vstack([_expected(haps, [reads[k]], ins=ins[reads[k][0]],
                                        dele=np.full(80, 35)) for k in order])
    else:
        expected = _expected(haps, [reads[k] for k in order])
    np.testing.assert_allclose(np.vstack([by_name[reads[k][0]] for k in order]), expected,
                               atol=5e-7)
    # a region holds the reads that overlap it
    assert main(["reads", "--bam", str(bam), "--haplotypes", str(tmp_path / "haps.fa"),
                 "--region", "chr1:101-160", "-o", str(out)]) == 0
    _, in_region, _ = _table(out)
    assert in_region and set(in_region) == {name for name, _, _, start in reads if start < 60}


def test_train_reads_then_use_the_model(tmp_path, region):
    haps, reads = region
    fastq = tmp_path / "reads.fq"
    fastq.write_text("".join(f"@{name}\n{seq}\n+\n{''.join(chr(33 + q) for q in quals)}\n"
                             for name, seq, quals, _ in reads))
    haplotypes = _write_haplotypes(tmp_path / "haps.fa", haps)
    model_path = tmp_path / "model.json"
    assert main(["train-reads", "--reads", str(fastq), "--haplotypes", str(haplotypes),
                 "--max-period", "2", "--max-repeat", "4", "--iter", "2", "-o",
                 str(model_path), "-q"]) == 0
    model = th.ReadContextModel.load(model_path)
    assert model.max_period == 2 and model.monitor_.n_iter == 2
    out = tmp_path / "out.tsv"
    assert main(["reads", "--reads", str(fastq), "--haplotypes", str(haplotypes),
                 "--model", str(model_path), "-o", str(out)]) == 0
    np.testing.assert_allclose(_table(out)[2], _expected(haps, reads, model=model),
                               atol=5e-7)


@pytest.mark.parametrize(("content", "extra", "message"), [
    ("@r1\nACGX\n+\nIIII\n", [], "read 0 \\('r1'\\): letter 'X' at position 3"),
    ("@r1\nACGT\n+\nIII\n", [], "read 0 \\('r1'\\): 3 qualities for 4 letters"),
    ("@r1\nACGT\nIIII\n", [], "four lines each"),
    ("just text\n", [], "not a FASTQ or FASTA file"),
    ("@r1\nACGT\n+\nIIII\n", ["--region", "chr1:1-10"], "--region needs --bam"),
])
def test_bad_input_exits_1_and_writes_nothing(tmp_path, capsys, content, extra, message):
    reads = tmp_path / "reads.fq"
    reads.write_text(content)
    haps = _write_haplotypes(tmp_path / "haps.fa", {"h": "ACGTACGTAC"})
    out = tmp_path / "out.tsv"
    assert main(["reads", "--reads", str(reads), "--haplotypes", str(haps), "-o", str(out),
                 *extra]) == 1
    error = capsys.readouterr().err
    assert error.startswith("tiedhmm: error:") and len(error.strip().splitlines()) == 1
    assert re.search(message, error), error
    assert set(tmp_path.iterdir()) == {reads, haps}  # no output, no temporary file


def test_missing_bam_exits_1(tmp_path, capsys):
    pytest.importorskip("pysam", reason="the bam extra (pysam) is not installed")
    haps = _write_haplotypes(tmp_path / "haps.fa", {"h": "ACGTACGTAC"})
    assert main(["reads", "--bam", str(tmp_path / "none.bam"), "--haplotypes",
                 str(haps)]) == 1
    assert "no such file" in capsys.readouterr().err
