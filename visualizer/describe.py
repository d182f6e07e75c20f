"""What each node, edge and cluster of a picture says, shared by the DOT and Mermaid writers.

The writers only decide syntax and styling; the words come from here, so a workflow reads
the same in an SVG and on a Markdown page.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, replace

from asl import model as m
from asl.graph import GraphScope
from visualizer import labels
from visualizer.diagram import Diagram, Edge
from visualizer.repair import Repair
from visualizer.styles import STATUS_WORDS, Status
from visualizer.trace import StateTrace, Trace

#: Retriers listed on a state before the rest are counted.
RETRIERS_SHOWN = 3
#: Width and number of lines of a Choice rule on an edge.
RULE_WIDTH, RULE_LINES = 30, 3
#: Width and number of lines of a failure's cause on the failing state.
CAUSE_WIDTH, CAUSE_LINES = 44, 5
#: Width and number of lines of the execution's error and cause in a trace's headline.
HEADLINE_WIDTH, HEADLINE_LINES = 110, 3


@dataclass(frozen=True, slots=True)
class NodeText:
    """The lines of one state's box."""

    title: str
    caption: str
    notes: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    error: str | None = None
    cause: tuple[str, ...] = ()
    status: Status | None = None
    tooltip: str = ""
    #: The definition's problems in this state, when an invalid one is drawn.
    problems: tuple[str, ...] = ()


def node_text(diagram: Diagram, node: str, trace: Trace | None) -> NodeText:
    """The title, caption, Retry notes and (with a trace) outcome of a state."""
    state = diagram.states[node]
    notes = _retry_notes(state)
    tooltip = f"{state.name} ({diagram.drawn_type(node)})"
    if state.comment:
        tooltip += f": {state.comment}"
    if diagram.repair is not None and _has_problems(diagram.repair, node):
        return _problem_text(diagram.repair, node, state, tooltip)
    if trace is None:
        return NodeText(state.name, labels.caption(state), notes, tooltip=tooltip)
    found = trace.state(node)
    cause: tuple[str, ...] = ()
    error = found.error if found.status in ("failed", "caught") else None
    if found.status == "failed" and found.cause:
        cause = tuple(labels.wrap(cause_label(found.cause), CAUSE_WIDTH, CAUSE_LINES))
    if found.cause:
        tooltip += f" | {found.error}: {labels.shorten(found.cause, 1000)}"
    return NodeText(
        state.name,
        labels.caption(state),
        notes,
        tuple(outcome_lines(found, bool(trace.duration))),
        error,
        cause,
        found.status,
        tooltip,
    )


def heat_text(diagram: Diagram, node: str, trace: Trace) -> NodeText:
    """A state of a heat map (many executions merged): what it is, how often it was
    entered and how it fared, and how many errors each Retrier handled."""
    text = node_text(diagram, node, trace)
    found = trace.state(node)
    notes = _retry_notes(diagram.states[node], found.retriers)
    outcome = tuple(hit_lines(found))
    name, _, failure = text.tooltip.partition(" | ")
    tooltip = " | ".join(part for part in (name, *outcome, *notes, failure) if part)
    return replace(text, notes=notes, outcome=outcome, cause=(), tooltip=tooltip)


def hit_lines(found: StateTrace) -> list[str]:
    """How often a state was entered and how it fared: ``entered ×7 · 2 caught``."""
    if not found.visits:
        return ["never entered"]
    parts = [f"entered {taken_text(len(found.visits))}"]
    counts = ((found.failed, "failed"), (found.caught, "caught"), (found.aborted, "aborted"))
    parts += [f"{n} {word}" for n, word in counts if n]
    if found.retries:
        parts.append(f"{found.retries} retr{'y' if found.retries == 1 else 'ies'}")
    out = [" · ".join(parts)]
    if found.iterations:
        out.append(iteration_text(found))
    return out


#: Width and number of lines of each problem marked on a state, and problems listed.
PROBLEM_WIDTH, PROBLEM_LINES, PROBLEMS_SHOWN = 44, 3, 3


def _has_problems(repair: Repair, node: str) -> bool:
    return node in repair.problems or node in repair.missing or node in repair.stand_ins


def _problem_text(repair: Repair, node: str, state: m.State, tooltip: str) -> NodeText:
    """A state of an invalid definition: what it is (or was declared as) and what is wrong."""
    found = repair.problems.get(node, [])
    if node in repair.missing:
        caption = "missing: no state has this name"
        lines = [f"{state.name} is named by a transition but not defined"]
    else:
        caption = labels.caption(state)
        if node in repair.stand_ins:
            caption = f"{repair.stand_ins[node] or 'no Type'} (cannot be read)"
        lines = [f"{d.code}: {d.message}" for d in found]
    problems = [
        line
        for text in lines[:PROBLEMS_SHOWN]
        for line in labels.wrap("⚠ " + text, PROBLEM_WIDTH, PROBLEM_LINES)
    ]
    if len(lines) > PROBLEMS_SHOWN:
        problems.append(f"and {len(lines) - PROBLEMS_SHOWN} more")
    tooltip += "".join(f" | {d.code}: {d.message}" for d in found)
    return NodeText(state.name, caption, tooltip=tooltip, problems=tuple(problems))


def problem_lines(diagram: Diagram) -> list[str]:
    """The headline of an invalid definition drawn anyway: how many problems, and those
    not inside any state."""
    if diagram.repair is None:
        return []
    count = sum(len(found) for found in diagram.repair.problems.values())
    count += len(diagram.repair.general)
    out = [f"Invalid definition · {count} problem{'s' if count != 1 else ''}"]
    for d in diagram.repair.general[:PROBLEMS_SHOWN]:
        where = f" ({d.location})" if d.location else ""
        out += labels.wrap(f"⚠ {d.code}: {d.message}{where}", HEADLINE_WIDTH, 2)
    return out


def _retry_notes(state: m.State, handled: Counter[int] | None = None) -> tuple[str, ...]:
    """A line per Retrier; with ``handled``, each with how many errors it handled."""
    retriers = getattr(state, "retry", ())
    notes = [labels.retry_text(r) for r in retriers[:RETRIERS_SHOWN]]
    if handled is not None:
        notes = [f"{note} · {_handled_text(handled[i])}" for i, note in enumerate(notes)]
    if len(retriers) > RETRIERS_SHOWN:
        more = f"↻ +{len(retriers) - RETRIERS_SHOWN} more"
        if handled is not None:
            more += (
                f" · {_handled_text(sum(handled[i] for i in range(RETRIERS_SHOWN, len(retriers))))}"
            )
        notes.append(more)
    return tuple(notes)


def _handled_text(count: int) -> str:
    return f"handled {count}" if count else "never handled"


def outcome_lines(found: StateTrace, timed: bool = True) -> list[str]:
    """How a state fared: ``succeeded · 1.2 s``, ``7 runs · 2 caught · 3 s total``.

    ``timed`` is False when the history shows no elapsed time (a virtual clock): then
    durations, all zero, are left out."""
    if found.status == "not_reached":
        return ["not reached"]
    count = len(found.visits)
    duration = labels.duration_text(found.duration) if found.duration is not None else None
    if not timed:
        duration = None
    if count == 1:
        first = STATUS_WORDS[found.status]
        if found.status == "retried":
            first = "succeeded"
        parts = [first]
    else:
        parts = [f"{count} runs"]
        counts = ((found.failed, "failed"), (found.caught, "caught"), (found.aborted, "aborted"))
        parts += [f"{n} {word}" for n, word in counts]
        parts = [p for p in parts if not p.startswith("0 ")]
    if found.retries:
        parts.append(f"{found.retries} retr{'y' if found.retries == 1 else 'ies'}")
    if duration is not None:
        parts.append(duration + (" total" if count > 1 else ""))
    out = [" · ".join(parts)]
    if found.iterations:
        out.append(iteration_text(found))
    return out


def iteration_text(found: StateTrace) -> str:
    """``7 iterations · 1 failed`` for a Map."""
    text = f"{found.iterations} iteration{'s' if found.iterations != 1 else ''}"
    if found.failed_iterations:
        text += f" · {found.failed_iterations} failed"
    if found.aborted_iterations:
        text += f" · {found.aborted_iterations} aborted"
    return text


def cause_summary(cause: str) -> str:
    """A cause, or the ``errorMessage`` inside a Lambda's JSON cause."""
    try:
        value = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(value, dict) and isinstance(value.get("errorMessage"), str):
        return value["errorMessage"]
    return cause


_STATE_PREFIX = re.compile(
    r"^An error occurred while executing the state '.*?' \(entered at the event id #\d+\)\.\s*",
    re.DOTALL,
)
_SERVICE_SUFFIX = re.compile(r"\s*\(Service: [^()]*\)\s*$")


def cause_label(cause: str) -> str:
    """What a picture shows of a cause: :func:`cause_summary` without what the picture
    already says (the state it happened in) or what only a support case needs (AWS's
    service, status code and request id), so the reason fits; tooltips keep it whole."""
    text = _SERVICE_SUFFIX.sub("", _STATE_PREFIX.sub("", cause_summary(cause), count=1))
    return text or cause


# --- edges -----------------------------------------------------------------------------


def edge_lines(diagram: Diagram, edge: Edge) -> list[str]:
    """The label of a transition: a Choice rule, ``Default``, a Catch's errors, or nothing."""
    state = diagram.states[edge.source]
    broken = diagram.repair.broken_rules if diagram.repair is not None else ()
    if edge.kind == "choice" and (edge.source, edge.index) in broken:
        return ["⚠ invalid rule"]
    if edge.kind == "choice" and isinstance(state, m.Choice) and edge.index is not None:
        text = labels.condition_text(state.choices[edge.index].condition)
        return labels.wrap(labels.shorten(text, labels.RULE_MAX), RULE_WIDTH, RULE_LINES)
    if edge.kind == "default":
        return ["Default"]
    if edge.kind == "catch" and edge.index is not None:
        catch: tuple[m.Catcher, ...] = getattr(state, "catch", ())
        return labels.wrap(labels.catch_text(catch[edge.index]), RULE_WIDTH, 2)
    return []


def taken_text(count: int) -> str:
    """How often an edge was taken."""
    return f"×{count}"


# --- clusters and the whole picture ----------------------------------------------------


def scope_title(
    diagram: Diagram, scope: GraphScope, trace: Trace | None, heat: bool = False
) -> str:
    """The caption of a nested scope: ``Branch 2``, ``Item processor``, with outcomes (in a
    heat map, with how often it ran)."""
    assert scope.parent is not None
    siblings = diagram.children[scope.parent]
    if scope.kind == "branch":
        title = f"Branch {siblings.index(scope) + 1}"
    else:
        state = diagram.states[scope.parent]
        mode = state.item_processor.processor_config.mode if isinstance(state, m.Map) else ""
        title = "Each item" + (" (distributed)" if mode == "DISTRIBUTED" else "")
    if trace is None:
        return title
    if scope.kind == "processor":
        found = trace.state(scope.parent)
        if found.iterations:
            return f"{title} · {iteration_text(found)}"
        return f"{title} · no iterations" if heat else title
    if heat:
        runs = trace.starts[scope.id]
        return f"{title} · ran {taken_text(runs)}" if runs else f"{title} · never ran"
    statuses = {trace.state(node).status for node in scope.states}
    for status in ("failed", "aborted", "running", "caught"):
        if status in statuses:
            return f"{title} · {STATUS_WORDS[status]}"  # type: ignore[index]
    return title if statuses == {"not_reached"} else f"{title} · succeeded"


def execution_lines(trace: Trace) -> list[str]:
    """The headline of a trace: the execution's status, duration and error."""
    head = f"Execution {trace.status}"
    if trace.duration:
        head += f" · {labels.duration_text(trace.duration)}"
    out = [head]
    if trace.error is not None:
        text = f"{trace.error}: {cause_label(trace.cause)}" if trace.cause else trace.error
        out += labels.wrap(text, HEADLINE_WIDTH, HEADLINE_LINES)
    return out


def comment_lines(diagram: Diagram) -> list[str]:
    """The machine's Comment, wrapped, as a title."""
    comment = diagram.machine.comment
    return labels.wrap(comment, 90, 2) if comment else []
