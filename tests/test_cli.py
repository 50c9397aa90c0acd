"""The command line end to end: formats parse back with Biopython and equal the API;
train then align; every bad input gives exit 1, one line on stderr and no output file."""

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from Bio import Align, SeqIO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tiedhmm as th
from tiedhmm.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "example_proteins.fa"


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "tiedhmm", *map(str, args)],
                          capture_output=True, text=True, input=stdin, timeout=300)


@pytest.fixture(scope="module")
def records():
    return list(SeqIO.parse(EXAMPLE, "fasta"))


@pytest.fixture(scope="module")
def model():
    return th.PairHMM.load("protein")


def _single(tmp_path, record) -> Path:
    path = tmp_path / f"{record.id}.fa"
    SeqIO.write([record], path, "fasta")
    return path


@pytest.mark.parametrize("fmt", ["fasta", "clustal"])
def test_single_pair_formats_read_back_as_the_api_alignment(tmp_path, records, model, fmt):
    out = tmp_path / f"out.{fmt}"
    result = run("align", EXAMPLE, _single(tmp_path, records[1]), "--format", fmt, "-o", out)
    assert result.returncode == 0, result.stderr
    parsed = Align.read(out, fmt)
    expected = model.align(records[0], records[1])
    np.testing.assert_array_equal(parsed.coordinates, expected.coordinates)
    assert [str(s.seq) for s in parsed.sequences] == [str(records[0].seq), str(records[1].seq)]


@pytest.mark.parametrize("fmt", ["stockholm", "sam"])
@pytest.mark.parametrize("method", ["viterbi", "mea"])
def test_many_pairs_formats_parse_back_as_the_api_alignments(records, model, fmt, method):
    result = run("align", EXAMPLE, "--format", fmt, "--method", method)
    assert result.returncode == 0, result.stderr
    parsed = list(Align.parse(io.StringIO(result.stdout), fmt))
    assert len(parsed) == 3
    for alignment, other in zip(parsed, records[1:]):
        expected = model.align(records[0], other, method=method)
        np.testing.assert_array_equal(alignment.coordinates, expected.coordinates)


def test_local_alignment_from_the_command_line(tmp_path, records, model):
    core = str(records[0].seq)[40:120]
    a, b = tmp_path / "a.fa", tmp_path / "b.fa"
    a.write_text(f">a\nWWWWWWWWHHHHHHHH{core}PPPPPPPP\n")
    b.write_text(f">b\nCCCCCCCC{core}GGGGGGGGGGGG\n")
    result = run("align", a, b, "--local", "--format", "sam")
    assert result.returncode == 0, result.stderr
    (parsed,) = Align.parse(io.StringIO(result.stdout), "sam")
    expected = model.local().align(f"WWWWWWWWHHHHHHHH{core}PPPPPPPP",
                                   f"CCCCCCCC{core}GGGGGGGGGGGG")
    np.testing.assert_array_equal(parsed.coordinates, expected.coordinates)
    assert tuple(expected.coordinates[:, 0]) == (16, 8)


def test_all_vs_all_scores_gzip_and_stdin(tmp_path, records, model):
    packed = tmp_path / "example.fa.gz"
    packed.write_bytes(gzip.compress(EXAMPLE.read_bytes()))
    result = run("align", packed, "--all-vs-all", "--format", "tsv")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()[1:]]
    assert len(rows) == 6
    by_id = {r.id: r for r in records}
    for x, y, score in rows:
        assert float(score) == pytest.approx(model.align(by_id[x], by_id[y]).score, abs=1e-5)
    piped = run("score", "-", stdin=EXAMPLE.read_text())
    assert piped.returncode == 0, piped.stderr
    for line, other in zip(piped.stdout.splitlines()[1:], records[1:]):
        _, y, loglik, accuracy = line.split("\t")
        assert y == other.id
        assert float(loglik) == pytest.approx(model.loglik(records[0], other), abs=1e-5)
        assert float(accuracy) == pytest.approx(model.expected_accuracy(records[0], other),
                                                abs=1e-5)


def test_train_then_align_with_the_trained_model(tmp_path):
    truth = th.PairHMM.durbin("protein", delta=0.04, epsilon=0.6, tau=0.01)
    pairs = truth.sample(300, random_state=0)
    pairs_file = tmp_path / "pairs.fa"
    pairs_file.write_text("".join(f">p{k}x\n{x}\n>p{k}y\n{y}\n"
                                  for k, (x, y) in enumerate(pairs)))
    model_file = tmp_path / "trained.json"
    result = run("train", pairs_file, "--pairs", "consecutive", "--preset", "durbin",
                 "--freeze", "match", "--iter",
                 "40", "--tol", "1e-4", "-o", model_file, "--verbose")
    assert result.returncode == 0, result.stderr
    assert "log-likelihood" in result.stderr
    trained = th.PairHMM.load(model_file)
    gaps = {state.name: state for state in trained.states}
    match_row = trained.transition_edges[(0, 1)][0]
    # 300 pairs hold ~1,000 gap openings: delta within 15 % of the truth.
    assert match_row.prob("open") == pytest.approx(0.04, rel=0.15)
    assert "M" in gaps
    aligned = run("align", pairs_file, "--model", model_file, "--format", "tsv")
    assert aligned.returncode == 0, aligned.stderr
    first = aligned.stdout.splitlines()[1].split("\t")
    assert float(first[2]) == pytest.approx(trained.align(pairs[0][0], pairs[0][1]).score,
                                            abs=1e-5)


def test_posterior_plot_writes_a_png(tmp_path, records):
    a, b = _single(tmp_path, records[0]), _single(tmp_path, records[1])
    out = tmp_path / "posterior.png"
    assert main(["posterior", str(a), str(b), "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _bad_inputs(tmp_path):
    empty = tmp_path / "empty.fa"
    empty.write_text("")
    text = tmp_path / "notes.txt"
    text.write_text("just some notes\nnot a sequence file\n")
    odd = tmp_path / "odd.fa"
    odd.write_text(">a\nACDEFG\n>b\nACD*EFG\n")
    blank = tmp_path / "blank.fa"
    blank.write_text(">a\n\n>b\nACD\n")
    hmm_file = tmp_path / "hmm.json"
    th.left_right([th.GaussianEmission([0.0], [1.0])]).save(hmm_file)
    return [
        (["align", str(tmp_path / "missing.fa")], "no such file"),
        (["align", str(empty)], "no FASTA records"),
        (["align", str(text)], "not a FASTA file"),
        (["align", str(odd)], "'*'"),
        (["align", str(blank)], "empty sequence"),
        (["align", str(EXAMPLE), "--model", str(hmm_file)], "not a tiedhmm.PairHMM file"),
        (["align", str(EXAMPLE), "--model", str(EXAMPLE)], "not valid JSON"),
        (["align", str(EXAMPLE), "--model", str(tmp_path / "nope.json")], "no model file"),
    ]


def test_bad_inputs_exit_1_with_one_line_and_no_output(tmp_path, capsys):
    for args, message in _bad_inputs(tmp_path):
        out = tmp_path / "out.txt"
        code = main([*args, "-o", str(out)])
        captured = capsys.readouterr()
        assert code == 1, args
        assert message in captured.err and captured.err.count("\n") == 1, captured.err
        assert "Traceback" not in captured.err and captured.out == ""
        assert not out.exists()


def test_odd_training_file_and_usage_errors(tmp_path, capsys):
    odd = tmp_path / "three.fa"
    odd.write_text(">a\nACD\n>b\nACE\n>c\nACF\n")
    assert main(["train", str(odd), "--pairs", "consecutive", "-o", str(tmp_path / "m.json")]) == 1
    assert "count must be even" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()
    result = run("align", EXAMPLE, "--format", "png")
    assert result.returncode == 2 and "invalid choice" in result.stderr
    assert run("frobnicate").returncode == 2
    for command in ("align", "score", "train", "posterior"):
        helped = run(command, "--help")
        assert helped.returncode == 0 and "usage: tiedhmm" in helped.stdout


def test_trained_model_file_is_a_pair_hmm_document(tmp_path):
    pairs = th.PairHMM.durbin("dna", tau=0.01).sample(20, random_state=1)
    path = tmp_path / "dna_pairs.fa"
    path.write_text("".join(f">{k}a\n{x}\n>{k}b\n{y}\n" for k, (x, y) in enumerate(pairs)))
    out = tmp_path / "dna.json"
    assert main(["train", str(path), "--pairs", "consecutive", "--alphabet", "dna",
                 "--no-symmetric", "--iter", "2",
                 "-o", str(out), "-q"]) == 0
    document = json.loads(out.read_text())
    assert document["format"] == "tiedhmm.PairHMM" and document["alphabet"] == "dna"
    inserts = [s["emission"] for s in document["states"] if s["emits"] != "match"]
    assert len(set(inserts)) > 1  # not symmetric: x and y inserts are separate groups


def _dna_family(tmp_path, n_pairs=3, seed=2) -> tuple[Path, list]:
    pairs = th.PairHMM.durbin("dna", tau=0.02).sample(10 * n_pairs, random_state=seed)
    sequences = [s for pair in pairs if all(pair) for s in pair][:2 * n_pairs]
    path = tmp_path / "family.fa"
    path.write_text("".join(f">s{k}\n{s}\n" for k, s in enumerate(sequences)))
    return path, sequences


def test_dna_input_picks_the_dna_model_and_says_so_once(tmp_path, capsys):
    path, sequences = _dna_family(tmp_path)
    assert main(["align", str(path), "--format", "tsv"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "bundled dna model" in captured.err
    dna = th.PairHMM.load("dna")
    scores = [float(line.split("\t")[2]) for line in captured.out.splitlines()[1:]]
    assert scores == pytest.approx([dna.align(sequences[0], s).score
                                    for s in sequences[1:]], abs=1e-5)
    assert main(["align", str(path), "--format", "tsv", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_a_model_of_another_alphabet_is_an_error_naming_both(tmp_path, capsys):
    path, _ = _dna_family(tmp_path)
    assert main(["align", str(path), "--model", "protein"]) == 1
    err = capsys.readouterr().err
    assert "looks like dna" in err and "protein model" in err and err.count("\n") == 1


def test_terminal_stops_are_dropped_from_protein_input(tmp_path, capsys, records):
    plain, stops = tmp_path / "plain.fa", tmp_path / "stops.fa"
    plain.write_text("".join(f">{r.id}\n{r.seq}\n" for r in records[:2]))
    stops.write_text("".join(f">{r.id}\n{r.seq}*\n" for r in records[:2]))
    assert main(["align", str(plain), "--format", "tsv", "-q"]) == 0
    without = capsys.readouterr().out
    assert main(["align", str(stops), "--format", "tsv", "-q"]) == 0
    assert capsys.readouterr().out == without


def test_aligned_input_is_aligned_afresh_by_align_and_msa(tmp_path, capsys, records):
    plain, aligned = tmp_path / "plain.fa", tmp_path / "aligned.fa"
    plain.write_text("".join(f">{r.id}\n{r.seq}\n" for r in records[:3]))
    aligned.write_text("".join(f">{r.id}\n--{str(r.seq)[:5]}-.{str(r.seq)[5:]}\n"
                               for r in records[:3]))
    for command in ("align", "msa"):
        assert main([command, str(plain), "-q"]) == 0
        without = capsys.readouterr().out
        assert main([command, str(aligned), "-v"]) == 0
        found = capsys.readouterr()
        assert found.out == without
        assert "gaps removed from 3 of 3 records" in found.err


def test_output_in_a_missing_folder_is_a_data_error_with_nothing_written(tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "dir"
    assert main(["align", str(EXAMPLE), "-o", str(missing / "out.fa")]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "no").exists()


def test_train_takes_a_family_all_pairs_or_a_seeded_sample(tmp_path, capsys):
    path, _ = _dna_family(tmp_path)  # 6 records: 15 pairs
    out = tmp_path / "family.json"
    assert main(["train", str(path), "--iter", "2", "-o", str(out), "-v"]) == 0
    err = capsys.readouterr().err
    assert "training on 15 pairs of 6 records" in err
    assert th.PairHMM.load(out).alphabet.name == "dna"  # detected from the input
    assert main(["train", str(path), "--max-pairs", "4", "--seed", "3", "--iter", "2",
                 "-o", str(out), "-v"]) == 0
    assert "training on 4 pairs of 6 records" in capsys.readouterr().err
    again = tmp_path / "again.json"
    assert main(["train", str(path), "--max-pairs", "4", "--seed", "3", "--iter", "2",
                 "-o", str(again), "-q"]) == 0
    assert again.read_text() == out.read_text()  # the sample is seeded
    assert main(["train", str(path), "--pairs", "consecutive", "--max-pairs", "2", "--iter",
                 "1", "-o", str(out), "-v"]) == 0
    assert "training on 2 pairs of 6 records" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["train", str(path), "--max-pairs", "0", "-o", str(out)])
    assert usage.value.code == 2 and "positive integer" in capsys.readouterr().err


def test_version_and_internal_errors(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out == f"tiedhmm {th.__version__}\n"

    def broken(*args, **kwargs):
        raise ValueError("an index went wrong")  # a bug, not the user's data

    monkeypatch.setattr(th.PairHMM, "align_many", broken)
    assert main(["align", str(EXAMPLE), "-q"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" in err and "report" in err
    assert "Traceback" not in err
    assert main(["align", str(EXAMPLE), "-q", "--debug"]) == 3
    assert "Traceback" in capsys.readouterr().err


def test_main_leaves_numpy_and_logging_settings_as_they_were(tmp_path, capsys):
    import logging
    before = np.geterr()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    path, _ = _dna_family(tmp_path)
    assert main(["train", str(path), "--iter", "1", "-o", str(tmp_path / "m.json"),
                 "-v"]) == 0
    assert "EM stopped" in capsys.readouterr().err  # -v works whatever root's setup
    assert np.geterr() == before
    assert root.handlers == handlers and root.level == level
    assert logging.getLogger("tiedhmm").handlers == []


FUZZ_FASTA = b">q\nMKTAYIAKQRQISFVKSHF*\n>r\nMKTAYIAKQRQLSFVKSH\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=120),
                      st.integers(0, len(FUZZ_FASTA)).map(lambda cut: FUZZ_FASTA[:cut]),
                      st.integers(0, 80).map(lambda cut: gzip.compress(FUZZ_FASTA)[:cut])))
def test_fuzzed_fasta_exits_0_or_1_and_writes_only_whole_outputs(tmp_path, capsys, data):
    path, out = tmp_path / "fuzz.fa", tmp_path / "out.fa"
    path.write_bytes(data)
    out.unlink(missing_ok=True)
    code = main(["align", str(path), "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code in (0, 1) and "internal error" not in err
    assert out.exists() == (code == 0)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10**6), replacement=st.sampled_from(
    [None, -1, 2.5, float("nan"), "x", [], {}, {"group": 0, "outcome": "nope"}]),
    pick=st.integers(0, 10**6))
def test_damaged_model_files_exit_1_with_no_output(tmp_path, capsys, cut, replacement, pick):
    document = {"format": "tiedhmm.PairHMM", "version": 2,
                **th.PairHMM.durbin("protein")._document()}
    edges = document["edges"]
    edges[pick % len(edges)][2] = replacement
    text = json.dumps(document)
    model, out = tmp_path / "model.json", tmp_path / "out.fa"
    model.write_text(text[:cut % (len(text) + 1)] if pick % 2 else text)
    out.unlink(missing_ok=True)
    code = main(["align", str(EXAMPLE), "--model", str(model), "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "internal error" not in err
    assert not out.exists()


@pytest.mark.parametrize("command", [["msa"], ["align"], ["align", "--all-vs-all"]])
def test_fasta_output_keeps_each_header_as_read(tmp_path, capsys, records, command):
    headers = ["a first record", "b", "c\tafter a tab", "d  two  spaces"]
    family = tmp_path / "family.fa"
    family.write_text("".join(f">{header}\n{record.seq}\n"
                              for header, record in zip(headers, records)))
    out = tmp_path / "out.fa"
    assert main([*command[:1], str(family), *command[1:], "-o", str(out)]) == 0
    read_in = {r.id: r.description for r in SeqIO.parse(family, "fasta")}
    written = list(SeqIO.parse(out, "fasta"))
    assert {r.id for r in written} == set(read_in)  # ("align": the first with each other)
    for record in written:
        expected = read_in[record.id]
        # a tab between id and description is written as one space (Biopython's writers)
        assert record.description == expected.replace("\t", " ", 1), record.description
    assert {r.description for r in written} >= {"b", "a first record"}
