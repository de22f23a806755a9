"""The words of a reading: each :class:`~lmhelpers.reading.Claim` rendered as a sentence in the reader's
language.

A sentence is a function of the claim's values, so the figures (and their precision) are the same in
every language; only the words differ. ``SENTENCES[language][key]`` holds one function per claim key.
English sentences are here; Korean ones in :mod:`lmhelpers.korean_sentences`. The language is the ``language``
argument, else the package default (:func:`lmhelpers.language.set_language`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .language import current_language


def render(claim: Any, language: str | None = None) -> str:
    """One claim as a sentence in ``language`` (default: the package's, see lmhelpers.language)."""
    language = current_language(language)
    if language == "ko":
        from .korean_sentences import SENTENCES as KOREAN

        return KOREAN[claim.key](**claim.values)
    return SENTENCES["en"][claim.key](**claim.values)


def _pairs(items, fmt: str, sep: str = ", ") -> str:
    return sep.join(fmt.format(*item) for item in items)


_GUIDE_EN = {
    "supports": "this run supports it",
    "contradicts": "this run contradicts it",
    "mixed": "this run is mixed",
    "within_noise": "this run cannot separate the models from the noise",
    "cannot_tell": "this run cannot tell",
}


def noise_en(noise_sd: float, noise_basis: str) -> str:
    """The margin a gap must exceed, and where its noise comes from."""
    margin = f"±{2 * noise_sd:.3f}"
    return {
        "preset": f"{margin} (two standard deviations of the seed-to-seed spread measured at this preset, with "
        "the evaluation's error where it applies)",
        "seeds": f"{margin} (two standard errors, from the spread of the seeds)",
        "evaluation": f"{margin} (the evaluation's error alone: no seed spread is measured for this preset, so "
        "the true noise is larger)",
        "threshold": f"{margin} (a fixed threshold: no seed spread is measured for this preset)",
    }[noise_basis]


def _ahead_en(winner) -> str:
    return f"{winner} is ahead" if winner else "the gap is within noise"


def _guide_better_en(
    rnn,
    gpt,
    rnn_bpc,
    gpt_bpc,
    noise_sd,
    noise_basis,
    curve_noise_sd,
    same_steps,
    params_ratio,
    time,
    flops,
    steps_winner,
    verdict,
):
    head = f'The guide expected "the Transformer generally does better": {_GUIDE_EN[verdict]}.'
    if rnn_bpc is None or gpt_bpc is None or not same_steps:
        return (
            head + " The two runs did not train for the same number of steps, so their scores do not compare."
        )
    text = (
        f" At equal steps, on the whole validation text, {gpt} scores {gpt_bpc:.3f} bits per character and "
        f"{rnn} {rnn_bpc:.3f}: a gap of {abs(rnn_bpc - gpt_bpc):.3f} against a margin of "
        f"{noise_en(noise_sd, noise_basis)}, so {_ahead_en(steps_winner)}."
    )
    if time["at"] is not None:
        text += (
            f" At equal training time ({time['at']:.3g} s, the clock of the figure) the curves stand at "
            f"{gpt} {time['gpt']:.3f} and {rnn} {time['rnn']:.3f}: {_ahead_en(time['winner'])}"
        )
    if flops["at"] is not None:
        text += (
            f"; at equal training compute ({flops['at']:.3g} FLOPs) at {gpt} {flops['gpt']:.3f} and {rnn} "
            f"{flops['rnn']:.3f}: {_ahead_en(flops['winner'])}"
        )
    if time["at"] is not None or flops["at"] is not None:
        text += f" (curve margin ±{2 * curve_noise_sd:.3f})."
    size = (
        f" The sizes are close ({params_ratio:.2f}x), so the comparison is also at about equal parameters."
        if 0.8 <= params_ratio <= 1.25
        else f" But {gpt} has {params_ratio:.1f}x the parameters of {rnn}, so equal size is untested here "
        "(sweeps/sizes.yaml varies it)."
    )
    return head + text + size


def _guide_converges_en(rnn, gpt, early, noise_sd, noise_basis, mean_gap, verdict):
    head = f'The guide expected "the RNN may converge faster": {_GUIDE_EN[verdict]}.'
    if not early:
        return head + " There is no early evaluation to compare (raise max_iters or lower eval_interval)."
    return (
        head
        + f" Over the first third of training ({rnn} / {gpt} validation bits per character: "
        + _pairs(early, "step {0:,} {1:.3f} / {2:.3f}")
        + f") {rnn} is on average {mean_gap:+.3f} from {gpt}, against a margin of "
        + noise_en(noise_sd, noise_basis)
        + "."
    )


def _guide_longer_en(rnn, gpt, noise_sd, noise_basis, verdict, start_gap, end_gap, n=0):
    head = f"The guide expected the Transformer's advantage to be larger on longer sequences: {_GUIDE_EN[verdict]}."
    if start_gap is None:
        return head + " It needs the whole-text loss by context of both models."
    return head + (
        f" {rnn} minus {gpt} on the whole validation text, in nats per token: {start_gap:+.3f} over the first "
        f"quarter of the {n}-token window, {end_gap:+.3f} over the last; the change, {end_gap - start_gap:+.3f}, "
        f"against a margin of {noise_en(noise_sd, noise_basis)}. The context sweep (sweeps/context.yaml) "
        "asks the same across window lengths at equal tokens seen."
    )


def _carried_context_en(name, carried_bpc, reset_bpc, gain, noise_sd, reset_every, verdict):
    what = {
        "helps": f"carrying the state buys {name} {gain:.3f} bits per character",
        "hurts": f"carrying the state costs {name} {-gain:.3f} bits per character",
        "within_noise": f"carrying the state changes {name}'s score by less than the noise",
    }[verdict]
    return (
        f"Context beyond the window: with its state carried through the whole validation text {name} scores "
        f"{carried_bpc:.3f} bits per character, with the state reset every {reset_every} tokens {reset_bpc:.3f}; "
        f"{what} (margin ±{2 * noise_sd:.3f}, two standard errors of the paired difference)."
    )


def _context_sweep_en(gaps, change, noise_sd, noise_basis, verdict):
    return (
        "Across context lengths, at equal tokens seen, the RNN needs this many more bits per character than the "
        "Transformer: "
        + _pairs(gaps, "{1:+.3f} at {0}")
        + f". From the shortest to the longest the gap changes by {change:+.3f}, against a margin of "
        + noise_en(noise_sd, noise_basis)
        + f". The guide expected the gap to grow with the length: {_GUIDE_EN[verdict]}."
    )


SENTENCES: dict[str, dict[str, Callable[..., str]]] = {
    "en": {
        "different_steps": lambda steps: (
            "The runs trained for different numbers of steps ("
            + _pairs(steps, "{0}: {1}")
            + "), so part of any difference below is training length, not architecture."
        ),
        "level": lambda a, a_bpc, b, b_bpc, gap, share, noise_sd, noise_basis: (
            f"{a} and {b} end level on the validation text: {a_bpc:.3f} and {b_bpc:.3f} bits per character, a gap "
            f"of {gap:.3f} within the margin of {noise_en(noise_sd, noise_basis)}."
        ),
        "better": lambda a, a_bpc, b, b_bpc, gap, share, noise_sd, noise_basis: (
            f"{a} reaches {a_bpc:.3f} bits per character on the validation text and {b} {b_bpc:.3f}: {a} needs "
            f"{gap:.3f} fewer bits per character ({share:.1%} less), beyond the margin of "
            f"{noise_en(noise_sd, noise_basis)}."
        ),
        "same_tokenizer": lambda tokenizer, n, losses: (
            f"{'Both' if n == 2 else 'All'} read the text through the same {tokenizer} tokenizer, so the per-token "
            "figures compare directly as well: "
            + _pairs(losses, "{0} {1:.3f} nats (perplexity {2:.2f})")
            + "."
        ),
        "different_tokenizers": lambda tokenizers: (
            f"The runs use different tokenizers ({', '.join(tokenizers)}), so loss and perplexity are per "
            "different units; compare them by bits per character only."
        ),
        "throughput": lambda fast, fast_tps, slow, slow_tps, device, ratio: (
            f"{fast} trains on {fast_tps:,.0f} tokens per second and {slow} on {slow_tps:,.0f} ({ratio:.1f}x on "
            f"{device})."
        ),
        "equal_time": lambda time, first, ranked: (
            f"At equal training time, {time:.3g} s (when {first} finished), the validation text costs "
            + _pairs(ranked, "{0} {1:.3f}")
            + f" bits per character: {ranked[0][0]} gets more out of each second "
            "of training."
        ),
        "size": lambda big, big_params, small, small_params, ratio: (
            f"{big} has {big_params:,} parameters, {ratio:.1f}x the {small_params:,} of {small}."
        ),
        "generation": lambda speeds: (
            "Generating one sequence token by token, "
            + _pairs(speeds, "{0} produces {1:,.0f} tokens/s", " and ")
            + "."
        ),
        "overfitting": lambda name, best, best_step, last: (
            f"{name} is overfitting: its validation loss rose from {best:.3f} at step {best_step:,} to {last:.3f}; "
            "fewer steps or more dropout would help."
        ),
        "generalisation_gap": lambda name, gap: (
            f"{name} ends {gap:.2f} nats lower on training text than on validation text, but its validation loss "
            "was still falling at the last evaluation: a generalisation gap, not yet overfitting."
        ),
        "context_gain": lambda name, first, late, gain, n: (
            f"With one token of context {name} scores {first:.3f} nats; over the last quarter of the {n}-token "
            f"window {late:.3f}, "
            + (
                f"{gain:.3f} nats lower thanks to the longer context."
                if gain > 0
                else f"{-gain:.3f} nats higher: the longer context does not help it here."
            )
        ),
        "curves_together": lambda a, b, end_gap, most: (
            f"The loss-by-position curves of {a} and {b} never part for good: at the end of the window they "
            f"differ by {end_gap:.3f} nats (at most {most:.3f} anywhere)."
        ),
        "curves_part": lambda lower, higher, start, n, threshold, end_gap: (
            "The loss-by-position curves separate "
            + ("from the very first position" if start == 1 else f"from position {start} of {n} on")
            + f": {lower} stays more than {threshold} nats below {higher} to the end of the window (by "
            f"{end_gap:.3f} nats at position {n})."
        ),
        "guide_better": _guide_better_en,
        "guide_converges": _guide_converges_en,
        "guide_longer": _guide_longer_en,
        "carried_context": _carried_context_en,
        "no_scores": lambda: "No run finished with a validation score yet.",
        "sweep_best": lambda name, arch, tokenizer, bits_per_char: (
            f"Lowest validation bits per character: {name} ({arch}, {tokenizer}) at {bits_per_char:.3f}."
        ),
        "sweep_worst": lambda name, bpc, gap, share: (
            f"Highest: {name} at {bpc:.3f}, {gap:.3f} bits per character ({share:.0%}) behind the best."
        ),
        "sweep_fastest": lambda name, tps, slow, ratio: (
            f"Fastest training: {name} at {tps:,.0f} tokens/s, {ratio:.1f}x the slowest ({slow})."
        ),
        "sweep_smallest": lambda name, params, bpc: (
            f"Smallest model: {name} with {params:,} parameters reaches {bpc:.3f} bits per character."
        ),
        "context_sweep": _context_sweep_en,
    }
}
