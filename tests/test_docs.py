"""The user docs keep their promises: their examples parse, resolve and run.

* every ```json block of docs/facts.md is one fact that ``fact_from_dict`` accepts, the
  blocks cover every fact type an analyst can append, and every quote they cite is in
  the sample article it names, inside the article's body (pure: no database);
* the ``$ eventstore …`` lines of the ```console blocks in docs/getting-started.md run,
  in order, in a scratch directory holding a copy of ``examples/``, and exit 0; and the
  lines shown after each command are what it prints now (``output_matches``: literal
  text matches exactly, ``…`` stands for what the page elides or what differs per run;
  a command shown with no lines after it is not checked);
* the ```python blocks of the docs run and exit 0 in such a directory, after the worked
  example of getting-started.md has built ``facts.db`` there; where the page follows a
  block with "It prints:" and a ```text block, that is what it prints (as above).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventstore import FACT_TYPES, fact_from_dict, resolve_citation
from eventstore.sources import prepare_source_text

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
CORPUS = EXAMPLES / "corpus"
#: Where the article of 000_… ends and the page's unrelated headlines begin.
FURNITURE_000 = "Chine : une logistique plus verte"

_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)


def blocks(page: str, language: str) -> list[str]:
    """The bodies of the fenced blocks of ``docs/<page>`` tagged with ``language``."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return [body for lang, body in _FENCE.findall(text) if lang == language]


def _corpus() -> dict[str, tuple[str, str, int]]:
    """Source id → (NFC text, file name, end of the citable body)."""
    found = {}
    for path in sorted(CORPUS.glob("*.txt")):
        text, source_id, _ = prepare_source_text(path.read_bytes(), path.name)
        marker = text.find(FURNITURE_000) if path.name.startswith("000_") else -1
        found[source_id] = (text, path.name, marker if marker >= 0 else len(text))
    return found


CORPUS_TEXTS = _corpus()
FACT_EXAMPLES = blocks("facts.md", "json")


def _source(ref: str) -> tuple[str, str, str, int]:
    matches = [sid for sid in CORPUS_TEXTS if sid.startswith(ref.lower())]
    assert len(ref) >= 8 and len(matches) == 1, f"{ref!r} names no single sample article"
    return (matches[0], *CORPUS_TEXTS[matches[0]])


# -- facts.md -----------------------------------------------------------------------------

def test_facts_page_has_examples() -> None:
    assert len(FACT_EXAMPLES) >= len([c for c in FACT_TYPES.values() if not c.system])


@pytest.mark.parametrize("block", FACT_EXAMPLES,
                         ids=[f"json{i}" for i in range(len(FACT_EXAMPLES))])
def test_fact_example_parses_and_its_quotes_are_in_the_corpus(block: str) -> None:
    obj = json.loads(block)
    assert isinstance(obj, dict), "a block holds exactly one fact object"
    fact = fact_from_dict(obj)
    for request in fact.citations:
        source_id, text, name, body_end = _source(request.source)
        cited = resolve_citation(text, source_id, request.quote, request.start, request.end)
        assert cited.end <= body_end, f"{name}: cites page furniture: {cited.exact!r}"


def test_fact_examples_cover_every_type() -> None:
    shown = {json.loads(block)["type"] for block in FACT_EXAMPLES}
    wanted = {name for name, cls in FACT_TYPES.items() if not cls.system}
    assert wanted - shown == set(), "facts.md lacks an example of these types"


def test_every_type_has_a_section() -> None:
    text = (DOCS / "facts.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (\S+)", text, re.M))
    assert set(FACT_TYPES) <= headings


def test_lists_of_known_types_are_the_catalogue() -> None:
    """Where a page quotes an error's list of the types one can append, it is the list."""
    wanted = ", ".join(name for name, cls in FACT_TYPES.items() if not cls.system)
    for page in sorted(DOCS.glob("*.md")):
        for listed in re.findall(r"known types: ([\w., ]+)", page.read_text(encoding="utf-8")):
            assert listed.rstrip(". ") == wanted, f"{page.name} lists old fact types"


# -- links between the pages ---------------------------------------------------------------

#: Pages other helpers write; a link to them may come before the page does.
_PLANNED = {"concurrency.md", "performance.md"}
_LINK = re.compile(r"\]\(([\w.-]+\.md)?(?:#([\w-]+))?\)")


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of a page."""
    prose = _FENCE.sub("", page.read_text(encoding="utf-8"))
    headings = re.findall(r"^#+ (.+?)\s*$", prose, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_links_between_pages_resolve(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    for target, anchor in _LINK.findall(text):
        path = DOCS / (target or page)
        if not path.exists():
            assert target in _PLANNED, f"{page} links to missing {target}"
            continue
        if anchor:
            assert anchor in _anchors(path), f"{page} links to missing {target}#{anchor}"


# -- running the shell and Python examples -------------------------------------------------

def _script_dir() -> Path:
    bin_dir = Path(sys.executable).parent
    script = shutil.which("eventstore", path=str(bin_dir))
    if script is None:
        pytest.skip(f"no eventstore script next to {sys.executable}")
    return Path(script).parent


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("EVENTSTORE_URL", "EVENTSTORE_ACTOR")}
    env["PATH"] = str(_script_dir()) + os.pathsep + env.get("PATH", "")
    env["EVENTSTORE_ACTOR"] = "docs-test"
    return env


def console_sessions(page: str) -> Iterator[tuple[str, list[str]]]:
    """The ``$ …`` commands of a page's ```console blocks (a trailing ``\\`` continues a
    line), each with the lines shown after it, up to the next command or the block's end."""
    for block in blocks(page, "console"):
        command: list[str] = []
        shown: list[str] | None = None
        for line in block.splitlines():
            if command and command[-1].endswith("\\"):
                command[-1] = command[-1][:-1]
                command.append(line.rstrip())
            elif line.startswith("$ "):
                if command:
                    yield " ".join(command), shown or []
                command, shown = [line[2:].rstrip()], []
            elif shown is not None:
                shown.append(line)
        if command:
            yield " ".join(command), shown or []


def console_commands(page: str) -> Iterator[str]:
    """The ``$ …`` commands of a page's ```console blocks."""
    for command, _ in console_sessions(page):
        yield command


#: What the docs write for elided output: a line of its own stands for any run of lines
#: (none included), and inside a line for any text (none included).
ELISION = "…"


def _line_pattern(line: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in line.split(ELISION)), re.S)


def output_matches(shown: list[str], printed: list[str]) -> bool:
    """Whether the lines a page shows are the lines a command printed.

    Strict but for the elisions: every shown line must match one printed line, in order,
    from the first printed line to the last, with nothing left over; each literal part of
    a line must be there exactly (only trailing white space is ignored, on both sides);
    ``…`` alone on a line matches zero or more whole lines, and ``…`` inside a line
    matches zero or more characters of that line. Trailing blank lines are ignored.
    """
    want = [line.rstrip() for line in shown]
    got = [line.rstrip() for line in printed]
    while want and not want[-1]:
        want.pop()
    while got and not got[-1]:
        got.pop()
    patterns = [None if line.strip() == ELISION else _line_pattern(line) for line in want]
    memo: dict[tuple[int, int], bool] = {}

    def match(i: int, j: int) -> bool:
        if (i, j) not in memo:
            if i == len(patterns):
                ok = j == len(got)
            elif patterns[i] is None:  # a run of lines: try every length, shortest first
                ok = any(match(i + 1, k) for k in range(j, len(got) + 1))
            else:
                pattern = patterns[i]
                ok = (j < len(got) and pattern is not None
                      and pattern.fullmatch(got[j]) is not None and match(i + 1, j + 1))
            memo[i, j] = ok
        return memo[i, j]

    return match(0, 0)


@pytest.mark.parametrize("shown,printed,ok", [
    (["a", "b"], ["a", "b"], True),
    (["a"], ["a", "b"], False),                     # a printed line left over
    (["a", "b"], ["a"], False),                     # a shown line not printed
    (["a  "], ["a"], True),                         # trailing white space
    ([" a"], ["a"], False),                         # leading white space is literal
    (["x …  y"], ["x 12  y"], True),
    (["x …  y"], ["x 12 y"], False),                # literal text around … must match
    (["…"], [], True),
    (["a", "…", "z"], ["a", "z"], True),
    (["a", "…", "z"], ["a", "b", "c", "z"], True),
    (["a", "…", "z"], ["a", "b", "c"], False),
    (["…", "z", "…"], ["z", "b", "z"], True),
    (["position 3  …"], ["position 3  $actors v1"], True),
    (["position 3  …"], ["position 33  $actors v1"], False),
    (["a", "", "b"], ["a", "b"], False),            # blank lines count inside the output
])
def test_output_matcher(shown: list[str], printed: list[str], ok: bool) -> None:
    assert output_matches(shown, printed) is ok


def _run(args: list[str], cwd: Path, what: str) -> str:
    """Run ``args``; it must exit 0. Its standard output and error, interleaved."""
    done = subprocess.run(args, cwd=cwd, env=_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120)
    assert done.returncode == 0, f"{what} exited {done.returncode}\noutput:\n{done.stdout}"
    return done.stdout


def _workdir(path: Path) -> Path:
    shutil.copytree(EXAMPLES, path / "examples")
    return path


GETTING_STARTED = list(console_sessions("getting-started.md"))


def _getting_started(cwd: Path) -> list[str]:
    """Run the getting-started commands in ``cwd``, in order; what each printed."""
    assert GETTING_STARTED, "getting-started.md has no ```console commands"
    printed = []
    for command, _ in GETTING_STARTED:
        assert "eventstore" in command, f"not an eventstore command: {command}"
        printed.append(_run(["bash", "-c", command], cwd, f"$ {command}"))
    return printed


@pytest.fixture(scope="module")
def getting_started(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A directory where the getting-started commands have run (and built facts.db),
    and what each command printed."""
    path = _workdir(tmp_path_factory.mktemp("built"))
    return path, _getting_started(path)


@pytest.fixture(scope="module")
def built(getting_started: tuple[Path, list[str]]) -> Path:
    return getting_started[0]


def test_getting_started_commands_run(built: Path) -> None:
    assert (built / "facts.db").exists()


@pytest.mark.parametrize("index", range(len(GETTING_STARTED)),
                         ids=[f"cmd{i}" for i in range(len(GETTING_STARTED))])
def test_getting_started_output_is_what_is_printed(
        index: int, getting_started: tuple[Path, list[str]]) -> None:
    command, shown = GETTING_STARTED[index]
    printed = getting_started[1][index]
    if not shown:
        return  # the page shows no output for this command
    assert output_matches(shown, printed.splitlines()), (
        f"$ {command}\n--- getting-started.md shows:\n" + "\n".join(shown)
        + f"\n--- it prints:\n{printed}")


PYTHON_EXAMPLES = [(page.name, i, body) for page in sorted(DOCS.glob("*.md"))
                   for i, body in enumerate(blocks(page.name, "python"))]
_PRINTS = re.compile(r"^```python\n(.*?)^```\s*\n+It prints:\s*\n+```text\n(.*?)^```",
                     re.M | re.S)
#: A python block's code → the lines its page says it prints.
PRINTS = {code: shown.splitlines() for page in sorted(DOCS.glob("*.md"))
          for code, shown in _PRINTS.findall(page.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("page,index,code", PYTHON_EXAMPLES,
                         ids=[f"{p}-{i}" for p, i, _ in PYTHON_EXAMPLES])
def test_python_example_runs(page: str, index: int, code: str, built: Path,
                             tmp_path: Path) -> None:
    cwd = tmp_path / "work"
    shutil.copytree(built, cwd)
    printed = _run([sys.executable, "-c", code], cwd, f"{page} python block {index}")
    if code in PRINTS:
        assert output_matches(PRINTS[code], printed.splitlines()), (
            f"{page} python block {index}\n--- the page says it prints:\n"
            + "\n".join(PRINTS[code]) + f"\n--- it prints:\n{printed}")


def test_python_outputs_are_found() -> None:
    assert len(PRINTS) >= 2, 'the "It prints:" blocks of the docs are no longer found'
