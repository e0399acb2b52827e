# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options shared by every tsm_* module (set them once with module_defaults)."""

    DOCUMENTATION = r"""
options:
  transport:
    description:
      - How the module talks to Tableau Services Manager.
      - V(cli) runs the C(tsm) command line on the managed host (a Tableau Server node).
      - V(api) sends HTTPS requests to the TSM API of O(tsm_url) from the host the module runs on, for example
        the controller (task keyword C(delegate_to) set to C(localhost)) for a Windows Tableau Server. It signs in once per task with
        O(username) and O(password), stages and applies the same changes as V(cli), and returns the HTTP
        requests it made in RV(commands). Files (certificates, keys, metadata) are read on the host the module
        runs on and uploaded. See R(the TSM guide,ansible_collections.trustops.tableau.docsite.tsm) for what is confirmed by the vendor's pages.
    type: str
    choices: [cli, api]
    default: cli
  tsm_url:
    description:
      - With O(transport=api), the TSM API of the Tableau Server, C(https://<server>[:8850][/api/<version>]). The
        port defaults to 8850 and the path to C(/api/0.5). Only C(https) is accepted.
    type: str
  validate_certs:
    description:
      - With O(transport=api), verify the TSM server's certificate and host name (against O(ca_path), else the
        trust store of the host the module runs on).
      - TSM uses a self-signed certificate by default; give it as O(ca_path) rather than turning this off.
        V(false) must be set explicitly, and the task then warns that the password can be read on the way.
    type: bool
    default: true
  ca_path:
    description:
      - With O(transport=api), a PEM file on the host the module runs on holding the certificate to trust for
        the TSM API (TSM's self-signed certificate, or the CA that issued TSM's certificate).
    type: path
  tsm_path:
    description:
      - Path of the C(tsm) executable (or of the directory holding it) on the managed host.
      - Default is C(tsm) on the C(PATH), else the newest
        C(/opt/tableau/tableau_server/packages/customer-bin.*/tsm).
      - O(transport=cli) only, as are O(tsm_user) and O(password_on_command_line); O(tsm_url), O(ca_path) and
        O(validate_certs=false) are O(transport=api) only. The options of the other transport are refused.
    type: path
  tsm_user:
    description:
      - Operating system user that runs C(tsm), for example the Tableau administrator account in the
        C(tsmadmin) group, which TSM lets in without a password on the node.
      - When it is not the user the module runs as, the module runs C(runuser -u) (as root, with
        C(become)) or C(sudo -n -u) and hands its temporary files to that user.
      - Default is the user the module runs as.
    type: str
  username:
    description:
      - TSM administrator name for signing in, when C(tsm_user) is not trusted by TSM on the node or TSM runs
        elsewhere. A value starting with C(-) is refused.
      - With O(password), the module signs in once with C(tsm login --username) and every other call uses the
        session TSM keeps (C(cli_login.htm)); the module runs C(tsm logout) at its end.
      - Required with O(transport=api) (an account on the Tableau Server computer; Linux in the C(tsmadmin)
        group, Windows a local administrator); the module signs in once (C(POST /login)) and out at its end.
    type: str
  password:
    description:
      - Password for O(username). Never logged nor returned; masked in the whole result.
      - With O(transport=api) it is sent only in the body of the one sign-in request, over HTTPS.
      - By default it is written to the password prompt of C(tsm login) (standard input) and appears on no
        command line. The vendor's page documents only C(tsm login -p PASSWORD); that C(tsm login) reads the
        password at its prompt when standard input is not a terminal is not confirmed
        (see R(the TSM guide,ansible_collections.trustops.tableau.docsite.tsm)). If it
        does not, the task fails at the sign-in; then prefer O(tsm_user) in the C(tsmadmin) group, or set
        O(password_on_command_line).
    type: str
  password_on_command_line:
    description:
      - Pass O(password) the documented way, C(tsm login --password), once per task. Other local users can see
        it in the process list while that one C(tsm login) runs. Later calls still use the session.
    type: bool
    default: false
  request_timeout:
    description:
      - Seconds to wait for each C(tsm) call; a call still running then is stopped and the task fails
        saying so.
      - Also passed to C(tsm pending-changes apply --request-timeout).
      - With O(transport=api), seconds to wait for each HTTP answer, and for the job that applies pending changes
        to finish (C(deploymentsTimeoutSeconds)); a job still running then fails the task, which says that TSM
        may still finish it.
    type: int
    default: 1800
attributes:
  action_group:
    description: Use C(group/trustops.tableau.tsm) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - trustops.tableau.tsm
notes:
  - Every C(tsm_*) module reads the server's applied configuration first (one C(tsm settings export)) and
    stages only what differs as pending changes. Nothing is applied unless the module says so
    (O(trustops.tableau.tsm_pending_changes#module:state=applied)); apply once, at the end of the play.
  - Returns RV(tsm_calls) and RV(commands), the number and the command lines (secrets masked) of the
    C(tsm) calls the task made; with O(transport=api), of the HTTP requests (C(METHOD /api/0.5/endpoint)).
"""

    # The options of the modules that apply pending changes (tsm_pending_changes; tsm_config with apply=true).
    APPLY = r"""
options:
  ignore_warnings:
    description:
      - Pass C(--ignore-warnings) (C(-iw)) to C(tsm pending-changes apply), to apply despite warning-level
        constraints.
      - M(trustops.tableau.tsm_config) applies only with O(trustops.tableau.tsm_config#module:apply=true).
    type: bool
    default: false
  allow_restart:
    description:
      - When V(false), fail without applying if the changes need a restart of the running server, for example
        outside a maintenance window.
      - M(trustops.tableau.tsm_config) applies only with O(trustops.tableau.tsm_config#module:apply=true).
    type: bool
    default: true
"""
