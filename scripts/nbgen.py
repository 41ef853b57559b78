"""Write a notebook (no outputs) from a list of (kind, source) cells: python3 scripts/nbgen.py spec.py out.ipynb

The spec file defines CELLS = [("md", "..."), ("code", "..."), ...]. Notebooks are the source of truth once
written; this only saves typing JSON by hand.
"""
import json, sys, runpy

spec = runpy.run_path(sys.argv[1])
cells = []
for kind, src in spec["CELLS"]:
    src = src.strip("\n")
    lines = src.split("\n")
    source = [l + "\n" for l in lines[:-1]] + [lines[-1]]
    if kind == "md":
        cells.append({"cell_type": "markdown", "metadata": {}, "source": source})
    else:
        cells.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source})
nb = {
    "cells": cells,
    "metadata": {
        "kernelspec": {"display_name": "TypeScript", "language": "typescript", "name": "tslab"},
        "language_info": {"name": "typescript", "file_extension": ".ts", "mimetype": "text/typescript"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}
with open(sys.argv[2], "w") as f:
    json.dump(nb, f, indent=1, ensure_ascii=False)
    f.write("\n")
