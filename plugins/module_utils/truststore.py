# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""System trust stores of Linux (Debian and RHEL families) and macOS, as data and pure functions.

Nothing here imports Ansible.  The module ``trust_anchor`` does the I/O that changes a host
(atomic writes, running commands); this core knows

* the store layouts (:func:`layout`): where anchors live, which files the store's update tool
  reads, the consolidated bundle it writes, and the update command;
* how to find a certificate by fingerprint among the anchor files (:func:`scan_anchors`), the
  consolidated bundle (:func:`read_bundle`) and the sources that are not ours (system CAs,
  :func:`other_source_digests`);
* what to change (:func:`plan_present`, :func:`plan_absent`) and how to verify it afterwards
  (:func:`verify_present`, :func:`verify_absent`);
* the argv of every command, including macOS ``security`` (:func:`update_argv`, ``macos_*``).

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

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import plistlib
import re
import unicodedata

from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils import reader

STORES = ("debian", "redhat", "macos")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
_HEX_RE = re.compile(r"^[0-9A-F]+$")
_PEM_CERT_RE = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL)


class TrustStoreError(TrustopsError):
    """The store is not in a state this module may change, or input names a thing it cannot."""


# --------------------------------------------------------------------------- layouts

_LAYOUTS = {
    "debian": {
        "anchors_dir": "usr/local/share/ca-certificates",
        "recursive": True,
        "suffix": ".crt",
        "only_suffix": True,    # update-ca-certificates reads only *.crt
        "der_ok": False,        # ...and appends them verbatim: PEM only
        "bundle": "etc/ssl/certs/ca-certificates.crt",
        "update": ("update-ca-certificates",),
        "fresh": ("--fresh",),
        "certsconf": "etc/ca-certificates.conf",
        "certsdir": "usr/share/ca-certificates",
        "etccertsdir": "etc/ssl/certs",
        "hooksdir": "etc/ca-certificates/update.d",
        "detect": ("update-ca-certificates", "etc/ca-certificates.conf"),
    },
    "redhat": {
        "anchors_dir": "etc/pki/ca-trust/source/anchors",
        "recursive": False,     # p11-kit loads the files directly in the directory
        "suffix": ".crt",
        "only_suffix": False,   # ...whatever their name
        "der_ok": True,         # ...in PEM or DER
        "bundle": "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "update": ("update-ca-trust", "extract"),
        "fresh": (),
        "other_dirs": ("usr/share/pki/ca-trust-source", "etc/pki/ca-trust/source"),
        "detect": ("update-ca-trust", "etc/pki/ca-trust/source/anchors"),
    },
    "macos": {
        "keychain": "Library/Keychains/System.keychain",
        "update": ("security",),
        "detect": ("security", None),
    },
}


class Layout(object):
    """Where one store keeps its anchors and bundle, and how it is updated.

    ``root`` relocates every path (default ``/``).  A relocated Debian layout passes the
    directories to ``update-ca-certificates`` (``--certsconf``, ``--certsdir``,
    ``--localcertsdir``, ``--etccertsdir``, ``--hooksdir``) so the real tool can run on it.
    """

    def __init__(self, store, root="/"):
        if store not in _LAYOUTS:
            raise TrustStoreError("unknown trust store %r (expected one of %s)" % (store, ", ".join(STORES)))
        data = _LAYOUTS[store]
        self.store = store
        self.root = root or "/"
        self.relocated = os.path.abspath(self.root) != "/"

        def p(rel):
            return os.path.join(self.root, rel) if rel else None

        self.anchors_dir = p(data.get("anchors_dir"))
        self.recursive = data.get("recursive", False)
        self.suffix = data.get("suffix", "")
        self.only_suffix = data.get("only_suffix", False)
        self.der_ok = data.get("der_ok", True)
        self.bundle = p(data.get("bundle"))
        self.keychain = p(data.get("keychain"))
        self.certsconf = p(data.get("certsconf"))
        self.certsdir = p(data.get("certsdir"))
        self.etccertsdir = p(data.get("etccertsdir"))
        self.hooksdir = p(data.get("hooksdir"))
        self.other_dirs = tuple(p(d) for d in data.get("other_dirs", ()))
        self.update = tuple(data["update"])
        self.fresh = tuple(data.get("fresh", ()))
        self.detect = data["detect"]

    @property
    def command(self):
        """Name of the store's tool (looked up on the target's PATH by the module)."""
        return self.update[0]

    def __repr__(self):
        return "Layout(%s, root=%r)" % (self.store, self.root)


def layout(store, root="/"):
    return Layout(store, root)


def detect_store(system, which, exists=os.path.exists):
    """Pick the store from the OS name and the tools present, without facts.

    ``system`` is ``platform.system()``; ``which(name)`` returns a path or None; ``exists``
    tests a path.  Debian needs ``update-ca-certificates`` and ``/etc/ca-certificates.conf``
    (so that SUSE's different tool of the same name is not mistaken for it); RHEL needs
    ``update-ca-trust`` and ``/etc/pki/ca-trust/source/anchors``.
    """
    if system == "Darwin":
        if which("security"):
            return "macos"
        raise TrustStoreError("macOS detected, but the 'security' tool was not found on PATH")
    looked = []
    for store in ("debian", "redhat"):
        tool, marker = _LAYOUTS[store]["detect"]
        found_tool = which(tool)
        found_marker = exists("/" + marker)
        if found_tool and found_marker:
            return store
        looked.append("%s (%s: %s, /%s: %s)" % (
            store, tool, "found" if found_tool else "missing", marker, "found" if found_marker else "missing"))
    raise TrustStoreError(
        "cannot tell which system trust store this %s host uses: looked for %s; install the "
        "ca-certificates package or set platform explicitly" % (system or "unknown", "; ".join(looked)))


def update_argv(lay, removing=False, binary=None):
    """argv of the store's update command.  ``removing`` adds Debian's ``--fresh``."""
    if lay.store == "macos":
        raise TrustStoreError("macOS has no separate update command; use the macos_* argv builders")
    argv = [binary or lay.update[0]] + list(lay.update[1:])
    if removing:
        argv += list(lay.fresh)
    if lay.store == "debian" and lay.relocated:
        argv += ["--certsconf", lay.certsconf, "--certsdir", lay.certsdir,
                 "--localcertsdir", lay.anchors_dir, "--etccertsdir", lay.etccertsdir,
                 "--hooksdir", lay.hooksdir]
    return argv


# --------------------------------------------------------------------------- fingerprints and names

def normalize_fingerprint(text):
    """(kind, HEX) from a SHA-256 or SHA-1 fingerprint; colons, spaces, dashes and case ignored."""
    if not isinstance(text, str) or not text.strip():
        raise TrustStoreError("fingerprint: empty; give a SHA-256 (64 hex digits) or SHA-1 (40 hex digits)")
    hexed = re.sub(r"[\s:\-]", "", text).upper()
    if not _HEX_RE.match(hexed):
        raise TrustStoreError("fingerprint %r: not hexadecimal" % text)
    if len(hexed) == 64:
        return "sha256", hexed
    if len(hexed) == 40:
        return "sha1", hexed
    raise TrustStoreError(
        "fingerprint %r: %d hex digits; a SHA-256 fingerprint has 64 and a SHA-1 fingerprint 40"
        % (text, len(hexed)))


def colon(hexed):
    """AB:CD:... from ABCD..."""
    return ":".join(hexed[i:i + 2] for i in range(0, len(hexed), 2))


def digests_of_der(der):
    return hashlib.sha256(der).hexdigest().upper(), hashlib.sha1(der).hexdigest().upper()


def cert_digests(cert):
    """(sha256 HEX, sha1 HEX) of a certificate, no separators."""
    return digests_of_der(certs.to_der(cert))


def _slug(text):
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:40].strip("-")


def default_name(cert):
    """Deterministic anchor name: ``trustops-<slug of CN>-<first 16 hex of SHA-256>``."""
    names = certs.common_names(cert)
    if not names:
        try:
            from cryptography.x509.oid import NameOID
            names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        except Exception:
            names = []
    slug = _slug(names[0] if names else "") or "ca"
    return "trustops-%s-%s" % (slug, cert_digests(cert)[0][:16].lower())


def check_name(name):
    """An anchor name is a plain file name without extension; returns it or raises.

    An empty or blank name is an error, never a silent fall-back to the default name.
    """
    if isinstance(name, str) and not name.strip():
        raise TrustStoreError(
            "name %r: empty; give a file name (letters, digits, '.', '_', '+', '-'), or leave name out "
            "to use the default trustops-<CN>-<fingerprint> name" % (name,))
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise TrustStoreError(
            "name %r: use 1 to 128 characters of letters, digits, '.', '_', '+' or '-', starting with "
            "a letter or digit (a file name without directory and without extension)" % (name,))
    if name.lower().endswith((".crt", ".pem", ".cer")):
        raise TrustStoreError("name %r: give the name without extension; the store's extension is added" % name)
    return name


# --------------------------------------------------------------------------- input

def load_anchor(data, source):
    """The one certificate of an input; CertificateError for garbage, keys, or several certs."""
    found = certs.load_certificates(data, source)
    if len(found) != 1:
        subjects = ", ".join(certs.describe(c)["subject"] for c in found[:5])
        raise certs.CertificateError(
            "%s: holds %d certificates (%s%s); trust_anchor installs exactly one: give the CA "
            "certificate alone" % (source, len(found), subjects, ", ..." if len(found) > 5 else ""))
    return found[0]


# --------------------------------------------------------------------------- scanning

class AnchorFile(object):
    """One file in the anchors directory and the certificates in it (or why it is unreadable)."""

    __slots__ = ("path", "sha256", "sha1", "subjects", "encoding", "error", "usable", "size")

    def __init__(self, path):
        self.path = path
        self.sha256 = []
        self.sha1 = []
        self.subjects = []
        self.encoding = None    # pem | der
        self.error = None       # why it could not be read as certificates
        self.usable = False     # the store's update tool takes its certificates
        self.size = 0

    @property
    def count(self):
        return len(self.sha256)

    def holds(self, kind, hexed):
        return self.error is None and hexed in (self.sha256 if kind == "sha256" else self.sha1)

    def as_dict(self):
        return {"path": self.path, "sha256": [colon(h) for h in self.sha256],
                "subjects": list(self.subjects), "encoding": self.encoding,
                "usable": self.usable, "error": self.error}

    def __repr__(self):
        return "AnchorFile(%r, %d certs%s)" % (self.path, self.count, ", " + self.error if self.error else "")


def _read_store_file(path, what, max_bytes=reader.MAX_BUNDLE, allow_empty=False):
    """A file of the store through the collection's one reader (docs/inputs.md: the bundle cap).

    Raises reader.InputError; ``reason(exc)`` is its message without the leading label.
    """
    return reader.read_input(path=path, option=what, max_bytes=max_bytes, allow_empty=allow_empty)


def _reason(exc, path):
    """An InputError's message without its ``<label> <path>: `` prefix (the caller names the file)."""
    text = str(exc)
    marker = "%s: " % path
    return text[text.index(marker) + len(marker):] if marker in text else text


def read_anchor_file(path, lay):
    entry = AnchorFile(path)
    try:
        data = _read_store_file(path, "anchor file")
    except reader.InputError as exc:
        entry.error = "unreadable (%s)" % _reason(exc, path)
        return entry
    entry.size = len(data)
    entry.encoding = "pem" if b"-----BEGIN" in data else "der"
    try:
        found = certs.load_certificates(data, path)
    except certs.CertificateError as exc:
        text = str(exc)
        entry.error = text[len(path) + 2:] if text.startswith(path + ": ") else text
        return entry
    for cert in found:
        s256, s1 = cert_digests(cert)
        entry.sha256.append(s256)
        entry.sha1.append(s1)
        try:
            entry.subjects.append(cert.subject.rfc4514_string())
        except Exception:
            entry.subjects.append("<unreadable subject>")
    entry.usable = entry.encoding == "pem" or lay.der_ok
    return entry


def _candidate_files(lay):
    top = lay.anchors_dir
    if not top or not os.path.isdir(top):
        return []
    found = []
    if lay.recursive:
        seen = set()
        for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
            real = os.path.realpath(dirpath)
            if real in seen:        # a symlink loop: find -L stops too
                dirnames[:] = []
                continue
            seen.add(real)
            dirnames.sort()
            for fname in sorted(filenames):
                found.append(os.path.join(dirpath, fname))
    else:
        for fname in sorted(os.listdir(top)):
            path = os.path.join(top, fname)
            if not os.path.isdir(path):
                found.append(path)
    result = []
    for path in found:
        base = os.path.basename(path)
        if lay.only_suffix and not base.endswith(lay.suffix):
            continue
        if base.startswith(".trustops-") and base.endswith(".tmp"):
            continue        # our own temporary file of an interrupted run
        result.append(path)
    return result


def scan_anchors(lay):
    """(entries, warnings): every anchor file the store's tool reads, with its fingerprints.

    Unreadable or unparseable files are returned with ``error`` set and named in a warning;
    they are never planned for removal.  On Debian a DER ``*.crt`` is readable but not
    ``usable`` (the tool would append the binary verbatim), and a warning says so.
    """
    entries = []
    warnings = []
    for path in _candidate_files(lay):
        entry = read_anchor_file(path, lay)
        entries.append(entry)
        if entry.error:
            warnings.append("skipped %s: %s; it is left alone" % (path, entry.error))
        elif not entry.usable:
            warnings.append(
                "%s is DER; update-ca-certificates copies *.crt files verbatim into the bundle, so "
                "it does not make its certificate trusted (convert it to PEM)" % path)
    return entries, warnings


class DigestSet(object):
    """SHA-256 and SHA-1 digests of the certificates of a bundle or a set of sources."""

    __slots__ = ("path", "exists", "sha256", "sha1", "count")

    def __init__(self, path=None, exists=False):
        self.path = path
        self.exists = exists
        self.sha256 = set()
        self.sha1 = set()
        self.count = 0

    def add_der(self, der):
        s256, s1 = digests_of_der(der)
        self.sha256.add(s256)
        self.sha1.add(s1)
        self.count += 1

    def add_pem_blocks(self, data):
        for body in _PEM_CERT_RE.findall(data):
            try:
                der = base64.b64decode(re.sub(rb"\s+", b"", body), validate=True)
            except (binascii.Error, ValueError):
                continue
            self.add_der(der)

    def contains(self, kind, hexed):
        return hexed in (self.sha256 if kind == "sha256" else self.sha1)


def read_bundle(path):
    """Digests of every PEM certificate in a consolidated bundle (absent file: empty set)."""
    result = DigestSet(path, exists=os.path.isfile(path) if path else False)
    if result.exists:
        try:
            result.add_pem_blocks(_read_store_file(path, "bundle", allow_empty=True))
        except reader.InputError as exc:
            raise TrustStoreError("cannot read the bundle %s: %s" % (path, _reason(exc, path)))
    return result


def _add_file(result, path):
    try:
        data = _read_store_file(path, "system CA file")
    except reader.InputError:
        return
    if b"-----BEGIN" in data:
        result.add_pem_blocks(data)
    elif data[:1] == b"\x30":
        result.add_der(data)


def other_source_digests(lay):
    """Digests of the certificates the store trusts from sources this module does not manage.

    Debian: the system CAs enabled in ``/etc/ca-certificates.conf``.  RHEL: everything under
    ``/usr/share/pki/ca-trust-source`` and ``/etc/pki/ca-trust/source`` except our anchors
    directory and the blocklists.  macOS: none.
    """
    result = DigestSet()
    if lay.store == "debian" and lay.certsconf and os.path.isfile(lay.certsconf):
        try:
            data = _read_store_file(lay.certsconf, "certsconf", max_bytes=reader.MAX_TEXT, allow_empty=True)
        except reader.InputError as exc:
            raise TrustStoreError("cannot read %s: %s" % (lay.certsconf, _reason(exc, lay.certsconf)))
        lines = data.decode("utf-8", "replace").splitlines()
        for line in lines:
            line = line.strip()
            if not line or line[0] in "#!":
                continue
            _add_file(result, os.path.join(lay.certsdir, line))
    elif lay.store == "redhat":
        skip = {os.path.realpath(lay.anchors_dir)}
        for top in lay.other_dirs:
            if not os.path.isdir(top):
                continue
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = [d for d in sorted(dirnames)
                               if d not in ("blocklist", "blacklist")
                               and os.path.realpath(os.path.join(dirpath, d)) not in skip]
                for fname in sorted(filenames):
                    _add_file(result, os.path.join(dirpath, fname))
    return result


# --------------------------------------------------------------------------- planning

class Plan(object):
    """What to change in a Linux store: a file to write, files to remove, the update to run."""

    def __init__(self, lay):
        self.layout = lay
        self.path = None            # the anchor file that holds (or will hold) the certificate
        self.write = None           # (path, pem bytes)
        self.replaces = None        # AnchorFile overwritten by ``write``
        self.remove = []            # AnchorFile list
        self.update = False         # the store's update command must run
        self.fresh = False          # ...with --fresh (Debian), because a file went or changed
        self.reasons = []
        self.warnings = []

    @property
    def changes_files(self):
        return bool(self.write or self.remove)

    @property
    def changed(self):
        return self.changes_files or self.update

    def update_argv(self, binary=None):
        return update_argv(self.layout, removing=self.fresh, binary=binary)


def _matching(entries, kind, hexed):
    return [e for e in entries if e.holds(kind, hexed)]


def plan_present(lay, cert, name, entries, bundle):
    """Plan to make ``cert`` an anchor: nothing, run the update, or write ``<name><suffix>``."""
    s256, _s1 = cert_digests(cert)
    plan = Plan(lay)
    wanted = name + lay.suffix
    holders = [e for e in _matching(entries, "sha256", s256) if e.usable]
    if holders:
        own = [e for e in holders if os.path.basename(e.path) == wanted]
        plan.path = (own or holders)[0].path
        if not bundle.contains("sha256", s256):
            plan.update = True
            plan.reasons.append("%s holds the certificate but the bundle %s lacks it (the update "
                                "never ran after the file was placed)" % (plan.path, bundle.path))
        return plan
    target = os.path.join(lay.anchors_dir, wanted)
    if os.path.islink(target):
        raise TrustStoreError("%s is a symbolic link; it is left alone: choose another name" % target)
    if os.path.lexists(target) and not os.path.isfile(target):
        raise TrustStoreError("%s exists and is not a regular file; it is left alone: choose another name" % target)
    existing = [e for e in entries if e.path == target]
    if existing:
        old = existing[0]
        if old.error:
            raise TrustStoreError("%s exists and is not a certificate file (%s); it is left alone: choose "
                                  "another name" % (target, old.error))
        if old.count > 1:
            raise TrustStoreError("%s exists and holds %d certificates; it is left alone: choose another name"
                                  % (target, old.count))
        plan.replaces = old
        plan.fresh = True
        if old.sha256[0] == s256:
            plan.reasons.append("%s holds the certificate as DER, which the store ignores; rewriting it as PEM"
                                % target)
        else:
            plan.reasons.append("%s held another certificate (%s, SHA-256 %s); it is replaced"
                                % (target, old.subjects[0], colon(old.sha256[0])))
            plan.warnings.append("replacing anchor %s: it held %s (SHA-256 %s)"
                                 % (target, old.subjects[0], colon(old.sha256[0])))
    elif os.path.lexists(target):
        # a file the scan did not read (e.g. a hidden temp pattern): never overwrite blindly
        raise TrustStoreError("%s exists but was not read as an anchor; it is left alone: choose another name"
                              % target)
    plan.path = target
    plan.write = (target, certs.to_pem(cert))
    plan.update = True
    plan.reasons.append("write %s" % target)
    return plan


def plan_absent(lay, kind, hexed, entries, bundle, others):
    """Plan to stop trusting the certificate with this digest as one of our anchors.

    Every anchor file holding it is removed.  A file that holds it among other certificates is
    not split: that is an error naming the file, and nothing is changed.  When no anchor holds
    it but the bundle still does and no system source explains it, the update runs (a file was
    removed by hand without it).
    """
    plan = Plan(lay)
    holders = _matching(entries, kind, hexed)
    shared = [e for e in holders if e.count > 1]
    if shared:
        raise TrustStoreError(
            "%s hold%s the certificate together with other certificates; removing %s would also "
            "distrust them, so nothing was changed: split the file%s by hand"
            % (", ".join(e.path for e in shared), "s" if len(shared) == 1 else "",
               "it" if len(shared) == 1 else "them", "" if len(shared) == 1 else "s"))
    if holders:
        plan.remove = holders
        plan.update = True
        plan.fresh = True
        plan.reasons.extend("remove %s" % e.path for e in holders)
    elif bundle.contains(kind, hexed) and not others.contains(kind, hexed):
        plan.update = True
        plan.fresh = True
        plan.reasons.append("no anchor holds the certificate but the bundle %s still does (the update "
                            "never ran after a removal)" % bundle.path)
    if others.contains(kind, hexed):
        plan.warnings.append("the certificate is also a system CA of this host (%s); it stays trusted "
                             "through that source, which this module does not manage"
                             % (lay.certsconf if lay.store == "debian" else ", ".join(lay.other_dirs)))
    return plan


def verify_present(kind, hexed, bundle_after):
    return bundle_after.contains(kind, hexed)


def verify_absent(kind, hexed, bundle_after, others):
    return (not bundle_after.contains(kind, hexed)) or others.contains(kind, hexed)


def listing(entries):
    """Diff text: one line per certificate per anchor file (path and SHA-256), never PEM."""
    lines = []
    for e in sorted(entries, key=lambda x: x.path):
        if e.error:
            lines.append("%s  (unreadable, left alone: %s)" % (e.path, e.error))
            continue
        note = "" if e.usable else "  (DER, ignored by the store)"
        for h in e.sha256:
            lines.append("%s  sha256=%s%s" % (e.path, colon(h), note))
    return "\n".join(lines) + ("\n" if lines else "")


def entries_after(entries, plan, lay):
    """The anchor entries as they will be once ``plan`` is applied (for the diff)."""
    gone = set(e.path for e in plan.remove)
    if plan.write:
        gone.add(plan.write[0])
    after = [e for e in entries if e.path not in gone]
    if plan.write:
        new = AnchorFile(plan.write[0])
        cert = certs.load_certificate(plan.write[1], plan.write[0])
        s256, s1 = cert_digests(cert)
        new.sha256, new.sha1, new.encoding, new.usable = [s256], [s1], "pem", True
        new.subjects = [cert.subject.rfc4514_string()]
        after.append(new)
    return after


# --------------------------------------------------------------------------- macOS (not run here)

class KeychainItem(object):
    __slots__ = ("sha1", "sha256", "pem")

    def __init__(self, sha1, sha256=None, pem=None):
        self.sha1 = sha1
        self.sha256 = sha256
        self.pem = pem

    def holds(self, kind, hexed):
        return (self.sha1 if kind == "sha1" else self.sha256) == hexed


def macos_find_argv(keychain, binary="security"):
    return [binary, "find-certificate", "-a", "-Z", "-p", keychain]


def macos_add_argv(keychain, cert_file, binary="security"):
    return [binary, "add-trusted-cert", "-d", "-r", "trustRoot", "-k", keychain, cert_file]


def macos_remove_trust_argv(cert_file, binary="security"):
    return [binary, "remove-trusted-cert", "-d", cert_file]


def macos_delete_argv(sha1, keychain, binary="security"):
    return [binary, "delete-certificate", "-Z", sha1, keychain]


def macos_trust_export_argv(out_file, binary="security"):
    return [binary, "trust-settings-export", "-d", out_file]


_SHA1_LINE = re.compile(r"^SHA-1 hash:\s*([0-9A-Fa-f]{40})\s*$", re.MULTILINE)


def parse_find_certificate(text):
    """Keychain items from ``security find-certificate -a -Z -p`` output.

    Each item's digests are computed from its PEM block; ``SHA-1 hash:`` lines without a PEM
    block (should ``-p`` print nothing for an item) still count, by SHA-1 only.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    items = []
    seen_sha1 = set()
    for match in re.finditer(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.DOTALL):
        pem = match.group(0)
        body = re.sub(r"\s+", "", pem[len("-----BEGIN CERTIFICATE-----"):-len("-----END CERTIFICATE-----")])
        try:
            der = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            continue
        s256, s1 = digests_of_der(der)
        seen_sha1.add(s1)
        items.append(KeychainItem(s1, s256, pem + "\n"))
    for s1 in _SHA1_LINE.findall(text):
        if s1.upper() not in seen_sha1:
            seen_sha1.add(s1.upper())
            items.append(KeychainItem(s1.upper()))
    return items


def parse_trust_settings(data):
    """SHA-1 digests (upper-case hex) listed in an exported trust-settings plist.

    The exported plist keeps per-certificate settings under ``trustList``, keyed by the hex SHA-1
    of the certificate.  Unconfirmed on a real Mac here; see docs/trust_anchor.md.
    """
    try:
        doc = plistlib.loads(data)
    except Exception as exc:
        raise TrustStoreError("cannot parse the exported trust settings: %s" % exc)
    trust_list = doc.get("trustList", {}) if isinstance(doc, dict) else {}
    result = set()
    for key in trust_list:
        hexed = re.sub(r"[^0-9A-Fa-f]", "", str(key)).upper()
        if len(hexed) == 40:
            result.add(hexed)
    return result


class MacStep(object):
    """One ``security`` call of a macOS plan; ``needs_file`` when argv needs a PEM file path."""

    __slots__ = ("action", "sha1", "pem", "needs_file")

    def __init__(self, action, sha1, pem=None, needs_file=False):
        self.action = action        # add | remove-trust | delete
        self.sha1 = sha1
        self.pem = pem
        self.needs_file = needs_file

    def argv(self, keychain, cert_file=None, binary="security"):
        if self.action == "add":
            return macos_add_argv(keychain, cert_file, binary)
        if self.action == "remove-trust":
            return macos_remove_trust_argv(cert_file, binary)
        return macos_delete_argv(self.sha1, keychain, binary)


def plan_macos_present(cert, items, trusted):
    """Steps to make ``cert`` trusted in the System keychain; [] when it already is.

    ``trusted`` is the set of SHA-1s with admin trust settings, or None when unknown (then
    keychain membership alone decides).
    """
    _s256, s1 = cert_digests(cert)
    in_keychain = any(i.sha1 == s1 for i in items)
    has_trust = True if trusted is None else s1 in trusted
    if in_keychain and has_trust:
        return []
    return [MacStep("add", s1, certs.to_pem(cert).decode("ascii"), needs_file=True)]


def plan_macos_absent(kind, hexed, items, trusted, cert=None):
    """Steps to remove the certificate's admin trust settings and its System keychain items.

    Trust settings are removed first (``remove-trusted-cert -d`` needs the certificate as a
    file: taken from the keychain's PEM or from ``cert``), then the keychain item is deleted
    by SHA-1.  Trust settings left behind without a keychain item are removed too when the
    certificate is known.
    """
    pem = certs.to_pem(cert).decode("ascii") if cert is not None else None
    matches = [i for i in items if i.holds(kind, hexed)]
    steps = []
    for item in matches:
        body = item.pem or pem
        if body and (trusted is None or item.sha1 in trusted):
            steps.append(MacStep("remove-trust", item.sha1, body, needs_file=True))
        steps.append(MacStep("delete", item.sha1))
    if not matches and cert is not None and trusted:
        s1 = cert_digests(cert)[1]
        if s1 in trusted:
            steps.append(MacStep("remove-trust", s1, pem, needs_file=True))
    return steps
