"""The studies: what trains models, scores them and writes reports, above ``train``, ``evaluate`` and ``report``.

- :mod:`~flarecast.studies.evaluation`: ``flarecast evaluate MODEL`` (score a store, write ``metrics.json``,
  ``report.md`` and plots);
- :mod:`~flarecast.studies.comparison` (its scores over seeds :mod:`~flarecast.studies.comparison_summary`): the
  focal-vs-CE study of ``flarecast compare``; :mod:`~flarecast.studies.compare_cv` its cross-validated form
  (``--cv``); :mod:`~flarecast.studies.run` the entry point of both;
- :mod:`~flarecast.studies.oof`: ``flarecast cv``, a CV ensemble's out-of-fold scores per held-out period
  (``--rule`` re-chooses each fold's calibration and threshold on the other folds).

``evaluate`` only scores and ``report`` only renders; the import-linter contracts in ``pyproject.toml`` keep it so.
"""
