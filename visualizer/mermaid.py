"""A workflow (and optionally an execution of it) as a Mermaid flowchart, for Markdown pages.

The structure is the DOT picture's: Start and End markers, Parallel branches and Map item
processors as nested subgraphs opened by the state itself and closed by a small join
node, Choice rules and Catch errors on the edges (Catch edges dotted). With a trace,
states get a class per status and edges taken are thick with how often.
"""

from __future__ import annotations

from visualizer import describe, styles
from visualizer.diagram import Diagram, Edge, load_diagram
from visualizer.labels import visible
from visualizer.trace import HistoryLike, Trace, build_trace

__all__ = ["to_mermaid"]

_SHAPES = {
    "Task": ('("', '")'),
    "Pass": ('["', '"]'),
    "Choice": ('{"', '"}'),
    "Wait": ('[/"', '"/]'),
    "Succeed": ('(["', '"])'),
    "Fail": ('{{"', '"}}'),
    "Parallel": ('[["', '"]]'),
    "Map": ('[["', '"]]'),
}
_INDENT = "    "


def to_mermaid(definition: object, trace: Trace | HistoryLike | None = None) -> str:
    """The Mermaid ``flowchart`` text of a definition, with an execution drawn over it
    when a history (or a :class:`~visualizer.trace.Trace`) is given."""
    diagram = load_diagram(definition)  # type: ignore[arg-type]
    if trace is not None and not isinstance(trace, Trace):
        trace = build_trace(diagram, trace)
    return _Writer(diagram, trace).document()


def escape(text: str) -> str:
    """Text made safe inside a quoted Mermaid label (entity codes for markup characters)."""
    out = []
    for char in visible(text):
        if char in '"#&<>|`':
            out.append(f"#{ord(char)};")
        else:
            out.append(char)
    return "".join(out)


class _Writer:
    def __init__(self, diagram: Diagram, trace: Trace | None) -> None:
        self.diagram = diagram
        self.trace = trace
        self.ids = {node: f"s{i}" for i, node in enumerate(diagram.states)}
        self.out: list[str] = []
        self.links = 0
        self.link_styles: list[str] = []
        self.classes: dict[str, list[str]] = {}

    def document(self) -> str:
        self.out.append("flowchart TD")
        for line in self._title():
            self.out.append(f"{_INDENT}%% {line}")
        self._emit(1, 'start(["Start"])')
        self.classes.setdefault("marker", []).append("start")
        if self.diagram.ends_machine():
            self._emit(1, 'finish(["End"])')
            self.classes["marker"].append("finish")
        for node in self.diagram.root.states:
            self._state(node, 1)
        self._edges()
        self._styles()
        return "\n".join(self.out) + "\n"

    def _emit(self, depth: int, text: str) -> None:
        self.out.append(_INDENT * depth + text)

    def _title(self) -> list[str]:
        if self.trace is not None:
            return describe.execution_lines(self.trace)
        return describe.problem_lines(self.diagram) + describe.comment_lines(self.diagram)

    def _id(self, node: str) -> str:
        return self.ids[node]

    def _join(self, node: str) -> str:
        return self.ids[node] + "_join"

    # --- nodes -----------------------------------------------------------------------

    def _state(self, node: str, depth: int) -> None:
        children = self.diagram.children.get(node)
        if children is None:
            self._node(node, depth)
            return
        self._emit(depth, f'subgraph {self._id(node)}_box[" "]')
        self._node(node, depth + 1)
        for scope in children:
            title = escape(describe.scope_title(self.diagram, scope, self.trace))
            scope_id = f"{self._id(node)}_{scope.location[-1]}"
            self._emit(depth + 1, f'subgraph {scope_id}["{title}"]')
            self.classes.setdefault(f"scope{self.diagram.state_type(node)}", []).append(scope_id)
            for child in scope.states:
                self._state(child, depth + 2)
            self._emit(depth + 1, "end")
        self._emit(depth + 1, f'{self._join(node)}((" "))')
        self.classes.setdefault(f"join{self.diagram.state_type(node)}", []).append(self._join(node))
        self._emit(depth, "end")
        self.classes.setdefault(f"box{self.diagram.state_type(node)}", []).append(
            f"{self._id(node)}_box"
        )

    def _node(self, node: str, depth: int) -> None:
        text = describe.node_text(self.diagram, node, self.trace)
        state_type = self.diagram.drawn_type(node)
        parts = [f"<b>{escape(text.title)}</b>", escape(text.caption)]
        parts += [escape(note) for note in text.notes]
        if text.status is not None and text.status != "not_reached":
            parts += [escape(line) for line in text.outcome]
        if text.error is not None:
            parts.append(f"<b>{escape(text.error)}</b>")
        parts += [escape(line) for line in text.cause]
        parts += [escape(line) for line in text.problems]
        opening, closing = _SHAPES[state_type]
        self._emit(depth, f"{self._id(node)}{opening}{'<br/>'.join(parts)}{closing}")
        css_class = state_type.lower() if text.status is None else text.status
        if text.problems:
            css_class = "problem"
        self.classes.setdefault(css_class, []).append(self._id(node))

    # --- edges -----------------------------------------------------------------------

    def _edges(self) -> None:
        diagram = self.diagram
        for scope in diagram.scopes.values():
            head = "start" if scope.parent is None else self._id(scope.parent)
            if scope.start is not None:
                count = self.trace.starts[scope.id] if self.trace else None
                self._link(head, self._id(scope.start), "next", [], count)
            for node in scope.states:
                for edge in diagram.out_edges(node):
                    self._transition(edge)
                if diagram.ends_scope(node):
                    tail = self._join(node) if node in diagram.children else self._id(node)
                    end = "finish" if scope.parent is None else self._join(scope.parent)
                    count = self.trace.ends[node] if self.trace else None
                    self._link(tail, end, "next", [], count)

    def _transition(self, edge: Edge) -> None:
        tail = edge.source
        tail_id = self._join(tail) if tail in self.diagram.children else self._id(tail)
        text = describe.edge_lines(self.diagram, edge)
        count = None
        if self.trace is not None:
            count = self.trace.edges[(edge.source, edge.target, edge.key)]
        self._link(tail_id, self._id(edge.target), edge.kind, text, count)

    def _link(self, tail: str, head: str, kind: str, text: list[str], count: int | None) -> None:
        parts = [escape(t) for t in text]
        if count:
            parts.append(escape(describe.taken_text(count)))
        arrow = "-.->" if kind == "catch" else "==>" if count else "-->"
        label = f'|"{" ".join(parts)}"|' if parts else ""
        self._emit(1, f"{tail} {arrow}{label} {head}")
        colour = {"catch": styles.CATCH_EDGE, "choice": styles.CHOICE_EDGE}.get(kind)
        if count == 0:
            colour = styles.UNTAKEN_EDGE
        elif count:
            colour = colour or styles.TAKEN_EDGE
        if colour is not None:
            self.link_styles.append(f"linkStyle {self.links} stroke:{colour},color:{colour}")
        self.links += 1

    # --- styles ----------------------------------------------------------------------

    def _styles(self) -> None:
        definitions = {
            "marker": "fill:#374151,stroke:#374151,color:#ffffff",
            "problem": f"fill:#fef2f2,stroke:{styles.PROBLEM},stroke-dasharray:5 3",
        }
        for state_type, look in styles.TYPE_LOOKS.items():
            definitions[state_type.lower()] = f"fill:{look.fill},stroke:{look.border}"
            if state_type in styles.CLUSTER_COLOURS:
                fill, border = styles.CLUSTER_COLOURS[state_type]
                definitions[f"box{state_type}"] = f"fill:{fill},stroke:{border}"
                definitions[f"join{state_type}"] = f"fill:{border},stroke:{border}"
                definitions[f"scope{state_type}"] = f"fill:{styles.SCOPE_FILL},stroke:{border}"
        for status, (fill, border) in styles.STATUS_COLOURS.items():
            colour = styles.FAINT if status == "not_reached" else styles.TEXT
            definitions[status] = f"fill:{fill},stroke:{border},color:{colour}"
        for name, members in self.classes.items():
            self._emit(1, f"classDef {name} {definitions[name]}")
            self._emit(1, f"class {','.join(members)} {name}")
        for line in self.link_styles:
            self._emit(1, line)
