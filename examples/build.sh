#!/usr/bin/env bash
# The worked example: build a store from the two sample articles, then print where the
# US–Russia track stands and how it got there, each step with the exact words of a source,
# and write it as one HTML page (./track.html; the command prints its path).
# Idempotent: sources are content-addressed and every fact in facts.jsonl has its own event id,
# so running it again writes nothing new. Database: --db / EVENTSTORE_URL, default ./facts.db.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
es="${EVENTSTORE:-$here/../.venv/bin/eventstore}"

"$es" init
# The page of 000_… ends with unrelated headlines: mark where the article's body ends,
# so that nothing can ever be cited from them.
"$es" source add "$here/corpus/000_86bc20a7cdb98149.txt" --language fr --published 2018-08-24 \
  --outlet "People's Daily Online (édition française)" \
  --body-until "Chine : une logistique plus verte"
"$es" source add "$here/corpus/002_b7d725ce0dbfee63.txt" --language fr --outlet Baonghean.vn \
  --title "Le président Poutine : la Russie ne cherche pas la confrontation avec les États-Unis"
"$es" append --file "$here/facts.jsonl"
"$es" project --track RUS-USA
"$es" history --track RUS-USA
# One self-contained HTML page of the track (state, timeline, history, the cited words
# marked in their sources): open it in any browser, no network needed.
"$es" report --track RUS-USA --out track.html
