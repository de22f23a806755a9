"""The words of a reading: each :class:`~lmhelpers.reading.Claim` rendered as a sentence in the reader's
language.

A sentence is a function of the claim's values, so the figures (and their precision) are the same in
every language; only the words differ. ``SENTENCES[key]`` holds one function per claim key, and every piece
of text it writes is an English template with named placeholders looked up in the message catalog
(:func:`lmhelpers.language.tr`): a whole sentence or clause per template, so that a translation can order
it the way its language does. The language is the ``language`` argument of :func:`render`, else the
package default (:func:`lmhelpers.language.set_language`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .language import current_language, tr
from .verdict_sentences import VERDICT_SENTENCES, margin_values


def render(claim: Any, language: str | None = None) -> str:
    """One claim as a sentence in ``language`` (default: the package's, see lmhelpers.language)."""
    return SENTENCES[claim.key](current_language(language), **claim.values)


# ------------------------------------------------------------------------------ the run's numbers
def _different_steps(lang, steps):
    return tr(
        "The runs trained for different numbers of steps ({steps}), so part of any difference below is "
        "training length, not architecture.",
        lang,
        steps=", ".join(f"{name}: {n}" for name, n in steps),
    )


def _level(lang, a, a_bpc, b, b_bpc, gap, share, noise_sd, noise_basis):
    return tr(
        "{a} and {b} end level on the validation text: {a_bpc:.3f} and {b_bpc:.3f} bits per character, a gap "
        "of {gap:.3f} within the margin of ±{margin:.3f} ({why}).",
        lang,
        a=a,
        b=b,
        a_bpc=a_bpc,
        b_bpc=b_bpc,
        gap=gap,
        **margin_values(lang, noise_sd, noise_basis),
    )


def _better(lang, a, a_bpc, b, b_bpc, gap, share, noise_sd, noise_basis):
    return tr(
        "{a} reaches {a_bpc:.3f} bits per character on the validation text and {b} {b_bpc:.3f}: {a} needs "
        "{gap:.3f} fewer bits per character ({share:.1%} less), beyond the margin of ±{margin:.3f} ({why}).",
        lang,
        a=a,
        b=b,
        a_bpc=a_bpc,
        b_bpc=b_bpc,
        gap=gap,
        share=share,
        **margin_values(lang, noise_sd, noise_basis),
    )


def _same_tokenizer(lang, tokenizer, n, losses):
    listed = ", ".join(
        tr("{name} {loss:.3f} nats (perplexity {perplexity:.2f})", lang, name=name, loss=loss, perplexity=ppl)
        for name, loss, ppl in losses
    )
    if n == 2:
        return tr(
            "Both read the text through the same {tokenizer} tokenizer, so the per-token figures compare "
            "directly as well: {losses}.",
            lang,
            tokenizer=tokenizer,
            losses=listed,
        )
    return tr(
        "All read the text through the same {tokenizer} tokenizer, so the per-token figures compare directly "
        "as well: {losses}.",
        lang,
        tokenizer=tokenizer,
        losses=listed,
    )


def _different_tokenizers(lang, tokenizers):
    return tr(
        "The runs use different tokenizers ({tokenizers}), so loss and perplexity are per different units; "
        "compare them by bits per character only.",
        lang,
        tokenizers=", ".join(tokenizers),
    )


def _throughput(lang, fast, fast_tps, slow, slow_tps, device, ratio):
    return tr(
        "{fast} trains on {fast_tps:,.0f} tokens per second and {slow} on {slow_tps:,.0f} ({ratio:.1f}x on "
        "{device}).",
        lang,
        fast=fast,
        fast_tps=fast_tps,
        slow=slow,
        slow_tps=slow_tps,
        ratio=ratio,
        device=device if device is not None else tr("this device", lang),
    )


def _equal_time(lang, time, first, ranked):
    return tr(
        "At equal training time, {time:.3g} s (when {first} finished), the validation text costs {ranked} "
        "bits per character: {best} gets more out of each second of training.",
        lang,
        time=time,
        first=first,
        ranked=", ".join(f"{name} {bpc:.3f}" for name, bpc in ranked),
        best=ranked[0][0],
    )


def _size(lang, big, big_params, small, small_params, ratio):
    return tr(
        "{big} has {big_params:,} parameters, {ratio:.1f}x the {small_params:,} of {small}.",
        lang,
        big=big,
        big_params=big_params,
        small=small,
        small_params=small_params,
        ratio=ratio,
    )


def _generation(lang, speeds):
    listed = ""
    for name, speed in speeds:
        item = tr("{name} produces {speed:,.0f} tokens/s", lang, name=name, speed=speed)
        # TRANSLATORS: joins the speeds of a list, one run's after the other's.
        listed = tr("{earlier} and {later}", lang, earlier=listed, later=item) if listed else item
    return tr("Generating one sequence token by token, {speeds}.", lang, speeds=listed)


def _overfitting(lang, name, best, best_step, last):
    return tr(
        "{name} is overfitting: its validation loss rose from {best:.3f} at step {best_step:,} to {last:.3f}; "
        "fewer steps or more dropout would help.",
        lang,
        name=name,
        best=best,
        best_step=best_step,
        last=last,
    )


def _generalisation_gap(lang, name, gap):
    return tr(
        "{name} ends {gap:.2f} nats lower on training text than on validation text, but its validation loss "
        "was still falling at the last evaluation: a generalisation gap, not yet overfitting.",
        lang,
        name=name,
        gap=gap,
    )


def _context_gain(lang, name, first, late, gain, n):
    if gain > 0:
        return tr(
            "With one token of context {name} scores {first:.3f} nats; over the last quarter of the {n}-token "
            "window {late:.3f}, {gain:.3f} nats lower thanks to the longer context.",
            lang,
            name=name,
            first=first,
            late=late,
            gain=gain,
            n=n,
        )
    return tr(
        "With one token of context {name} scores {first:.3f} nats; over the last quarter of the {n}-token "
        "window {late:.3f}, {rise:.3f} nats higher: the longer context does not help it here.",
        lang,
        name=name,
        first=first,
        late=late,
        rise=-gain,
        n=n,
    )


def _curves_together(lang, a, b, end_gap, most):
    return tr(
        "The loss-by-position curves of {a} and {b} never part for good: at the end of the window they differ "
        "by {end_gap:.3f} nats (at most {most:.3f} anywhere).",
        lang,
        a=a,
        b=b,
        end_gap=end_gap,
        most=most,
    )


def _curves_part(lang, lower, higher, start, n, threshold, end_gap):
    values = {"lower": lower, "higher": higher, "n": n, "threshold": threshold, "end_gap": end_gap}
    if start == 1:
        return tr(
            "The loss-by-position curves separate from the very first position: {lower} stays more than "
            "{threshold} nats below {higher} to the end of the window (by {end_gap:.3f} nats at position {n}).",
            lang,
            **values,
        )
    return tr(
        "The loss-by-position curves separate from position {start} of {n} on: {lower} stays more than "
        "{threshold} nats below {higher} to the end of the window (by {end_gap:.3f} nats at position {n}).",
        lang,
        start=start,
        **values,
    )


# ---------------------------------------------------------------------------------------- sweeps
def _sweep_best(lang, name, arch, tokenizer, bits_per_char):
    return tr(
        "Lowest validation bits per character: {name} ({arch}, {tokenizer}) at {bpc:.3f}.",
        lang,
        name=name,
        arch=arch,
        tokenizer=tokenizer,
        bpc=bits_per_char,
    )


def _sweep_worst(lang, name, bpc, gap, share):
    return tr(
        "Highest: {name} at {bpc:.3f}, {gap:.3f} bits per character ({share:.0%}) behind the best.",
        lang,
        name=name,
        bpc=bpc,
        gap=gap,
        share=share,
    )


def _sweep_fastest(lang, name, tps, slow, ratio):
    return tr(
        "Fastest training: {name} at {tps:,.0f} tokens/s, {ratio:.1f}x the slowest ({slow}).",
        lang,
        name=name,
        tps=tps,
        slow=slow,
        ratio=ratio,
    )


def _sweep_smallest(lang, name, params, bpc):
    return tr(
        "Smallest model: {name} with {params:,} parameters reaches {bpc:.3f} bits per character.",
        lang,
        name=name,
        params=params,
        bpc=bpc,
    )


SENTENCES: dict[str, Callable[..., str]] = {
    "different_steps": _different_steps,
    "level": _level,
    "better": _better,
    "same_tokenizer": _same_tokenizer,
    "different_tokenizers": _different_tokenizers,
    "throughput": _throughput,
    "equal_time": _equal_time,
    "size": _size,
    "generation": _generation,
    "overfitting": _overfitting,
    "generalisation_gap": _generalisation_gap,
    "context_gain": _context_gain,
    "curves_together": _curves_together,
    "curves_part": _curves_part,
    "no_scores": lambda lang: tr("No run finished with a validation score yet.", lang),
    **VERDICT_SENTENCES,
    "sweep_best": _sweep_best,
    "sweep_worst": _sweep_worst,
    "sweep_fastest": _sweep_fastest,
    "sweep_smallest": _sweep_smallest,
}
"""One function per claim key: ``SENTENCES[key](language, **claim.values)`` is the claim's sentence."""
