"""The noise verdicts are judged against: seed spread kept per preset, the evaluation's error, groups of seeds."""

import json
import math

import pytest
from seed_spread import at_preset_settings, spread_table

from lmhelpers.config import make_config
from lmhelpers.noise import (
    Noise,
    context_gain,
    difference_noise,
    mean_sd,
    seed_groups,
    seeds_noise,
    spread_of,
    variant,
)
from lmhelpers.records import save_record
from lmhelpers.report import spread_markdown

TABLE = {"presets": {"cpu": {"lstm": {"bpc_sd": 0.03}, "transformer": {"bpc_sd": 0.01}}}}


def _record(
    arch="lstm", seed=1, bpc=2.5, stateful=False, preset="cpu", chunks=(0.0, 0.1, -0.1, 0.05), **train
):
    config = make_config(preset, arch=arch, seed=seed, stateful=stateful, **train).to_dict()
    loss = bpc * math.log(2)
    whole = {"method": "carried" if arch != "transformer" else "sliding", "bits_per_char": bpc, "loss": loss}
    whole.update(tokens=100, bpc_stderr=0.004, chunk_losses=[loss + c for c in chunks])
    reset = {**whole, "method": "reset", "bits_per_char": bpc + 0.2, "reset_every": 64}
    curve = [2.0 - 0.01 * i for i in range(256)]
    return {
        "name": f"{arch}-{seed}",
        "config": config,
        "tokenizer": {"tokens_per_char": 1.0},
        "final": {"bits_per_char": bpc + 0.1},
        "history": [],
        "evaluation": {
            "whole_text": whole,
            "reset": reset,
            "by_context": {"loss": curve, "reset_every": 256},
        },
    }


def test_the_kept_spread_is_found_by_preset_and_model_and_borrowed_for_an_unmeasured_model():
    assert spread_of(_record("lstm"), table=TABLE) == 0.03
    assert spread_of(_record("gru"), table=TABLE) == 0.03  # the largest measured at the preset
    assert spread_of(_record("lstm", preset="smoke"), table=TABLE) is None
    assert variant(_record("lstm", stateful=True)) == "lstm-stateful"


def test_one_run_each_adds_both_spreads_and_the_paired_evaluation_error():
    a, b = _record("lstm", bpc=2.5), _record("transformer", bpc=2.4, chunks=(0.02, 0.08, -0.1, 0.06))
    noise = difference_noise(a, b, table=TABLE)
    diffs = [-0.02, 0.02, 0.0, -0.01]  # part by part, the shared difficulty cancels
    m = sum(diffs) / 4
    paired = math.sqrt(sum((d - m) ** 2 for d in diffs) / 3 / 4) / math.log(2)
    assert noise.basis == "preset"
    assert noise.sd == pytest.approx(math.sqrt(0.03**2 + 0.01**2 + paired**2))
    assert not noise.separates(0.05) and noise.separates(0.08)
    alone = difference_noise(a, b, table={})  # no spread known: the evaluation's error, a lower bound
    assert alone.basis == "evaluation" and alone.sd == pytest.approx(paired)


def test_several_seeds_give_the_standard_error_of_the_difference_of_means():
    noise = seeds_noise([2.0, 2.2], [1.9, 1.9, 1.9])
    assert noise.basis == "seeds" and noise.sd == pytest.approx(math.sqrt(0.02 / 2))
    assert mean_sd([1.0, 3.0]) == (2.0, pytest.approx(math.sqrt(2)), 2)
    assert Noise(0.0, "seeds").separates(0.001) and not Noise(0.0, "seeds").separates(0.0)


def test_runs_that_differ_only_by_seed_are_grouped_with_their_spread():
    records = [_record("lstm", s, bpc) for s, bpc in ((1, 2.5), (2, 2.6), (3, 2.7))]
    records += [_record("lstm", s, 2.4, stateful=True) for s in (1, 2)]
    records.append(_record("lstm", 1, 2.9, learning_rate=1e-3))  # another configuration
    groups = seed_groups(records)
    assert [(g["variant"], g["n"]) for g in groups] == [("lstm", 3), ("lstm-stateful", 2), ("lstm", 1)]
    first = groups[0]
    assert first["seeds"] == [1, 2, 3] and first["bpc_mean"] == pytest.approx(2.6)
    assert first["bpc_sd"] == pytest.approx(0.1) and first["history_bpc_mean"] == pytest.approx(2.7)
    assert first["carried_gain_mean"] == pytest.approx(0.2) and groups[2]["bpc_sd"] is None
    assert context_gain(records[0]) == pytest.approx((2.0 - 0.01 * 7.5) - (2.0 - 0.01 * 55.5))
    table = spread_markdown(groups)
    assert "| lstm | 64 | 3 | 2.600 | 0.100 | 0.200 ± 0.000 |" in table and "| lstm | 64 | 1 |" not in table
    by_length = [_record("lstm", s, 2.5, block_size=b) for b in (128, 32, 64) for s in (1, 2)]
    lengths = [line.split(" | ")[1] for line in spread_markdown(seed_groups(by_length)).splitlines()[2:]]
    assert lengths == ["32", "64", "128"]  # a context sweep reads down in order, not as the folders sort


def test_the_kept_table_takes_only_runs_at_their_presets_own_settings(tmp_path):
    for s in (1, 2):
        save_record(_record("lstm", s, 2.5 + s / 100), tmp_path / f"lstm-{s}")
        save_record(_record("lstm", s, 2.3, block_size=128), tmp_path / f"long-{s}")
    assert at_preset_settings(_record("lstm")) and not at_preset_settings(_record("lstm", block_size=128))
    table = spread_table(tmp_path)
    entry = table["presets"]["cpu"]["lstm"]
    assert entry["n"] == 2 and entry["bpc_mean"] == pytest.approx(2.515)
    assert "sweeps/seeds.yaml" in table["command"] and table["machine"]
    json.dumps(table)  # what is kept must be plain JSON
