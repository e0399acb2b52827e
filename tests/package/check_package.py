"""Checks of the built and installed collection package (scripts/test package runs them).

    check_package.py contents TARBALL     what the tarball ships and what it must not ship
    check_package.py playbooks ROOT       shipped playbooks/roles: only declared collections,
                                          no path that leaves the playbook directory
    check_package.py links ROOT           README.md links resolve inside the package
    check_package.py tree ROOT            sha256 listing of every file (to compare before/after)

ROOT is an installed collection (.../ansible_collections/trustops/tableau). Each problem is one
line "file:line: what is wrong; what to do"; the exit status is 1 when there is any.
Only the standard library and PyYAML (an ansible-core requirement) are used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tarfile

import yaml

# What must never be in the runtime package: test stand-ins (the TSM simulator), benchmarks,
# molecule scenarios, developer scripts, CI, built docs, changelog fragments, dev requirements.
FORBIDDEN = ("tests/", "bench/", "extensions/", "scripts/", ".ci/", ".github/", "docs/_build/",
             "docs/build/", "docs/rst/", "changelogs/fragments/", "requirements-dev.txt",
             ".venv/", ".build/", ".git/", ".pre-commit-config.yaml", "pyproject.toml")
# What a user needs: metadata, docs, code, roles, the fleet playbook, the changelog.
REQUIRED = ("MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta/runtime.yml",
            "meta/execution-environment.yml", "requirements.txt", "bindep.txt", "docs/index.md",
            "playbooks/site.yml", "changelogs/changelog.yaml", "plugins/modules/", "plugins/module_utils/",
            "roles/")

FQCN = re.compile(r"^([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_.]*)$")
NAME = r"([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)"
# Jinja references to plugins of a collection: filters, tests, lookups.
JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
JINJA_REFS = (re.compile(r"\|\s*" + NAME), re.compile(r"\bis\s+(?:not\s+)?" + NAME),
              re.compile(r"\b(?:lookup|query|q)\(\s*['\"]" + NAME))
# Keys whose string values are bare Jinja expressions.
CONDITIONALS = {"when", "that", "failed_when", "changed_when", "until"}
TASK_LISTS = {"tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"}
ROLE_ACTIONS = {"include_role", "import_role", "ansible.builtin.include_role", "ansible.builtin.import_role",
                "ansible.legacy.include_role", "ansible.legacy.import_role"}
# {{ playbook_dir }}/.. or {{ role_path }}/..: out of the shipped directory, into the collection
# itself (or beside it), which an installed copy must not write to nor depend on.
ESCAPE = re.compile(r"\{\{-?\s*(playbook_dir|role_path)\s*-?\}\}\s*/\s*\.\.(/|$|\s|'|\")")


def manifest(root: str) -> dict:
    with open(os.path.join(root, "MANIFEST.json"), encoding="utf-8") as handle:
        return json.load(handle)["collection_info"]


def allowed_collections(info: dict) -> set[str]:
    """This collection, ansible-core's own, and the collections galaxy.yml declares."""
    return {"{}.{}".format(info["namespace"], info["name"]), "ansible.builtin", "ansible.legacy"} | set(info.get("dependencies") or {})


class PlaybookChecker:
    """Walks the YAML node tree (line numbers kept) of shipped playbooks and role task files."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.info = manifest(root)
        self.allowed = allowed_collections(self.info)
        self.problems: list[str] = []
        self.rel = ""

    # -- reporting
    def _collection(self, name: str, node: yaml.Node, what: str) -> None:
        match = FQCN.match(name)
        if not match:
            return
        coll = f"{match.group(1)}.{match.group(2)}"
        if coll in self.allowed:
            return
        declared = ", ".join(sorted(self.info.get("dependencies") or {})) or "none"
        self.problems.append(
            "%s:%d: %s %s is from collection %s, which %s.%s does not declare (galaxy.yml dependencies: %s); "
            "use ansible.builtin or %s.%s, or declare %s in galaxy.yml"
            % (self.rel, node.start_mark.line + 1, what, name, coll, self.info["namespace"], self.info["name"],
               declared, self.info["namespace"], self.info["name"], coll))

    def _escape(self, text: str, node: yaml.Node) -> None:
        match = ESCAPE.search(text)
        if match:
            self.problems.append(
                "%s:%d: '%s' leaves the %s directory: in an installed collection that path is inside the "
                "collection (or beside it), which a playbook must not write to and which does not ship test "
                "or build files; take the path from a variable the user sets (default under /tmp or the "
                "current directory)" % (self.rel, node.start_mark.line + 1, match.group(0).rstrip("'\" "),
                                        "playbook" if match.group(1) == "playbook_dir" else "role"))

    # -- generic scalars: Jinja references and escaping paths
    def _scalars(self, node: yaml.Node, bare: bool = False) -> None:
        if isinstance(node, yaml.ScalarNode):
            if not isinstance(node.value, str):
                return
            self._escape(node.value, node)
            texts = [node.value] if bare else JINJA_BLOCK.findall(node.value)
            for text in texts:
                for pattern in JINJA_REFS:
                    for name in pattern.findall(text):
                        self._collection(name, node, "plugin")
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self._scalars(item, bare)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self._scalars(value, bare or (isinstance(key, yaml.ScalarNode) and key.value in CONDITIONALS))

    # -- structure
    def _role_ref(self, node: yaml.Node) -> None:
        if isinstance(node, yaml.ScalarNode):
            self._collection(node.value, node, "role")
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value in ("role", "name") and isinstance(value, yaml.ScalarNode):
                    self._collection(value.value, value, "role")

    def _module_defaults(self, node: yaml.Node) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value[len("group/"):] if key.value.startswith("group/") else key.value
                self._collection(name, key, "module_defaults entry")
                self._scalars(value)

    def task_list(self, node: yaml.Node) -> None:
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.task(item)

    def task(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in node.value:
            name = key.value
            if name in TASK_LISTS:
                self.task_list(value)
            elif name == "module_defaults":
                self._module_defaults(value)
            elif name in ("action", "local_action"):
                if isinstance(value, yaml.ScalarNode):
                    self._collection(value.value.split()[0] if value.value.split() else "", value, "module")
                else:
                    for sub_key, sub_value in value.value if isinstance(value, yaml.MappingNode) else []:
                        if sub_key.value == "module" and isinstance(sub_value, yaml.ScalarNode):
                            self._collection(sub_value.value, sub_value, "module")
                self._scalars(value)
            else:
                self._collection(name, key, "module")
                if name in ROLE_ACTIONS:
                    self._role_ref(value)
                self._scalars(value, bare=name in CONDITIONALS)

    def play(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in node.value:
            name = key.value
            if name in TASK_LISTS:
                self.task_list(value)
            elif name == "roles" and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    self._role_ref(item)
                    self._scalars(item)
            elif name == "collections" and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    if isinstance(item, yaml.ScalarNode):
                        self._collection(item.value + ".x", item, "collections entry")
            elif name == "module_defaults":
                self._module_defaults(value)
            else:
                self._collection(name, key, "module")  # e.g. ansible.builtin.import_playbook
                self._scalars(value, bare=name in CONDITIONALS)

    def check_file(self, rel: str, kind: str) -> None:
        self.rel = rel
        with open(os.path.join(self.root, rel), encoding="utf-8") as handle:
            try:
                doc = yaml.compose(handle, Loader=yaml.SafeLoader)
            except yaml.YAMLError as exc:
                self.problems.append(f"{rel}: not valid YAML: {exc}")
                return
        if doc is None:
            return
        if kind == "playbook" and isinstance(doc, yaml.SequenceNode):
            for play in doc.value:
                self.play(play)
        elif kind == "tasks":
            self.task_list(doc)
        elif kind == "role_meta" and isinstance(doc, yaml.MappingNode):
            for key, value in doc.value:
                if key.value == "dependencies" and isinstance(value, yaml.SequenceNode):
                    for item in value.value:
                        self._role_ref(item)
                elif key.value == "collections" and isinstance(value, yaml.SequenceNode):
                    for item in value.value:
                        self._collection(item.value + ".x", item, "collections entry")

    def files(self) -> list[tuple[str, str]]:
        """(relative path, kind) of every shipped playbook and role task/handler/meta file."""
        found = []
        pdir = os.path.join(self.root, "playbooks")
        if os.path.isdir(pdir):
            for name in sorted(os.listdir(pdir)):
                if name.endswith((".yml", ".yaml")) and os.path.isfile(os.path.join(pdir, name)):
                    found.append(("playbooks/" + name, "playbook"))
        rdir = os.path.join(self.root, "roles")
        for role in sorted(os.listdir(rdir)) if os.path.isdir(rdir) else []:
            for sub, kind in (("tasks", "tasks"), ("handlers", "tasks"), ("meta", "role_meta")):
                base = os.path.join(rdir, role, sub)
                for dirpath, _dirs, names in sorted(os.walk(base)):
                    for name in sorted(names):
                        if name.endswith((".yml", ".yaml")):
                            rel = os.path.relpath(os.path.join(dirpath, name), self.root)
                            if kind == "role_meta" and name not in ("main.yml", "main.yaml"):
                                continue
                            found.append((rel, kind))
        return found

    def run(self) -> list[str]:
        for rel, kind in self.files():
            self.check_file(rel, kind)
        return self.problems


def check_contents(tarball: str) -> list[str]:
    with tarfile.open(tarball) as archive:
        names = [m.name + ("/" if m.isdir() else "") for m in archive.getmembers()]
    names = [n[2:] if n.startswith("./") else n for n in names]
    problems = []
    for name in names:
        for bad in FORBIDDEN:
            if name == bad or name.startswith(bad) or (bad.endswith("/") and name == bad[:-1]):
                problems.append(f"{tarball}: {name} must not be in the runtime package; add it to build_ignore in galaxy.yml")
                break
    for need in REQUIRED:
        if not any(n == need or (need.endswith("/") and n.startswith(need)) for n in names):
            problems.append(f"{tarball}: {need} is missing from the package; remove it from build_ignore in galaxy.yml")
    return problems


def produced_names(root: str) -> str:
    """The text of the shipped code and roles: file names the collection itself writes appear there."""
    chunks = []
    for top in ("plugins", "roles"):
        for dirpath, _dirs, names in os.walk(os.path.join(root, top)):
            for name in names:
                if name.endswith((".py", ".yml", ".yaml", ".j2")):
                    with open(os.path.join(dirpath, name), encoding="utf-8", errors="replace") as handle:
                        chunks.append(handle.read())
    return "\n".join(chunks)


def check_links(root: str) -> list[str]:
    """Relative links of README.md (shown on Galaxy and in the installed copy) must resolve, and a
    file the README names in backquotes (`NAME.md`) must be shipped or be one the collection writes."""
    problems = []
    produced = produced_names(root)
    with open(os.path.join(root, "README.md"), encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            for target in re.findall(r"\]\(([^)\s]+)\)", line):
                if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target):
                    continue
                path = target.split("#", 1)[0]
                if not os.path.exists(os.path.join(root, path)):
                    problems.append("README.md:%d: link target %s is not in the package; link a shipped file "
                                    "(e.g. docs/index.md) or drop the link" % (number, target))
            for name in re.findall(r"`([A-Za-z0-9_./-]+\.md)`", line):
                if "/" not in name and not os.path.exists(os.path.join(root, name)) and name not in produced:
                    problems.append("README.md:%d: %s is named as a file of the project but is neither in the "
                                    "package nor written by it; link a shipped file or drop the name" % (number, name))
    return problems


def tree(root: str) -> list[str]:
    lines = []
    for dirpath, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                lines.append(f"link {rel} -> {os.readlink(path)}")
                continue
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            lines.append(f"{digest} {os.stat(path).st_mode & 0o7777:o} {rel}")
        lines.extend(f"dir {os.path.relpath(os.path.join(dirpath, d), root)}" for d in dirs)
    return sorted(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("contents", "playbooks", "links", "tree"):
        sys.stderr.write(__doc__)
        return 2
    command, target = argv[1], argv[2]
    if command == "tree":
        sys.stdout.write("".join(line + "\n" for line in tree(target)))
        return 0
    if command == "contents":
        problems = check_contents(target)
    elif command == "playbooks":
        problems = PlaybookChecker(target).run()
    else:
        problems = check_links(target)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{command} {target}: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
