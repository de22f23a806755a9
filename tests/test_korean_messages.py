"""What a learner meets when something is wrong, in the learner's language: each error and message below
is triggered through the public API (or the command line) in a Korean run, and its Korean text is
compared whole, particles fitted to the values included ("n_head=4로", "n_head=3으로", "`cpu`로",
"**1.230**으로"); the same call in an English run still says the English text.
"""

from __future__ import annotations

import contextlib
import io

import pytest
import torch

from lmhelpers import notebook as nbh
from lmhelpers.checkpoint import config_differences
from lmhelpers.cli import main
from lmhelpers.config import SETTINGS, ConfigError, ModelConfig, make_config
from lmhelpers.device import DeviceError, pick_device, recommend_preset
from lmhelpers.language import message
from lmhelpers.progress import eval_line
from lmhelpers.tokenizers import TokenizerError, train_tokenizer

VALID = list(SETTINGS)
KINDS = "['char', 'word', 'bpe', 'gpt2']"


@pytest.fixture()
def korean(monkeypatch):
    monkeypatch.setattr("lmhelpers.language._default", ["ko"])


@pytest.fixture()
def english(monkeypatch):
    monkeypatch.setattr("lmhelpers.language._default", ["en"])


def _error(call, kind=Exception) -> str:
    with pytest.raises(kind) as err:
        call()
    return str(err.value)


def test_an_unknown_setting_names_the_close_one(korean):
    text = _error(lambda: make_config("smoke", n_layers=2), ConfigError)
    assert text == f"알 수 없는 설정 'n_layers'입니다 ('n_layer'의 오타인가요?). 쓸 수 있는 설정: {VALID}"
    text = _error(lambda: make_config("smoke", **{"train.n_layer": 2}), ConfigError)
    assert text == f"알 수 없는 설정 'train.n_layer'입니다 ('n_layer'라고 쓰세요). 쓸 수 있는 설정: {VALID}"


def test_an_unknown_setting_in_english(english):
    text = _error(lambda: make_config("smoke", n_layers=2), ConfigError)
    assert text == f"unknown setting 'n_layers' (did you mean 'n_layer'?); valid settings: {VALID}"


def test_an_invalid_value_says_what_is_allowed_with_the_particle_fitted(korean):
    text = _error(lambda: ModelConfig(n_embd=30, n_head=4), ConfigError)
    assert text == (
        "model.n_embd=30 값은 쓸 수 없습니다. 허용되는 값: n_head=4로 나누어떨어지는 수(헤드마다 n_embd // n_head "
        "차원을 받습니다)"
    )
    assert "n_head=3으로 나누어떨어지는 수" in _error(lambda: ModelConfig(n_embd=32, n_head=3), ConfigError)
    with pytest.raises(ConfigError) as err:
        make_config("smoke", tokenizer="sentencepiece")
    assert (
        str(err.value) == f"data.tokenizer='sentencepiece' 값은 쓸 수 없습니다. 허용되는 값: {KINDS} 중 하나"
    )
    # the attributes code reads stay as they were: the field, the value, the English range
    assert (err.value.field, err.value.value) == ("tokenizer", "sentencepiece")
    assert (
        err.value.allowed == f"choose one of {KINDS}" and err.value.allowed.said("ko") == f"{KINDS} 중 하나"
    )


def test_an_invalid_value_in_english(english):
    text = _error(lambda: ModelConfig(n_embd=30, n_head=4), ConfigError)
    assert (
        text
        == "model.n_embd=30 is invalid: must be divisible by n_head=4 (each head gets n_embd // n_head dims)"
    )
    text = _error(lambda: make_config("smoke", min_lr=1.0), ConfigError)
    assert text == "train.min_lr=1.0 is invalid: None or a number in [0, learning_rate=0.001]"


def test_a_notebook_parameter_error(korean):
    text = _error(lambda: nbh.notebook_config("smoke", max_iters="ten"), nbh.ParameterError)
    assert text == "매개변수 max_iters='ten' 값을 쓸 수 없습니다. 허용되는 값: 양의 정수"
    text = _error(lambda: nbh.notebook_config("huge"), nbh.ParameterError)
    presets = "['smoke', 'cpu', 'nanogpt-cpu', 't4', 'reference']"
    assert text == f"매개변수 preset='huge' 값을 쓸 수 없습니다. 허용되는 값: {presets} 중 하나"
    # a preset's n_embd broken by another parameter: the names, then the setting's own message
    text = _error(
        lambda: nbh.notebook_config("smoke", settings={"block_size": 16, "n_head": 3}), nbh.ParameterError
    )
    assert text.startswith(
        "매개변수 ['block_size', 'n_head']가 서로 맞지 않습니다: model.n_embd=32 값은 쓸 수 없습니다."
    )
    assert "n_head=3으로 나누어떨어지는 수" in text


def test_a_notebook_parameter_error_in_english(english):
    text = _error(lambda: nbh.notebook_config("smoke", max_iters="ten"), nbh.ParameterError)
    assert text == "parameter max_iters='ten' is invalid: a positive integer"
    text = _error(lambda: nbh.use_language("fr"), nbh.ParameterError)
    assert text == "parameter language='fr' is invalid: choose one of ['en', 'ko']"


def test_text_the_tokenizer_cannot_encode(korean):
    char = train_tokenizer("char", "abc")
    text = _error(lambda: char.encode("abZ가"), TokenizerError)
    assert text == (
        "char 어휘에 없는 글자가 2개 있습니다: 'Z', '가'. 이 토크나이저는 이 글자들이 없는 텍스트로 학습했습니다. "
        "입력에서 빼거나, 이 글자들이 든 텍스트로 다시 학습하세요."
    )
    word = train_tokenizer("word", "the cat sat on the mat " * 5, 10)
    text = _error(lambda: word.check_prompt("Zorblax quux"), TokenizerError)
    assert text.startswith(
        "프롬프트 'Zorblax quux'의 단어가 모두 이 word 토크나이저의 어휘 밖에 있어서('Zorblax', 'quux')"
    )
    text = _error(lambda: word.check_prompt("?!"), TokenizerError)
    assert text.startswith("프롬프트 '?!'의 조각이 모두")  # 단어가, 조각이: the particle follows the word
    text = _error(lambda: nbh.text_parameter("prompt", "abZ", char, "abc"), nbh.ParameterError)
    assert text.startswith(
        "매개변수 prompt='abZ'는 여기서 쓸 수 없습니다: char 어휘에 없는 글자가 1개 있습니다: 'Z'."
    )
    assert text.endswith(
        "다시 학습하세요. prompt = None으로 두면 말뭉치의 한 줄을 쓰고, 직접 고를 때는 말뭉치에 있는 글자와 단어로 된 텍스트를 고르세요."
    )


def test_text_the_tokenizer_cannot_encode_in_english(english):
    text = _error(lambda: train_tokenizer("char", "abc").encode("abZ"), TokenizerError)
    assert text.startswith(
        "1 character(s) not in the char vocabulary: 'Z'. This tokenizer was trained on a text"
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_a_gpu_that_is_not_there(korean):
    text = _error(lambda: pick_device("cuda"), DeviceError)
    assert text == (
        "device='cuda'를 요청했지만 CUDA GPU가 보이지 않습니다. device='auto'를 쓰거나(GPU가 없으면 CPU를 씁니다), "
        "Colab에서는 런타임 > 런타임 유형 변경 > T4 GPU를 고른 뒤 다시 실행하세요."
    )


def test_the_preset_advice_and_the_progress_line(korean):
    small = recommend_preset({"device": "cuda", "gpu_memory_gb": 8, "device_name": "T1000"})
    assert small == ("cpu", "T1000의 메모리가 8 GB뿐입니다. `cpu`로 시작하세요.")  # not `cpu`으로
    row = {"step": 200, "train_loss": 1.2345, "val_loss": 1.75, "train_time": 12.0}
    assert (
        eval_line(row, 1000)
        == "스텝 200/1,000 | 학습 손실 1.234 | 검증 손실 1.750 | 학습 12초 | 약 48초 남음"
    )
    assert "**1.230**으로," in message("leak_gap", steps=100, leaky=1.23, gap=0.5, fixed=1.73)  # not 1.230로


def test_the_preset_advice_and_the_progress_line_in_english(english):
    small = recommend_preset({"device": "cuda", "gpu_memory_gb": 8, "device_name": "T1000"})
    assert small == ("cpu", "T1000 has only 8 GB: start with `cpu`.")
    row = {"step": 200, "train_loss": 1.2345, "val_loss": 1.75, "train_time": 12.0}
    assert (
        eval_line(row, 1000)
        == "step 200/1,000 | train loss 1.234 | val loss 1.750 | 12 s training | ~48 s left"
    )


def test_a_checkpoint_of_another_run_names_the_differences(korean):
    saved, wanted = make_config("smoke"), make_config("smoke", n_layer=2, tokenizer="word")
    assert config_differences(saved, wanted) == [
        "data.tokenizer: 체크포인트 'char', 이 실행 'word'",
        "model.n_layer: 체크포인트 1, 이 실행 2",
    ]


def test_a_checkpoint_of_another_run_in_english(english):
    saved, wanted = make_config("smoke"), make_config("smoke", n_layer=2)
    assert config_differences(saved, wanted, "record") == ["model.n_layer: record 1, this run 2"]


def _command_line(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(list(argv))
    return rc, err.getvalue()


def test_the_command_line_says_its_error_in_korean(korean, tmp_path):
    rc, err = _command_line("train", "--preset", "smoke", "--set", "n_layers=2", "--out", str(tmp_path))
    assert rc == 2
    assert (
        err == f"오류: 알 수 없는 설정 'n_layers'입니다 ('n_layer'의 오타인가요?). 쓸 수 있는 설정: {VALID}\n"
    )
    rc, err = _command_line("train", "--preset", "smoke", "--set", "n_layer", "--out", str(tmp_path))
    assert (rc, err) == (2, "오류: --set에는 이름=값 꼴로 적어야 합니다. 받은 값: 'n_layer'\n")


def test_the_command_line_says_its_error_in_english(english, tmp_path):
    rc, err = _command_line("train", "--preset", "smoke", "--set", "n_layers=2", "--out", str(tmp_path))
    assert rc == 2
    assert err == f"error: unknown setting 'n_layers' (did you mean 'n_layer'?); valid settings: {VALID}\n"
