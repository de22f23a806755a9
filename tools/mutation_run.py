"""Mutation testing on a scratch copy: mutmut's run and score, and the planted bugs of docs/mutation.md.

    python tools/mutation_run.py run [MUTMUT ARGS]   # mutmut run in runs/mutation/tree, then the score
    python tools/mutation_run.py score               # the score of the last run, and its survivors
    python tools/mutation_run.py planted             # each planted bug against the fast tests

What is mutated and by which tests is mutmut's configuration, ``[tool.mutmut]`` in pyproject.toml; harmless
survivors carry ``# pragma: no mutate`` in the source with the reason. The scratch copy is the working tree
as git sees it (tracked and untracked files, not ignored ones); mutmut's own results folder ``mutants/``
is kept between runs, so a second run only retests the functions that changed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # mutmut brings toml on Python 3.10
    import toml as tomllib

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "runs" / "mutation" / "tree"

# The bugs the honest-verdict issue planted: each a text replacement inside one module, and every one must
# make at least one of the fast tests fail.
PLANTED = [
    ("evaluate measures 'val' on the training split", "lmhelpers/training.py",
     "data = self.dataset.split(split)\n                    losses = []",
     'data = self.dataset.split("train")\n                    losses = []'),
    ("learning rate computed but never written into the optimizer", "lmhelpers/training.py",
     'group["lr"] = lr', "pass"),
    ("bits per character counts UTF-8 bytes of the validation text", "lmhelpers/data.py",
     "val_chars=len(val_text)", 'val_chars=len(val_text.encode("utf-8"))'),
    ("temperature multiplies the logits", "lmhelpers/generation.py",
     "logits.float() / temperature", "logits.float() * temperature"),
    ("validation text copied from the start of the corpus", "lmhelpers/data.py",
     "return text[:cut], text[cut:]", "return text[:cut], text[: len(text) - cut]"),
]  # fmt: skip


def mutmut_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]


def copy_tree(dest: Path) -> None:
    """The working tree as git sees it into ``dest``, replacing what was there except mutmut's results."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    if dest.exists():
        for child in dest.iterdir():
            if child.name != "mutants":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():  # a file deleted in the working tree is still listed by git
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def environment() -> dict[str, str]:
    """One torch thread per mutant worker (mutmut runs one per core), and the offline data when present."""
    env = {"OMP_NUM_THREADS": "1", **os.environ}
    for name, path in (("LMHELPERS_DATA_DIR", "data"), ("TIKTOKEN_CACHE_DIR", "data/tiktoken")):
        if name not in env and (ROOT.parent / "shared" / path).exists():
            env[name] = str(ROOT.parent / "shared" / path)
    return env


def score(tree: Path = SCRATCH) -> dict:
    """mutmut's counts of the last run in ``tree``, with the score: detected (killed or timed out) over
    every mutant that was tested."""
    subprocess.run([sys.executable, "-m", "mutmut", "export-cicd-stats"], cwd=tree, check=True,
                   capture_output=True, env=environment())  # fmt: skip
    stats = json.loads((tree / "mutants" / "mutmut-cicd-stats.json").read_text())
    tested = stats["total"] - stats.get("skipped", 0)
    stats["detected"] = stats["killed"] + stats.get("timeout", 0)
    stats["score"] = round(100 * stats["detected"] / tested, 1) if tested else 0.0
    return stats


def print_score(tree: Path = SCRATCH) -> None:
    stats = score(tree)
    print(json.dumps(stats, indent=1))
    print(f"score: {stats['detected']} of {stats['total'] - stats.get('skipped', 0)} mutants detected, "
          f"{stats['score']}%; survived {stats['survived']} (list: cd {tree} && mutmut results)")  # fmt: skip


def failing_tests(tree: Path, tests: list[str]) -> set[str]:
    """The tests among ``tests`` that fail in ``tree``."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:nbmake", "-o", "addopts=", "-rf", *tests],
        cwd=tree, capture_output=True, text=True, env=environment(),
    )  # fmt: skip
    return {line.split()[1] for line in run.stdout.splitlines() if line.startswith("FAILED ")}


def planted() -> int:
    """Each planted bug alone in a scratch copy, against the fast tests; returns how many went unnoticed. A test
    that already fails without the bug is not counted as catching it."""
    tests = mutmut_config()["pytest_add_cli_args_test_selection"]
    tree = SCRATCH.parent / "planted"
    shutil.rmtree(tree, ignore_errors=True)
    copy_tree(tree)
    already = failing_tests(tree, tests)
    for test in sorted(already):
        print(f"fails without any planted bug (not counted): {test}")
    missed = 0
    for name, module, old, new in PLANTED:
        text = (tree / module).read_text()
        if text.count(old) != 1:
            raise SystemExit(f"planted bug {name!r}: {old!r} must occur once in {module}; update PLANTED")
        (tree / module).write_text(text.replace(old, new))
        try:
            caught = sorted(failing_tests(tree, tests) - already)
        finally:  # one copy serves every bug: the module is written back before the next
            (tree / module).write_text(text)
        missed += not caught
        print(f"{'caught' if caught else 'MISSED'}: {name} ({module}): {len(caught)} tests failed")
        for test in caught:
            print(f"    {test}")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["run", "score", "planted"])
    args, rest = parser.parse_known_args(argv)
    if args.command == "planted":
        return 1 if planted() else 0
    if args.command == "run":
        SCRATCH.mkdir(parents=True, exist_ok=True)
        copy_tree(SCRATCH)
        subprocess.run([sys.executable, "-m", "mutmut", "run", *rest], cwd=SCRATCH, env=environment())
    print_score()
    return 0


if __name__ == "__main__":
    sys.exit(main())
