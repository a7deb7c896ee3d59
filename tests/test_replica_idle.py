"""``replica._IdleWorkers``: idle query workers are handed out first come, first served."""

from __future__ import annotations

import threading
import time

from mergetree.replica import _IdleWorkers


def _wait_for_waiters(idle, n):
    deadline = time.monotonic() + 10
    while len(idle._waiters) < n:
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_a_worker_given_back_goes_to_the_longest_waiting_thread_not_to_a_newcomer():
    idle = _IdleWorkers()
    got: dict = {}
    threads = [threading.Thread(target=lambda k=k: got.__setitem__(k, idle.get(10))) for k in range(2)]
    threads[0].start()
    _wait_for_waiters(idle, 1)
    threads[1].start()
    _wait_for_waiters(idle, 2)
    idle.put("w1")
    assert idle.get(0.05) is None           # a newcomer does not jump the queue
    threads[0].join(10)
    assert got == {0: "w1"}
    idle.put("w2")
    threads[1].join(10)
    assert got == {0: "w1", 1: "w2"}
    assert not idle._waiters and not idle._idle


def test_get_without_waiters_takes_an_idle_worker_and_a_timeout_leaves_no_waiter():
    idle = _IdleWorkers()
    assert idle.get(0.01) is None
    assert not idle._waiters
    idle.put("a")
    idle.put("b")
    assert {idle.get(0), idle.get(0)} == {"a", "b"}
    assert idle.get(0) is None
