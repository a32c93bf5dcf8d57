"""The command line of ``run.py``: argument parsing and printing, over the library ``geo`` (which has neither).

Each module adds one sub-command to ``run.py``'s parser (``add_parser(sub)``) and runs it (``run(args)``).
"""
