# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The URLs of SAML (seed 002): the host users type, the ACS and logout URLs Tableau Server expects,
the return URL, and where a configured URL differs from the expected one, character by character.

Entry point for every path: :func:`check_return_url` (the return URL of ``tsm authentication
saml configure --idp-return-url``); :func:`check_sp_urls` for the URLs configured on the IdP.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding
from ansible_collections.trustops.tableau.plugins.module_utils.saml.rules import SamlError, finding


SP_ACS_PATH = "/wg/saml/SSO/index.html"
SP_SLO_PATH = "/wg/saml/SingleLogout/index.html"
SITE_SP_PATH = "/samlservice/public/sp/metadata?alias="

_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?)(:[0-9]{1,5})?$")


def validate_server_host(host: str) -> str:
    """The host (and optional :port) users type for Tableau Server; SamlError when it is a
    URL or not a host name."""
    if not isinstance(host, str) or not _HOST_RE.match(host.strip()) or host != host.strip():
        raise SamlError("server_host must be a host name with an optional :port (no scheme or path), "
                        f"not {host!r}")
    return host


def expected_acs_url(server_host: str, scope: str = "server", site_alias: str | None = None) -> str:
    """``https://<host>/wg/saml/SSO/index.html``, or the site SAML endpoint for ``scope=site``."""
    validate_server_host(server_host)
    if scope == "site":
        if not site_alias:
            raise SamlError("site SAML needs site_alias (the site's URL name)")
        return f"https://{server_host}{SITE_SP_PATH}{site_alias}"
    return f"https://{server_host}{SP_ACS_PATH}"


def expected_slo_url(server_host: str) -> str:
    validate_server_host(server_host)
    return f"https://{server_host}{SP_SLO_PATH}"


def describe_difference(expected: str, actual: str, limit: int = 5) -> str:
    """Where two strings differ, character by character: ``at 27: 'S' expected, 's' found
    (case only)``; positions count from 1 in ``actual``."""
    matcher = difflib.SequenceMatcher(None, expected, actual, autojunk=False)
    parts = []
    for op, e1, e2, a1, a2 in matcher.get_opcodes():
        if op == "equal":
            continue
        want, got = expected[e1:e2], actual[a1:a2]
        if op == "replace":
            text = f"at {a1 + 1}: {want!r} expected, {got!r} found"
            if want.lower() == got.lower():
                text += " (differs in case only)"
        elif op == "delete":
            text = f"at {a1 + 1}: {want!r} missing"
        else:
            text = f"at {a1 + 1}: {got!r} extra"
        parts.append(text)
    if not parts:
        return "identical"
    more = len(parts) - limit
    return "; ".join(parts[:limit]) + (f"; and {more} more" if more > 0 else "")


def compare_url(code: str, where: str, expected: str, actual: str, **extra: str | None) -> list[Finding]:
    """``[finding code]`` naming the characters where ``actual`` differs from ``expected``, or ``[]``."""
    if actual == expected:
        return []
    return [finding(code, where=where, expected=expected, actual=actual,
                    difference=describe_difference(expected, actual), **extra)]


def check_return_url(url: str) -> list[Finding]:
    """Findings for the return URL (tsm --return-url): absolute, not localhost, no trailing /."""
    parts = split_url(url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return [finding("SAML-053", url=url)]
    findings = []
    host = parts.hostname.lower().rstrip(".")
    loopback = host == "localhost" or host.endswith(".localhost")
    try:
        loopback = loopback or ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        pass
    if loopback:
        findings.append(finding("SAML-052", url=url, host=parts.hostname))
    if url.endswith("/"):
        findings.append(finding("SAML-051", url=url, suggestion=url.rstrip("/")))
    return findings


def check_sp_urls(server_host: str | None = None, scope: str = "server", site_alias: str | None = None,
                  acs_url: str | None = None, slo_url: str | None = None,
                  return_url: str | None = None) -> tuple[list[Finding], dict]:
    """The URLs configured on the IdP (``acs_url``, ``slo_url``) against what Tableau Server
    expects for ``server_host``, and the return URL.  Returns ``(findings, facts)``."""
    findings = []
    facts = {}
    if server_host is not None:
        facts["expected_acs_url"] = expected_acs_url(server_host, scope, site_alias)
        facts["expected_slo_url"] = expected_slo_url(server_host)
    if acs_url is not None:
        if server_host is None:
            raise SamlError("acs_url is compared with the URL expected for server_host; give server_host")
        if scope == "site":
            findings.extend(compare_url("SAML-054", "IdP configuration", facts["expected_acs_url"],
                                        acs_url, site_alias=site_alias))
            if acs_url.lower().startswith("http://"):
                findings.append(finding("SAML-055", where="IdP configuration", url=acs_url))
        else:
            findings.extend(compare_url("SAML-050", "IdP configuration", facts["expected_acs_url"], acs_url))
    if slo_url is not None:
        if server_host is None:
            raise SamlError("slo_url is compared with the URL expected for server_host; give server_host")
        findings.extend(compare_url("SAML-058", "IdP configuration", facts["expected_slo_url"], slo_url))
    if return_url is not None:
        findings.extend(check_return_url(return_url))
        if scope == "site" and return_url.lower().startswith("http://"):
            findings.append(finding("SAML-055", where="return URL", url=return_url))
    return findings, facts


def split_url(url: str) -> SplitResult | None:
    """``urlsplit(url)``, or None when the URL (or its port) cannot be parsed."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    return parts
