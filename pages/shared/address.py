"""The view a page's link holds: its settings, read from the address into the page's widgets the first time a session
shows them, and the widgets' values written back to the address bar, so a link reopens the same view. A value the
address gets wrong is left out with a short note saying what the setting takes; the widget keeps its default.

A page declares its view as query parameter -> ``Choice`` or ``Number``, each naming its widget's session-state key,
then calls ``open_view`` before drawing the widgets and ``keep_view`` after.
"""

from dataclasses import dataclass

import streamlit as st

from ae_core import user_text
from pages.shared.workspace import address_query

SHOWN_TEXT = 40  # characters of a wrong value quoted in the note; an address can hold far more


@dataclass(frozen=True)
class Choice:
    """A setting that is one of ``options``: the text in the address -> the widget's value."""

    key: str
    options: dict

    def read(self, text: str):
        if text not in self.options:
            raise ValueError(f"one of {', '.join(self.options)}")
        return self.options[text]

    def write(self, value) -> str | None:
        return next((text for text, option in self.options.items() if option == value), None)


@dataclass(frozen=True)
class Number:
    """A whole number (``kind`` int) or a number (float) from ``low`` to ``high``."""

    key: str
    kind: type
    low: float
    high: float

    def read(self, text: str):
        expected = f"{'a whole number' if self.kind is int else 'a number'} from {self.low:g} to {self.high:g}"
        try:
            value = self.kind(text)
        except ValueError:
            raise ValueError(expected) from None
        if not self.low <= value <= self.high:  # NaN is refused too: it compares false
            raise ValueError(expected)
        return value

    def write(self, value) -> str:
        return f"{float(value):g}" if self.kind is float else str(int(value))


def open_view(fields: dict) -> list[str]:
    """Set each widget of ``fields`` (query parameter -> Choice or Number) that the address names and this session
    has not drawn yet; a value the field does not take is left out, and a note on the page says which and what the
    setting takes. Returns the notes' items."""
    ignored = []
    for param, field in fields.items():
        text = st.query_params.get(param)
        if text is None or field.key in st.session_state:
            continue
        try:
            st.session_state[field.key] = field.read(text)
        except ValueError as expected:
            shown = text if len(text) <= SHOWN_TEXT else text[:SHOWN_TEXT] + "…"
            ignored.append(f"{param}={shown!r}: expected {expected}")
    if ignored:
        st.caption(user_text.markdown("The link's " + "; ".join(ignored) + ". Left at the defaults."))
    return ignored


def keep_view(fields: dict) -> None:
    """Write the values of the widgets of ``fields`` into the address, after the workspace's token and the run's id;
    a widget not drawn yet is left out."""
    view = {
        param: field.write(st.session_state[field.key])
        for param, field in fields.items()
        if field.key in st.session_state
    }
    query = {**address_query(), **{param: text for param, text in view.items() if text is not None}}
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
