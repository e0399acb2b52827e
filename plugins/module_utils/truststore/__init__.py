# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""System trust stores of Linux (Debian and RHEL families) and macOS, and the transaction runner.

Nothing in this package imports Ansible; import the submodule you need (this file re-exports
nothing):

* :mod:`.layouts` -- where each store keeps its anchors and bundle, the update command, which
  store a host has (``layout``, ``detect_store``, ``update_argv``);
* :mod:`.names` -- fingerprints, anchor names, the one certificate to install (``load_anchor``);
* :mod:`.scan` -- what the store holds: anchor files, the consolidated bundle, system sources;
* :mod:`.plan` -- what to change (``plan_present``, ``plan_absent``), how to verify it, the diff;
* :mod:`.macos` -- the ``security`` argv, parsers of its output and the macOS plans;
* :mod:`.windows` -- the controller-side decisions of ``win_trust_anchor`` (policy, thumbprint,
  DER, the arguments of ``ansible.windows.win_certificate_store``);
* :mod:`.transaction` -- snapshot, apply, verify, rollback: the whole ``trust_anchor`` run, with
  the host's side effects (commands, warnings, the atomic move) given as callables;
* :mod:`.errors` -- ``TrustStoreError``.

Whether a certificate may become a trust anchor at all is decided by the policy shared with
``win_trust_anchor``: :func:`anchor_policy.check_anchor` (findings ``ANCHOR-NNN``).

Store facts this relies on (checked against the tools' sources; see docs/trust_anchor.md):

* Debian ``update-ca-certificates`` appends every ``*.crt`` found (recursively, following
  symlinks) below ``/usr/local/share/ca-certificates`` *verbatim* to
  ``/etc/ssl/certs/ca-certificates.crt``, so such files must be PEM.  It only re-hashes
  ``/etc/ssl/certs`` when its set of symlinks changed: a file whose content was replaced under
  the same name, or a removed file, needs ``--fresh`` to leave no stale hash links.
* RHEL ``update-ca-trust extract`` (p11-kit) loads every non-directory file directly in
  ``/etc/pki/ca-trust/source/anchors`` (not recursively, any name, PEM or DER).
* macOS ``security add-trusted-cert -d -k KEYCHAIN`` adds the certificate to the keychain
  (an already present certificate is fine) and sets admin trust settings;
  ``remove-trusted-cert -d`` removes those trust settings; ``delete-certificate -Z SHA1``
  deletes the certificate from a keychain.
"""
