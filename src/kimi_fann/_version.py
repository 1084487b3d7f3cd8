"""The package's version, in one place (read by the build: pyproject.toml's metadata.version)."""

__version__ = "0.1.0"
