"""FASTA reading: stops, alphabet detection, and fuzzed bytes that only ever give
records or an InvalidDataError."""

import gzip
import io

import pytest
from Bio import SeqIO
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tiedhmm as th
from tiedhmm.io.fasta import detect_alphabet, read_fasta

VALID = b">one first\nMKTAYIAKQR\nQISFVKSHF*\n>two\nacgtacgtnn\n>three\nMKV\n"


def test_terminal_stops_are_dropped_and_records_kept(tmp_path):
    path = tmp_path / "orfs.fa"
    path.write_bytes(VALID)
    records = read_fasta(path)
    assert [r.id for r in records] == ["one", "two", "three"]
    assert str(records[0].seq) == "MKTAYIAKQRQISFVKSHF"
    assert records[0].description == "one first"


def test_an_internal_stop_names_the_record_and_position(tmp_path):
    path = tmp_path / "bad.fa"
    path.write_text(">ok\nMKV*\n>broken\nMKT*AY\n")
    with pytest.raises(th.InvalidDataError, match=r"record 'broken' .* position 4"):
        read_fasta(path)
    path.write_text(">only_stops\n***\n")
    with pytest.raises(th.InvalidDataError, match="'only_stops' has an empty sequence"):
        read_fasta(path)


def test_dealigning_removes_gap_characters_before_the_other_checks(tmp_path):
    path = tmp_path / "aligned.fa"
    path.write_text(">a\nMK-TA..Y\n>b\nM--KTAY*--\n>c\nMKTAY\n")
    assert [str(r.seq) for r in read_fasta(path, dealign=True)] == ["MKTAY"] * 3
    with pytest.raises(th.InvalidDataError, match=r"'b' has a '\*' \(stop\) at position 8"):
        read_fasta(path)  # gaps kept unless asked: the stop is inside
    path.write_text(">a\nMKTAY\n>gaps\n--.-\n")
    with pytest.raises(th.InvalidDataError, match="'gaps' has an empty sequence"):
        read_fasta(path, dealign=True)


@pytest.mark.parametrize(("letters", "expected"), [
    ("ACGTACGTTGCA", "dna"), ("acguuacgn", "dna"), ("ACGTACGTAE", "dna"),
    ("ACGTACGTEE", "protein"), ("MKTAYIAKQRQISFVKSHF", "protein")])
def test_alphabet_detection_by_the_share_of_nucleotide_letters(tmp_path, letters, expected):
    path = tmp_path / "in.fa"
    path.write_text(f">a\n{letters}\n")
    assert detect_alphabet(read_fasta(path)) == expected


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(
    st.binary(max_size=300),
    st.text(alphabet=">ACGT*\n\r \t;x-", max_size=200).map(str.encode),
    st.integers(0, len(VALID)).map(lambda cut: VALID[:cut]),
    st.integers(0, 200).map(lambda cut: gzip.compress(VALID)[:cut]),
    st.binary(max_size=40).map(lambda junk: gzip.compress(VALID)[:20] + junk)))
def test_fuzzed_input_gives_records_or_an_invalid_data_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fasta") / "in.fa"
    path.write_bytes(data)
    try:
        records = read_fasta(path)
    except th.InvalidDataError:
        return
    assert records and all(len(record.seq) > 0 for record in records)
    assert all("*" not in str(record.seq) for record in records)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=">ACGT*\n\r \t;x-", max_size=200).map(lambda t: ">" + t))
@example(text=">\n;\n>>\n;")  # a title line that starts with ">" ("id" ">"), found by CI
@example(text=">>a\nAC\n>>>b x\nGT")
def test_records_are_parsed_as_biopython_parses_them(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fasta") / "in.fa"
    path.write_bytes(text.encode())
    expected = [(r.id, r.name, r.description, str(r.seq).rstrip("*"))
                for r in SeqIO.parse(io.StringIO(text), "fasta")]
    try:
        records = read_fasta(path)
    except th.InvalidDataError:  # a record with no letters, or an internal stop
        assert any(not sequence or "*" in sequence for *_, sequence in expected)
        return
    assert [(r.id, r.name, r.description, str(r.seq)) for r in records] == expected
