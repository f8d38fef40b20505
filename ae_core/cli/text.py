"""Tables for the terminal."""


def text_table(rows: list[dict]) -> str:
    """Rows of equal keys as aligned text columns, numbers to 4 significant digits, for the command line."""
    cells = [list(rows[0])] + [
        [f"{value:.4g}" if isinstance(value, float) else str(value) for value in row.values()] for row in rows
    ]
    widths = [max(len(line[column]) for line in cells) for column in range(len(cells[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) for line in cells)
