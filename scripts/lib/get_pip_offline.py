"""Offline stand-in for the get-pip.py that ansible-test downloads to bootstrap pip.

ansible-test (sanity) creates one virtual environment per sanity test with ``venv
--without-pip`` and then runs ``~/.ansible/test/cache/get_pip_<pip version>.py`` in it with
arguments such as ``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``.
It would download that script from a host this machine cannot reach, so scripts/test copies
this file to the cache path when it is missing. It:

1. installs the pip bundled with this Python (``ensurepip``), needing no network;
2. installs the requested packages (``pip==24.2``) from the package index, with the system CA
   bundle, because ansible-test runs pip without the caller's environment;
3. writes the CA bundle into the new environment's ``pip.conf`` so the later
   ``pip install -r sanity.<test>.txt`` calls of ansible-test verify the index the same way.
"""

import ensurepip
import os
import subprocess
import sys

CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'


def main():
    ensurepip.bootstrap(upgrade=True)

    cert = []
    if os.path.exists(CA_BUNDLE):
        cert = ['--cert', CA_BUNDLE]
        pip_conf = os.path.join(sys.prefix, 'pip.conf')
        if sys.prefix != sys.base_prefix and not os.path.exists(pip_conf):
            with open(pip_conf, 'w') as conf:
                conf.write(f'[global]\ncert = {CA_BUNDLE}\n')

    packages = [arg for arg in sys.argv[1:] if not arg.startswith('-')]
    if packages:
        command = [sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check', '-q']
        sys.exit(subprocess.call(command + cert + packages))


if __name__ == '__main__':
    main()
