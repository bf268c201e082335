"""`python -m bootstrap` runs the same CLI as the `bootstrap` console script."""

from bootstrap.cli import main

if __name__ == "__main__":
    main()
