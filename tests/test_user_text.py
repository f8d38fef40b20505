"""User text is text: hostile names escaped for Streamlit Markdown, Plotly labels and download file names.

The Markdown checks parse the escaped text with markdown-it-py (CommonMark, as Streamlit's renderer follows, plus
GitHub's tables and strikethrough), then look in the parsed text for what Streamlit's renderer finds there after
parsing: bare links, e-mail addresses, emoji and icon shortcodes. The patterns are those of Streamlit 1.67's
StreamlitMarkdown bundle. tests/browser/test_hostile_names_in_browser.py renders the same names in Streamlit itself.
"""

import html
import re
import time

import pytest
from markdown_it import MarkdownIt

from ae_core import user_text

HOST = "http://127.0.0.1:9"
HOSTILE = {
    "markdown image": f"![b]({HOST}/name.png)",
    "markdown link": f"[click here]({HOST}/phish)",
    "reference link": f"[click][1]\n\n[1]: {HOST}/phish",
    "autolink": f"<{HOST}/phish>",
    "bare link": f"{HOST}/phish and www.example.com and me@example.com",
    "html tag": f"<img src={HOST}/i.png>",
    "plotly break": "top<br>bottom",
    "plotly span": '<span style="font-size:70px">big</span>',
    "plotly link": f'<a href="{HOST}/x">a</a>',
    "entities": "&lt;b&gt; &amp; &#60;i&#62; &#x3C;",
    "emphasis and code": "**bold** _it_ ~~gone~~ `code` $x^2$ $$y$$",
    "streamlit directives": ":red[red] :material/home: :smile: :streamlit: :blue-badge[b]",
    "block syntax": "# heading\n- item\n1. first\n> quote\n    indented\n---\n| a | b |\n|---|---|",
    "leading spaces": "    four spaces first",
    "newlines": "first line\nsecond line\r\nthird\n\nfourth",
    "rtl marks": "invoice\u202egnp.exe \u2066isolated\u2069 \u200fmark",
    "backslashes": "a\\*b\\ c\\\\",
    "list and rule starts": "1. first",
    "bracket list start": "2) second",
    "plus list start": "+ plus",
    "rule start": "=== under a line",
    "emphasis by underscores": "_it_ __strong__ a_b_ _",
    "upload file name": f"![b]({HOST}/name.png) [click here]({HOST}/phish) <img src={HOST}/i.png> digits.zip",
    "10,000 characters": ("[x](http://h/p) <b>" * 500)[:10_000],
}
# What Streamlit's renderer turns into links or icons in text it has already parsed (backslashes undone)
LINK_IN_TEXT = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE | re.ASCII)
EMAIL_IN_TEXT = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII)
SHORTCODE_IN_TEXT = re.compile(r":[\w+-][\w_+-]*:", re.ASCII)


def _parsed(markdown: str) -> list:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(markdown)


def _rendered_text(markdown: str) -> str:
    """The text ``markdown`` renders to, failing on anything but one paragraph of plain text."""
    blocks = _parsed(markdown)
    assert [token.type for token in blocks] == ["paragraph_open", "inline", "paragraph_close"], blocks
    children = blocks[1].children
    assert [child.type for child in children] == ["text"], [child.type for child in children]
    return children[0].content


@pytest.mark.parametrize("name", list(HOSTILE.values()), ids=list(HOSTILE))
def test_markdown_renders_the_name_as_typed_and_nothing_else(name):
    escaped = user_text.markdown(name)
    text = _rendered_text(escaped)
    assert text.replace(user_text.WORD_JOINER, "") == user_text.visible(name)
    assert not LINK_IN_TEXT.search(text) and not EMAIL_IN_TEXT.search(text) and not SHORTCODE_IN_TEXT.search(text)
    assert ":material/" not in escaped and "\n" not in escaped


def test_the_link_patterns_find_what_they_stand_for():
    """A positive control: unescaped, the hostile names do render as links, images, HTML and shortcodes."""
    image = _parsed(HOSTILE["markdown image"])[1].children
    link = _parsed(HOSTILE["markdown link"])[1].children
    assert [child.type for child in image] == ["image"] and link[0].type == "link_open"
    assert _parsed(HOSTILE["html tag"])[0].type == "html_block"
    assert _parsed(HOSTILE["leading spaces"])[0].type == "code_block"
    text = _parsed(HOSTILE["bare link"])[1].children[0].content
    assert LINK_IN_TEXT.search(text) and EMAIL_IN_TEXT.search(text)
    assert SHORTCODE_IN_TEXT.search(_parsed(HOSTILE["streamlit directives"])[1].children[0].content)
    assert LINK_IN_TEXT.search(user_text.markdown(HOST).replace("\\", "").replace(user_text.WORD_JOINER, ""))


def test_markdown_leaves_ordinary_text_as_it_is():
    """Dots, snake_case, hyphens and '!' need no escape; ':' and '@' get an invisible word joiner unless a space
    follows."""
    message = "'broken.npz' holds batch_size arrays - 3 of them! (see notes; 50%)"
    assert user_text.markdown(message) == message
    assert (
        user_text.markdown("Training failed: x@y :smile: a:b") == "Training failed: x@\u2060y :\u2060smile: a:\u2060b"
    )


@pytest.mark.parametrize("name", ["# heading", "- item", "+ item", "1. item", "1) item", "===", "    code"])
def test_a_name_cannot_start_a_block_after_a_line_break(name):
    """A name after a hard line break in a message starts a line: it must not start a list, heading or rule, nor
    turn the line before into a heading."""
    blocks = _parsed(f"**Source:** x  \n{user_text.markdown(name)}")
    assert [token.type for token in blocks] == ["paragraph_open", "inline", "paragraph_close"]
    text = "".join(child.content for child in blocks[1].children if child.type == "text")
    assert text.endswith(name)


def test_markdown_escapes_inside_a_sentence():
    """The escaped name is one part of a sentence whose own Markdown still works."""
    sentence = f"**Run** {user_text.markdown(HOSTILE['upload file name'])} needs its images"
    children = [child for child in _parsed(sentence)[1].children if child.type != "text" or child.content]
    assert [child.type for child in children] == ["strong_open", "text", "strong_close", "text"]
    assert children[3].content.replace(user_text.WORD_JOINER, "") == f" {HOSTILE['upload file name']} needs its images"


@pytest.mark.parametrize("name", list(HOSTILE.values()), ids=list(HOSTILE))
def test_plotly_labels_hold_no_tag_and_show_the_name(name):
    escaped = user_text.plotly(name)
    assert "<" not in escaped and ">" not in escaped
    assert re.fullmatch(r"([^&]|&(amp|lt|gt);)*", escaped), "every '&' starts one of the three entities"
    assert html.unescape(escaped) == user_text.visible(name)  # what Plotly draws


def test_visible_shows_controls_and_direction_marks_as_escapes():
    assert user_text.visible("a\nb\r\tc\x00") == "a\\nb\\r\\tc\\x00"
    assert user_text.visible("invoice\u202egnp.exe") == "invoice\\u202egnp.exe"
    assert user_text.visible("\u2066x\u2069\u200e\u200f\u061c\u2028") == "\\u2066x\\u2069\\u200e\\u200f\\u061c\\u2028"
    assert user_text.visible("Ziffer 7 · 數字 · رقم · 👩‍💻") == "Ziffer 7 · 數字 · رقم · 👩‍💻"  # ordinary text as it is
    assert user_text.plain(3) == "3"


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("vae-digits-2024", "vae-digits-2024.csv"),
        (
            HOSTILE["upload file name"],
            "b_http_127.0.0.1_9_name.png_click_here_http_127.0.0.1_9_phish_img_src_http_127.0.0.1_9_i.png_digits.csv",
        ),
        ("../../etc/passwd", "etc_passwd.csv"),
        ("C:\\Windows\\system32", "C_Windows_system32.csv"),
        (".hidden", "hidden.csv"),
        ("invoice\u202egnp.exe", "invoice_gnp.exe.csv"),
        ("a\nb", "a_b.csv"),
        ("数字 ziffern", "数字_ziffern.csv"),
        ("CON", "_CON.csv"),
        ("nul.txt", "_nul.txt.csv"),
        ('<>:"/\\|?*', "download.csv"),
        ("", "download.csv"),
    ],
)
def test_file_names_are_safe(stem, expected):
    assert user_text.file_name(stem, "csv") == expected


def test_file_names_are_short_and_refuse_a_strange_extension():
    name = user_text.file_name(HOSTILE["10,000 characters"], "png")
    assert len(name) <= user_text.MAX_FILE_NAME_CHARS + 4 and name.endswith(".png")
    assert len(user_text.file_name("é" * 10_000, "png").encode()) < 255
    with pytest.raises(ValueError, match="extension must be ASCII letters and digits"):
        user_text.file_name("run", "../csv")


def test_escaping_is_linear_in_the_length():
    name = "![x](http://h/p) <b>:smile: www.a.b\u202e" * 10_000  # 370,000 characters
    start = time.perf_counter()
    user_text.markdown(name), user_text.plotly(name), user_text.file_name(name, "csv")
    assert time.perf_counter() - start < 2.0
