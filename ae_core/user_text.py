"""Text that came from a user is text: file names, upload members, class names, run names and dataset names (and
messages that quote them) shown as typed, never read as Markdown, HTML or a link.

One function per place a name is shown:

- ``markdown``: any Streamlit argument that renders Markdown (``st.markdown``, ``st.caption``, ``st.info`` and the
  other alerts, ``st.write`` of a string, widget labels and help, ``st.page_link`` labels, image captions, radio and
  segmented-control options).
- ``plain``: Streamlit places that show text as it is (``st.text``, ``st.code``, selectbox and multiselect options,
  dataframe cells).
- ``plotly``: Plotly labels (trace names, legends, hover text, annotations, axis and tick labels, titles), which read
  a small HTML subset (``<br>``, ``<span style>``, ``<a href>``) and HTML entities.
- ``file_name``: the name of a CSV or PNG download, safe on every file system.

Every function but ``file_name`` keeps every character: controls (a newline, a tab) and the bidirectional marks that
reorder text (U+202E makes ``gnp.exe`` read ``exe.png``) are shown as their Python escapes (``\\n``,
``\\u202e``), so a name cannot hide or rearrange the text around it.
"""

import re
import unicodedata

# Marks that reorder the text after them (embeddings, overrides, isolates) or set its direction
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Invisible, unbreakable and no word character: placed where Streamlit's renderer would still find a link or a
# shortcode in the parsed text (below), it ends the match without changing what is shown
WORD_JOINER = "\u2060"
# What Streamlit's Markdown reads as syntax in a line of text. A backslash turns the first group into plain text
# (CommonMark lets it escape any ASCII punctuation): backslashes, code, emphasis, strikethrough, links and images,
# HTML and autolinks, entities, tables, math and headings; '_' only where it could open or close emphasis, so
# snake_case stays as typed. The second group is found by Streamlit's renderer in text whose escapes are already
# undone, so a backslash cannot hide it: GitHub's bare links ("http:", "www.", "name@host.tld") and Streamlit's
# directives and shortcodes (":red[…]", ":material/home:", ":smile:"); a word joiner beside it ends the match (a
# ':' or '@' before a space starts none of them).
MARKDOWN_SYNTAX = re.compile(r"([\\`*\[\]<>~$|&#]|(?<![^\W_])_|_(?![^\W_]))|([:@])(?!\s)|(?i:(?<=www)(\.))")
# At the start of a block (where an escaped name may stand) these start a list, a heading or a rule
BLOCK_START = re.compile(r"[-+=]|\d{1,9}(?=[.)])")
MAX_FILE_NAME_CHARS = 100  # of the stem; far under the 255 bytes most file systems allow, in any script
WINDOWS_DEVICE_NAMES = re.compile(r"(?i)(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?")


def visible(text: object) -> str:
    """``str(text)`` with each control character, line or paragraph separator and bidirectional mark replaced by its
    Python escape (a newline becomes the two characters ``\\n``, U+202E becomes ``\\u202e``); the rest unchanged."""
    return "".join(_shown(char) for char in str(text))


def _shown(char: str) -> str:
    if char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Zl", "Zp"):
        return char.encode("unicode_escape").decode("ascii")
    return char


def plain(text: object) -> str:
    """User text for a Streamlit place that shows text as it is: ``visible(text)``."""
    return visible(text)


def markdown(text: object) -> str:
    """User text as Streamlit Markdown that renders to exactly ``visible(text)``, with no link, image, emphasis,
    code, heading, list, table, math, colour or shortcode, wherever it stands in a message: a backslash before
    each character that is Markdown syntax in a line, an invisible word joiner (U+2060) after each ':' and '@' not
    followed by a space and inside 'www.', and leading spaces as "&#32;" (four would start a code block)."""
    escaped = MARKDOWN_SYNTAX.sub(_escaped, visible(text))
    text_start = escaped.lstrip(" ")
    if block := BLOCK_START.match(text_start):  # "- x", "+ x", "=== " under a line; "1. x", "1) x"
        cut = block.end() if block.group()[0].isdigit() else 0
        text_start = text_start[:cut] + "\\" + text_start[cut:]
    return "&#32;" * (len(escaped) - len(escaped.lstrip(" "))) + text_start


def _escaped(match: re.Match) -> str:
    syntax, link, dot = match.groups()
    if syntax:
        return "\\" + syntax
    return link + WORD_JOINER if link else WORD_JOINER + dot


def plotly(text: object) -> str:
    """User text for a Plotly label: ``visible(text)`` with '&', '<' and '>' as HTML entities, so Plotly shows
    ``<span style=…>`` as those characters instead of styling the label, and ``&lt;`` as typed."""
    return visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def file_name(stem: object, extension: str) -> str:
    """A download's file name from user text: ``stem`` keeps its letters and digits (any script), '.', '-' and '_';
    every other run of characters becomes one '_'; no leading dot, at most MAX_FILE_NAME_CHARS characters, never
    empty nor a Windows device name. ``extension`` ("csv", "png") is the app's own, letters and digits only."""
    if not extension.isascii() or not extension.isalnum():
        raise ValueError(f"extension must be ASCII letters and digits, such as 'csv'; got {extension!r}.")
    kept = "".join(char if char.isalnum() or char in "._-" else "_" for char in unicodedata.normalize("NFC", str(stem)))
    kept = re.sub(r"_+", "_", kept).strip("._-")[:MAX_FILE_NAME_CHARS].rstrip(".")
    if not kept:
        kept = "download"
    elif WINDOWS_DEVICE_NAMES.fullmatch(kept):
        kept = f"_{kept}"
    return f"{kept}.{extension}"
