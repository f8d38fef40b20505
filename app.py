"""Autoencoder Lab: pick a dataset, train an autoencoder live, inspect its reconstructions."""

import streamlit as st

st.set_page_config(page_title="Autoencoder Lab", layout="wide")
pages = [
    st.Page("pages/data.py", title="Data", icon=":material/dataset:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/reconstructions.py", title="Reconstructions", icon=":material/compare:"),
    st.Page("pages/latent.py", title="Latent space", icon=":material/scatter_plot:"),
    st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:"),
    st.Page("pages/applications.py", title="Applications", icon=":material/apps:"),
]
st.navigation(pages).run()
