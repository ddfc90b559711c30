"""Write pip constraints that pin every dependency of crmlab to the lowest version it declares.

``make test-oldest`` installs crmlab with these constraints into a separate environment and
runs the unit tests, so each lower bound in pyproject.toml is one that has been seen to work.

    python tools/oldest_constraints.py [EXTRA ...] > constraints.txt

With no EXTRA, the core dependencies and every extra are pinned. References of an extra to
crmlab itself (``crmlab[course]``) are followed. Only the standard library is used, so the
script runs before any environment exists.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[(?P<extras>[^\]]*)\])?\s*(?P<spec>[^;]*?)\s*(?:;.*)?$"
)


def normalise(name: str) -> str:
    """The PEP 503 form of a distribution name (``Ibis_Framework`` -> ``ibis-framework``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lower_bound(requirement: str) -> tuple[str, str, list[str]]:
    """``(name, lowest version, extras)`` of a requirement such as ``"ibis-framework[duckdb]>=10.0"``.

    >>> lower_bound("ibis-framework[duckdb]>=10.0")
    ('ibis-framework', '10.0', ['duckdb'])
    >>> lower_bound("crmlab[course,grade]")
    ('crmlab', '', ['course', 'grade'])
    """
    match = _REQUIREMENT.match(requirement)
    if match is None:
        raise ValueError(f"cannot parse the requirement {requirement!r} in pyproject.toml")
    name = normalise(match["name"])
    extras = [e.strip() for e in (match["extras"] or "").split(",") if e.strip()]
    if name == "crmlab":
        return name, "", extras
    bounds = [re.match(r"(>=|==|~=)\s*([0-9][^,\s]*)", s.strip()) for s in match["spec"].split(",")]
    lows = [b.group(2) for b in bounds if b]
    if not lows:
        raise ValueError(
            f"{requirement!r} in pyproject.toml has no lower bound (>=, ~= or ==); "
            "declare the oldest version it works with so `make test-oldest` can check it."
        )
    return name, lows[0], extras


def oldest_pins(extras: list[str] | None = None, pyproject: Path = PYPROJECT) -> dict[str, str]:
    """Distribution name -> lowest declared version for the core and the given extras."""
    project = tomllib.loads(pyproject.read_text())["project"]
    optional = project.get("optional-dependencies", {})
    todo = list(optional) if extras is None else list(extras)
    unknown = sorted(set(todo) - set(optional))
    if unknown:
        raise ValueError(f"unknown extra(s) {unknown}; pyproject.toml declares {sorted(optional)}")
    requirements = list(project["dependencies"])
    seen: set[str] = set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        requirements += optional[extra]
    pins: dict[str, str] = {}
    for req in requirements:
        name, low, nested = lower_bound(req)
        if name == "crmlab":
            requirements_of = [r for e in nested if e not in seen for r in optional[e]]
            seen.update(nested)
            requirements.extend(requirements_of)
            continue
        if pins.get(name, low) != low:
            raise ValueError(f"{name} is declared with two lower bounds: {pins[name]} and {low}")
        pins[name] = low
    return dict(sorted(pins.items()))


def main(argv: list[str]) -> int:
    pins = oldest_pins(argv or None)
    sys.stdout.write("".join(f"{name}=={version}\n" for name, version in pins.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
