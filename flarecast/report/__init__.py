"""Reports: rich tables, Markdown and HTML (:mod:`~flarecast.report.text`) and PNG plots
(:mod:`~flarecast.report.plots`). Reports read plain results (``metrics.json``-shaped dicts and the evaluated
forecasts); they never compute scores."""
