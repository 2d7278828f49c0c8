"""Spec -> IR graph, and the IR's readers that need no torch."""

from .compile import compile_graph

__all__ = ["compile_graph"]
