"""slsalint: an SLSA provenance linter and policy engine."""

__version__ = "0.1.0"
