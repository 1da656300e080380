"""Small-number protection for published tables.

Primary suppression hides every count from 1 up to the threshold minus one. Complementary suppression then
hides further cells so that no hidden cell can be recovered by subtracting the visible cells from a row or
column total: every row and column (totals included, as the margin row and column) holds either no hidden
cell or at least two. Zero is published: it reveals nothing about a person.

Two hidden cells per line are not always enough: the equations of several lines together can still pin a
cell down (two blocks of hidden cells joined by a single hidden cell). Seen as a graph whose vertices are the
rows and columns and whose edges are the hidden cells, a hidden cell can take more than one value exactly when
it lies on a cycle: moving its value up and down alternately along the cycle keeps every row and column sum.
So every hidden cell that lies on no cycle gets a rectangle of hidden cells through it.

And a reader knows more than the equations: zeros are always published, so every hidden cell is at least 1.
Two hidden cells that add up to 2 are both 1. The last step therefore works out, for each hidden cell, the
smallest and largest value it can take (a small linear programme over the table's equations, every hidden
cell at least 1) and hides one more cell next to any cell whose value would be pinned down.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def suppress(table: Table, threshold: int = 5, keep: Iterable[tuple[int, int]] = ()) -> list[list[int | None]]:
    """The table with totals, with every sensitive cell and enough complementary cells set to None.

    ``keep`` names cells (row, column of the grid with totals) that the page publishes elsewhere, such as a
    total shown as a headline figure: hiding them here would protect nothing, so they are chosen as
    complementary cells only when nothing else will do. The caller checks whether one was hidden after all.

    The grid includes the margins, so a hidden total is protected like any other cell: a margin cell that
    is itself below the threshold is hidden, and every line (row or column, margins included) with exactly
    one hidden cell gets a second one, the smallest visible non-zero cell of that line. Then every hidden
    cell that lies on no cycle of hidden cells gets the cheapest rectangle of non-zero cells through it, and
    every hidden cell whose value still follows from the rest gets one more hidden cell beside it.
    """
    grid = table.with_totals()
    height, width = len(grid), len(grid[0]) if grid else 0
    hidden = {(r, c) for r in range(height) for c in range(width) if _sensitive(grid[r][c], threshold)}
    kept = set(keep)
    changed = True
    while changed:
        changed = False
        lines = [[(r, c) for c in range(width)] for r in range(height)]
        lines += [[(r, c) for r in range(height)] for c in range(width)]
        for line in lines:
            hidden_in_line = [cell for cell in line if cell in hidden]
            if len(hidden_in_line) != 1:
                continue
            visible = [cell for cell in line if cell not in hidden and grid[cell[0]][cell[1]] > 0]
            candidates = [cell for cell in visible if cell not in kept] or visible
            if not candidates:
                # Only zeros remain visible: the hidden value equals the total minus zeros, so hide the line's
                # largest cell (its total) as well; a line without any other cell cannot be protected further.
                candidates = [cell for cell in line if cell not in hidden]
                if not candidates:
                    continue
            hidden.add(min(candidates, key=lambda cell: (grid[cell[0]][cell[1]], cell)))
            changed = True
        if not changed and (bridge := _first_bridge(hidden)) is not None:
            corners = _rectangle_through(bridge, grid, hidden, kept)
            hidden |= corners
            changed = bool(corners)
        if not changed and (exposed := _first_exposed(grid, hidden)) is not None:
            helper = _helper_for(exposed, grid, hidden, kept)
            if helper is not None:
                hidden.add(helper)
                changed = True
    return [[SUPPRESSED if (r, c) in hidden else grid[r][c] for c in range(width)] for r in range(height)]


def _connected(start: tuple[str, int], goal: tuple[str, int], edges: set[tuple[int, int]]) -> bool:
    """Whether two line vertices (("r", row) or ("c", column)) are joined by hidden cells."""
    seen, todo = {start}, [start]
    while todo:
        kind, number = todo.pop()
        for r, c in edges:
            if (kind == "r" and r == number) or (kind == "c" and c == number):
                other = ("c", c) if kind == "r" else ("r", r)
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
    return goal in seen


def _first_bridge(hidden: set[tuple[int, int]]) -> tuple[int, int] | None:
    """A hidden cell on no cycle of hidden cells (its value would follow from the others), if there is one."""
    for cell in sorted(hidden):
        if not _connected(("r", cell[0]), ("c", cell[1]), hidden - {cell}):
            return cell
    return None


def _rectangle_through(
    cell: tuple[int, int], grid: list[list[int]], hidden: set[tuple[int, int]], kept: set[tuple[int, int]]
) -> set[tuple[int, int]]:
    """The cheapest three corners that, with ``cell``, hide a rectangle of non-zero cells.

    One always exists: the cell's row total, column total and the grand total are not zero when the cell is not.
    """
    r, c = cell
    best: tuple[int, int, tuple[int, int], set[tuple[int, int]]] | None = None
    for r2 in range(len(grid)):
        for c2 in range(len(grid[0])):
            if r2 == r or c2 == c:
                continue
            corners = {(r, c2), (r2, c), (r2, c2)}
            new = {corner for corner in corners if corner not in hidden}
            if any(grid[x][y] == 0 for x, y in new):
                continue
            # A corner published elsewhere counts as dearer than any other.
            cost = sum(grid[x][y] for x, y in new) + sum(10**9 for corner in new if corner in kept)
            key = (cost, len(new), (r2, c2), new)
            if best is None or key[:3] < best[:3]:
                best = key
    return best[3] if best is not None else set()


def suppress_value(value: int | None, threshold: int = 5) -> int | None:
    """A single published count: hidden when it is between 1 and the threshold minus one."""
    if value is None or _sensitive(value, threshold):
        return SUPPRESSED
    return value


def _first_exposed(grid: list[list[int]], hidden: set[tuple[int, int]]) -> tuple[int, int] | None:
    """A hidden cell whose value the published table still pins down, knowing that hidden cells are at least 1."""
    if not hidden:
        return None
    import numpy as np
    from scipy.optimize import linprog

    height, width = len(grid), len(grid[0])
    cells = sorted(hidden)
    index = {cell: i for i, cell in enumerate(cells)}
    lines = [[((r, c), 1.0) for c in range(width - 1)] + [((r, width - 1), -1.0)] for r in range(height)]
    lines += [[((r, c), 1.0) for r in range(height - 1)] + [((height - 1, c), -1.0)] for c in range(width)]
    a_eq, b_eq = [], []
    for line in lines:
        row, constant = np.zeros(len(cells)), 0.0
        for cell, weight in line:
            if cell in index:
                row[index[cell]] += weight
            else:
                constant -= weight * grid[cell[0]][cell[1]]
        if row.any():
            a_eq.append(row)
            b_eq.append(constant)
    bounds = [(1, None)] * len(cells)
    for cell, i in index.items():
        objective = np.zeros(len(cells))
        objective[i] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if low.status != 0 or high.status == 3:  # no finite answer: nothing is pinned down
            continue
        if -high.fun - low.fun < 0.5:
            return cell
    return None


def _helper_for(
    cell: tuple[int, int], grid: list[list[int]], hidden: set[tuple[int, int]], kept: set[tuple[int, int]]
) -> tuple[int, int] | None:
    """The cell to hide beside a pinned-down one: in its row or column, visible, not zero, preferably above 1,
    and not one published elsewhere unless nothing else is left."""
    r, c = cell
    near = [(r, y) for y in range(len(grid[0]))] + [(x, c) for x in range(len(grid))]
    anywhere = [(x, y) for x in range(len(grid)) for y in range(len(grid[0]))]
    for excluded in (hidden | kept, hidden):
        for candidates in (near, anywhere):
            visible = [p for p in candidates if p not in excluded and grid[p[0]][p[1]] > 0]
            if visible:
                return min(visible, key=lambda p: (grid[p[0]][p[1]] < 2, grid[p[0]][p[1]], p))
    return None
