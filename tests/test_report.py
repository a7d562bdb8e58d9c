"""A page for a track: what an analyst or auditor opens, checked as they would use it.

The page is built by a pure function (``eventstore.report.page``) and written by
``eventstore report``. The last test opens it in a real browser (Debian's chromium,
driven by Playwright): it counts the items, follows a citation with the keyboard and
with the mouse to the marked words, and finds the "on or before" plan drawn open-ended.
Without a browser that test skips, saying why; under ``CI=true`` that is a failure.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from eventstore import EventStore
from eventstore.cli import cli
from eventstore.report import _marked, track_report

#: The browser the test drives: Debian's chromium (another with EVENTSTORE_TEST_CHROMIUM).
CHROMIUM = os.environ.get("EVENTSTORE_TEST_CHROMIUM", "/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]
LISTS = ("meetings", "declarations", "invitations", "statements", "topics", "actions",
         "open_items")


def run(url: str, *args: str) -> Result:
    result = CliRunner().invoke(cli, [*args, "--db", url], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {result.exception!r}") from result.exception
    return result


def report(url: str, out: Path, *args: str) -> str:
    result = run(url, "report", "--track", "RUS-USA", "--out", str(out), *args)
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.strip() == f"wrote {out.resolve()}"
    return out.read_text(encoding="utf-8")


def project_json(url: str, *args: str) -> dict[str, Any]:
    result = run(url, "project", "--track", "RUS-USA", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


# -- the page, read as text ---------------------------------------------------------------

@pytest.mark.parametrize("engine_kind", ["sqlite"])
def test_the_page_stands_alone_and_lists_every_item(example: EventStore, db_url: str,
                                                     tmp_path: Path) -> None:
    text = report(db_url, tmp_path / "track.html")
    doc = project_json(db_url)
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / "track.html").stat().st_mode & 0o777 == 0o666 & ~mask
    assert not list(tmp_path.glob(".report-*"))
    assert text.startswith("<!DOCTYPE html>")
    # nothing is fetched when it opens: no external script, style, font or image
    assert not re.search(r'<(script|link|img|iframe)[^>]*\b(src|href)=', text)
    assert "@import" not in text and "url(" not in text
    assert "@media print" in text
    for kind in LISTS:
        assert text.count(f'data-list="{kind}" data-key=') == len(doc[kind]), kind
    # each cited source is embedded once, and every quote links to its marked span
    assert text.count('<section class="source"') == 2
    for target in set(re.findall(r'class="cite" href="#([^"]+)"', text)):
        assert f'<mark id="{target}"' in text


@pytest.mark.parametrize("engine_kind", ["sqlite"])
def test_known_at_says_the_log_position_and_tree_head(example: EventStore, db_url: str,
                                                      tmp_path: Path) -> None:
    moment = next(example.read_all(34, 1)).recorded_at
    geneva = example.get_source("7c3a6282").info.id
    example.append("RUS-USA", [{
        "type": "statement.made", "date": "2018-08-23", "event_id": str(uuid.uuid4()),
        "data": {"speaker": {"name": "John Bolton", "country": "USA"}, "stance": "warning",
                 "content": "Une mise en garde ajoutée plus tard."},
        "citations": [{"source": geneva, "quote": "Les Etats-Unis \"ne toléreront pas\""}]}])
    page = track_report(example, "RUS-USA", known_at=moment)
    position = example.position_at(moment)
    root = example.tree_head(position).root.hex()
    assert position == 34 and example.head()[0] == 35
    assert root != example.tree_head().root.hex()
    assert f"its log then ended at position {position}" in page
    assert f"A checkpoint of size {position} with that root is the same log." in page
    assert root in page and f'data-tree-root="{root}"' in page
    assert "ajoutée plus tard" not in page
    assert 'data-log-position="34"' in page


class _Spans(HTMLParser):
    """The words inside each span's marks, and the text with the marks taken out."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.words: dict[str, str] = {}
        self.text = ""
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.open.append(str(found["data-span"]))
        if found.get("id"):
            self.ids.append(str(found["id"]))

    def handle_endtag(self, tag: str) -> None:
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text += data
        for name in set(self.open):
            self.words[name] = self.words.get(name, "") + data


def test_crossing_spans_are_split_and_keep_their_words() -> None:
    text = "a<b>c & defghij"
    spans = [(1, 5), (3, 8), (3, 4), (9, 12)]
    parsed = _Spans()
    parsed.feed(_marked("f" * 64, text, spans))
    assert parsed.text == text and not parsed.open
    for start, end in spans:
        name = f"m-{'f' * 16}-{start}-{end}"
        assert parsed.words[name] == text[start:end]
        assert parsed.ids.count(name) == 1  # one piece carries the id the links target


def test_data_is_escaped(store: EventStore, tmp_path: Path) -> None:
    article = b'Le porte-parole a dit : <script>alert("x")</script> & "rien de plus".'
    source = store.add_source(article, language="fr", title="<b>titre</b>")
    store.append("RUS-USA", [{
        "type": "statement.made", "date": "2018-08-23", "event_id": str(uuid.uuid4()),
        "data": {"speaker": {"name": "<img src=x onerror=alert(1)>", "country": "USA"},
                 "stance": "warning", "content": "<script>alert('y')</script>"},
        "citations": [{"source": source.id, "quote": '<script>alert("x")</script>'}]}])
    page = track_report(store, "RUS-USA")
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>titre" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<script>") == 1  # the page's own


# -- refusals -----------------------------------------------------------------------------

@pytest.mark.parametrize("engine_kind", ["sqlite"])
@pytest.mark.parametrize(("args", "says"), [
    (["--track", "FRA-USA"], "unknown track FRA-USA"),
    (["--track", "nowhere"], "is not a track id"),
    (["--track", "RUS-USA", "--as-of", "2018-02-30"], "--as-of: '2018-02-30' is not a day"),
    (["--track", "RUS-USA", "--known-at", "yesterday"], "--known-at: 'yesterday'"),
])
def test_bad_input_is_one_error_line_and_writes_nothing(
        example: EventStore, db_url: str, tmp_path: Path, args: list[str], says: str) -> None:
    out = tmp_path / "track.html"
    result = run(db_url, "report", *args, "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and says in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert not out.exists() and not list(tmp_path.glob(".report-*"))


@pytest.mark.parametrize("engine_kind", ["sqlite"])
def test_an_unwritable_out_is_refused(example: EventStore, db_url: str,
                                      tmp_path: Path) -> None:
    for out in (tmp_path / "missing" / "track.html", tmp_path):
        result = run(db_url, "report", "--track", "RUS-USA", "--out", str(out))
        assert result.exit_code == 1 and result.stderr.startswith("Error: --out: ")
        assert result.stderr.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("facts.db")] == []


# -- in a real browser --------------------------------------------------------------------

def _browser_or_skip() -> Any:
    """Playwright's sync API, or a skip saying what is missing (a failure under CI=true)."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package is not installed (pip install playwright)"
    if missing is None and not os.access(CHROMIUM, os.X_OK):
        missing = (f"no browser at {CHROMIUM} (apt-get install -y chromium chromium-driver; "
                   "never `playwright install`)")
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {missing}")
        pytest.skip(missing)
    return sync_playwright


def _in_view(page: Any, selector: str) -> bool:
    return bool(page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                      return r.top >= 0 && r.bottom <= window.innerHeight; }""", selector))


def _span_words(page: Any, mark_id: str) -> str:
    return str(page.evaluate(
        """(id) => Array.from(document.querySelectorAll(`mark[data-span="${id}"]`))
                        .map(m => m.textContent).join('')""", mark_id))


@pytest.mark.parametrize("engine_kind", ["sqlite"])
def test_the_page_in_a_browser(example: EventStore, db_url: str, tmp_path: Path) -> None:
    sync_playwright = _browser_or_skip()
    whole = tmp_path / "track.html"
    report(db_url, whole)
    before = tmp_path / "track-2018-08-22.html"
    report(db_url, before, "--as-of", "2018-08-22", "--possible")
    docs = {whole: project_json(db_url),
            before: project_json(db_url, "--as-of", "2018-08-22", "--possible")}
    screenshot = tmp_path / "track.png"
    requests: list[str] = []

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
            args=BROWSER_ARGS, viewport={"width": 1366, "height": 800})
        try:
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            for path, doc in docs.items():
                page.goto(path.as_uri())
                for kind in LISTS:  # every item of `project --format json`, once
                    assert page.locator(f'#state [data-list="{kind}"]').count() == \
                        len(doc[kind]), (path.name, kind)

            # -- the "on or before" plan is drawn open to the left, from the lane's edge
            declaration = page.locator('.tl-row[data-row="declarations"] .iv')
            assert declaration.count() == 1
            assert declaration.get_attribute("data-shape") == "open-start"
            assert declaration.get_attribute("data-lower") == ""
            assert declaration.get_attribute("data-upper") == "2018-08-23"
            lane = page.locator('.tl-row[data-row="declarations"] .tl-lane').bounding_box()
            bar = declaration.bounding_box()
            assert lane and bar and abs(bar["x"] - lane["x"]) < 2 and bar["width"] > 100
            page.locator("#timeline").screenshot(path=str(tmp_path / "timeline.png"))
            words = page.locator('table.tl-words tr[data-row="declarations"]')
            assert "on or before 23 Aug 2018" in words.inner_text()
            assert words.get_attribute("data-shape") == "open-start"

            # -- a citation, reached with Tab and opened with Enter: its words, marked
            expected = doc["declarations"][0]["citations"][0]
            first_cite = page.locator("#state a.cite").first
            for _ in range(20):
                page.keyboard.press("Tab")
                if page.evaluate("document.activeElement.matches('#state a.cite')"):
                    break
            else:
                raise AssertionError("no citation link is reachable with Tab")
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", "the focused link shows no focus"
            target = str(first_cite.get_attribute("href"))[1:]
            page.keyboard.press("Enter")
            page.wait_for_function(f"location.hash === '#{target}'")
            assert page.evaluate("document.querySelector(':target').tagName") == "MARK"
            first = doc["meetings"][0]["citations"][0]
            assert _span_words(page, target) == first["exact"]
            assert _in_view(page, f'[id="{target}"]')

            # -- and with the mouse: the declaration's quote, in the other article
            link = page.locator('#list-declarations a.cite').first
            link.click()
            target = str(link.get_attribute("href"))[1:]
            page.wait_for_function(f"location.hash === '#{target}'")
            assert target.endswith(f"-{expected['start']}-{expected['end']}")
            assert _span_words(page, target) == expected["exact"]
            assert _in_view(page, f'[id="{target}"]')
            assert page.locator(f'[id="{target}"]').evaluate(
                "m => m.classList.contains('current')")
            page.screenshot(path=str(screenshot))

            # -- it prints: without the contents, the timeline still drawn
            page.emulate_media(media="print")
            assert page.locator("nav").evaluate("n => getComputedStyle(n).display") == "none"
            assert page.locator(".tl .iv").first.is_visible()
        finally:
            context.close()

    assert all(url.startswith(("file:", "data:", "about:")) for url in requests), requests
    print(f"screenshot: {screenshot} (and the timeline: {tmp_path / 'timeline.png'})")
    assert screenshot.stat().st_size > 10_000


@pytest.mark.parametrize("engine_kind", ["sqlite"])
def test_the_report_is_the_state_at_its_cut(example: EventStore) -> None:
    page = track_report(example, "RUS-USA", as_of=dt.date(2018, 8, 22), possible=True)
    assert "as of 2018-08-22 (counting what may have happened by then)" in page
    assert 'class="step later"' in page  # the history after the as-of day, marked


@pytest.mark.parametrize("engine_kind", ["sqlite"])
def test_uncertain_dates_are_drawn_as_intervals(example: EventStore) -> None:
    geneva = example.get_source("7c3a6282").info.id
    example.append("RUS-USA", [{
        "type": "meeting.planned", "date": "2018-08-24/..", "event_id": str(uuid.uuid4()),
        "data": {"key": "moscow-consultations", "kind": "consultations",
                 "scheduled": "2018-09"},
        "citations": [{"source": geneva,
                       "quote": "M. Patrouchev a invité M. Bolton à Moscou"}]}])
    page = track_report(example, "RUS-USA")
    row = page[page.index('<div class="tl-row" data-row="meetings" '
                          'data-key="moscow-consultations"'):]
    row = row[:row.index("</div></div>")]
    assert 'data-shape="open-end"' in row and 'data-lower="2018-08-24" data-upper=""' in row
    assert 'class="iv iv-range st-planned-for planned-for" data-shape="range"' in row
    assert 'data-shape="day" data-stage="held"' in page  # Geneva, on 23 August
    assert 'data-shape="range" data-stage="held" data-edtf="2018-07"' in page  # Helsinki
    assert "on or after 24 Aug 2018" in page


@pytest.mark.parametrize("engine_kind", ["sqlite"])
def test_erased_content_is_said_not_shown(example: EventStore) -> None:
    example.erase_source("43734f67", reason="court order 12/2026")
    statement = example.project("RUS-USA").statements[0].key
    example.erase_payload(statement, reason="a person's request")
    page = track_report(example, "RUS-USA")
    assert "Its text was erased for a legal reason" in page
    assert "[quote erased with its source]" in page
    assert "Redacted facts" in page and "a person&#x27;s request" in page
    moscow = example.get_source("43734f67").info.id
    assert f'href="#source-{moscow[:16]}"' in page  # its citations lead to the notice
    assert f'id="m-{moscow[:16]}-' not in page


@pytest.mark.parametrize("engine_kind", ["sqlite"])
def test_a_lifecycle_is_one_line_in_every_display(example: EventStore, db_url: str) -> None:
    """Issue 13: "planned 27 Jun → held Jul 2018" in the table, the markdown, the JSON and
    the page alike (the Helsinki summit: planned on 27 June, held "le mois dernier")."""
    line = "planned 27 Jun → held Jul 2018"
    assert f'<span class="lifecycle">{line}</span>' in track_report(example, "RUS-USA")
    for fmt in ("table", "markdown"):
        out = run(db_url, "project", "--track", "RUS-USA", "--format", fmt).stdout
        assert f"helsinki-summit-2018-07: summit {line} at Helsinki" in out, fmt
    doc = project_json(db_url)
    (helsinki,) = [m for m in doc["meetings"] if m["key"] == "helsinki-summit-2018-07"]
    assert helsinki["lifecycle"] == line
    assert [(s["status"], s["date"]["edtf"]) for s in helsinki["stages"]] == [
        ("planned", "2018-06-27"), ("held", "2018-07")]
    assert helsinki["date"]["words"] == "Jul 2018"
    assert helsinki["date"]["text"] == "le mois dernier"
    (joint,) = doc["declarations"]
    assert joint["lifecycle"] == "planned on or before 23 Aug → not signed 23 Aug 2018"
    assert joint["stages"][0]["date"]["words"] == "on or before 23 Aug 2018"
    (invitation,) = doc["invitations"]
    assert invitation["lifecycle"] == "extended 23 Aug 2018"
