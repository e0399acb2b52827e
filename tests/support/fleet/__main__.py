# -*- coding: utf-8 -*-
"""python -m tests.support.fleet up|down|status|image (run from the repository root, as root)."""

from __future__ import annotations

import argparse
import json
import sys

from .fleet import Fleet, FleetError, registered
from .image import ImageError, ensure_image


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.support.fleet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="bring N hosts up; writes DIR/inventory.yml and DIR/fleet.json")
    p_up.add_argument("--hosts", type=int, required=True)
    p_up.add_argument("--dir", required=True)
    p_up.add_argument("--prefix", default="fleet", help="host names: PREFIX01, PREFIX02, ...")
    p_up.add_argument("--cache", help="image cache directory (default $TRUSTOPS_FLEET_CACHE or ~/.cache/trustops)")
    p_up.add_argument("--timeout", type=float, default=120.0, help="seconds for every sshd to answer")
    p_up.add_argument("--ssh-option", action="append", default=[], metavar="NAME=VALUE",
                      help="an extra ssh client option for the inventory and ssh config (repeatable)")
    p_down = sub.add_parser("down", help="stop the fleet of DIR and remove everything it made")
    where = p_down.add_mutually_exclusive_group(required=True)
    where.add_argument("--dir")
    where.add_argument("--all", action="store_true", help="every fleet registered in /run/trustops-fleet")
    p_down.add_argument("--keep-roots", action="store_true", help="keep each host's upper layer")
    p_status = sub.add_parser("status", help="the fleet's hosts, addresses and memory (JSON)")
    p_status.add_argument("--dir", required=True)
    for command, text in (("stop", "stop one host as a power cut would (its sshd killed); its layer stays"),
                          ("start", "boot a stopped host again on its own layer")):
        p_one = sub.add_parser(command, help=text)
        p_one.add_argument("--dir", required=True)
        p_one.add_argument("--host", required=True, action="append", help="host name (repeatable)")
    p_manifest = sub.add_parser(
        "manifest", help="what each host wrote (its own layer) as JSON; with --compare, the differences "
                         "from an earlier manifest (exit 1 when any)")
    p_manifest.add_argument("--dir", required=True)
    p_manifest.add_argument("--host", action="append", help="host name (repeatable; default every host)")
    p_manifest.add_argument("--ignore", action="append", default=[], metavar="PATTERN",
                            help="fnmatch pattern of a path in the layer to leave out, e.g. 'var/log/nginx/*'")
    p_manifest.add_argument("--compare", metavar="FILE", help="an earlier manifest of the same hosts")
    p_image = sub.add_parser("image", help="make the cached Debian image (if missing) and print its path")
    p_image.add_argument("--cache")
    args = parser.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr)

    try:
        if args.command == "up":
            options = dict(option.split("=", 1) for option in args.ssh_option)
            fleet = Fleet.up(args.hosts, args.dir, cache=args.cache, prefix=args.prefix, timeout=args.timeout, log=log,
                             ssh_options=options)
            print(json.dumps({"inventory": str(fleet.inventory), "ssh_config": str(fleet.ssh_config),
                              "bridge": fleet.bridge, "timings": fleet.state["timings"],
                              "hosts": {h.name: h.address for h in fleet.hosts}}, indent=1))
        elif args.command == "down":
            dirs = registered() if args.all else [args.dir]
            for directory in dirs:
                Fleet.load(directory).down(keep_roots=args.keep_roots)
                log(f"fleet of {directory}: down, nothing left")
        elif args.command == "status":
            fleet = Fleet.load(args.dir)
            print(json.dumps({"status": fleet.state["status"], "bridge": fleet.bridge,
                              "hosts": {h.name: h.address for h in fleet.hosts},
                              "memory": fleet.memory() if fleet.state["status"] == "up" else None}, indent=1))
        elif args.command in ("stop", "start"):
            fleet = Fleet.load(args.dir)
            for name in args.host:
                if args.command == "stop":
                    fleet.stop_host(name)
                else:
                    fleet.start_host(name)
                log(f"{name}: {args.command}ped" if args.command == "stop" else f"{name}: started")
        elif args.command == "manifest":
            fleet = Fleet.load(args.dir)
            names = args.host or [h.name for h in fleet.hosts]
            now = {name: fleet.upper_manifest(name, ignore=args.ignore) for name in names}
            if not args.compare:
                print(json.dumps(now, indent=1, sort_keys=True))
                return 0
            with open(args.compare, encoding="utf-8") as handle:
                before = {name: files for name, files in json.load(handle).items() if name in names}
            differences = manifest_differences(before, now)
            print(json.dumps({"hosts": len(names), "paths": sum(map(len, now.values())),
                              "differences": differences}, indent=1, sort_keys=True))
            return 1 if differences else 0
        elif args.command == "image":
            print(ensure_image(args.cache, log=log))
    except (FleetError, ImageError) as exc:
        log(f"error: {exc}")
        return 1
    return 0


def manifest_differences(before, after):
    """{host: [what differs]} between two manifests (hosts with no difference left out)."""
    out = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, {}), after.get(name, {})
        lines = [f"new {path}: {new[path]}" for path in sorted(set(new) - set(old))]
        lines += [f"gone {path}: {old[path]}" for path in sorted(set(old) - set(new))]
        lines += [f"changed {path}: {old[path]} -> {new[path]}" for path in sorted(set(old) & set(new))
                  if old[path] != new[path]]
        if lines:
            out[name] = lines
    return out


if __name__ == "__main__":
    sys.exit(main())
