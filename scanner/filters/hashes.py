"""A password hash is not a password: `"hashed_password": "$2b$12$…"` in a tutorial is a finding of
no generic rule. Rules written for hashes (/etc/shadow lines, htpasswd files) are not generic and
keep them."""

from __future__ import annotations

import re

from scanner.finding import Finding

# crypt(3) and friends: bcrypt $2a/$2b/$2y, md5-crypt $1, sha256/512-crypt $5/$6, yescrypt $y, argon2, scrypt, pbkdf2
CRYPT_HASH = re.compile(r"\$(?:2[abxy]?|1|5|6|y|gy|7|argon2(?:id|i|d)|scrypt|pbkdf2[-_]sha\d+)\$[./A-Za-z0-9$=,+-]{8,}")


def is_password_hash(finding: Finding) -> str | None:
    if finding.context is not None and finding.context.rule.generic and CRYPT_HASH.fullmatch(finding.secret):
        return "a password hash, not a password"
    return None
