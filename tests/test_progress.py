"""Progress shown while training (lmhelpers.progress): evaluation lines and the bar's final state."""

from lmhelpers.progress import EVAL_LINE, eval_line, eval_printer


def test_eval_line_says_step_losses_and_time_left():
    row = {"step": 200, "train_loss": 1.5, "val_loss": 1.6, "train_time": 12.0}
    lines = []
    eval_printer(print_fn=lines.append)(row)
    assert lines == ["step 200 | train loss 1.500 | val loss 1.600 | 12 s training"]
    # 200 steps took 12 s, so the remaining 1,800 take about 108 s at the same pace.
    line = eval_line(row, total=2000)
    assert line == "step 200/2,000 | train loss 1.500 | val loss 1.600 | 12 s training | ~2 min left"
    assert "left" not in eval_line({**row, "step": 2000}, total=2000)  # finished: nothing left
    assert EVAL_LINE.match(line) and EVAL_LINE.match(lines[0])
    assert not EVAL_LINE.match("stepping 200 | no")
