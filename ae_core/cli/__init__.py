"""The command line, ``python -m ae_core``: ``parser`` declares the commands and options, ``commands`` runs them,
``text`` lays out tables for the terminal.
"""
