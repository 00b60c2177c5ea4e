"""Why a runtime will not start (its port or its stage is taken), and what to type instead.

The hint names the command as it was typed: `make dev STAGE=… PORT=…` when `make dev` started it (the
Makefile passes --from-make), `python -m local serve --stage … --port …` otherwise. A port held by this
stage's own runtime is reported as the stage being served, since another port would be refused too.
"""

import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

from local.state import RuntimeState, other_instance, state_file
from local.synth import PROJECT_ROOT

MAKE_DEFAULT_STAGE = "dev"  # the Makefile's STAGE
PORTS_TRIED = 100


class Hints:
    def __init__(self, *, stage: str, host: str, port: int, state_dir: Path, from_make: bool):
        self._stage = stage
        self._host = host
        self._port = port
        self._state_dir = state_dir
        self._from_make = from_make

    def command(self, stage: str, port: int) -> str:
        if self._from_make:
            chosen = "" if stage == MAKE_DEFAULT_STAGE else f" STAGE={stage}"
            return f"`make dev{chosen} PORT={port}`"
        return f"`python -m local serve --stage {stage} --port {port}`"

    def stage_served(self, running: RuntimeState) -> str:
        beside = self.command(self._another_stage(), self._free_port())
        return (
            f"stage {self._stage} is already served by process {running.pid} at {running.websocket_url}: "
            f"use that one, or stop it first (Ctrl-C in its terminal); another stage can run beside it: {beside}"
        )

    def port_in_use(self) -> str:
        holder = self._runtime_on_port()
        taken = (
            f"is taken by the local runtime serving stage {holder[0]} (process {holder[1].pid})"
            if holder
            else "is in use by another program"
        )
        return (
            f"port {self._port} on {self._host} {taken}; stage {self._stage} is not served yet: "
            f"start it on another port: {self.command(self._stage, self._free_port())}"
        )

    def _runtime_on_port(self) -> tuple[str, RuntimeState] | None:
        """The stage and state of another runtime of this project listening on the port."""
        for path in sorted(self._state_dir.glob("*.json")):
            running = other_instance(path)
            if running is not None and urlsplit(running.gateway_url).port == self._port:
                return path.stem, running
        return None

    def _another_stage(self) -> str:
        """A stage of cdk.json that no runtime serves."""
        try:
            stages = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]["stages"]
        except (OSError, ValueError, KeyError, TypeError):
            stages = {}
        for stage in stages:
            if stage != self._stage and other_instance(state_file(self._state_dir, stage)) is None:
                return stage
        return "<another stage of cdk.json>"

    def _free_port(self) -> int:
        """The first port after the one asked for that nothing listens on (0, a free one, if none)."""
        for port in range(self._port + 1, min(self._port + 1 + PORTS_TRIED, 65536)):
            with socket.socket() as probe:
                try:
                    probe.bind((self._host, port))
                except OSError:
                    continue
                return port
        return 0
