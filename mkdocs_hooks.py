"""MkDocs hooks (mkdocs.yml ``hooks:``) for the API reference of docs/api.md.

The docstrings name other objects the reStructuredText way (``:class:`Report```,
``:meth:`append```). mkdocstrings renders the name as code but leaves the role in front
of it as text (":meth:append"); this drops the role, keeping the code, and shows
``~a.b.C`` as ``C``, as Sphinx does.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:attr|class|data|exc|func|meth|mod|obj):<code>(~?)([^<]*)</code>")


def _code(match: re.Match[str]) -> str:
    name = match[2].rsplit(".", 1)[-1] if match[1] else match[2]
    return f"<code>{name}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    return _ROLE.sub(_code, html)
