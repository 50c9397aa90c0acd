"""Files: versioned JSON documents, atomic writes, and the data bundled in the package.

A model file is one JSON document ``{"format": ..., "version": ..., ...}``. Writing
goes to a temporary file in the target folder that is renamed into place, so a failed
write leaves nothing behind and a reader never sees half a file. The bundled default
models live in ``tiedhmm/data/`` and are read with :mod:`importlib.resources`, so they
are found the same way in a source tree, an editable install and a wheel.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InvalidDataError, ModelFileError

#: The version this tiedhmm writes; it reads every version in ``READABLE_VERSIONS``.
VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
BUNDLED_MODELS = ("protein", "dna")


def check_folder(path: str | Path) -> Path:
    """The folder ``path`` would be written in; an error when it does not exist."""
    directory = Path(path).absolute().parent
    if not directory.is_dir():
        raise InvalidDataError(f"{path}: folder {str(directory)!r} does not exist")
    return directory


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) that becomes ``path`` when the
    block succeeds and is removed when it fails."""
    path = Path(path)
    directory = check_folder(path)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix,
                                        dir=directory)
    except OSError as error:
        raise InvalidDataError(f"{path}: cannot write there ({error.strerror})") from None
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o666 & ~umask)  # mkstemp's 0600 would hide the file from others
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def write_document(path: str | Path, kind: str, body: dict[str, Any]) -> None:
    """Write a ``kind`` document of the current version atomically."""
    write_text(path, json.dumps({"format": kind, "version": VERSION, **body}, indent=1))


def check_document(document: object, kind: str, where: str) -> int:
    """The version of ``document`` if it is a readable ``kind`` document, else an error."""
    if not isinstance(document, dict):
        raise ModelFileError(f"{where}: not a {kind} file (no tiedhmm format found)")
    found = document.get("format")
    if found != kind:
        holds = f"it holds {found!r}" if isinstance(found, str) else "no tiedhmm format found"
        raise ModelFileError(f"{where}: not a {kind} file ({holds})")
    version = document.get("version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise ModelFileError(f"{where}: file version {version!r} is not supported (this "
                             f"tiedhmm reads versions {', '.join(map(str, READABLE_VERSIONS))})")
    return int(version)


def parse_document(text: str | bytes, kind: str, where: str) -> tuple[dict[str, Any], int]:
    """The document in ``text`` and its version; errors name ``where``."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and bad UTF-8
        raise ModelFileError(f"{where}: not valid JSON (truncated or corrupted?): "
                             f"{error}") from None
    return document, check_document(document, kind, where)


def bundled_model_text(name: str) -> str:
    """The text of a bundled default model (``"protein"`` or ``"dna"``)."""
    if name not in BUNDLED_MODELS:
        raise ModelFileError(f"no bundled model {name!r}; bundled models: "
                             f"{', '.join(BUNDLED_MODELS)}")
    return (resources.files("tiedhmm") / "data" / f"{name}.json").read_text()


def read_document(name_or_path: str | Path, kind: str) -> tuple[dict[str, Any], int, str]:
    """A ``kind`` document from a bundled model name or a file: document, version and
    where it came from (for error messages)."""
    if str(name_or_path).lower() in BUNDLED_MODELS:
        name = str(name_or_path).lower()
        where = f"bundled model {name!r}"
        return (*parse_document(bundled_model_text(name), kind, where), where)
    path = Path(name_or_path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"no model file {str(path)!r} (bundled models: "
                             f"{', '.join(BUNDLED_MODELS)})") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read ({error.strerror})") from None
    return (*parse_document(raw, kind, str(path)), str(path))
