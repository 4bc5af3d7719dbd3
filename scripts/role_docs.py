"""Write each role's README variable table from its meta/argument_specs.yml.

The argument specs are the source (a test keeps them equal to defaults/main.yml); the README
table is their mirror, generated here and checked by tests/ansible/test_ansible_argument_specs.py.

    python scripts/role_docs.py          # rewrite the tables
    python scripts/role_docs.py --check  # exit 1 naming every README that is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROLES = Path(__file__).resolve().parents[1] / "ansible" / "roles"
HEADER = "| Variable | Type | Meaning |\n|---|---|---|\n"


def table(role: Path) -> str:
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    options = specs["argument_specs"]["main"]["options"]
    rows = "".join(
        f"| `{name}` | {option['type']} | {' '.join(str(option['description']).split())} |\n"
        for name, option in options.items()
    )
    return HEADER + rows


def with_table(readme: str, new_table: str) -> str:
    """The README with its variable table (HEADER up to the next blank line) replaced."""
    start = readme.index(HEADER)
    end = readme.find("\n\n", start)
    end = len(readme) if end == -1 else end + 1
    return readme[:start] + new_table + readme[end:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale READMEs")
    args = parser.parse_args()
    stale = []
    for role in sorted(p for p in ROLES.iterdir() if (p / "meta/argument_specs.yml").is_file()):
        readme_path = role / "README.md"
        readme = readme_path.read_text(encoding="utf-8")
        wanted = with_table(readme, table(role))
        if wanted != readme:
            stale.append(readme_path)
            if not args.check:
                readme_path.write_text(wanted, encoding="utf-8")
    if args.check and stale:
        names = ", ".join(str(p.relative_to(ROLES.parents[1])) for p in stale)
        print(f"out of date: {names}; run `python scripts/role_docs.py`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
