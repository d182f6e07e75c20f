"""Drawings of workflows and of their executions."""

__all__: list[str] = []
