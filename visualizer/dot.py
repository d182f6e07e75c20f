"""A workflow (and optionally an execution of it) as graphviz DOT text.

Layout, top to bottom: a Start marker, the states in document order, an End marker. A
Parallel or Map state is a cluster: its own box on top (the fork, holding its name, what
it does and its Retry), one nested cluster per branch or for the item processor, and a
bar at the bottom (the join) from which its ``Next`` and ``Catch`` transitions leave.
Transitions never leave their scope, so the clusters nest cleanly. Choice edges carry
their rule, Catch edges are dashed and carry their error names.

With a trace, colours say what happened (see :mod:`visualizer.styles`), edges taken are
bold with how often, and failing states show their error and cause. As a heat map
(``heat=True``, for a trace of many executions merged), colours say how often instead:
states and edges graded by their hits (:mod:`visualizer.heat`), those never hit white or
grey and dashed, a state that failed with a red border, one that caught an error orange,
each Retrier with the errors it handled.
"""

from __future__ import annotations

from visualizer import describe, styles
from visualizer.diagram import Diagram, Edge, load_diagram
from visualizer.dotlang import Html, Value, attr_list, escape, font, lines, quote, statement
from visualizer.heat import HeatScale
from visualizer.trace import HistoryLike, Trace, build_trace

__all__ = [
    "END",
    "START",
    "back_edges",
    "cluster_id",
    "join_id",
    "proxy_id",
    "shared_catches",
    "to_dot",
]

#: Node ids of the machine's Start and End markers (state ids are JSON pointers, "/...").
START, END = "start", "end"
_INDENT = "  "


#: A state that this many Catch edges lead to gets them drawn to small stand-ins placed
#: next to each catching state (all but the last), not as long edges across the picture.
SHARED_CATCH_EDGES = 4


def shared_catches(diagram: Diagram) -> set[tuple[str, str]]:
    """(source, edge key) of the Catch edges drawn to a stand-in of their target."""
    into: dict[str, list[Edge]] = {}
    for edge in diagram.edges():
        if edge.kind == "catch":
            into.setdefault(edge.target, []).append(edge)
    return {
        (edge.source, edge.key)
        for edges in into.values()
        if len(edges) >= SHARED_CATCH_EDGES
        for edge in edges[:-1]
    }


#: A Choice leading to more states than this puts every other one a row lower, so that
#: their rule labels stack in two rows instead of one very wide one.
WIDE_CHOICE = 6


def staggered_targets(diagram: Diagram) -> dict[tuple[str, str], str]:
    """``minlen`` of the edges of wide Choices: (source, target) -> "2" for every other
    target (in the order of the rules)."""
    out: dict[tuple[str, str], str] = {}
    for node, state in diagram.states.items():
        if state.type != "Choice":
            continue
        targets = list(dict.fromkeys(e.target for e in diagram.out_edges(node)))
        if len(targets) > WIDE_CHOICE:
            out.update({(node, t): "2" for t in targets[1::2]})
    return out


def back_edges(diagram: Diagram) -> set[tuple[str, str, str]]:
    """(source, target, key) of the transitions that close a loop: those that reach a
    state still being explored in a depth-first walk of each scope from its start,
    following transitions in document order."""
    found: set[tuple[str, str, str]] = set()
    for scope in diagram.scopes.values():
        members = set(scope.states)
        marks: dict[str, bool] = {}  # True while on the walk's path, False once done
        roots = [scope.start] if scope.start is not None else []
        for root in [*roots, *scope.states]:
            if root in marks:
                continue
            marks[root] = True
            path = [(root, iter(diagram.out_edges(root)))]
            while path:
                node, edges = path[-1]
                edge = next(edges, None)
                if edge is None:
                    marks[node] = False
                    path.pop()
                elif edge.target not in members:
                    continue
                elif marks.get(edge.target) is True:
                    found.add((edge.source, edge.target, edge.key))
                elif edge.target not in marks:
                    marks[edge.target] = True
                    path.append((edge.target, iter(diagram.out_edges(edge.target))))
    return found


def doubled_transitions(diagram: Diagram) -> set[tuple[str, str]]:
    """(source, target) of the states joined by more than one transition (a ``Next`` and a
    Catch to the same state, say)."""
    seen: set[tuple[str, str]] = set()
    doubled: set[tuple[str, str]] = set()
    for edge in diagram.edges():
        pair = (edge.source, edge.target)
        (doubled if pair in seen else seen).add(pair)
    return doubled


def proxy_id(edge: Edge) -> str:
    """Node id of the stand-in a shared Catch edge leads to (never a state's pointer)."""
    return f"{edge.source}/{edge.key}"


def cluster_id(node_or_scope: str) -> str:
    """Id of the cluster drawing a Parallel or Map (by its node) or one of its scopes."""
    return "cluster_" + node_or_scope


def join_id(node: str) -> str:
    """Node id of the bar closing a Parallel or Map (never a JSON pointer of a state)."""
    return node + "/join"


def to_dot(
    definition: object, trace: Trace | HistoryLike | None = None, *, heat: bool = False
) -> str:
    """The DOT text of a definition (path, text, dict or Diagram), with an execution's
    history (or a :class:`~visualizer.trace.Trace` of it) drawn over it when given. With
    ``heat``, the trace (usually :func:`~visualizer.trace.merge_traces` of many) is drawn
    as a heat map of hit counts, headed by its ``status`` text."""
    diagram = load_diagram(definition)  # type: ignore[arg-type]
    if trace is not None and not isinstance(trace, Trace):
        trace = build_trace(diagram, trace)
    if heat and trace is None:
        raise ValueError("a heat map needs a trace to count")
    return _Writer(diagram, trace, HeatScale.of(trace) if heat and trace else None).document()


class _Writer:
    def __init__(self, diagram: Diagram, trace: Trace | None, heat: HeatScale | None) -> None:
        self.diagram = diagram
        self.trace = trace
        self.heat = heat
        self.out: list[str] = []
        self.ids = {node: f"state-{i}" for i, node in enumerate(diagram.states)}
        self.proxied = shared_catches(diagram)
        self.minlen = staggered_targets(diagram)
        self.back = back_edges(diagram)
        self.doubled = doubled_transitions(diagram)

    def document(self) -> str:
        self.out.append("digraph workflow {")
        self._emit(1, "graph" + attr_list({**styles.GRAPH_ATTRS, **self._title()}) + ";")
        self._emit(1, "node" + attr_list(styles.NODE_ATTRS) + ";")
        self._emit(1, "edge" + attr_list(styles.EDGE_ATTRS) + ";")
        self._markers()
        for node in self.diagram.root.states:
            self._state(node, 1)
        self._edges()
        self.out.append("}")
        return "\n".join(self.out) + "\n"

    def _emit(self, depth: int, text: str) -> None:
        self.out.append(_INDENT * depth + text)

    # --- the picture's title ---------------------------------------------------------

    def _title(self) -> dict[str, Value]:
        if self.trace is None:
            problems = describe.problem_lines(self.diagram)
            comment = describe.comment_lines(self.diagram)
            if not comment and not problems:
                return {}
            parts = [font(line, size=12, color=styles.MUTED) for line in comment]
            if problems:
                head, *rest = problems
                parts.append(f"<B>{font(head, size=13, color=styles.PROBLEM)}</B>")
                parts += [font(line, size=10, color=styles.PROBLEM) for line in rest]
        else:
            if self.heat is not None:
                parts = [f"<B>{font(self.trace.status or 'Hit counts', size=13)}</B>"]
                legend = _heat_legend(self.heat)
            else:
                head, *rest = describe.execution_lines(self.trace)
                colour = _execution_colour(self.trace.status)
                parts = [f"<B>{font(head, size=13, color=colour)}</B>"]
                parts += [font(line, size=10, color=colour) for line in rest]
                legend = _legend()
            rows = "".join(f"<TR><TD>{part}</TD></TR>" for part in parts)
            table = f'<TABLE BORDER="0" CELLSPACING="0">{rows}<TR><TD>{legend}</TD></TR></TABLE>'
            return {"label": Html(table), "labelloc": "t", "labeljust": "c"}
        return {"label": lines(parts), "labelloc": "t", "labeljust": "c"}

    # --- nodes -----------------------------------------------------------------------

    def _markers(self) -> None:
        marker = {
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": "#374151",
            "color": "#374151",
            "fontcolor": "#ffffff",
            "fontsize": "10",
            "width": "0.7",
            "height": "0.3",
        }
        self._emit(1, statement(quote(START), {**marker, "label": "Start"}))
        if self.diagram.ends_machine():
            self._emit(1, statement(quote(END), {**marker, "label": "End"}))

    def _state(self, node: str, depth: int) -> None:
        if node in self.diagram.children:
            self._cluster(node, depth)
        else:
            self._emit(depth, statement(quote(node), self._node_attrs(node)))
        for edge in self.diagram.out_edges(node):
            if (node, edge.key) in self.proxied:
                self._emit(depth, statement(quote(proxy_id(edge)), self._proxy_attrs(edge)))

    def _proxy_attrs(self, edge: Edge) -> dict[str, Value]:
        reached = self.trace is None or bool(self.trace.edges[(edge.source, edge.target, edge.key)])
        colour = styles.CATCH_EDGE if reached else styles.FAINT
        label = font("→ " + self.diagram.name(edge.target), size=9, color=colour)
        return {
            "shape": "box",
            "style": "rounded,dashed",
            "color": colour,
            "label": Html(label),
            "height": "0.3",
            "margin": "0.08,0.03",
            "tooltip": f"Catch leads to {self.diagram.name(edge.target)}",
        }

    def _node_attrs(self, node: str) -> dict[str, Value]:
        state_type = self.diagram.drawn_type(node)
        if self.heat is not None and self.trace is not None:
            text = describe.heat_text(self.diagram, node, self.trace)
            step = self.heat.step(len(self.trace.state(node).visits))
            look = styles.heat_look(state_type, step, text.status or "not_reached")
        else:
            text = describe.node_text(self.diagram, node, self.trace)
            look = (
                styles.type_look(state_type)
                if text.status is None
                else styles.status_look(state_type, text.status)
            )
        attrs: dict[str, Value] = {
            "id": self.ids[node],
            "class": f"state {state_type.lower()}"
            + (f" status-{text.status}" if text.status else ""),
            "shape": look.shape,
            "style": look.style,
            "fillcolor": look.fill,
            "color": look.border,
            "label": _node_label(text, look, heat=self.heat is not None),
            "tooltip": text.tooltip,
        }
        if look.margin is not None:
            attrs["margin"] = look.margin
        if text.status == "failed" or (self.heat is not None and text.status == "caught"):
            attrs["penwidth"] = "2.6"
        if text.problems:
            attrs |= {"color": styles.PROBLEM, "style": f"{look.style},dashed", "penwidth": "2"}
        return attrs

    def _cluster(self, node: str, depth: int) -> None:
        state_type = self.diagram.state_type(node)
        fill, border = styles.CLUSTER_COLOURS[state_type]
        self._emit(depth, f"subgraph {quote(cluster_id(node))} {{")
        cluster = {"label": "", "style": "rounded,filled", "fillcolor": fill, "color": border}
        self._emit(depth + 1, "graph" + attr_list(cluster) + ";")
        self._emit(depth + 1, statement(quote(node), self._node_attrs(node)))
        for scope in self.diagram.children[node]:
            title = describe.scope_title(self.diagram, scope, self.trace, self.heat is not None)
            self._emit(depth + 1, f"subgraph {quote(cluster_id(scope.id))} {{")
            inner: dict[str, Value] = {
                "label": Html(font(title, size=9, color=styles.MUTED)),
                "labeljust": "l",
                "style": "rounded,filled",
                "fillcolor": styles.SCOPE_FILL,
                "color": border,
            }
            self._emit(depth + 2, "graph" + attr_list(inner) + ";")
            for child in scope.states:
                self._state(child, depth + 2)
            self._emit(depth + 1, "}")
        bar = {"shape": "box", "label": "", "style": "filled", "fillcolor": border}
        bar |= {"color": border, "width": "0.9", "height": "0.06", "fixedsize": "true"}
        self._emit(depth + 1, statement(quote(join_id(node)), bar))
        self._emit(depth, "}")

    # --- edges -----------------------------------------------------------------------

    def _edges(self) -> None:
        diagram = self.diagram
        for scope in diagram.scopes.values():
            head = START if scope.parent is None else scope.parent
            if scope.start is not None:
                count = self.trace.starts[scope.id] if self.trace else None
                # A branch's or processor's title is its cluster's label, at the top: the
                # edge from the fork ends on the cluster's border (graphviz's compound
                # edges), above the title, not across it on its way to the start state;
                # two ranks long, as the cluster's margins and title take up most of one.
                fork: dict[str, Value] = {}
                if scope.parent is not None:
                    fork = {"minlen": "2", "lhead": cluster_id(scope.id)}
                self._edge(head, scope.start, fork, [], count)
            for node in scope.states:
                for edge in diagram.out_edges(node):
                    self._transition(edge)
                if diagram.ends_scope(node):
                    tail = node if node not in diagram.children else join_id(node)
                    end = END if scope.parent is None else join_id(scope.parent)
                    count = self.trace.ends[node] if self.trace else None
                    self._edge(tail, end, {}, [], count)

    def _transition(self, edge: Edge) -> None:
        tail = edge.source
        if tail in self.diagram.children:
            tail = join_id(tail)
        attrs: dict[str, Value] = {}
        text = describe.edge_lines(self.diagram, edge)
        colour = None
        if edge.kind == "choice":
            colour = styles.CHOICE_EDGE
        elif edge.kind == "catch":
            colour = styles.CATCH_EDGE
            attrs["style"] = "dashed"
        if colour is not None:
            attrs |= {"color": colour, "fontcolor": colour}
        count = None
        if self.trace is not None:
            count = self.trace.edges[(edge.source, edge.target, edge.key)]
        italic = edge.kind == "default"
        if not text and (edge.source, edge.target) in self.doubled:
            # dot lays an unlabelled edge almost on top of a labelled one between the same
            # two states, arrowheads overlapping; a blank label (a count, in a trace, takes
            # its place) gives it a lane of its own.
            attrs["label"] = Html(" ")
        if (edge.source, edge.target) in self.minlen:
            attrs["minlen"] = self.minlen[(edge.source, edge.target)]
        if (edge.source, edge.key) in self.proxied:
            self._edge(tail, proxy_id(edge), attrs, text, count, italic)
        elif (edge.source, edge.target, edge.key) in self.back:
            # Drawn reversed, so that loops always bend back up the same way, whatever
            # the labels (dot otherwise picks which edge of a cycle to turn around).
            self._edge(edge.target, tail, attrs | {"dir": "back"}, text, count, italic)
        else:
            self._edge(tail, edge.target, attrs, text, count, italic)

    def _edge(
        self,
        tail: str,
        head: str,
        attrs: dict[str, Value],
        text: list[str],
        count: int | None,
        italic: bool = False,
    ) -> None:
        parts = [f"<I>{escape(t)}</I>" if italic else escape(t) for t in text]
        if self.heat is not None and count is not None:
            attrs = attrs | _heat_edge(self.heat.step(count))
            parts.append(f"<B>{escape(describe.taken_text(count))}</B>" if count else "never")
        elif count:
            parts.append(f"<B>{escape(describe.taken_text(count))}</B>")
            taken: dict[str, Value] = {"color": styles.TAKEN_EDGE, "fontcolor": styles.TAKEN_EDGE}
            attrs = taken | attrs | {"penwidth": "2.6"}
        elif count == 0:
            attrs = attrs | {"color": styles.UNTAKEN_EDGE, "fontcolor": styles.FAINT}
        if parts:
            attrs = attrs | {"label": lines(parts)}
        self._emit(1, f"{quote(tail)} -> {quote(head)}{attr_list(attrs)};")


def _node_label(text: describe.NodeText, look: styles.Look, heat: bool = False) -> Html:
    faint = text.status == "not_reached"
    if heat:  # every line in the text colour its fill was chosen for
        parts = [f"<B>{font(text.title, color=look.text)}</B>"]
        parts += [font(line, size=9, color=look.text) for line in (text.caption, *text.notes)]
        parts += [font(line, size=9, color=look.text) for line in text.outcome]
        if text.error is not None:
            parts.append(f"<B>{font('✗ ' + text.error, size=9, color=look.text)}</B>")
        return lines(parts)
    parts = [f"<B>{font(text.title, color=look.text if faint else None)}</B>"]
    parts.append(font(text.caption, size=9, color=styles.FAINT if faint else styles.MUTED))
    parts += [font(n, size=8.5, color=styles.FAINT if faint else "#92400e") for n in text.notes]
    if text.status is not None and not faint:
        _, border = styles.STATUS_COLOURS[text.status]
        parts += [font(line, size=9, color=border) for line in text.outcome]
    if text.error is not None:
        parts.append(f"<B>{font(text.error, size=9, color='#b91c1c')}</B>")
    parts += [font(line, size=8.5, color="#7f1d1d") for line in text.cause]
    parts += [font(line, size=8.5, color=styles.PROBLEM) for line in text.problems]
    return lines(parts)


def _legend() -> str:
    cells = []
    for status in styles.STATUSES:
        fill, border = styles.STATUS_COLOURS[status]
        word = escape(styles.STATUS_WORDS[status])
        cells.append(
            f'<TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1" CELLPADDING="3">'
            f'<FONT POINT-SIZE="9">{word}</FONT></TD>'
        )
    return '<TABLE BORDER="0" CELLSPACING="4"><TR>' + "".join(cells) + "</TR></TABLE>"


def _heat_edge(step: int | None) -> dict[str, Value]:
    """A transition of a heat map: dotted grey when never taken, else in its step's colour,
    the thicker the more it was taken."""
    if step is None:
        return {"color": styles.NEVER_LINE, "fontcolor": styles.FAINT, "style": "dotted"}
    _, line, _ = styles.HEAT_STEPS[step]
    return {"color": line, "fontcolor": styles.TEXT, "penwidth": f"{1.2 + 0.6 * step:g}"}


def _heat_legend(scale: HeatScale) -> str:
    """The steps of hits and what the borders say."""
    never = f'<TD BORDER="1" COLOR="{styles.NEVER_LINE}" CELLPADDING="3">{_small("never")}</TD>'
    cells = [f"<TD>{_small('hits:')}</TD>", never]
    for step, low, high in scale.ranges():
        fill, line, text = styles.HEAT_STEPS[step]
        words = str(low) if low == high else f"{low}–{high}"
        cells.append(
            f'<TD BGCOLOR="{fill}" COLOR="{line}" BORDER="1" CELLPADDING="3">'
            f"{_small(words, text)}</TD>"
        )
    borders: tuple[tuple[styles.Status, str], ...] = (
        ("failed", "failed in a run"),
        ("caught", "caught an error"),
    )
    for status, words in borders:
        border = styles.STATUS_COLOURS[status][1]
        cells.append(f'<TD BORDER="2" COLOR="{border}" CELLPADDING="3">{_small(words)}</TD>')
    return '<TABLE BORDER="0" CELLSPACING="4"><TR>' + "".join(cells) + "</TR></TABLE>"


def _small(words: str, colour: str = styles.TEXT) -> str:
    return f'<FONT POINT-SIZE="9" COLOR="{colour}">{escape(words)}</FONT>'


def _execution_colour(status: str) -> str:
    return {
        "SUCCEEDED": styles.STATUS_COLOURS["succeeded"][1],
        "FAILED": styles.STATUS_COLOURS["failed"][1],
        "TIMED_OUT": styles.STATUS_COLOURS["failed"][1],
        "RUNNING": styles.STATUS_COLOURS["running"][1],
    }.get(status, styles.TEXT)
