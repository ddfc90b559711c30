"""Sandbox slots are leased machine-wide: two grading runs never share a sandbox uid."""

import os
import subprocess
import sys

import pytest

from crmlab.course import sandbox
from crmlab.course.sandbox import _UID_BASE, SlotLease


def test_two_leases_at_once_get_disjoint_slots(tmp_path):
    with SlotLease(2, lock_dir=tmp_path) as a, SlotLease(3, lock_dir=tmp_path) as b:
        assert len(a.slots) == 2 and len(b.slots) == 3
        assert not set(a.slots) & set(b.slots)


def test_a_closed_lease_frees_its_slots(tmp_path):
    first = SlotLease(2, lock_dir=tmp_path)
    held = set(first.slots)
    first.close()
    with SlotLease(2, lock_dir=tmp_path) as again:
        assert set(again.slots) == held


def test_a_lease_held_by_another_process_is_respected(tmp_path):
    code = ("import sys, time; from crmlab.course.sandbox import SlotLease; "
            f"l = SlotLease(1, lock_dir={str(tmp_path)!r}); print(l.slots[0], flush=True); time.sleep(60)")
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        taken = int(other.stdout.readline())
        with SlotLease(4, lock_dir=tmp_path) as mine:
            assert taken not in mine.slots
    finally:
        other.kill()
        other.wait()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to start a process as another uid")
def test_a_slot_whose_uid_still_runs_a_process_is_skipped(tmp_path):
    with SlotLease(1, lock_dir=tmp_path / "probe") as probe:
        slot = probe.slots[0]
    uid = _UID_BASE + slot
    proc = subprocess.Popen(["sleep", "60"], user=uid, group=uid)
    try:
        with SlotLease(1, lock_dir=tmp_path / "locks") as lease:
            assert lease.slots != [slot]
    finally:
        proc.kill()
        proc.wait()


def test_no_free_slot_is_a_clear_error_and_holds_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "_UID_SLOTS", 3)
    monkeypatch.setattr(sandbox, "_uids_in_use", set)
    with SlotLease(2, lock_dir=tmp_path) as other:
        with pytest.raises(RuntimeError, match="only 1 of 2 sandbox slots are free"):
            SlotLease(2, lock_dir=tmp_path)
        with SlotLease(1, lock_dir=tmp_path) as last:  # the failed lease released what it had taken
            assert last.slots == sorted(set(range(3)) - set(other.slots))


@pytest.mark.parametrize("n", [0, -1, 1.5, True, 10_000])
def test_a_number_of_slots_out_of_range_is_refused(tmp_path, n):
    with pytest.raises(ValueError, match="fewer jobs"):
        SlotLease(n, lock_dir=tmp_path)
