"""Tests of tests/package/check_package.py, the checks scripts/test package runs on the package.

Real files in a temporary collection tree and real tarballs; each test shows one check catching
the problem it exists for (with file and line) and leaving the correct form alone.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
import textwrap

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import check_package  # noqa: E402  pylint: disable=wrong-import-position


def write(root, rel, text):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(textwrap.dedent(text))
    return path


@pytest.fixture(name="coll")
def coll_fixture(tmp_path):
    """An installed-collection tree: MANIFEST.json declaring ansible.windows, docs, a role."""
    manifest = {"collection_info": {"namespace": "trustops", "name": "tableau", "version": "0.1.0",
                                    "dependencies": {"ansible.windows": ">=2.0.0"}}}
    write(tmp_path, "MANIFEST.json", json.dumps(manifest))
    write(tmp_path, "docs/index.md", "# guide\n")
    write(tmp_path, "roles/mobile_trust/tasks/main.yml", """\
        - name: Write the guide
          ansible.builtin.template:
            src: INSTALL.md.j2
            dest: "{{ out }}/INSTALL.md"
          mode: "0644"
    """)
    return tmp_path


def playbook_problems(coll, text, name="playbooks/user.yml"):
    write(coll, name, text)
    return check_package.PlaybookChecker(str(coll)).run()


def test_undeclared_collection_module_named_with_file_and_line(coll):
    problems = playbook_problems(coll, """\
        - name: Demo
          hosts: localhost
          tasks:
            - name: Key
              community.crypto.openssl_privatekey:
                path: /tmp/x.key
    """)
    assert len(problems) == 1
    assert problems[0].startswith("playbooks/user.yml:5: module community.crypto.openssl_privatekey ")
    assert "does not declare" in problems[0] and "ansible.windows" in problems[0]


def test_declared_and_own_collections_and_module_arguments_pass(coll):
    problems = playbook_problems(coll, """\
        - name: Fleet
          hosts: all
          module_defaults:
            group/trustops.tableau.tsm:
              tsm_path: /opt/tableau/tsm
          roles:
            - role: trustops.tableau.client_trust
          tasks:
            - name: Windows store
              ansible.windows.win_certificate_store:
                path: C:/ca.der
            - name: TSM keys look like collection names but are arguments
              trustops.tableau.tsm_config:
                settings:
                  gateway.public.host: tableau.example.com
                  gateway.public.port: 443
            - name: A message that says the host is tableau.demo.test
              ansible.builtin.debug:
                msg: "the host is tableau.demo.test | not.a.filter"
              when: probe is ansible.builtin.success
    """)
    assert problems == []


@pytest.mark.parametrize("line, where, what", [
    ("msg: \"{{ data | community.general.json_query('a') }}\"", 7, "plugin community.general.json_query"),
    ("msg: \"{{ lookup('community.hashi_vault.hashi_vault', 'x') }}\"", 7, "plugin community.hashi_vault.hashi_vault"),
    ("msg: \"{{ query('community.general.x') }}\"", 7, "plugin community.general.x"),
])
def test_undeclared_jinja_plugins(coll, line, where, what):
    problems = playbook_problems(coll, f"""\
        - name: Demo
          hosts: localhost
          tasks:
            - name: Show
              ansible.builtin.debug:
                var: x
                {line}
    """)
    assert len(problems) == 1, problems
    assert problems[0].startswith("playbooks/user.yml:%d: %s " % (where, what))


def test_undeclared_test_in_a_conditional_block_and_role(coll):
    problems = playbook_problems(coll, """\
        - name: Demo
          hosts: localhost
          roles:
            - community.zabbix.zabbix_agent
          tasks:
            - name: Nested
              block:
                - name: Assert
                  ansible.builtin.assert:
                    that: ip is community.general.ip_address
                - name: Role
                  ansible.builtin.include_role:
                    name: geerlingguy.repo.java
              module_defaults:
                community.crypto.x509_certificate:
                  provider: selfsigned
    """)
    assert [p.split(":", 2)[1] for p in problems] == ["4", "10", "13", "15"], problems
    assert "role community.zabbix.zabbix_agent" in problems[0]
    assert "plugin community.general.ip_address" in problems[1]
    assert "module ansible.builtin.include_role" not in " ".join(problems)
    assert "role geerlingguy.repo.java" in problems[2]
    assert "module_defaults entry community.crypto.x509_certificate" in problems[3]


def test_role_tasks_are_checked(coll):
    write(coll, "roles/saml/tasks/main.yml", """\
        - name: Check
          community.general.xml:
            path: /x
    """)
    problems = check_package.PlaybookChecker(str(coll)).run()
    assert len(problems) == 1 and problems[0].startswith("roles/saml/tasks/main.yml:2: module community.general.xml ")


def test_paths_out_of_the_playbook_directory(coll):
    problems = playbook_problems(coll, """\
        - name: Demo
          hosts: localhost
          vars:
            ok_dir: "{{ playbook_dir }}/files/saml"
            out_dir: "{{ playbook_dir }}/../.build/demo"
          tasks:
            - name: Run the simulator
              ansible.builtin.command: "{{playbook_dir}}/../tests/support/tsm status"
    """)
    assert [p.split(":", 2)[1] for p in problems] == ["5", "8"], problems
    assert "leaves the playbook directory" in problems[0]


def test_invalid_yaml_is_a_problem_not_a_traceback(coll):
    problems = playbook_problems(coll, "- name: [unclosed\n")
    assert len(problems) == 1 and problems[0].startswith("playbooks/user.yml: not valid YAML")


def make_tarball(tmp_path, names):
    path = str(tmp_path / "trustops-tableau-0.1.0.tar.gz")
    with tarfile.open(path, "w:gz") as archive:
        for name in names:
            data = b"x"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


GOOD = ["MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta/runtime.yml", "meta/execution-environment.yml",
        "requirements.txt", "bindep.txt", "docs/index.md", "playbooks/site.yml", "changelogs/changelog.yaml",
        "plugins/modules/tls_probe.py", "plugins/module_utils/certs.py", "roles/saml/tasks/main.yml"]


def test_contents_good_package(tmp_path):
    assert check_package.check_contents(make_tarball(tmp_path, GOOD)) == []


def test_contents_refuses_test_support_and_dev_files(tmp_path):
    tarball = make_tarball(tmp_path, GOOD + ["tests/support/tsm", "bench/saml_validate.py",
                                             "extensions/molecule/saml/molecule.yml", "scripts/test",
                                             "changelogs/fragments/x.yml", "requirements-dev.txt"])
    problems = check_package.check_contents(tarball)
    assert len(problems) == 6
    assert all("must not be in the runtime package" in p for p in problems)
    assert any("tests/support/tsm" in p for p in problems)


def test_contents_requires_what_users_need(tmp_path):
    problems = check_package.check_contents(make_tarball(tmp_path, [n for n in GOOD if n not in ("LICENSE", "bindep.txt")]))
    assert len(problems) == 2 and all("is missing from the package" in p for p in problems)


def test_readme_links_and_named_files(coll):
    write(coll, "README.md", """\
        The design is in the project's `DESIGN.md`.
        The user guide starts at [docs/index.md](docs/index.md), see [site](https://example.com).
        Each artifact directory gets an `INSTALL.md`; [missing](docs/nothere.md#anchor).
    """)
    problems = check_package.check_links(str(coll))
    assert len(problems) == 2, problems
    assert problems[0].startswith("README.md:1: DESIGN.md ")
    assert problems[1].startswith("README.md:3: link target docs/nothere.md#anchor ")


def test_tree_listing_sees_a_written_file(coll):
    before = check_package.tree(str(coll))
    assert before == check_package.tree(str(coll))
    write(coll, ".build/demo/out.txt", "written by a playbook\n")
    after = check_package.tree(str(coll))
    assert set(after) - set(before) == {"dir .build", "dir .build/demo",
                                        [line for line in after if line.endswith(" .build/demo/out.txt")][0]}


def test_main_exit_status(coll, capsys):
    assert check_package.main(["check_package.py", "playbooks", str(coll)]) == 0
    assert f"playbooks {coll}: ok" in capsys.readouterr().out
    write(coll, "playbooks/bad.yml", "- hosts: all\n  tasks:\n    - community.crypto.openssl_dhparam:\n        path: /x\n")
    assert check_package.main(["check_package.py", "playbooks", str(coll)]) == 1
    assert "playbooks/bad.yml:3:" in capsys.readouterr().out
    assert check_package.main(["check_package.py", "nope", str(coll)]) == 2
