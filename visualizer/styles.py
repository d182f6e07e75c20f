"""Colours, shapes and fonts of the pictures: one place to tune how a workflow looks.

A state is drawn by type when a definition is drawn alone, and by status when an
execution is overlaid: the shape keeps saying what the state is, the colour says what
happened there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

#: What happened at a state during an execution.
Status = Literal["succeeded", "failed", "caught", "retried", "running", "aborted", "not_reached"]
STATUSES: Final[tuple[Status, ...]] = (
    "succeeded",
    "retried",
    "caught",
    "failed",
    "running",
    "aborted",
    "not_reached",
)

FONT: Final = "Helvetica"
TEXT: Final = "#1f2937"
MUTED: Final = "#6b7280"
FAINT: Final = "#9ca3af"
#: Problems of an invalid definition drawn anyway: their text and their states' borders.
PROBLEM: Final = "#dc2626"
EDGE: Final = "#4b5563"
CHOICE_EDGE: Final = "#92400e"
CATCH_EDGE: Final = "#dc2626"
UNTAKEN_EDGE: Final = "#d1d5db"
TAKEN_EDGE: Final = "#111827"


@dataclass(frozen=True, slots=True)
class Look:
    """How one kind of node is drawn: its shape, fill, border and the text colour."""

    shape: str
    fill: str
    border: str
    text: str = TEXT
    style: str = "rounded,filled"
    #: Space between the label and the border, when the node default does not suit.
    margin: str | None = None


#: The look of each state type when a definition is drawn without an execution.
TYPE_LOOKS: Final[dict[str, Look]] = {
    "Task": Look("box", "#dbeafe", "#1d4ed8"),
    "Pass": Look("box", "#f3f4f6", "#6b7280"),
    "Choice": Look("diamond", "#fef3c7", "#b45309", style="filled", margin="0.04,0.02"),
    "Wait": Look("box", "#fce7f3", "#be185d"),
    "Succeed": Look("box", "#dcfce7", "#15803d", style="rounded,filled,bold"),
    "Fail": Look("octagon", "#fee2e2", "#b91c1c", style="filled", margin="0.02,0.02"),
    "Parallel": Look("box", "#ede9fe", "#6d28d9", style="rounded,filled,bold"),
    "Map": Look("box", "#ccfbf1", "#0f766e", style="rounded,filled,bold"),
}
UNKNOWN_LOOK: Final = Look("box", "#ffffff", "#6b7280")

#: Fill and border of a state by what happened there.
STATUS_COLOURS: Final[dict[Status, tuple[str, str]]] = {
    "succeeded": ("#dcfce7", "#15803d"),
    "retried": ("#fef9c3", "#a16207"),
    "caught": ("#ffedd5", "#c2410c"),
    "failed": ("#fecaca", "#b91c1c"),
    "running": ("#dbeafe", "#1d4ed8"),
    "aborted": ("#e5e7eb", "#4b5563"),
    "not_reached": ("#ffffff", "#d1d5db"),
}

#: The words a legend and a report use for each status.
STATUS_WORDS: Final[dict[Status, str]] = {
    "succeeded": "succeeded",
    "retried": "retried",
    "caught": "caught",
    "failed": "failed",
    "running": "running",
    "aborted": "aborted",
    "not_reached": "not reached",
}

#: Hit counts drawn as a heat map (the coverage report): the fill, line (border and edge)
#: and text colour of each step, the fewest hits first. ColorBrewer's YlGnBu: a
#: sequential palette safe for colour-blind readers whose lightness falls step by step,
#: so the order survives a grey print.
HEAT_STEPS: Final[tuple[tuple[str, str, str], ...]] = (
    ("#edf8b1", "#41b6c4", TEXT),
    ("#c7e9b4", "#1d91c0", TEXT),
    ("#7fcdbb", "#225ea8", TEXT),
    ("#41b6c4", "#253494", TEXT),
    ("#1d91c0", "#081d58", "#ffffff"),
)
#: Never hit: white with a dashed grey border (a state), dotted grey (a transition).
NEVER_FILL: Final = "#ffffff"
NEVER_LINE: Final = "#9ca3af"

#: Fill and border of the clusters around Parallel branches and Map item processors.
CLUSTER_COLOURS: Final[dict[str, tuple[str, str]]] = {
    "Parallel": ("#faf5ff", "#a78bfa"),
    "Map": ("#f0fdfa", "#5eead4"),
}
SCOPE_FILL: Final = "#ffffff"

#: Graph-wide attributes. Spline routing (not ``ortho``) keeps ``dot`` fast on machines of
#: hundreds of states; ``newrank`` is left off: dot 2.43 is slow with it past ~200 states
#: and crashes past ~350.
GRAPH_ATTRS: Final[dict[str, str]] = {
    "rankdir": "TB",
    "fontname": FONT,
    "fontsize": "11",
    "fontcolor": TEXT,
    "nodesep": "0.35",
    "ranksep": "0.45",
    "compound": "true",
    "outputorder": "edgesfirst",
    "pad": "0.3",
}
NODE_ATTRS: Final[dict[str, str]] = {
    "fontname": FONT,
    "fontsize": "11",
    "fontcolor": TEXT,
    "penwidth": "1.3",
    "margin": "0.14,0.06",
}
EDGE_ATTRS: Final[dict[str, str]] = {
    "fontname": FONT,
    "fontsize": "9",
    "color": EDGE,
    "fontcolor": MUTED,
    "arrowsize": "0.7",
    "penwidth": "1.1",
}


def type_look(state_type: str | None) -> Look:
    """The look of a state type (an unknown type gets a plain box)."""
    return TYPE_LOOKS.get(state_type or "", UNKNOWN_LOOK)


def status_look(state_type: str | None, status: Status) -> Look:
    """The look of a state in an execution: its type's shape in its status's colours."""
    base = type_look(state_type)
    fill, border = STATUS_COLOURS[status]
    text = FAINT if status == "not_reached" else TEXT
    style = base.style
    if status == "running":
        style += ",dashed"
    return Look(base.shape, fill, border, text, style, base.margin)


def heat_look(state_type: str | None, step: int | None, status: Status) -> Look:
    """The look of a state in a heat map: its type's shape, filled by its step of hits
    (``None``: never entered), its border red when it failed, orange when it caught an
    error."""
    base = type_look(state_type)
    if step is None:
        return Look(base.shape, NEVER_FILL, NEVER_LINE, FAINT, base.style + ",dashed", base.margin)
    fill, line, text = HEAT_STEPS[step]
    if status in ("failed", "caught"):
        line = STATUS_COLOURS[status][1]
    return Look(base.shape, fill, line, text, base.style, base.margin)
