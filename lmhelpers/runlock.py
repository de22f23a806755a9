"""One writer per run folder: a lock file naming the process that writes there, so that a second run into
the same folder stops at once instead of mixing its checkpoint and record with the first one's.

``FOLDER/run.lock`` holds the writer's pid, host, start time and command (JSON, for people to read), and
the operating system locks it (``fcntl.flock``; ``msvcrt.locking`` on Windows) for as long as the writer
lives. The system lets go of that lock when the process ends, however it ends, so a lock file left by a
killed run is recognised as stale and taken over with a note; it never blocks forever. A lock file written
on another machine (a checkpoint folder on a shared drive) cannot be checked that way: its holder touches
it every ``HEARTBEAT_SECONDS``, and one left untouched for ``STALE_AFTER_SECONDS`` counts as stale.

Who holds which folder (docs/architecture.md, "Runs that cannot lie or collide"):

* ``run_experiment`` (``train``, ``compare``, notebook 04's ``load_or_train``): the run's results and
  checkpoint folders, for as long as it trains and writes (:func:`holding`);
* :func:`lmhelpers.resume.start_or_resume` (notebooks 02 and 03): the same folders until the kernel ends
  (:func:`hold_until_exit`), since later cells keep writing there;
* ``run_series`` and ``run_sweep``: their whole folder, for as long as they run.

A process may take a folder it already holds (a notebook cell run twice): that is counted, not refused.
"""

from __future__ import annotations

import atexit
import json
import os
import shlex
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .language import message

LOCK_FILE = "run.lock"
HEARTBEAT_SECONDS = 20.0
STALE_AFTER_SECONDS = 90.0  # a lock from another machine, untouched this long, belongs to no live run
_FAR = 1 << 30  # Windows locks a byte far past the JSON, so that others can still read it

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class FolderInUse(RuntimeError):
    """Another live process writes this folder; the message names it and the ways out."""


@dataclass
class _Claim:
    folder: Path
    fd: int
    made: list[Path] = field(default_factory=list)  # folders made for the lock, removed if left empty
    holds: int = 0  # open ``with holding(...)`` blocks
    until_exit: bool = False


_claims: dict[Path, _Claim] = {}
_guard = threading.RLock()
_heartbeat: list[threading.Thread] = []


def _key(folder: str | os.PathLike) -> Path:
    return Path(os.path.abspath(os.fspath(folder)))


def _command() -> str:
    """This process's command line, as typed (``python -m lmhelpers train ...`` rather than __main__'s path)."""
    argv = list(sys.argv) or ["python"]
    if argv[0].replace("\\", "/").endswith("lmhelpers/__main__.py"):
        return " ".join(["python -m lmhelpers", shlex.join(argv[1:])]).strip()
    return shlex.join(argv)


def _holder_info() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": _command(),
    }


def read_holder(folder: str | os.PathLike) -> dict[str, Any] | None:
    """What the lock file of ``folder`` says about its writer (pid, host, since, command), or None."""
    try:
        info = json.loads((_key(folder) / LOCK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _os_lock(fd: int) -> bool | None:
    """Lock ``fd`` without waiting: True if locked, False if another process holds it, None if this
    filesystem cannot lock files (the lock file's contents decide then)."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        import msvcrt  # pragma: no cover - Windows

        os.lseek(fd, _FAR, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return True
    except (BlockingIOError, PermissionError):
        return False
    except OSError:
        return None


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # pragma: no cover - os.kill(pid, 0) would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, but someone else's
        return True
    return True


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` is still the file ``fd`` has open (its last holder may have deleted it since)."""
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev)


def _in_use(folder: Path, info: dict[str, Any] | None, age: float | None = None) -> FolderInUse:
    info = info or {}
    values = {
        "folder": folder,
        "lock": folder / LOCK_FILE,
        "pid": info.get("pid", "?"),
        "host": info.get("host", "?"),
        "since": info.get("since", "?"),
        "command": info.get("command", "?"),
    }
    if age is not None:  # another machine's: only its heartbeat tells whether it still runs
        text = message("folder_in_use_elsewhere", age=age, stale=STALE_AFTER_SECONDS, **values)
    else:
        text = message("folder_in_use", **values)
        if "ipykernel" in str(values["command"]):
            text += " " + message("folder_in_use_kernel")
    return FolderInUse(f"{text} {message('folder_ways_out')}")


def _verdict(folder: Path, locked: bool | None, info: dict[str, Any] | None) -> str | None:
    """Raise FolderInUse if the lock file's writer still runs; else a note when a stale lock is taken over."""
    if not info or info.get("pid") == os.getpid() and info.get("host") == socket.gethostname():
        return None
    path = folder / LOCK_FILE
    if info.get("host") != socket.gethostname():
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            age = STALE_AFTER_SECONDS
        if age < STALE_AFTER_SECONDS:
            raise _in_use(folder, info, age)
    elif locked is None and isinstance(info.get("pid"), int) and _pid_alive(info["pid"]):
        raise _in_use(folder, info)
    return message("lock_taken_over", lock=path, pid=info.get("pid"), since=info.get("since"))


def _make_folders(folder: Path) -> list[Path]:
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return made  # deepest first


def _open(folder: Path, log: Callable[[str], Any] | None) -> tuple[int, list[Path]]:
    """Take the lock file of ``folder``: its descriptor and the folders made for it."""
    made = _make_folders(folder)
    path = folder / LOCK_FILE
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            locked = _os_lock(fd)
            if locked is False:
                raise _in_use(folder, read_holder(folder))
            if not _same_file(fd, path):  # deleted by its last holder meanwhile: take the new one
                os.close(fd)
                continue
            note = _verdict(folder, locked, read_holder(folder))
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (json.dumps(_holder_info(), indent=2) + "\n").encode("utf-8"))
        except BaseException:
            os.close(fd)
            _remove_empty(made)
            raise
        if note and log:
            log(note)
        return fd, made


def _remove_empty(folders: list[Path]) -> None:
    for p in folders:  # deepest first
        try:
            p.rmdir()
        except OSError:
            pass


def _let_go(claim: _Claim, remove_folders: bool = True) -> None:
    """Delete the lock file and close it. On POSIX the file is deleted while still locked, so that
    nobody takes a file about to vanish; Windows cannot delete an open file, so it is closed first."""
    path = claim.folder / LOCK_FILE
    ours = _same_file(claim.fd, path)
    if os.name == "nt":  # pragma: no cover
        os.close(claim.fd)
    if ours:
        try:
            path.unlink()
        except OSError:
            pass
    if os.name != "nt":
        os.close(claim.fd)
    claim.fd = -1
    if remove_folders:
        _remove_empty(claim.made)


def _take(folder: str | os.PathLike, log: Callable[[str], Any] | None, until_exit: bool) -> _Claim:
    key = _key(folder)
    with _guard:
        claim = _claims.get(key)
        if claim is None:
            fd, made = _open(key, log)
            claim = _claims[key] = _Claim(key, fd, made)
            _start_heartbeat()
        if not until_exit:
            claim.holds += 1
        elif claim.holds == 0:  # held by a ``with holding(...)`` block: that block lets it go
            claim.until_exit = True
        return claim


def _release(claim: _Claim) -> None:
    with _guard:
        claim.holds -= 1
        if claim.holds == 0 and not claim.until_exit and _claims.get(claim.folder) is claim:
            del _claims[claim.folder]
            _let_go(claim)


@contextmanager
def holding(*folders: str | os.PathLike, log: Callable[[str], Any] | None = print) -> Iterator[None]:
    """Hold the lock of each folder for the ``with`` block; FolderInUse if another live process holds
    one. Folders this process holds already stay held as they were."""
    claims = []
    try:
        for folder in dict.fromkeys(_key(f) for f in folders):
            claims.append(_take(folder, log, until_exit=False))
        yield
    finally:
        for claim in reversed(claims):
            _release(claim)


def hold_until_exit(*folders: str | os.PathLike, log: Callable[[str], Any] | None = print) -> None:
    """Hold the lock of each folder until this process ends (a notebook's: until its kernel is shut
    down); FolderInUse if another live process holds one. A no-op for a folder a ``with holding(...)``
    block of this process holds: that block lets it go."""
    for folder in dict.fromkeys(_key(f) for f in folders):
        _take(folder, log, until_exit=True)


def let_go(*folders: str | os.PathLike) -> None:
    """Let go of folders this process holds until it ends (a notebook done writing there; the kernel's
    exit does it too). Folders held by an open ``with holding(...)`` block stay held until it closes."""
    with _guard:
        for folder in folders:
            claim = _claims.get(_key(folder))
            if claim is not None:
                claim.until_exit = False
                claim.holds += 1  # _release counts down
                _release(claim)


def holds(folder: str | os.PathLike) -> bool:
    """Whether this process holds the lock of ``folder``."""
    return _key(folder) in _claims


def only_a_lock_in(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds nothing but a lock file (made for a run that has written nothing yet)."""
    try:
        return {p.name for p in Path(folder).iterdir()} <= {LOCK_FILE}
    except OSError:
        return False


@contextmanager
def moving(folder: str | os.PathLike) -> Iterator[None]:
    """Let a folder this process holds be renamed (a restart moves the old run aside): its lock file is
    let go before and taken again, on the fresh folder of the same name, after."""
    key = _key(folder)
    with _guard:
        claim = _claims.get(key)
        if claim is None:
            yield
            return
        _let_go(claim, remove_folders=False)
        try:
            yield
        finally:
            try:
                claim.fd, claim.made = _open(key, None)
            except BaseException:
                del _claims[key]
                raise


def _touch_all() -> None:
    with _guard:
        for claim in _claims.values():
            try:
                os.utime(claim.folder / LOCK_FILE)
            except OSError:
                pass


def _start_heartbeat() -> None:
    """Touch every held lock file now and then, so that other machines can tell it is alive."""
    if _heartbeat and _heartbeat[0].is_alive():
        return

    def beat() -> None:
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            _touch_all()

    _heartbeat[:] = [threading.Thread(target=beat, name="lmhelpers-runlock", daemon=True)]
    _heartbeat[0].start()


@atexit.register
def _release_all() -> None:
    with _guard:
        for claim in list(_claims.values()):
            _let_go(claim)
        _claims.clear()
