"""Hypothesis fuzzing of every text reader: bit flips and truncations of a real seed file per reader.

Each mutant is refused with a FlarecastError or read; nothing else may escape, and a truncated file that is
read holds only rows of the intact file (no partial row). ``benchmarks/fuzz_readers.py`` runs 1,000 per reader.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flarecast.ingest.readers import read_file
from tests.hostile.mutants import Outcome, basis_of, check, flip, rows, seed_files, truncate

SEEDS = seed_files()


def test_there_is_a_seed_for_every_text_reader():
    assert sorted(reader for _, reader, _ in SEEDS) == sorted([
        "goes-ngdc-csv", "goes-plain-csv", "swpc-edited-events", "ngdc-xrs-report", "goes-flsum-csv",
        "swpc-flarelist-csv", "hek-csv", "plain-events-csv", "jsoc-sharp-csv", "srs-archive-csv", "swpc-srs-text"])


@pytest.mark.parametrize("seed", SEEDS, ids=[s[1] for s in SEEDS])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(0, 1, exclude_max=True), truncated=st.booleans(), bit=st.integers(0, 7))
def test_mutant_is_refused_or_read_whole(seed, where, truncated, bit, tmp_path):
    kind, reader, path = seed
    data = path.read_bytes()
    at = int(where * len(data))
    mutant = tmp_path / path.name
    mutant.write_bytes(truncate(data, at) if truncated else flip(data, at, bit))
    outcome = Outcome()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = rows(read_file(path, kind, basis=basis_of(reader)).data, reader)
        check(kind, reader, mutant, original, truncated=truncated, outcome=outcome)
    assert outcome.tracebacks == [] and outcome.partial_rows == 0
