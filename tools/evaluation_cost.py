"""What scoring the whole validation text costs: the seconds ``finish_run`` spends in ``evaluate_model``.

    python tools/evaluation_cost.py                                   # cpu and reference, LSTM and Transformer
    python tools/evaluation_cost.py --preset reference --arch gru --device cuda

Random weights (the cost does not depend on what a model learned), Tiny Shakespeare with each preset's
tokenizer, the device's default thread count. Prints one line per model: tokens scored, the seconds of each
pass (the family's own way, reset every window, and for a recurrent model the longer loss-by-context pass)
and tokens per second, so docs/noise.md can quote them with the machine named.
"""

from __future__ import annotations

import argparse
import time

import torch

from lmhelpers.config import make_config
from lmhelpers.device import cpu_name
from lmhelpers.evaluation import evaluate_model
from lmhelpers.experiment import prepare_data, with_vocab
from lmhelpers.models import build_model


def measure(preset: str, arch: str, device: str) -> dict:
    """Score one random-weight model of ``preset`` and ``arch`` on the whole validation text, timed."""
    config = make_config(preset, arch=arch, device=device)
    prepared = prepare_data(config)
    config = with_vocab(config, prepared.tokenizer)
    torch.manual_seed(0)
    model = build_model(config.model).to(device).eval()
    start = time.perf_counter()
    result = evaluate_model(model, prepared.dataset)
    wall = time.perf_counter() - start
    return {
        "preset": preset,
        "arch": arch,
        "tokens": result["whole_text"]["tokens"],
        "how": result["whole_text"]["method"],
        "seconds": wall,
        "tokens_per_s": result["whole_text"]["tokens"] / wall,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", nargs="+", default=["cpu", "reference"])
    parser.add_argument("--arch", nargs="+", default=["lstm", "transformer"])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    where = cpu_name() if args.device == "cpu" else torch.cuda.get_device_name()
    print(f"{where}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| preset | model | tokens scored | own way | seconds, all passes | tokens/s |")
    print("|---|---|---:|---|---:|---:|")
    for preset in args.preset:
        for arch in args.arch:
            m = measure(preset, arch, args.device)
            print(
                f"| {m['preset']} | {m['arch']} | {m['tokens']:,} | {m['how']} "
                f"| {m['seconds']:.1f} | {m['tokens_per_s']:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
