"""JSON text → rows: an array of objects, JSON Lines, or objects one after another (pretty-printed), detected
from the content. Numbers keep their text exactly as written (no float round-trip).

One object is one row, however many lines it spans. A syntax error costs only its own object: the objects of
an array (or a stream of pretty-printed objects) are delimited by a tokenizer that knows strings and brackets,
so the objects after a broken one are still read. When the structure itself is lost (a string never closed),
the objects after it cannot be told apart: the file is rejected, saying where and how many objects preceded.
"""

from __future__ import annotations

import json
import re

from transforms.ingest.base import BrokenRow, CellProblem, FileRejected, TableRead, decode_text, frame


class _Num(str):
    """A JSON number, kept as its text (no float round-trip), and written back as a number inside a nested
    value."""


class _NonFinite(str):
    """NaN / Infinity / -Infinity: Python's json accepts them, JSON does not, and they are not numbers."""


class _DupKeys(dict):
    dup: list[str]


def _pairs(pairs: list[tuple[str, object]]) -> dict:
    d = dict(pairs)
    if len(d) == len(pairs):
        return d
    out = _DupKeys(d)
    seen: set[str] = set()
    out.dup = [k for k, _ in pairs if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
    return out


_DECODER = json.JSONDecoder(
    parse_float=_Num, parse_int=_Num, parse_constant=_NonFinite, object_pairs_hook=_pairs
)
# strings (escapes included), brackets, commas; a lone quote is a string that never closes on its line
_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{},]|"')


# a lone UTF-16 surrogate: what an escape like "\ud800" decodes to; it is not text (it cannot be stored)
_SURROGATE = re.compile("[\ud800-\udfff]")
_TOO_DEEP = (
    "JSON nested too deeply (hundreds of levels of arrays or objects): not a table row; fix the file and drop "
    "it again"
)


def _visible(s: str) -> str:
    """Text with lone surrogates written as escapes (so it can be stored and shown)."""
    return s.encode("utf-8", "backslashreplace").decode("utf-8") if _SURROGATE.search(s) else s


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _split(text: str, start: int, in_array: bool) -> tuple[list[tuple[int, int]], str | None, int]:
    """Spans of the top-level values from `start`: separated by commas inside an array, or each a bracketed
    value in a stream (text between them is a span of its own, so it is reported, not skipped). Returns
    (spans, problem, position after the array's ']'); problem is None, "cut" (the last value is incomplete),
    "open" (an array without its ']') or a structural fault in words."""
    spans: list[tuple[int, int]] = []
    depth, begin = 0, start
    for m in _TOKENS.finditer(text, start):
        t = m.group()
        if t == '"':
            if '"' not in text[m.end() :] and "\n" not in text[m.end() :].rstrip():
                return [*spans, (begin, len(text))], "cut", len(text)  # the file ends inside this string
            return spans, f"a string that is never closed ({_where(text, m.start())})", m.start()
        if t[0] == '"':
            continue
        if t in "[{":
            if depth == 0 and not in_array:
                if text[begin : m.start()].strip():
                    spans.append((begin, m.start()))
                begin = m.start()
            depth += 1
        elif t in "]}":
            if depth == 0:
                if in_array and t == "]":
                    if text[begin : m.start()].strip():
                        spans.append((begin, m.start()))
                    return spans, None, m.end()
                return spans, f"an unmatched '{t}' ({_where(text, m.start())})", m.start()
            depth -= 1
            if depth == 0 and not in_array:
                spans.append((begin, m.end()))
                begin = m.end()
        elif depth == 0 and in_array:  # a comma between elements
            if text[begin : m.start()].strip():
                spans.append((begin, m.start()))
            begin = m.end()
    if depth:
        return [*spans, (begin, len(text))], "cut", len(text)
    if text[begin:].strip():
        spans.append((begin, len(text)))
    return spans, ("open" if in_array else None), len(text)


def _decode_spans(
    text: str, spans: list[tuple[int, int]], first_n: int
) -> tuple[list[tuple[int, object]], list[tuple[int, str, str]]]:
    objects, broken = [], []
    for n, (a, b) in enumerate(spans, start=first_n):
        chunk = text[a:b].strip()
        try:
            objects.append((n, _DECODER.decode(chunk)))
        except RecursionError:
            broken.append((n, _TOO_DEEP, chunk[:200]))
        except json.JSONDecodeError as e:
            where = _where(text, a + (len(text[a:b]) - len(text[a:b].lstrip())) + e.pos)
            broken.append(
                (
                    n,
                    f"invalid JSON in this object ({e.msg} at {where}); fix it and drop the file again",
                    chunk[:200],
                )
            )
    return objects, broken


def _parse_values(text: str, start: int, in_array: bool):
    """Fast path: decode value after value; on the first error, delimit the rest with the tokenizer."""
    objects: list[tuple[int, object]] = []
    broken: list[tuple[int, str, str]] = []
    notes: list[str] = []
    pos, n = start, 0
    sep = " \t\r\n," if in_array else " \t\r\n"
    while True:
        while pos < len(text) and text[pos] in sep:
            pos += 1
        if pos >= len(text):
            if in_array:
                notes.append("the JSON array is not closed (no final ']'): the file may be cut short")
            return objects, broken, notes
        if in_array and text[pos] == "]":
            if text[pos + 1 :].strip():
                notes.append(f"text after the JSON array's closing ']' ({_where(text, pos + 1)}) was ignored")
            return objects, broken, notes
        try:
            obj, pos = _DECODER.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):  # the tokenizer below delimits and reports it
            break
        n += 1
        objects.append((n, obj))
    spans, problem, after = _split(text, pos, in_array)
    more, bad = _decode_spans(text, spans, n + 1)
    if problem is not None and problem not in ("cut", "open"):
        raise FileRejected(
            f"invalid JSON: {problem} after object {n}; the objects after it cannot be told apart, so the file "
            f"is not loaded ({n} object(s) before it were valid). Fix the file and drop it again"
        )
    if problem == "cut" and bad and bad[-1][0] == n + len(spans):  # the incomplete last value
        last = bad.pop()
        bad.append(
            (
                last[0],
                "file is cut short: this last JSON object is incomplete; send the complete file",
                last[2],
            )
        )
    if problem == "open":
        notes.append("the JSON array is not closed (no final ']'): the file may be cut short")
    elif in_array and text[after:].strip():
        notes.append(f"text after the JSON array's closing ']' ({_where(text, after)}) was ignored")
    return objects + more, broken + bad, notes


def _dump(v: object) -> str:
    """JSON text of a nested value with its numbers exactly as written."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_dump(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_dump(x) for x in v) + "]"
    if isinstance(v, _Num | _NonFinite):
        return str(v)
    return json.dumps(v, ensure_ascii=False)


def _shown(v: object) -> str:
    """A nested value's JSON text, storable (surrogates escaped) even when it is nested too deeply to write."""
    try:
        return _visible(_dump(v))
    except RecursionError:
        return "[… nested too deeply to show …]"


def _cell(v: object) -> tuple[str | None, str | None, str | None]:
    """(text, problem kind, reason) of one JSON value in a row."""
    if v is None:
        return None, None, None
    t = type(v)
    if t is str and _SURROGATE.search(v):
        return (
            _visible(v),
            "invalid_text",
            "text holds an invalid Unicode escape (a lone surrogate such as \\ud800): fix the value",
        )
    if t is str or t is _Num:
        return str(v), None, None
    if t is bool:
        return ("true" if v else "false"), None, None
    if t is _NonFinite:
        return (
            str(v),
            "nonfinite",
            f"{v} is not a finite number (and not valid JSON); give the value or leave it empty",
        )
    text = _shown(v)
    what = "object" if isinstance(v, dict) else "array"
    return text, "structured", f"a JSON {what} where a single value is expected: {text[:60]}"


def read_json(data: bytes) -> TableRead:
    text, encoding = decode_text(data)
    return read_json_text(text, encoding)


def read_json_text(text: str, encoding: str) -> TableRead:
    stripped = text.lstrip()
    if not stripped:
        raise FileRejected("file is empty")
    in_array = stripped.startswith("[")
    first_line = stripped.split("\n", 1)[0].strip()
    if in_array:
        objects, broken_text, notes = _parse_values(text, text.index("[") + 1, True)
        notes.insert(0, "JSON array")
    elif _is_json(first_line) and first_line != stripped.strip():
        objects, broken_text, notes = [], [], ["JSON Lines"]
        n = 0
        for line in text.splitlines():
            if not line.strip():
                continue
            n += 1
            try:
                objects.append((n, _DECODER.decode(line)))
            except RecursionError:
                broken_text.append((n, _TOO_DEEP, line[:200]))
            except json.JSONDecodeError as e:
                broken_text.append((n, f"invalid JSON on this line ({e.msg}, column {e.colno})", line[:200]))
    else:
        objects, broken_text, notes = _parse_values(text, 0, False)
        notes.insert(0, "JSON objects")
    headers: list[str] = []
    seen: set[str] = set()
    for _, obj in objects:
        if isinstance(obj, dict):
            for k in obj:
                if k not in seen:
                    seen.add(k)
                    headers.append(k)
    names = [_visible(h) for h in headers]  # a key with a lone surrogate is shown escaped (never matches)
    if not headers and not broken_text and not objects:
        raise FileRejected("JSON holds no objects; expected an array of objects or one object per line")
    body, numbers, problems = [], [], []
    broken = [BrokenRow(n, reason, {"text": raw}) for n, reason, raw in broken_text]
    for n, obj in objects:
        if not isinstance(obj, dict):
            broken.append(
                BrokenRow(
                    n, "this JSON value is not an object with named fields", {"text": _shown(obj)[:200]}
                )
            )
            continue
        if isinstance(obj, _DupKeys):
            broken.append(
                BrokenRow(
                    n,
                    f"key(s) {', '.join(sorted(set(obj.dup)))} appear twice in this object: which value is meant "
                    "is unknown; keep one",
                    {_visible(k): _cell(v)[0] for k, v in obj.items()},
                )
            )
            continue
        row = []
        for j, h in enumerate(headers):
            text_v, kind, reason = _cell(obj.get(h))
            row.append(text_v)
            if kind is not None:
                problems.append(CellProblem(n, j, kind, reason))  # type: ignore[arg-type]
        body.append(row)
        numbers.append(n)
    broken.sort(key=lambda b: b.row_number)
    return TableRead(names, frame(names, body, numbers), "json", encoding, broken, notes, problems)


def _is_json(line: str) -> bool:
    try:
        _DECODER.decode(line)
        return True
    except json.JSONDecodeError:
        return False


def looks_like_json(text: str) -> bool:
    """Content sniffing for a file whose name says CSV: an array of objects, or a first line that is a JSON
    object (JSON Lines or a pretty-printed object)."""
    s = text.lstrip()
    if s.startswith("["):
        return s[1:].lstrip().startswith(("{", "]"))
    return s.startswith("{")
