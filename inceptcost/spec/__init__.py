"""The spec language: YAML in (yamlsafe.py), a typed tree out (tree.py) read by reader.py and rows.py (Table 1's
row form), with the published claims (claims.py); writer.py writes a tree back as YAML. `load_spec` is the door.
Nothing here imports graph, analyze or torch."""

from .load import DEFAULTS, NAME, TABLE_COLUMNS, Node, Spec, load_spec, normalize_column, parse_spec

__all__ = ["DEFAULTS", "NAME", "TABLE_COLUMNS", "Node", "Spec", "load_spec", "normalize_column", "parse_spec"]
