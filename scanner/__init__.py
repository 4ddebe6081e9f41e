"""keysweep: find leaked API keys and get them revoked."""

__version__ = "0.1.0"
