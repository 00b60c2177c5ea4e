"""How long an edit takes to be served by `make dev`: a handler edit (lambdas/ only: no synthesis) beside an
infrastructure edit (cdk/: synthesized again), measured in the same run on a private copy of the project.

For each edit: the reload line's own figure (from the moment the watcher saw the files settle) and, for
the handler edit, the time from saving the file to the first answer carrying the new text, as a client on
an open connection sees it. The watcher polls every 0.25 s and counts a change once two polls agree, so
0.25-0.5 s of every save-to-served figure is that wait.

    .venv/bin/python bench/reload.py [--edits 5]
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from harness import PROJECT_ROOT, open_client, start_runtime

PARTS = ("cdk", "lambdas", "statemachines", "cdk.json", "pyproject.toml", "local", "web", "cdk.out")
RELOADED = re.compile(r"reloaded \((?P<what>[^)]*)\) in (?P<seconds>\d+\.\d) s(?P<how>[^:]*)")
DEADLINE_SECONDS = 300


def copy_project(target: Path) -> Path:
    target.mkdir()
    for part in PARTS:
        source = PROJECT_ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"), symlinks=True)
        elif source.exists():
            shutil.copy2(source, target / part)
    return target


async def next_reload(log_path: Path, after: int) -> tuple[re.Match, int]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (found := RELOADED.search(log_path.read_text(errors="replace"), after)):
        if time.monotonic() > deadline:
            raise SystemExit(f"no reload line within {DEADLINE_SECONDS} s; see {log_path}")
        await asyncio.sleep(0.02)
    return found, found.end()


async def unknown_action_message(client) -> str:
    await client.send(json.dumps({"action": "nope"}))
    return json.loads(await asyncio.wait_for(client.recv(), 60))["message"]


async def measure(root: Path, log_path: Path, url: str, edits: int) -> dict[str, list[float]]:
    handler = root / "lambdas" / "on_default.py"
    infra = root / "cdk" / "stage_config.py"
    figures: dict[str, list[float]] = {"handler_reload": [], "handler_served": [], "infra_reload": [], "infra_line": []}
    client, _ = await open_client(url)
    mark = len(log_path.read_text(errors="replace"))
    for edit in range(1, edits + 1):
        wording = f"valid actions (edit {edit}):"
        text = re.sub(r"valid actions[^:]*:", wording, handler.read_text(encoding="utf-8"))
        saved = time.monotonic()
        handler.write_text(text, encoding="utf-8")
        while wording not in await unknown_action_message(client):
            await asyncio.sleep(0.02)
        figures["handler_served"].append(time.monotonic() - saved)
        line, mark = await next_reload(log_path, mark)
        if "without synthesis" not in line["how"]:
            raise SystemExit(f"a handler edit was synthesized: {line.group(0)}")
        figures["handler_reload"].append(float(line["seconds"]))

        saved = time.monotonic()
        with infra.open("a", encoding="utf-8") as source:
            source.write(f"# edit {edit}\n")
        line, mark = await next_reload(log_path, mark)
        figures["infra_line"].append(time.monotonic() - saved)
        figures["infra_reload"].append(float(line["seconds"]))
    await client.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=5, help="edits of each kind (default 5)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-reload-") as work:
        root = copy_project(Path(work) / "chat")
        with start_runtime(Path(work), "--quiet-history", root=root) as runtime:
            figures = asyncio.run(measure(root, runtime.log_path, runtime.url, args.edits))
    median = {name: statistics.median(values) for name, values in figures.items()}
    print(f"{args.edits} edits of each kind; load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(f"{'':<44}{'median':>8}{'min':>8}{'max':>8}")
    rows = [
        ("handler edit: settled -> reloaded (no synth)", "handler_reload"),
        ("handler edit: saved -> new answer", "handler_served"),
        ("infra edit (cdk/): settled -> reloaded", "infra_reload"),
        ("infra edit (cdk/): saved -> reload line", "infra_line"),
    ]
    for label, name in rows:
        values = figures[name]
        print(f"{label:<44}{median[name]:>7.1f}s{min(values):>7.1f}s{max(values):>7.1f}s")
    print(f"handler reload / infra reload: {median['handler_reload'] / median['infra_reload']:.2f}")


if __name__ == "__main__":
    main()
