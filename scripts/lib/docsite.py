# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put the user guide (docs/*.md, copied to rst/guide/ by scripts/docs) into the docs site.

    python scripts/lib/docsite.py REPO_ROOT SITE_RST_DIR

Writes rst/guide/toctree.rst (every guide page, index.md first) and adds the guide to the site's
root toctree. Links in the guide that leave docs/ (../plugins/..., ../roles/...) are rewritten to
plain text, since the site holds only docs/.
"""

from __future__ import annotations

import os
import re
import sys

LINK = re.compile(r"\[([^\]]+)\]\((\.\./[^)\s]+)\)")


def main(repo, rst):
    guide = os.path.join(rst, "guide")
    pages = sorted(name[:-3] for name in os.listdir(guide) if name.endswith(".md"))
    pages.remove("index")
    for name in pages + ["index"]:
        path = os.path.join(guide, name + ".md")
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        # a link out of docs/ names a file of the repository: keep the words, show the path
        text = LINK.sub(lambda m: f"{m.group(1)} (`{m.group(2)[3:]}`)", text)
        if name == "index":
            text = text + "\n\n```{toctree}\n:hidden:\n:maxdepth: 1\n\n" + "\n".join(pages) + "\n```\n"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    root = os.path.join(rst, "index.rst")
    with open(root, encoding="utf-8") as handle:
        text = handle.read()
    text = text.replace("Welcome to my Ansible collection documentation\n==============================================",
                        "trustops.tableau\n================")
    marker = ".. toctree::\n   :maxdepth: 2\n   :caption: Collections:"
    guide_tree = ".. toctree::\n   :maxdepth: 1\n   :caption: User guide:\n\n   guide/index\n\n"
    if "guide/index" not in text:
        text = text.replace(marker, guide_tree + marker)
    with open(root, "w", encoding="utf-8") as handle:
        handle.write(text)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
