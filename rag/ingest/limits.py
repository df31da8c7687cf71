"""Per-file limits on parsing: a hostile or pathological file is skipped with its reason, never
allowed to stall the ingest or take the machine's memory.

Two layers, cheap first:

* :func:`check_before_parsing` reads only a file's directory: a ``.docx`` whose zip members
  unpack to more than ``ingest.max_unpacked_mb`` (a decompression bomb: a few MB that inflate
  to gigabytes of XML), a PDF of more than ``ingest.max_pages`` pages (thousands of empty
  pages parse one by one). The file size itself is checked before this, by the ingester
  (``ingest.max_file_mb``: a 200 MB text file is skipped without being read).
* :class:`GuardedParser` runs those checks and :func:`~rag.ingest.loaders.load_file` in one long-lived child
  process whose address space is capped (``RLIMIT_AS``, ``ingest.parse_memory_mb``) and
  whose every file has ``ingest.parse_timeout_s`` to parse. A file that exhausts either
  (an HTML file of one 50 MB line of tags, a PDF whose object graph nests without end) is
  reported as skipped and the child is replaced; the ingest goes on with the next file.

One child serves the whole run, so a normal file costs one round trip over a pipe, not a
process start.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import IngestSettings

if TYPE_CHECKING:
    from rag.ingest.loaders import SourceDocument

_MB = 1024 * 1024
_START_TIMEOUT_S = 300.0  # generous: a loaded machine may take a while to start Python and import the parsers


def check_before_parsing(path: Path, limits: IngestSettings) -> None:
    """Raise :class:`~rag.ingest.loaders.LoadError` when the file's own directory shows it is over a limit.

    A file whose directory cannot be read is left to the parser, which names the damage. A zip
    member cannot lie its way past the check: Python's zip reader stops at the declared size.
    """
    from rag.ingest.loaders import LoadError

    suffix = path.suffix.lower()
    if suffix == ".docx":
        try:
            with zipfile.ZipFile(path) as archive:
                unpacked = sum(member.file_size for member in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return
        if unpacked > limits.max_unpacked_mb * _MB:
            raise LoadError(
                f"unpacks to {unpacked / _MB:,.0f} MB (a decompression bomb?); "
                f"the limit is {limits.max_unpacked_mb:g} MB (ingest.max_unpacked_mb)"
            )
    elif suffix == ".pdf":
        pages = _pdf_pages(path)
        if pages is not None and pages > limits.max_pages:
            raise LoadError(f"{pages:,} pages; the limit is {limits.max_pages:,} (ingest.max_pages)")


def _pdf_pages(path: Path) -> int | None:
    """The page count from the PDF's page tree (no page is parsed), or None when it cannot be read."""
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(str(path), password="")
    except pypdfium2.PdfiumError:
        return None
    try:
        return len(pdf)
    finally:
        pdf.close()


class GuardedParser:
    """``load(path)`` as :func:`~rag.ingest.loaders.load_file` would, in a child process held to the
    ``parse_*`` limits of ``limits`` (the ingest settings).

    The child is ``python -m rag.ingest.limits`` talking pickles over its stdin and stdout (not
    ``multiprocessing``, whose spawned children re-import the caller's ``__main__``, which fails when
    that is a notebook or ``python -`` and costs a second start-up when it is a script). Use as a
    context manager (or call :meth:`close`) so the child ends with the run.
    """

    def __init__(self, limits: IngestSettings) -> None:
        self.limits = limits
        self._child: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> GuardedParser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, path: Path) -> SourceDocument:
        """The parsed file; :class:`~rag.ingest.loaders.LoadError` for a file over a limit, or the parser's error."""
        from rag.ingest.loaders import LoadError

        child = self._start()
        try:
            _send(child, str(path))
            reply = _receive(child, self.limits.parse_timeout_s)
        except (OSError, EOFError) as exc:  # the child died: the memory cap hit inside C code, or a parser crash
            self._stop()
            raise LoadError(
                f"the parser stopped on this file (over {self.limits.parse_memory_mb} MB, ingest.parse_memory_mb, "
                "or a crash); skipped"
            ) from exc
        if reply is None:
            self._stop()
            raise LoadError(
                f"parsing took longer than {self.limits.parse_timeout_s:g} s (ingest.parse_timeout_s); skipped"
            )
        outcome, value = reply
        if outcome == "ok":
            document: SourceDocument = value
            return document
        if isinstance(value, MemoryError):
            self._stop()  # its heap may be fragmented near the cap: start the next file afresh
            raise LoadError(
                f"parsing needed more than {self.limits.parse_memory_mb} MB (ingest.parse_memory_mb); skipped"
            ) from value
        raise value

    def close(self) -> None:
        """End the child: ask it to exit, give it a moment, then make sure it has."""
        if self._child is not None and self._child.poll() is None:
            with contextlib.suppress(OSError):  # the child is gone already
                _send(self._child, None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._child.wait(timeout=2)
        self._stop()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._child is not None and self._child.poll() is None:
            return self._child
        self._stop()
        limits = self.limits
        arguments = [str(limits.parse_memory_mb), str(limits.max_pages), str(limits.max_unpacked_mb)]
        self._child = subprocess.Popen(
            [sys.executable, "-m", "rag.ingest.limits", *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # parser warnings are not the user's concern; failures come back as replies
        )
        # The child's start-up (an interpreter and the parsers' imports) is not charged to the first file.
        try:
            ready = _receive(self._child, _START_TIMEOUT_S)
        except (OSError, EOFError):
            ready = None
        if ready != "ready":
            self._stop()
            raise RuntimeError(f"the parsing process did not start within {_START_TIMEOUT_S:g} s")
        return self._child

    def _stop(self) -> None:
        """Kill the child (stuck past its time, or broken) and forget it; the next file starts a new one."""
        if self._child is None:
            return
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()
        for pipe in (self._child.stdin, self._child.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._child = None


# -- the message format: an 8-byte length, then a pickle (between this module and its own child only) --------
def _send(child: subprocess.Popen[bytes], message: object) -> None:
    assert child.stdin is not None
    _write(child.stdin.fileno(), message)


def _receive(child: subprocess.Popen[bytes], timeout_s: float) -> Any:
    """The child's next message, or None when none arrives within ``timeout_s``; EOFError when it died."""
    assert child.stdout is not None
    fd = child.stdout.fileno()
    ready, _, _ = select.select([fd], [], [], timeout_s)
    if not ready:
        return None
    return _read(fd)


def _write(fd: int, message: object) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = memoryview(struct.pack(">Q", len(payload)) + payload)
    while data:
        data = data[os.write(fd, data) :]


def _read(fd: int) -> Any:
    (size,) = struct.unpack(">Q", _read_exactly(fd, 8))
    return pickle.loads(_read_exactly(fd, size))  # written by this module's own child, never by a file


def _read_exactly(fd: int, size: int) -> bytes:
    parts: list[bytes] = []
    while size:
        part = os.read(fd, min(size, 1 << 20))
        if not part:
            raise EOFError("the parsing process ended")
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _serve(memory_mb: int, limits: IngestSettings) -> None:
    """The child: cap the address space, then check and parse each path sent until ``None`` arrives.

    The cheap checks run here too, not in the ingesting process: opening a hostile PDF to count
    its pages is already pdfium reading the file, so it gets the same time and memory limits.
    """
    import bs4  # noqa: F401  (the parsers, imported before "ready" so no file pays for them)
    import docx  # noqa: F401
    import pypdfium2  # noqa: F401
    import yaml  # noqa: F401

    from rag.ingest.loaders import load_file

    replies, requests = os.dup(1), 0
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # a parser that prints cannot corrupt the replies
    try:
        import resource

        cap = memory_mb * _MB
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):  # no RLIMIT_AS here (not POSIX): the time limit still holds
        pass
    _write(replies, "ready")
    while True:
        try:
            request = _read(requests)
        except EOFError:  # the parent went away
            return
        if request is None:
            return
        try:
            check_before_parsing(Path(request), limits)
            reply: tuple[str, Any] = ("ok", load_file(Path(request)))
        except BaseException as exc:  # every failure goes back to the parent, which decides what it means
            reply = ("error", exc)
        try:
            _write(replies, reply)
        except Exception as exc:  # an exception that cannot be pickled
            _write(replies, ("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


if __name__ == "__main__":
    _serve(int(sys.argv[1]), IngestSettings(max_pages=int(sys.argv[2]), max_unpacked_mb=float(sys.argv[3])))
