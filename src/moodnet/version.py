"""The moodnet version (read by ``pyproject.toml``, the CLI, the service and checkpoints)."""

__version__ = "0.1.0"
