# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for trustops.tableau.saml_response_check (documented in plugins/modules/).

Runs the check in the controller's worker when its module would run in this same Python
anyway (the saml role's ``delegate_to: localhost``), else the module, as always: see
plugins/plugin_utils/in_process.py.  The check itself is module_utils/saml/task.py's
:func:`run_response`, the function the module's main() calls.
"""

from __future__ import annotations

from ansible_collections.trustops.tableau.plugins.module_utils.certs import HAS_CRYPTOGRAPHY
from ansible_collections.trustops.tableau.plugins.module_utils.saml import task
# the check and its libraries (cryptography.x509, lxml, signxml) are imported here, when the
# strategy loads this class in the parent process: the workers forked for each task find them
# imported, so a run pays for them once, not once per task
from ansible_collections.trustops.tableau.plugins.module_utils.saml import metadata, response  # noqa: F401  pylint: disable=unused-import
from ansible_collections.trustops.tableau.plugins.module_utils.xml import HAS_LXML
from ansible_collections.trustops.tableau.plugins.plugin_utils.in_process import InProcessCheck


class ActionModule(InProcessCheck):
    SPEC = task.RESPONSE
    RUN = staticmethod(task.run_response)
    LIBRARIES = (("cryptography", HAS_CRYPTOGRAPHY), ("lxml", HAS_LXML))
