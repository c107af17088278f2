"""The one-shot marker that boots a board to the REPL after MAINTENANCE (scale_mcu.maintenance)."""

import time

from support import assert_equal

from scale_mcu import maintenance


def _path():
    return "/tmp/scale_maintenance_test_%d" % time.ticks_us()


def test_marker_is_taken_once():
    path = _path()
    maintenance.take(path)  # a leftover from an interrupted run
    assert_equal(maintenance.take(path), False, "no marker: the firmware starts")
    assert maintenance.request(path)
    assert_equal(maintenance.take(path), True, "marker: boot to the REPL")
    assert_equal(maintenance.take(path), False, "only once: the next reset runs the firmware")


def test_unwritable_marker_is_reported():
    assert_equal(maintenance.request("/nonexistent-dir/scale_maintenance"), False, "cannot write")
