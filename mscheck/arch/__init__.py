"""Architecture analysis: the architecture graph, its metrics, smells and service-cut advice.

Imports only :mod:`mscheck.ir` and :mod:`mscheck.diagnostics` (and NetworkX).
"""
