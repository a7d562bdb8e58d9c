#!/usr/bin/env python3
"""A before and an after, from repeated runs of ``append.py``, ``projection.py`` or
``cold_reads.py``.

Run on demand (this is not a test). Measure both commits in one sitting, interleaved, each
run writing its figures with ``--json``; then::

    .venv/bin/python benchmarks/compare.py --before before-*.json --after after-*.json

Every figure of the runs is shown as the median of the repeats of each side, with their
range; the **noise** of a figure is the larger of the two sides' spreads, a spread being
(max − min) ÷ median of the repeats of one commit; its **verdict** says whether the
after is worse than the before by more than that noise (timings), or worse at all
(counts, which the machine's load cannot move: statements, rows, bytes). A figure on a
method that runs none of the store's code (``raw``, ``copy``, ``eventsourcing``) is a
control: how far the machine itself drifted between the sides.
Results: a Markdown table on stdout (``--output FILE`` writes it there too).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The helpers every benchmark shares (this script's folder is on sys.path when it runs).
from _common import commit_date

#: A figure: its name, its value, whether higher is better, whether it is a count (no noise)
#: or a control (none of the store's code), and its unit.
HIGHER, LOWER = True, False


@dataclass
class Figure:
    name: str
    higher_better: bool
    unit: str
    count: bool = False
    control: bool = False
    values: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Figures:
    order: list[str] = field(default_factory=list)
    by_name: dict[str, Figure] = field(default_factory=dict)

    def add(self, side: str, name: str, value: float | None, higher_better: bool, unit: str,
            *, count: bool = False, control: bool = False) -> None:
        if value is None:
            return
        figure = self.by_name.get(name)
        if figure is None:
            figure = self.by_name[name] = Figure(name, higher_better, unit, count, control)
            self.order.append(name)
        figure.values.setdefault(side, []).append(float(value))


APPEND_LABELS = {"store": "eventstore", "store-backfill": "eventstore, late facts",
                 "raw": "raw executemany", "copy": "binary COPY",
                 "es-app": "eventsourcing Application", "es-rec": "eventsourcing recorder"}


def append_figures(side: str, data: dict[str, Any], out: Figures) -> None:
    groups = data["groups"]
    by_group: dict[int, dict[str, dict[str, Any]]] = {}
    for result in data["results"]:
        by_group.setdefault(result["group"], {})[result["method"]] = result
    for index, methods in sorted(by_group.items()):
        group = groups[index]
        batch = (f"one call of {group['events']:,}" if group.get("one_call")
                 else f"batch {group['batch']:,}")
        where = f"{group['engine']}, {batch}"
        for method, result in methods.items():
            label = APPEND_LABELS.get(method, method)
            control = not method.startswith("store")
            out.add(side, f"{where}: {label}, events/s", result["rate"], HIGHER, "/s",
                    control=control)
            if result.get("write_bytes") is not None and result["events"]:
                out.add(side, f"{where}: {label}, bytes written per event",
                        result["write_bytes"] / result["events"], LOWER, "B", count=True)
            if "cpu_seconds" in result and result["events"]:
                out.add(side, f"{where}: {label}, CPU per event",
                        result["cpu_seconds"] / result["events"] * 1e6, LOWER, "µs",
                        control=control)
        store, raw = methods.get("store"), methods.get("raw")
        if store and raw:
            out.add(side, f"{where}: eventstore ÷ raw (same run)", store["rate"] / raw["rate"],
                    HIGHER, "×")
        if store:
            out.add(side, f"{where}: eventstore, peak RSS of the process",
                    store["peak_rss_mib"], LOWER, "MiB")
            out.add(side, f"{where}: eventstore, RSS growth while it ran",
                    store["rss_delta_mib"], LOWER, "MiB")
            counted = store["settings"].get("counted")
            if counted and counted["calls"]:
                calls, events = counted["calls"], max(1, counted["events"])
                out.add(side, f"{where}: eventstore, statements per call",
                        counted["statements"] / calls, LOWER, "", count=True)
                out.add(side, f"{where}: eventstore, rows sent per event",
                        counted["write_rows"] / events, LOWER, "", count=True)
                out.add(side, f"{where}: eventstore, table bytes per event",
                        counted["database_bytes"] / events, LOWER, "B", count=True)


def projection_figures(side: str, data: dict[str, Any], out: Figures) -> None:
    for run in data["runs"]:
        e, r = run["engine"], run["results"]
        build, rebuild = r.get("build"), r.get("rebuild")
        if build:
            out.add(side, f"{e}: build, facts/s", build["rate"], HIGHER, "/s")
            out.add(side, f"{e}: database after the build", build["database_mib"], LOWER,
                    "MiB", count=True)
        if rebuild:
            out.add(side, f"{e}: rebuild(), facts/s", rebuild["rate"], HIGHER, "/s")
            out.add(side, f"{e}: rebuild(), CPU seconds", rebuild["cpu_s"], LOWER, "s")
            out.add(side, f"{e}: rebuild(), peak RSS", rebuild["peak_rss_mib"], LOWER, "MiB")
            counted = rebuild.get("counted")
            if counted:
                out.add(side, f"{e}: rebuild(), statements", counted["statements"], LOWER, "",
                        count=True)
        for key, label in (("random", "random tracks"), ("big", "the big track")):
            current = (r.get("current") or {}).get(key)
            if current:
                out.add(side, f"{e}: project(track), {label}, median", current["median_ms"],
                        LOWER, "ms")
                out.add(side, f"{e}: project(track), {label}, CPU per call",
                        current.get("cpu_ms_mean"), LOWER, "ms")
        counted = (r.get("current") or {}).get("counted")
        if counted and counted.get("calls"):
            out.add(side, f"{e}: project(track), statements per call",
                    counted["statements"] / counted["calls"], LOWER, "", count=True)
        catch_up = r.get("catch-up")
        if catch_up:
            out.add(side, f"{e}: catch_up(), facts/s", catch_up["rate"], HIGHER, "/s")
            out.add(side, f"{e}: catch_up(), CPU seconds", catch_up["cpu_s"], LOWER, "s")
            out.add(side, f"{e}: catch_up(), statements", catch_up["counted"]["statements"],
                    LOWER, "", count=True)
        cuts = r.get("cuts")
        if cuts:
            out.add(side, f"{e}: project(as_of, known_at), median", cuts["cuts"]["median_ms"],
                    LOWER, "ms")
            out.add(side, f"{e}: project(as_of, known_at), CPU per call",
                    cuts["cuts"].get("cpu_ms_mean"), LOWER, "ms")
            if cuts.get("counted", {}).get("calls"):
                out.add(side, f"{e}: project(as_of, known_at), statements per call",
                        cuts["counted"]["statements"] / cuts["counted"]["calls"], LOWER, "",
                        count=True)
        if r.get("cold"):
            cold_figures(side, e, r["cold"], out)
        for name, label in (("es-follow", "eventsourcing follow"),
                            ("es-get", "eventsourcing repository.get")):
            if r.get(name):
                out.add(side, f"{e}: {label}, events/s", r[name]["rate"], HIGHER, "/s",
                        control=True)


def cold_figures(side: str, e: str, cold: dict[str, Any], out: Figures) -> None:
    """The first reads of fresh processes (``cold_reads.py``; ``projection.py``'s cold step)."""
    current, cut = cold["current"], cold["cut"]
    out.add(side, f"{e}: cold project(big track), first call, median",
            current["first"]["median_ms"], LOWER, "ms")
    out.add(side, f"{e}: cold project(big track), first call, CPU", current["first"]["cpu_ms"],
            LOWER, "ms")
    out.add(side, f"{e}: raw fetch of its stored row + json.loads, median",
            current["raw"]["median_ms"], LOWER, "ms", control=True)
    out.add(side, f"{e}: cold project(big track) ÷ raw fetch, same processes",
            current["ratio"], LOWER, "×")
    out.add(side, f"{e}: cold project(big track), statements", current["statements"], LOWER, "",
            count=True)
    out.add(side, f"{e}: EventStore.open, median", current["open"]["median_ms"], LOWER, "ms")
    out.add(side, f"{e}: cold cut, first call, median", cut["first"]["median_ms"], LOWER, "ms")
    out.add(side, f"{e}: cold cut, first call, CPU", cut["first"]["cpu_ms"], LOWER, "ms")
    out.add(side, f"{e}: cold cut, statements", cut["statements"], LOWER, "", count=True)


def cold_reads_figures(side: str, data: dict[str, Any], out: Figures) -> None:
    """``cold_reads.py``'s figures: the rebuild of a fresh process, and the cold reads."""
    for e, r in data["runs"].items():
        out.add(side, f"{e}: rebuild(), facts/s", r["rebuild"]["rate"], HIGHER, "/s")
        out.add(side, f"{e}: rebuild(), CPU seconds", r["rebuild"]["cpu_s"], LOWER, "s")
        cold_figures(side, e, r["cold"], out)


def load(paths: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in paths:
        data = json.loads(Path(path).read_text())
        yield path, data


def version_of(data: dict[str, Any]) -> str:
    return str(data.get("version") or "unknown")


def spread(values: Sequence[float]) -> float:
    """(max − min) ÷ median of one side's repeats."""
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle else 0.0


def number(value: float, unit: str) -> str:
    if unit in ("/s", "B"):
        return f"{value:,.0f}"
    if unit == "×":
        return f"{value:.3f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def judge(figure: Figure) -> tuple[str, str, str]:
    """The change of the medians (signed: + better), the noise, and the verdict."""
    before, after = figure.values.get("before"), figure.values.get("after")
    if not before or not after:
        return "—", "—", "not measured on both sides"
    b, a = statistics.median(before), statistics.median(after)
    change = (a / b - 1) if b else 0.0
    better = change if figure.higher_better else -change
    if figure.count:
        noise = max(spread(before), spread(after))
        shown = f"{noise:.1%}" if noise else "none"
        worse = better < -noise - 1e-12
        verdict = ("**worse**" if worse else "not worse") + " (a count)"
        return f"{better:+.1%}", shown, verdict
    noise = max(spread(before), spread(after))
    worse = better < -noise
    if figure.control:
        verdict = "control: " + ("drifted beyond noise" if abs(change) > noise else "steady")
    else:
        verdict = "**worse beyond noise**" if worse else "not worse beyond noise"
    return f"{better:+.1%}", f"±{noise:.0%}", verdict


def column(side: str, versions: set[str]) -> str:
    """``before 9ec7f6e (2026-11-23)``: the side, its commit(s) and their dates."""
    commits = sorted({version.split()[0] for version in versions})
    named = [f"{c} ({commit_date(c.removesuffix('-dirty'))})" if commit_date(
        c.removesuffix("-dirty")) else c for c in commits]
    return f"{side} {', '.join(named)}"


def report(figures: Figures, versions: dict[str, set[str]], counts: dict[str, int]) -> str:
    heads = {side: ", ".join(sorted(versions[side])) for side in ("before", "after")}
    lines = [f"before: eventstore {heads['before']}, {counts['before']} runs; after: "
             f"eventstore {heads['after']}, {counts['after']} runs. Median (min–max) of the "
             "runs; change of the medians (+ better, − worse); noise: the larger spread, "
             "(max − min) ÷ median, of the repeats of one commit.", "",
             f"| figure | {column('before', versions['before'])} "
             f"| {column('after', versions['after'])} | change | noise | verdict |",
             "|---|---:|---:|---:|---:|---|"]
    groups: list[str] = []  # "sqlite, batch 100", "postgresql": the figures' groups
    for name in figures.order:
        if name.split(":")[0] not in groups:
            groups.append(name.split(":")[0])
    for name in sorted(figures.order, key=lambda n: groups.index(n.split(":")[0])):
        figure = figures.by_name[name]
        cells = []
        for side in ("before", "after"):
            values = figure.values.get(side)
            if not values:
                cells.append("—")
                continue
            median = number(statistics.median(values), figure.unit)
            cells.append(median if len(values) == 1 else
                         f"{median} ({number(min(values), figure.unit)}–"
                         f"{number(max(values), figure.unit)})")
        change, noise, verdict = judge(figure)
        unit = f" ({figure.unit})" if figure.unit and figure.unit not in ("/s", "×") else ""
        lines.append(f"| {name}{unit} | {cells[0]} | {cells[1]} | {change} | {noise} "
                     f"| {verdict} |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--before", nargs="+", required=True, help="the before's --json files")
    parser.add_argument("--after", nargs="+", required=True, help="the after's --json files")
    parser.add_argument("--output", default=None, help="also write the table to this file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    figures = Figures()
    versions: dict[str, set[str]] = {"before": set(), "after": set()}
    counts = {"before": 0, "after": 0}
    kinds = set()
    for side, paths in (("before", args.before), ("after", args.after)):
        for path, data in load(paths):
            if "plan" in data and "results" in data:
                kinds.add("append")
                append_figures(side, data, figures)
            elif data.get("cold_reads"):
                kinds.add("cold reads")
                cold_reads_figures(side, data, figures)
            elif "job" in data and "runs" in data:
                kinds.add("projection")
                projection_figures(side, data, figures)
            else:
                raise SystemExit(f"{path}: not the --json of append.py, projection.py or "
                                 "cold_reads.py")
            versions[side].add(version_of(data))
            counts[side] += 1
    if len(kinds) > 1:
        raise SystemExit("give the runs of one benchmark at a time")
    text = report(figures, versions, counts)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
