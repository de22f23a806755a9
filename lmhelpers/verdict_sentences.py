"""The sentences of the verdicts: the original guide's three expectations, what a carried state buys, and
the context sweep, each judged against its noise and written from the claim's figures.

Like :mod:`lmhelpers.sentences`, whose ``SENTENCES`` table lists these too, every piece of text is an English
template looked up in the message catalog; the margins and the verdict phrases are here, since every
comparison with noise says them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .language import N_, tr


def _join(parts: Sequence[str]) -> str:
    """Sentences (or a sentence's own pieces) one after the other."""
    return " ".join(part for part in parts if part)


# A verdict on one of the original guide's expectations, said after the expectation itself.
VERDICTS = {
    "supports": N_("this run supports it"),
    "contradicts": N_("this run contradicts it"),
    "mixed": N_("this run is mixed"),
    "within_noise": N_("this run cannot separate the models from the noise"),
    "cannot_tell": N_("this run cannot tell"),
}

# Where the noise a gap is judged against comes from; said in brackets after the margin.
NOISE_BASES = {
    "preset": N_(
        "two standard deviations of the seed-to-seed spread measured at this preset, with the evaluation's "
        "error where it applies"
    ),
    "seeds": N_("two standard errors, from the spread of the seeds"),
    "evaluation": N_(
        "the evaluation's error alone: no seed spread is measured for this preset, so the true noise is larger"
    ),
    "threshold": N_("a fixed threshold: no seed spread is measured for this preset"),
}


def margin_values(lang: str, noise_sd: float, noise_basis: str) -> dict[str, Any]:
    """The values of a margin: ``margin`` (two noise standard deviations) and ``why`` (its source)."""
    return {"margin": 2 * noise_sd, "why": tr(NOISE_BASES[noise_basis], lang)}


def _verdict(lang: str, verdict: str) -> str:
    return tr(VERDICTS[verdict], lang)


# --------------------------------------------------------------- the original guide's expectations
def _at_equal_time(lang, rnn, gpt, at, rnn_bpc, gpt_bpc, winner):
    values = {"at": at, "rnn": rnn, "gpt": gpt, "rnn_bpc": rnn_bpc, "gpt_bpc": gpt_bpc}
    if winner:
        return tr(
            "At equal training time ({at:.3g} s, the clock of the figure) the curves stand at {gpt} "
            "{gpt_bpc:.3f} and {rnn} {rnn_bpc:.3f}: {winner} is ahead",
            lang,
            winner=winner,
            **values,
        )
    return tr(
        "At equal training time ({at:.3g} s, the clock of the figure) the curves stand at {gpt} {gpt_bpc:.3f} "
        "and {rnn} {rnn_bpc:.3f}: the gap is within noise",
        lang,
        **values,
    )


def _at_equal_flops(lang, rnn, gpt, at, rnn_bpc, gpt_bpc, winner, after_time):
    values = {"at": at, "rnn": rnn, "gpt": gpt, "rnn_bpc": rnn_bpc, "gpt_bpc": gpt_bpc}
    if after_time and winner:
        return tr(
            "at equal training compute ({at:.3g} FLOPs) at {gpt} {gpt_bpc:.3f} and {rnn} {rnn_bpc:.3f}: "
            "{winner} is ahead",
            lang,
            winner=winner,
            **values,
        )
    if after_time:
        return tr(
            "at equal training compute ({at:.3g} FLOPs) at {gpt} {gpt_bpc:.3f} and {rnn} {rnn_bpc:.3f}: the "
            "gap is within noise",
            lang,
            **values,
        )
    if winner:
        return tr(
            "At equal training compute ({at:.3g} FLOPs) the curves stand at {gpt} {gpt_bpc:.3f} and {rnn} "
            "{rnn_bpc:.3f}: {winner} is ahead",
            lang,
            winner=winner,
            **values,
        )
    return tr(
        "At equal training compute ({at:.3g} FLOPs) the curves stand at {gpt} {gpt_bpc:.3f} and {rnn} "
        "{rnn_bpc:.3f}: the gap is within noise",
        lang,
        **values,
    )


def _curves_at_equal(lang, rnn, gpt, time, flops, curve_noise_sd):
    """The curves at equal training time and at equal compute, where either was measured."""
    names = {"rnn": rnn, "gpt": gpt}
    at_time = at_flops = None
    if time["at"] is not None:
        values = {k: time[k] for k in ("at", "winner")}
        at_time = _at_equal_time(lang, **names, **values, rnn_bpc=time["rnn"], gpt_bpc=time["gpt"])
    if flops["at"] is not None:
        values = {k: flops[k] for k in ("at", "winner")}
        at_flops = _at_equal_flops(
            lang,
            **names,
            **values,
            rnn_bpc=flops["rnn"],
            gpt_bpc=flops["gpt"],
            after_time=at_time is not None,
        )
    margin = 2 * curve_noise_sd
    if at_time and at_flops:
        return tr(
            "{time}; {flops} (curve margin ±{margin:.3f}).", lang, time=at_time, flops=at_flops, margin=margin
        )
    if at_time or at_flops:
        return tr("{curves} (curve margin ±{margin:.3f}).", lang, curves=at_time or at_flops, margin=margin)
    return ""


def _guide_better(
    lang,
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
    head = tr(
        'The guide expected "the Transformer generally does better": {verdict}.',
        lang,
        verdict=_verdict(lang, verdict),
    )
    if rnn_bpc is None or gpt_bpc is None or not same_steps:
        return _join(
            [
                head,
                tr(
                    "The two runs did not train for the same number of steps, so their scores do not compare.",
                    lang,
                ),
            ]
        )
    values = {"rnn": rnn, "gpt": gpt, "rnn_bpc": rnn_bpc, "gpt_bpc": gpt_bpc, "gap": abs(rnn_bpc - gpt_bpc)}
    values.update(margin_values(lang, noise_sd, noise_basis))
    if steps_winner:
        steps = tr(
            "At equal steps, on the whole validation text, {gpt} scores {gpt_bpc:.3f} bits per character and "
            "{rnn} {rnn_bpc:.3f}: a gap of {gap:.3f} against a margin of ±{margin:.3f} ({why}), so {winner} is "
            "ahead.",
            lang,
            winner=steps_winner,
            **values,
        )
    else:
        steps = tr(
            "At equal steps, on the whole validation text, {gpt} scores {gpt_bpc:.3f} bits per character and "
            "{rnn} {rnn_bpc:.3f}: a gap of {gap:.3f} against a margin of ±{margin:.3f} ({why}), so the gap is "
            "within noise.",
            lang,
            **values,
        )
    if 0.8 <= params_ratio <= 1.25:
        size = tr(
            "The sizes are close ({ratio:.2f}x), so the comparison is also at about equal parameters.",
            lang,
            ratio=params_ratio,
        )
    else:
        size = tr(
            "But {gpt} has {ratio:.1f}x the parameters of {rnn}, so equal size is untested here "
            "(sweeps/sizes.yaml varies it).",
            lang,
            gpt=gpt,
            rnn=rnn,
            ratio=params_ratio,
        )
    return _join([head, steps, _curves_at_equal(lang, rnn, gpt, time, flops, curve_noise_sd), size])


def _guide_converges(lang, rnn, gpt, early, noise_sd, noise_basis, mean_gap, verdict):
    head = tr(
        'The guide expected "the RNN may converge faster": {verdict}.', lang, verdict=_verdict(lang, verdict)
    )
    if not early:
        return _join(
            [
                head,
                tr("There is no early evaluation to compare (raise max_iters or lower eval_interval).", lang),
            ]
        )
    points = ", ".join(
        tr("step {step:,} {rnn_bpc:.3f} / {gpt_bpc:.3f}", lang, step=step, rnn_bpc=r, gpt_bpc=g)
        for step, r, g in early
    )
    body = tr(
        "Over the first third of training ({rnn} / {gpt} validation bits per character: {points}) {rnn} is on "
        "average {mean_gap:+.3f} from {gpt}, against a margin of ±{margin:.3f} ({why}).",
        lang,
        rnn=rnn,
        gpt=gpt,
        points=points,
        mean_gap=mean_gap,
        **margin_values(lang, noise_sd, noise_basis),
    )
    return _join([head, body])


def _guide_longer(lang, rnn, gpt, noise_sd, noise_basis, verdict, start_gap, end_gap, n=0):
    head = tr(
        "The guide expected the Transformer's advantage to be larger on longer sequences: {verdict}.",
        lang,
        verdict=_verdict(lang, verdict),
    )
    if start_gap is None:
        return _join([head, tr("It needs the whole-text loss by context of both models.", lang)])
    body = tr(
        "{rnn} minus {gpt} on the whole validation text, in nats per token: {start_gap:+.3f} over the first "
        "quarter of the {n}-token window, {end_gap:+.3f} over the last; the change, {change:+.3f}, against a "
        "margin of ±{margin:.3f} ({why}).",
        lang,
        rnn=rnn,
        gpt=gpt,
        start_gap=start_gap,
        end_gap=end_gap,
        change=end_gap - start_gap,
        n=n,
        **margin_values(lang, noise_sd, noise_basis),
    )
    sweep = tr(
        "The context sweep (sweeps/context.yaml) asks the same across window lengths at equal tokens seen.",
        lang,
    )
    return _join([head, body, sweep])


def _carried_context(lang, name, carried_bpc, reset_bpc, gain, noise_sd, reset_every, verdict):
    measured = tr(
        "Context beyond the window: with its state carried through the whole validation text {name} scores "
        "{carried_bpc:.3f} bits per character, with the state reset every {reset_every} tokens {reset_bpc:.3f};",
        lang,
        name=name,
        carried_bpc=carried_bpc,
        reset_bpc=reset_bpc,
        reset_every=reset_every,
    )
    margin = 2 * noise_sd
    if verdict == "helps":
        said = tr(
            "carrying the state buys {name} {gain:.3f} bits per character (margin ±{margin:.3f}, two standard "
            "errors of the paired difference).",
            lang,
            name=name,
            gain=gain,
            margin=margin,
        )
    elif verdict == "hurts":
        said = tr(
            "carrying the state costs {name} {cost:.3f} bits per character (margin ±{margin:.3f}, two standard "
            "errors of the paired difference).",
            lang,
            name=name,
            cost=-gain,
            margin=margin,
        )
    else:
        said = tr(
            "carrying the state changes {name}'s score by less than the noise (margin ±{margin:.3f}, two "
            "standard errors of the paired difference).",
            lang,
            name=name,
            margin=margin,
        )
    return _join([measured, said])


def _context_sweep(lang, gaps, change, noise_sd, noise_basis, verdict):
    listed = ", ".join(tr("{gap:+.3f} at {length}", lang, gap=gap, length=length) for length, gap in gaps)
    body = tr(
        "Across context lengths, at equal tokens seen, the RNN needs this many more bits per character than "
        "the Transformer: {gaps}. From the shortest to the longest the gap changes by {change:+.3f}, against a "
        "margin of ±{margin:.3f} ({why}).",
        lang,
        gaps=listed,
        change=change,
        **margin_values(lang, noise_sd, noise_basis),
    )
    said = tr(
        "The guide expected the gap to grow with the length: {verdict}.",
        lang,
        verdict=_verdict(lang, verdict),
    )
    return _join([body, said])


# The claims these sentences write, by key (:data:`lmhelpers.sentences.SENTENCES` holds them with the rest).
VERDICT_SENTENCES = {
    "guide_better": _guide_better,
    "guide_converges": _guide_converges,
    "guide_longer": _guide_longer,
    "carried_context": _carried_context,
    "context_sweep": _context_sweep,
}
