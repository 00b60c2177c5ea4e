"""The reused threads that run the Step Functions interpreter's executions and Map iterations."""

import threading

from local.stepfunctions.moto_patches.reused_threads import ReusedThreads


def _run_and_wait(threads: ReusedThreads, job) -> None:
    done = threading.Event()

    def run() -> None:
        try:
            job()
        finally:
            done.set()

    threads.run(run)
    assert done.wait(5)


def test_a_job_after_another_runs_on_the_same_thread():
    threads = ReusedThreads()
    seen = []
    for _ in range(3):
        _run_and_wait(threads, lambda: seen.append(threading.get_ident()))
    assert len(set(seen)) == 1


def test_jobs_that_wait_for_each_other_never_queue_behind_one_another():
    threads = ReusedThreads()
    first_may_end = threading.Event()
    second_ran = threading.Event()

    def first() -> None:
        first_may_end.wait(5)

    def second() -> None:
        second_ran.set()
        first_may_end.set()

    threads.run(first)
    threads.run(second)  # the first is still running: this one gets a thread of its own
    assert second_ran.wait(5)


def test_a_failing_job_leaves_its_thread_serving():
    threads = ReusedThreads()

    def fail() -> None:
        raise ValueError("boom")

    _run_and_wait(threads, fail)
    seen = []
    _run_and_wait(threads, lambda: seen.append("ran"))
    assert seen == ["ran"]


def test_an_idle_thread_ends():
    threads = ReusedThreads(idle_seconds=0.05)
    workers = []
    _run_and_wait(threads, lambda: workers.append(threading.current_thread()))
    workers[0].join(5)
    assert not workers[0].is_alive()
    seen = []
    _run_and_wait(threads, lambda: seen.append("ran"))  # a new thread serves the next job
    assert seen == ["ran"]
