"""The team's shared data beside the clone (``../shared/data``), for the few tests that
compare against it; they skip, naming the folder, where it is absent."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_folder(name: str) -> Path:
    """``../shared/data/NAME``, or skip the test saying which folder is missing."""
    folder = SHARED_DATA / name
    if not folder.is_dir():
        pytest.skip(f"needs the shared data folder {folder} (not beside this clone)")
    return folder
