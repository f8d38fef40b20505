"""The command line, ``python -m ae_core``: ``parser`` declares the commands and options, ``commands`` runs them
(``worker_training`` trains through an executor for ``train --executor``), ``text`` lays out tables for the terminal.
"""
