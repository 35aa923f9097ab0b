"""Schema rules for one CSV file, robust to arbitrarily corrupt content.

The file is read with pyarrow (types inferred, malformed lines skipped and
counted). Only when a numeric column fails to infer cleanly is the file re-read
as text and classified value by value, so the clean 6M-row case stays fast while
a corrupt file never crashes the validator.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from gbrec_core.data import report as r
from gbrec_core.data.loaders import read_header
from gbrec_core.data.report import ValidationReport, Violation
from gbrec_core.data.schema import ColumnSpec, TableSpec

_INT_TEXT = r"[+-]?\d+"


@dataclasses.dataclass
class TableResult:
    """The rows whose every schema column is valid, typed, plus the report."""

    report: ValidationReport
    clean: pd.DataFrame | None


def examples(frame: pd.DataFrame, mask: np.ndarray, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` offending rows as JSON-friendly dicts (``row`` is the 0-based data row)."""
    rows = frame.loc[mask].head(limit)
    out: list[dict[str, Any]] = []
    for idx, rec in zip(rows.index, rows.to_dict(orient="records"), strict=True):
        clean = {
            str(k): (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
            for k, v in rec.items()
        }
        out.append({"row": int(idx), **clean})
    return out


def _read(path: Path, spec: TableSpec, as_text: bool) -> tuple[pa.Table, list[dict[str, Any]]]:
    bad: list[dict[str, Any]] = []

    def on_invalid(row: Any) -> str:
        where = {} if row.number is None or row.number < 0 else {"line": int(row.number)}
        bad.append({**where, "text": str(row.text)[:200]})
        return "skip"

    text_cols = [c.name for c in spec.columns if c.kind == "str" or as_text]
    header = read_header(path)
    convert = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in (header if as_text else text_cols)},
        null_values=[""],
        strings_can_be_null=True,
    )
    parse = pacsv.ParseOptions(invalid_row_handler=on_invalid)
    return pacsv.read_csv(path, parse_options=parse, convert_options=convert), bad


def _numeric_ok(spec: ColumnSpec, typ: pa.DataType) -> bool:
    if spec.kind == "int":
        return bool(pa.types.is_integer(typ))
    return bool(pa.types.is_integer(typ) or pa.types.is_floating(typ))


def read_table(path: Path, spec: TableSpec, out: ValidationReport, limit: int) -> pa.Table | None:
    """Read ``path`` for validation; structural violations go to ``out``."""
    out.check(r.EMPTY_FILE)
    out.check(r.MALFORMED_ROW)
    if path.stat().st_size == 0 or not read_header(path):
        out.add(Violation(r.EMPTY_FILE, 1, f"{spec.file} is empty", file=spec.file))
        return None
    try:
        table, bad = _read(path, spec, as_text=False)
        cols = {c.name for c in spec.columns if c.kind != "str"} & set(table.column_names)
        if any(not _numeric_ok(spec.column(c), table.schema.field(c).type) for c in cols):
            table, bad = _read(path, spec, as_text=True)
    except pa.ArrowInvalid:
        table, bad = _read(path, spec, as_text=True)
    if bad:
        msg = f"{len(bad)} line(s) of {spec.file} have the wrong number of fields"
        out.add(Violation(r.MALFORMED_ROW, len(bad), msg, bad[:limit], spec.file))
    if table.num_rows == 0:
        out.add(Violation(r.EMPTY_FILE, 1, f"{spec.file} has no data rows", file=spec.file))
        return None
    return table


def _classify(spec: ColumnSpec, values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Numeric values plus masks of unparsable and wrong-type cells."""
    if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
        num = values.astype("float64")
        no = np.zeros(len(values), dtype=bool)
        return num, no, no
    text = values.astype("string").str.strip()
    num = pd.to_numeric(text, errors="coerce").astype("float64")
    present = text.notna().to_numpy()
    unparsable = present & num.isna().to_numpy()
    wrong = np.zeros(len(values), dtype=bool)
    if spec.kind == "int":
        is_int = text.str.fullmatch(_INT_TEXT).fillna(False).to_numpy(dtype=bool)
        wrong = present & ~unparsable & ~is_int
    return num, unparsable, wrong


def _range_rule(spec: ColumnSpec) -> str:
    if spec.name == "rating":
        return r.RATING_OUT_OF_RANGE
    return r.NON_POSITIVE_ID if spec.is_id else r.VALUE_OUT_OF_RANGE


def _add(
    out: ValidationReport,
    rule: str,
    mask: np.ndarray,
    msg: str,
    frame: pd.DataFrame,
    file: str,
    limit: int,
) -> None:
    out.check(rule)
    count = int(mask.sum())
    if count:
        out.add(Violation(rule, count, f"{count} {msg}", examples(frame, mask, limit), file))


def check_columns(frame: pd.DataFrame, spec: TableSpec, out: ValidationReport) -> None:
    out.check(r.MISSING_COLUMN)
    out.check(r.EXTRA_COLUMN)
    missing = [c for c in spec.names if c not in frame.columns]
    extra = [c for c in frame.columns if c not in spec.names]
    if missing:
        msg = f"{spec.file} lacks column(s): {', '.join(missing)}"
        out.add(Violation(r.MISSING_COLUMN, len(missing), msg, [{"columns": missing}], spec.file))
    if extra:
        msg = f"{spec.file} has unexpected column(s): {', '.join(extra)}"
        out.add(Violation(r.EXTRA_COLUMN, len(extra), msg, [{"columns": extra}], spec.file))


def _check_column(
    frame: pd.DataFrame, spec: ColumnSpec, file: str, out: ValidationReport, limit: int
) -> tuple[pd.Series, np.ndarray]:
    """Check one column; return its numeric values and the mask of valid cells."""
    values = frame[spec.name]
    nulls = values.isna().to_numpy()
    if not spec.nullable:
        _add(out, r.NULL_VALUE, nulls, f"empty value(s) in {spec.name}", frame, file, limit)
    if spec.kind == "str":
        return values, ~nulls | spec.nullable
    num, unparsable, wrong = _classify(spec, values)
    _add(
        out,
        r.UNPARSABLE_VALUE,
        unparsable,
        f"unparsable value(s) in {spec.name}",
        frame,
        file,
        limit,
    )
    if spec.kind == "int":
        _add(out, r.WRONG_TYPE, wrong, f"non-integer value(s) in {spec.name}", frame, file, limit)
    arr = num.to_numpy()
    bad_range = np.zeros(len(arr), dtype=bool)
    with np.errstate(invalid="ignore"):
        if spec.minimum is not None:
            bad_range |= arr < spec.minimum
        if spec.maximum is not None:
            bad_range |= arr > spec.maximum
    if spec.minimum is not None or spec.maximum is not None:
        lo = "-inf" if spec.minimum is None else f"{spec.minimum:g}"
        hi = "inf" if spec.maximum is None else f"{spec.maximum:g}"
        bounds = f"[{lo}, {hi}]"
        _add(
            out,
            _range_rule(spec),
            bad_range,
            f"value(s) of {spec.name} outside {bounds}",
            frame,
            file,
            limit,
        )
    valid = ~(unparsable | wrong | bad_range) & (~nulls | spec.nullable)
    return num, valid


def check_table(path: Path, spec: TableSpec, limit: int) -> TableResult:
    """Every schema rule of ``spec`` on ``path``; ``clean`` holds the valid rows, typed."""
    out = ValidationReport()
    table = read_table(path, spec, out, limit)
    if table is None:
        return TableResult(out, None)
    frame = table.to_pandas()
    out.rows[spec.file] = len(frame)
    check_columns(frame, spec, out)
    typed: dict[str, Any] = {}
    masks: dict[str, np.ndarray] = {}
    for col in spec.columns:
        if col.name in frame.columns:
            typed[col.name], masks[col.name] = _check_column(frame, col, spec.file, out, limit)
    if any(c not in frame.columns for c in spec.names):
        return TableResult(out, None)
    if spec.key:
        _check_key(typed, masks, frame, spec, out, limit)
    valid = np.logical_and.reduce(list(masks.values()))
    clean = pd.DataFrame({k: v[valid] for k, v in typed.items()})
    clean = clean.astype({c.name: c.dtype for c in spec.columns if c.kind != "str"})
    return TableResult(out, clean)


def _check_key(
    typed: dict[str, Any],
    masks: dict[str, np.ndarray],
    frame: pd.DataFrame,
    spec: TableSpec,
    out: ValidationReport,
    limit: int,
) -> None:
    """Duplicates among rows whose key columns are valid, whatever their other values."""
    usable = np.logical_and.reduce([masks[k] for k in spec.key])
    keys = [np.where(usable, typed[k].to_numpy(dtype=np.float64, na_value=0), 0) for k in spec.key]
    packed = keys[0].astype(np.int64)
    if len(keys) == 2:
        packed = (packed << 32) | (keys[1].astype(np.int64) & 0xFFFFFFFF)
    packed = np.where(usable, packed, -1 - np.arange(len(packed)))  # unusable rows never match
    dup = pd.Series(packed).duplicated().to_numpy()
    rule = r.DUPLICATE_RATING if spec.file == "ratings.csv" else r.DUPLICATE_KEY
    what = f"repeated ({', '.join(spec.key)}) in {spec.file}"
    _add(out, rule, dup, what, frame, spec.file, limit)
