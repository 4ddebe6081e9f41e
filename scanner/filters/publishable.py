"""Keys meant to be public: a browser or a mobile app holds them by design, so they are not leaks.

Stripe's and Clerk's `pk_` keys, PostHog's `phc_` project keys, Mapbox's `pk.` tokens, Datadog's
`pub` client tokens, Algolia's search-only keys, Firebase's web API keys (Google: "API keys for
Firebase services are not secret", https://firebase.google.com/docs/projects/api-keys). A provider
rule that wants such a key says so with a `public` tag; the generic rules, which see only a name and
a value, drop a value that is shaped like one or named for one. A Firebase web key is dropped by any
rule (gcp.api-key included) when the name beside it says Firebase.
"""

from __future__ import annotations

import re

from scanner.finding import Finding

PUBLISHABLE = re.compile(r"pk_(?:live|test)_|phc_|pk\.eyJ|pub[0-9a-f]{32}$|NRJS-|NRBR-")
# The name a generic rule matched: ALGOLIA_SEARCH_KEY, NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY, searchOnlyApiKey …
PUBLIC_NAME = re.compile(r"(?i)publishable|search[_.-]?only|search[_.-]?(?:api[_.-]?)?key|public[_.-]?(?:api[_.-]?)?key|"
                         r"anon[_.-]?key|site[_.-]?key")
FIREBASE_NAME = re.compile(r"(?i)firebase")
DOCSEARCH = re.compile(r"(?i)docsearch|algolia")  # a documentation site's search-only key, in its page


def is_publishable_key(finding: Finding) -> str | None:
    context = finding.context
    if context is None:
        return None
    if finding.secret.startswith("AIza") and FIREBASE_NAME.search(context.lines):
        return "a Firebase web API key: public by design (protected by security rules, not secrecy)"
    if not context.rule.generic:
        return None
    if PUBLISHABLE.match(finding.secret):
        return f"a publishable key ({finding.secret[:4]}…): meant for browsers and apps"
    name = context.match[: max(0, context.match.find(finding.secret))]
    if PUBLIC_NAME.search(name) or (DOCSEARCH.search(context.lines) and "admin" not in context.lines.lower()):
        return "named as a publishable or search-only key: meant for browsers and apps"
    return None
