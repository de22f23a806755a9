"""DDP under torchrun: two gloo processes on the CPU stay in sync and match one process on the same
global batch (see lmhelpers.distributed for the batch policy)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from lmhelpers import distributed

ROOT = Path(__file__).resolve().parents[1]
PER_RANK_BATCH, STEPS = 4, 6

WORKER = textwrap.dedent(
    """
    import os, sys
    import torch
    from lmhelpers.config import make_config
    from lmhelpers.data import TokenDataset
    from lmhelpers.models import build_model
    from lmhelpers.training import Trainer

    out, batch, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(1)
    cfg = make_config(
        "smoke", batch_size=batch, max_iters=steps, eval_interval=steps, eval_iters=4, dropout=0.0,
        device="cpu", learning_rate=3e-3, warmup_iters=1, **{"model.vocab_size": 20},
    )
    ids = torch.randint(20, (3000,), generator=torch.Generator().manual_seed(0))
    dataset = TokenDataset(ids[:2500], ids[2500:])
    torch.manual_seed(0)
    model = build_model(cfg.model)
    trainer = Trainer(model, dataset, cfg, device="cpu", progress=False, checkpoint_path=f"{out}/ckpt.pt")
    losses = []
    step = trainer.train_step
    def logged_step():
        loss = step()
        losses.append(loss.item())
        return loss
    trainer.train_step = logged_step
    trainer.fit()
    rank = os.environ.get("RANK", "single")
    torch.save(
        {"params": model.state_dict(), "losses": losses, "history": trainer.history,
         "tokens": trainer.tokens_seen, "world": trainer.dist.world_size},
        f"{out}/{rank}.pt",
    )
    """
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch built without distributed")
def test_two_gloo_ranks_stay_in_sync_and_match_one_process(tmp_path: Path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    ddp_dir, single_dir = tmp_path / "ddp", tmp_path / "single"
    ddp_dir.mkdir()
    single_dir.mkdir()
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes=1",
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        str(script),
        str(ddp_dir),
        str(PER_RANK_BATCH),
        str(STEPS),
    ]
    ddp = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=120)
    assert ddp.returncode == 0, ddp.stdout[-3000:] + ddp.stderr[-3000:]
    # The same global batch in one process: batch_size x world_size.
    single = subprocess.run(
        [sys.executable, str(script), str(single_dir), str(2 * PER_RANK_BATCH), str(STEPS)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert single.returncode == 0, single.stderr[-3000:]

    r0, r1 = (torch.load(ddp_dir / f"{r}.pt", weights_only=False) for r in (0, 1))
    one = torch.load(single_dir / "single.pt", weights_only=False)
    assert r0["world"] == r1["world"] == 2 and one["world"] == 1

    # In sync: every parameter identical on both ranks after STEPS steps.
    for name, p in r0["params"].items():
        assert torch.equal(p, r1["params"][name]), name

    # Each rank's loss is the mean over its half of the global batch, so their mean is the global loss.
    ddp_loss = [(a + b) / 2 for a, b in zip(r0["losses"], r1["losses"])]
    assert len(ddp_loss) == STEPS
    assert ddp_loss == pytest.approx(one["losses"], rel=1e-4, abs=1e-5)
    for name, p in one["params"].items():
        torch.testing.assert_close(r0["params"][name], p, rtol=1e-3, atol=1e-4)

    # Evaluation is sharded over ranks and all-reduced: both ranks report the one-process figures.
    for h0, h1, h in zip(r0["history"], r1["history"], one["history"]):
        assert h0["val_loss"] == h1["val_loss"]
        assert h0["val_loss"] == pytest.approx(h["val_loss"], rel=1e-4)
        assert h0["tokens"] == h["tokens"]  # tokens seen count the global batch
    # Only rank 0 writes the checkpoint, and it is the same file a one-process run would write.
    assert (ddp_dir / "ckpt.pt").is_file()


def test_not_distributed_without_the_environment(monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    info, device = distributed.setup(torch.device("cpu"))
    assert (info.rank, info.world_size, info.enabled, info.is_main) == (0, 1, False, True)
    assert device == torch.device("cpu")
    model = torch.nn.Linear(2, 2)
    assert distributed.wrap(model, device) is model
    x = torch.tensor([1.0, 2.0])
    assert torch.equal(distributed.all_reduce_sum(x), x)


def test_shard_takes_this_ranks_rows():
    batch = torch.arange(12).view(6, 2)
    assert distributed.shard(batch, 0, 3).tolist() == [[0, 1], [2, 3]]
    assert distributed.shard(batch, 2, 3).tolist() == [[8, 9], [10, 11]]


def test_bad_environment_is_explained(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "5")
    with pytest.raises(RuntimeError, match="RANK=5"):
        distributed.env_info()
