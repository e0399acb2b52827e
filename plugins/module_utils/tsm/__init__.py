# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tableau Services Manager, one layer per file (no facade: import the layer you need).

* :mod:`.common`: the error type, ``UNSET``, masked arguments, recorded calls, and the one rule
  for what is secret and what may reach tsm's command line.
* :mod:`.transport`: how TSM is reached (``cli``: the executable on the node; ``api``: HTTPS to the
  TSM API, certificate verified, session cookie).
* :mod:`.settings`: parsers of what tsm prints, the ``settings export`` JSON, value comparison.
* :mod:`.inputs`: file inputs read through the shared reader and checked before staging.
* :mod:`.client`: the TsmClient interface and its CLI implementation, ``connect``.
* :mod:`.api`: the TsmClient over the TSM API (``transport: api``) and its one table of endpoints.
* :mod:`.plans`: Step, Plan, execute and the per-feature plans (config, SAML, mutual SSL,
  trusted authentication, external SSL), and the tsm_info view of the settings.
* :mod:`.apply`: apply pending changes only when something is pending.

The module side (stage a plan, finish with its findings) is ``plugins/module_utils/_tsm_module.py``.
Pure Python, no Ansible imports.
"""
