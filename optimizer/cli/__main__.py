"""`python -m optimizer.cli …` is the same as `roadmap …`."""

from optimizer.cli import main

main()
