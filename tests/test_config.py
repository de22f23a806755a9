import pytest

from lmhelpers.config import (
    PRESETS,
    ConfigError,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    make_config,
    preset_names,
)


def test_reference_preset_is_the_original_guide():
    c = make_config("reference")
    assert (c.train.batch_size, c.model.block_size, c.model.n_embd, c.model.n_head, c.model.n_layer) == (
        64,
        256,
        512,
        8,
        6,
    )
    assert (c.train.max_iters, c.train.eval_interval, c.train.eval_iters) == (5000, 250, 100)
    assert c.train.learning_rate == 3e-4 and c.model.dropout == 0.2
    assert c.data.tokenizer == "word" and c.data.vocab_size == 10000


def test_every_preset_builds_and_is_named():
    assert set(preset_names()) == {"smoke", "cpu", "nanogpt-cpu", "t4", "reference"}
    for name in PRESETS:
        assert make_config(name).preset == name


def test_overrides_flat_and_dotted():
    c = make_config("smoke", n_layer=3, **{"train.learning_rate": 0.01, "arch": "gru"})
    assert c.model.n_layer == 3 and c.train.learning_rate == 0.01 and c.model.arch == "gru"
    assert make_config("smoke").model.n_layer == 1  # presets are not mutated


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(n_embd=30, n_head=4), "model.n_embd"),
        (dict(learning_rate=0), "train.learning_rate"),
        (dict(learning_rate=-1e-3), "train.learning_rate"),
        (dict(max_iters=0), "train.max_iters"),
        (dict(dropout=1.0), "model.dropout"),
        (dict(dropout=-0.1), "model.dropout"),
        (dict(arch="bilstm"), "model.arch"),
        (dict(tokenizer="sentencepiece"), "data.tokenizer"),
        (dict(max_iters="100"), "train.max_iters"),
        (dict(batch_size=2.5), "train.batch_size"),
        (dict(device="tpu"), "train.device"),
        (dict(val_fraction=1.0), "data.val_fraction"),
        (dict(min_lr=1.0), "train.min_lr"),
    ],
)
def test_validation_names_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        make_config("smoke", **kwargs)


def test_divisibility_message_mentions_n_head():
    with pytest.raises(ConfigError, match="divisible by n_head=4"):
        ModelConfig(n_embd=30, n_head=4)


def test_unknown_names_list_valid_ones():
    with pytest.raises(ConfigError, match="unknown preset 'huge'.*smoke"):
        make_config("huge")
    with pytest.raises(ConfigError, match="unknown setting 'n_layers'.*n_layer"):
        make_config("smoke", n_layers=2)


def test_rnn_ignores_head_divisibility():
    assert ModelConfig(arch="lstm", n_embd=30, n_head=4).is_rnn


def test_flat_vocab_size_is_the_tokenizer_cap():
    c = make_config("cpu", vocab_size=500)
    assert c.data.vocab_size == 500 and c.model.vocab_size is None
    assert make_config("cpu", **{"model.vocab_size": 65}).model.vocab_size == 65


def test_round_trip_through_dict():
    c = make_config("cpu", arch="lstm", vocab_size=500)
    assert RunConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ConfigError, match="unknown model settings"):
        RunConfig.from_dict({"model": {"bogus": 1}})


def test_final_lr_defaults_to_a_tenth():
    assert TrainConfig(learning_rate=1e-3).final_lr == pytest.approx(1e-4)
    assert TrainConfig(learning_rate=1e-3, min_lr=0.0).final_lr == 0.0
    assert DataConfig().dataset == "tinyshakespeare"
