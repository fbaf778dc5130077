"""``parse.infer.settle``: a row's reading is settled only where every combination that keeps the rules agrees."""

from __future__ import annotations

import pytest

from govinfo_pipeline.parse import infer

# x + y = z, in one column
SUM = [{"x": 1, "y": 1, "z": -1}]


def test_the_one_combination_that_adds_up_settles_every_row():
    # 1 + 2 = 3 is the only sum of a reading of x and one of y that gives z's 3
    picks = infer.settle({"x": [(1,), (2,)], "y": [(2,), (3,)], "z": [(3,)]}, SUM)
    assert picks == {"x": 0, "y": 0, "z": 0}


def test_two_combinations_that_add_up_settle_nothing():
    # 1 + 2 = 2 + 1 = 3: the rule cannot tell which row holds which
    picks = infer.settle({"x": [(1,), (2,)], "y": [(2,), (1,)], "z": [(3,)]}, SUM)
    assert picks == {"x": None, "y": None, "z": 0}


def test_a_row_is_settled_where_all_combinations_agree_on_it():
    # z = 5: 1 + 4 and 2 + 3 both add up, but y's reading differs; x is (1 or 2) either way, so neither settles.
    # With z read as 4 only 1 + 3 adds up.
    opts = {"x": [(1,), (2,)], "y": [(3,), (4,)], "z": [(4,)]}
    assert infer.settle(opts, SUM) == {"x": 0, "y": 0, "z": 0}
    opts["z"] = [(5,)]
    assert infer.settle(opts, SUM) == {"x": None, "y": None, "z": 0}


def test_a_report_that_breaks_the_rule_settles_nothing():
    picks = infer.settle({"x": [(1,), (2,)], "y": [(2,), (3,)], "z": [(9,)]}, SUM)
    assert picks == {"x": None, "y": None, "z": 0}


def test_every_column_must_hold():
    # column 1 allows both readings of x; column 2 only the second
    picks = infer.settle({"x": [(1, 1), (1, 2)], "y": [(2, 2)], "z": [(3, 4)]}, SUM)
    assert picks == {"x": 1, "y": 0, "z": 0}


def test_rules_naming_a_row_not_read_are_left_out():
    picks = infer.settle({"x": [(1,), (2,)], "z": [(3,)]}, SUM)
    assert picks == {"x": None, "z": 0}


def test_a_search_beyond_its_budget_settles_nothing():
    opts = {f"r{k}": [(1,), (1,)] for k in range(12)} | {"t": [(12,)]}
    rule = [{f"r{k}": 1 for k in range(12)} | {"t": -1}]
    assert all(v is None for k, v in infer.settle(opts, rule, cap=50).items() if k != "t")


def test_many_rows_of_many_readings_are_searched_exactly():
    """20 rows of 6 readings each (6**20 combinations, far beyond listing them): the rows' first readings add up
    to the total and every other reading is larger, so only the first readings are left."""
    opts = {f"r{k}": [(k,), *((k + 100 * j,) for j in range(1, 6))] for k in range(20)}
    opts["t"] = [(sum(range(20)),)]
    rule = [{f"r{k}": 1 for k in range(20)} | {"t": -1}]
    assert infer.settle(opts, rule) == {row: 0 for row in opts}


def test_readings_of_unequal_width_are_refused():
    with pytest.raises(ValueError):
        infer.settle({"x": [(1,), (1, 2)], "z": [(3,)]}, [{"x": 1, "z": -1}])
