"""Drawings of the architecture: Graphviz DOT, Mermaid, and SVG/PNG through the system ``dot``."""
