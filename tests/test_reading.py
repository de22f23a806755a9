"""The written reading of a comparison (lmhelpers.reading): every claim computed from the records."""

import math

import pytest

from lmhelpers.reading import describe_comparison


def _record(name, arch, bpc, loss, tps, times, params, tokenizer="char", gen=1000.0):
    tpc = bpc * math.log(2) / loss
    history = [
        {"step": i * 10, "train_time": t, "val_loss": loss + (len(times) - 1 - i) * 0.5, "train_loss": loss}
        for i, t in enumerate(times)
    ]
    return {
        "name": name,
        "config": {"model": {"arch": arch}, "data": {"tokenizer": tokenizer}},
        "model": {"params": params},
        "tokenizer": {"tokens_per_char": tpc},
        "history": history,
        "final": {
            "loss": loss,
            "perplexity": math.exp(loss),
            "bits_per_char": bpc,
            "train_loss": loss,
            "step": 20,
        },
        "timings": {
            "tokens_per_second": tps,
            "generation_tokens_per_second": gen,
            "train_seconds": times[-1],
        },
        "environment": {"device": "cpu"},
    }


def test_describe_comparison_reads_the_numbers():
    a = _record("lstm", "lstm", 2.0, 1.4, 30000.0, [0, 5, 10], 500_000)
    b = _record("gpt", "transformer", 1.8, 1.26, 10000.0, [0, 15, 30], 800_000)
    curves = {"lstm": [2.0, 1.6, 1.5, 1.5], "gpt": [2.0, 1.58, 1.3, 1.2]}
    text = "\n".join(describe_comparison([a, b], curves))
    assert "gpt reaches 1.800 bits per character" in text and "lstm 2.000" in text
    assert "0.200 fewer bits per character (10.0% less)" in text
    assert "same char tokenizer" in text
    assert "lstm trains on 30,000 tokens per second and gpt on 10,000 (3.0x on cpu)" in text
    assert "At equal training time, 10 s (when lstm finished)" in text
    assert "gpt has 800,000 parameters, 1.6x" in text
    assert "separate from position 3 of 4 on: gpt stays more than 0.05 nats below lstm" in text


def test_overfitting_is_a_rising_validation_loss_not_just_a_gap():
    a = _record("a", "lstm", 2.0, 1.4, 100.0, [0, 5, 10], 10)
    b = _record("b", "transformer", 1.9, 1.3, 100.0, [0, 5, 10], 10)
    a["history"][-1]["train_loss"] = 1.2  # a gap of 0.2 nats, validation still falling
    b["history"][1]["val_loss"] = 1.25  # best at step 10, then up to 1.3
    text = "\n".join(describe_comparison([a, b]))
    assert "a ends 0.20 nats lower on training text" in text and "not yet overfitting" in text
    assert "b is overfitting: its validation loss rose from 1.250 at step 10 to 1.300" in text


def test_describe_comparison_other_cases():
    a = _record("a", "lstm", 2.0, 1.4, 100.0, [0, 10], 10, tokenizer="char")
    b = _record("b", "transformer", 2.002, 0.5, 100.0, [0, 10], 10, tokenizer="word")
    b["final"]["step"] = 40
    text = "\n".join(describe_comparison([a, b], {"a": [1.0, 1.0], "b": [1.01, 1.0]}))
    assert "different numbers of steps" in text and "end level" in text
    assert "different tokenizers (char, word)" in text and "never part for good" in text
    with pytest.raises(ValueError, match="at least two"):
        describe_comparison([a])
