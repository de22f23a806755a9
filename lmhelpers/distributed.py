"""Data-parallel training with PyTorch DDP, switched on by ``torchrun``'s environment.

``torchrun --nproc_per_node=N -m lmhelpers train ...`` runs the usual command N times; each process
finds RANK, WORLD_SIZE and LOCAL_RANK in its environment, and :func:`setup` (called by the Trainer)
joins the process group: NCCL when training on CUDA, gloo otherwise. Without those variables, or with
WORLD_SIZE=1, nothing changes and no process group is made.

What each rank does:

* device: ``cuda:LOCAL_RANK`` on GPUs (one process per GPU); the CPU otherwise.
* data, "split the global batch": every rank draws the same ``batch_size x world_size`` windows from
  the same seeded generator and keeps its own ``batch_size`` rows (rank r takes rows
  ``r*batch_size .. (r+1)*batch_size - 1``). ``batch_size`` is therefore per process, the global
  batch is ``batch_size x world_size``, and an N-process run sees exactly the batches of a
  one-process run with ``batch_size x N`` and the same seed. DDP averages the gradients, so the
  update is that of the global batch's mean loss (up to floating-point summation order).
* evaluation: the fixed evaluation batches are global batches too (``batch_size x world_size``
  windows); each rank scores its rows and the losses are all-reduced, so every rank reports the
  figure a one-process run with the global batch size reports.
* output: only rank 0 prints progress, writes checkpoints and run records.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: rank 0 of 1 when not distributed."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_info() -> DistInfo:
    """RANK / WORLD_SIZE / LOCAL_RANK from the environment (torchrun sets them), else rank 0 of 1."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as exc:
        raise RuntimeError(
            f"RANK/WORLD_SIZE/LOCAL_RANK must be integers (got {os.environ.get('RANK')!r}, "
            f"{os.environ.get('WORLD_SIZE')!r}, {os.environ.get('LOCAL_RANK')!r})"
        ) from exc
    if world < 1 or not 0 <= rank < world:
        raise RuntimeError(f"RANK={rank} is not in [0, WORLD_SIZE={world})")
    return DistInfo(rank, world, local)


def info() -> DistInfo:
    """This process's place: from the live process group when there is one, else from the environment."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), env_info().local_rank)
    return env_info()


def is_main_process() -> bool:
    return info().is_main


def setup(device: torch.device) -> tuple[DistInfo, torch.device]:
    """Join the process group the environment describes (once), and return this rank's device.

    With no distributed environment this returns ``(rank 0 of 1, device)`` and does nothing else.
    """
    env = env_info()
    if not env.enabled:
        return env, device
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    if device.type == "cuda":
        if device.index is None:
            device = torch.device("cuda", env.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        kwargs = {"device_id": device} if backend == "nccl" else {}
        try:
            dist.init_process_group(backend=backend, **kwargs)
        except TypeError:  # torch < 2.3 has no device_id
            dist.init_process_group(backend=backend)
    return info(), device


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel when distributed, else unchanged.

    Buffers are not synced at each forward: the models keep no state in buffers that training changes,
    and a collective call in every forward is a cost for nothing.
    """
    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return model
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    params = inspect.signature(DistributedDataParallel.__init__).parameters
    # torch 2.13 renamed the switch (and deprecated the old name); older versions know only the old one.
    no_sync = (
        {"forward_sync_buffers": False} if "forward_sync_buffers" in params else {"broadcast_buffers": False}
    )
    return DistributedDataParallel(model, device_ids=device_ids, **no_sync)


def shard(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank ``rank``'s rows of a global batch of ``world_size`` equal shards."""
    per = batch.size(0) // world_size
    return batch[rank * per : (rank + 1) * per]


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    """Element-wise sum over ranks (a copy; the input is untouched). Identity when not distributed."""
    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return values
    out = values.clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out


def local_rows(batch: torch.Tensor, dist_info: DistInfo) -> torch.Tensor:
    """This rank's rows of a global batch; the whole batch when not distributed."""
    return shard(batch, dist_info.rank, dist_info.world_size) if dist_info.enabled else batch


def train_batch(
    dataset,
    batch_size: int,
    block_size: int,
    generator: torch.Generator,
    device: torch.device,
    dist_info: DistInfo,
) -> tuple[torch.Tensor, torch.Tensor]:
    """This rank's training batch: every rank draws the same global batch and keeps its own rows."""
    if not dist_info.enabled:
        return dataset.get_batch("train", batch_size, block_size, generator, device)
    xs, ys = dataset.get_batch("train", batch_size * dist_info.world_size, block_size, generator)
    x, y = local_rows(xs, dist_info), local_rows(ys, dist_info)
    if device.type == "cuda":  # pinned memory lets the copy overlap with compute
        x, y = x.pin_memory(), y.pin_memory()
    return x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def mean_over_ranks(losses: list[torch.Tensor], dist_info: DistInfo) -> float:
    """The mean of per-batch losses over every rank's shards (equal shards: the global batch's mean)."""
    if not dist_info.enabled:
        return torch.stack(losses).mean().item()
    total = all_reduce_sum(torch.stack(losses).sum()).item()
    return total / (len(losses) * dist_info.world_size)


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def cleanup() -> None:
    """Leave the process group (end of a torchrun command)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
