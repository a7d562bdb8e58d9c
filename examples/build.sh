#!/usr/bin/env bash
# The worked examples: build one store from the sample articles, then for each track print
# where it stands and how it got there, each step with the exact words of a source, and
# write it as one HTML page (the command prints its path):
#   - US–Russia (RUS-USA), from two French articles of 2018: ./track.html
#   - Japan–South Korea (JPN-KOR), from three articles of 2024–2025, in French and
#     English: ./track-jpn-kor.html
# Then write every fact PLOVER codes as PLOVER event records (./plover.jsonl).
# Idempotent: sources are content-addressed and every fact has its own event id, so
# running it again writes nothing new. Database: --db / EVENTSTORE_URL, default ./facts.db.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
es="${EVENTSTORE:-$here/../.venv/bin/eventstore}"

"$es" init

# -- US–Russia --------------------------------------------------------------------------
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

# -- Japan–South Korea ------------------------------------------------------------------
# The same Lima meeting reported by KBS World in French and by The Korea Herald (Yonhap)
# in English; then the Seoul visit of January 2025 as announced by KBS World.
"$es" source add "$here/corpus/100_kbs_fr_88458.txt" --language fr --published 2024-11 \
  --published-basis inferred --outlet "KBS World (édition française)" \
  --note "The page prints no date; the stored copy is dated to the month." \
  --url "http://world.kbs.co.kr/service/news_view.htm?lang=f&Seq_Code=88458"
"$es" source add "$here/corpus/101_koreaherald_20241115050233.txt" --language en \
  --published 2024-11-15 --published-basis url --outlet "The Korea Herald" --agency Yonhap \
  --url "https://koreaherald.com/mobile/khpad_view.php?ud=20241115050233"
"$es" source add "$here/corpus/102_kbs_fr_89078.txt" --language fr --published 2025-01-13 \
  --published-basis inferred --outlet "KBS World (édition française)" \
  --note "Dated from what it reports: Iwaya's two-day visit to Seoul begun that morning." \
  --url "http://world.kbs.co.kr/service/news_view.htm?lang=f&Seq_Code=89078"
"$es" append --file "$here/facts-jpn-kor.jsonl"
"$es" project --track JPN-KOR
"$es" history --track JPN-KOR
"$es" report --track JPN-KOR --out track-jpn-kor.html

# -- PLOVER -----------------------------------------------------------------------------
# Every fact of both tracks that PLOVER codes, one event record a line (docs/plover.md);
# the facts it does not code are listed on stderr.
"$es" export --format plover --out plover.jsonl
