import os
import pickle
import random
import time

import pytest
import torch

from lmhelpers.checkpoint import CheckpointError, load_checkpoint, remove_stale_temps, save_checkpoint


def _state(v=1.0):
    return {"model": {"w": torch.full((3,), v)}, "config": {"a": 1}, "step": 3}


def test_round_trip(tmp_path):
    p = save_checkpoint(tmp_path / "sub" / "ck.pt", _state())
    s = load_checkpoint(p)
    assert torch.equal(s["model"]["w"], torch.ones(3)) and s["step"] == 3 and s["format_version"] == 1
    assert [f.name for f in (tmp_path / "sub").iterdir()] == ["ck.pt"]  # no temporary files left


def test_replacing_keeps_a_complete_file_if_the_write_fails(tmp_path, monkeypatch):
    p = save_checkpoint(tmp_path / "ck.pt", _state(1.0))

    def broken_save(obj, f, *a, **k):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(p, _state(2.0))
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(p)["model"]["w"], torch.ones(3))
    assert os.listdir(tmp_path) == ["ck.pt"]


def test_truncated_file_is_detected(tmp_path):
    p = save_checkpoint(tmp_path / "ck.pt", _state())
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(p)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nope.pt")
    torch.save({"weights": torch.ones(1)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an lmhelpers checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_pickle_that_runs_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({"model": {}, "config": {}, "payload": _Exploit()}, tmp_path / "evil.pt", pickle_protocol=2)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not (tmp_path / "PWNED").exists()
    # The same bytes loaded unsafely would have run the command: proof the test plants a real exploit.
    with open(tmp_path / "evil.pt", "rb") as f:
        torch.load(f, weights_only=False)
    assert (tmp_path / "PWNED").exists()
    assert pickle  # imported for readers: this is the attack weights_only=True blocks


@pytest.mark.parametrize(
    "content",
    [b"", b"partial", b"hello world\n" * 10, random.Random(0).randbytes(3000)],
    ids=["empty", "junk", "text", "random"],
)
def test_damaged_bytes_are_reported_as_damaged_not_as_a_crash(tmp_path, content):
    """The weights-only unpickler meets garbage with IndexError, KeyError, ...; all must read as damage."""
    (tmp_path / "ck.pt").write_bytes(content)
    with pytest.raises(CheckpointError, match="truncated or corrupted.*start again"):
        load_checkpoint(tmp_path / "ck.pt")


def test_code_in_an_old_style_checkpoint_is_refused_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = {"model": {}, "config": {}, "payload": _Exploit()}
    torch.save(payload, tmp_path / "evil.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not (tmp_path / "PWNED").exists()


def test_a_save_removes_temporary_files_left_by_killed_writes(tmp_path):
    stale = tmp_path / ".ck.pt.abc123.tmp"
    fresh = tmp_path / ".ck.pt.def456.tmp"  # as if another writer were at work right now
    other = tmp_path / ".other.pt.xyz.tmp"  # another checkpoint's: not ours to judge
    for f in (stale, fresh, other):
        f.write_bytes(b"partial checkpoint")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    save_checkpoint(tmp_path / "ck.pt", _state())
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted(["ck.pt", fresh.name, other.name])
    ten_seconds_ago = time.time() - 10
    os.utime(fresh, (ten_seconds_ago, ten_seconds_ago))
    assert remove_stale_temps(tmp_path / "ck.pt", older_than=5) == [fresh]
