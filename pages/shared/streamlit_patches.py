"""The two changes the app makes to private Streamlit behaviour, each failing loudly at import when Streamlit no longer
has the name it relies on: Keras' global state is left alone after a script run, and a deep link runs app.py's
navigation rather than the page alone.
"""

import streamlit as st

from pages.shared import keys

STREAMLIT_PATCHED_FOR = "1.67"  # the Streamlit version whose private names the two patches below rely on


def private_name(module, name: str, breaks: str):
    """``module.name``, a private Streamlit name; a RuntimeError at import, never a silent change, when it is gone."""
    if not hasattr(module, name):
        raise RuntimeError(
            f"streamlit {st.__version__} has no {module.__name__}.{name}, which the app relies "
            f"on (written for streamlit {STREAMLIT_PATCHED_FOR}). Without it {breaks} Install the "
            f"streamlit version pinned in requirements.txt, or adapt pages/shared/streamlit_patches.py."
        )
    return getattr(module, name)


def keep_keras_state() -> None:
    """Stop Streamlit from calling keras.backend.clear_session() at the end of every script run.

    Streamlit does that for scripts that rebuild their models on each run. Here models live on in session state,
    and background threads build them: a job rebuilds its finished run's model from the weights its worker sent, the
    background thread loads runs. clear_session() swaps out Keras' global state (layer-name counters, seeds, scopes)
    for every thread at once: a model being built at that moment fails with 'The name "dense" is used 2 times in the
    model'. There is no setting for this, so the private hook is replaced.
    """
    from streamlit.runtime.scriptrunner import script_runner

    private_name(
        script_runner,
        "_clean_problem_modules",
        "every script run clears Keras' global state while other threads build models, which then fail.",
    )
    script_runner._clean_problem_modules = lambda: None


def pages_manager():
    """Streamlit's PagesManager, checked to still have the flag use_app_navigation turns off."""
    from streamlit.runtime.pages_manager import PagesManager

    private_name(
        PagesManager,
        "uses_pages_directory",
        "a fresh server's first request for a page such as /train runs "
        "that page alone, with every file in pages/ listed in the sidebar.",
    )
    return PagesManager


def use_app_navigation() -> None:
    """Streamlit treats a folder named pages/ beside app.py as an old-style multipage app until app.py has called
    st.navigation once in this server. A fresh server's first request for /train would run pages/train.py alone,
    with every file in pages/ listed in the sidebar. Turn that off and rerun once through app.py.
    (Renaming the folder is Streamlit's public way around it; pages/ is this project's layout.)"""
    manager = pages_manager()
    if manager.uses_pages_directory:
        manager.uses_pages_directory = False
        if not st.session_state.get(keys.NAVIGATION_FIXED):
            st.session_state[keys.NAVIGATION_FIXED] = True
            st.rerun()


keep_keras_state()
pages_manager()
