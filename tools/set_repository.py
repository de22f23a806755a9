"""Change, or check, the address the series is published at: one command rewrites every copy.

    python tools/set_repository.py https://github.com/you/your-fork      # a fork: every badge, cell, link
    python tools/set_repository.py --branch v2026-spring                 # pin to a tag (or branch, commit)
    python tools/set_repository.py                                       # regenerate from repository.py
    python tools/set_repository.py --check                               # list every copy that disagrees

The single source is ``REPOSITORY`` and ``BRANCH`` in ``lmhelpers/repository.py``; this tool writes them
there first, then rewrites from them:

* every notebook (``notebooks/*.ipynb``, ``notebooks/ko/*.ipynb``): its first code cell, the install cell,
  is generated from ``repository.INSTALL_CELL_TEMPLATE`` (with Korean comments under ``ko/``), and
  every Colab link in any cell points at ``REPOSITORY`` and ``BRANCH``. Cells are edited as JSON with
  nbformat; nothing else in a notebook changes;
* ``README.md``, ``README.ko.md`` and ``docs/*.md``: Colab links, ``lmhelpers[...] @ git+...`` install
  lines and ``git clone`` addresses.

On a change of address, every other mention of the old address in those files is replaced too.
``--check`` changes nothing: it exits 1 and lists every place (file, line or cell) that disagrees with
``repository.py``, which is what the tests run. Only the Python standard library and nbformat are
needed, and lmhelpers is not imported (``repository.py`` is loaded on its own).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY_FILE = Path("lmhelpers") / "repository.py"
GITHUB = "https://github.com/"
_NAME = r"[A-Za-z0-9_.-]+"
# A git ref as it may appear in a URL: a branch, a tag or a commit; no spaces, quotes or brackets.
_REF = r"[A-Za-z0-9_.+/-]*[A-Za-z0-9_+-]"
_GITHUB_URL = rf"https://github\.com/{_NAME}/{_NAME}?"

# Every kind of place that names the repository, in any notebook cell or Markdown file.
PLACES = re.compile(
    "|".join(
        [
            # A Colab link: .../github/OWNER/NAME/blob/REF/notebooks/PATH.ipynb (badges, README tables).
            rf"(?P<colab>https://colab\.research\.google\.com/github/)(?P<c_slug>{_NAME}/{_NAME})"
            rf"/blob/(?P<c_ref>[A-Za-z0-9_.+/-]+?)/(?P<c_path>notebooks/[^\s)\]\"'<>`]+?\.ipynb)",
            # An install line: lmhelpers[notebooks] @ git+https://github.com/OWNER/NAME.git@REF
            rf"(?P<spec>lmhelpers(?:\[[\w,\s-]*\])?\s*@\s*git\+)(?P<s_url>{_GITHUB_URL})(?:\.git)?"
            rf"(?:@(?P<s_ref>{_REF}))?(?![A-Za-z0-9_.+/-])",
            # A clone: git clone [options] https://github.com/OWNER/NAME(.git)
            rf"(?P<clone>git clone (?:-[-\w=]* +)*)(?P<g_url>{_GITHUB_URL})(?P<g_git>\.git)?(?!\.?[\w-])",
        ]
    )
)


@dataclass
class Problem:
    where: str
    found: str
    expected: str
    fixable: bool = True  # the rewrite fixes it; otherwise it needs a hand (a missing cell or notebook)

    def __str__(self) -> str:
        return f"{self.where}: {self.found}\n    expected: {self.expected}"


@dataclass
class Plan:
    """What one run would write (``changes``) or found wrong (``problems``)."""

    repository: str
    branch: str
    places: int = 0
    problems: list[Problem] = field(default_factory=list)
    changes: dict[Path, str | nbformat.NotebookNode] = field(default_factory=dict)


# ------------------------------------------------------------------------------- the single source
def load_source(root: Path):
    """``lmhelpers/repository.py`` of ``root`` as a module of its own (lmhelpers itself is not imported)."""
    path = root / REPOSITORY_FILE
    spec = importlib.util.spec_from_file_location(f"_repository_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def normalize_repository(url: str) -> str:
    """``https://github.com/OWNER/NAME`` from the forms people paste (trailing slash, ``.git``)."""
    url = url.strip().rstrip("/")
    url = url.removesuffix(".git")
    if not re.fullmatch(_GITHUB_URL, url) or url.count("/") != 4:
        raise ValueError(
            f"{url!r} is not a GitHub repository address like https://github.com/OWNER/NAME "
            "(Colab opens notebooks from GitHub only)"
        )
    return url


def check_ref(ref: str) -> str:
    """A branch, tag or commit name that git accepts and that fits in a URL unescaped."""
    if not re.fullmatch(_REF, ref) or ref.startswith(("-", "/")) or ".." in ref or "//" in ref:
        raise ValueError(f"{ref!r} is not a branch, tag or commit name (letters, digits, '.', '_', '-', '/')")
    if ref.endswith(".lock"):
        raise ValueError(f"{ref!r} is not a valid git ref (ends in .lock)")
    return ref


def write_source(root: Path, repository: str, branch: str) -> str:
    """``repository.py`` with ``REPOSITORY`` and ``BRANCH`` set (any comment after them is kept)."""
    text = (root / REPOSITORY_FILE).read_text(encoding="utf-8")
    for name, value in (("REPOSITORY", repository), ("BRANCH", branch)):
        text, n = re.subn(rf'^{name} = "[^"\n]*"', f'{name} = "{value}"', text, count=1, flags=re.M)
        if n != 1:
            raise ValueError(f'{REPOSITORY_FILE} has no line `{name} = "..."` to rewrite')
    return text


# ------------------------------------------------------------------------------------ the copies
def notebooks(root: Path) -> list[Path]:
    folder = root / "notebooks"
    found = sorted(folder.glob("*.ipynb")) + sorted(folder.glob("*/*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


def markdown_files(root: Path) -> list[Path]:
    found = [root / "README.md", root / "README.ko.md", *sorted((root / "docs").glob("**/*.md"))]
    return [p for p in found if p.is_file()]


def language_of(notebook: Path, source) -> str:
    """Notebooks in a folder named like a language of the install cell's messages use it (``ko/``)."""
    return notebook.parent.name if notebook.parent.name in source.COMMENTS else "en"


def is_install_cell(cell) -> bool:
    return cell.cell_type == "code" and "google.colab" in cell.source and "pip" in cell.source


def rewrite_text(text: str, source, root: Path, old: str | None, where, plan: Plan) -> str:
    """``text`` with every place pointing at ``source``'s address; what disagreed goes to ``plan``.

    ``old``: the previous address, replaced wherever else it still appears (a change of address).
    ``where(offset)`` names a place for the problem list.
    """
    repository, branch = source.REPOSITORY, source.BRANCH
    slug = repository.removeprefix(GITHUB)
    stale = re.escape(old) if old and old != repository else "(?!)"  # (?!) never matches
    pattern = re.compile(PLACES.pattern + rf"|(?P<old>{stale})(?P<o_git>\.git)?(?!\.?[\w-])")

    def replace(m: re.Match) -> str:
        if m["old"]:
            return repository + (m["o_git"] or "")
        plan.places += 1
        if m["colab"]:
            new = f"{m['colab']}{slug}/blob/{branch}/{m['c_path']}"
            if not (root / m["c_path"]).is_file():
                plan.problems.append(
                    Problem(
                        where(m.start()), m[0], f"a link to a notebook that exists, not {m['c_path']}", False
                    )
                )
        elif m["spec"]:
            new = f"{m['spec']}{repository}.git@{branch}"
        else:
            new = f"{m['clone']}{repository}{m['g_git'] or ''}"
        if new != m[0]:
            plan.problems.append(Problem(where(m.start()), m[0], new))
        return new

    return pattern.sub(replace, text)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def plan_notebook(path: Path, root: Path, source, old: str | None, plan: Plan) -> None:
    rel = path.relative_to(root).as_posix()
    nb = nbformat.read(path, as_version=4)
    changed = False
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if not code or not is_install_cell(nb.cells[code[0]]):
        plan.problems.append(
            Problem(
                f"{rel}: first code cell",
                'not the install cell (no `"google.colab" in sys.modules` and pip)',
                "the install cell, generated from repository.INSTALL_CELL_TEMPLATE; add one by hand first",
                fixable=False,
            )
        )
    else:
        index = code[0]
        cell = nb.cells[index]
        plan.places += 1
        expected = source.install_cell(language_of(path, source))
        if cell.source != expected:
            plan.problems.append(
                Problem(
                    f"{rel}: cell {index} (install cell)",
                    _first_difference(cell.source, expected),
                    "the cell generated from repository.INSTALL_CELL_TEMPLATE",
                )
            )
            cell.source = expected
            changed = True
    for index, cell in enumerate(nb.cells):
        if code and index == code[0] and is_install_cell(cell):
            continue
        text = cell.source

        def where(offset, index=index, text=text):
            return f"{rel}: cell {index}, line {line_of(text, offset)}"

        new = rewrite_text(text, source, root, old, where, plan)
        if new != text:
            cell.source = new
            changed = True
    badge = source.colab_url(path.relative_to(root / "notebooks").as_posix())
    if not nb.cells or badge not in nb.cells[0].source:
        plan.problems.append(
            Problem(f"{rel}: cell 0", "no Colab badge for this notebook in the first cell", badge, False)
        )
    if changed:
        plan.changes[path] = nb


def _first_difference(found: str, expected: str) -> str:
    found_lines, expected_lines = found.splitlines(), expected.splitlines()
    for number, (a, b) in enumerate(zip(found_lines, expected_lines), 1):
        if a != b:
            return f"differs from the template at its line {number}: {a.strip()!r} instead of {b.strip()!r}"
    return f"has {len(found_lines)} lines instead of the template's {len(expected_lines)}"


def plan_markdown(path: Path, root: Path, source, old: str | None, plan: Plan) -> None:
    rel = path.relative_to(root).as_posix()
    text = path.read_text(encoding="utf-8")
    new = rewrite_text(text, source, root, old, lambda offset: f"{rel}:{line_of(text, offset)}", plan)
    if new != text:
        plan.changes[path] = new


def make_plan(root: Path, source, old: str | None = None) -> Plan:
    """Everything that disagrees with ``source`` (a loaded repository.py) under ``root``."""
    plan = Plan(source.REPOSITORY, source.BRANCH)
    try:
        if normalize_repository(source.REPOSITORY) != source.REPOSITORY:
            raise ValueError(f"write it as {normalize_repository(source.REPOSITORY)}")
        check_ref(source.BRANCH)
    except ValueError as e:
        plan.problems.append(
            Problem(str(REPOSITORY_FILE), f"{source.REPOSITORY} @ {source.BRANCH}", str(e), False)
        )
    for path in notebooks(root):
        plan_notebook(path, root, source, old, plan)
    for path in markdown_files(root):
        plan_markdown(path, root, source, old, plan)
    return plan


# ------------------------------------------------------------------------------------ the command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Set (or --check) the repository address and branch that every Colab badge, "
        "install cell and README link uses, from lmhelpers/repository.py.",
    )
    parser.add_argument("repository", nargs="?", help="https://github.com/OWNER/NAME (default: keep)")
    parser.add_argument("--branch", help="branch, tag or commit the links and installs use (default: keep)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 listing every mismatch")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this one)")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    current = load_source(root)
    if args.check:
        if args.repository or args.branch:
            parser.error("--check compares with repository.py as it is; give no address or --branch")
        plan = make_plan(root, current)
        if plan.problems:
            print(
                f"{len(plan.problems)} places disagree with {REPOSITORY_FILE} "
                f"({plan.repository} @ {plan.branch}):"
            )
            for problem in plan.problems:
                print(f"  {problem}")
            print("Run `python tools/set_repository.py` to rewrite them from it.")
            return 1
        print(f"All {plan.places} places agree with {REPOSITORY_FILE}: {plan.repository} @ {plan.branch}")
        return 0

    try:
        repository = normalize_repository(args.repository or current.REPOSITORY)
        branch = check_ref(args.branch or current.BRANCH)
    except ValueError as e:
        parser.error(str(e))
    source_path = root / REPOSITORY_FILE
    old_text = source_path.read_text(encoding="utf-8")
    new_text = write_source(root, repository, branch)
    source_path.write_text(new_text, encoding="utf-8")
    plan = make_plan(root, load_source(root), old=current.REPOSITORY)
    written = [source_path] if new_text != old_text else []
    for path, content in plan.changes.items():
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            nbformat.write(content, path)
        written.append(path)
    for path in written:
        print(f"rewrote {path.relative_to(root)}")
    print(f"{repository} @ {branch}: {plan.places} places, {len(written)} files rewritten")
    left = [p for p in plan.problems if not p.fixable]
    if left:
        print(f"{len(left)} places need a hand (then run `python tools/set_repository.py --check`):")
        for problem in left:
            print(f"  {problem}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
