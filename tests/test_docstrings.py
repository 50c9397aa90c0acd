"""The public API's docstrings follow numpydoc: every public class and function says
its parameters, what it returns and shows an example (which test_docs runs)."""

import inspect
import re

import pytest

import tiedhmm as th
import tiedhmm.speech as speech

PUBLIC = [(module.__name__, name) for module in (th, speech) for name in module.__all__
          if not name.startswith("__")
          and (inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name)))
          and not (inspect.isclass(getattr(module, name))
                   and issubclass(getattr(module, name), Exception))]
#: Methods a user calls on every model, which must document themselves in full.
METHODS = {th.PairHMM: ("load", "durbin", "probcons", "local", "loglik", "posterior",
                        "expected_accuracy", "align", "align_many", "sample", "fit"),
           th.HMM: ("fit", "score", "score_samples", "decode", "predict", "predict_proba",
                    "sample", "save", "load"),
           th.ModelSet: ("fit",),
           speech.Recognizer: ("fit", "decode", "align")}


def _sections(doc: str) -> set[str]:
    return set(re.findall(r"^\s*(\w[\w ]*)\n\s*-{3,}\s*$", doc or "", re.MULTILINE))


@pytest.mark.parametrize(("module", "name"), PUBLIC)
def test_public_names_have_numpydoc_sections(module, name):
    obj = getattr(th if module == "tiedhmm" else speech, name)
    sections = _sections(obj.__doc__)
    takes = [p for p in inspect.signature(obj).parameters if p not in ("self", "cls")]
    if takes:
        assert "Parameters" in sections, f"{name}: no Parameters section"
    if inspect.isfunction(obj) and inspect.signature(obj).return_annotation not in (
            None, "None"):
        assert {"Returns", "Yields"} & sections, f"{name}: no Returns section"
    if name not in ("cluster_groups", "tie_states", "mfcc_from_wav"):  # need fitted data
        assert "Examples" in sections, f"{name}: no Examples section"


@pytest.mark.parametrize(("cls", "method"),
                         [(cls, method) for cls, methods in METHODS.items()
                          for method in methods])
def test_model_methods_document_parameters_and_returns(cls, method):
    function = getattr(cls, method)
    sections = _sections(function.__doc__)
    assert "Parameters" in sections, f"{cls.__name__}.{method}"
    if method != "save":
        assert {"Returns"} & sections, f"{cls.__name__}.{method}"


def test_the_section_reader_sees_sections():
    assert _sections("Text.\n\n    Parameters\n    ----------\n    x : int\n") == {"Parameters"}
