"""Keep the seed spread of the presets with the package: ``lmhelpers/seed_spread.json``, read by lmhelpers.noise.

    python -m lmhelpers sweep sweeps/seeds.yaml -j 2 --out runs/seeds
    python tools/seed_spread.py runs/seeds            # writes lmhelpers/seed_spread.json
    python tools/seed_spread.py runs/seeds --check    # prints it, writes nothing

Only groups of two or more seeds run at a preset's own settings count (a run with other settings, such as
the context sweep's, measures another configuration). The file names the command, the machine and the date,
so a verdict that uses it can say where its noise came from.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

from lmhelpers.checkpoint import config_differences
from lmhelpers.config import PRESETS, RunConfig, make_config
from lmhelpers.device import cpu_name
from lmhelpers.noise import SEED_SPREAD_FILE, seed_groups
from lmhelpers.records import find_records

KEEP = (
    "n",
    "seeds",
    "bpc_mean",
    "bpc_sd",
    "history_bpc_sd",
    "context_gain_sd",
    "carried_gain_mean",
    "carried_gain_sd",
)


def at_preset_settings(record: dict) -> bool:
    """Whether a record ran its preset's own settings (family, stateful and seed aside)."""
    saved = RunConfig.from_dict(record["config"])
    if saved.preset not in PRESETS:
        return False
    own = make_config(
        saved.preset, arch=saved.model.arch, stateful=saved.train.stateful, seed=saved.train.seed
    )
    return not config_differences(saved, own, "record")


def spread_table(folder: Path) -> dict:
    records = [r for r in find_records(folder) if at_preset_settings(r)]
    presets: dict = {}
    for g in seed_groups(records):
        if g["n"] >= 2:
            presets.setdefault(g["preset"], {})[g["variant"]] = {k: g.get(k) for k in KEEP}
    return {
        "command": f"python -m lmhelpers sweep sweeps/seeds.yaml -j 2 --out {folder} && "
        f"python tools/seed_spread.py {folder}",
        "machine": cpu_name(),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
        "presets": presets,
    }


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__)
        return 2
    table = spread_table(Path(argv[0]))
    if not table["presets"]:
        print(f"no group of two or more seeds at a preset's settings under {argv[0]}", file=sys.stderr)
        return 1
    text = json.dumps(table, indent=2) + "\n"
    if "--check" in argv:
        print(text)
    else:
        SEED_SPREAD_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {SEED_SPREAD_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
