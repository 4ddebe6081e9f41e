"""Live verification (opt-in, `--verify`): ask the provider whether a found key still works.

    spec.py    a rule's `verify` table: method, URL, where the key goes; checked when rules load
    status.py  what an answer means: live, invalid, valid-no-permission, rate-limited, unknown
    target.py  where a check may go: the rule's host, `--verify-host` overrides, no private addresses
    run.py     one request per unique key, under a global rate and concurrency limit
"""
