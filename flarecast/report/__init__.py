"""Reports: rich tables, Markdown and HTML (:mod:`~flarecast.report.text` for evaluation, the demo's comparison and
ingest; :mod:`~flarecast.report.compare` for ``flarecast compare``; both built from the cell formatters of
:mod:`~flarecast.report.formats`) and PNG plots (:mod:`~flarecast.report.plots`). Reports read plain results
(``metrics.json``-shaped dicts and the evaluated forecasts); they never compute scores."""
