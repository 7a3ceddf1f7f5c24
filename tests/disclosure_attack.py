"""The attacker of disclosure control, written apart from pipelines/publish.

It is given what is published (the known cells) and the additive equations between cells
(total = sum of parts), and recovers what it can:
- exact linear algebra: a hidden cell the equations determine alone (Gauss-Jordan elimination
  over the rationals);
- interval propagation: every count is a whole number, a hidden cell at least 1 (the method
  never hides a zero); a total lies between the sums of its parts' bounds, a part between the
  total's bounds less the other parts' bounds; repeated until nothing narrows.

Protection criterion: a hidden cell is recovered when its value is determined, or when its
feasible interval is a single value or lies within 1..threshold (that shows the count is small,
even if not which). So every hidden cell must keep an interval that reaches above the threshold
and holds more than one value.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

Cell = tuple
Equation = tuple[Cell, list[Cell]]  # (total, parts): total = sum(parts)


def narrowed_cells(equations: list[Equation], known: dict[Cell, Fraction], threshold: int) -> dict[Cell, str]:
    """Hidden cells whose propagated interval is a single value or lies within 1..threshold."""
    return {
        cell: f"interval [{low}, {high}]"
        for cell, (low, high) in propagated_intervals(equations, known).items()
        if low == high or high <= threshold
    }


def solved_by_linear_algebra(equations: list[Equation], known: dict[Cell, Fraction]) -> dict[Cell, Fraction]:
    """Unknown cells the equations determine, by sparse Gauss-Jordan elimination over the rationals.

    Each pivot row is kept free of every other pivot: a row left holding its pivot alone gives
    that cell's value; a cell in any row with a free cell beside it can still move.
    """
    pivot_rows: dict[Cell, tuple[dict[Cell, Fraction], Fraction]] = {}  # pivot -> (coefficients, right side)
    rows_with: dict[Cell, set[Cell]] = defaultdict(set)  # free cell -> the pivots whose rows hold it
    for total, parts in equations:
        coefficients: dict[Cell, Fraction] = defaultdict(Fraction)
        right = Fraction(0)  # total - sum(parts) = 0, known cells moved to the right
        for cell, sign in [(total, 1), *((part, -1) for part in parts)]:
            if cell in known:
                right -= sign * known[cell]
            else:
                coefficients[cell] += sign
        for pivot in [cell for cell in coefficients if cell in pivot_rows]:
            factor = coefficients.pop(pivot)
            pivot_coefficients, pivot_right = pivot_rows[pivot]
            for cell, value in pivot_coefficients.items():
                if cell != pivot:
                    coefficients[cell] -= factor * value
            right -= factor * pivot_right
        coefficients = {cell: value for cell, value in coefficients.items() if value}
        if not coefficients:
            continue
        pivot = min(coefficients, key=lambda cell: (len(rows_with[cell]), repr(cell)))
        scale = coefficients[pivot]
        coefficients = {cell: value / scale for cell, value in coefficients.items()}
        right /= scale
        for other in list(rows_with.pop(pivot, ())):  # take the new pivot out of the other rows
            other_coefficients, other_right = pivot_rows[other]
            factor = other_coefficients.pop(pivot)
            for cell, value in coefficients.items():
                if cell == pivot:
                    continue
                updated = other_coefficients.get(cell, Fraction(0)) - factor * value
                if updated:
                    other_coefficients[cell] = updated
                    rows_with[cell].add(other)
                else:
                    other_coefficients.pop(cell, None)
                    rows_with[cell].discard(other)
            pivot_rows[other] = (other_coefficients, other_right - factor * right)
        pivot_rows[pivot] = (coefficients, right)
        for cell in coefficients:
            if cell != pivot:
                rows_with[cell].add(pivot)
    return {pivot: right for pivot, (coefficients, right) in pivot_rows.items() if len(coefficients) == 1}


def propagated_intervals(equations: list[Equation], known: dict[Cell, Fraction]) -> dict[Cell, tuple]:
    """Interval of each unknown cell: at least 1 (zero is never hidden), narrowed to a fixed point."""
    unknown = {cell for total, parts in equations for cell in [total, *parts] if cell not in known}
    low = {cell: 1 for cell in unknown}
    high = {cell: math.inf for cell in unknown}

    def bounds(cell):
        return (known[cell], known[cell]) if cell in known else (low[cell], high[cell])

    changed = True
    while changed:
        changed = False
        for total, parts in equations:
            part_low = sum(bounds(p)[0] for p in parts)
            part_high = sum(bounds(p)[1] for p in parts)
            candidates = [(total, part_low, part_high)]
            total_low, total_high = bounds(total)
            for i, p in enumerate(parts):
                others_low = part_low - bounds(p)[0]
                others_high = sum(bounds(q)[1] for j, q in enumerate(parts) if j != i)
                candidates.append((p, total_low - others_high, total_high - others_low))
            for cell, new_low, new_high in candidates:
                if cell in known:
                    continue
                new_low = low[cell] if new_low == -math.inf else max(low[cell], math.ceil(new_low))
                new_high = high[cell] if new_high == math.inf else min(high[cell], math.floor(new_high))
                assert new_low <= new_high, f"the equations contradict each other at {cell}"
                if (new_low, new_high) != (low[cell], high[cell]):
                    low[cell], high[cell], changed = new_low, new_high, True
    return {cell: (low[cell], high[cell]) for cell in unknown}


def recovered_cells(equations: list[Equation], known: dict[Cell, Fraction], threshold: int) -> dict[Cell, str]:
    """Every hidden cell recovered, with how; each set of hidden cells linked by equations is
    attacked on its own (the rest of the system adds nothing to it), so large publications stay quick."""
    linked: dict[Cell, Cell] = {}

    def root(cell: Cell) -> Cell:
        while linked.setdefault(cell, cell) != cell:
            cell = linked[cell]
        return cell

    for total, parts in equations:
        unknown = [cell for cell in [total, *parts] if cell not in known]
        for cell in unknown[1:]:
            linked[root(cell)] = root(unknown[0])
    systems: dict[Cell, list[Equation]] = {}
    for total, parts in equations:
        unknown = [cell for cell in [total, *parts] if cell not in known]
        if unknown:
            systems.setdefault(root(unknown[0]), []).append((total, parts))
    recovered: dict[Cell, str] = {}
    for system in systems.values():
        solved = solved_by_linear_algebra(system, known)
        recovered.update(dict.fromkeys(solved, "linear algebra"))
        recovered.update(narrowed_cells(system, {**known, **solved}, threshold))
    return recovered
