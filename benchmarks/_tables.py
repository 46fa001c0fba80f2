"""Plain-text tables for the benchmark scripts' output (shared by the scripts here)."""

from __future__ import annotations


def table(rows, header):
    """``rows`` (sequences of cells) under ``header``, columns padded to fit: the first
    column left-aligned, the others right-aligned, a dashed rule under the header."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(lines)
