"""The console's HTML: one page shell, and small helpers that escape every value."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

__all__ = ["date", "form", "json_block", "link", "page", "short_name", "status", "table", "url"]

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
nav{background:#232f3e;padding:10px 24px}nav a{color:#fff;margin-right:20px;text-decoration:none}
main{padding:16px 24px;max-width:1400px}h1{font-size:20px;margin:4px 0 12px}
h2{font-size:16px;margin:18px 0 8px}table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #d5dbe3;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5}pre{background:#fff;border:1px solid #d5dbe3;padding:8px;
overflow:auto;max-height:320px;margin:0}textarea{width:100%;font:13px monospace}
form.inline{display:inline}button{margin:4px 6px 4px 0;padding:4px 12px;cursor:pointer}
.status-SUCCEEDED{color:#1d8102}.status-FAILED,.status-TIMED_OUT,.status-ABORTED{color:#d13212}
.status-RUNNING{color:#0073bb}.error{color:#d13212;font-weight:600}.svg{background:#fff;
border:1px solid #d5dbe3;overflow:auto;padding:8px}.svg svg{max-width:100%;height:auto}
iframe{width:100%;height:640px;border:1px solid #d5dbe3;background:#fff}
.filters input,.filters select{margin-right:8px}.muted{color:#5f6b7a}
.cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:16px}
td form.inline{display:block}
td form.inline+form.inline{margin-top:8px;padding-top:8px;border-top:1px solid #d5dbe3}
label{display:block;margin-bottom:6px}pre.definition{max-height:none}
.line .number{display:inline-block;width:3em;color:#8a94a3;user-select:none}
.line.marked{background:#fff4d6}.diag{font:12px system-ui;padding:2px 8px 2px 3.6em}
.diag-ERROR{color:#d13212}.diag-WARNING{color:#8a5a00}.nowrap{white-space:nowrap}
td pre{white-space:pre-wrap}td pre,.long{overflow-wrap:anywhere}
"""


def page(title: str, body: str, script: str = "") -> str:
    """A whole console page: navigation, ``title`` (escaped here) and ``body`` (HTML)."""
    nav = (
        '<nav><a href="/console/">State machines</a><a href="/console/executions">Executions</a>'
        '<a href="/console/tasks">Waiting tasks</a><a href="/console/schedules">Schedules</a></nav>'
    )
    tail = f"<script>{script}</script>" if script else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<link rel="icon" href="data:,">'  # no icon: the browser asks for no /favicon.ico
        f"<title>{escape(title)} - asl console</title><style>{_CSS}</style></head>"
        f"<body>{nav}<main><h1>{escape(title)}</h1>{body}</main>{tail}</body></html>"
    )


def url(path: str, **query: Any) -> str:
    """``path`` with the query parameters that are not None."""
    given = {k: v for k, v in query.items() if v is not None}
    return f"{path}?{urlencode(given)}" if given else path


def short_name(arn: str) -> str:
    """The last part of an ARN, what a page shows of it as a name (a machine's name, a
    Map Run's id)."""
    return arn.rsplit(":", 1)[-1]


def link(href: str, text: str) -> str:
    """An anchor; both escaped."""
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table of HTML cells (the caller escapes them); a line of its own when empty."""
    cells = ["".join(f"<td>{cell}</td>" for cell in row) for row in rows]
    if not cells:
        return '<p class="muted">None.</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(f"<tr>{row}</tr>" for row in cells)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def status(value: str) -> str:
    """An execution's status, coloured by its class."""
    return f'<span class="status status-{escape(value)}">{escape(value)}</span>'


def date(seconds: float | None) -> str:
    """An epoch time as UTC text, empty for none."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def json_block(text: str | None) -> str:
    """JSON text pretty-printed in a ``<pre>`` (as given when it is not JSON)."""
    if text is None:
        return '<span class="muted">-</span>'
    try:
        shown = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        shown = text
    return f"<pre>{escape(shown)}</pre>"


def form(
    action: str, csrf: str, fields: dict[str, str], inner: str, button: str, json_field: str = ""
) -> str:
    """A POST form with the session's CSRF token and hidden ``fields`` (escaped); its
    ``json_field``, when given, is checked to be JSON before the form is sent."""
    checked = f' data-json="{escape(json_field)}"' if json_field else ""
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in {"csrf": csrf, **fields}.items()
    )
    return (
        f'<form class="inline" method="post" action="{escape(action)}"{checked}>{hidden}{inner}'
        f"<button>{escape(button)}</button></form>"
    )
