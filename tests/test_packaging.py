"""Set-up files agree with each other, and an installed (non-editable) crmlab finds its data."""

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's, and conda-only entries with no PyPI twin
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}
CONDA_ONLY = {"python", "pip", "openjdk"}


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _normalise(req: str) -> tuple[str, str]:
    r = Requirement(req)
    name = re.sub(r"[-_.]+", "-", r.name).lower()
    extras = f"[{','.join(sorted(r.extras))}]" if r.extras else ""
    return name + extras, str(r.specifier)


def test_environment_yml_mirrors_pyproject():
    project = _pyproject()["project"]
    wanted = dict(map(_normalise, project["dependencies"]))
    for extra in ("dev", "spark", "realdata"):
        wanted.update(map(_normalise, project["optional-dependencies"][extra]))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    got = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for item in dep["pip"]:
                if not item.startswith("-e"):
                    got.update([_normalise(item)])
            continue
        name, _, spec = re.match(r"([A-Za-z0-9_.\-]+)(([<>=!~]=?|=)(.*))?$", dep).group(1, 2, 2)
        if name in CONDA_ONLY:
            continue
        got.update([_normalise(CONDA_TO_PYPI.get(name, name) + (spec or ""))])
    assert got == wanted


def test_every_subpackage_is_packaged():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "crmlab").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the source tree")
def test_wheel_ships_the_retail_dataset_and_loads_it(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("crmlab-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "crmlab/_retail/transactions.csv" in names and "crmlab/_retail/meta.json" in names
        zf.extractall(tmp_path / "site")
    code = (
        "import crmlab, crmlab.data as d; assert crmlab.__file__.startswith(%r); "
        "data = d.load_retail(); print(len(data.customers))" % str(tmp_path / "site")
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "5000"


def test_readme_library_tour_runs():
    readme = (ROOT / "README.md").read_text()
    tour = readme.split("## Library tour", 1)[1]
    code = re.search(r"```python\n(.*?)```", tour, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    summary = namespace["summary"]
    assert summary["p_alive"].between(0, 1).all()
    assert set(namespace["bgf"].params_.index) == {"r", "alpha", "a", "b"}
