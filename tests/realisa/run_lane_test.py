#!/usr/bin/env python3
"""The lane runner's checks can fail: run_lane.check_mode on hand-written
console logs, each breaking one rule (tests named as specifications)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_lane  # noqa: E402

FEATURES_MAX = "lane el1 el 1 features tlbi_range=1 ttl=1 bbm=2 fwb=0 asid_bits=16 vmid_bits=16 pes=1"
FEATURES_A57 = "lane el1 el 1 features tlbi_range=0 ttl=0 bbm=0 fwb=0 asid_bits=16 vmid_bits=8 pes=1"


def result(scenario, mode, stale=0, wrong=0, expect="none", range_tlbi=0, policy="tlbkit"):
    why = ' why="a reason"' if expect == "none" else ""
    return (f"result lane=el1 policy={policy} scenario={scenario} mode={mode} checks=8 stale={stale} "
            f"wrong={wrong} tlbi=1 range_tlbi={range_tlbi} dsb=2 cache=0 narrowed_or_dropped=0 "
            f"expect={expect}{why}")


def log(*lines, features=FEATURES_MAX, done="done failures=0"):
    return "\n".join([features, *lines] + ([done] if done else [])) + "\n"


class NormalMode(unittest.TestCase):
    def test_a_clean_run_with_a_range_tlbi_passes(self):
        problems, _ = run_lane.check_mode("normal", 0, log(result("unmap-page", "normal", range_tlbi=1)), "max")
        self.assertEqual(problems, [])

    def test_a_stale_access_fails(self):
        problems, _ = run_lane.check_mode("normal", 1, log(result("unmap-page", "normal", stale=1, range_tlbi=1)), "max")
        self.assertTrue(any("stale=1" in p for p in problems), problems)

    def test_a_wrong_access_fails(self):
        problems, _ = run_lane.check_mode("normal", 0, log(result("unmap-page", "normal", wrong=2, range_tlbi=1)), "max")
        self.assertTrue(any("wrong=2" in p for p in problems), problems)

    def test_an_image_that_never_finished_fails(self):
        problems, _ = run_lane.check_mode("normal", 0, log(result("unmap-page", "normal", range_tlbi=1), done=None), "max")
        self.assertTrue(any("did not finish" in p for p in problems), problems)

    def test_no_range_tlbi_on_a_cpu_with_tlbirange_fails(self):
        problems, _ = run_lane.check_mode("normal", 0, log(result("unmap-page", "normal")), "max")
        self.assertTrue(any("no plan used a range TLBI" in p for p in problems), problems)

    def test_a_range_tlbi_on_a_cpu_without_tlbirange_fails(self):
        problems, _ = run_lane.check_mode("normal", 0, log(result("unmap-page", "normal", range_tlbi=3),
                                                           features=FEATURES_A57), "cortex-a57")
        self.assertTrue(any("3 range TLBIs" in p for p in problems), problems)


class TeethModes(unittest.TestCase):
    def test_a_scenario_expected_to_catch_that_saw_nothing_fails(self):
        problems, _ = run_lane.check_mode("drop-tlbi", 0, log(result("unmap-page", "drop-tlbi", expect="catch")), "max")
        self.assertTrue(any("expected to catch" in p for p in problems), problems)

    def test_a_scenario_declared_without_teeth_that_caught_fails(self):
        problems, _ = run_lane.check_mode("drop-tlbi", 0, log(result("promote", "drop-tlbi", stale=4),
                                                              result("unmap-page", "drop-tlbi", stale=1, expect="catch")), "max")
        self.assertTrue(any("declared without teeth" in p for p in problems), problems)

    def test_a_lane_where_no_scenario_catches_dropped_tlbis_fails(self):
        problems, _ = run_lane.check_mode("drop-tlbi", 0, log(result("promote", "drop-tlbi")), "max")
        self.assertTrue(any("proves nothing" in p for p in problems), problems)

    def test_declarations_that_hold_pass(self):
        problems, _ = run_lane.check_mode("drop-tlbi", 0, log(result("promote", "drop-tlbi"),
                                                              result("unmap-page", "drop-tlbi", stale=1, expect="catch")), "max")
        self.assertEqual(problems, [])


if __name__ == "__main__":
    unittest.main()
