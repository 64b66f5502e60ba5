"""The report's charts as inline SVG, coordinates computed here: the total by post, and each recipient's bar."""

from __future__ import annotations

import math

from processor import formats
from processor.pages import share_text

CHART_WIDTH = 960
ROW_HEIGHT = 24
BAR_HEIGHT = 15
CHAR_WIDTH = 6.6


def composition_chart(result: dict, colors: dict) -> dict:
    """One bar of the whole total, split into its posts."""
    total = result["total"] or 1
    x, segments = 0.0, []
    for post in result["posts"]:
        width = CHART_WIDTH * post["amount"] / total
        segments.append({"x": round(x, 2), "width": round(width, 2), "color": colors[post["name"]],
                         "title": f"{post['name']}: {formats.kronor(post['amount'], nbsp=False)} "
                                  f"({share_text(post['amount'], total)})",
                         "label": _fit(post["name"], width - 10, 12) if width > 40 else ""})
        x += width
    return {"width": CHART_WIDTH, "height": 34, "segments": segments}


CHART_MAX_BARS = 50


def recipient_chart(result: dict, colors: dict) -> dict:
    """Horizontal bars of each recipient's total, largest first, stacked by post; at most ``CHART_MAX_BARS``."""
    ranked = sorted(enumerate(result["recipients"]), key=lambda pair: (-pair[1]["total"], pair[0]))
    recipients = ranked[:CHART_MAX_BARS]
    longest = max((len(r["name"]) for _, r in recipients), default=10)
    label_width = min(max(longest * CHAR_WIDTH + 16, 120), 330)
    amount_width = 110
    plot_width = CHART_WIDTH - label_width - amount_width
    top = max((r["total"] for _, r in recipients), default=0)
    step = nice_step(top)
    scale_max = step * math.ceil(top / step) if top else 1
    scale = plot_width / scale_max
    rows = []
    for n, (_, recipient) in enumerate(recipients):
        y = 8 + n * ROW_HEIGHT
        x, segments = label_width, []
        for post in result["posts"]:
            amount = recipient["amounts"].get(post["name"])
            if amount:
                width = amount * scale
                segments.append({"x": round(x, 2), "width": round(width, 2), "color": colors[post["name"]],
                                 "title": f"{recipient['name']}, {post['name']}: {formats.kronor(amount, nbsp=False)}"})
                x += width
        rows.append({"bar_y": y + (ROW_HEIGHT - BAR_HEIGHT) / 2, "text_y": y + ROW_HEIGHT / 2 + 4,
                     "name": _fit(recipient["name"], label_width - 16, 12), "full_name": recipient["name"],
                     "segments": segments, "end": round(x + 6, 2), "declining": not recipient["participates"],
                     "amount": formats.kronor(recipient["total"]) if recipient["participates"] else "avstår"})
    plot_bottom = 8 + len(rows) * ROW_HEIGHT
    ticks = [{"x": round(label_width + v * scale, 2), "label": tick_label(v, step)}
             for v in range(0, scale_max + 1, step)] if top else []
    return {"width": CHART_WIDTH, "height": plot_bottom + 26, "rows": rows, "ticks": ticks, "top": 4,
            "bottom": plot_bottom, "tick_y": plot_bottom + 16, "label_x": label_width - 8, "bar_height": BAR_HEIGHT,
            "stacked": len(result["posts"]) > 1, "shown": len(recipients), "count": len(ranked)}


def nice_step(top: int) -> int:
    """A round grid step (1, 2 or 5 times a power of ten) giving four to ten lines."""
    if top <= 0:
        return 1
    power = 10 ** max(0, math.floor(math.log10(top)) - 1)
    for factor in (1, 2, 5, 10, 20, 50, 100):
        if top / (factor * power) <= 8:
            return factor * power
    return 100 * power


def tick_label(value: int, step: int) -> str:
    if value == 0:
        return "0"
    if step >= 100_000:
        return formats.mnkr(value, 0 if step % 1_000_000 == 0 else 1)
    if step >= 1000:
        return formats.tkr(value)
    return formats.kronor(value)


def _fit(text: str, width: float, size: int) -> str:
    """The text shortened with an ellipsis to fit ``width`` pixels at ``size`` px (an estimate)."""
    room = int(width / (CHAR_WIDTH * size / 12))
    return text if len(text) <= room else text[:max(room - 1, 1)].rstrip() + "…"
