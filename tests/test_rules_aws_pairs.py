"""AWS keys come in pairs. A bare 40-character secret is only a finding when its key id sits on the
same or the next line (or a secret-key name introduces it), and then both halves are reported.
Rule examples can't show this: each must yield exactly one finding."""

from __future__ import annotations

import pytest

from scanner.chunk import Chunk
from scanner.config import Config
from scanner.engine import Engine
from scanner.pipeline import Scanner
from scanner.rules import load_rules

SCANNER = Scanner(engine=Engine(load_rules(), native=False), config=Config())
KEY_ID = "AKIA5OQXBH2KYNCJK2PW"
TEMP_KEY_ID = "ASIAS4QHNURIHRZ74GLJ"
SECRET = "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"


def found(text: str) -> list[tuple[str, str]]:
    return [(f.rule_id, f.secret) for f in SCANNER.scan(Chunk(text=text, path="notes.txt"))]


@pytest.mark.parametrize(
    "text",
    [
        # the CSV the IAM console offers for download
        f"User name,Password,Access key ID,Secret access key\ndeploy-bot,,{KEY_ID},{SECRET}\n",
        # names that say nothing about secrets
        f'S3_KEY = "{KEY_ID}"\nS3_PASS = "{SECRET}"\n',
        f"creds: {KEY_ID} / {SECRET}",
    ],
)
def test_a_key_id_pairs_with_the_secret_on_its_line_or_the_next(text: str) -> None:
    assert found(text) == [("aws.access-key-id", KEY_ID), ("aws.secret-access-key", SECRET)]


def test_a_named_secret_is_reported_beside_its_temporary_key_id() -> None:
    text = f"aws_access_key_id = {TEMP_KEY_ID}\n# rotated weekly\n\naws_secret_access_key = {SECRET}\n"
    assert found(text) == [("aws.access-key-id", TEMP_KEY_ID), ("aws.secret-access-key", SECRET)]


def test_an_unnamed_secret_two_lines_below_the_key_id_is_not_paired() -> None:
    text = f"S3_KEY = {KEY_ID}\n\nchecksum = {SECRET}\n"
    assert found(text) == [("aws.access-key-id", KEY_ID)]


def test_a_git_sha_beside_a_key_id_is_not_a_secret() -> None:
    text = f"{KEY_ID} rotated in 3f786850e387550fdab836ed7e6dc881de23001b\n"
    assert found(text) == [("aws.access-key-id", KEY_ID)]
