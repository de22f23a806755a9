"""Every exercise check accepts its reference solution, rejects a typical wrong answer, and reports
learners' mistakes (exceptions, shapes, missing returns) as hints; every solution matches the real thing."""

from __future__ import annotations

import math
import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lmhelpers import bpe, solutions
from lmhelpers.config import ModelConfig, make_config
from lmhelpers.exercises import EXERCISES, CheckResult, assert_close, check, exercise_table
from lmhelpers.models import build_model
from lmhelpers.sweep import load_sweep
from lmhelpers.transformer import CausalSelfAttention


# ------------------------------------------------------------------------------ typical wrong answers
def _no_position_table(n_layer, n_embd, vocab_size, block_size, bias, tie_weights):
    return solutions.transformer_params(n_layer, n_embd, vocab_size, block_size, bias, tie_weights) - (
        block_size * n_embd
    )


def _overlapping_merge(ids, pair, new_id):
    out = []
    for i, a in enumerate(ids):  # replaces at every position, so (1, 1) in [1, 1, 1] is found twice
        if i + 1 < len(ids) and (a, ids[i + 1]) == pair:
            out.append(new_id)
        elif not (i > 0 and (ids[i - 1], a) == pair):
            out.append(a)
    return out


def _lstm_ifog(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, o, g = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)  # wrong gate order
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _mask_after_softmax(scores):
    T = scores.size(-1)
    return scores.softmax(dim=-1) * torch.ones(T, T).tril()


def _unscaled_head(x, W_q, W_k, W_v):
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    return solutions.masked_softmax(q @ k.transpose(-2, -1)) @ v


def _heads_not_transposed_back(x, W_qkv, W_proj, n_head):
    B, T, C = x.shape
    q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (x @ W_qkv.T).split(C, dim=-1))
    y = solutions.masked_softmax(q @ k.transpose(-2, -1) / math.sqrt(C // n_head)) @ v
    return y.reshape(B, T, C) @ W_proj.T  # [B, n_head, T, hd] reshaped as if it were [B, T, n_head, hd]


def _previous_point(times, losses, t):
    return next(l0 for t0, t1, l0 in zip(times, times[1:], losses) if t0 <= t <= t1)


def _last_key_slowest(grid):
    return [dict(reversed(list(run.items()))) for run in solutions.grid_runs(dict(reversed(grid.items())))]


WRONG = {
    "transformer_params": _no_position_table,
    "logits_bytes": lambda B, T, V: B * T * V,  # a count of numbers, not bytes
    "count_pairs": lambda ids: {p: 1 for p in zip(ids, ids[1:])},  # each pair once
    "merge": _overlapping_merge,
    "bits_per_char": lambda loss, n_tokens, n_chars: loss * n_tokens / n_chars,  # nats, not bits
    "rnn_step": lambda x, h, W_ih, W_hh, b_ih, b_hh: torch.tanh(x @ W_ih.T + h @ W_hh.T + b_ih),  # no b_hh
    "lstm_step": _lstm_ifog,
    "causal_average": lambda x: torch.ones(x.size(1), x.size(1)).tril() / x.size(1) @ x,  # divides by T
    "masked_softmax": _mask_after_softmax,
    "attention_head": _unscaled_head,
    "multi_head": _heads_not_transposed_back,
    "apply_temperature": lambda logits, t: (logits * t).softmax(dim=-1),
    "perplexity": lambda loss: 2**loss,
    "loss_at_time": _previous_point,
    "grid_runs": _last_key_slowest,
}


def test_every_exercise_has_a_solution_and_a_wrong_answer():
    assert set(WRONG) == set(EXERCISES)
    for name, ex in EXERCISES.items():
        assert callable(getattr(solutions, name))
        assert ex.notebook in {"00", "01", "02", "03", "04", "05"}
        assert ex.signature.startswith(f"{name}(") and ex.description


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_check_accepts_the_solution(name):
    result = EXERCISES[name].check(getattr(solutions, name))
    assert result, str(result)
    assert str(result) == repr(result) == f"correct: {name} ({result.cases} cases)"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_check_rejects_a_wrong_answer_with_a_hint(name):
    result = EXERCISES[name].check(WRONG[name])
    assert not result and result.failed_case is not None
    text = str(result)
    assert text.startswith(f"not yet: {name}, case {result.failed_case} of {result.cases}")
    assert "\nhint: " in text


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("lstm_step", "input, forget, cell candidate g, output"),
        ("attention_head", "sqrt(head_size)"),
        ("rnn_step", "max absolute difference"),
        ("transformer_params", "off by -"),
        ("count_pairs", "they differ at (1, 1): yours 1, expected 2"),
        ("merge", "returned [9, 9], expected [9, 1]; first difference at index 1"),
        ("apply_temperature", "not multiply"),
    ],
)
def test_hints_say_what_is_wrong(name, says):
    assert says in str(check(name, WRONG[name]))


# ------------------------------------------------------------------------------ learners' mistakes
def test_an_exception_becomes_a_hint_naming_it():
    def rnn_step(x, h, W_ih, W_hh, b_ih, b_hh):
        return torch.tanh(x @ W_ih + h @ W_hh.T + b_ih + b_hh)  # W_ih is [hidden, input]: needs .T

    result = check("rnn_step", rnn_step)
    assert not result and result.failed_case == 1
    assert "raised RuntimeError" in str(result) and "x @ W_ih + h @ W_hh.T" in str(result)
    assert "Traceback" not in str(result)


def test_a_wrong_shape_is_reported_as_such():
    result = check(
        "rnn_step", lambda x, h, W_ih, W_hh, b_ih, b_hh: solutions.rnn_step(x, h, W_ih, W_hh, b_ih, b_hh).T
    )
    assert "wrong shape: expected [3, 5], got [5, 3]" in str(result)


def test_missing_return_unwritten_function_and_non_function():
    assert "forget `return`" in str(check("merge", lambda ids, pair, new_id: None))

    def merge(ids, pair, new_id):
        raise NotImplementedError("your code here")

    assert "not written yet" in str(check("merge", merge))
    assert "needs your function itself" in str(check("merge", merge.__name__))


def test_nan_and_future_leaks_in_attention_weights():
    def diagonal_masked(scores):  # off by one: a token may not see itself, row 0 has nothing left
        T = scores.size(-1)
        return scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(), float("-inf")).softmax(-1)

    assert "NaN" in str(check("masked_softmax", diagonal_masked))

    def soft_mask(scores):  # -30 instead of -inf: within tolerance, but the future still leaks
        T = scores.size(-1)
        return scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), -30.0).softmax(-1)

    assert "must be exactly 0" in str(check("masked_softmax", soft_mask))


def test_inputs_are_copies_and_the_global_random_state_is_untouched():
    def merge_in_place(ids, pair, new_id):
        result = solutions.merge(ids, pair, new_id)
        ids.clear()
        return result

    before = torch.get_rng_state()
    assert check("merge", merge_in_place)
    for name in EXERCISES:
        check(name, getattr(solutions, name))
    assert torch.equal(before, torch.get_rng_state())


def test_registry_helpers():
    assert isinstance(check("perplexity", solutions.perplexity), CheckResult)
    with pytest.raises(KeyError, match="no exercise named 'merg'"):
        check("merg", solutions.merge)
    table = exercise_table("03")
    assert "`multi_head(x, W_qkv, W_proj, n_head) -> Tensor`" in table and "merge" not in table
    assert all(f"`{name}(" in exercise_table() for name in EXERCISES)


# ------------------------------------------------------------------------------ assert_close
def test_assert_close_prints_a_match_and_stops_on_a_difference(capsys):
    cfg = ModelConfig(
        arch="transformer", n_layer=1, n_head=2, n_embd=8, block_size=5, dropout=0.0, bias=False
    )
    attn = CausalSelfAttention(cfg).eval()
    x = torch.randn(2, 5, 8)
    real = attn(x)[0]
    mine = solutions.multi_head(x, attn.qkv.weight, attn.proj.weight, 2)
    assert_close("CausalSelfAttention", mine, real)
    assert capsys.readouterr().out.startswith("matches CausalSelfAttention (max difference ")
    with pytest.raises(AssertionError, match="does not match CausalSelfAttention: max absolute difference"):
        assert_close("CausalSelfAttention", mine + 1e-3, real)
    with pytest.raises(AssertionError, match=r"wrong shape: expected \[2, 5, 8\], got \[2, 8, 5\]"):
        assert_close("CausalSelfAttention", mine.transpose(1, 2), real)
    assert_close("the merge", [9, 1], [9, 1])
    assert capsys.readouterr().out == "matches the merge (identical)\n"


# ------------------------------------------------------------------------------ solutions vs the real thing
@pytest.mark.parametrize("preset", ["smoke", "cpu", "nanogpt-cpu"])
@pytest.mark.parametrize("tie", [True, False])
def test_transformer_params_matches_build_model_at_preset_sizes(preset, tie):
    m = make_config(preset, arch="transformer", tie_weights=tie).model
    model = build_model(ModelConfig(**{**vars(m), "vocab_size": 65}))
    expected = sum(p.numel() for p in model.parameters())
    assert solutions.transformer_params(m.n_layer, m.n_embd, 65, m.block_size, m.bias, tie) == expected


def test_bpe_solutions_match_the_package_bpe_and_known_answers():
    assert solutions.merge([1, 1, 1], (1, 1), 9) == [9, 1]
    assert solutions.merge([1, 2, 1, 2], (1, 2), 7) == [7, 7]
    assert solutions.count_pairs([1, 1, 1]) == {(1, 1): 2}
    merge_word = getattr(bpe, "_merge_word", None)
    pairs = getattr(bpe, "_pairs", None)
    if merge_word is None or pairs is None:
        pytest.skip("lmhelpers.bpe no longer has _merge_word/_pairs to compare with")
    rng = random.Random(0)
    for _ in range(200):
        ids = [rng.randrange(3) for _ in range(rng.randint(0, 12))]
        pair = (rng.randrange(3), rng.randrange(3))
        assert solutions.merge(ids, pair, 99) == merge_word(ids, pair, 99)
        assert solutions.count_pairs(ids) == dict(pairs(ids))


def test_grid_runs_matches_how_a_sweep_expands_its_grid(tmp_path):
    (tmp_path / "a.ipynb").write_text("{}")
    grid = {"arch": ["rnn", "gru"], "n_layer": [1, 2, 3], "seed": [7, 8]}
    lines = [f"  {k}: [{', '.join(map(str, v))}]" for k, v in grid.items()]
    (tmp_path / "s.yaml").write_text("notebooks: [a.ipynb]\ngrid:\n" + "\n".join(lines) + "\n")
    assert [r.parameters for r in load_sweep(tmp_path / "s.yaml")] == solutions.grid_runs(grid)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0.1, 10.0), min_size=2, max_size=6),
    st.lists(st.floats(0.5, 5.0), min_size=6, max_size=6),
    st.floats(0.0, 1.0),
)
def test_loss_at_time_matches_numpy_interp(steps, losses, where):
    import numpy as np

    times = list(np.cumsum(steps))
    losses = losses[: len(times)]
    t = times[0] + where * (times[-1] - times[0])
    assert solutions.loss_at_time(times, losses, t) == pytest.approx(float(np.interp(t, times, losses)))


# ------------------------------------------------------------------------------ docs/model_contract.md
def test_the_model_contract_example_trains_checks_and_generates():
    import re
    from pathlib import Path

    from lmhelpers import metrics
    from lmhelpers.data import TokenDataset
    from lmhelpers.generation import generate
    from lmhelpers.models import model_summary
    from lmhelpers.tokenizers import train_tokenizer
    from lmhelpers.training import Trainer

    doc = (Path(__file__).resolve().parents[1] / "docs" / "model_contract.md").read_text(encoding="utf-8")
    example = next(b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "class AveragingLM" in b)
    namespace: dict = {}
    exec(example, namespace)
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\nAll:\nSpeak, speak.\n" * 30
    tokenizer = train_tokenizer("char", text, 100)
    dataset = TokenDataset.from_text(text[:1500], text[1500:], tokenizer)
    config = make_config("smoke", max_iters=2, eval_interval=2, eval_iters=1, device="cpu")
    config = config.override(**{"model.vocab_size": tokenizer.vocab_size})
    model = namespace["AveragingLM"](config.model)
    history = Trainer(model, dataset, config, progress=False).fit()
    assert math.isfinite(history[-1]["val_loss"])
    assert metrics.causality_check(model) < 1e-5
    prompt = tokenizer.encode("First")
    cached = generate(model, prompt, 40, seed=0)
    assert torch.equal(cached, generate(model, prompt, 40, seed=0, use_cache=False))
    summary = model_summary(model)
    assert summary["params"] > summary["non_embedding_params"] == 0
