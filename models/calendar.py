"""Calendar labels for scenario times when ``calendar_start`` is set (display only)."""

from __future__ import annotations

import calendar as _cal
import datetime as dt

from models.scenario import Scenario


def _parse(start: str) -> tuple[dt.date, bool]:
    parts = [int(x) for x in start.split("-")]
    has_day = len(parts) == 3
    return dt.date(parts[0], parts[1], parts[2] if has_day else 1), has_day


def to_date(sc: Scenario, t: int) -> dt.date | None:
    """The calendar date of scenario time ``t``, or None without calendar_start."""
    if not sc.calendar_start:
        return None
    base, _ = _parse(sc.calendar_start)
    if sc.time_unit == "day":
        return base + dt.timedelta(days=t)
    if sc.time_unit == "week":
        return base + dt.timedelta(weeks=t)
    month_index = base.year * 12 + (base.month - 1) + t
    year, month = divmod(month_index, 12)
    day = min(base.day, _cal.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


def label(sc: Scenario, t: int | None) -> str:
    """'2018-08' for month scenarios started as YYYY-MM, else an ISO date; '' if none."""
    if t is None:
        return ""
    d = to_date(sc, t)
    if d is None:
        return ""
    if sc.time_unit == "month" and sc.calendar_start and len(sc.calendar_start) == 7:
        return d.strftime("%Y-%m")
    return d.isoformat()


def unit_name(sc: Scenario, plural: bool = True) -> str:
    return sc.time_unit + ("s" if plural else "")


def to_time(sc: Scenario, text: str) -> int:
    """The scenario time of a calendar label (the inverse of ``label``) or a plain number.

    '2019-02' (month scenarios started as YYYY-MM), an ISO date, or a whole
    number of time units. Raises ValueError with the accepted forms.
    """
    raw = text.strip()
    if raw.lstrip("+").isdigit():
        return int(raw)
    if not sc.calendar_start:
        raise ValueError(f"expected a whole number of {unit_name(sc)}, got {raw!r}")
    base, _ = _parse(sc.calendar_start)
    example = label(sc, 0)
    try:
        parts = [int(x) for x in raw.split("-")]
        if len(parts) == 2:
            parts.append(base.day)
        date = dt.date(parts[0], parts[1], parts[2]) if len(parts) == 3 else None
    except ValueError:
        date = None
    if date is None:
        raise ValueError(f"expected a date like {example} or a number of {unit_name(sc)}, "
                         f"got {raw!r}")
    if sc.time_unit == "month":
        t = (date.year - base.year) * 12 + date.month - base.month
    else:
        days = (date - base).days
        t = days // 7 if sc.time_unit == "week" else days
    if t < 0:
        raise ValueError(f"{raw} is before the calendar start {example}")
    return t
