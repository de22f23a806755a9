"""One command moves every copy of the repository address (tools/set_repository.py), --check finds any copy
that disagrees with lmhelpers/repository.py, and the install cell it writes shows pip's own error."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
import tokenize
import types
from pathlib import Path

import nbformat
import pytest
import set_repository

from lmhelpers import repository

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "set_repository.py"
OLD = "https://github.com/lmhelpers/rnn-vs-transformer"
NEW = "https://github.com/someone/lm-series"


def _run(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The command as a user types it, in a process of its own."""
    return subprocess.run(
        [sys.executable, str(TOOL), "--root", str(root), *args], capture_output=True, text=True, timeout=120
    )


def _call(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The same command in this process (quicker: nbformat is already imported)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = set_repository.main(["--root", str(root), *args])
        except SystemExit as e:  # argparse's errors
            code = e.code
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    """A copy of what the tool touches: notebooks, READMEs, docs and lmhelpers/repository.py."""
    root = tmp_path / "checkout"
    shutil.copytree(
        ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints")
    )
    for name in ("README.md", "README.ko.md"):
        shutil.copy(ROOT / name, root / name)
    if (ROOT / "docs").is_dir():
        shutil.copytree(ROOT / "docs", root / "docs")
    (root / "lmhelpers").mkdir()
    shutil.copy(ROOT / "lmhelpers" / "repository.py", root / "lmhelpers" / "repository.py")
    return root


def _all_text(root: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.suffix in {".md", ".ipynb", ".py"}
    )


def _notebooks(root: Path) -> list[Path]:
    return sorted((root / "notebooks").glob("*.ipynb")) + sorted((root / "notebooks").glob("*/*.ipynb"))


# ------------------------------------------------------------------------------- the one command
def test_one_command_moves_every_badge_install_cell_and_link(checkout):
    done = _run(checkout, NEW + ".git/", "--branch", "v2026-spring")  # pasted forms are accepted
    assert done.returncode == 0, done.stdout + done.stderr
    assert "places" in done.stdout and "rewrote README.md" in done.stdout

    assert OLD not in _all_text(checkout) and "lmhelpers/rnn-vs-transformer" not in _all_text(checkout)
    source = set_repository.load_source(checkout)
    assert (source.REPOSITORY, source.BRANCH) == (NEW, "v2026-spring")

    spec = f'"lmhelpers[notebooks] @ git+{NEW}.git@v2026-spring"'
    for path in _notebooks(checkout):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        name = path.relative_to(checkout / "notebooks").as_posix()
        badge = (
            f"https://colab.research.google.com/github/someone/lm-series/blob/v2026-spring/notebooks/{name}"
        )
        assert badge in nb.cells[0].source, path
        install = next(c for c in nb.cells if c.cell_type == "code")
        assert spec in install.source and install.source == source.install_cell(
            set_repository.language_of(path, source)
        )
        assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")  # still committed clean
    for readme in ("README.md", "README.ko.md"):
        links = re.findall(
            r"https://colab\.research\.google\.com/github/[^)\s]+", (checkout / readme).read_text()
        )
        assert links and all(
            link.startswith(
                "https://colab.research.google.com/github/someone/lm-series/blob/v2026-spring/notebooks/"
            )
            for link in links
        )

    check = _run(checkout, "--check")
    assert check.returncode == 0, check.stdout
    assert "someone/lm-series @ v2026-spring" in check.stdout


def test_the_rewrite_touches_nothing_else_in_a_notebook(checkout):
    assert _call(checkout).returncode == 0  # today's install cells become the template's
    before = {p: nbformat.read(p, as_version=4) for p in _notebooks(checkout)}
    assert _call(checkout, NEW).returncode == 0
    for path, old in before.items():
        new = nbformat.read(path, as_version=4)
        assert len(new.cells) == len(old.cells) and new.metadata == old.metadata
        for a, b in zip(old.cells, new.cells):
            assert (a.get("id"), a.cell_type, a.metadata) == (b.get("id"), b.cell_type, b.metadata)
            assert (
                a.source.replace(OLD, NEW).replace("lmhelpers/rnn-vs-transformer", "someone/lm-series")
                == b.source
            )
        assert path.read_text(encoding="utf-8") == nbformat.writes(new) + "\n"  # nbformat's own layout
    assert _call(checkout, NEW).stdout.endswith("0 files rewritten\n")  # a second run changes nothing


def test_korean_notebooks_get_the_korean_install_cell_and_their_own_badge(checkout):
    ko = checkout / "notebooks" / "ko"
    ko.mkdir(exist_ok=True)
    nb = nbformat.read(checkout / "notebooks" / "02_rnn.ipynb", as_version=4)
    # a copy of the English notebook, without the line that links the Korean edition
    nb.cells[0].source = "\n".join(x for x in nb.cells[0].source.splitlines() if "notebooks/ko/" not in x)
    nbformat.write(nb, ko / "02_rnn.ipynb")
    check = _call(checkout, "--check")
    assert "notebooks/ko/02_rnn.ipynb: cell 0: no Colab badge for this notebook" in check.stdout
    nb.cells[0].source = nb.cells[0].source.replace("notebooks/02_rnn.ipynb", "notebooks/ko/02_rnn.ipynb")
    nbformat.write(nb, ko / "02_rnn.ipynb")
    assert _call(checkout, NEW).returncode == 0
    nb = nbformat.read(ko / "02_rnn.ipynb", as_version=4)
    install = next(c for c in nb.cells if c.cell_type == "code")
    assert "저장소에서 lmhelpers를 설치합니다" in install.source and f"git+{NEW}.git@main" in install.source
    assert "github/someone/lm-series/blob/main/notebooks/ko/02_rnn.ipynb" in nb.cells[0].source
    assert _call(checkout, "--check").returncode == 0


def test_branch_alone_pins_the_same_repository_and_make_passes_only_command_line_values(
    checkout, make_dry_run
):
    assert _call(checkout, "--branch", "release/2026-spring").returncode == 0
    source = set_repository.load_source(checkout)
    assert (source.REPOSITORY, source.BRANCH) == (OLD, "release/2026-spring")
    assert _call(checkout, "--check").returncode == 0
    made = make_dry_run("repository", "URL=https://github.com/a/b", "BRANCH=v1", "PY=python")
    assert 'tools/set_repository.py "https://github.com/a/b" --branch "v1"' in made.stdout, (
        made.stdout + made.stderr
    )
    made = make_dry_run("repository", "PY=python", env={"BRANCH": "feature-x", "URL": "https://example.org"})
    assert "--branch" not in made.stdout and "example.org" not in made.stdout, made.stdout


# --------------------------------------------------------------------------------------- --check
def test_check_names_every_copy_edited_by_hand(checkout):
    assert _call(checkout).returncode == 0
    path = checkout / "notebooks" / "03_transformer.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("lmhelpers/rnn-vs-transformer", "somebody/else")
    nbformat.write(nb, path)
    readme = checkout / "README.ko.md"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(
        text.replace("/blob/main/notebooks/ko/02_rnn", "/blob/dev/notebooks/ko/02_rnn"), encoding="utf-8"
    )
    line = text[: text.index("/blob/main/notebooks/ko/02_rnn")].count("\n") + 1
    path = checkout / "notebooks" / "01_tokenizer.ipynb"
    nb = nbformat.read(path, as_version=4)
    install = next(c for c in nb.cells if c.cell_type == "code")
    install.source = install.source.replace("capture_output=True", "check=True")  # the old failure mode
    nbformat.write(nb, path)

    check = _call(checkout, "--check")
    assert check.returncode == 1
    assert "4 places disagree" in check.stdout, (
        check.stdout
    )  # 03 has two badges: its own, its Korean edition's
    assert (
        "notebooks/03_transformer.ipynb: cell 0, line 3: https://colab.research.google.com/github/somebody/else/"
        in check.stdout
    )
    assert (
        f"README.ko.md:{line}: https://colab.research.google.com/github/lmhelpers/rnn-vs-transformer/blob/dev/"
        in check.stdout
    )
    assert "notebooks/01_tokenizer.ipynb: cell 1 (install cell)" in check.stdout

    fixed = _call(checkout)  # the same command puts them back
    assert fixed.returncode == 0 and _call(checkout, "--check").returncode == 0


def test_check_and_rewrite_refuse_what_they_cannot_generate(checkout):
    path = checkout / "notebooks" / "02_rnn.ipynb"
    nb = nbformat.read(path, as_version=4)
    del nb.cells[[c.cell_type for c in nb.cells].index("code")]  # no install cell
    nb.cells[0].source = nb.cells[0].source.replace("Open In Colab", "Open")
    nb.cells[0].source = re.sub(r"\(https://colab[^)]*\)", "", nb.cells[0].source)  # no badge
    nbformat.write(nb, path)
    check = _call(checkout, "--check")
    assert check.returncode == 1
    assert "notebooks/02_rnn.ipynb: first code cell: not the install cell" in check.stdout
    assert "notebooks/02_rnn.ipynb: cell 0: no Colab badge" in check.stdout
    done = _call(checkout, NEW)
    assert done.returncode == 1 and "need a hand" in done.stdout  # the rest is rewritten all the same
    assert OLD not in (checkout / "README.md").read_text()


def test_bad_addresses_and_refs_are_refused(checkout):
    for args in (
        ["https://gitlab.com/a/b"],
        ["https://github.com/a"],
        ["--branch", "a b"],
        ["--branch", "x..y"],
    ):
        done = _call(checkout, *args)
        assert done.returncode == 2 and "error:" in done.stderr, args
    assert _call(checkout, "--check", "--branch", "v1").returncode == 2
    assert (
        set_repository.normalize_repository(" https://github.com/A-b/c.d.git ")
        == "https://github.com/A-b/c.d"
    )


def test_this_checkout_agrees_with_repository_py():
    """Every badge, install cell and README link of the repository itself (fix: python tools/set_repository.py)."""
    check = _call(ROOT, "--check")
    assert check.returncode == 0, check.stdout


# ---------------------------------------------------------------------------------- install cell
@pytest.fixture()
def on_colab(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))


def _exec_cell(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<install cell>", "exec"), namespace)
    return namespace


def test_install_cell_failure_shows_pips_own_output(on_colab, tmp_path, capsys):
    """A tag that does not exist in the repository: pip's git error is shown, then a clear RuntimeError."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    fork = tmp_path / "fork.git"
    fork.mkdir()
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    subprocess.run([git, "init", "-q"], cwd=fork, check=True)
    (fork / "README").write_text("x")
    subprocess.run([git, "add", "README"], cwd=fork, check=True)
    subprocess.run([git, "commit", "-qm", "x"], cwd=fork, check=True, env={**env, "PATH": "/usr/bin:/bin"})
    source = repository.install_cell(repository=f"file://localhost{tmp_path}/fork", branch="v2026-spring")
    with pytest.raises(
        RuntimeError, match=r"pip could not install lmhelpers\[notebooks\] @ git\+file://"
    ) as info:
        _exec_cell(source)
    assert "branch, tag or commit after '@'" in str(info.value)
    shown = capsys.readouterr()
    assert "v2026-spring" in shown.err and "error" in shown.err.lower(), shown.err  # pip's (git's) own words
    assert "Installing lmhelpers[notebooks]" in shown.out


def test_install_cell_paths(on_colab, monkeypatch, capsys):
    calls = []

    def fake_run(args, **kwargs):
        calls.append((args, kwargs))
        code = 1 if "fail" in args[-1] else 0
        return subprocess.CompletedProcess(
            args, code, stdout="Collecting lmhelpers\n", stderr="ERROR: No matching distribution\n"
        )

    monkeypatch.setattr(subprocess, "run", fake_run)
    _exec_cell(repository.install_cell())
    ((args, kwargs),) = calls
    assert args[:4] == [sys.executable, "-m", "pip", "install"] and args[-1] == repository.install_spec()
    assert kwargs["capture_output"] and "check" not in kwargs
    assert capsys.readouterr().err == ""
    with pytest.raises(RuntimeError, match="branch, tag or commit after '@'") as info:
        _exec_cell(repository.install_cell("ko", branch="fail"))
    lines = [line.strip() for line in repository.install_cell("ko").splitlines()]
    above = lines[lines.index("raise RuntimeError(") - 1]  # IPython's traceback shows it with the raise
    assert above.startswith("# 설치 실패: 위의 pip 출력을 보고") and info.value.args
    err = capsys.readouterr().err
    assert "ERROR: No matching distribution" in err and "Collecting lmhelpers" in err


def test_install_cell_does_nothing_off_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("ran pip off Colab"))
    _exec_cell(repository.install_cell())
    _exec_cell(repository.install_cell("ko"))


def _code(source: str) -> list[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [(t.type, t.string) for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL)]


def test_languages_differ_in_comments_only():
    """The Korean notebooks' code is the English code (tools/sync_ko.py); only comments are translated."""
    english = _code(repository.install_cell("en"))
    for language in repository.COMMENTS:
        assert _code(repository.install_cell(language)) == english, language


def test_install_cell_is_lint_clean_and_imports_nothing_of_ours(tmp_path):
    for language in repository.COMMENTS:
        source = repository.install_cell(language)
        assert not re.search(r"^\s*(import|from)\s+lmhelpers", source, re.M)
        assert '"google.colab" in sys.modules' in source and "sys.executable" in source
        path = tmp_path / f"cell_{language}.py"
        path.write_text(source + "\n", encoding="utf-8")
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"), str(path)],
            capture_output=True,
            text=True,
        )
        assert lint.returncode == 0, lint.stdout
