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


# ------------------------------------------------------------ the original guide's three expectations
def _pair(rnn_bpcs, gpt_bpcs, rnn_params=1000, gpt_params=1000):
    """An LSTM and a Transformer whose validation bits per character at steps 0, 10, 20, ... are given."""
    recs = []
    for name, arch, bpcs, params in (
        ("lstm", "lstm", rnn_bpcs, rnn_params),
        ("gpt", "transformer", gpt_bpcs, gpt_params),
    ):
        loss = [b * math.log(2) for b in bpcs]  # one token per character: loss in nats = bpc * ln 2
        rec = _record(name, arch, bpcs[-1], loss[-1], 100.0, [10 * i for i in range(len(bpcs))], params)
        for h, value in zip(rec["history"], loss):
            h["val_loss"] = h["train_loss"] = value
        rec["tokenizer"]["tokens_per_char"] = 1.0
        recs.append(rec)
    return recs


def _verdicts(records, curves=None):
    from lmhelpers.reading import guide_claims

    return {c.key: c.values["verdict"] for c in guide_claims(records, curves)}


def test_each_expectation_gets_a_verdict_from_the_numbers():
    # The Transformer ends lower, the LSTM leads early, and the gap grows along the window.
    records = _pair([4.0, 2.5, 2.2, 2.1, 2.0, 2.0], [4.0, 2.9, 2.4, 2.0, 1.8, 1.7])
    curves = {"lstm": [2.0, 1.8, 1.7, 1.7], "gpt": [2.0, 1.75, 1.5, 1.4]}
    assert _verdicts(records, curves) == {
        "guide_better": "supports",
        "guide_converges": "supports",
        "guide_longer": "supports",
    }
    text = "\n".join(describe_comparison(records, curves))
    assert 'The guide expected "the Transformer generally does better": this run supports it.' in text
    assert "At equal steps gpt ends at 1.700 bits per character and lstm at 2.000" in text
    assert "step 10 lstm" in text  # the early leader, read from the history
    assert "+0.000 over the first quarter of the 4-token window, +0.300 over the last" in text


def test_the_opposite_numbers_give_the_opposite_verdicts():
    records = _pair([4.0, 2.9, 2.4, 2.0, 1.8, 1.7], [4.0, 2.5, 2.2, 2.1, 2.0, 2.0])
    curves = {"lstm": [2.0, 1.6, 1.5, 1.5], "gpt": [1.8, 1.55, 1.52, 1.55]}  # the lead shrinks
    assert _verdicts(records, curves) == {
        "guide_better": "contradicts",
        "guide_converges": "contradicts",
        "guide_longer": "contradicts",
    }


def test_what_a_run_cannot_tell_it_says_so():
    records = _pair([4.0, 2.0], [4.0, 1.9], rnn_params=1000, gpt_params=3000)
    records[1]["final"]["step"] = 40  # trained longer: no verdict at equal steps
    verdicts = _verdicts(records)  # no loss-by-position curves either
    assert verdicts["guide_better"] == "cannot_tell" and verdicts["guide_longer"] == "cannot_tell"
    records[1]["final"]["step"] = 20
    text = "\n".join(describe_comparison(records))
    assert "gpt has 3.0x the parameters of lstm, so equal size is untested here" in text
    assert "It needs the loss-by-position curves of both models." in text


def test_a_context_sweep_answers_the_third_expectation_across_lengths():
    from lmhelpers.reading import describe_sweep

    rows = [
        {"name": f"{arch}-{n}", "arch": arch, "tokenizer": "char", "block_size": n, "bits_per_char": bpc}
        for arch, n, bpc in [
            ("lstm", 32, 2.4),
            ("transformer", 32, 2.35),
            ("lstm", 128, 2.3),
            ("transformer", 128, 2.0),
        ]
    ]
    rows.sort(key=lambda r: r["bits_per_char"])
    text = " ".join(describe_sweep(rows))
    assert "+0.050 at 32, +0.300 at 128" in text and "grow with the length: this run supports it" in text
