"""The user docs keep their promises: their examples parse, resolve and run.

* every ```json block of docs/facts.md is one fact that ``fact_from_dict`` accepts, the
  blocks cover every fact type an analyst can append, and every quote they cite is in
  the sample article it names, inside the article's body (pure: no database);
* the ``$ eventstore …`` lines of the ```console blocks in docs/getting-started.md run,
  in order, in a scratch directory holding a copy of ``examples/``, and exit 0;
* the ```python blocks of the docs run and exit 0 in such a directory, after the worked
  example of getting-started.md has built ``facts.db`` there.
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


def console_commands(page: str) -> Iterator[str]:
    """The ``$ …`` lines of a page's ```console blocks (a trailing ``\\`` continues a line)."""
    for block in blocks(page, "console"):
        command: list[str] = []
        for line in block.splitlines():
            if command:
                command.append(line.rstrip())
            elif line.startswith("$ "):
                command.append(line[2:].rstrip())
            else:
                continue
            if command[-1].endswith("\\"):
                command[-1] = command[-1][:-1]
                continue
            yield " ".join(command)
            command = []


def _run(args: list[str], cwd: Path, what: str) -> None:
    done = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, (f"{what} exited {done.returncode}\n"
                                  f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")


def _workdir(path: Path) -> Path:
    shutil.copytree(EXAMPLES, path / "examples")
    return path


def _getting_started(cwd: Path) -> None:
    commands = list(console_commands("getting-started.md"))
    assert commands, "getting-started.md has no ```console commands"
    for command in commands:
        assert "eventstore" in command, f"not an eventstore command: {command}"
        _run(["bash", "-c", command], cwd, f"$ {command}")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where the getting-started commands have run (and built facts.db)."""
    path = _workdir(tmp_path_factory.mktemp("built"))
    _getting_started(path)
    return path


def test_getting_started_commands_run(built: Path) -> None:
    assert (built / "facts.db").exists()


PYTHON_EXAMPLES = [(page.name, i, body) for page in sorted(DOCS.glob("*.md"))
                   for i, body in enumerate(blocks(page.name, "python"))]


@pytest.mark.parametrize("page,index,code", PYTHON_EXAMPLES,
                         ids=[f"{p}-{i}" for p, i, _ in PYTHON_EXAMPLES])
def test_python_example_runs(page: str, index: int, code: str, built: Path,
                             tmp_path: Path) -> None:
    cwd = tmp_path / "work"
    shutil.copytree(built, cwd)
    _run([sys.executable, "-c", code], cwd, f"{page} python block {index}")
