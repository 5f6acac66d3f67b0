"""Proofs of invariants with Z3; the only package that imports z3."""

from mscheck.smt.encode import Unsupported
from mscheck.smt.prove import METHODS, prove_property, prove_spec

__all__ = ["prove_spec", "prove_property", "Unsupported", "METHODS"]
