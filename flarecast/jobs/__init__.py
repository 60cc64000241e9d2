"""Whole pipelines: batch jobs with skip-if-done steps (:mod:`~flarecast.jobs.batch`) and the demo
(:mod:`~flarecast.jobs.demo`)."""
