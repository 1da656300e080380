"""Small-number protection for published tables.

Primary suppression hides every count from 1 up to the threshold minus one. Complementary suppression then
hides further cells so that no hidden cell can be recovered by subtracting the visible cells from a row or
column total: every row and column (totals included, as the margin row and column) holds either no hidden
cell or at least two. Zero is published: it reveals nothing about a person.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPRESSED = None  # the marker a suppressed cell carries


@dataclass
class Table:
    """A table of counts with its row and column totals. ``cells[r][c]`` are non-negative integers."""

    rows: list[str]
    columns: list[str]
    cells: list[list[int]]

    def with_totals(self) -> list[list[int]]:
        """The cells with a total column on the right and a total row at the bottom."""
        body = [list(row) + [sum(row)] for row in self.cells]
        totals = [sum(row[c] for row in body) for c in range(len(self.columns) + 1)]
        return body + [totals]


def _sensitive(value: int, threshold: int) -> bool:
    return 0 < value < threshold


def suppress(table: Table, threshold: int = 5) -> list[list[int | None]]:
    """The table with totals, with every sensitive cell and enough complementary cells set to None.

    The grid includes the margins, so a hidden total is protected like any other cell: a margin cell that
    is itself below the threshold is hidden, and every line (row or column, margins included) with exactly
    one hidden cell gets a second one, the smallest visible non-zero cell of that line.
    """
    grid = table.with_totals()
    height, width = len(grid), len(grid[0]) if grid else 0
    hidden = {(r, c) for r in range(height) for c in range(width) if _sensitive(grid[r][c], threshold)}
    changed = True
    while changed:
        changed = False
        lines = [[(r, c) for c in range(width)] for r in range(height)]
        lines += [[(r, c) for r in range(height)] for c in range(width)]
        for line in lines:
            hidden_in_line = [cell for cell in line if cell in hidden]
            if len(hidden_in_line) != 1:
                continue
            candidates = [cell for cell in line if cell not in hidden and grid[cell[0]][cell[1]] > 0]
            if not candidates:
                # Only zeros remain visible: the hidden value equals the total minus zeros, so hide the line's
                # largest cell (its total) as well; a line without any other cell cannot be protected further.
                candidates = [cell for cell in line if cell not in hidden]
                if not candidates:
                    continue
            hidden.add(min(candidates, key=lambda cell: (grid[cell[0]][cell[1]], cell)))
            changed = True
    return [[SUPPRESSED if (r, c) in hidden else grid[r][c] for c in range(width)] for r in range(height)]


def suppress_value(value: int | None, threshold: int = 5) -> int | None:
    """A single published count: hidden when it is between 1 and the threshold minus one."""
    if value is None or _sensitive(value, threshold):
        return SUPPRESSED
    return value
