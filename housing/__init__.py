"""The ``housing`` command line, assembling the commands of every package."""
