"""Excel returns templates: a sheet a supplier fills in, which ``socialvalue-tom value`` reads back.

The template's first sheet, ``returns``, has a header row of the columns
:func:`socialvalue_tom.frame.value_frame` reads, and drop-down lists (Excel data validation) for
``measure``, ``unit``, ``region`` and ``stage``; a second sheet, ``guidance``, says what to
write in each column and, for each measure offered, its unit, the evidence expected, how
double counting treats it, its notes and (for the family the embedded crosswalks map) the
National TOMs codes and Social Value Model outcomes it is reported under elsewhere. Needs
openpyxl (the ``excel`` extra).

Added in 0.1.
"""

from __future__ import annotations

import datetime as dt
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from socialvalue_tom._args import flag
from socialvalue_tom._workbook import save_workbook
from socialvalue_tom.engine import TablesLike, table_set
from socialvalue_tom.errors import RuleError
from socialvalue_tom.frame import PERIOD_COLUMNS
from socialvalue_tom.io import write_through_temp
from socialvalue_tom.outcome import to_day
from socialvalue_tom.report import import_extra
from socialvalue_tom.tables.table import ProxyTable

__all__ = ["TEMPLATE_COLUMNS", "template_table", "write_template"]

TEMPLATE_COLUMNS = ("measure", "quantity", "unit", "region", "date", "contract_id",
                    "supplier_id", "stage", "contract_value", "evidence")
#: The columns that replace ``date`` in a template for returns reported by period.
_PERIOD = PERIOD_COLUMNS
_SHEET = "returns"
_GUIDANCE_SHEET = "guidance"
_LISTS_SHEET = "lists"
#: Excel's limit on an inline list (the formula text of a list validation).
_INLINE_LIMIT = 255


def template_table(tables: TablesLike, on: dt.date | str | None = None) -> ProxyTable:
    """The edition a template is built from: in force on ``on`` (a date, datetime or
    ``YYYY-MM-DD`` text), else the latest edition."""
    editions = table_set(tables).editions
    if on is None:
        return editions[-1]
    try:
        day = to_day(on)
    except ValueError as exc:
        raise RuleError(f"on: {exc} (got {on!r})", field="on") from None
    if not isinstance(day, dt.date):
        raise RuleError(f"on must be a date or YYYY-MM-DD text, not {on!r}", field="on")
    return table_set(tables).select(day)[0]


def _lists(table: ProxyTable, measures: Sequence[str]) -> dict[str, list[str]]:
    specs = [table.measure(code) for code in measures]
    units = [u for spec in specs for u in table.units_offered(spec.code)]
    return {"measure": [s.code for s in specs], "unit": list(dict.fromkeys(units)),
            "region": list(table.region_codes), "stage": ["commitment", "delivered"]}


def _validation(wb: Any, ws: Any, column: str, values: list[str]) -> Any:
    """A list validation: inline when short enough, else a range on a hidden ``lists`` sheet."""
    dv_cls = import_extra("openpyxl.worksheet.datavalidation", "excel").DataValidation
    inline = '"' + ",".join(values) + '"'
    if len(inline) <= _INLINE_LIMIT and not any("," in v for v in values):
        formula = inline
    else:
        lists = wb[_LISTS_SHEET] if _LISTS_SHEET in wb.sheetnames else wb.create_sheet(_LISTS_SHEET)
        lists.sheet_state = "hidden"
        col = lists.max_column + 1 if lists.max_row > 1 or lists["A1"].value else 1
        letter = import_extra("openpyxl.utils", "excel").get_column_letter(col)
        for i, v in enumerate(values, 1):
            lists.cell(row=i, column=col, value=v)
        formula = f"{_LISTS_SHEET}!${letter}$1:${letter}${len(values)}"
    if column == "unit":
        # The list holds each measure's canonical and accepted spellings (and their plurals),
        # but other units may be read (kgCO2e for tCO2e, Weeks for week): Excel warns, and
        # lets it stand; valuing the file says which are refused. At most 255 characters.
        dv = dv_cls(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                    errorStyle="warning", errorTitle="Unit not in the list",
                    error="Other spellings of a listed unit (Weeks for week) are read as it, "
                          "and a measure with no list of units converts units of its kind "
                          "(kgCO2e for tCO2e); any other unit is refused when the file is "
                          "valued. Keep it?")
    else:
        dv = dv_cls(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                    errorTitle=f"Unknown {column}", error=f"Choose a {column} from the list")
    ws.add_data_validation(dv)
    return dv


#: What the quantity column holds, by whether rows give periods: a total delivered, so FTE
#: (a per-year measure) is FTE-years, which a quarterly return gets wrong most easily; weeks
#: and hours are totals over everyone counted, and within the row's period (a skills lead's
#: review: nothing said whether a two-year apprenticeship was 104 weeks on one row, or
#: whether a course for 12 was its 7 hours or 84).
_QUANTITY_NOTE = {
    False: "What was delivered, in the row's unit: hours, weeks, GBP, tonnes as totals, over "
           "everyone counted (3 apprentices for 10 weeks each is 30 weeks; a 7-hour course "
           "for 12 trainees is 84 hours of training; a 3-hour school visit by 2 staff is 6 "
           "staff hours); FTE as FTE-years (1 FTE employed all year is 1). On a commitment "
           "row, what the contract commits to deliver, written the same way.",
    True: "What was delivered over the row's period, in its unit: hours, weeks, GBP, tonnes "
          "as totals, over everyone counted (3 apprentices on the contract all quarter is 39 "
          "weeks; a 7-hour course for 12 trainees is 84 hours of training; a 3-hour school "
          "visit by 2 staff is 6 staff hours), only the weeks or hours within the period (an "
          "apprenticeship of two years gives its weeks quarter by quarter, never 104 on its "
          "first row); FTE as the FTE-years in the period (12 FTE employed for a quarter is "
          "3, not 12). On a commitment row, what the contract commits to deliver over the "
          "period, written the same way.",
}


#: Data rows an .xlsx sheet holds below the header row.
_MAX_ROWS = 1_048_575


def _measure_codes(measures: Sequence[str]) -> list[str]:
    """The codes asked for, each once in the order first given: a list of at least one (a
    single code given as text is refused, rather than read letter by letter)."""
    if isinstance(measures, str):
        raise RuleError(f"measures must be a list of measure codes, not the text {measures!r}: "
                        f"write [{measures!r}]", field="measures")
    codes = list(dict.fromkeys(measures))  # a code named twice is offered once
    if not codes:
        raise RuleError("measures is empty: a template offers at least one measure",
                        field="measures")
    return codes


def write_template(measures: Sequence[str], path: str | os.PathLike[str],
                   tables: TablesLike = "uk-national", *, rows: int = 500,
                   on: dt.date | str | None = None, periods: bool = False) -> Path:
    """Write an Excel returns template for ``measures`` to ``path`` and return the path.

    ``tables`` gives the measure codes, units and regions offered in the drop-down lists (the
    edition in force on ``on``, else the latest). Validation covers the first ``rows`` data
    rows. Columns a measure requires (such as ``level``) are added after the standard ones.
    ``periods=True``: each row is reported for a period, in columns ``period_start`` and
    ``period_end`` instead of ``date`` (value it with :func:`~socialvalue_tom.apportion`, or
    ``socialvalue-tom value --period period_start,period_end``).
    An unknown measure code raises :class:`~socialvalue_tom.UnknownMeasureError`.
    """
    periods = flag(periods, "periods")
    out = Path(path)
    if out.suffix.lower() != ".xlsx":  # the reader goes by the extension: .csv would not read
        raise RuleError(f"a template is an .xlsx workbook: name the file with .xlsx, not "
                        f"{out.name!r}", field="path")
    measures = _measure_codes(measures)
    if isinstance(rows, bool) or not isinstance(rows, numbers.Integral) or not (
            1 <= rows <= _MAX_ROWS):
        raise RuleError(f"rows must be a whole number from 1 to {_MAX_ROWS:,} (the data rows "
                        f"an .xlsx sheet holds below its header), not {rows!r}", field="rows")
    rows = int(rows)  # numpy integers too
    openpyxl = import_extra("openpyxl", "excel")
    comments = import_extra("openpyxl.comments", "excel")
    table = template_table(tables, on)
    lists = _lists(table, measures)
    required = [f for c in measures for f in table.measure(c).requires]
    standard = [c for name in TEMPLATE_COLUMNS
                for c in (_PERIOD if periods and name == "date" else (name,))]
    columns = [*standard, *dict.fromkeys(r for r in required if r not in standard)]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = _SHEET
    ws.append(columns)
    ws.freeze_panes = "A2"
    letters = {name: openpyxl.utils.get_column_letter(i) for i, name in enumerate(columns, 1)}
    for name, letter in letters.items():
        ws.column_dimensions[letter].width = max(14, len(name) + 4)
    guide = "\n".join(f"{c}: {table.measure(c).title} ({table.measure(c).unit})" for c in measures)
    ws[f"{letters['measure']}1"].comment = comments.Comment(
        f"{table.name}:{table.version}\n{guide}", "socialvalue_tom")
    ws[f"{letters['quantity']}1"].comment = comments.Comment(_QUANTITY_NOTE[periods],
                                                              "socialvalue_tom")
    for name, values in lists.items():
        dv = _validation(wb, ws, name, values)
        dv.add(f"{letters[name]}2:{letters[name]}{rows + 1}")
    _number_rules(openpyxl, ws, letters, rows, _PERIOD if periods else ("date",))
    _guidance_sheet(wb, table, measures, columns, periods)
    if _LISTS_SHEET in wb.sheetnames:  # the hidden lists last, after what a supplier reads
        wb.move_sheet(_LISTS_SHEET, offset=len(wb.sheetnames) - 1
                      - wb.sheetnames.index(_LISTS_SHEET))
    # Through a temporary file, as every other output: an interrupted save left a
    # half-written workbook that Excel called corrupt.
    write_through_temp(out, lambda tmp: save_workbook(wb, tmp))
    return out


#: How to date a commitment (a social value manager's review: commitments dated at the tender
#: were valued with that year's edition and prices, and the targets then set them against
#: deliveries valued with a later one, so "delivered %" compared money at different proxies).
_COMMITMENT_DATES = ("A commitment row is dated in the financial year its delivery is due, "
                     "not at the tender or award: a commitment over several years is a row "
                     "per year, so that each is valued with the same table as what is "
                     "delivered against it.")
#: What to write in each column of the returns sheet (a supplier's review: the template said
#: nothing of what a date, a region or a stage is, and dating a year's delivery at the
#: return's date moved it into the next year's edition).
_COLUMN_GUIDE = {
    "measure": "The measure's code, from the list: each measure's title, unit, the evidence "
               "it expects and how it is counted are below.",
    "unit": "The quantity's unit, from the list (another spelling of a listed unit is read as "
            "it; a unit of another kind, such as hours for FTE, is refused).",
    "date": "The day the outcome was delivered, or the last day of the period it was "
            "delivered in (YYYY-MM-DD). The proxy table in force on that date values it, and "
            "financial years run 1 April to 31 March: date a year's delivery within that "
            "year, not at the date of the return. " + _COMMITMENT_DATES,
    "period_start": "The first day of the period the row reports (YYYY-MM-DD); the row is "
                    "shared between financial years by days. A commitment row gives the "
                    "period its delivery is due in, not the tender's date.",
    "period_end": "The last day of the period the row reports (YYYY-MM-DD).",
    "contract_id": "The contract's reference, the same on every row of the contract: double "
                   "counting is worked out per contract.",
    "supplier_id": "Your organisation's reference: tenders for one contract are told apart "
                   "by it. Report your subcontractors' deliveries on this contract under "
                   "your reference too: double counting is worked out per supplier, so a "
                   "subcontractor's rows under its own reference are not netted against "
                   "yours (its fleet saving would also count in your carbon saved).",
    "stage": "commitment for what the contract promises, delivered for what was delivered "
             "(lower case): totals and targets keep them apart.",
    "contract_value": "The contract's value in pounds, the same on every row of the "
                      "contract: social value per pound is worked out from it.",
    "evidence": "Where the evidence for the row is kept (a file name or link): what each "
                "measure expects is below.",
}
#: Columns a supplier may add where the contract's evidence supports other than the table's
#: defaults (the measure notes say "set them per contract").
_OPTIONAL_GUIDE = ("Columns you may add, where the contract's evidence supports other than "
                   "the table's defaults: deadweight, displacement, attribution, drop_off "
                   "(fractions from 0 to 1: 0.25, not 25%), years (how many years an outcome "
                   "lasts: the quantity is then what is delivered in each year, so 10 tCO2e a "
                   "year for 3 years is quantity 10 with years 3, not 30, and a two-year "
                   "apprenticeship is 52 weeks with years 2, or better a row of 52 weeks for "
                   "each year, never 104 weeks with years 2, which counts 208) and confidence "
                   "(an evidence grade).")


def _guidance_sheet(wb: Any, table: ProxyTable, measures: Sequence[str],
                    columns: Sequence[str], periods: bool) -> None:
    """The ``guidance`` sheet: what to write in each column, then each measure offered with
    its unit, the evidence expected, how double counting treats it, and its notes. Its first
    row is a title, not outcome columns: a workbook read back is read from ``returns``."""
    styles = import_extra("openpyxl.styles", "excel")
    ws = wb.create_sheet(_GUIDANCE_SHEET)
    column_guide = {**_COLUMN_GUIDE, "region": _region_guide(table)}
    _append(ws, [f"How to fill in the {_SHEET} sheet ({table.name}:{table.version})"])
    ws["A1"].font = styles.Font(bold=True)
    _append(ws, [])
    _append(ws, ["Column", "What to write"])
    for name in columns:
        guide = (_QUANTITY_NOTE[periods] if name == "quantity" else column_guide.get(name)
                 or _required_guide(table, measures, name))
        _append(ws, [name, guide])
    _append(ws, ["(optional)", _OPTIONAL_GUIDE])
    _append(ws, [])
    elsewhere = _elsewhere(table)
    _append(ws, ["Measure", "Title", "Unit", "Evidence expected", "Counted with",
                 "Notes", *([_ELSEWHERE_HEADER] if elsewhere else [])])
    for code in measures:
        m = table.measure(code)
        _append(ws, [code, m.title, m.unit, m.evidence or "",
                     _counted_with(table, code, measures), m.notes or "",
                     *([elsewhere.get(code, "")] if elsewhere else [])])
    for letter, width in zip("ABCDEFG", (24, 60, 10, 60, 60, 80, 60), strict=True):
        ws.column_dimensions[letter].width = width
    wrap = styles.Alignment(wrap_text=True, vertical="top")
    for row in ws.iter_rows():
        for cell in row:
            _as_text(cell)
            if cell.row >= 3:
                cell.alignment = wrap
    for row in (3, 6 + len(columns)):
        for cell in ws[row]:
            cell.font = styles.Font(bold=True)


#: The header of the guidance's column naming each measure's counterparts in the frameworks
#: suppliers also report in.
_ELSEWHERE_HEADER = ("Reported elsewhere as (codes and names only, from the crosswalks: verify "
                     "them; write this sheet's measure and unit, never a TOMs code or unit)")


def _elsewhere(table: ProxyTable) -> dict[str, str]:
    """Each measure's National TOMs codes (with the crosswalk's note: a unit that differs, a
    partial match) and its PPN 002 and PPN 06/20 outcomes, for a table of the family the
    embedded crosswalks map; empty for another family's (its codes are its own definitions).
    A social value manager's review: suppliers used to a TOMs calculator could not tell
    which measure took their NT10 weeks, nor that NT9 counts weeks where ours counts hours."""
    from socialvalue_tom.tables.crosswalk import load_crosswalk

    lines: dict[str, list[str]] = {}
    for name, label in (("toms", "National TOMs"), ("ppn002", "PPN 002"),
                        ("ppn0620", "PPN 06/20")):
        walk = load_crosswalk(name)
        if walk.attrs["crosswalk"]["family"] != table.name:
            return {}
        for row in walk.to_dict("records"):  # a name not given is NaN in the frame
            if name == "toms":
                said = row["codes"] or "no counterpart"
                said += f" ({row['note']})" if isinstance(row["note"], str) else ""
            else:
                group = row["mission" if name == "ppn002" else "theme"]
                said = (f"{row['outcome']} ({group})" if isinstance(row["outcome"], str)
                        else "no counterpart")
            lines.setdefault(str(row["measure"]), []).append(f"{label}: {said}")
    return {code: "\n".join(said) for code, said in lines.items()}


def _region_guide(table: ProxyTable) -> str:
    """What to write in the region column, naming the table's own regions."""
    return (f"Where the outcome was delivered: {', '.join(table.region_codes)}, from the list "
            "(a region's name is read too, and for the UK, its nations and London their GSS "
            "code). For jobs, where the work is done: wage figures are by place of work.")


def _append(ws: Any, values: Sequence[Any]) -> None:
    """A guidance row, its text with the characters a worksheet cannot hold (control
    characters, lone surrogates) replaced by U+FFFD: a table's notes come from its file."""
    from socialvalue_tom.io import _sheet_text

    ws.append([_sheet_text(v) for v in values])


def _as_text(cell: Any) -> None:
    """A guidance cell as the text it is: a table's notes, titles and reasons come from a
    table file, which may come from another organisation, so text that a spreadsheet would
    read as a formula or an error value (``=HYPERLINK(...)``, ``#N/A``) is a text cell, kept
    text when edited."""
    from socialvalue_tom.io import _reads_as_formula

    if _reads_as_formula(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True


def _required_guide(table: ProxyTable, measures: Sequence[str], name: str) -> str:
    """What to write in a column some offered measures require (``level``), with the bounds
    a measure sets on it."""
    required = [c for c in measures if name in table.measure(c).requires]
    bounds = []
    for c in required:
        b = table.measure(c).field_bounds.get(name)
        if b is not None and (b.min is not None or b.max is not None):
            low = "" if b.min is None else f"from {b.min:g} "
            high = "" if b.max is None else f"to {b.max:g}"
            bounds.append(f"{c}: {low}{high}".strip())
    within = f" ({'; '.join(bounds)})" if bounds else ""
    return f"A figure required by {', '.join(required)}{within}, on each of their rows."


def _counted_with(table: ProxyTable, code: str, offered: Sequence[str]) -> str:
    """How the table's double-counting rules treat ``code``: as a part (counted in full) or
    as the whole its parts come out of, with the rule's reason; the measures this template
    does not offer are said to be so (a review: a template of priority hires alone told the
    supplier to report under jobs-local-fte, which its list refused)."""
    def named(codes: Sequence[str]) -> str:
        return ", ".join(c if c in offered else f"{c} (not in this template)" for c in codes)

    said = []
    for ex in table.spec.exclusions:
        if code not in ex.measures:
            continue
        whole, parts = ex.measures[-1], ex.measures[:-1]
        if ex.mode == "reject":
            said.append(f"Not with {named([c for c in ex.measures if c != code])} for the "
                        f"same contract (refused): {ex.reason}")
        elif code == whole:
            said.append(f"Report the whole, including what you also report under "
                        f"{named(parts)}: it counts only what they leave. {ex.reason}")
        else:
            said.append(f"A part of {named([whole])}, counted in full; report it under "
                        f"{whole} too, which counts what the parts leave. {ex.reason}")
    return "\n".join(said)


def _number_rules(openpyxl: Any, ws: Any, letters: dict[str, str], rows: int,
                  dates: tuple[str, ...]) -> None:
    dv_cls = openpyxl.worksheet.datavalidation.DataValidation
    qty = dv_cls(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                 showErrorMessage=True, error="quantity must be a number, 0 or more")
    ws.add_data_validation(qty)
    qty.add(f"{letters['quantity']}2:{letters['quantity']}{rows + 1}")
    for name in dates:
        day = dv_cls(type="date", operator="greaterThan", formula1="1", allow_blank=True,
                     showErrorMessage=True, error=f"{name} must be a date (YYYY-MM-DD)")
        ws.add_data_validation(day)
        day.add(f"{letters[name]}2:{letters[name]}{rows + 1}")
        for r in range(2, rows + 2):
            ws[f"{letters[name]}{r}"].number_format = "yyyy-mm-dd"
    # Ids as text: in a General cell Excel turns 0012 into the number 12 (another contract
    # than "0012" for the exclusions and reports) and rounds ids of over 15 digits.
    for name in ("contract_id", "supplier_id"):
        if name in letters:
            for r in range(2, rows + 2):
                ws[f"{letters[name]}{r}"].number_format = "@"
