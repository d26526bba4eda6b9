"""``python -m colorot`` runs the command line."""

from .cli import main

main(prog_name="colorot")
