"""Shared fixtures: one local Spark session for the whole test run."""

import shutil

import pytest


@pytest.fixture(scope="session")
def spark():
    """A quiet ``local[2]`` Spark session (UTC), started once; skipped only where Java is missing."""
    if shutil.which("java") is None:
        pytest.skip("Spark tests need Java (no `java` on PATH); install a JDK 17+ to run them.")
    from crmlab.engines import spark_session

    session = spark_session("local[2]", app_name="crmlab-tests")
    yield session
    session.stop()
