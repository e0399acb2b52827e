# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plans the tsm_* modules execute: compare the desired state with what the server reports.

Planners (:func:`plan_config`, :func:`plan_saml`, :func:`plan_mutual_ssl`,
:func:`plan_trusted_auth`, :func:`plan_external_ssl`) return a :class:`Plan`: the steps to stage
(only what differs), the diff, and the findings. :func:`execute` runs a plan. Nothing here
applies pending changes (that is :mod:`.apply`).

Reading state costs one call (``settings export``), which shows the *applied* configuration:
values staged but not applied (for example after a failed apply) are seen as different and are
staged again, so the next run finishes the job.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import (
    UNSET, TsmError, valid_argument, valid_config_value, valid_host, valid_item, is_encrypted_value, is_secret_key)
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.inputs import (
    file_digest, load_certificate_input, load_client_ca_input, load_crl_input, load_key_input, load_metadata_input,
    read_file_input)
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.rules import (
    EXCLUSIVE, aliased, finding)
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.settings import (
    Pending, Settings, _canon, same_value, show, tsm_text)


# ---------------------------------------------------------------------------------- plans

class Step:
    """One staging call: a client method name, its arguments, and a line for the reader."""

    __slots__ = ("op", "kwargs", "label")

    def __init__(self, op: str, label: str, **kwargs: Any) -> None:
        self.op = op
        self.kwargs = kwargs
        self.label = label


class Plan:
    """What a module will stage: steps, the before/after view for --diff, findings, warnings."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.steps: list[Step] = []
        self.before: list[str] = []
        self.after: list[str] = []
        self.changes: list[dict] = []
        self.findings: list[Finding] = []
        self.warnings: list[str] = []
        self.needs_pending = False
        self.secret_values: set[str] = set()
        self.masked_keys: set[str] = set()

    def secret(self, name: str, *values: Any) -> None:
        """Record that ``name`` holds a secret: its values are masked in the whole result."""
        self.masked_keys.add(name)
        for value in values:
            if value not in (None, "", UNSET) and not isinstance(value, bool):
                self.secret_values.add(str(value))

    @property
    def changed(self) -> bool:
        return bool(self.steps)

    def differ(self, name: str, before: Any, after: Any, secret: bool = False) -> None:
        """Record a change (``changes``: applied value, desired value)."""
        self.changes.append({"name": name, "before": show(before, secret), "after": show(after, secret)})

    def view(self, name: str, before: Any, after: Any, secret: bool = False) -> None:
        """Record a managed value for --diff, whether it changes or not."""
        self.before.append(f"{name}: {show(before, secret)}")
        self.after.append(f"{name}: {show(after, secret)}")

    def diff(self) -> dict:
        return {"before_header": f"{self.title} (applied)", "after_header": f"{self.title} (after apply)",
                "before": "\n".join(self.before) + ("\n" if self.before else ""),
                "after": "\n".join(self.after) + ("\n" if self.after else "")}

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)


def execute(client: Any, plan: Plan, done: list[str] | None = None) -> list[str]:
    """Run the plan's steps in order; returns the labels of the steps that ran.

    ``done`` (a list) is filled as steps succeed, so a caller that reports it on failure says
    exactly what was staged. A failure's message names the step that failed, the steps staged
    before it and the steps not staged.
    """
    done = [] if done is None else done
    for index, step in enumerate(plan.steps):
        try:
            getattr(client, step.op)(**step.kwargs)
        except TsmError as exc:
            rest = [s.label for s in plan.steps[index + 1:]]
            exc.args = ("{}. Failed step: {}. Staged before the failure (pending, not applied): {}. Not staged: {}{}".format(
                exc.args[0], step.label, "; ".join(done) or "nothing", "; ".join([step.label] + rest),
                "; 'tsm pending-changes discard' drops what was staged, running the task again completes it"
                if done else ""),)
            raise
        done.append(step.label)
    return done


def key_steps(plan: Plan, settings: Settings, desired: Mapping[str, Any], force_keys: bool = True,
              secret_keys: Iterable[str] = (), separators: Mapping[str, str] | None = None,
              only_if_unset: Iterable[str] = (), update_secrets: bool = False) -> list[str]:
    """Compare configuration keys, record the diff, and add at most two `settings import` steps.

    Keys the server already has go in one import without --force-keys; keys it does not have
    (never set) go in a second import with --force-keys, and only when ``force_keys``; otherwise
    they are reported as errors by the caller through the returned list. Secret keys
    (:func:`is_secret_key`, or ``secret_keys``) are masked everywhere; the server stores them
    encrypted (``ENC(...)``), so they are staged only when the server has no value (or a plain
    one that differs), unless ``update_secrets``. ``only_if_unset`` keys are staged only when the
    server has no value.
    """
    separators = separators or {}
    existing, new, refused = {}, {}, []
    for key in sorted(desired):
        value = desired[key]
        if value is None:
            continue
        secret = key in secret_keys or is_secret_key(key)
        current = settings.key(key)
        if secret:
            plan.secret(key, value, current)
        if key in only_if_unset:
            changed = current in (UNSET, None, "")
        elif secret and not update_secrets and is_encrypted_value(current):
            changed = False
        else:
            changed = update_secrets and secret or not same_value(current, value)
        text = tsm_text(value, separators.get(key, ","))
        plan.view(key, current, text, secret)
        if not changed:
            continue
        plan.differ(key, current, text, secret)
        if current is UNSET:
            if force_keys:
                new[key] = text
            else:
                refused.append(key)
        else:
            existing[key] = text
    if existing:
        plan.steps.append(Step("import_settings", "settings import ({})".format(", ".join(sorted(existing))),
                               config_keys=existing, secret_keys=tuple(sorted(plan.masked_keys))))
    if new:
        plan.steps.append(Step("import_settings", "settings import --force-keys ({})".format(", ".join(sorted(new))),
                               config_keys=new, force_keys=True, secret_keys=tuple(sorted(plan.masked_keys))))
    return refused


def plan_config(settings: Settings, keys: Mapping[str, Any], force_keys: bool = False,
                update_secrets: bool = False) -> Plan:
    """tsm_config: stage only the keys whose value differs (one import; new keys in a second).

    Every key and value is checked first (:func:`valid_config_value`): a refusal stages nothing.
    """
    for key in sorted(keys):
        if keys[key] is not None:
            valid_config_value(key, keys[key])
    plan = Plan("TSM configuration keys")
    refused = key_steps(plan, settings, keys, force_keys=force_keys, update_secrets=update_secrets)
    if refused:
        plan.add(finding("TSM-050", key_names=", ".join(refused), data={"keys": refused}))
    return plan


# ---- SAML

# option -> (samlSettings field, kind); kinds: str, int, bool, cert, file
SAML_FIELDS = {
    "idp_entity_id": ("entityId", "str"), "return_url": ("returnUrl", "str"),
    "idp_metadata_file": ("idpMetadataFile", "file"), "cert_file": ("certFile", "cert"),
    "key_file": ("keyFile", "file"), "max_auth_age": ("maxAuthenticationAge", "int"),
    "desktop_access": ("desktopAccessEnabled", "bool"), "mobile_access": ("appAccessEnabled", "bool"),
    "signout": ("logoutEnabled", "bool"), "signout_url": ("logoutRedirectUrl", "str"),
}
SAML_ASSERTIONS = {"user_name_attribute": "idpUsernameAttribute", "domain_attribute": "idpDomainAttribute"}
SAML_FIRST_TIME = ("idp_entity_id", "return_url", "idp_metadata_file", "cert_file", "key_file")
SAML_KEYS = {
    "key_passphrase": "wgserver.saml.key.passphrase",
    "blocklisted_digests": "wgserver.saml.blocklisted_digest_algorithms",
    "min_rsa_key_size": "wgserver.saml.min_allowed.rsa_key_size",
    "min_ec_key_size": "wgserver.saml.min_allowed.elliptic_curve_size",
    "authcontexts": "wgserver.saml.authcontexts",
    "ignore_domain_in_username": "wgserver.ignore_domain_in_username_for_matching",
}


def _compare_file(plan, name, field_label, current_path, desired_path, kind, read=file_digest, read_server=None):
    """Whether the server's file (its recorded path) holds what desired_path holds.

    ``read(path, kind)`` fingerprints the file given to the module, ``read_server(path, kind)`` (default:
    ``read``) the file the server recorded; None: not readable (counts as different). Over the CLI both
    read the node's files; over the API the server's files are compared by the content name they were
    uploaded under (``tsm.api.read_server``).
    """
    want = read(desired_path, kind)
    if want is None:
        raise TrustopsError(f"{name} {desired_path}: no such file or not readable on the managed host")
    if current_path in (UNSET, None, ""):
        plan.view(field_label, "(not set)", f"{desired_path} {want}")
        return False
    have = (read_server or read)(current_path, kind)
    if have is None:
        plan.view(field_label, f"{current_path} (not readable here)", f"{desired_path} {want}")
        return False
    shown = desired_path if have != want else current_path
    plan.view(field_label, f"{current_path} {have}", f"{shown} {want}")
    return have == want


def _compare_fields(plan, settings, entity, fields, desired, read=file_digest, read_server=None):
    """Options (of ``fields``: option -> (field, kind)) whose server value differs."""
    differing = {}
    entity_known = settings.has_entity(entity)
    for option in fields:
        value = desired.get(option)
        if value is None:
            continue
        field, kind = fields[option]
        label = f"{entity}.{field}"
        current = settings.field(entity, field)
        if current is UNSET and entity_known:
            plan.warnings.append(f"the server's {entity} entity has no field {field}: {option} is staged on every run")
        if kind in ("cert", "file"):
            if not _compare_file(plan, option, label, current, value, kind, read, read_server):
                differing[option] = value
                plan.differ(label, current, value)
            continue
        ok = same_value(current, value)
        plan.view(label, current, value)
        if not ok:
            differing[option] = value
            plan.differ(label, current, value)
    return differing


def _effective(settings, pending, entity, field):
    """The value the server will have after apply: pending if staged, else applied."""
    if pending is not None:
        value = pending.value(f"{entity}.{field}")
        if value is not UNSET:
            return value
    return settings.field(entity, field)


def _true(value):
    return _canon(value) == "true"


#: The entity field that says SAML, or mutual SSL, is on.
_ENABLED_FIELD = {"SAML": ("samlSettings", "enabled"), "mutual SSL": ("mutualSSLSettings", "clientCertRequired")}


def check_saml_mutual_ssl(settings: Settings, pending: Pending | None, enabling: str) -> list[Finding]:
    """TSM-001 (seed 002: Tableau Server does not support mutual SSL and SAML together): ``enabling``
    (``SAML`` or ``mutual SSL``) while the other is enabled, or pending (``pending``: the Pending list,
    or None when not read)."""
    other = EXCLUSIVE[enabling]["other"]
    if _true(_effective(settings, pending, *_ENABLED_FIELD[other])):
        return [finding("TSM-001", **EXCLUSIVE[enabling])]
    return []


def _server_list(value):
    return [part.strip() for part in str(value).split(",") if part.strip()]


def saml_policy(settings: Settings | None, desired: Mapping[str, Any]) -> Any:
    """The SAML policy being configured: the task's own values, else the server's, else the vendor defaults.

    One :class:`policy.Policy` for the checks of the files this task stages, so a certificate is judged
    by the thresholds Tableau Server will have after apply. An unknown digest name raises PolicyError.
    """
    from ansible_collections.trustops.tableau.plugins.module_utils import policy as policy_core
    values = {}
    for option, parse in (("blocklisted_digests", _server_list), ("min_rsa_key_size", None),
                          ("min_ec_key_size", None)):
        key = SAML_KEYS[option]
        value = desired.get(option)
        if value is None and settings is not None:
            current = settings.key(key)
            if current not in (UNSET, None) and not is_encrypted_value(current):
                value = parse(current) if parse else str(current).strip()
                try:
                    value = policy_core.blocklist(value, key) if parse else policy_core.size_option(key, value)
                except policy_core.PolicyError as exc:
                    raise policy_core.PolicyError(f"{exc} (the server's current value); set {option} in this task")
        if value is not None:
            values[option] = value
    return policy_core.Policy(**values)


def _saml_checks():
    """The SAML core's entry points (``sp.check_keypair``, ``urls.check_return_url``): the one
    implementation of each rule, imported when a SAML plan needs them (they bring the SAML rules in)."""
    from ansible_collections.trustops.tableau.plugins.module_utils.saml.sp import check_keypair
    from ansible_collections.trustops.tableau.plugins.module_utils.saml.urls import check_return_url
    return check_keypair, check_return_url


def saml_findings(desired: Mapping[str, Any], current_enabled: Any = None) -> list[Finding]:
    """Findings on the desired SAML options that need no file: the return URL (the one core rule,
    ``saml.urls.check_return_url``) and the ignore-domain caution (TSM-004)."""
    findings = []
    url = desired.get("return_url")
    if url:
        findings.extend(aliased(_saml_checks()[1](url)))
    if desired.get("ignore_domain_in_username"):
        findings.append(finding("TSM-004", data={"key": SAML_KEYS["ignore_domain_in_username"]}))
    return findings


# Options of each module that go on tsm's command line as free text (checked by valid_argument).
SAML_ARGUMENTS = ("idp_entity_id", "return_url", "signout_url", "user_name_attribute", "domain_attribute")
SAML_LIST_KEYS = ("blocklisted_digests", "authcontexts")


def check_saml_inputs(desired: Mapping[str, Any], check_key: bool = True,
                      settings: Settings | None = None) -> list[Finding]:
    """Every value and file of tsm_saml, before anything is staged; returns the findings.

    Free-text options: :func:`valid_argument`; list keys: :func:`valid_item`; ``idp_metadata_file``:
    the hardened parser and ``saml.metadata.check_idp_metadata``; ``cert_file`` and ``key_file``:
    ``saml.sp.check_keypair`` (server-wide SAML: the seed's certificate rules and key table, the key
    matches the certificate, the passphrase), the same cores and codes as saml_metadata_check and
    saml_keypair_check, judged by the policy being configured (:func:`saml_policy` of ``settings``, the
    server's applied configuration, and ``desired``). ``check_key`` false skips the key
    rules (not the certificate's). Broken input raises InputRefused.
    """
    for option in SAML_ARGUMENTS:
        if desired.get(option) is not None:
            valid_argument(option, desired[option])
    for option in SAML_LIST_KEYS:
        for item in desired.get(option) or ():
            valid_item(option, item)
    policy = saml_policy(settings, desired)
    findings = []
    if desired.get("idp_metadata_file"):
        findings.extend(load_metadata_input("idp_metadata_file", desired["idp_metadata_file"], policy)[0])
    cert_data = key_data = None
    if desired.get("cert_file"):
        load_certificate_input("cert_file", desired["cert_file"])  # not a certificate at all: refused
        cert_data = read_file_input("cert_file", desired["cert_file"], "cert")
    if desired.get("key_file"):
        # not a private key at all: refused; a wrong passphrase is SAML-018 (saml.sp.check_keypair)
        load_key_input("key_file", desired["key_file"], verify=False)
        if check_key:
            key_data = read_file_input("key_file", desired["key_file"], "key")
    if cert_data is not None or key_data is not None:
        pair, _facts = _saml_checks()[0](
            cert_data, key_data, passphrase=desired.get("key_passphrase"), scope="server", policy=policy,
            cert_source="cert_file {}".format(desired.get("cert_file")), key_source="key_file {}".format(desired.get("key_file")),
            cert_filename=desired.get("cert_file"), key_filename=desired.get("key_file"))
        findings.extend(aliased(pair))
    return findings


def plan_saml(settings: Settings, desired: Mapping[str, Any], pending_reader: Callable[[], Pending] | None = None,
              read: Callable = file_digest, check_key: bool = True, read_server: Callable | None = None) -> Plan:
    """tsm_saml: configure/map-assertions/keys/enable, only what differs from the applied state.

    ``desired``: option name -> value (None = not managed) for SAML_FIELDS, SAML_ASSERTIONS,
    SAML_KEYS and ``enabled``. ``pending_reader()`` returns the Pending list; it is called only
    when SAML is being enabled (to refuse enabling it next to a pending mutual SSL enable).
    """
    key_findings = check_saml_inputs(desired, check_key=check_key, settings=settings)
    plan = Plan("SAML")
    enabled = desired.get("enabled")
    current_enabled = settings.field("samlSettings", "enabled")
    plan.findings.extend(saml_findings(desired, current_enabled))
    configured = all(settings.field("samlSettings", SAML_FIELDS[o][0]) not in (UNSET, None, "") for o in SAML_FIRST_TIME)

    differing = _compare_fields(plan, settings, "samlSettings", SAML_FIELDS, desired, read, read_server)
    if not configured:
        missing = [o for o in SAML_FIRST_TIME if desired.get(o) in (None, "")]
        if missing and (differing or enabled):
            plan.add(finding("TSM-005", first_time=", ".join(SAML_FIRST_TIME), missing_options=", ".join(missing),
                             data={"missing": missing}))
    plan.findings.extend(key_findings)
    if differing:
        plan.steps.append(Step("saml_configure", "authentication saml configure ({})".format(", ".join(sorted(differing))),
                               options=differing))

    assertions = {}
    for option, field in SAML_ASSERTIONS.items():
        value = desired.get(option)
        if value is None:
            continue
        current = settings.field("samlSettings", field)
        plan.view(f"samlSettings.{field}", current, value)
        if not same_value(current, value):
            assertions[option] = value
            plan.differ(f"samlSettings.{field}", current, value)
    if assertions:
        plan.steps.append(Step("saml_map_assertions", "authentication saml map-assertions ({})".format(", ".join(
            sorted(assertions))), user_name=assertions.get("user_name_attribute"),
            domain=assertions.get("domain_attribute")))

    keys = dict((SAML_KEYS[o], desired.get(o)) for o in SAML_KEYS if desired.get(o) is not None)
    passphrase_key = SAML_KEYS["key_passphrase"]
    # the passphrase is stored encrypted: staged when the server has none, and again with a new key file
    key_steps(plan, settings, keys, force_keys=True, secret_keys=(passphrase_key,),
              update_secrets="key_file" in differing)

    if enabled is not None:
        plan.view("samlSettings.enabled", current_enabled, bool(enabled))
        if not same_value(current_enabled, bool(enabled)):
            plan.differ("samlSettings.enabled", current_enabled, bool(enabled))
            if enabled:
                pending = pending_reader() if pending_reader else None
                plan.findings.extend(check_saml_mutual_ssl(settings, pending, "SAML"))
            plan.steps.append(Step("saml_enable", "authentication saml %s" % ("enable" if enabled else "disable"),
                                   enabled=bool(enabled)))
    return plan


# ---- mutual SSL

MUTUAL_SSL_FIELDS = {
    "ca_cert": ("caCertFile", "cert"), "revocation_file": ("revocationFile", "file"),
    "fallback_to_basic": ("fallbackToPassword", "bool"), "user_name_mapping": ("userNameMapping", "str"),
}


def plan_mutual_ssl(settings: Settings, desired: Mapping[str, Any], pending_reader: Callable[[], Pending] | None = None,
                    read: Callable = file_digest, read_server: Callable | None = None) -> Plan:
    """tsm_mutual_ssl: configure (only differing options) and enable/disable; refuses SAML + mutual SSL.

    ``ca_cert`` must hold CA certificates that pass the shared trust-anchor policy (ANCHOR-NNN
    findings); ``revocation_file`` must be a CRL (PEM or DER), issued by that CA when both are given.
    """
    plan = Plan("mutual SSL")
    cas: list[Any] = []
    if desired.get("ca_cert"):
        cas, ca_findings = load_client_ca_input("ca_cert", desired["ca_cert"])
        plan.findings.extend(ca_findings)
    if desired.get("revocation_file"):
        _crls, crl_findings = load_crl_input("revocation_file", desired["revocation_file"], cas)
        plan.findings.extend(crl_findings)
    differing = _compare_fields(plan, settings, "mutualSSLSettings", MUTUAL_SSL_FIELDS, desired, read, read_server)
    if differing:
        plan.steps.append(Step("mutual_ssl_configure", "authentication mutual-ssl configure ({})".format(", ".join(
            sorted(differing))), options=differing))
    if desired.get("fallback_to_basic"):
        plan.add(finding("TSM-012"))
    enabled = desired.get("enabled")
    if enabled is None:
        return plan
    current = settings.field("mutualSSLSettings", "clientCertRequired")
    plan.view("mutualSSLSettings.clientCertRequired", current, bool(enabled))
    if same_value(current, bool(enabled)):
        return plan
    plan.differ("mutualSSLSettings.clientCertRequired", current, bool(enabled))
    if enabled:
        pending = pending_reader() if pending_reader else None
        plan.findings.extend(check_saml_mutual_ssl(settings, pending, "mutual SSL"))
        if not _true(_effective(settings, pending, "mutualSSLSettings", "sslEnabled")):
            plan.add(finding("TSM-010"))
        ca_now = settings.field("mutualSSLSettings", "caCertFile")
        if not desired.get("ca_cert") and ca_now in (UNSET, None, ""):
            plan.add(finding("TSM-011"))
    plan.steps.append(Step("mutual_ssl_enable", "authentication mutual-ssl %s" % ("enable" if enabled else "disable"),
                           enabled=bool(enabled)))
    return plan


# ---- trusted authentication

def plan_trusted_auth(settings: Settings, desired: Mapping[str, Any]) -> Plan:
    """tsm_trusted_auth: trusted hosts and token length (one configure call), unrestricted tickets key."""
    plan = Plan("trusted authentication")
    hosts = desired.get("trusted_hosts")
    length = desired.get("token_length")
    options: dict[str, Any] = {}
    if hosts is not None:
        if not hosts or any(not str(h).strip() for h in hosts):
            raise TrustopsError("trusted_hosts: give at least one host name or IP address, no empty entries")
        hosts = [valid_host("trusted_hosts", h) for h in hosts]
        current = settings.field("trustedAuthenticationSettings", "trustedHosts")
        plan.view("trustedAuthenticationSettings.trustedHosts", current, list(hosts))
        if not same_value(current, list(hosts), as_list=True, ordered=False):
            options["hosts"] = [str(h).strip() for h in hosts]
            plan.differ("trustedAuthenticationSettings.trustedHosts", current, list(hosts))
    if length is not None:
        if not 9 <= int(length) <= 255:
            plan.add(finding("TSM-021", token_length=length))
        current = settings.field("trustedAuthenticationSettings", "tokenLength")
        plan.view("trustedAuthenticationSettings.tokenLength", current, length)
        if not same_value(current, length):
            options["token_length"] = int(length)
            plan.differ("trustedAuthenticationSettings.tokenLength", current, length)
    if options:
        plan.steps.append(Step("trusted_configure", "authentication trusted configure ({})".format(", ".join(sorted(options))),
                               **options))
    unrestricted = desired.get("unrestricted_tickets")
    if unrestricted is not None:
        key_steps(plan, settings, {"wgserver.unrestricted_ticket": bool(unrestricted)})
        if unrestricted:
            plan.add(finding("TSM-020"))
    return plan


# ---- external SSL

EXTERNAL_SSL_FIELDS = {
    "cert_file": ("certFileName", "cert"), "key_file": ("keyFileName", "file"),
    "chain_file": ("chainFile", "cert"), "protocols": ("protocols", "str"),
}


def external_ssl_findings(cert: Any, key_info: Any, cert_path: str, key_path: str, chain_path: str | None,
                          passphrase: str | None) -> list[Finding]:
    """TSM-030..033 on the loaded server certificate and KeyInfo (see :func:`check_external_ssl_inputs`)."""
    from ansible_collections.trustops.tableau.plugins.module_utils import certs
    findings = []
    info = key_info
    if info.encrypted and not passphrase:
        findings.append(finding("TSM-033", key_file=key_path))
    if info.encrypted:
        findings.append(finding("TSM-031", key_file=key_path))
    if info.public is not None and not certs.key_matches_cert(info.public, cert):
        findings.append(finding("TSM-032", key_file=key_path, cert_file=cert_path))
    if not chain_path and not certs.is_self_signed(cert):
        findings.append(finding("TSM-030"))
    return findings


def check_external_ssl_inputs(desired: Mapping[str, Any], check_key: bool = True) -> list[Finding]:
    """cert_file, key_file, chain_file and protocols of tsm_external_ssl, before anything is staged."""
    if desired.get("protocols") is not None:
        valid_argument("protocols", desired["protocols"])
    cert = load_certificate_input("cert_file", desired["cert_file"])[0]
    if desired.get("chain_file"):
        load_certificate_input("chain_file", desired["chain_file"])
    info = load_key_input("key_file", desired["key_file"], desired.get("passphrase"), verify=check_key)
    if not check_key:
        return []
    return external_ssl_findings(cert, info, desired["cert_file"], desired["key_file"], desired.get("chain_file"),
                                 desired.get("passphrase"))


def plan_external_ssl(settings: Settings, desired: Mapping[str, Any], read: Callable = file_digest,
                      check_key: bool = True, read_server: Callable | None = None) -> Plan:
    """tsm_external_ssl: enable (all files in one call when any differs) or disable."""
    plan = Plan("external SSL")
    enabled = desired.get("enabled", True)
    current = settings.field("mutualSSLSettings", "sslEnabled")
    if not enabled:
        plan.view("mutualSSLSettings.sslEnabled", current, False)
        if _true(current):
            plan.differ("mutualSSLSettings.sslEnabled", current, False)
            if _true(settings.field("mutualSSLSettings", "clientCertRequired")):
                plan.add(finding("TSM-034"))
            plan.steps.append(Step("external_ssl_disable", "security external-ssl disable"))
        return plan
    if not desired.get("cert_file") or not desired.get("key_file"):
        raise TrustopsError("enabled: true needs cert_file and key_file")
    plan.findings.extend(check_external_ssl_inputs(desired, check_key=check_key))
    if desired.get("passphrase"):
        plan.secret("mutualSSLSettings.keyPassphrase", desired["passphrase"])
    differing = _compare_fields(plan, settings, "mutualSSLSettings", EXTERNAL_SSL_FIELDS, desired, read, read_server)
    plan.view("mutualSSLSettings.sslEnabled", current, True)
    if not _true(current):
        plan.differ("mutualSSLSettings.sslEnabled", current, True)
    if differing or not _true(current):
        plan.steps.append(Step("external_ssl_enable", "security external-ssl enable ({})".format(", ".join(
            sorted(differing) or ["enable"])), cert_file=desired["cert_file"], key_file=desired["key_file"],
            chain_file=desired.get("chain_file"), passphrase=desired.get("passphrase"),
            protocols=desired.get("protocols")))
    return plan
