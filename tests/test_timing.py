"""Benchmark timings: the fastest of repeated calls after a warm-up, and the machine."""

import json

import numpy as np

from semgan_core import timing


def test_best_time_warms_up_once_and_keeps_the_fastest(monkeypatch):
    clock = iter([0.0, 3.0, 10.0, 11.0, 20.0, 22.0])   # calls of 3 s, 1 s and 2 s
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(clock))
    calls = []
    assert timing.best_time(lambda: calls.append(1), 3) == 1.0
    assert len(calls) == 4   # the warm-up and three timed calls


def test_write_timings_adds_the_machine(tmp_path):
    path = timing.write_timings(tmp_path / "t.json", {"unit": "s", "rows": [1]}, (0.5, 0, 0))
    data = json.loads(path.read_text())
    assert list(data)[:2] == ["unit", "rows"] and data["load_average_before"] == [0.5, 0, 0]
    assert data["cpu_count"] >= 1 and len(data["load_average_after"]) == 3
    assert data["versions"]["numpy"] == np.__version__


def test_load_note_names_both_averages(monkeypatch):
    monkeypatch.setattr(timing.os, "getloadavg", lambda: (2.5, 0.0, 0.0))
    assert timing.load_note((1.25, 0, 0)) == ("load average before 1.25, after 2.50; the "
                                              "machine may be shared")
