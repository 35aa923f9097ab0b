"""``python -m gbrec_core.cli``: the ``gbrec`` command without the console script."""

from gbrec_core.cli import main

if __name__ == "__main__":
    main()
