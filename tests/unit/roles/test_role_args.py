# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role variables: refused early with a message that names them, and secrets documented as such.

The embed_proxy runs go through the real ansible-playbook (module_runner.run_playbook) and must stop at the
role's option check, before any file is written, with the variable, its value and the remedy.
"""

from __future__ import annotations

import os
import re

import pytest
import yaml

from module_runner import OWN_FILES, run_playbook

ROLES = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles"))
SECRET_NAME = re.compile(r"pass(word|phrase)|secret")

EMBED_PLAY = """
- name: Embedded-only access at the proxy
  hosts: localhost
  gather_facts: false
  roles:
    - role: trustops.tableau.embed_proxy
"""


def written(directory):
    """Files under directory other than the runner's own and Ansible's home/temporary directories."""
    found = []
    for top, dirs, files in os.walk(str(directory)):
        dirs[:] = [d for d in dirs if d not in ("ansible_home", "ansible_tmp")]
        found += [os.path.relpath(os.path.join(top, f), str(directory)) for f in files if f not in OWN_FILES]
    return found


@pytest.mark.parametrize("variables,needle", [
    ({"embed_proxy_config_path": "conf.d/trustops_embed.conf"},
     "embed_proxy_config_path 'conf.d/trustops_embed.conf' must be an absolute path (starting with /)"),
    ({"embed_proxy_config_path": "{dir}/100%-embed.conf"},
     "embed_proxy_config_path '{dir}/100%-embed.conf' must be an absolute path (starting with /) without %"),
    ({"embed_proxy_config_path": "{dir}/embed.conf", "embed_proxy_nginx_snippet_path": "{dir}/snippet%s.conf"},
     "embed_proxy_nginx_snippet_path '{dir}/snippet%s.conf' must be an absolute path"),
    ({"embed_proxy_config_path": "{dir}/embed.conf", "embed_proxy_check_command": ["nginx", "-t", "-g", "pid %p;"]},
     "% is allowed only as the whole item \"%s\""),
    ({"embed_proxy_config_path": "{dir}/embed.conf", "embed_proxy_mode": "site", "embed_proxy_upstream_host": "127.0.0.1",
      "embed_proxy_tls_certificate": "{dir}/my cert.pem", "embed_proxy_tls_key": "{dir}/key.pem"},
     "must be absolute paths on the target without %, whitespace"),
    ({"embed_proxy_config_path": "{dir}/embed.conf", "embed_proxy_state_dir": "state"},
     "embed_proxy_state_dir 'state' must be an absolute directory path"),
], ids=["relative", "percent", "snippet-percent", "check-percent", "tls-space", "state-relative"])
def test_embed_proxy_paths_refused_before_any_write(tmp_path, variables, needle):
    variables = dict((k, v.replace("{dir}", str(tmp_path)) if isinstance(v, str) else v) for k, v in variables.items())
    variables.setdefault("embed_proxy_server", "nginx")
    # never the Debian default under /etc, even if the check did not stop the role
    variables.setdefault("embed_proxy_nginx_snippet_path", str(tmp_path / "snippet.conf"))
    variables.setdefault("embed_proxy_check_command", ["nginx", "-t", "-q", "-c", str(tmp_path / "none.conf")])
    variables.setdefault("embed_proxy_reload_command", ["nginx", "-t", "-q", "-c", str(tmp_path / "none.conf")])
    rc, out = run_playbook(tmp_path, EMBED_PLAY, variables)
    assert rc != 0, out
    assert needle.replace("{dir}", str(tmp_path)) in out, out[-4000:]
    assert "Check the embed_proxy options" in out and "Install the rule" not in out, out[-4000:]
    assert written(tmp_path) == [], written(tmp_path)


def _role_specs():
    for role in sorted(os.listdir(ROLES)):
        path = os.path.join(ROLES, role, "meta", "argument_specs.yml")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                yield role, yaml.safe_load(handle)["argument_specs"]["main"]["options"]


def _description(spec):
    text = spec.get("description", "")
    return " ".join(text) if isinstance(text, list) else text


SECRETS = sorted((role, name) for role, options in _role_specs() for name in options if SECRET_NAME.search(name))


def test_there_are_secret_role_variables():
    assert ("saml", "saml_sp_key_passphrase") in SECRETS and ("mobile_trust", "mobile_trust_signer_key_passphrase") in SECRETS


@pytest.mark.parametrize("role,name", SECRETS)
def test_secret_role_variable_documented_as_secret(role, name):
    options = dict(_role_specs())[role]
    assert options[name]["type"] == "str"
    assert "Secret" in _description(options[name]), (role, name, _description(options[name]))
    with open(os.path.join(ROLES, role, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    section = readme.split("## Secrets", 1)
    assert len(section) == 2 and f"`{name}`" in section[1].split("\n## ", 1)[0], \
        f"{role}/README.md: no '## Secrets' section naming {name}"


@pytest.mark.parametrize("role", sorted(os.listdir(ROLES)))
def test_every_role_readme_says_which_variables_are_secret(role):
    with open(os.path.join(ROLES, role, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    assert "\n## Secrets\n" in readme, f"{role}/README.md has no '## Secrets' section"
    assert "docs/secrets.md" in readme.split("## Secrets", 1)[1], role
