"""The moodnet version (read by ``pyproject.toml``, the CLI, the service and checkpoints)."""

__version__ = "0.1.0"


def source_commit() -> str:
    """The short hash of the git commit moodnet's source is checked out at, with ``+changes``
    when tracked files differ from it; ``unknown`` for an installed wheel or without git."""
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True, cwd=here, timeout=10).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, check=True, cwd=here,
                                 timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}+changes" if changed else commit
