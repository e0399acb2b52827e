# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment of docs/ee/: ``ansible-builder create``, then the image build's own steps offline.

There is no container engine here, so the image is not built. Everything the build does with this
collection is run instead, with the scripts ansible-builder wrote into the build context:
- the release tarball made by ``ansible-galaxy collection build`` goes into the context
  (additional_build_files) and installs from there as the galaxy stage installs it (requirements.yml,
  in /build, offline; ansible.windows comes from Galaxy at build time and is not fetched here);
- the builder stage's ``introspect.py`` line of the Containerfile, run on that installed collection,
  collects its Python and system requirements (meta/execution-environment.yml);
- ``bindep``, as the builder stage's ``assemble`` script calls it, decides which system packages reach
  the image (no profile) and which are only for building wheels (``compile``): never the [test] ones.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

import yaml
from bindep.depends import Depends

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
EE_DIR = os.path.join(ROOT, "docs", "ee")
BIN = os.path.dirname(sys.executable)


def tool(name, *args, cwd=None):
    proc = subprocess.run([os.path.join(BIN, name)] + [str(a) for a in args], capture_output=True, text=True,
                          cwd=cwd, timeout=240, check=False)
    assert proc.returncode == 0, (name, args, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.stdout + proc.stderr


def bindep_entries(profile_word):
    """Package names of the collection's bindep.txt lines whose selectors name ``profile_word``."""
    names = []
    with open(os.path.join(ROOT, "bindep.txt"), encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#") and re.search(r"\[[^]]*\b%s\b" % re.escape(profile_word), line):
                names.append(line.split()[0])
    return names


def requirement_names(lines):
    return sorted(re.split(r"[<>=!~; #\[]", line.strip(), maxsplit=1)[0].lower() for line in lines
                  if line.strip() and not line.strip().startswith(("#", "-")))


def test_ansible_builder_create_and_the_build_steps_offline(tmp_path):
    # -- the release tarball next to the definition, as docs/awx.md says
    tool("ansible-galaxy", "collection", "build", "--output-path", tmp_path / "dist", ROOT)
    tarball = os.listdir(tmp_path / "dist")
    assert len(tarball) == 1 and tarball[0].startswith("trustops-tableau-"), tarball
    ee = tmp_path / "ee"
    shutil.copytree(EE_DIR, ee)
    shutil.copy(tmp_path / "dist" / tarball[0], ee)

    out = tool("ansible-builder", "create", "-f", ee / "execution-environment.yml", "-c", tmp_path / "context",
               "--output-filename", "Containerfile")
    assert "No matches" not in out, out  # the tarball went into the context
    build = tmp_path / "context" / "_build"
    containerfile = (tmp_path / "context" / "Containerfile").read_text(encoding="utf-8")
    with open(ee / "execution-environment.yml", encoding="utf-8") as handle:
        definition = yaml.safe_load(handle)
    assert f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"' in containerfile
    assert re.search(r'ARG ANSIBLE_INSTALL_REFS="ansible-core[^"]* ansible-runner', containerfile)
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert (build / "collections" / tarball[0]).is_file()
    with open(build / "requirements.yml", encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)["collections"]
    assert {c["name"] for c in galaxy if c.get("type") != "file"} == {"ansible.windows"}

    # -- galaxy stage (WORKDIR /build): the file entries of requirements.yml, i.e. trustops.tableau
    collections = tmp_path / "usr-share-ansible" / "collections"
    local = [c["name"] for c in galaxy if c.get("type") == "file"]
    assert local == ["collections/" + tarball[0]], (local, tarball)
    # --force: a copy of this collection on ANSIBLE_COLLECTIONS_PATH (the checkout's .build/collections)
    # must not make ansible-galaxy skip the install into the image's path
    out = tool("ansible-galaxy", "collection", "install", "--offline", "--no-deps", "--force", "-p", collections,
               *local, cwd=build)
    installed = collections / "ansible_collections" / "trustops" / "tableau"
    assert (installed / "MANIFEST.json").is_file(), out
    with open(installed / "meta" / "execution-environment.yml", encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    assert (installed / "docs" / "ee" / "execution-environment.yml").is_file()  # users find it in the collection

    # -- builder stage: the Containerfile's introspect line, on the installed collection
    line = next(ln for ln in containerfile.splitlines() if "/output/scripts/introspect.py introspect" in ln)
    argv = shlex.split(line.split("introspect.py", 1)[1])
    src = tmp_path / "src"
    argv = [a.replace("/tmp/src/", f"{src}/") for a in argv]
    os.makedirs(src)
    subprocess.run([sys.executable, str(build / "scripts" / "introspect.py")] + argv + [str(collections)],
                   check=True, capture_output=True, text=True, timeout=120, cwd=build)
    pip_lines = (src / "requirements.txt").read_text(encoding="utf-8").splitlines()
    with open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8") as handle:
        assert requirement_names(pip_lines) == requirement_names(handle) == ["cryptography", "lxml", "signxml"]
    assert all("# from collection trustops.tableau" in ln for ln in pip_lines if ln.strip()), pip_lines

    # -- assemble: `bindep -l newline` is what the final image installs; `bindep -b compile` only builds wheels
    run_packages = tool("bindep", "-l", "newline", cwd=src).split()
    compile_packages = tool("bindep", "-l", "newline", "compile", cwd=src).split()
    tests_only = bindep_entries("test")
    assert run_packages == ["ca-certificates"], run_packages
    wheel_build = {"gcc", "libffi-dev", "libxml2-dev", "libxslt1-dev", "python3-dev"}
    assert set(bindep_entries("compile")) & set(compile_packages) >= wheel_build, compile_packages
    assert not set(tests_only) & set(run_packages + compile_packages), tests_only
    # the same file on the RPM family, which EE base images are (assemble installs with dnf/microdnf)
    depends = Depends((src / "bindep.txt").read_text(encoding="utf-8"))
    rpm = ["platform:rpm", "platform:redhat", "platform:centos"]
    assert [r[0] for r in depends.active_rules(["default"] + rpm)] == ["ca-certificates"]
    rpm_compile = [r[0] for r in depends.active_rules(["compile"] + rpm)]
    assert {"gcc", "python3-devel", "libffi-devel", "openssl-devel", "libxml2-devel", "libxslt-devel"} <= set(rpm_compile)
    assert not set(tests_only) & set(rpm_compile), rpm_compile
