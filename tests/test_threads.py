"""The thread policy: torch's setting scoped to colorot's calls, the cores other processes hold left to them,
COLOROT_THREADS obeyed, a batch's workers sharing the cores."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

import colorot
from colorot import ColorotError, threads


def test_the_host_programs_torch_setting_is_restored(astronaut, coffee):
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        colorot.transfer(astronaut, coffee, seed=0)
        colorot.ColorTransfer(seed=0).fit(coffee).transform(astronaut.astype(np.float32) / 255)
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_a_fit_leaves_to_other_processes_the_cores_they_hold(monkeypatch, astronaut, coffee):
    seen = []
    method = colorot.methods.METHODS["unbalanced"]

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return method.fitter()(*args, **kwargs)

    monkeypatch.setitem(colorot.methods.METHODS, "unbalanced", dataclasses.replace(method, fit=spy))
    monkeypatch.setattr(threads, "cpu_threads", lambda: 4)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    for others, expected in ((0, 4), (1, 3), (3, 1), (9, 1)):
        monkeypatch.setattr(threads, "others_running", lambda others=others: others)
        monkeypatch.setattr(threads, "_last_count", (-1.0, 0))
        colorot.transfer(astronaut, coffee, seed=0, method="unbalanced")
        assert seen[-1] == expected


def _spin_for(seconds):
    loop = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"
    return subprocess.Popen([sys.executable, "-c", loop])


def _sees_busy_process():
    """The median of 21 counts taken over a second once the busy process is seen (a thread migrating between
    cores can be missed by one read)."""
    busy = _spin_for(20)
    try:
        deadline = time.monotonic() + 10
        while threads.others_running() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        counts = []
        for _ in range(21):
            counts.append(threads.others_running())
            time.sleep(0.05)
        return sorted(counts)[10]
    finally:
        busy.kill()
        busy.wait()


def test_others_running_sees_a_busy_process():
    if threads._runnable_in_loadavg() is None and threads._runnable_threads("/proc/self") < 1:
        pytest.skip("this system shows neither a count of runnable threads nor the threads' states")
    assert _sees_busy_process() >= 1


def test_a_sandbox_without_a_real_loadavg_counts_the_running_threads(monkeypatch, tmp_path):
    """gVisor writes '0.00 0.00 0.00 0/0 0' in /proc/loadavg: the states of the visible threads are read."""
    (tmp_path / "loadavg").write_text("0.00 0.00 0.00 0/0 0\n")
    assert threads._runnable_in_loadavg(str(tmp_path / "loadavg")) is None
    (tmp_path / "loadavg").write_text("1.33 1.61 1.69 3/80 32268\n")
    assert threads._runnable_in_loadavg(str(tmp_path / "loadavg")) == 3
    if not threads.os.path.exists("/proc/self/task"):
        pytest.skip("no /proc/self/task on this system")
    calls = []
    monkeypatch.setattr(threads, "_runnable_in_loadavg", lambda: calls.append(1))
    assert _sees_busy_process() >= 1
    assert calls  # the sandbox's answer was asked for and refused


def test_colorot_threads_and_limits(monkeypatch):
    monkeypatch.setenv("COLOROT_THREADS", "3")
    assert threads.cpu_threads() == 3
    with threads.limit(1):
        assert threads.cpu_threads() == 1
    assert threads.cpu_threads() == 3
    monkeypatch.setenv("COLOROT_THREADS", "many")
    with pytest.raises(ColorotError, match="COLOROT_THREADS must be a whole number"):
        threads.cpu_threads()


def test_nested_and_concurrent_scopes_restore_the_setting():
    before = torch.get_num_threads()
    barrier = threading.Barrier(2)

    def worker():
        with threads.torch_threads(1):
            barrier.wait()
            with threads.torch_threads(2):
                pass
            barrier.wait()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert torch.get_num_threads() == before


def test_a_batchs_workers_share_the_cores(tmp_path, monkeypatch):
    from colorot.apps import batch as batches

    monkeypatch.setattr(threads, "cpu_threads", lambda: 4 if threads._limit is None else threads._limit)
    seen = []
    jobs = [batches.Job(tmp_path / f"{index}.png", tmp_path / "out" / f"{index}.png") for index in range(4)]
    batches.run_jobs(jobs, lambda source, output: seen.append(threads.cpu_threads()) or {}, workers=2)
    assert seen == [2] * 4 and threads.cpu_threads() == 4


def test_the_output_does_not_depend_on_how_many_cores_are_free(monkeypatch, astronaut, coffee):
    # The thread count follows the machine's load; the bytes must not: sums over samples run on one thread.
    results = []
    for free in (1, 2):
        monkeypatch.setattr(threads, "free_threads", lambda free=free: free)
        results.append((colorot.fit_lut(coffee, [astronaut], size=17, seed=0).table,
                        colorot.transfer(astronaut, coffee, seed=0, refine=2)))
    assert torch.equal(results[0][0], results[1][0]) and np.array_equal(results[0][1], results[1][1])


def test_leaving_cores_counts_them_taken_in_this_thread_only(monkeypatch):
    monkeypatch.setattr(threads, "others_running", lambda: 0)
    monkeypatch.setattr(threads, "_last_count", (-1.0, 0))
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setenv("COLOROT_THREADS", "4")
    assert threads.free_threads() == 4
    seen = []
    with threads.leaving(1):
        assert threads.free_threads() == 3
        with threads.leaving(2):
            assert threads.free_threads() == 1
        worker = threading.Thread(target=lambda: seen.append(threads.free_threads()))
        worker.start()
        worker.join()
        with threads.leaving(9):
            assert threads.free_threads() == 1  # never below one
    assert seen == [4]  # another thread keeps every core
    assert threads.free_threads() == 4


@pytest.mark.parametrize("method", ["sliced", "histogram", "look"])
def test_a_transfer_gives_the_same_bytes_on_any_number_of_threads(method, astronaut, coffee, chelsea):
    # colorot gives a fit the cores that other processes leave free, so a rerun on a busy machine may run on
    # fewer threads: the bytes must not change (the table's blur used conv3d, whose blocking did)
    from colorot import ColorTransfer

    for photo, style in ((astronaut, coffee), (chelsea, astronaut), (coffee, chelsea)):
        outputs = []
        for count in (1, 2):
            with threads.limit(count), threads.torch_threads(count):
                outputs.append(ColorTransfer(method=method, seed=0).fit(style).transform(photo))
        assert np.array_equal(*outputs)


def test_the_table_s_blur_does_not_depend_on_threads_or_batch():
    from colorot.maps.lut import _gaussian_blur_3d

    volume = torch.rand(2, 3, 17, 17, 17, generator=torch.Generator().manual_seed(0))
    blurred = []
    for count in (1, 2):
        with threads.torch_threads(count):
            blurred.append(_gaussian_blur_3d(volume, 1.3))
    assert torch.equal(*blurred) and torch.equal(_gaussian_blur_3d(volume[1:], 1.3)[0], blurred[1][1])
    assert torch.allclose(blurred[0].mean(dim=(2, 3, 4)), volume.mean(dim=(2, 3, 4)), atol=0.02)  # a blur, not a shift
    assert blurred[0].std() < 0.5 * volume.std()
