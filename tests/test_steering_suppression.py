"""Small-number suppression: no small cell is published, and none can be worked out from what is published.

The property tests draw random small tables of counts (with many small values, so that suppression has work to
do) and check the published table, margins included: every sensitive cell is hidden, zeros are shown, no row
or column holds exactly one hidden cell, and, stronger, every hidden cell can take more than one value given the
published cells and totals. That last check solves, for each hidden cell, the smallest and the largest value it
can have (a linear programme over the table's row and column equations with non-negative cells); the interval
must have a width above zero.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from iiz.steering.suppression import SUPPRESSED, Table, suppress, suppress_value

# Small values dominate, so that most tables hold sensitive cells; zeros and larger counts appear too.
COUNTS = st.sampled_from([0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20, 35])


@st.composite
def tables(draw: st.DrawFn) -> Table:
    rows = draw(st.integers(min_value=1, max_value=4))
    columns = draw(st.integers(min_value=1, max_value=4))
    cells = [[draw(COUNTS) for _c in range(columns)] for _r in range(rows)]
    return Table(rows=[f"r{r}" for r in range(rows)], columns=[f"c{c}" for c in range(columns)], cells=cells)


THRESHOLDS = st.sampled_from([3, 5, 10])


def lines(height: int, width: int) -> list[list[tuple[int, int]]]:
    """Every row and column of the grid with its margins."""
    return [[(r, c) for c in range(width)] for r in range(height)] + [
        [(r, c) for r in range(height)] for c in range(width)
    ]


def bounds_of_hidden(grid: list[list[int]], published: list[list[int | None]]) -> dict[tuple[int, int], float]:
    """For each hidden cell, the width of the interval of values it can take given the published table.

    The unknowns are the hidden cells. Zeros are always published, so a reader knows that every hidden cell is
    at least 1 (the constraint matrix of a table with margins is totally unimodular, so the bounds of the
    relaxation are whole numbers anyway). The equations are the table's own: each body row adds up to its total
    in the last column, each column to its total in the last row.
    """
    height, width = len(grid), len(grid[0])
    hidden = [(r, c) for r in range(height) for c in range(width) if published[r][c] is SUPPRESSED]
    index = {cell: i for i, cell in enumerate(hidden)}
    equations = []
    # Row r: sum of body cells of row r minus its total = 0; the same for columns (the total row and column
    # included, which adds the equation of the grand total).
    for r in range(height):
        cells = [((r, c), 1.0) for c in range(width - 1)] + [((r, width - 1), -1.0)]
        equations.append(cells)
    for c in range(width):
        cells = [((r, c), 1.0) for r in range(height - 1)] + [((height - 1, c), -1.0)]
        equations.append(cells)
    a_eq, b_eq = [], []
    for cells in equations:
        row = np.zeros(len(hidden))
        constant = 0.0
        for cell, weight in cells:
            if cell in index:
                row[index[cell]] += weight
            else:
                constant -= weight * float(published[cell[0]][cell[1]])  # type: ignore[arg-type]
        if row.any():
            a_eq.append(row)
            b_eq.append(constant)
        else:
            assert abs(constant) < 1e-9, "the published cells contradict each other"
    widths = {}
    for cell, i in index.items():
        objective = np.zeros(len(hidden))
        objective[i] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=[(1, None)] * len(hidden), method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=[(1, None)] * len(hidden), method="highs")
        assert low.status == 0, low.message
        # An unbounded maximum means the cell is wide open, which is as protected as it gets.
        top = float("inf") if high.status == 3 else -high.fun
        widths[cell] = top - low.fun
        assert low.fun - 1e-6 <= grid[cell[0]][cell[1]] <= top + 1e-6, "the true value must be feasible"
    return widths


@settings(max_examples=300)
@given(table=tables(), threshold=THRESHOLDS, keep_totals=st.booleans())
@example(table=Table(rows=["a", "b"], columns=["x", "y"], cells=[[3, 10], [8, 12]]), threshold=5, keep_totals=False)
@example(table=Table(rows=["a"], columns=["x"], cells=[[4]]), threshold=5, keep_totals=False)
@example(
    table=Table(rows=["a", "b", "c"], columns=["x", "y", "z"], cells=[[1, 0, 0], [0, 0, 0], [0, 0, 9]]),
    threshold=5,
    keep_totals=False,
)
# Two hidden ones in a column: their sum is published (2), and hidden cells are never 0, so both would be 1.
@example(
    table=Table(rows=list("abcde"), columns=["neu"], cells=[[17], [14], [1], [15], [1]]), threshold=5, keep_totals=True
)
# Two blocks of hidden cells joined by one hidden cell: two per line, yet the joining cell follows from the rest.
@example(
    table=Table(
        rows=["a", "b", "c", "d"],
        columns=["w", "x", "y", "z"],
        cells=[[3, 20, 2, 0], [1, 4, 0, 12], [7, 35, 3, 6], [0, 0, 9, 2]],
    ),
    threshold=3,
    keep_totals=False,
)
def test_it_hides_every_small_cell_so_that_it_cannot_be_recovered(
    table: Table, threshold: int, keep_totals: bool
) -> None:
    # given a table of counts with its totals (whose totals may be published elsewhere too)
    grid = table.with_totals()
    height, width = len(grid), len(grid[0])
    keep = [(height - 1, c) for c in range(width)] if keep_totals else []
    # when it is published with suppression
    published = suppress(table, threshold, keep=keep)
    # then every cell from 1 to the threshold minus one is hidden, margins included
    for r in range(height):
        for c in range(width):
            if 0 < grid[r][c] < threshold:
                assert published[r][c] is SUPPRESSED, (r, c)
    # and zeros and every published value are shown as they are
    for r in range(height):
        for c in range(width):
            if grid[r][c] == 0:
                assert published[r][c] == 0, (r, c)
            if published[r][c] is not SUPPRESSED:
                assert published[r][c] == grid[r][c]
    # and no row or column, margins included, holds exactly one hidden cell
    for line in lines(height, width):
        assert sum(1 for r, c in line if published[r][c] is SUPPRESSED) != 1, line
    # and no hidden cell can be worked out exactly from the published cells and totals
    for cell, interval in bounds_of_hidden(grid, published).items():
        assert interval > 0.5, (cell, interval)


def test_it_publishes_a_table_without_small_numbers_unchanged() -> None:
    # given a table without counts between 1 and 4
    table = Table(rows=["Uster", "Winterthur"], columns=["neu", "abgeschlossen"], cells=[[12, 0], [7, 30]])
    # when it is suppressed
    published = suppress(table, 5)
    # then nothing is hidden and the totals are added
    assert published == [[12, 0, 12], [7, 30, 37], [19, 30, 49]]


def test_it_hides_a_second_cell_beside_a_small_one() -> None:
    # given a two-by-two table with one small cell
    table = Table(rows=["a", "b"], columns=["x", "y"], cells=[[3, 10], [8, 12]])
    # when it is suppressed
    published = suppress(table, 5)
    # then the small cell and enough others are hidden that subtraction gives nothing away
    assert published[0][0] is SUPPRESSED
    assert sum(1 for value in published[0] if value is SUPPRESSED) >= 2
    assert sum(1 for row in published if row[0] is SUPPRESSED) >= 2


@pytest.mark.parametrize(("value", "shown"), [(0, 0), (1, SUPPRESSED), (4, SUPPRESSED), (5, 5), (None, SUPPRESSED)])
def test_it_hides_a_single_small_count(value: int | None, shown: int | None) -> None:
    assert suppress_value(value, 5) == shown


def test_it_keeps_a_total_published_elsewhere_when_other_cells_can_protect() -> None:
    # given new cases per district, two of them 1, and the total shown as a headline figure
    table = Table(rows=list("abcde"), columns=["neu"], cells=[[17], [14], [1], [15], [1]])
    # when the column is suppressed keeping its total
    published = suppress(table, 5, keep=[(5, 0), (5, 1)])
    # then the total stays, the ones are hidden, and a third district is hidden beside them (two hidden ones
    # adding up to 2 would both be 1)
    assert published[5] == [48, 48]
    assert published[2][0] is SUPPRESSED and published[4][0] is SUPPRESSED
    assert sum(1 for row in published[:5] if row[0] is SUPPRESSED) == 3
