"""bench.ward runs end to end at a tiny scale: data prepared by seed-demo and seed-scale,
the site and the ceiling served by gunicorn, the table, the rush and the memory case printed. It asserts what
the bench reports (every request answered, as many bookings as slots), never a time."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_ward_bench_runs_at_a_tiny_scale(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.ward",
            "--db",
            "sqlite",
            "--factors",
            "0.02",
            "--cases",
            "grid,grid-miss,top,mymenu,healthz,notice,rush,memory",
            "--seconds",
            "0.3",
            "--rounds",
            "1",
            "--connections",
            "2",
            "--workers",
            "1",
            "--rush-residents",
            "6",
            "--rush-slots",
            "2",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for title in (
        "ceiling (bare Flask",
        "fragment (1 facility, 1 month), cache hit",
        "fragment, cache miss",
        "top page",
        "予約内容の確認・取消",
        "/healthz (every hook, no template)",
        "one お知らせ (the layout around a few lines)",
    ):
        assert title in out
    assert "errors)" not in out  # every timed request answered 200
    rush = re.search(r"^\| sqlite \| 0\.02 \| 6 \| 2 \| (\d+) \| (\d+) \|", out, re.MULTILINE)
    assert rush, out
    assert rush.groups() == ("2", "0")  # as many bookings as slots, no server error
    # memory: every facility's grids and slot screens, and the lists, answered (no 5xx).
    memory = re.search(r"^\| sqlite \| 0\.02 \| (\d+) \| (\d+) \| ([^|]+) \| (\d+) \| (\d+) \|$", out, re.MULTILINE)
    assert memory, out
    facilities, requests, answers = int(memory[1]), int(memory[2]), memory[3]
    assert requests == facilities * 9 + 4
    assert set(re.findall(r"(\d{3}): \d+", answers)) <= {"200", "422"}, answers
