"""``python -m lmhelpers evaluate``: any family, any preset, from a checkpoint, a run folder or a record."""

import json

import pytest
import torch

from lmhelpers.cli import main
from lmhelpers.config import ARCHES, make_config
from lmhelpers.experiment import prepare_data, with_vocab
from lmhelpers.models import build_model
from lmhelpers.records import new_record, save_record
from lmhelpers.training import Trainer


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A few thousand words: enough validation text for the reference preset's 256-token window."""
    words = "the cat sat on a mat while a dog ran past the old gate and barked at the moon".split()
    lines = [" ".join(words[(i * 7) % len(words) :] + words[: (i * 7) % len(words)]) for i in range(300)]
    path = tmp_path_factory.mktemp("corpus") / "words.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _checkpoint(folder, preset, arch, corpus, **over):
    """A checkpoint of random weights, as a run at ``preset`` would write it (nothing is trained)."""
    config = make_config(preset, arch=arch, dataset=str(corpus), device="cpu", **over)
    prepared = prepare_data(config)
    config = with_vocab(config, prepared.tokenizer)
    torch.manual_seed(0)
    trainer = Trainer(
        build_model(config.model), prepared.dataset, config, prepared.tokenizer, "cpu", progress=False
    )
    return trainer.save(folder / "checkpoint.pt"), len(prepared.dataset.val)


@pytest.mark.parametrize("arch", ARCHES)
def test_every_family_is_scored_on_every_token_its_own_way(tmp_path, corpus, arch, capsys):
    ckpt, n_val = _checkpoint(tmp_path, "smoke", arch, corpus)
    assert main(["evaluate", str(ckpt), "--json", str(tmp_path / "e.json"), "--device", "cpu"]) == 0
    result = json.loads((tmp_path / "e.json").read_text())
    whole, reset = result["whole_text"], result["reset"]
    assert whole["method"] == ("sliding" if arch == "transformer" else "carried")
    assert whole["tokens"] == reset["tokens"] == n_val - 1
    assert reset["reset_every"] == 32 and whole["bits_per_char"] > 0 and whole["bpc_stderr"] > 0
    out = capsys.readouterr().out
    assert f"{n_val - 1:,} tokens" in out and "loss by context" in out


@pytest.mark.parametrize("preset", ["cpu", "reference"])
@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_the_larger_presets_are_scored_too(tmp_path, corpus, preset, arch):
    ckpt, n_val = _checkpoint(tmp_path, preset, arch, corpus)
    assert main(["evaluate", str(tmp_path), "--json", str(tmp_path / "e.json"), "--device", "cpu"]) == 0
    result = json.loads((tmp_path / "e.json").read_text())
    block = make_config(preset).model.block_size
    assert result["preset"] == preset and result["whole_text"]["tokens"] == n_val - 1
    assert result["reset"]["reset_every"] == block
    assert len(result["by_context"]["loss"]) == block * (1 if arch == "transformer" else 4)


def test_a_record_leads_to_its_checkpoint_and_a_wrong_path_says_what_to_give(tmp_path, corpus, capsys):
    ckpt, _ = _checkpoint(tmp_path / "ckpts", "smoke", "gru", corpus)
    save_record(new_record("gru", {}, history=[], final={}, checkpoint=str(ckpt)), tmp_path / "run")
    assert main(["evaluate", str(tmp_path / "run"), "--device", "cpu"]) == 0
    assert "gru (smoke)" in capsys.readouterr().out
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    assert "give a checkpoint file, or a run folder" in capsys.readouterr().err
