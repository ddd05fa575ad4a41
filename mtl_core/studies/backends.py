"""Where a study's runs train, chosen per study and stored with it: on this machine's worker processes (``local``,
the default, unchanged) or as tasks on a Ray cluster (``ray``, see ``ray_backend``).

The choice comes from the CLI (``--backend``, ``--ray-address``) or, for the app, the environment
(``MTL_LAB_BACKEND``, ``MTL_LAB_RAY_ADDRESS``); ``Executor.to_dict`` is what the study row keeps
(``executor_json``), so a worker that takes the study later trains it where it was meant to go. Nothing here
imports Ray: the app's sidebar and the submit path read it cheaply.
"""
from __future__ import annotations

import os
import re
import socket
from dataclasses import asdict, dataclass

from mtl_core.errors import ConfigError

BACKENDS = ("local", "ray")
BACKEND_ENV, ADDRESS_ENV = "MTL_LAB_BACKEND", "MTL_LAB_RAY_ADDRESS"
CPUS_ENV, GPUS_ENV, TUNED_GPUS_ENV = "MTL_LAB_RAY_CPUS_PER_RUN", "MTL_LAB_RAY_GPUS_PER_RUN", "MTL_LAB_RAY_GPUS_PER_TUNED_RUN"
PROBE_SECONDS = 5.0  # how long a cluster's address may take to accept a connection before it counts as unreachable
_HOST_PORT = re.compile(r"^(ray://)?(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(?P<port>\d{1,5})$")


class ClusterUnreachable(ConfigError):
    """The Ray cluster named by the study's address does not answer."""


@dataclass(frozen=True)
class Executor:
    """Where a study's runs train. ``address``: None starts a local Ray, ``"auto"`` finds a running one
    (``RAY_ADDRESS``, then the last ``ray start`` here), ``HOST:PORT`` a head's GCS, ``ray://HOST:10001`` a
    Ray Client server. Each run asks Ray for ``cpus_per_run`` CPUs (None: on a local Ray this machine's share per
    run, as a local worker's threads; on a cluster one) and, where the cluster has GPUs, ``gpus_per_run`` of one
    (None: a quarter, as the local backend puts 4 runs on a card) or, for a fine-tuned pretrained encoder,
    ``gpus_per_tuned_run`` (None: a whole card). A run trains with as many CPU threads as CPUs it was given."""
    backend: str = "local"
    address: str | None = None
    cpus_per_run: float | None = None
    gpus_per_run: float | None = None
    gpus_per_tuned_run: float | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"The 'backend' setting must be one of {list(BACKENDS)}. Got {self.backend!r} "
                              f"instead (--backend, or {BACKEND_ENV}).")
        if self.address is not None and self.address != "auto" and not _HOST_PORT.match(self.address):
            raise ConfigError(f"The Ray address must be 'auto', HOST:PORT (a head started by `ray start --head`, "
                              f"e.g. 10.0.0.5:6379) or ray://HOST:PORT (e.g. ray://10.0.0.5:10001). Got "
                              f"{self.address!r} instead (--ray-address, or {ADDRESS_ENV}).")
        for name, env in (("gpus_per_run", GPUS_ENV), ("gpus_per_tuned_run", TUNED_GPUS_ENV)):
            value = getattr(self, name)
            if value is not None and not (value >= 0 and (value <= 1 or float(value).is_integer())):
                raise ConfigError(f"The Ray setting {name!r} ({env}) must be 0, a fraction of one GPU, or a whole "
                                  f"number of GPUs. Got {value!r} instead.")
        if self.cpus_per_run is not None and not 1 <= self.cpus_per_run == int(self.cpus_per_run):
            raise ConfigError(f"The Ray setting 'cpus_per_run' ({CPUS_ENV}) must be a whole number of at least 1 "
                              f"(a run's CPU threads). Got {self.cpus_per_run!r} instead.")

    @property
    def ray(self) -> bool:
        return self.backend == "ray"

    def to_dict(self) -> dict | None:
        """What the study row keeps: None for the local backend (as every study before this one)."""
        return asdict(self) if self.ray else None

    @classmethod
    def from_dict(cls, stored: dict | None) -> Executor:
        return cls(**stored) if stored else cls()

    def label(self) -> str:
        """How the sidebar and the CLI name it."""
        if not self.ray:
            return "local workers"
        return f"Ray at {self.address}" if self.address else "Ray (a local instance)"


def _number(name: str) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number (e.g. 1 or 0.25). Got {raw!r} instead.") from None


def executor_from_env(backend: str | None = None, address: str | None = None) -> Executor:
    """The executor the CLI's flags or, where not given, the environment choose (the app: the environment only)."""
    backend = backend or os.environ.get(BACKEND_ENV, "").strip() or "local"
    if backend != "ray":
        if address is not None:
            raise ConfigError(f"--ray-address {address} was given, but the backend is {backend!r}. Fix: add "
                              "--backend ray (or set MTL_LAB_BACKEND=ray), or drop --ray-address.")
        return Executor(backend)
    address = address or os.environ.get(ADDRESS_ENV, "").strip() or None
    return Executor(backend, address, _number(CPUS_ENV), _number(GPUS_ENV), _number(TUNED_GPUS_ENV))


def describe_backend() -> str:
    """Where studies queued from the app train (the sidebar shows it beside the device); never raises: a bad
    setting is shown with what to fix."""
    try:
        return executor_from_env().label()
    except ConfigError as exc:
        return f"not set up: {exc}"


def study_executor(study: dict) -> Executor:
    return Executor.from_dict(study.get("executor"))


def what_to_do(address: str) -> str:
    port = address.rsplit(":", 1)[-1] if ":" in address else "6379"
    return (f"Fix: start the cluster's head there (`ray start --head --port={port}`), check the address and that "
            f"this machine may reach it, or choose another one (--ray-address, {ADDRESS_ENV}), or train on this "
            "machine (--backend local).")


NOTHING_QUEUED = "Nothing was queued or stored."


def check_reachable(executor: Executor, nothing_lost: str = NOTHING_QUEUED) -> None:
    """For a Ray study with an address: that something accepts a connection there within PROBE_SECONDS (Ray's
    own connect waits minutes). ClusterUnreachable otherwise, naming the address and what to do, then
    ``nothing_lost`` (what became of the study)."""
    if not executor.ray or executor.address in (None, "auto"):
        return  # a local Ray is started; 'auto' is resolved (and refused clearly) by Ray itself
    found = _HOST_PORT.match(executor.address)
    host, port = found["host"].strip("[]"), int(found["port"])
    try:
        socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
    except OSError as exc:
        raise ClusterUnreachable(f"The Ray cluster at {executor.address} is unreachable ({exc}). "
                                 f"{what_to_do(executor.address)} {nothing_lost}") from None
