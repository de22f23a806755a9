"""The written reading of a comparison (lmhelpers.reading): every claim computed from the records."""

import math
import re
from pathlib import Path

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
    last_only = {"lstm": [2.0] * 7 + [1.6], "gpt": [2.0] * 7 + [1.5]}  # one position apart: not a parting
    text = "\n".join(describe_comparison([a, b], last_only))
    assert "never part for good: at the end of the window they differ by 0.100 nats" in text


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
@pytest.fixture(autouse=True)
def no_kept_spread(monkeypatch):
    """The tests choose their own seed spread; the one kept with the package is not used here."""
    monkeypatch.setattr("lmhelpers.noise.SEED_SPREAD_FILE", Path("/nonexistent/seed_spread.json"))


SPREAD = {
    "presets": {
        "test": {
            v: {"bpc_sd": 0.02, "history_bpc_sd": 0.03, "context_gain_sd": 0.01}
            for v in ("lstm", "transformer")
        }
    }
}


def _whole_text(bpc, chunks, block=4, by_context=None):
    loss = bpc * math.log(2)  # one token per character
    return {
        "method": "sliding",
        "loss": loss,
        "stderr": 0.001,
        "tokens": 1000,
        "bits_per_char": bpc,
        "bpc_stderr": 0.001 / math.log(2),
        "chunk_losses": [loss + c for c in chunks],
        "block_size": block,
    }


def _pair(rnn_bpcs, gpt_bpcs, rnn_params=1000, gpt_params=1000, curves=None):
    """An LSTM and a Transformer whose validation bits per character at steps 0, 10, 20, ... are given;
    the last value is also their whole-text score."""
    recs = []
    for name, arch, bpcs, params in (
        ("lstm", "lstm", rnn_bpcs, rnn_params),
        ("gpt", "transformer", gpt_bpcs, gpt_params),
    ):
        loss = [b * math.log(2) for b in bpcs]  # one token per character: loss in nats = bpc * ln 2
        rec = _record(name, arch, bpcs[-1], loss[-1], 100.0, [10 * i for i in range(len(bpcs))], params)
        for h, value in zip(rec["history"], loss):
            h["val_loss"] = h["train_loss"] = value
            h["tokens"] = h["step"] * 100
        rec["config"]["preset"] = "test"
        rec["tokenizer"]["tokens_per_char"] = 1.0
        rec["model"]["flops_per_token"] = 1.0
        chunks = [0.0, 0.1, -0.1, 0.05] if arch == "lstm" else [0.02, 0.08, -0.1, 0.06]
        rec["evaluation"] = {"whole_text": _whole_text(bpcs[-1], chunks)}
        if curves:
            rec["evaluation"]["by_context"] = {"loss": curves[name], "reset_every": len(curves[name])}
        recs.append(rec)
    return recs


def _verdicts(records, table=None):
    from lmhelpers.reading import guide_claims

    if table is not None:
        import lmhelpers.noise as noise

        original = noise.seed_spread_table
        noise.seed_spread_table = lambda path=None: table
        try:
            return {c.key: c.values["verdict"] for c in guide_claims(records)}
        finally:
            noise.seed_spread_table = original
    return {c.key: c.values["verdict"] for c in guide_claims(records)}


def test_each_expectation_gets_a_verdict_from_the_numbers_beyond_the_noise(monkeypatch):
    # The Transformer ends lower, the LSTM leads early, and the gap grows along the window: each by far
    # more than the test's seed spread.
    curves = {"lstm": [2.0, 1.8, 1.7, 1.7], "gpt": [2.0, 1.75, 1.5, 1.4]}
    records = _pair([4.0, 2.5, 2.2, 2.1, 2.0, 2.0], [4.0, 2.9, 2.4, 2.0, 1.8, 1.7], curves=curves)
    assert _verdicts(records, SPREAD) == {
        "guide_better": "supports",
        "guide_converges": "supports",
        "guide_longer": "supports",
    }
    monkeypatch.setattr("lmhelpers.noise.seed_spread_table", lambda path=None: SPREAD)
    text = "\n".join(describe_comparison(records))
    assert 'The guide expected "the Transformer generally does better": this run supports it.' in text
    assert (
        "gpt scores 1.700 bits per character and lstm 2.000: a gap of 0.300 against a margin of ±0.06" in text
    )
    assert "seed-to-seed spread measured at this preset" in text and "so gpt is ahead" in text
    assert "step 10 2.500 / 2.900" in text  # the early curve, read from the history
    assert "+0.000 over the first quarter of the 4-token window, +0.300 over the last" in text


def test_a_gap_smaller_than_the_noise_is_within_noise_and_a_larger_one_has_a_winner():
    # Whole-text gap 0.03 bits/char; seed spread 0.02 per model: noise of the gap sqrt(2) * 0.02 = 0.028,
    # margin 0.057 -> within noise. The same gap with a spread of 0.005 (margin 0.014) -> a winner.
    records = _pair([4.0, 2.0], [4.0, 1.97])
    claims = _verdicts(records, SPREAD)
    assert claims["guide_better"] == "within_noise"
    quiet = {
        "presets": {"test": {v: {"bpc_sd": 0.005, "history_bpc_sd": 0.005} for v in ("lstm", "transformer")}}
    }
    assert _verdicts(records, quiet)["guide_better"] == "supports"
    # Without any seed spread the evaluation's own error is the noise, and the sentence says it is a floor.
    from lmhelpers.reading import guide_claims
    from lmhelpers.sentences import render

    text = render(guide_claims(records)[0])
    assert "the evaluation's error alone" in text and "the true noise is larger" in text


def test_the_early_curve_decides_convergence_with_a_margin_and_a_tie_goes_to_nobody():
    even = _pair([4.0, 3.0, 2.5, 2.2, 2.1, 2.0], [4.0, 3.01, 2.49, 2.21, 2.09, 2.0])
    assert _verdicts(even, SPREAD)["guide_converges"] == "within_noise"
    ahead = _pair([4.0, 2.6, 2.3, 2.2, 2.1, 2.0], [4.0, 3.0, 2.7, 2.3, 2.1, 2.0])
    assert _verdicts(ahead, SPREAD)["guide_converges"] == "supports"


def test_the_opposite_numbers_give_the_opposite_verdicts():
    curves = {"lstm": [2.0, 1.6, 1.5, 1.5], "gpt": [1.8, 1.55, 1.52, 1.55]}  # the lead shrinks
    records = _pair([4.0, 2.9, 2.4, 2.0, 1.8, 1.7], [4.0, 2.5, 2.2, 2.1, 2.0, 2.0], curves=curves)
    assert _verdicts(records, SPREAD) == {
        "guide_better": "contradicts",
        "guide_converges": "contradicts",
        "guide_longer": "contradicts",
    }


def test_what_a_run_cannot_tell_it_says_so():
    records = _pair([4.0, 2.0], [4.0, 1.9], rnn_params=1000, gpt_params=3000)
    records[1]["final"]["step"] = 40  # trained longer: no verdict at equal steps
    verdicts = _verdicts(records)  # no loss-by-context curves either
    assert verdicts["guide_better"] == "cannot_tell" and verdicts["guide_longer"] == "cannot_tell"
    records[1]["final"]["step"] = 20
    text = "\n".join(describe_comparison(records))
    assert "gpt has 3.0x the parameters of lstm, so equal size is untested here" in text
    assert "It needs the whole-text loss by context of both models." in text


def test_the_carried_state_is_judged_against_the_paired_error():
    rec = _pair([4.0, 2.0], [4.0, 1.9])[0]
    rec["evaluation"]["whole_text"]["method"] = "carried"
    reset = _whole_text(2.05, [0.0, 0.1, -0.1, 0.06])  # same parts, shifted: a small paired error
    rec["evaluation"]["reset"] = {**reset, "method": "reset", "reset_every": 4}
    from lmhelpers.verdicts import carried_context

    found = carried_context(rec)
    assert found["verdict"] == "helps" and found["gain"] == pytest.approx(0.05)
    rec["evaluation"]["reset"]["chunk_losses"] = [2.0 * math.log(2) + c for c in (0.3, -0.2, 0.25, -0.3)]
    rec["evaluation"]["reset"]["bits_per_char"] = 2.001
    assert carried_context(rec)["verdict"] == "within_noise"


def _sweep_rows(points):
    return [
        {"name": f"{arch}-{n}-{i}", "arch": arch, "tokenizer": "char", "block_size": n, "bits_per_char": bpc}
        for i, (arch, n, bpc) in enumerate(points)
    ]


def test_a_context_sweep_answers_the_third_expectation_across_lengths():
    from lmhelpers.reading import describe_sweep

    rows = _sweep_rows(
        [("lstm", 32, 2.4), ("transformer", 32, 2.35), ("lstm", 128, 2.3), ("transformer", 128, 2.0)]
    )
    rows.sort(key=lambda r: r["bits_per_char"])
    text = " ".join(describe_sweep(rows))
    assert "+0.050 at 32, +0.300 at 128" in text and "grow with the length: this run supports it" in text
    assert "a fixed threshold" in text  # one seed per point: no spread to judge by


def test_a_context_sweep_with_seeds_judges_the_change_against_their_spread():
    from lmhelpers.reading import context_claims

    noisy = _sweep_rows(
        [
            ("lstm", 32, 2.40),
            ("lstm", 32, 2.50),
            ("transformer", 32, 2.35),
            ("transformer", 32, 2.45),
            ("lstm", 128, 2.35),
            ("lstm", 128, 2.50),
            ("transformer", 128, 2.25),
            ("transformer", 128, 2.36),
        ]
    )
    claim = context_claims(noisy)[0]
    assert claim.values["change"] == pytest.approx(0.07) and claim.values["verdict"] == "within_noise"
    assert claim.values["noise_basis"] == "seeds"
    tight = _sweep_rows(
        [
            ("lstm", 32, 2.40),
            ("lstm", 32, 2.41),
            ("transformer", 32, 2.35),
            ("transformer", 32, 2.36),
            ("lstm", 128, 2.30),
            ("lstm", 128, 2.31),
            ("transformer", 128, 2.00),
            ("transformer", 128, 2.01),
        ]
    )
    assert context_claims(tight)[0].values["verdict"] == "supports"


# ------------------------------------------------------------------------ the reading in Korean
_MARGIN = {"noise_sd": 0.123, "noise_basis": "preset"}
_AXIS = {"at": 67.9, "rnn": 2.526, "gpt": 2.730, "winner": None}
_GUIDE = {"rnn": "LSTM", "gpt": "GRU", "rnn_bpc": 2.476, "gpt_bpc": 2.460, "curve_noise_sd": 0.13}
# Every claim key with values like a real run's, in each of its branches; names ending in letters read
# with a final consonant (LSTM: 엠) and without (GRU: 유), numbers ending in 0, 3, 6 (a final consonant)
# and in 2, 4 (none).
KOREAN_CLAIMS = [
    ("different_steps", {"steps": [("LSTM", 2000), ("GRU", 3000)]}),
    (
        "level",
        {"a": "LSTM", "a_bpc": 2.460, "b": "GRU", "b_bpc": 2.472, "gap": 0.012, "share": 0.005, **_MARGIN},
    ),
    (
        "level",
        {"a": "GRU", "a_bpc": 2.462, "b": "LSTM", "b_bpc": 2.473, "gap": 0.011, "share": 0.004, **_MARGIN},
    ),
    (
        "better",
        {"a": "GRU", "a_bpc": 1.800, "b": "LSTM", "b_bpc": 2.000, "gap": 0.2, "share": 0.1, **_MARGIN},
    ),
    (
        "same_tokenizer",
        {"tokenizer": "char", "n": 2, "losses": [("LSTM", 1.716, 5.56), ("GRU", 1.703, 5.49)]},
    ),
    (
        "same_tokenizer",
        {"tokenizer": "bpe", "n": 3, "losses": [("LSTM", 1.7, 5.5), ("GRU", 1.6, 5.0), ("gpt", 1.5, 4.5)]},
    ),
    ("different_tokenizers", {"tokenizers": ["char", "word"]}),
    (
        "throughput",
        {
            "fast": "LSTM",
            "fast_tps": 30160.0,
            "slow": "GRU",
            "slow_tps": 16886.0,
            "device": "cuda",
            "ratio": 1.786,
        },
    ),
    (
        "throughput",
        {"fast": "GRU", "fast_tps": 300.0, "slow": "LSTM", "slow_tps": 100.0, "device": None, "ratio": 3.0},
    ),
    ("equal_time", {"time": 67.9, "first": "LSTM", "ranked": [("LSTM", 2.526), ("GRU", 2.730)]}),
    ("size", {"big": "GRU", "big_params": 809_856, "small": "LSTM", "small_params": 536_960, "ratio": 1.508}),
    ("generation", {"speeds": [("LSTM", 2266.0), ("GRU", 1570.0), ("gpt", 569.0)]}),
    ("overfitting", {"name": "GRU", "best": 1.700, "best_step": 1500, "last": 1.724}),
    ("overfitting", {"name": "LSTM", "best": 1.700, "best_step": 1500, "last": 1.726}),
    ("generalisation_gap", {"name": "LSTM", "gap": 0.16}),
    ("context_gain", {"name": "LSTM", "first": 2.603, "late": 1.704, "gain": 0.899, "n": 64}),
    ("context_gain", {"name": "GRU", "first": 1.700, "late": 1.712, "gain": -0.012, "n": 256}),
    ("curves_together", {"a": "LSTM", "b": "GRU", "end_gap": 0.088, "most": 0.186}),
    (
        "curves_part",
        {"lower": "GRU", "higher": "LSTM", "start": 1, "n": 64, "threshold": 0.05, "end_gap": 0.3},
    ),
    (
        "curves_part",
        {"lower": "LSTM", "higher": "GRU", "start": 33, "n": 64, "threshold": 0.05, "end_gap": 0.2},
    ),
    (
        "guide_better",
        {
            **_GUIDE,
            **_MARGIN,
            "same_steps": True,
            "params_ratio": 1.5,
            "time": {**_AXIS, "winner": "LSTM"},
            "flops": {**_AXIS, "at": 6.54e12},
            "steps_winner": "GRU",
            "verdict": "mixed",
        },
    ),
    (
        "guide_better",
        {
            **_GUIDE,
            **_MARGIN,
            "same_steps": True,
            "params_ratio": 1.0,
            "time": {"at": None},
            "flops": {**_AXIS, "at": 6.54e12, "winner": "GRU"},
            "steps_winner": None,
            "verdict": "supports",
        },
    ),
    (
        "guide_better",
        {
            **_GUIDE,
            **_MARGIN,
            "same_steps": False,
            "params_ratio": 1.0,
            "time": {"at": None},
            "flops": {"at": None},
            "steps_winner": None,
            "verdict": "cannot_tell",
        },
    ),
    (
        "guide_converges",
        {
            "rnn": "LSTM",
            "gpt": "GRU",
            "early": [(200, 3.302, 3.236), (400, 2.9, 2.95)],
            "mean_gap": 0.008,
            "verdict": "within_noise",
            **_MARGIN,
        },
    ),
    (
        "guide_converges",
        {"rnn": "LSTM", "gpt": "GRU", "early": [], "mean_gap": None, "verdict": "cannot_tell", **_MARGIN},
    ),
    (
        "guide_longer",
        {
            "rnn": "LSTM",
            "gpt": "GRU",
            "start_gap": 0.056,
            "end_gap": 0.005,
            "n": 64,
            "verdict": "contradicts",
            "noise_sd": 0.019,
            "noise_basis": "evaluation",
        },
    ),
    (
        "guide_longer",
        {
            "rnn": "LSTM",
            "gpt": "GRU",
            "start_gap": None,
            "end_gap": None,
            "verdict": "cannot_tell",
            **_MARGIN,
        },
    ),
    *[
        (
            "carried_context",
            {
                "name": "LSTM",
                "carried_bpc": 2.479,
                "reset_bpc": 2.479 + gain,
                "gain": gain,
                "noise_sd": 0.0015,
                "reset_every": 64,
                "verdict": verdict,
            },
        )
        for gain, verdict in ((0.048, "helps"), (-0.03, "hurts"), (0.001, "within_noise"))
    ],
    ("no_scores", {}),
    ("sweep_best", {"name": "GRU", "arch": "gru", "tokenizer": "char", "bits_per_char": 2.325}),
    ("sweep_worst", {"name": "LSTM", "bpc": 2.460, "gap": 0.135, "share": 0.054}),
    ("sweep_worst", {"name": "GRU", "bpc": 2.462, "gap": 0.136, "share": 0.056}),
    ("sweep_fastest", {"name": "GRU", "tps": 35414.0, "slow": "LSTM", "ratio": 3.8}),
    ("sweep_smallest", {"name": "LSTM", "params": 140_672, "bpc": 2.466}),
    (
        "context_sweep",
        {
            "gaps": [(32, 0.069), (64, 0.045), (128, 0.0)],
            "change": -0.069,
            "verdict": "within_noise",
            "noise_sd": 0.0645,
            "noise_basis": "seeds",
        },
    ),
    (
        "context_sweep",
        {
            "gaps": [(32, 0.05), (128, 0.3)],
            "change": 0.25,
            "verdict": "supports",
            "noise_sd": 0.01,
            "noise_basis": "threshold",
        },
    ),
]
# What may stay Latin in a Korean sentence: the names above, units, code and file names.
_NOT_PROSE = {"LSTM", "GRU", "gpt", "gru", "char", "word", "bpe", "cuda", "nats", "FLOPs", "e", "max_iters"}
_NOT_PROSE |= {"eval_interval", "sweeps/sizes.yaml", "sweeps/context.yaml"}


def _claim(key, **match):
    """The (key, values) of KOREAN_CLAIMS with this key and these values."""
    return next(
        (k, v)
        for k, v in KOREAN_CLAIMS
        if k == key and all(v.get(n, object()) == x for n, x in match.items())
    )


def _korean(key, values):
    from lmhelpers.reading import Claim
    from lmhelpers.sentences import render

    return render(Claim(key, values), "ko")


def test_every_claim_reads_in_korean_with_no_english_prose_and_every_particle_fitted():
    from lmhelpers.sentences import SENTENCES

    assert {key for key, _ in KOREAN_CLAIMS} == set(SENTENCES)
    for key, values in KOREAN_CLAIMS:
        text = _korean(key, values)
        assert re.search("[가-힣]", text), (key, text)
        assert set(re.findall(r"[A-Za-z][A-Za-z_./]*", text)) <= _NOT_PROSE, (key, text)
        assert not re.search(r"이\(가\)|은\(는\)|을\(를\)|과\(와\)|\(으\)로|\(이\)", text), (key, text)


@pytest.mark.parametrize(
    "key, values, korean",
    [
        (
            *_claim("level", a="LSTM"),
            "LSTM과 GRU의 검증 텍스트 점수는 잡음 범위 안에서 같습니다. 글자당 비트 수는 각각 2.460, 2.472로, 차이 "
            "0.012는 허용 범위 ±0.246 안에 있습니다(이 프리셋에서 잰 시드 간 표준편차의 두 배, 해당하는 경우 평가 오차 포함).",
        ),
        (
            *_claim("level", a="GRU"),
            "GRU와 LSTM의 검증 텍스트 점수는 잡음 범위 안에서 같습니다. 글자당 비트 수는 각각 2.462, 2.473으로, 차이 "
            "0.011은 허용 범위 ±0.246 안에 있습니다(이 프리셋에서 잰 시드 간 표준편차의 두 배, 해당하는 경우 평가 오차 포함).",
        ),
        (
            *_claim("better"),
            "검증 텍스트에서 GRU는 글자당 1.800비트, LSTM은 2.000비트입니다. GRU가 글자당 0.200비트(10.0%) 덜 쓰며, 이 "
            "차이는 허용 범위 ±0.246보다 큽니다(이 프리셋에서 잰 시드 간 표준편차의 두 배, 해당하는 경우 평가 오차 포함).",
        ),
        (
            *_claim("throughput", device="cuda"),
            "학습 처리량은 LSTM이 초당 30,160토큰, GRU가 초당 16,886토큰으로, cuda에서 LSTM이 1.8배 빠릅니다.",
        ),
        (
            *_claim("throughput", device=None),
            "학습 처리량은 GRU가 초당 300토큰, LSTM이 초당 100토큰으로, 이 장치에서 GRU가 3.0배 빠릅니다.",
        ),
        (
            *_claim("overfitting", name="GRU"),
            "GRU는 과적합되고 있습니다. 검증 손실이 1,500 스텝의 1.700에서 1.724로 올랐습니다. 스텝 수를 줄이거나 "
            "드롭아웃을 늘리면 나아집니다.",
        ),
        (
            *_claim("overfitting", name="LSTM"),
            "LSTM은 과적합되고 있습니다. 검증 손실이 1,500 스텝의 1.700에서 1.726으로 올랐습니다. 스텝 수를 줄이거나 "
            "드롭아웃을 늘리면 나아집니다.",
        ),
        (
            *_claim("curves_part", start=33),
            "위치별 손실 곡선은 64개 위치 중 33번째 위치부터 갈라집니다. 창 끝까지 LSTM이 GRU보다 0.05 nats 넘게 "
            "낮습니다(위치 64에서 0.200 nats 차이).",
        ),
        (
            *_claim("guide_better", verdict="mixed"),
            '원래 가이드는 "트랜스포머가 대체로 더 낫다"고 예상했습니다. 이번 실행의 결과는 엇갈립니다. 같은 스텝에서 '
            "검증 텍스트 전체로 잰 글자당 비트 수는 GRU 2.460, LSTM 2.476입니다. 차이 0.016이 허용 범위 ±0.246보다 "
            "크므로 GRU가 앞섭니다(이 프리셋에서 잰 시드 간 표준편차의 두 배, 해당하는 경우 평가 오차 포함). 같은 학습 "
            "시간(67.9초, 그림의 가로축과 같은 기준)에서 곡선의 값은 GRU 2.730, LSTM 2.526으로 LSTM이 앞섭니다. 같은 "
            "학습 연산량(6.54e+12 FLOPs)에서는 GRU 2.730, LSTM 2.526으로, 차이가 잡음 범위 안에 있습니다. 곡선 비교의 "
            "허용 범위는 ±0.260입니다. 다만 GRU의 파라미터 수가 LSTM의 1.5배여서, 크기가 같을 때도 그런지는 이번 "
            "실행으로 알 수 없습니다(sweeps/sizes.yaml에서 크기를 바꿔 볼 수 있습니다).",
        ),
        (
            *_claim("sweep_worst", name="LSTM"),
            "글자당 비트 수가 가장 높은 실행은 LSTM입니다. 값은 2.460으로, 가장 좋은 실행보다 글자당 0.135비트(5%) "
            "많습니다.",
        ),
        (
            *_claim("sweep_worst", name="GRU"),
            "글자당 비트 수가 가장 높은 실행은 GRU입니다. 값은 2.462로, 가장 좋은 실행보다 글자당 0.136비트(6%) "
            "많습니다.",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else "",
)
def test_korean_sentences_word_by_word(key, values, korean):
    assert _korean(key, values) == korean


def test_the_english_reading_does_not_change_with_the_catalog():
    from lmhelpers.reading import Claim
    from lmhelpers.sentences import render

    assert (
        render(Claim(*_claim("throughput", device=None)), "en")
        == "GRU trains on 300 tokens per second and LSTM on 100 (3.0x on this device)."
    )
    flops_only = render(Claim(*_claim("guide_better", verdict="supports")), "en")
    assert (
        "so the gap is within noise. At equal training compute (6.54e+12 FLOPs) the curves stand at GRU"
        in flops_only
    )
    assert flops_only.endswith(
        "GRU is ahead (curve margin ±0.260). The sizes are close (1.00x), so the comparison is also at about equal parameters."
    )
