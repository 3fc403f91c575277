"""What the Ray engines of ``moodnet predict`` and ``moodnet extract`` share: importing Ray
(an optional extra, ``pip install 'moodnet[ray]'``), connecting to a cluster or starting a
local instance, and reading the cluster's size.

Nothing here imports Ray at import time; the single-machine commands never load it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

from moodnet.errors import MoodnetError

RAY_EXTRA = "pip install 'moodnet[ray]'"
"""The install command named by every error about a missing Ray."""


class RayMissing(MoodnetError):
    """``--engine ray`` was asked for where Ray (Ray Data) is not installed."""


def import_ray() -> ModuleType:
    """``ray``, with Ray Data importable.

    Raises
    ------
    RayMissing
        Ray or Ray Data is not installed; the message names the extra to install.
    """
    try:
        import ray
        import ray.data  # Ray Data is the part the engines use
    except ImportError as exc:
        raise RayMissing(
            f"--engine ray needs Ray Data, which is not installed ({exc}); install it with "
            f"{RAY_EXTRA}"
        ) from None
    return ray


@dataclass(frozen=True)
class ClusterSize:
    """CPUs and GPUs of the Ray cluster (all nodes), as Ray counts them."""

    cpus: int
    gpus: int


def local_cores() -> int:
    """Cores this process may run on (the local Ray instance gets all of them)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def ray_session(
    *, address: str | None = None, num_cpus: int | None = None,
) -> Iterator[ClusterSize]:
    """Ray connected for the duration of a ``with`` block.

    Parameters
    ----------
    address : a running cluster (``auto``, ``ray://host:10001``, ``host:6379``); None starts a
        local instance with ``num_cpus`` CPUs (default: every core of this machine)
    num_cpus : CPUs of a local instance (ignored with ``address``)

    Yields
    ------
    size : the cluster's CPUs and GPUs

    Notes
    -----
    Ray already initialised in this process (a notebook, a test fixture) is used as it is and
    left running; an instance started here is shut down on leaving the block, also on an
    error or Ctrl-C.
    """
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        options: dict[str, object] = {"include_dashboard": False, "log_to_driver": False,
                                      "logging_level": logging.ERROR}
        if address is None:
            options["num_cpus"] = num_cpus or local_cores()
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            raise MoodnetError(f"cannot connect to {where}: {exc}") from None
        started = True
    _quiet_ray_data()
    try:
        resources = ray.cluster_resources()
        yield ClusterSize(cpus=max(1, int(resources.get("CPU", 1))),
                          gpus=int(resources.get("GPU", 0)))
    finally:
        if started:
            ray.shutdown()


def _quiet_ray_data() -> None:
    """No Ray Data progress bars or INFO lines: the commands draw their own progress."""
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    for name in ("ray.data", "ray"):  # errors (a task that died, a lost node) still show
        logging.getLogger(name).setLevel(logging.ERROR)
