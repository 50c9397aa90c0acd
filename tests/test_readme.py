"""The README's Python snippets run as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_snippets_run(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)  # the snippets save files in the working folder
    for block in blocks:
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    assert "letter '*' at position 4" in capsys.readouterr().out
    assert (tmp_path / "words.json").is_file() and (tmp_path / "model.json").is_file()
