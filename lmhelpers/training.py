"""One training loop for both model families.

AdamW (weight decay on matrices only), linear warmup then cosine decay, gradient clipping, autocast
where the device supports it, evaluation on a fixed set of validation batches, and checkpoints that
resume the same run: same batches, same dropout masks, same final weights.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from . import distributed, threads
from .checkpoint import check_compatible, load_checkpoint, save_checkpoint
from .config import RunConfig, TrainConfig
from .data import TokenDataset
from .device import autocast_context, autocast_dtype, configure_backends, needs_grad_scaler, pick_device
from .interrupt import StopRequests, TrainingInterrupted
from .language import message, tr
from .out_of_memory import TrainingOutOfMemory, explained_out_of_memory
from .progress import progress_bar
from .settings_history import continued, settings_history

__all__ = [
    "Trainer",
    "TrainingDiverged",
    "TrainingInterrupted",
    "TrainingOutOfMemory",
    "apply_optimizer_settings",
    "lr_at",
    "make_optimizer",
]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the step and the last good checkpoint."""


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warmup over ``warmup_iters`` steps, then cosine decay to ``final_lr`` at ``max_iters``."""
    if step < cfg.warmup_iters:  # pragma: no mutate - equivalent: both branches meet at learning_rate
        return cfg.learning_rate * (step + 1) / (cfg.warmup_iters + 1)
    span = max(1, cfg.max_iters - cfg.warmup_iters)
    progress = min(1.0, (step - cfg.warmup_iters) / span)
    return cfg.final_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (cfg.learning_rate - cfg.final_lr)


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW with decay on matrices (dim >= 2) only: biases and LayerNorm gains are not pulled to zero."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    kwargs = dict(lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2))
    if device.type in ("cuda", "cpu"):  # pragma: no mutate - speed only: fused or plain AdamW
        # One fused kernel for all parameters (CUDA; CPU from torch 2.4): on 2 CPU cores a 4-layer
        # model's AdamW step drops from ~1.9 ms to ~0.5 ms. Older torch refuses fused on CPU.
        try:
            return torch.optim.AdamW(groups, fused=True, **kwargs)
        except (RuntimeError, ValueError):
            pass
    return torch.optim.AdamW(groups, **kwargs)


def apply_optimizer_settings(optimizer: torch.optim.Optimizer, cfg: TrainConfig) -> None:
    """Put ``cfg``'s betas and weight decay into an optimizer made by :func:`make_optimizer` whose state
    came from a checkpoint of other settings (``resume="change-settings"``); the learning rate is set at
    every step anyway."""
    for group in optimizer.param_groups:
        group["betas"] = (cfg.beta1, cfg.beta2)
    optimizer.param_groups[0]["weight_decay"] = cfg.weight_decay  # make_optimizer's first group: the matrices


def _grad_scaler(enabled: bool):  # pragma: no mutate block - CUDA only (float16 on CUDA)
    if hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)  # torch < 2.3


class Trainer:
    """Trains ``model`` on ``dataset`` as ``config`` says; ``history`` holds one row per evaluation."""

    def __init__(
        self,
        model: torch.nn.Module,
        dataset: TokenDataset,
        config: RunConfig,
        tokenizer: Any = None,
        device: torch.device | str | None = None,
        checkpoint_path: str | os.PathLike | None = None,
        progress: bool = True,  # pragma: no mutate - progress display only (the tqdm bar)
    ):
        self.config = config
        t = config.train
        self.device = torch.device(device) if device is not None else pick_device(t.device)
        # Under torchrun: join the process group, one device per rank (see lmhelpers.distributed).
        self.dist, self.device = distributed.setup(self.device)
        configure_backends(self.device)
        self.block_size = config.model.block_size
        dataset.check_block_size(self.block_size)
        self.dataset = dataset
        self.tokenizer = tokenizer
        self.model = model.to(self.device)
        self.amp_dtype = autocast_dtype(self.device, t.dtype)
        # pragma: no mutate start - CUDA only: a scaler for float16 on CUDA, a pass-through elsewhere
        self.scaler = _grad_scaler(needs_grad_scaler(self.amp_dtype) and self.device.type == "cuda")
        # pragma: no mutate end
        self.optimizer = make_optimizer(self.model, t, self.device)
        # pragma: no mutate start - DDP only: wrap reads the device under torchrun alone (test_distributed.py)
        self.forward = distributed.wrap(self.model, self.device)  # DDP under torchrun, else the model
        # pragma: no mutate end
        if t.compile:
            self.forward = torch.compile(self.forward)
        self.batch_generator = torch.Generator().manual_seed(t.seed)
        if t.stateful and not hasattr(model, "init_state"):
            raise ValueError(tr("stateful=True needs a model with a state (init_state): a recurrent family"))
        self.stream_state: Any = None  # stateful training: the state the last window left, detached
        torch.manual_seed(t.seed + self.dist.rank)  # dropout masks; saved and restored with every checkpoint
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.progress = progress and self.dist.is_main  # pragma: no mutate - the progress bar only
        self.step = 0
        self.tokens_seen = 0
        self.train_seconds = 0.0  # optimisation only: evaluation and checkpoint time excluded
        self.wall_seconds = 0.0  # everything, summed over resumed sessions
        self.thread_changes: list[dict] = []  # CPU threads dropped and restored while others were busy
        self.history: list[dict[str, float]] = []
        self.last_checkpoint: Path | None = None
        self.saved_step: int | None = None  # the step last_checkpoint holds (Ctrl-C saves only if behind)
        self._eval_starts = {
            s: dataset.fixed_starts(
                s, t.eval_iters, t.batch_size * self.dist.world_size, self.block_size, seed=t.seed + 1
            )
            for s in ("train", "val")
        }

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self, splits: tuple[str, ...] = ("train", "val")) -> dict[str, float]:
        """Mean loss over the fixed evaluation batches of each split, in eval mode (no dropout)."""
        with explained_out_of_memory(self), torch.no_grad():
            was_training = self.model.training
            self.model.eval()
            out = {}
            try:
                for split in splits:
                    data = self.dataset.split(split)
                    losses = []
                    for starts in self._eval_starts[split]:
                        starts = distributed.local_rows(starts, self.dist)  # this rank's rows, if distributed
                        x, y = self.dataset.windows(data, starts, self.block_size, self.device)
                        with autocast_context(self.device, self.amp_dtype):
                            _, loss = self.forward(x, y)
                        losses.append(loss.float())
                        threads.adjust(self.device, self.step)
                    out[split] = distributed.mean_over_ranks(losses, self.dist)
            finally:
                self.model.train(was_training)
            return out

    def eval_batches(self, split: str = "val") -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The fixed evaluation batches themselves, e.g. for metrics.loss_by_position."""
        data = self.dataset.split(split)
        return [self.dataset.windows(data, s, self.block_size, self.device) for s in self._eval_starts[split]]

    # -- training -----------------------------------------------------------------------------
    def fit(
        self, until: int | None = None, callback: Callable[[dict[str, float]], None] | None = None
    ) -> list[dict[str, float]]:
        """Train up to step ``until`` (default ``max_iters``); returns the history.

        ``callback`` is called with each new history row (live plots in notebooks). Ctrl-C (a notebook's
        Interrupt) stops after the step in progress, with a checkpoint of it: TrainingInterrupted, a
        KeyboardInterrupt that says where the checkpoint is (:mod:`lmhelpers.interrupt`).
        """
        with explained_out_of_memory(self):
            t = self.config.train
            target = t.max_iters if until is None else min(until, t.max_iters)
            ckpt_every = t.checkpoint_interval or t.eval_interval
            session_start = time.perf_counter()
            wall_before = self.wall_seconds
            changes_before = len(threads.changes())
            if not self.history:
                self._log_eval(callback, wall_before, session_start)
            self.model.train()
            bar = progress_bar(
                target, self.step, message("train_bar", arch=self.config.model.arch), self.progress
            )
            pending: list[torch.Tensor] = []
            stop = StopRequests(
                enabled=self.dist.world_size == 1
            )  # Ctrl-C: stop after this step (interrupt.py)
            try:
                with stop:
                    while self.step < target and not stop.requested:
                        tic = time.perf_counter()
                        pending.append(self.train_step())
                        threads.adjust(self.device, self.step)  # fewer threads while others are busy
                        at_eval = self.step % t.eval_interval == 0 or self.step == t.max_iters
                        if len(pending) >= 25 or at_eval or self.step == target:
                            # Reading the loss forces a GPU sync, so check it for NaN in groups, not every step.
                            values = torch.stack(pending).float().cpu()
                            pending.clear()
                            self._check_finite(values)
                            bar.set_postfix(
                                loss=f"{values[-1].item():.3f}", lr=f"{lr_at(self.step - 1, t):.1e}"
                            )
                        # pragma: no mutate start - CUDA only: a CPU run never syncs (timing on a GPU)
                        if self.device.type == "cuda" and (at_eval or self.step == target):
                            torch.cuda.synchronize()
                        # pragma: no mutate end
                        self.train_seconds += time.perf_counter() - tic
                        bar.update(1)
                        if at_eval:
                            self._log_eval(callback, wall_before, session_start)
                        if self.checkpoint_path and (
                            self.step % ckpt_every == 0 or self.step in (target, t.max_iters)
                        ):
                            self.wall_seconds = wall_before + time.perf_counter() - session_start
                            with stop.saving():
                                self.save()
                    if stop.requested and self.step < target:
                        self.wall_seconds = wall_before + time.perf_counter() - session_start
                        self._stop_on_request(stop, pending)
            finally:
                bar.close()
                self.wall_seconds = wall_before + time.perf_counter() - session_start
                self.thread_changes += threads.changes()[changes_before:]
            return self.history

    def _stop_on_request(self, stop: StopRequests, pending: list[torch.Tensor]) -> None:
        """Ctrl-C asked ``fit`` to stop: checkpoint the step reached (unless the checkpoint holds it already)
        and raise TrainingInterrupted, which says where it is and how to continue."""
        if pending:  # the losses since the last NaN check: never save a diverged model as if it were fine
            self._check_finite(torch.stack(pending).float().cpu())
        if self.checkpoint_path and self.step > 0 and self.saved_step != self.step:
            with stop.saving():
                self.save()
        checkpoint = self.last_checkpoint if self.saved_step == self.step else None
        raise TrainingInterrupted(self.step, self.config.train.max_iters, checkpoint)

    def train_step(self) -> torch.Tensor:
        """One optimisation step on a fresh training batch; advances ``step`` and returns the loss.

        ``fit`` calls this and adds evaluation, checkpoints and the NaN check around it; the benchmark
        times it alone. The loss is returned as a tensor, not a float: reading it would force a GPU sync.
        """
        t = self.config.train
        lr = lr_at(self.step, t)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if t.stateful:
            x, y = self._stream_batch()
            with autocast_context(self.device, self.amp_dtype):
                _, loss, state = self.forward(x, y, state=self.stream_state)
            self.stream_state = self.model.detach_state(state)
        else:
            x, y = distributed.train_batch(
                self.dataset, t.batch_size, self.block_size, self.batch_generator, self.device, self.dist
            )
            with autocast_context(self.device, self.amp_dtype):
                _, loss = self.forward(x, y)
        self.scaler.scale(loss).backward()
        if t.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), t.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)  # pragma: no mutate - equivalent: all grads set each step
        self.step += 1
        self.tokens_seen += t.batch_size * self.block_size * self.dist.world_size
        return loss.detach()

    def _stream_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Stateful training: this step's window of every stream (TokenDataset.stream_windows); the
        state is reset where a pass over the streams begins."""
        rows = self.config.train.batch_size * self.dist.world_size
        x, y, first = self.dataset.stream_windows("train", rows, self.block_size, self.step)
        x, y = distributed.local_rows(x, self.dist), distributed.local_rows(y, self.dist)
        if first or self.stream_state is None:
            self.stream_state = self.model.init_state(x.shape[0])
        return x.to(self.device), y.to(self.device)

    def _check_finite(self, losses: torch.Tensor) -> None:
        if torch.isfinite(losses).all():
            return
        first_bad = self.step - len(losses) + int((~torch.isfinite(losses)).nonzero()[0]) + 1
        where = (
            tr("the last good checkpoint is {path}", path=self.last_checkpoint)
            if self.last_checkpoint
            else tr("no checkpoint was written yet")
        )
        raise TrainingDiverged(
            tr(
                "the training loss became {value} at step {step}; {where}. Lower learning_rate, keep grad_clip > 0, "
                "or use dtype='float32', then resume or restart.",
                value=losses[~torch.isfinite(losses)][0].item(),
                step=first_bad,
                where=where,
            )
        )

    def _log_eval(self, callback, wall_before: float, session_start: float) -> None:
        losses = self.evaluate()
        row = {
            "step": self.step,
            "tokens": self.tokens_seen,
            "train_time": self.train_seconds,
            "wall_time": wall_before + time.perf_counter() - session_start,
            "lr": lr_at(max(self.step - 1, 0), self.config.train),
            "train_loss": losses["train"],
            "val_loss": losses["val"],
        }
        if not math.isfinite(row["val_loss"]):
            self._check_finite(torch.tensor([row["val_loss"]]))
        self.history.append(row)
        if callback is not None:
            callback(row)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_seen / self.train_seconds if self.train_seconds > 0 else 0.0

    # -- checkpoints --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        rng = {"torch": torch.get_rng_state(), "batches": self.batch_generator.get_state()}
        if torch.cuda.is_available():  # pragma: no mutate block - CUDA only: the GPU's random state
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "scheduler": {"name": "warmup_cosine", "step": self.step},
            "step": self.step,
            "tokens_seen": self.tokens_seen,
            "train_seconds": self.train_seconds,
            "wall_seconds": self.wall_seconds,
            "history": self.history,
            "config": self.config.to_dict(),
            "tokenizer": self.tokenizer.to_dict() if self.tokenizer is not None else None,
            "rng": rng,
            "stream_state": self.stream_state,
            "settings_history": settings_history(self),  # which training settings held over which steps
        }

    def save(self, path: str | os.PathLike | None = None) -> Path:
        path = Path(path or self.checkpoint_path or "checkpoint.pt")
        if not self.dist.is_main:  # distributed: rank 0 writes, the others know where it is
            self.last_checkpoint, self.saved_step = path, self.step  # pragma: no mutate - DDP only: rank != 0
            return path
        self.last_checkpoint, self.saved_step = save_checkpoint(path, self.state_dict()), self.step
        return self.last_checkpoint

    def resume(self, path: str | os.PathLike | None = None) -> int:
        """Continue from a checkpoint of the same model, data and tokenizer; returns its step."""
        path = Path(path or self.checkpoint_path or "checkpoint.pt")
        state = load_checkpoint(path, map_location=self.device)
        check_compatible(state, self.config, self.tokenizer, path)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.step = int(state["step"])
        self.tokens_seen = int(state["tokens_seen"])
        self.train_seconds = float(state["train_seconds"])
        self.wall_seconds = float(state["wall_seconds"])
        self.history = list(state["history"])
        self.stream_state = state.get("stream_state")
        # The settings that held over the steps so far, and this run's from here on (settings_history).
        self.settings_log = continued(
            state.get("settings_history"), RunConfig.from_dict(state["config"]), self.step, self.config
        )
        torch.set_rng_state(state["rng"]["torch"].cpu())
        self.batch_generator.set_state(state["rng"]["batches"].cpu())
        if "cuda" in state["rng"] and torch.cuda.is_available():  # pragma: no mutate block - CUDA RNG only
            torch.cuda.set_rng_state_all([s.cpu() for s in state["rng"]["cuda"]])
        self.last_checkpoint, self.saved_step = path, self.step
        return self.step
