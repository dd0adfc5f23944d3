"""The length of a page's main line: the prose words and code lines a reader reads in order.

Left out, because a reader meets them only by choice: sections (below the page's title) whose
heading starts with "Going further", dropdowns (``:class: dropdown``, ``{dropdown}``), and code
cells that the page hides or folds (tags ``remove-cell``, ``remove-input``, ``hide-input``,
``hide-cell``). Display math is left out of the words and inline math counts as one word. Code
shown with ``{literalinclude}`` counts (its ``:pyobject:``, ``:start-at:``/``:start-after:`` and
``:end-before:``/``:end-at:`` options are followed), as the lines the reader sees.

``python tests/book/reading_length.py`` prints the figures of every page in ``_toc.yml``.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

WORD_LIMIT = 2500
CODE_LIMIT = 250

FENCE = re.compile(r"^(`{3,}|:{3,})\s*(.*)$")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
HIDDEN_TAGS = ("remove-cell", "remove-input", "hide-input", "hide-cell")
WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")


@dataclass(frozen=True)
class Length:
    words: int
    code_lines: int

    @property
    def within_limits(self) -> bool:
        return self.words <= WORD_LIMIT and self.code_lines <= CODE_LIMIT


def _body(text: str) -> list[str]:
    """The page without its jupytext front matter."""
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        end = lines.index("---", 1)
        return lines[end + 1 :]
    return lines


def _blocks(lines: list[str]):
    """Yield ("text", line) for each line outside fences and ("fence", info, lines) for each
    top-level fence."""
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            yield ("text", lines[i])
            i += 1
            continue
        marker, info = match.group(1), match.group(2)
        j = i + 1
        while j < len(lines):
            close = FENCE.match(lines[j])
            if (
                close
                and close.group(1)[0] == marker[0]
                and len(close.group(1)) >= len(marker)
                and not close.group(2)
            ):
                break
            j += 1
        yield ("fence", info, lines[i + 1 : j])
        i = j + 1


def _split_options(content: list[str]) -> tuple[str, list[str]]:
    """A directive's options (``:key: value`` lines or a ``---`` YAML block) and its body."""
    if content and content[0].strip() == "---":
        end = content.index("---", 1) if "---" in content[1:] else 0
        return "\n".join(content[1:end]), content[end + 1 :]
    k = 0
    while k < len(content) and re.match(r"^:[\w-]+:", content[k]):
        k += 1
    return "\n".join(content[:k]), content[k:]


def _words(line: str) -> int:
    line = re.sub(r"\$[^$]+\$", " m ", line)  # inline math: one word
    line = re.sub(r"^\([\w-]+\)=\s*$", "", line)  # a label
    line = re.sub(r"\{[\w:-]+\}`([^`<]*)(<[^>]*>)?`", r"\1", line)  # roles keep their text
    return len(WORD.findall(line))


def _included_lines(path: Path, options: str) -> int:
    """The non-blank lines a ``{literalinclude}`` of ``path`` with ``options`` shows."""
    rows = path.read_text().splitlines()
    option = dict(re.findall(r"^:([\w-]+):\s*(.*)$", options, re.M))
    if "pyobject" in option:
        nodes, found = ast.parse(path.read_text()).body, None
        for name in option["pyobject"].split("."):
            found = next(n for n in nodes if getattr(n, "name", None) == name)
            nodes = getattr(found, "body", [])
        start = min([found.lineno, *(d.lineno for d in found.decorator_list)])
        rows = rows[start - 1 : found.end_lineno]
    begin = next((i for i, r in enumerate(rows) if option.get("start-at", "\0") in r), None)
    if begin is None:
        after = next((i for i, r in enumerate(rows) if option.get("start-after", "\0") in r), -1)
        begin = after + 1
    rows = rows[begin:]
    end = next((i for i, r in enumerate(rows) if option.get("end-before", "\0") in r), None)
    if end is None:
        end_at = next((i for i, r in enumerate(rows) if option.get("end-at", "\0") in r), None)
        end = None if end_at is None else end_at + 1
    return sum(1 for row in rows[:end] if row.strip())


def _measure(lines: list[str], folder: Path | None = None) -> Length:
    words = code = 0
    in_math = False
    for block in _blocks(lines):
        if block[0] == "text":
            line = block[1]
            stripped = line.strip()
            if stripped.startswith("$$"):
                one_line = "$$" in stripped[2:]
                in_math = False if in_math else not one_line
                continue
            if not in_math:
                words += _words(line)
            continue
        _, info, content = block
        options, body = _split_options(content)
        if info.startswith("{code-cell}"):
            if not any(tag in options for tag in HIDDEN_TAGS):
                code += sum(1 for row in body if row.strip())
        elif info.startswith("{dropdown}") or re.search(r":class:.*\bdropdown\b", options):
            continue
        elif info.startswith("{math}"):
            continue
        elif info.startswith("{literalinclude}"):
            if folder is not None and info.split()[-1].endswith(".py"):
                code += _included_lines(folder / info.split()[-1], options)
        elif info.startswith("{") or info == "":
            inner = _measure(body, folder)
            words += inner.words + _words(info.split("}", 1)[-1])
            code += inner.code_lines
        else:  # a plain code block, ```python
            code += sum(1 for row in body if row.strip())
    return Length(words, code)


def main_line(text: str, folder: Path | None = None) -> Length:
    """The prose words and code lines of the page's main line (module docstring); ``folder``
    is where the page's ``{literalinclude}`` paths start."""
    kept, skip_level = [], None
    for line in _body(text):
        heading = HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if skip_level is not None and level <= skip_level:
                skip_level = None
            side = heading.group(2).lower().startswith("going further")
            if skip_level is None and side and level > 1:  # a page's own title is its main line
                skip_level = level
        if skip_level is None:
            kept.append(line)
    return _measure(kept, folder)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent.parent))  # tests/, for support
    from support import ROOT, toc_files  # noqa: E402

    for name in toc_files():
        path = ROOT / f"{name}.md"
        if path.exists():
            length = main_line(path.read_text(), path.parent)
            flag = "" if length.within_limits else "   OVER"
            print(f"{name:45s} {length.words:6d} words {length.code_lines:5d} code lines{flag}")
