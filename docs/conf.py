"""Sphinx configuration of skcnn's documentation.

Build it from the repository's root, after ``pip install ".[docs]"``, with
warnings as errors::

    sphinx-build -W -b html docs docs/_build/html

Nothing is fetched from the network: no intersphinx inventories, and the gallery
examples use bundled data only.
"""

import os
from pathlib import Path

import skcnn

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# The command line holds TensorFlow's start-up lines back; in the docs build (API
# pages import skcnn's modules, the gallery trains networks) keep them quiet too.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Gallery examples draw off screen.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "skcnn"
author = "the skcnn developers"
copyright = "the skcnn developers"
release = skcnn.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_templates", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
default_role = "literal"
# Keep "--option" and straight quotes as written (command-line help, code-like
# defaults such as default="max").
smartquotes = False

# ---------------------------------------------------------------- API reference
# A reference that resolves to nothing is a warning, hence an error with -W: a
# renamed or removed skcnn name breaks the build. Names of other libraries are
# not linked (their inventories would have to be downloaded) and not checked.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|sklearn|keras|tensorflow|tf|matplotlib|pandas|PIL|joblib"
     r"|distributed|dask|skops|pathlib|os|collections|typing)(\..*)?"),
    (r"py:.*", r"(array-like|ndarray|callable|optional|default|of|shape|or|str|int"
     r"|float|bool|dict|list|tuple|None|True|False|object|path-like|file-like)"),
]
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
autoclass_content = "class"
# The class template documents the methods (autodoc's :members:): no numpydoc
# table of them.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# With -W, a docstring that numpydoc finds wrong fails the build: every check
# but those of style (one-line summary, verb mood, extended summary, See Also,
# return descriptions and examples on every method).
numpydoc_validation_checks = {"all", "ES01", "EX01", "RT02", "SA01", "SS05", "SS06"}
numpydoc_validation_exclude = {
    r"\.__init__$",
    r"\.set_\w+_request$",
}


def _skip_member(app, what, name, obj, skip, options):
    """Leave out the ``set_*_request`` methods scikit-learn generates for metadata
    routing: their docstrings refer to scikit-learn's own user guide."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


# -------------------------------------------------------------------- Markdown
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -------------------------------------------------------------------- gallery
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Only plot_*.py files run; the workflow_*.py seeds, which take a data
    # folder, are listed with their source.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|conftest)\.py",
    "plot_gallery": "True",
    "image_scrapers": ("matplotlib",),
    "download_all_examples": False,
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "show_memory": False,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skcnn",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skcnn": None},
    "capture_repr": ("_repr_html_", "__repr__"),
}

# ------------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"skcnn {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_show_sourcelink = True
# Pages without sub-pages need no left sidebar: their tables get its width.
html_sidebars = {
    "index": [],
    "benchmarks": [],
    "changelog": [],
    "sg_execution_times": [],
}
html_context = {"default_mode": "light"}


def _write_cli_help(app):
    """Write ``skcnn --help`` as the command prints it, for cli/index.rst (each
    command's page is rendered from the same parser by sphinx-argparse)."""
    from skcnn.cli import _build_parser

    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "76"  # argparse wraps to the terminal's width
    try:
        text = "$ skcnn --help\n" + _build_parser().format_help()
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    path = DOCS / "cli" / "skcnn_help.txt"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("builder-inited", _write_cli_help)
