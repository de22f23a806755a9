"""Bad input, end to end: each case goes in through the public API (make_config, prepare_data,
run_experiment, sample_text, Trainer.resume, the command line) and must fail at once with an error of
the right type whose message says what to change, leaving no artefact (record, checkpoint) behind.

Cases asserted elsewhere, and not repeated here:

* unknown preset, unknown setting names (``make_config``): test_config.py::test_unknown_names_list_valid_ones
* output directory that cannot be written (``run_experiment``):
  test_experiment.py::test_unwritable_output_is_found_before_training
* checkpoint of another configuration or tokenizer (``Trainer.resume``):
  test_training.py::test_resume_refuses_another_configuration, ::test_resume_refuses_another_tokenizer
* ``device="cuda"`` without a GPU (``pick_device``): test_device.py::test_cuda_without_gpu_is_a_clear_error
* non-positive max_new_tokens, top_k and top_p out of range (``generate``):
  test_generation.py::test_invalid_arguments
* damaged and code-carrying checkpoint files (``load_checkpoint``): test_checkpoint.py
* a corrupt or foreign tokenizer file (``load_tokenizer``): test_tokenizers.py::test_load_errors

The two documented non-errors, a prompt longer than the context window (cropped, with a warning) and
temperature <= 0 (greedy decoding), are tested at the end.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from lmhelpers import experiment
from lmhelpers.checkpoint import CheckpointError
from lmhelpers.cli import main
from lmhelpers.config import ConfigError, ModelConfig, make_config
from lmhelpers.data import DataError
from lmhelpers.device import DeviceError
from lmhelpers.experiment import prepare_data, run_experiment, with_vocab
from lmhelpers.generation import PromptCroppedWarning, generate, sample_text
from lmhelpers.models import build_model
from lmhelpers.tokenizers import TokenizerError, load_tokenizer, train_tokenizer
from lmhelpers.training import Trainer

CORPUS = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n\n"
) * 20
NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")


class CommandFailed(Exception):
    """The command line returned a non-zero status; the exception text is what it printed on stderr."""


@dataclass
class Ctx:
    root: Path
    corpus: Path  # a good corpus
    out: Path  # where a run may write; must hold no files after a failure
    checkpoint: Path  # a copy of a finished smoke run's checkpoint (gru, char tokenizer)
    word_model: torch.nn.Module  # an untrained Transformer with a 16-token context ...
    word_tok: object  # ... and its word tokenizer (small vocabulary)

    def file(self, name: str, content: bytes) -> str:
        path = self.root / name
        path.write_bytes(content)
        return str(path)

    def cfg(self, **over):
        settings = dict(dataset=str(self.corpus), max_iters=2, eval_interval=1)
        return make_config("smoke", **{**settings, **over})

    def run(self, cfg, **kw):
        return run_experiment(cfg, self.out, progress=False, **kw)

    def resume(self, cfg):
        return self.run(cfg, checkpoint_path=self.checkpoint, resume=True)

    def sample(self, prompt: str = "Speak", **kw):
        return sample_text(self.word_model, self.word_tok, prompt, **{"max_new_tokens": 5, **kw})

    def cli(self, *argv: str, out: str | None = None) -> None:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                rc = main([*argv, "--out", out or str(self.out), "--no-progress"])
            except SystemExit as exc:  # argparse refuses unknown choices itself
                rc = exc.code
        if rc != 0:
            raise CommandFailed(err.getvalue())


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A checkpoint from a 2-step gru run on the char tokenizer, for the resume cases."""
    root = tmp_path_factory.mktemp("finished")
    (root / "corpus.txt").write_text(CORPUS, encoding="utf-8")
    cfg = make_config("smoke", dataset=str(root / "corpus.txt"), arch="gru", max_iters=2, eval_interval=1)
    run_experiment(cfg, root / "run", progress=False)
    return root / "run" / "checkpoint.pt"


@pytest.fixture()
def ctx(tmp_path, finished_run) -> Ctx:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    checkpoint = tmp_path / "previous" / "checkpoint.pt"
    checkpoint.parent.mkdir()
    shutil.copy(finished_run, checkpoint)
    tok = train_tokenizer("word", CORPUS, 40)
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(n_layer=1, n_head=2, n_embd=16, block_size=16, dropout=0.0, vocab_size=tok.vocab_size)
    )
    return Ctx(tmp_path, corpus, tmp_path / "out", checkpoint, model, tok)


def resume_on_the_command_line(c: Ctx, *settings: str) -> None:
    """``train --resume`` where the run's folder holds the finished gru run's checkpoint."""
    (c.out / "gru").mkdir(parents=True)
    c.checkpoint = Path(shutil.copy(c.checkpoint, c.out / "gru" / "checkpoint.pt"))
    overrides = [x for s in (f"dataset={c.corpus}", *settings) for x in ("--set", s)]
    c.cli("train", "--preset", "smoke", "--arch", "gru", "--resume", *overrides)


def resume_truncated(c: Ctx) -> None:
    c.checkpoint.write_bytes(c.checkpoint.read_bytes()[:5000])
    c.resume(c.cfg(arch="gru"))


def trainer_resume(c: Ctx, **over) -> None:
    """``Trainer.resume`` as a notebook calls it, with settings that differ from the checkpoint's."""
    cfg = c.cfg(arch="gru", **over)
    prepared = prepare_data(cfg)
    cfg = with_vocab(cfg, prepared.tokenizer)
    trainer = Trainer(build_model(cfg.model), prepared.dataset, cfg, prepared.tokenizer, device="cpu")
    trainer.resume(c.checkpoint)


def compare_before_any_work(c: Ctx, *argv: str, out: str | None = None) -> None:
    """``compare``, failing the test if it gets as far as loading the corpus and training a tokenizer."""

    def too_late(*a, **k):
        raise AssertionError("the corpus was loaded before the bad setting was noticed")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiment, "prepare_data", too_late)
        c.cli("compare", "--preset", "smoke", "--set", f"dataset={c.corpus}", *argv, out=out)


@dataclass
class Case:
    action: Callable[[Ctx], object]
    error: type[BaseException]
    says: tuple[str, ...]  # regular expressions the message must match: what is wrong, what to change


CASES = {
    # -- the corpus -------------------------------------------------------------------------------------
    "empty corpus": Case(
        lambda c: c.run(c.cfg(dataset=c.file("empty.txt", b" \n\n"))),
        DataError,
        (r"empty\.txt is empty", "give a text with some content"),
    ),
    "corpus shorter than the context": Case(
        lambda c: c.run(c.cfg(dataset=c.file("short.txt", b"to be or not to be\n" * 3))),
        DataError,
        (r"has \d+ tokens, fewer than block_size \+ 1 = 33", "longer corpus, a smaller block_size"),
    ),
    "corpus not UTF-8": Case(
        lambda c: c.run(c.cfg(dataset=c.file("latin1.txt", b"line one\ncaf\xe9 au lait\n"))),
        DataError,
        (r"latin1\.txt is not valid UTF-8 at byte 12 \(line 2\)", "convert it, e.g. `iconv"),
    ),
    "folder without text files": Case(
        lambda c: prepare_data(c.cfg(dataset=str(c.checkpoint.parent))),
        DataError,
        (r"previous holds no text files \(\.txt", "add some or point at a file"),
    ),
    "binary corpus": Case(
        lambda c: c.run(c.cfg(dataset=c.file("model.bin", bytes(range(256)) * 8))),
        DataError,
        (r"model\.bin looks like a binary file", "give a UTF-8 text file"),
    ),
    "unknown corpus name": Case(
        lambda c: c.cli("train", "--preset", "smoke", "--set", "dataset=tinyshakespear"),
        CommandFailed,
        (r"'tinyshakespear' is neither an existing file", r"known dataset \(\['tinyshakespeare'\]\)"),
    ),
    # -- tokenizers -----------------------------------------------------------------------------------
    "word vocab_size below the special tokens": Case(
        lambda c: make_config("smoke", tokenizer="word", vocab_size=1),
        ConfigError,
        (r"data\.vocab_size=1 is invalid", r"an integer in \[2, 1000000\]"),
    ),
    "bpe vocab_size below the 256 bytes": Case(
        lambda c: prepare_data(c.cfg(tokenizer="bpe", vocab_size=100)),
        TokenizerError,
        (r"vocab_size=100 is too small for byte-level BPE", "use vocab_size >= 256"),
    ),
    "unknown tokenizer name": Case(
        lambda c: c.cli("train", "--preset", "smoke", "--set", "tokenizer=sentencepiece"),
        CommandFailed,
        (r"data\.tokenizer='sentencepiece' is invalid", r"choose one of \['char', 'word', 'bpe', 'gpt2'\]"),
    ),
    # -- names, devices, output -----------------------------------------------------------------------
    "unknown preset on the command line": Case(
        lambda c: c.cli("train", "--preset", "huge"),
        CommandFailed,
        (r"invalid choice: 'huge'", r"choose from .*smoke.*cpu.*t4.*reference"),
    ),
    "unknown model on the command line": Case(
        lambda c: c.cli("compare", "--preset", "smoke", "--arch", "lstm", "bilstm"),
        CommandFailed,
        (r"invalid choice: 'bilstm'", r"choose from .*transformer.*rnn.*gru.*lstm"),
    ),
    "unknown model in make_config": Case(
        lambda c: make_config("smoke", arch="bilstm"),
        ConfigError,
        (r"model\.arch='bilstm' is invalid", r"choose one of \['transformer', 'rnn', 'gru', 'lstm'\]"),
    ),
    "cuda without a GPU (run_experiment)": Case(
        lambda c: c.run(c.cfg(device="cuda")),
        DeviceError,
        ("no CUDA GPU is visible", r"Use device='auto'"),
    ),
    "cuda without a GPU (compare)": Case(
        lambda c: compare_before_any_work(c, "--set", "device=cuda"),
        CommandFailed,
        ("no CUDA GPU is visible", r"Use device='auto'"),
    ),
    "output folder that cannot be written (compare)": Case(
        lambda c: compare_before_any_work(c, out=c.file("a-file", b"x") + "/sub"),
        CommandFailed,
        (r"cannot write results to .*a-file/sub", "choose another output directory"),
    ),
    "checkpoint folder that cannot be written (run_experiment)": Case(
        lambda c: c.run(c.cfg(), checkpoint_path=c.file("a-file", b"x") + "/ckpts/checkpoint.pt"),
        PermissionError,
        (r"cannot write results to .*a-file/ckpts", "choose another output directory"),
    ),
    # -- resuming -------------------------------------------------------------------------------------
    "checkpoint of another model": Case(
        lambda c: c.resume(c.cfg(arch="transformer")),
        CheckpointError,
        (r"model\.arch: checkpoint 'gru', this run 'transformer'", "Use the settings it was trained with"),
    ),
    "checkpoint of another tokenizer": Case(
        lambda c: c.resume(c.cfg(arch="gru", tokenizer="word", vocab_size=40)),
        CheckpointError,
        (r"data\.tokenizer: checkpoint 'char', this run 'word'", "or a new checkpoint path"),
    ),
    "checkpoint of another configuration (command line)": Case(
        lambda c: resume_on_the_command_line(c, "n_embd=48"),
        CommandFailed,
        (r"model\.n_embd: checkpoint 32, this run 48", "Use the settings it was trained with"),
    ),
    "checkpoint of another batch size (Trainer.resume)": Case(
        lambda c: trainer_resume(c, batch_size=4),
        CheckpointError,
        (r"train\.batch_size: checkpoint 8, this run 4", "or a new checkpoint path"),
    ),
    "truncated checkpoint": Case(
        resume_truncated,
        CheckpointError,
        ("is truncated or corrupted", "resume from an earlier checkpoint or start again"),
    ),
    # -- generation -----------------------------------------------------------------------------------
    "prompt of unknown words only (sample_text)": Case(
        lambda c: c.sample("Zorblax quux, Zorblax!"),
        TokenizerError,
        (r"every word of the prompt .* vocabulary \('Zorblax', 'quux'\)", "Use words from the training text"),
    ),
    "prompt of unknown words only (run_experiment)": Case(
        lambda c: c.run(c.cfg(tokenizer="word", vocab_size=40), prompt="Zorblax quux"),
        TokenizerError,
        (r"\('Zorblax', 'quux'\)", r"e\.g\. '\w+', .*or train with a larger vocab_size"),
    ),
    "prompt with characters the char tokenizer lacks (run_experiment)": Case(
        lambda c: c.run(c.cfg(), prompt="Zebra"),
        TokenizerError,
        (r"2 character\(s\) not in the char vocabulary: 'Z', 'b'", "remove them from the input, or retrain"),
    ),
    "max_new_tokens = 0": Case(
        lambda c: c.sample(max_new_tokens=0), ValueError, (r"max_new_tokens=0 is invalid: an integer >= 1",)
    ),
    "max_new_tokens < 0": Case(
        lambda c: c.sample(max_new_tokens=-5), ValueError, (r"max_new_tokens=-5 is invalid: an integer >= 1",)
    ),
    "top_k larger than the vocabulary": Case(
        lambda c: c.sample(top_k=c.word_tok.vocab_size + 1),
        ValueError,
        (r"top_k=\d+ is invalid", r"None or an integer in \[1, vocab_size=\d+\]"),
    ),
}


def _marks(name: str):
    return [NO_GPU] if "cuda" in name else []


@pytest.mark.parametrize("name", [pytest.param(n, marks=_marks(n), id=n.replace(" ", "-")) for n in CASES])
def test_bad_input_says_what_to_change(name: str, ctx: Ctx):
    case = CASES[name]
    before = ctx.checkpoint.read_bytes()
    with pytest.raises(case.error) as err:
        case.action(ctx)
    message = str(err.value)
    for pattern in case.says:
        assert re.search(pattern, message, re.S), f"{pattern!r} not in: {message}"
    assert "Traceback" not in message
    # Nothing half-made: no record, curves, tokenizer or checkpoint in the output folder ...
    written = (
        [p for p in ctx.out.rglob("*") if p.is_file() and p != ctx.checkpoint] if ctx.out.exists() else []
    )
    assert written == []
    if "truncated" not in name:  # ... and the checkpoint that was there is untouched
        assert ctx.checkpoint.read_bytes() == before


# -- documented non-errors ------------------------------------------------------------------------------


def test_prompt_longer_than_the_context_is_cropped_with_a_warning(ctx: Ctx):
    prompt = "First Citizen: Before we proceed any further, hear me speak."  # 22 word-level tokens
    assert len(ctx.word_tok.encode(prompt)) > ctx.word_model.config.block_size
    with pytest.warns(PromptCroppedWarning, match=r"has 22 tokens .* block_size=16: only its last 16 tokens"):
        text = ctx.sample(prompt, max_new_tokens=5, seed=0)
    assert text.startswith(prompt)  # the whole prompt is returned; the model saw its last 16 tokens
    cropped = generate(ctx.word_model, ctx.word_tok.encode(prompt)[-16:], 5, seed=0)[0, 16:]
    assert ctx.word_tok.decode(cropped.tolist()) == text[len(prompt) :]


def test_temperature_zero_or_below_is_greedy(ctx: Ctx):
    greedy = ctx.sample("Speak", max_new_tokens=8, temperature=0)
    assert ctx.sample("Speak", max_new_tokens=8, temperature=-1.0, seed=5) == greedy
    assert ctx.sample("Speak", max_new_tokens=8, temperature=0.0, seed=6) == greedy  # no randomness
    ids = ctx.word_tok.encode("Speak")
    ctx.word_model.eval()
    with torch.no_grad():
        first = ctx.word_model(torch.tensor([ids]))[0][0, -1].argmax().item()
    assert greedy.startswith("Speak" + ctx.word_tok.decode([first]))


def test_default_prompt_falls_back_to_a_known_word(ctx: Ctx):
    """A run without a prompt must not fail after training because its default prompt is all unknown."""
    tail = "Zorblax quux zing\n" * -(-len(CORPUS) // 162)  # just over a tenth: the validation part
    corpus = ctx.file("tail.txt", (CORPUS + tail).encode())
    cfg = ctx.cfg(dataset=corpus, tokenizer="word", vocab_size=40, max_iters=1)
    record = ctx.run(cfg)
    prompt = record["samples"][0]["prompt"]
    tok = load_tokenizer(ctx.out / "tokenizer.json")
    with pytest.raises(TokenizerError):  # the validation text's opening, the usual default, is refused
        tok.check_prompt(tail[:32])
    assert prompt == tok.common_words(1)[0]  # so the tokenizer's most frequent word stands in
    assert record["samples"][0]["text"].startswith(prompt)
