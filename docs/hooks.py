"""MkDocs hooks of the manual: the spec language's layer-kind reference is generated from the layer-kind registry
at build time (so that it cannot go stale), and the repository's reports, specs and profiles are published beside
the pages so that the manual links to its data instead of pasting it."""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- layer-kinds -->"
PUBLISHED = ("reports", "specs", "profiles")  # folders of the repository that the pages link into
SKIPPED = ("runs", "checkpoint.pt")  # run folders' bulk: checkpoints and logs


def on_config(config):
    """The reference is generated from this checkout's package, whatever else is installed."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return config


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    from inceptcost.kinds import kinds_reference  # the registry's one renderer

    return markdown.replace(MARKER, kinds_reference())


def on_files(files, config):
    for folder in PUBLISHED:
        for path in sorted((ROOT / folder).rglob("*")):
            rel = path.relative_to(ROOT)
            if path.is_file() and not any(part in SKIPPED for part in rel.parts):
                files.append(File(rel.as_posix(), str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files
