"""``python -m crmlab``: the ``crmlab`` command line."""

from crmlab.cli import main

if __name__ == "__main__":
    main()
