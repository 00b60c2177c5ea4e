"""The state file belongs to the runtime that wrote it; edits to the sources are seen once settled."""

import asyncio
import os
import subprocess
import sys

from local.state import RuntimeState, other_instance, read_state, remove_own_state, write_state
from local.synth import source_snapshot
from local.watch import source_changes


def state(pid: int) -> RuntimeState:
    return RuntimeState(
        stack="Chat-dev",
        region="us-east-1",
        websocket_url="ws://127.0.0.1:3001/dev",
        gateway_url="http://127.0.0.1:3001",
        stepfunctions_url="http://127.0.0.1:5000",
        state_machines={},
        pid=pid,
    )


def test_another_live_instance_is_found_and_its_state_file_is_never_removed(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path = tmp_path / "dev.json"
        write_state(path, state(other.pid))
        assert other_instance(path) == state(other.pid)
        remove_own_state(path)
        assert read_state(path) == state(other.pid)
    finally:
        other.kill()
        other.wait()
    assert other_instance(path) is None  # it died without cleaning up: its file is stale


def test_own_state_file_is_removed(tmp_path):
    path = tmp_path / "dev.json"
    write_state(path, state(os.getpid()))
    assert other_instance(path) is None
    remove_own_state(path)
    assert not path.exists()


def test_unreadable_state_file_is_no_instance(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text('{"stack": ')
    assert read_state(path) is None and other_instance(path) is None


def test_source_changes_reports_each_settled_edit_once(tmp_path):
    (tmp_path / "lambdas").mkdir()
    handler = tmp_path / "lambdas" / "handler.py"
    handler.write_text("A = 1\n")
    (tmp_path / "cdk.json").write_text("{}")

    async def scenario():
        changes = source_changes(tmp_path, poll_seconds=0.05)
        first = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0.2)
        assert not first.done()  # nothing changed yet
        handler.write_text("A = 2\n")
        os.utime(handler, ns=(handler.stat().st_atime_ns, handler.stat().st_mtime_ns + 1_000_000))
        (tmp_path / "lambdas" / "new.py").write_text("")
        reported = await asyncio.wait_for(first, 5)
        second = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0.3)
        quiet = not second.done()
        second.cancel()
        return reported, quiet

    reported, quiet = asyncio.run(scenario())
    assert reported == ["lambdas/handler.py", "lambdas/new.py"]
    assert quiet


def test_an_edit_made_before_watching_starts_is_reported(tmp_path):
    (tmp_path / "cdk.json").write_text("{}")
    baseline = source_snapshot(tmp_path)  # taken when the served version was built
    (tmp_path / "cdk.json").write_text('{"context": {}}')
    os.utime(tmp_path / "cdk.json", ns=(0, baseline["cdk.json"] + 1_000_000))

    async def scenario():
        return await asyncio.wait_for(anext(source_changes(tmp_path, since=baseline, poll_seconds=0.05)), 5)

    assert asyncio.run(scenario()) == ["cdk.json"]
