"""YAML text as the tools read it: one document, PyYAML's safe loader, and aliases that
may not expand the document past a bound.

Anchors and aliases stay allowed: YAML users share a Retry block or a mocked response
with them, and the YAML that SAM and the Serverless Framework turn into a definition
expands them. What is refused is a document whose aliases, expanded, would be larger
than a bound (the "billion laughs": 400 bytes of nested aliases that expand to billions
of values). Composing shares an aliased node instead of copying it, so the size is
known before anything is expanded, in time proportional to the text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

__all__ = ["YamlTooLarge", "read_yaml", "yaml_document"]


class YamlTooLarge(ValueError):
    """A document whose aliases expand it past its bound, or without end."""


@contextmanager
def yaml_document(text: str, max_characters: int) -> Iterator[tuple[yaml.Node | None, Any]]:
    """The node of the one document in ``text`` (None when there is none) and the loader
    that composed it, to construct values from its nodes. Raises ``yaml.YAMLError`` for
    text that is not YAML, :class:`YamlTooLarge` when the aliases expand the document
    past ``max_characters`` characters of JSON text, and ``RecursionError`` for nesting
    deeper than Python's stack."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _expanded_size(node, max_characters, {}, set())
        yield node, loader
    finally:
        loader.dispose()


def read_yaml(text: str, max_characters: int) -> Any:
    """The value of a YAML document (None for an empty one), as ``yaml.safe_load`` reads
    it, with the bound of :func:`yaml_document` on its aliases."""
    with yaml_document(text, max_characters) as (node, loader):
        return None if node is None else loader.construct_document(node)


def _expanded_size(node: yaml.Node, limit: int, sizes: dict[int, int], open_: set[int]) -> int:
    """The length of the node's compact JSON text with every alias expanded, counting
    each scalar as a string without escapes (each shared node measured once);
    :class:`YamlTooLarge` as soon as it passes ``limit``, or when a node contains an alias
    of itself."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    if id(node) in open_:  # an alias inside its own anchor
        raise YamlTooLarge("its YAML aliases expand it without end")
    open_.add(id(node))
    if isinstance(node, yaml.MappingNode):
        parts = [
            _expanded_size(key, limit, sizes, open_)
            + 1
            + _expanded_size(value, limit, sizes, open_)
            for key, value in node.value
        ]
    elif isinstance(node, yaml.SequenceNode):
        parts = [_expanded_size(item, limit, sizes, open_) for item in node.value]
    else:
        parts = [len(node.value)]
    size = 2 + sum(parts) + max(len(parts) - 1, 0)  # brackets or quotes, and commas
    if size > limit:
        raise YamlTooLarge(f"its YAML aliases expand it past {limit} characters of JSON text")
    open_.discard(id(node))
    sizes[id(node)] = size
    return size
