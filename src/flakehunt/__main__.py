"""Allow ``python -m flakehunt``."""

from flakehunt.cli import main

if __name__ == "__main__":
    main()
