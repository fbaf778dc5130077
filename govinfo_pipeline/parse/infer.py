"""Which reading of each table row the template's arithmetic leaves, when a row could be read several ways.

Damaged text often leaves a row readable in more than one way: a glued run of digits that cuts into cells in
several places, or fewer numbers than the row has cells, so which cells were the empty ones is unknown. Each
such row comes with its possible readings (one vector of values per reading, blank and none counting as 0, as
the rules read them); rows read for certain come with one. A set of linear rules, each a coefficient per row
that must sum to 0 in every column (B1 and B2 of the application table), is then searched exactly: a
depth-first search over the rows' readings, pruned by the least and most every unread row can still add.

A row is settled only when every combination of readings that satisfies all the rules gives it the same
reading. When no combination satisfies them (the report breaks a rule) or the search grows beyond ``cap``
nodes, nothing is settled: the rules then cannot tell the readings apart, and nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Vector = tuple[float, ...]
DEFAULT_CAP = 200_000
_EPS = 1e-9


def settle(
    options: Mapping[str, Sequence[Vector]], rules: Sequence[Mapping[str, int]], cap: int = DEFAULT_CAP
) -> dict[str, int | None]:
    """For each row of ``options`` (row -> its readings), the index of the one reading every consistent
    combination gives it; None for a row left ambiguous. Rows that no rule names are settled only when they
    have a single reading. ``rules``: row -> coefficient; every column's weighted sum must be 0."""
    out: dict[str, int | None] = {row: (0 if len(opts) == 1 else None) for row, opts in options.items()}
    rules = [r for r in rules if r and all(row in options for row in r)]
    rows = [row for row in options if any(row in r for r in rules)]
    if not rows or any(not options[row] for row in rows):
        return out
    width = len(options[rows[0]][0])
    if any(len(v) != width for row in rows for v in options[row]):
        raise ValueError("every reading of every row must have the same number of columns")
    rows.sort(key=lambda row: len(options[row]))
    checks = [(n, c) for n in range(len(rules)) for c in range(width)]
    # contrib[k][i][j]: what reading i of row k adds to check j
    contrib = [[[rules[n].get(row, 0) * v[c] for n, c in checks] for v in options[row]] for row in rows]
    lo = [[min(col) for col in zip(*opts, strict=True)] for opts in contrib]
    hi = [[max(col) for col in zip(*opts, strict=True)] for opts in contrib]
    rest_lo = [[0.0] * len(checks) for _ in range(len(rows) + 1)]
    rest_hi = [[0.0] * len(checks) for _ in range(len(rows) + 1)]
    for k in range(len(rows) - 1, -1, -1):
        rest_lo[k] = [a + b for a, b in zip(rest_lo[k + 1], lo[k], strict=True)]
        rest_hi[k] = [a + b for a, b in zip(rest_hi[k + 1], hi[k], strict=True)]
    used: list[set[int]] = [set() for _ in rows]
    nodes = 0
    chosen: list[int] = []

    def walk(k: int, partial: list[float]) -> bool:
        """Depth-first over rows k…; False when the node budget is spent."""
        nonlocal nodes
        nodes += 1
        if nodes > cap:
            return False
        if k == len(rows):
            for row_k, i in enumerate(chosen):
                used[row_k].add(i)
            return True
        for i, add in enumerate(contrib[k]):
            nxt = [p + a for p, a in zip(partial, add, strict=True)]
            if all(s + rest_lo[k + 1][j] <= _EPS and s + rest_hi[k + 1][j] >= -_EPS for j, s in enumerate(nxt)):
                chosen.append(i)
                ok = walk(k + 1, nxt)
                chosen.pop()
                if not ok:
                    return False
        return True

    if not walk(0, [0.0] * len(checks)):
        return out
    for k, row in enumerate(rows):
        if len(options[row]) > 1:
            out[row] = next(iter(used[k])) if len(used[k]) == 1 else None
    return out
