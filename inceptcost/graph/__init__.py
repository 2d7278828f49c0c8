"""Spec -> IR graph (compile.py, shapes.py), static; and model/, the IR -> torch nn.Module (torch starts there)."""

from .compile import compile_graph

__all__ = ["compile_graph"]
