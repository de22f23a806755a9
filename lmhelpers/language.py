"""The learner's language: one setting that chooses the language of everything the package writes for a
learner (readings, tables' column names, figure titles and axis labels, checks' feedback, progress, errors).

``set_language("ko")`` (a notebook's ``language`` parameter calls it) or ``$LMHELPERS_LANGUAGE`` sets it;
English is the default. Every such text is written once, in English, with named placeholders, and looked up
by the standard library's :mod:`gettext` in the catalogs under ``lmhelpers/locale/`` (``ko/LC_MESSAGES/
lmhelpers.po``, which a translator edits with any PO editor; ``make catalogs`` extracts the texts with Babel
and compiles the ``.mo`` files shipped beside it). In Korean, a particle written right after a placeholder,
"{name}을(를)", is fitted to the value filled in (:mod:`lmhelpers.particles`). Numbers are formatted the same
way in every language.
"""

from __future__ import annotations

import contextlib
import functools
import gettext
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .particles import format_korean

LANGUAGES = ("en", "ko")
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "lmhelpers"
_default: list[str] = []


def set_language(language: str) -> str:
    """The language the package writes in from now on; returns it."""
    if language not in LANGUAGES:
        raise ValueError(f"language={language!r} is invalid: choose one of {list(LANGUAGES)}")
    _default[:] = [language]
    return language


@contextlib.contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Write in ``language`` inside the block (None: as now), then as before: for a part of a program,
    such as a Korean series' summary, without changing what the rest of the process writes in."""
    before = list(_default)
    if language is not None:
        set_language(language)
    try:
        yield
    finally:
        _default[:] = before


def current_language(language: str | None = None) -> str:
    """``language`` if given, else the default set by :func:`set_language` or $LMHELPERS_LANGUAGE."""
    chosen = language or (_default[0] if _default else os.environ.get("LMHELPERS_LANGUAGE", "en"))
    if chosen not in LANGUAGES:
        raise ValueError(f"language={chosen!r} is invalid: choose one of {list(LANGUAGES)}")
    return chosen


@functools.cache
def catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (English: none, the texts are the English ones)."""
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])


def N_(text: str) -> str:
    """Mark ``text`` for the catalog where it is written (a table, a default argument) and translated
    later by :func:`tr`; returns it unchanged."""
    return text


def tr(text: str, language: str | None = None, **values: Any) -> str:
    """``text`` (English, with ``{named}`` placeholders) in the learner's language, with ``values`` filled
    in; the English text where the catalog has no translation."""
    chosen = current_language(language)
    translated = catalog(chosen).gettext(text) if text else text
    return _fill(translated, chosen, values) if values else translated


def _fill(template: str, language: str, values: dict[str, Any]) -> str:
    return format_korean(template, **values) if language == "ko" else template.format(**values)


# Messages by key, each English text marked for the catalog; {allowed}, {purpose} and {problem} are phrases
# of their own, translated by message() too.
MESSAGES = {
    "invalid": N_("parameter {name}={value!r} is invalid: {allowed}"),
    "invalid_here": N_("parameter {name}={value!r} is invalid here: choose one of {choices}"),
    "settings_not_dict": N_(
        "parameter settings={value!r} is invalid: a dict of setting names to values, e.g. "
        "{{'n_layer': 2, 'learning_rate': 1e-3}}{hint}"
    ),
    "settings_hint": N_(
        " (papermill's -p passes text; pass a mapping with -y 'settings: {{n_layer: 2}}' or a -f YAML file)"
    ),
    "given_twice": N_("{names} given both as parameters and in settings; give each once"),
    "do_not_fit": N_("the parameters {names} do not fit together: {detail}"),
    "unknown": N_("invalid parameter: {detail}"),
    "drive_off_colab": N_(
        "parameter {name}={value!r} is a Google Drive folder, which exists only on Colab; "
        "use a local folder here (or None)"
    ),
    "not_encodable": N_(
        "parameter {name}={value!r} cannot be used here: {detail}. Set {name} = None to take a "
        "line of the corpus, or choose text made of characters and words the corpus has."
    ),
    # exercises (lmhelpers.checking) and the folded solution
    "check_correct": N_("correct: {name} ({n} cases)"),
    "check_not_yet": N_("not yet: {name}, case {i} of {n}: {call}\n  {problem}\nhint: {hint}"),
    "check_not_a_function": N_(
        "not yet: {name} needs your function itself, check_{name}({name}) without (), not {got}"
    ),
    "solution": N_("Solution: <code>{name}</code> (click to open)"),
    "matches": N_("matches {name} (max difference {diff:.1g})"),
    "matches_exactly": N_("matches {name} (identical)"),
    "check_more_hint": N_('a second hint, the shape of the code: run hint("{name}") in a new cell'),
    "using_yours": N_("your {name} passes its check: the cells below use it"),
    "gpt_same": N_(
        "After {steps:,} steps the two validation losses differ by {gap:.2g} nats, within 0.05: the same "
        "model, trained the same way. What is left is float rounding: the package's fused attention adds the same "
        "numbers in another order, and training lets such differences grow a little."
    ),
    "gpt_close": N_(
        "After {steps:,} steps the two validation losses differ by {gap:.3f} nats, within 0.05: the same "
        "model, trained the same way; dropout draws different masks in each, hence the small gap."
    ),
    "gpt_differs": N_(
        "After {steps:,} steps the two validation losses differ by {gap:.3f} nats, more than 0.05: the "
        "two models do not compute the same thing. Run the checks above again."
    ),
    "deep_best": N_("After {steps:,} steps the lowest validation loss is {best}'s ({loss:.3f})."),
    "using_reference": N_(
        "note: your {name} does not pass its check yet (its check above says why), so the cells "
        "below use the reference {name} from lmhelpers.solutions in its place. Finish yours and run this cell again."
    ),
    # tokenizer comparison and preset recommendation
    "text": N_("Text: `{text}`"),
    "n_tokens": N_("{n} tokens"),
    "cannot_encode": N_("cannot encode: {detail}"),
    "recommend_fits": N_("{device} with {memory} GB: `{name}` is meant for {purpose}."),
    "recommend_small": N_("{device} has only {memory} GB: start with `{name}`."),
    "recommend_mps": N_("Apple GPU: start with the `{name}` preset, then scale up with settings."),
    "sample_unreadable": N_(
        "{name}: the Korean sample sentence cannot be read by this tokenizer (its corpus has no "
        "Hangul), so a line of the corpus is used instead."
    ),
    # what a run says about itself (resume, progress, settings, samples, sources)
    "resume_restart": N_("restart (an earlier run here is moved aside first)"),
    "resume_none_yet": N_("{mode}: checkpoint not found yet, training starts from step 0"),
    "resume_never": N_("never: a checkpoint at step {step} exists, so training will refuse to overwrite it"),
    "resume_auto": N_("auto: continues the checkpoint at step {step} if it is of the same run"),
    "ways_out": N_(
        "To keep both runs, either write this one elsewhere (another run_dir, or --out on the command "
        "line), or start over with resume='restart' (--restart), which first moves {name} aside to "
        "{name}.before-<time> and deletes nothing."
    ),
    "starting_over": N_("starting over from step 0 of {total:,}"),
    "moved_to": N_("; the earlier run was moved to {where}"),
    "resume_false_conflict": N_(
        "resume=False, but {ckpt} holds an earlier run (step {step}); training would "
        "overwrite it. Use resume='auto' to continue it. {ways_out}"
    ),
    "record_without_checkpoint": N_(
        "{out} holds the record of an earlier run but no checkpoint to continue it "
        "from ({ckpt}), so training here would replace that record. {ways_out}"
    ),
    "resumed": N_("resumed from {ckpt} at step {step:,} of {total:,}"),
    "fresh_start": N_("no checkpoint at {ckpt}: training from step 0 of {total:,}"),
    "run_where": N_("results:    {out}\ncheckpoint: {ckpt}\nresume:     {resume}"),
    "tokenizer_trained_here": N_("trained here on the training text"),
    "eval_line": N_("step {step} | train loss {train:.3f} | val loss {val:.3f} | {seconds:.0f} s training"),
    "time_left": N_(" | ~{left} left"),
    "seconds": N_("{n:.0f} s"),
    "minutes": N_("{n:.0f} min"),
    "hours": N_("{n:.1f} h"),
    "train_bar": N_("train {arch}"),
    "layers_width": N_("{layers} x {width}"),
    "layers_width_heads": N_("{layers} x {width}, {heads} heads"),
    "vocab_cap": N_("{kind} (vocabulary cap {cap:,})"),
    "lr_schedule": N_("{lr:g} (warmup {warmup}, cosine to {final:g})"),
    "eval_every": N_("{interval} steps on {batches} batches"),
    "sample_head": N_("**temperature {temperature}**{top_k} (prompt {prompt!r}, seed {seed})"),
    "source_from": N_("`{name}`, from `{where}` line {line}:"),
    "does_not_match": N_("your result does not match {name}: {problem}"),
    # notebook 02's leaky-attention lesson and its state
    "leak_check_reads_future": N_("{name}: earlier outputs moved by up to {change:.1e}: it reads the future"),
    "leak_check_causal": N_("{name}: earlier outputs moved by up to {change:.1e}: causal"),
    "leak_trained": N_("trained both in {seconds:.1f} s"),
    "leak_the_model_above": N_("the {arch} above"),
    "leak_gap": N_(
        "After {steps:,} steps the leaky model's validation loss is **{leaky:.3f}**, {gap:.3f} below the "
        "same model with the mask ({fixed:.3f}). Same data, batches and initial weights: the gap is what it read "
        "from the future, not skill."
    ),
    "leak_too_good": N_(
        "It is even below the {layers}-layer {arch} above after its {step:,} steps ({loss:.3f}), a "
        "score its honest twin does not reach: too good to be true."
    ),
    "leak_unclear": N_(
        "After {steps:,} steps the leaky model ({leaky:.3f}) is not clearly below the masked one "
        "({fixed:.3f}): it has not learnt to read ahead yet, so at this size the loss cannot show the leak. The "
        "causality check caught it anyway, before any training. Try `leak_iters = 200` on the `cpu` preset to "
        "watch it learn to."
    ),
    "leak_jump": N_(
        "At the last position, with nothing to read ahead, the leaky model's loss jumps by "
        "{leaky_jump:+.3f} above the rest of the second half of its window (the masked model: {fixed_jump:+.3f}). "
        "When generating, every new token is at a last position: there the leaky model scores **{leaky_last:.3f}**, "
        "the masked one **{fixed_last:.3f}**."
    ),
    "leak_no_jump": N_(
        "No clear jump at the last position yet (leaky {leaky_jump:+.3f}, masked {fixed_jump:+.3f}, "
        "against a spread of {spread:.3f} between positions): the leak has not been learnt at {steps:,} steps."
    ),
    "state_size": N_(
        "all the model keeps of the past: {shapes} = {numbers:,} numbers, however long the text"
    ),
    "recommend_cpu": N_("No GPU: the `{name}` preset trains in a few minutes and still learns visibly."),
    # runs that cannot lie or collide: settings changed on resume, one writer per folder, Ctrl-C
    "resume_change": N_(
        "change-settings: continues the checkpoint at step {step} with this run's training "
        "settings (the record lists which held over which steps)"
    ),
    "change_settings_hint": N_(
        "To continue that run with these training settings on purpose, use "
        "resume='change-settings' (--change-settings): its record then lists which settings held over which steps."
    ),
    "change_nothing_left": N_(
        "{ckpt} has trained all {total:,} steps already (it is at step {step:,}): other "
        "training settings would apply to no step, and its record would name settings its weights were not "
        "trained with. To continue with them, raise max_iters too."
    ),
    "resumed_with_changes": N_(", with changed training settings from step {step:,}: {changes}"),
    "folder_in_use": N_(
        "{folder} is being written by another run: process {pid} on {host}, since {since}, "
        "started as `{command}` (lock file {lock})."
    ),
    "folder_in_use_kernel": N_(
        "That is a notebook kernel: it keeps the folder until it is shut down (Kernel > Shut Down)."
    ),
    "folder_in_use_elsewhere": N_(
        "{folder} is being written by a run on another machine: process {pid} on "
        "{host}, since {since}, started as `{command}`; its lock file {lock} was last touched {age:.0f} s ago. A "
        "lock from another machine counts as ended only after {stale:.0f} s untouched: if that run has ended (a "
        "Colab runtime that disconnected, say), wait that long, or delete {lock}."
    ),
    "folder_ways_out": N_(
        "Wait for it to finish (or stop it), or write this run elsewhere: another run_dir, or "
        "--out on the command line."
    ),
    "lock_taken_over": N_(
        "note: {lock} was left by process {pid} (since {since}), which has ended; this run "
        "takes the folder over."
    ),
    "stopping_after_step": N_(
        "Ctrl-C: stopping after the step in progress, with a checkpoint there (Ctrl-C "
        "again stops at once, keeping the last checkpoint)."
    ),
    "interrupted_saved": N_(
        "training stopped at step {step:,} of {total:,} (interrupted). The checkpoint {ckpt} "
        "holds that step: run the same cells (or the same command) again to continue from it."
    ),
    "interrupted_no_checkpoint": N_(
        "training stopped at step {step:,} of {total:,} (interrupted), with no "
        "checkpoint of that step to continue from (this training writes none, or had trained no step yet)."
    ),
    "interrupted_cli": N_(
        "Stopped at step {step:,} of {total:,} (Ctrl-C). The checkpoint {ckpt} holds that "
        "step; the same command continues from it."
    ),
    "interrupted_cli_nothing_saved": N_(
        "Stopped (Ctrl-C). Checkpoints and records written before are kept; the "
        "same command continues from the last checkpoint, if there is one."
    ),
    # 02: the training loop by hand
    "loop_init": N_("loss of the untrained model: {loss:.3f} nats; ln(vocab_size) = ln({vocab}) = {ln:.3f}"),
    "loop_eval": N_(
        "validation loss on the fixed batches: untrained {untrained:.3f}, bigram {bigram:.3f} nats"
    ),
    "loop_step": N_("step {step}: loss {loss:.3f}, learning rate {lr:.2e}, gradient norm {norm:.2f}"),
    "bigram_floor": N_(
        "the bigram floor on the same batches: {bigram:.3f} nats; this model: {loss:.3f} nats ({verdict})"
    ),
    "bigram_beaten": N_("below the floor, as every model must be"),
    "bigram_not_beaten": N_("not below it yet: it has learned nothing a table of counts could not"),
    "clip_norm": N_("unrolled over {T:>3} steps: gradient norm {norm:>12,.1f}"),
    "clip_run": N_(
        "{label}: largest gradient norm {norm:,.0f}, largest change of the weights in one step "
        "{change:,.3g}, loss after {steps} steps {loss:.3f}"
    ),
    "clip_without": N_("without clipping"),
    "clip_with": N_("clipped to norm {clip:g}"),
    # 03: time per token against context length
    "context_header": N_("| context length T | LSTM, µs per token | Transformer, µs per token |"),
    "context_seconds": N_("measured on {device} in {seconds:.1f} s"),
}


def message(key: str, language: str | None = None, **values: Any) -> str:
    """The message ``key`` with ``values`` filled in, in the current language."""
    for name in ("allowed", "purpose", "problem"):  # phrases inside a message, translated where known
        if name in values:
            values[name] = tr(values[name], language)
    chosen = current_language(language)
    return _fill(catalog(chosen).gettext(MESSAGES[key]), chosen, values)
