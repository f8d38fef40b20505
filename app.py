"""Autoencoder Lab: pick a dataset, train an autoencoder live, inspect its reconstructions."""

import streamlit as st

st.set_page_config(page_title="Autoencoder Lab", layout="wide")
# No page icons: a page's icon becomes the tab's icon, which the browser fetches from Google's font host, and a class
# may be offline. Icons inside a page come from the font Streamlit serves itself.
pages = [
    st.Page("pages/data.py", title="Data"),
    st.Page("pages/lesson.py", title="Lesson"),
    st.Page("pages/train.py", title="Train"),
    st.Page("pages/reconstructions.py", title="Reconstructions"),
    st.Page("pages/latent.py", title="Latent space"),
    st.Page("pages/generate.py", title="Generate"),
    st.Page("pages/applications.py", title="Applications"),
]
st.navigation(pages).run()
