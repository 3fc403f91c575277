"""Experiment runners: they train and evaluate many models (the results tables).

This is the one stage above both :mod:`moodnet.training` and :mod:`moodnet.evaluation`;
:mod:`moodnet.experiments.table` builds the paper's results table.
"""
